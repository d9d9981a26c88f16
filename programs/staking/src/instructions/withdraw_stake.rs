use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::{
    constants::*,
    error::StakingError,
    events::StakeWithdrawn,
    state::{ProviderStake, StakePool},
};

#[derive(Accounts)]
pub struct WithdrawStake<'info> {
    /// The staker. Signs.
    pub owner: Signer<'info>,
    #[account(
        mut,
        seeds = [POOL_SEED, pool.creator.as_ref(), pool.mint.as_ref()],
        bump = pool.bump,
        has_one = mint,
        has_one = vault,
        has_one = token_program,
    )]
    pub pool: Account<'info, StakePool>,
    #[account(
        mut,
        seeds = [STAKE_SEED, pool.key().as_ref(), owner.key().as_ref()],
        bump = stake.bump,
        has_one = pool,
        has_one = owner @ StakingError::Unauthorized,
    )]
    pub stake: Account<'info, ProviderStake>,
    #[account(mut)]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    pub mint: InterfaceAccount<'info, Mint>,
    /// Any token account of the mint owned by the staker.
    #[account(
        mut,
        token::mint = mint,
        token::authority = owner,
        token::token_program = token_program,
    )]
    pub owner_token: InterfaceAccount<'info, TokenAccount>,
    pub token_program: Interface<'info, TokenInterface>,
}

/// Pays out all pending stake once `now >= unlock_at`. Locked collateral is never pending, so it
/// can never be withdrawn.
pub fn handler(ctx: Context<WithdrawStake>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = ctx.accounts;
    let amount = a.stake.withdraw(&mut a.pool, now)?;
    super::pay_from_vault(&a.pool, &a.vault, &a.mint, &a.token_program, a.owner_token.to_account_info(), amount)?;
    a.pool.invariant()?;
    cinder_common::emit_event!(StakeWithdrawn {
        pool: a.pool.key(),
        stake: a.stake.key(),
        owner: a.owner.key(),
        amount,
    });
    Ok(())
}
