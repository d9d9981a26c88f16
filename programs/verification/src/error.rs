use anchor_lang::prelude::*;

/// Verification errors, codes 10000–10999 (each program has its own range). Append-only: never reorder or remove a variant (the codes are part of the ABI).
#[error_code(offset = 10000)]
pub enum VerificationError {
    #[msg("Only the provider assigned to the job may submit its result")]
    NotAssignedProvider,
    #[msg("The job's result deadline has passed")]
    DeadlinePassed,
    /// Superseded by `JobNotClaimed` / `JobNotSubmitted` (kept: codes are append-only).
    #[msg("The job is not in the state this instruction needs")]
    InvalidJobStatus,
    #[msg("The challenge window has closed")]
    ChallengeWindowClosed,
    #[msg("The challenge window is still open")]
    ChallengeWindowOpen,
    #[msg("The provider cannot challenge its own result")]
    ProviderCannotChallenge,
    #[msg("The stake is below the market minimum")]
    InsufficientStake,
    #[msg("The named slot is not a recent slot in the SlotHashes sysvar")]
    StaleRandomnessSlot,
    #[msg("Not enough eligible verifiers for a quorum")]
    NotEnoughVerifiers,
    #[msg("A quorum candidate account does not match the derived selection")]
    InvalidQuorumCandidate,
    #[msg("The signer is not a member of this dispute's quorum")]
    NotQuorumMember,
    #[msg("The commit phase has ended")]
    CommitPhaseOver,
    #[msg("The reveal phase is not open")]
    RevealPhaseNotOpen,
    #[msg("This member already committed a vote")]
    AlreadyCommitted,
    #[msg("No committed vote to reveal, or already revealed")]
    NothingToReveal,
    #[msg("The revealed vote and salt do not match the commitment")]
    VoteMismatch,
    #[msg("A vote must be VOTE_RESULT_CORRECT, VOTE_RESULT_WRONG or VOTE_ABSTAIN")]
    InvalidVote,
    #[msg("Voting has not ended and not every member has revealed")]
    VotingNotOver,
    #[msg("The dispute is already resolved")]
    AlreadyResolved,
    #[msg("The dispute is not resolved yet")]
    NotResolved,
    #[msg("This member's vote is already settled")]
    AlreadySettled,
    #[msg("The account does not belong to this dispute")]
    WrongDisputeAccount,
    #[msg("Arithmetic overflow")]
    ArithmeticOverflow,
    #[msg("The draw's randomness slot has not been produced yet")]
    RandomnessNotReady,
    #[msg("The quorum is already complete")]
    QuorumAlreadyDrawn,
    #[msg("The quorum has not been drawn yet")]
    QuorumNotDrawn,
    #[msg("Candidates must come as (verifier entry, stake) pairs, at most MAX_DRAW_PAIRS")]
    InvalidDrawCandidates,
    #[msg("The draw deadline has not passed and the quorum is incomplete")]
    DrawNotOver,
    #[msg("A dispute consistency rule was violated")]
    DisputeInvariantViolated,
    #[msg("The job is not claimed (or already has a result)")]
    JobNotClaimed,
    #[msg("The job has no unchallenged result")]
    JobNotSubmitted,
    #[msg("The draw took all its steps without completing the quorum; resolve after the draw deadline")]
    DrawStepsExhausted,
    #[msg("Only the verifier itself may remove a registration that still holds the market's minimum stake")]
    VerifierStillStaked,
    #[msg("The account is not the verifier registration (or marker) this instruction names")]
    WrongVerifierEntry,
    #[msg("A quorum draw of this market is in progress; registrations cannot move until it completes or resolves")]
    DrawInProgress,
}
