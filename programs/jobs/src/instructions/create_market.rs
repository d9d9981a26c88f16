//! `create_market`: a market for one model and mint, backed by a stake pool that trusts both programs.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use cinder_staking::{StakePool, POOL_SEED};

use crate::{constants::*, error::JobsError, events::*, state::*};

/// The market's own ranges plus the pool's current limits. The pool's reward cap and minimum stake
/// are checked here, when terms are set, and never when a job ends: an admin changing them later
/// cannot make a posted job's exit fail.
pub(crate) fn validate_against_pool(params: &MarketParams, pool: &StakePool) -> Result<()> {
    params.validate()?;
    require!(params.challenger_reward_bps <= pool.max_reward_bps, JobsError::RewardAbovePoolCap);
    require!(params.timeout_client_bps <= pool.max_reward_bps, JobsError::RewardAbovePoolCap);
    require!(params.min_stake >= pool.min_stake, JobsError::InvalidMarketParams);
    Ok(())
}

#[derive(Accounts)]
pub struct CreateMarket<'info> {
    /// The market creator (may change parameters for future jobs). Signs and pays.
    #[account(mut)]
    pub creator: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, ProtocolConfig>>,
    #[account(seeds = [MODEL_SEED, model.model_id.as_ref()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,
    #[account(mint::token_program = token_program)]
    pub mint: InterfaceAccount<'info, Mint>,
    #[account(
        init,
        payer = creator,
        space = 8 + Market::INIT_SPACE,
        seeds = [MARKET_SEED, model.key().as_ref(), mint.key().as_ref(), creator.key().as_ref()],
        bump,
    )]
    pub market: Box<Account<'info, Market>>,
    /// The protocol's stake pool for this mint.
    #[account(
        seeds = [POOL_SEED, config.stake_pool_creator.as_ref(), mint.key().as_ref()],
        seeds::program = cinder_staking::ID,
        bump = pool.bump,
        constraint = pool.is_authority(&jobs_authority.key()) @ JobsError::InvalidPool,
        // The verification program locks vote penalties and slashes in this pool: without it as
        // an authority every quorum draw would fail and every dispute end without a verdict.
        constraint = pool.is_authority(&config.verification_authority) @ JobsError::InvalidPool,
    )]
    pub pool: Box<Account<'info, StakePool>>,
    /// Treasury token account of the mint: owned by the protocol treasury and the pool's treasury.
    #[account(
        token::mint = mint,
        token::token_program = token_program,
        constraint = treasury_token.owner == config.treasury @ JobsError::InvalidTreasury,
        constraint = treasury_token.key() == pool.treasury @ JobsError::InvalidTreasury,
    )]
    pub treasury_token: InterfaceAccount<'info, TokenAccount>,
    /// CHECK: the jobs program's signing PDA (only its address is used).
    #[account(seeds = [JOBS_AUTHORITY_SEED], bump = config.jobs_authority_bump)]
    pub jobs_authority: UncheckedAccount<'info>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

pub fn create_market(ctx: Context<CreateMarket>, params: MarketParams) -> Result<()> {
    let pool = &ctx.accounts.pool;
    validate_against_pool(&params, pool)?;
    // No mint-policy check here: the market must use the mint's stake pool, and `init_pool`
    // already applied the policy to this mint (extensions cannot be added to a mint later).
    let market = &mut ctx.accounts.market;
    market.set_inner(Market {
        creator: ctx.accounts.creator.key(),
        model: ctx.accounts.model.key(),
        model_id: ctx.accounts.model.model_id,
        mint: ctx.accounts.mint.key(),
        token_program: ctx.accounts.token_program.key(),
        pool: pool.key(),
        treasury_token: ctx.accounts.treasury_token.key(),
        params,
        next_job_id: 0,
        queue_head: 0,
        jobs_finalized: 0,
        jobs_slashed: 0,
        jobs_expired: 0,
        jobs_cancelled: 0,
        bump: ctx.bumps.market,
        _reserved: [0; 32],
    });
    cinder_common::emit_event!(MarketCreated {
        market: market.key(),
        creator: market.creator,
        model_id: market.model_id,
        mint: market.mint,
        params,
    });
    Ok(())
}
