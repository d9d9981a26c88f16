//! # Cinder verification
//!
//! Result commitments, the challenge window, disputes decided by a randomly drawn quorum of
//! staked verifiers with commit-reveal voting, and settlement. It drives the jobs program through
//! its verification-gated instructions (signed by this program's `[VERIFICATION_AUTHORITY_SEED]`
//! PDA), holds challenge bonds in escrows it controls, and penalises voters through the staking
//! program (where its PDA is a pool authority). No admin decides anything here.
//!
//! ```text
//!  Claimed ──submit_result──▶ Submitted ──(window over)── finalize_job ──▶ provider paid
//!                                 │
//!                          challenge_result (bond) ▶ draw_quorum* (later slot hash, stake-weighted)
//!                                 ▼
//!                   commit_vote* ▶ reveal_vote* ▶ resolve_dispute ──▶ ProviderWrong: client refunded,
//!                                                      │                provider slashed, bond back
//!                                                      ├──▶ ProviderRight: provider paid + bond
//!                                                      └──▶ NoQuorum: result stands, bond back
//!                   settle_vote (per member): non-revealers and the losing side lose vote_penalty
//!                   (locked at the draw), the others get it unlocked; the last one closes the
//!                   dispute (rent → challenger). A quorum not complete by the draw deadline
//!                   resolves as NoQuorum with no penalties.
//! ```
//!
//! ## Authorities
//! * **provider** (the job's assigned provider): `submit_result`, at or before the deadline.
//! * **registered verifiers** (stake ≥ the market minimum): `challenge_result` (not on their own
//!   jobs); drawn quorum members (free stake ≥ the minimum at the draw) vote.
//! * **a registered verifier**: `remove_verifier` of itself; **anyone** may remove a registration
//!   whose active stake fell below the market minimum (not while a draw is in progress).
//! * **anyone**: `draw_quorum`, `finalize_job` after the window, `resolve_dispute` after voting,
//!   `settle_vote`.

use anchor_lang::prelude::*;

pub mod constants;
pub mod error;
pub mod events;
pub mod instructions;
pub mod state;

pub use constants::*;
pub use error::VerificationError;
pub use events::*;
use instructions::*;
pub use state::*;

declare_id!("8JjD4AxrzLC2hVZi4E6cTC4JShFZfhdfdGBWtXAY9U3E");

/// This program's signing PDA.
pub fn verification_authority() -> Pubkey {
    Pubkey::find_program_address(&[VERIFICATION_AUTHORITY_SEED], &ID).0
}

/// The bond escrow of a job's dispute: `escrow::[ESCROW_SEED, verification_authority, job]`.
pub fn bond_escrow(job: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[cinder_escrow::ESCROW_SEED, verification_authority().as_ref(), job.as_ref()],
        &cinder_escrow::ID,
    )
    .0
}

#[program]
pub mod cinder_verification {
    use super::*;

    /// A staked verifier joins a market's verifier set (the pool quorums are drawn from).
    pub fn register_verifier(ctx: Context<RegisterVerifier>) -> Result<()> {
        instructions::register_verifier::register_verifier(ctx)
    }

    /// The verifier, or anyone once its active stake is below the market minimum: removes a
    /// registration (the last one moves into its index).
    pub fn remove_verifier(ctx: Context<RemoveVerifier>) -> Result<()> {
        instructions::remove_verifier::remove_verifier(ctx)
    }

    /// The assigned provider posts its result commitment; the challenge window starts.
    pub fn submit_result(ctx: Context<SubmitResult>, args: SubmitResultArgs) -> Result<()> {
        instructions::submit_result::submit_result(ctx, args)
    }

    /// Anyone, after an unchallenged window: pay the provider.
    pub fn finalize_job(ctx: Context<FinalizeJob>) -> Result<()> {
        instructions::finalize_job::finalize_job(ctx)
    }

    /// A registered verifier disputes a result within the window, with a bond; the quorum is
    /// drawn later from a slot hash nobody knew yet.
    pub fn challenge_result<'info>(ctx: Context<'info, ChallengeResult<'info>>) -> Result<()> {
        instructions::challenge_result::challenge_result(ctx)
    }

    /// Anyone: fixes the draw's randomness once its slot exists and draws quorum members
    /// (stake-weighted, each locking its vote penalty); repeatable until the quorum is complete.
    pub fn draw_quorum<'info>(ctx: Context<'info, DrawQuorum<'info>>) -> Result<()> {
        instructions::draw_quorum::draw_quorum(ctx)
    }

    /// A quorum member commits `sha256(VOTE_TAG ‖ dispute ‖ voter ‖ vote ‖ salt)`.
    pub fn commit_vote(ctx: Context<Vote>, commitment: [u8; 32]) -> Result<()> {
        instructions::commit_vote::commit_vote(ctx, commitment)
    }

    /// A quorum member reveals its vote and salt.
    pub fn reveal_vote(ctx: Context<Vote>, vote: u8, salt: [u8; 32]) -> Result<()> {
        instructions::reveal_vote::reveal_vote(ctx, vote, salt)
    }

    /// Anyone, after voting: apply the majority (or the no-quorum rule).
    pub fn resolve_dispute(ctx: Context<ResolveDispute>) -> Result<()> {
        instructions::resolve_dispute::resolve_dispute(ctx)
    }

    /// Anyone, after resolution: apply one member's vote penalty; the last closes the dispute.
    pub fn settle_vote(ctx: Context<SettleVote>) -> Result<()> {
        instructions::settle_vote::settle_vote(ctx)
    }
}
