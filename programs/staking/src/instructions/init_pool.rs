use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::{constants::*, error::StakingError, events::PoolInitialized, state::StakePool};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct InitPoolArgs {
    /// Smallest non-zero active stake a provider may hold.
    pub min_stake: u64,
    /// Seconds between `request_unstake` and the earliest `withdraw_stake`.
    pub cooldown_secs: i64,
    /// Cap on the reward share of a slash (basis points, at most `MAX_REWARD_BPS_CAP`).
    pub max_reward_bps: u16,
    /// Program PDAs allowed to lock, unlock and slash. Fixed for the pool's life: not even the
    /// admin can add a slasher later.
    pub authorities: Vec<Pubkey>,
}

#[derive(Accounts)]
pub struct InitPool<'info> {
    /// Creates the pool, pays its rent and becomes its first admin. Signs.
    #[account(mut)]
    pub creator: Signer<'info>,
    #[account(mint::token_program = token_program)]
    pub mint: InterfaceAccount<'info, Mint>,
    #[account(
        init,
        payer = creator,
        space = 8 + StakePool::INIT_SPACE,
        seeds = [POOL_SEED, creator.key().as_ref(), mint.key().as_ref()],
        bump,
    )]
    pub pool: Account<'info, StakePool>,
    #[account(
        init,
        payer = creator,
        seeds = [POOL_VAULT_SEED, pool.key().as_ref()],
        bump,
        token::mint = mint,
        token::authority = pool,
        token::token_program = token_program,
    )]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    /// Receives the treasury part of every slash.
    #[account(token::mint = mint, token::token_program = token_program)]
    pub treasury: InterfaceAccount<'info, TokenAccount>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl InitPool<'_> {
    pub fn validate(&self, args: &InitPoolArgs) -> Result<()> {
        StakePool::validate_params(args.min_stake, args.cooldown_secs, args.max_reward_bps)?;
        let a = &args.authorities;
        require!(a.len() <= MAX_AUTHORITIES as usize, StakingError::InvalidAuthorities);
        for (i, k) in a.iter().enumerate() {
            require!(*k != Pubkey::default() && !a[..i].contains(k), StakingError::InvalidAuthorities);
        }
        require_keys_neq!(self.treasury.key(), self.vault.key(), StakingError::InvalidTreasury);
        crate::check_mint(&self.mint.to_account_info())
    }
}

#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<InitPool>, args: InitPoolArgs) -> Result<()> {
    let mut authorities = [Pubkey::default(); MAX_AUTHORITIES as usize];
    authorities[..args.authorities.len()].copy_from_slice(&args.authorities);
    let pool = &mut ctx.accounts.pool;
    pool.set_inner(StakePool {
        creator: ctx.accounts.creator.key(),
        admin: ctx.accounts.creator.key(),
        mint: ctx.accounts.mint.key(),
        token_program: ctx.accounts.token_program.key(),
        vault: ctx.accounts.vault.key(),
        treasury: ctx.accounts.treasury.key(),
        min_stake: args.min_stake,
        cooldown_secs: args.cooldown_secs,
        max_reward_bps: args.max_reward_bps,
        authorities,
        authority_count: args.authorities.len() as u8,
        total_active: 0,
        total_pending: 0,
        total_locked: 0,
        total_slashed: 0,
        staker_count: 0,
        bump: ctx.bumps.pool,
        vault_bump: ctx.bumps.vault,
        treasury_accrued: 0,
        _reserved: [0; 56],
    });
    pool.invariant()?;
    cinder_common::emit_event!(PoolInitialized {
        pool: pool.key(),
        admin: pool.admin,
        mint: pool.mint,
        treasury: pool.treasury,
        min_stake: pool.min_stake,
        cooldown_secs: pool.cooldown_secs,
        max_reward_bps: pool.max_reward_bps,
        authorities: args.authorities,
    });
    Ok(())
}
