use anchor_lang::prelude::*;

/// Jobs errors. Append-only: never reorder or remove a variant (the codes are part of the ABI).
#[error_code]
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
}
