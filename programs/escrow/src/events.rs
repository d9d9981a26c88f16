use anchor_lang::prelude::*;

/// An escrow was opened and funded.
#[event]
pub struct EscrowOpened {
    pub escrow: Pubkey,
    pub controller: Pubkey,
    pub depositor: Pubkey,
    pub rent_payer: Pubkey,
    pub mint: Pubkey,
    pub seed: [u8; 32],
    pub amount: u64,
    pub timestamp: i64,
}

/// The controller paid tokens out of an escrow.
#[event]
pub struct EscrowReleased {
    pub escrow: Pubkey,
    pub controller: Pubkey,
    /// Recipient token accounts, in the order of `amounts`.
    pub recipients: Vec<Pubkey>,
    pub amounts: Vec<u64>,
    /// What the escrow still holds afterwards.
    pub remaining: u64,
    pub timestamp: i64,
}

/// The controller returned the remainder to the depositor.
#[event]
pub struct EscrowRefunded {
    pub escrow: Pubkey,
    pub controller: Pubkey,
    pub depositor_token: Pubkey,
    pub amount: u64,
    pub timestamp: i64,
}

/// An empty escrow and its vault were closed; their rent went back to the recorded payer.
#[event]
pub struct EscrowClosed {
    pub escrow: Pubkey,
    pub rent_payer: Pubkey,
    /// Lamports returned (escrow account + vault).
    pub rent_returned: u64,
    /// Tokens sent to the vault directly (outside `open_escrow`) and swept to the depositor.
    pub stray_swept: u64,
    pub timestamp: i64,
}
