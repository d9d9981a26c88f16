//! `resolve_dispute` applies the majority; `settle_vote` applies each member's penalty and closes
//! the dispute after the last one.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;
use cinder_jobs::{calls::EscrowCtx, split_payment, Market};
use cinder_staking::{program::CinderStaking, ProviderStake, STAKE_SEED};

use super::accounts::*;
use crate::{constants::*, error::VerificationError, events::*, state::*};

#[derive(Accounts)]
pub struct ResolveDispute<'info> {
    /// Anyone, once voting is over (or every member has revealed). Signs (pays the fee only).
    pub caller: Signer<'info>,
    pub job_accounts: JobAccounts<'info>,
    #[account(
        mut,
        seeds = [DISPUTE_SEED, job_accounts.job.key().as_ref()],
        bump = dispute.bump,
    )]
    pub dispute: Box<Account<'info, Dispute>>,
    /// The provider's token account (paid when the provider was right or no quorum formed).
    #[account(mut, dup, constraint = provider_token.owner == job_accounts.job.provider @ VerificationError::WrongDisputeAccount)]
    pub provider_token: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The client's token account (refunded when the provider was wrong).
    #[account(mut, dup, constraint = client_token.owner == job_accounts.job.client @ VerificationError::WrongDisputeAccount)]
    pub client_token: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The challenger's token account (bond refund and reward).
    #[account(mut, dup, constraint = challenger_token.owner == dispute.challenger @ VerificationError::WrongDisputeAccount)]
    pub challenger_token: Box<InterfaceAccount<'info, TokenAccount>>,
    /// CHECK: the challenger (receives the bond escrow's rent).
    #[account(mut, address = dispute.challenger @ VerificationError::WrongDisputeAccount)]
    pub challenger: UncheckedAccount<'info>,
    /// CHECK: the bond escrow (its address is checked; the escrow program checks the rest).
    #[account(mut)]
    pub bond_escrow: UncheckedAccount<'info>,
    /// CHECK: the bond escrow's vault (checked by the escrow program).
    #[account(mut)]
    pub bond_vault: UncheckedAccount<'info>,
}

pub fn resolve_dispute(ctx: Context<ResolveDispute>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    let d = &a.dispute;
    d.require_unresolved()?;
    if d.drawn() {
        require!(now > d.reveal_end || d.all_revealed(), VerificationError::VotingNotOver);
    } else {
        // Too few eligible verifiers, or nobody drew: the result stands once the draw deadline
        // has passed, and nobody drawn so far is penalised.
        require!(now > d.draw_deadline, VerificationError::DrawNotOver);
    }
    let expected_bond = crate::bond_escrow(&d.job);
    require_keys_eq!(a.bond_escrow.key(), expected_bond, VerificationError::WrongDisputeAccount);

    let outcome = if d.drawn() { d.tally() } else { DisputeOutcome::NoQuorum };
    let n = d.member_count as usize;
    let votes_correct = d.votes[..n].iter().filter(|v| **v == VOTE_RESULT_CORRECT).count() as u8;
    let votes_wrong = d.votes[..n].iter().filter(|v| **v == VOTE_RESULT_WRONG).count() as u8;
    let j = &a.job_accounts;
    let bump = ctx.bumps.job_accounts.verification_authority;
    let fee_bps = j.job.fee_bps;

    // The job itself: paid, or refunded and slashed.
    match outcome {
        DisputeOutcome::ProviderWrong => {
            j.slash(&a.client_token.to_account_info(), &a.challenger_token.to_account_info(), bump)?
        }
        _ => j.settle(&a.provider_token.to_account_info(), bump)?,
    }

    // The bond: to the provider (minus the protocol fee) if it was right, else back to the challenger.
    let esc = EscrowCtx {
        authority: j.verification_authority.to_account_info(),
        authority_bump: bump,
        signer_seed: VERIFICATION_AUTHORITY_SEED,
        escrow_program: j.escrow_program.to_account_info(),
        escrow: a.bond_escrow.to_account_info(),
        vault: a.bond_vault.to_account_info(),
        mint: j.mint.to_account_info(),
        token_program: j.token_program.to_account_info(),
    };
    let bond = d.bond;
    let (mut to_provider, mut fee, mut refunded) = (0, 0, 0);
    // Stray tokens in the bond vault go with the bond.
    let bond_to = if outcome == DisputeOutcome::ProviderRight {
        let split = split_payment(bond, fee_bps);
        (to_provider, fee) = (split.to_provider, split.fee);
        esc.release(&[(&a.provider_token.to_account_info(), to_provider), (&j.treasury_token.to_account_info(), fee)])?;
        a.provider_token.to_account_info()
    } else {
        refunded = bond;
        esc.refund(&a.challenger_token.to_account_info())?;
        a.challenger_token.to_account_info()
    };
    esc.close(&a.challenger.to_account_info(), &bond_to)?;

    let key = a.dispute.key();
    let job = d.job;
    let dispute = &mut ctx.accounts.dispute;
    dispute.outcome = outcome;
    dispute.invariant()?;
    // Nobody was drawn: no vote to settle, so the dispute closes now (rent to the challenger).
    if dispute.member_count == 0 {
        dispute.close(ctx.accounts.challenger.to_account_info())?;
    }
    cinder_common::emit_event!(DisputeResolved {
        dispute: key,
        job,
        outcome,
        votes_correct,
        votes_wrong,
        bond_to_provider: to_provider,
        bond_fee: fee,
        bond_refunded: refunded,
    });
    Ok(())
}

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
    if d.vote_penalty > 0 {
        let stake = cinder_jobs::calls::StakeCtx {
            authority: a.verification_authority.to_account_info(),
            authority_bump: ctx.bumps.verification_authority,
            signer_seed: VERIFICATION_AUTHORITY_SEED,
            staking_program: a.staking_program.to_account_info(),
            pool: a.pool.to_account_info(),
            stake: a.stake.to_account_info(),
        };
        if penalised {
            // The slash releases exactly the lock taken at the draw (staking releases as much
            // lock as it slashes) and takes the same amount of stake.
            (penalty, _, _) = stake.slash(
                d.vote_penalty,
                0,
                &a.pool_vault.to_account_info(),
                &a.mint.to_account_info(),
                None,
                &a.token_program.to_account_info(),
            )?;
        } else {
            stake.unlock(d.vote_penalty)?;
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
