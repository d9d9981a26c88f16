//! `reveal_vote`: a member reveals its vote and salt in the reveal phase.
use anchor_lang::prelude::*;

use super::commit_vote::Vote;
use crate::{constants::*, error::VerificationError, events::*, state::*};

/// Reveals the vote and salt; they must hash to the commitment.
pub fn reveal_vote(ctx: Context<Vote>, vote: u8, salt: [u8; 32]) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let voter = ctx.accounts.voter.key();
    let key = ctx.accounts.dispute.key();
    let d = &mut ctx.accounts.dispute;
    d.require_unresolved()?;
    require!(d.drawn(), VerificationError::QuorumNotDrawn);
    let i = d.member_position(&voter).ok_or(VerificationError::NotQuorumMember)?;
    require!(now > d.commit_end && now <= d.reveal_end, VerificationError::RevealPhaseNotOpen);
    require!(
        vote == VOTE_RESULT_CORRECT || vote == VOTE_RESULT_WRONG || vote == VOTE_ABSTAIN,
        VerificationError::InvalidVote
    );
    require!(d.commitments[i] != [0; 32] && d.votes[i] == 0, VerificationError::NothingToReveal);
    require!(vote_commitment(&key, &voter, vote, &salt) == d.commitments[i], VerificationError::VoteMismatch);
    d.votes[i] = vote;
    cinder_common::emit_event!(VoteRevealed { dispute: key, voter, vote });
    Ok(())
}
