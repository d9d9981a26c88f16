use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::{constants::*, error::StakingError, events::PoolUpdated, state::StakePool};

/// Every field is optional: `None` keeps the current value. Nothing here can move stake: the admin
/// can change parameters for the future, never balances, locks, unlock times or the slashers.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdatePoolArgs {
    pub new_admin: Option<Pubkey>,
    /// Applies to future deposits and partial unstakes.
    pub min_stake: Option<u64>,
    /// Applies to future `request_unstake`s only; existing unlock times never move earlier or later.
    pub cooldown_secs: Option<i64>,
    pub max_reward_bps: Option<u16>,
}

#[derive(Accounts)]
pub struct UpdatePool<'info> {
    /// The pool admin. Signs.
    pub admin: Signer<'info>,
    #[account(
        mut,
        seeds = [POOL_SEED, pool.creator.as_ref(), pool.mint.as_ref()],
        bump = pool.bump,
        has_one = admin @ StakingError::Unauthorized,
    )]
    pub pool: Account<'info, StakePool>,
    /// A new treasury token account (same mint), or absent to keep the current one.
    #[account(token::mint = pool.mint, token::token_program = pool.token_program)]
    pub new_treasury: Option<InterfaceAccount<'info, TokenAccount>>,
}

impl UpdatePool<'_> {
    pub fn validate(&self, args: &UpdatePoolArgs) -> Result<()> {
        let p = &self.pool;
        StakePool::validate_params(
            args.min_stake.unwrap_or(p.min_stake),
            args.cooldown_secs.unwrap_or(p.cooldown_secs),
            args.max_reward_bps.unwrap_or(p.max_reward_bps),
        )?;
        if let Some(t) = &self.new_treasury {
            require_keys_neq!(t.key(), p.vault, StakingError::InvalidTreasury);
        }
        if let Some(a) = args.new_admin {
            require_keys_neq!(a, Pubkey::default(), StakingError::Unauthorized);
        }
        Ok(())
    }
}

#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<UpdatePool>, args: UpdatePoolArgs) -> Result<()> {
    let new_treasury = ctx.accounts.new_treasury.as_ref().map(|t| t.key());
    let pool = &mut ctx.accounts.pool;
    let old = (pool.admin, pool.treasury, pool.min_stake, pool.cooldown_secs, pool.max_reward_bps);
    pool.admin = args.new_admin.unwrap_or(pool.admin);
    pool.treasury = new_treasury.unwrap_or(pool.treasury);
    pool.min_stake = args.min_stake.unwrap_or(pool.min_stake);
    pool.cooldown_secs = args.cooldown_secs.unwrap_or(pool.cooldown_secs);
    pool.max_reward_bps = args.max_reward_bps.unwrap_or(pool.max_reward_bps);
    pool.invariant()?;
    cinder_common::emit_event!(PoolUpdated {
        pool: pool.key(),
        old_admin: old.0,
        new_admin: pool.admin,
        old_treasury: old.1,
        new_treasury: pool.treasury,
        old_min_stake: old.2,
        new_min_stake: pool.min_stake,
        old_cooldown_secs: old.3,
        new_cooldown_secs: pool.cooldown_secs,
        old_max_reward_bps: old.4,
        new_max_reward_bps: pool.max_reward_bps,
    });
    Ok(())
}
