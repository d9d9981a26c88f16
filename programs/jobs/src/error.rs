use anchor_lang::prelude::*;

/// Jobs errors, codes 9000–9999 (each program has its own range). Append-only: never reorder or remove a variant (the codes are part of the ABI).
#[error_code(offset = 9000)]
pub enum JobsError {
    #[msg("Only the protocol admin may do this")]
    Unauthorized,
    #[msg("The protocol fee exceeds MAX_FEE_BPS")]
    FeeTooHigh,
    #[msg("The protocol is paused: no new jobs or claims")]
    Paused,
    #[msg("A string is longer than its limit")]
    StringTooLong,
    #[msg("Invalid market parameters")]
    InvalidMarketParams,
    #[msg("Only the market creator may do this")]
    NotMarketCreator,
    #[msg("The payment is below the market price")]
    PaymentBelowPrice,
    /// Superseded by the specific `JobNot*` errors (kept: codes are append-only).
    #[msg("The job is not in the state this instruction needs")]
    InvalidJobStatus,
    #[msg("Only the client may do this")]
    NotClient,
    #[msg("This job is not at the head of the market's queue")]
    NotQueueHead,
    #[msg("The job was designated to another provider")]
    DesignatedToAnotherProvider,
    #[msg("A skipped queue slot is still claimable or is not the next slot")]
    InvalidQueueSkip,
    #[msg("The provider's stake is below the market minimum")]
    InsufficientStake,
    #[msg("The provider does not serve this market's model")]
    ModelNotServed,
    #[msg("Only the verification program may do this")]
    NotVerificationProgram,
    #[msg("The job deadline has not passed yet")]
    DeadlineNotReached,
    #[msg("Arithmetic overflow")]
    ArithmeticOverflow,
    #[msg("Too many models")]
    TooManyModels,
    #[msg("The mint does not match the market")]
    WrongMint,
    #[msg("The treasury token account is not owned by the protocol treasury")]
    InvalidTreasury,
    #[msg("The stake pool is not the protocol's pool for this mint")]
    InvalidPool,
    #[msg("The account does not belong to this job")]
    WrongJobAccount,
    #[msg("Invalid inference parameters")]
    InvalidParams,
    #[msg("The market's terms changed since the client read them (expected_terms does not match)")]
    MarketTermsChanged,
    #[msg("A market term is outside its documented range")]
    MarketTermOutOfRange,
    #[msg("Only the jobs program's upgrade authority may create the protocol config")]
    NotUpgradeAuthority,
    #[msg("No dead queue slot was passed, or the head has reached the newest job")]
    NothingToAdvance,
    #[msg("A reward share is above the stake pool's cap")]
    RewardAbovePoolCap,
    #[msg("The job is not open")]
    JobNotOpen,
    #[msg("The job is not claimed (or already has a result)")]
    JobNotClaimed,
    #[msg("The job has no unchallenged result")]
    JobNotSubmitted,
    #[msg("The job is not challenged")]
    JobNotChallenged,
    #[msg("The result deadline has passed")]
    ResultDeadlinePassed,
    #[msg("The challenge window has closed")]
    ChallengeWindowClosed,
    #[msg("The challenge window is still open")]
    ChallengeWindowOpen,
    #[msg("The signer is not the job's provider")]
    NotJobProvider,
    #[msg("A job consistency rule was violated")]
    JobInvariantViolated,
    #[msg("An inline input must be 1 to MAX_INLINE_INPUT bytes, with input_uri 'inline:'")]
    InvalidInlineInput,
    #[msg("The inline input does not hash to input_hash")]
    InlineInputHashMismatch,
}
