//! `lock_stake`, `unlock_stake` and `slash_stake`: only a program PDA listed in the pool's
//! `authorities` can sign these (it signs by CPI with `invoke_signed`).
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::{
    constants::*,
    error::StakingError,
    events::{StakeLocked, StakeSlashed, StakeUnlocked},
    state::{ProviderStake, StakePool},
};

#[derive(Accounts)]
pub struct AuthorityStake<'info> {
    /// A program PDA listed in `pool.authorities`. Signs (by CPI).
    pub authority: Signer<'info>,
    #[account(
        mut,
        seeds = [POOL_SEED, pool.creator.as_ref(), pool.mint.as_ref()],
        bump = pool.bump,
        constraint = pool.is_authority(&authority.key()) @ StakingError::UnauthorizedCaller,
    )]
    pub pool: Account<'info, StakePool>,
    #[account(
        mut,
        seeds = [STAKE_SEED, pool.key().as_ref(), stake.owner.as_ref()],
        bump = stake.bump,
        has_one = pool,
    )]
    pub stake: Account<'info, ProviderStake>,
}

/// Locks `amount` of free active stake as collateral.
pub fn lock_stake(ctx: Context<AuthorityStake>, amount: u64) -> Result<()> {
    let a = ctx.accounts;
    a.stake.lock(&mut a.pool, amount)?;
    a.pool.invariant()?;
    cinder_common::emit_event!(StakeLocked {
        pool: a.pool.key(),
        stake: a.stake.key(),
        authority: a.authority.key(),
        amount,
        locked: a.stake.locked,
    });
    Ok(())
}

/// Releases `amount` of locked collateral back to free active stake.
pub fn unlock_stake(ctx: Context<AuthorityStake>, amount: u64) -> Result<()> {
    let a = ctx.accounts;
    a.stake.unlock(&mut a.pool, amount)?;
    a.pool.invariant()?;
    cinder_common::emit_event!(StakeUnlocked {
        pool: a.pool.key(),
        stake: a.stake.key(),
        authority: a.authority.key(),
        amount,
        locked: a.stake.locked,
    });
    Ok(())
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct SlashStakeArgs {
    /// Most to slash; the slash saturates at the staker's active + pending stake.
    pub amount: u64,
    /// Share of the slash paid to `reward_recipient` (at most `pool.max_reward_bps`); the rest
    /// goes to the pool treasury.
    pub reward_bps: u16,
}

#[derive(Accounts)]
pub struct SlashStake<'info> {
    /// A program PDA listed in `pool.authorities`. Signs (by CPI).
    pub authority: Signer<'info>,
    #[account(
        mut,
        seeds = [POOL_SEED, pool.creator.as_ref(), pool.mint.as_ref()],
        bump = pool.bump,
        constraint = pool.is_authority(&authority.key()) @ StakingError::UnauthorizedCaller,
        has_one = mint,
        has_one = vault,
        has_one = token_program,
    )]
    pub pool: Account<'info, StakePool>,
    #[account(
        mut,
        seeds = [STAKE_SEED, pool.key().as_ref(), stake.owner.as_ref()],
        bump = stake.bump,
        has_one = pool,
    )]
    pub stake: Account<'info, ProviderStake>,
    #[account(mut)]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    pub mint: InterfaceAccount<'info, Mint>,
    /// Receives the reward (for example a successful challenger). Required when `reward_bps > 0`.
    /// The treasury's part stays in the vault (`pool.treasury_accrued`).
    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub reward_recipient: Option<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl<'info> SlashStake<'info> {
    pub fn validate(&self, args: &SlashStakeArgs) -> Result<()> {
        require!(args.amount > 0, StakingError::ZeroAmount);
        require!(args.reward_bps <= MAX_REWARD_BPS_CAP, StakingError::RewardBpsTooHigh);
        if args.reward_bps > 0 {
            require!(self.reward_recipient.is_some(), StakingError::RewardRecipientRequired);
        }
        Ok(())
    }
}

/// Slashes up to `amount` of the staker's stake (releasing as much lock) and splits it between the
/// reward recipient and the treasury's accrual in the vault.
#[access_control(ctx.accounts.validate(&args))]
pub fn slash_stake(ctx: Context<SlashStake>, args: SlashStakeArgs) -> Result<()> {
    let a = ctx.accounts;
    let outcome = a.stake.slash(&mut a.pool, args.amount, args.reward_bps)?;
    a.pool.invariant()?;
    if let Some(r) = a.reward_recipient.as_ref() {
        super::pay_from_vault(&a.pool, &a.vault, &a.mint, &a.token_program, r.to_account_info(), outcome.reward)?;
    }
    cinder_common::emit_event!(StakeSlashed {
        pool: a.pool.key(),
        stake: a.stake.key(),
        authority: a.authority.key(),
        requested: args.amount,
        slashed: outcome.slashed,
        reward: outcome.reward,
        reward_recipient: a.reward_recipient.as_ref().map(|r| r.key()),
        to_treasury: outcome.to_treasury,
        treasury_accrued: a.pool.treasury_accrued,
    });
    Ok(())
}
