//! `settle_vote`: anyone applies one member's vote penalty; the last settlement closes the dispute.
use anchor_lang::prelude::*;
use cinder_jobs::Market;
use cinder_staking::{program::CinderStaking, ProviderStake, STAKE_SEED};

use crate::{constants::*, error::VerificationError, events::*, state::*};

#[derive(Accounts)]
pub struct SettleVote<'info> {
    /// Anyone. Signs (pays the fee only).
    pub caller: Signer<'info>,
    #[account(mut, seeds = [DISPUTE_SEED, dispute.job.as_ref()], bump = dispute.bump)]
    pub dispute: Box<Account<'info, Dispute>>,
    #[account(address = dispute.market @ VerificationError::WrongDisputeAccount)]
    pub market: Box<Account<'info, Market>>,
    /// CHECK: the market's pool (validated by the staking program).
    #[account(mut, address = market.pool @ VerificationError::WrongDisputeAccount)]
    pub pool: UncheckedAccount<'info>,
    /// CHECK: the pool's vault (validated by staking).
    #[account(mut)]
    pub pool_vault: UncheckedAccount<'info>,
    /// The member's stake account.
    #[account(
        mut,
        seeds = [STAKE_SEED, market.pool.as_ref(), stake.owner.as_ref()],
        seeds::program = cinder_staking::ID,
        bump = stake.bump,
    )]
    pub stake: Box<Account<'info, ProviderStake>>,
    /// CHECK: the market's mint (validated by staking).
    #[account(address = market.mint @ VerificationError::WrongDisputeAccount)]
    pub mint: UncheckedAccount<'info>,
    /// CHECK: the challenger (receives the dispute's rent when the last vote is settled).
    #[account(mut, address = dispute.challenger @ VerificationError::WrongDisputeAccount)]
    pub challenger: UncheckedAccount<'info>,
    /// CHECK: this program's signing PDA (a pool authority).
    #[account(seeds = [VERIFICATION_AUTHORITY_SEED], bump)]
    pub verification_authority: UncheckedAccount<'info>,
    pub staking_program: Program<'info, CinderStaking>,
    /// CHECK: the token program (validated by staking).
    pub token_program: UncheckedAccount<'info>,
}

/// Settles the vote of the member whose stake is passed: a non-revealer or a member on the losing
/// side loses the `vote_penalty` it locked at the draw (to the treasury's accrual); every other
/// member gets it unlocked. Only that lock is touched, never collateral of the member's own jobs.
/// The last settlement closes the dispute.
pub fn settle_vote(ctx: Context<SettleVote>) -> Result<()> {
    let a = &ctx.accounts;
    let d = &a.dispute;
    require!(d.outcome != DisputeOutcome::Pending, VerificationError::NotResolved);
    let member = a.stake.owner;
    let i = d.member_position(&member).ok_or(VerificationError::NotQuorumMember)?;
    require!(d.settled_mask & (1 << i) == 0, VerificationError::AlreadySettled);
    let penalised = d.penalised(i);
    let mut penalty = 0;
    let lock = d.member_lock();
    if lock > 0 {
        let stake = cinder_jobs::calls::StakeCtx {
            authority: a.verification_authority.to_account_info(),
            authority_bump: ctx.bumps.verification_authority,
            signer_seed: VERIFICATION_AUTHORITY_SEED,
            staking_program: a.staking_program.to_account_info(),
            pool: a.pool.to_account_info(),
            stake: a.stake.to_account_info(),
        };
        let mut release = lock;
        if penalised && d.vote_penalty > 0 {
            // The slash releases as much of the member's lock as it takes (staking releases as
            // much lock as it slashes); the rest of the lock is released below.
            (penalty, _, _) = stake.slash(
                d.vote_penalty,
                0,
                &a.pool_vault.to_account_info(),
                &a.mint.to_account_info(),
                None,
                &a.token_program.to_account_info(),
            )?;
            release = lock.checked_sub(d.vote_penalty).ok_or(VerificationError::ArithmeticOverflow)?;
        }
        if release > 0 {
            stake.unlock(release)?;
        }
    }
    let key = a.dispute.key();
    let dispute = &mut ctx.accounts.dispute;
    dispute.settled_mask |= 1 << i;
    let closed = dispute.all_settled();
    if closed {
        dispute.close(ctx.accounts.challenger.to_account_info())?;
    }
    cinder_common::emit_event!(VoteSettled { dispute: key, voter: member, penalised, penalty, dispute_closed: closed });
    Ok(())
}
