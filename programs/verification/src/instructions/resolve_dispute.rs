//! `resolve_dispute`: anyone applies the majority once voting is over (or the draw failed).
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;
use cinder_jobs::{calls::EscrowCtx, split_payment};

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
    /// The market's verifier set (a dispute resolved before its quorum was complete ends its draw).
    #[account(
        mut,
        seeds = [VERIFIER_SET_SEED, dispute.market.as_ref()],
        bump = verifier_set.bump,
    )]
    pub verifier_set: Box<Account<'info, VerifierSet>>,
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
    if !ctx.accounts.dispute.drawn() {
        // The draw ends here, incomplete.
        let set = &mut ctx.accounts.verifier_set;
        set.drawing = set.drawing.checked_sub(1).ok_or(VerificationError::ArithmeticOverflow)?;
    }
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
