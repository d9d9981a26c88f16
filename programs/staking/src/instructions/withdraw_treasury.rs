//! `withdraw_treasury`: the pool admin moves the treasury's accrued part of slashes out of the
//! vault to the pool's treasury token account. Slashes never transfer to the treasury themselves,
//! so no treasury account (closed, rotated, of the wrong kind) can make a slash fail.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::{constants::*, error::StakingError, events::TreasuryWithdrawn, state::StakePool};

#[derive(Accounts)]
pub struct WithdrawTreasury<'info> {
    /// The pool admin. Signs.
    pub admin: Signer<'info>,
    #[account(
        mut,
        seeds = [POOL_SEED, pool.creator.as_ref(), pool.mint.as_ref()],
        bump = pool.bump,
        has_one = admin @ StakingError::Unauthorized,
        has_one = mint,
        has_one = vault,
        has_one = treasury @ StakingError::InvalidTreasury,
        has_one = token_program,
    )]
    pub pool: Account<'info, StakePool>,
    #[account(mut)]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    pub mint: InterfaceAccount<'info, Mint>,
    /// The pool's treasury token account (checked against the pool).
    #[account(mut)]
    pub treasury: InterfaceAccount<'info, TokenAccount>,
    pub token_program: Interface<'info, TokenInterface>,
}

/// Pays out everything accrued.
pub fn handler(ctx: Context<WithdrawTreasury>) -> Result<()> {
    let a = ctx.accounts;
    let amount = a.pool.treasury_accrued;
    require!(amount > 0, StakingError::NothingToWithdraw);
    a.pool.treasury_accrued = 0;
    super::pay_from_vault(&a.pool, &a.vault, &a.mint, &a.token_program, a.treasury.to_account_info(), amount)?;
    a.pool.invariant()?;
    cinder_common::emit_event!(TreasuryWithdrawn { pool: a.pool.key(), treasury: a.treasury.key(), amount });
    Ok(())
}
