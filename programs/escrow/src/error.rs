use anchor_lang::prelude::*;

/// Escrow errors, codes 7000–7999 (each program has its own range). Append-only: never reorder or remove a variant (the codes are part of the ABI).
#[error_code(offset = 7000)]
pub enum EscrowError {
    #[msg("The amount must be greater than zero")]
    ZeroAmount,
    #[msg("The mint carries a Token-2022 extension that the escrow policy does not allow")]
    UnsupportedMintExtension,
    #[msg("The amounts exceed what the escrow still holds")]
    InsufficientEscrowBalance,
    #[msg("release_escrow needs exactly one recipient token account per amount")]
    RecipientCountMismatch,
    #[msg("Too many recipients for one release")]
    TooManyRecipients,
    #[msg("A recipient is not a token account of the escrow's mint and token program")]
    InvalidRecipient,
    #[msg("The escrow still holds tokens; release or refund them first")]
    EscrowNotEmpty,
    #[msg("The vault holds stray tokens: pass a token account to sweep them to")]
    DepositorTokenAccountRequired,
    #[msg("Arithmetic overflow")]
    ArithmeticOverflow,
    #[msg("The mint account is not a mint of SPL Token or Token-2022")]
    InvalidMint,
    #[msg("Nothing to refund: the escrow is already empty")]
    NothingToRefund,
    #[msg("Strays may only be swept to the depositor's token account (or where the controller says)")]
    InvalidSweepAccount,
}
