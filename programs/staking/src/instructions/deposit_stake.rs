use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::{
    constants::*,
    events::StakeDeposited,
    state::{ProviderStake, StakePool},
};

#[derive(Accounts)]
pub struct DepositStake<'info> {
    /// The staker: owns the tokens and the stake account, pays its rent. Signs.
    #[account(mut)]
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
    /// Created on the first deposit. (`init_if_needed` is safe here: the PDA is bound to
    /// `[pool, owner]` and an existing account is only ever added to, never re-initialised.)
    #[account(
        init_if_needed,
        payer = owner,
        space = 8 + ProviderStake::INIT_SPACE,
        seeds = [STAKE_SEED, pool.key().as_ref(), owner.key().as_ref()],
        bump,
    )]
    pub stake: Account<'info, ProviderStake>,
    #[account(mut)]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    pub mint: InterfaceAccount<'info, Mint>,
    #[account(
        mut,
        token::mint = mint,
        token::authority = owner,
        token::token_program = token_program,
    )]
    pub owner_token: InterfaceAccount<'info, TokenAccount>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

/// Adds `amount` to the owner's active stake.
///
/// The mint policy is checked again on every deposit: a mint account that changed since the pool
/// was created (for example closed and re-created with other extensions) is refused.
pub fn handler(ctx: Context<DepositStake>, amount: u64) -> Result<()> {
    crate::check_mint(&ctx.accounts.mint.to_account_info())?;
    let a = ctx.accounts;
    if a.stake.owner == Pubkey::default() {
        a.stake.pool = a.pool.key();
        a.stake.owner = a.owner.key();
        a.stake.bump = ctx.bumps.stake;
        a.pool.staker_count = a.pool.staker_count.saturating_add(1);
    }
    a.stake.deposit(&mut a.pool, amount)?;
    a.stake.raised_slot = Clock::get()?.slot;
    token_interface::transfer_checked(
        CpiContext::new(
            a.token_program.key(),
            TransferChecked {
                from: a.owner_token.to_account_info(),
                mint: a.mint.to_account_info(),
                to: a.vault.to_account_info(),
                authority: a.owner.to_account_info(),
            },
        ),
        amount,
        a.mint.decimals,
    )?;
    a.pool.invariant()?;
    cinder_common::emit_event!(StakeDeposited {
        pool: a.pool.key(),
        stake: a.stake.key(),
        owner: a.owner.key(),
        amount,
        active: a.stake.active,
    });
    Ok(())
}
