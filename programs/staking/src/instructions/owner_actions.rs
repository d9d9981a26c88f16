//! `request_unstake` and `cancel_unstake`: the staker's bookkeeping moves (no tokens move).
use anchor_lang::prelude::*;

use crate::{
    constants::*,
    error::StakingError,
    events::{UnstakeCancelled, UnstakeRequested},
    state::{ProviderStake, StakePool},
};

#[derive(Accounts)]
pub struct OwnerStake<'info> {
    /// The staker. Signs.
    pub owner: Signer<'info>,
    #[account(
        mut,
        seeds = [POOL_SEED, pool.creator.as_ref(), pool.mint.as_ref()],
        bump = pool.bump,
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
}

/// Moves `amount` of free stake to pending and starts (or keeps) the cooldown.
pub fn request_unstake(ctx: Context<OwnerStake>, amount: u64) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = ctx.accounts;
    a.stake.request_unstake(&mut a.pool, amount, now)?;
    a.pool.invariant()?;
    cinder_common::emit_event!(UnstakeRequested {
        pool: a.pool.key(),
        stake: a.stake.key(),
        owner: a.owner.key(),
        amount,
        pending: a.stake.pending,
        unlock_at: a.stake.unlock_at,
    });
    Ok(())
}

/// Returns all pending stake to active.
pub fn cancel_unstake(ctx: Context<OwnerStake>) -> Result<()> {
    let a = ctx.accounts;
    let amount = a.stake.cancel_unstake(&mut a.pool)?;
    a.stake.raised_slot = Clock::get()?.slot;
    a.pool.invariant()?;
    cinder_common::emit_event!(UnstakeCancelled {
        pool: a.pool.key(),
        stake: a.stake.key(),
        owner: a.owner.key(),
        amount,
        active: a.stake.active,
    });
    Ok(())
}
