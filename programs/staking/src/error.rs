use anchor_lang::prelude::*;

/// Staking errors, codes 8000–8999 (each program has its own range). Append-only: never reorder or remove a variant (the codes are part of the ABI).
#[error_code(offset = 8000)]
pub enum StakingError {
    #[msg("The amount must be greater than zero")]
    ZeroAmount,
    #[msg("The mint carries a Token-2022 extension that the staking policy does not allow")]
    UnsupportedMintExtension,
    #[msg("The mint account is not a mint of SPL Token or Token-2022")]
    InvalidMint,
    #[msg("Only the pool admin may do this")]
    Unauthorized,
    #[msg("The signer is not one of the program authorities this pool trusts")]
    UnauthorizedCaller,
    #[msg("Too many authorities, or an authority listed twice or as the default key")]
    InvalidAuthorities,
    #[msg("The cooldown must be between 0 and MAX_COOLDOWN_SECS")]
    InvalidCooldown,
    #[msg("The reward share exceeds the pool's cap")]
    RewardBpsTooHigh,
    #[msg("The stake would fall below the pool's minimum (withdraw everything or keep the minimum)")]
    BelowMinimumStake,
    #[msg("Not enough free (unlocked, active) stake")]
    InsufficientFreeStake,
    #[msg("Not enough locked collateral to unlock")]
    InsufficientLockedStake,
    #[msg("No unstake request is pending")]
    NoPendingWithdrawal,
    #[msg("The unstake cooldown has not ended yet")]
    CooldownNotElapsed,
    #[msg("A reward recipient token account is required when reward_bps > 0")]
    RewardRecipientRequired,
    #[msg("The treasury must be a token account of the pool's mint")]
    InvalidTreasury,
    #[msg("Arithmetic overflow")]
    ArithmeticOverflow,
    #[msg("The treasury has nothing accrued to withdraw")]
    NothingToWithdraw,
}
