//! `commit_vote`: a drawn member commits to its vote.
//! Commit phase: `opened_at ..= commit_end`; reveal phase: `commit_end + 1 ..= reveal_end`.
use anchor_lang::prelude::*;

use crate::{constants::*, error::VerificationError, events::*, state::*};

#[derive(Accounts)]
pub struct Vote<'info> {
    /// A quorum member. Signs.
    pub voter: Signer<'info>,
    #[account(mut, seeds = [DISPUTE_SEED, dispute.job.as_ref()], bump = dispute.bump)]
    pub dispute: Box<Account<'info, Dispute>>,
}

/// Stores `vote_commitment(dispute, voter, vote, salt)`.
pub fn commit_vote(ctx: Context<Vote>, commitment: [u8; 32]) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let voter = ctx.accounts.voter.key();
    let d = &mut ctx.accounts.dispute;
    d.require_unresolved()?;
    require!(d.drawn(), VerificationError::QuorumNotDrawn);
    let i = d.member_position(&voter).ok_or(VerificationError::NotQuorumMember)?;
    require!(now <= d.commit_end, VerificationError::CommitPhaseOver);
    require!(d.commitments[i] == [0; 32], VerificationError::AlreadyCommitted);
    d.commitments[i] = commitment;
    cinder_common::emit_event!(VoteCommitted { dispute: d.key(), voter });
    Ok(())
}
