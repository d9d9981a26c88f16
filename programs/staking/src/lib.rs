//! # Cinder staking
//!
//! A stake pool per (creator, mint) with a vault, and one stake account per (pool, staker).
//!
//! ```text
//!            deposit_stake                 request_unstake              withdraw_stake
//!  tokens ─────────────────▶ active ────────────────────────▶ pending ─────────────────▶ tokens
//!                            │  ▲  ◀──────cancel_unstake─────   (after unlock_at, inclusive)
//!                 lock_stake ▼  │ unlock_stake
//!                            locked (part of active)
//!  slash_stake: releases up to `amount` of lock, takes from active then pending (saturating),
//!               pays reward_bps of it to a reward recipient; the rest accrues to the treasury
//!               in the vault (withdraw_treasury pays it out).
//! ```
//!
//! ## Authorities
//! * **staker** (`stake.owner`): deposits, requests/cancels unstake, withdraws after the cooldown.
//! * **program authorities** (`pool.authorities`, fixed at `init_pool`, at most 4; in Cinder the
//!   jobs and verification programs' PDAs): the only signers of `lock_stake`, `unlock_stake`,
//!   `slash_stake`. A slash pays one reward recipient of the caller's choice (at most
//!   `MAX_REWARD_BPS_CAP` = 50%) and accrues the rest to the treasury.
//! * **admin** (`pool.admin`): `update_pool` changes min stake, cooldown (≤ 30 days, future requests
//!   only), reward cap (≤ 50%, checked by the jobs program when market terms are set, never at
//!   slash time), treasury and admin; `withdraw_treasury` pays the accrued treasury part to the
//!   treasury. It cannot move, lock, slash or freeze stake, cannot change the authorities, and no
//!   admin change can make a lock, unlock or slash fail.

use anchor_lang::prelude::*;

pub mod constants;
pub mod error;
pub mod events;
pub mod instructions;
pub mod state;

pub use constants::*;
pub use error::StakingError;
pub use events::*;
use instructions::*;
pub use state::*;

declare_id!("BWiUysSiDo82hnX123vAA1aJNWyEnyRd4AaukZvshG37");

/// Applies the shared mint policy with this program's error names.
pub(crate) fn check_mint(mint: &AccountInfo) -> Result<()> {
    use cinder_common::mint_policy::{check_mint, MintPolicyViolation};
    check_mint(mint).map_err(|v| match v {
        MintPolicyViolation::Extension(_) => error!(StakingError::UnsupportedMintExtension),
        MintPolicyViolation::NotAMint => error!(StakingError::InvalidMint),
    })
}

#[program]
pub mod cinder_staking {
    use super::*;

    /// Creates a stake pool and its vault for a mint; the creator becomes admin.
    pub fn init_pool(ctx: Context<InitPool>, args: InitPoolArgs) -> Result<()> {
        instructions::init_pool::handler(ctx, args)
    }

    /// Admin changes future-facing parameters. Never moves stake.
    pub fn update_pool(ctx: Context<UpdatePool>, args: UpdatePoolArgs) -> Result<()> {
        instructions::update_pool::handler(ctx, args)
    }

    /// Staker adds `amount` to their active stake (creates the stake account on first use).
    pub fn deposit_stake(ctx: Context<DepositStake>, amount: u64) -> Result<()> {
        instructions::deposit_stake::handler(ctx, amount)
    }

    /// Staker moves `amount` of free stake to pending and starts the cooldown.
    pub fn request_unstake(ctx: Context<OwnerStake>, amount: u64) -> Result<()> {
        instructions::owner_actions::request_unstake(ctx, amount)
    }

    /// Staker returns all pending stake to active.
    pub fn cancel_unstake(ctx: Context<OwnerStake>) -> Result<()> {
        instructions::owner_actions::cancel_unstake(ctx)
    }

    /// Staker withdraws all pending stake after the cooldown.
    pub fn withdraw_stake(ctx: Context<WithdrawStake>) -> Result<()> {
        instructions::withdraw_stake::handler(ctx)
    }

    /// A trusted program locks `amount` of the staker's free stake as job collateral.
    pub fn lock_stake(ctx: Context<AuthorityStake>, amount: u64) -> Result<()> {
        instructions::authority_actions::lock_stake(ctx, amount)
    }

    /// A trusted program releases `amount` of locked collateral.
    pub fn unlock_stake(ctx: Context<AuthorityStake>, amount: u64) -> Result<()> {
        instructions::authority_actions::unlock_stake(ctx, amount)
    }

    /// A trusted program slashes stake: optionally a reward to a recipient, the rest accrues to
    /// the treasury inside the vault.
    pub fn slash_stake(ctx: Context<SlashStake>, args: SlashStakeArgs) -> Result<()> {
        instructions::authority_actions::slash_stake(ctx, args)
    }

    /// Admin: pays the treasury's accrued part of slashes to the pool treasury.
    pub fn withdraw_treasury(ctx: Context<WithdrawTreasury>) -> Result<()> {
        instructions::withdraw_treasury::handler(ctx)
    }
}
