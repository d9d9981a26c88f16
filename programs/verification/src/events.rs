use anchor_lang::prelude::*;

use crate::state::DisputeOutcome;

#[event]
pub struct VerifierRegistered {
    pub market: Pubkey,
    pub verifier: Pubkey,
    pub index: u32,
}

#[event]
pub struct DisputeOpened {
    pub dispute: Pubkey,
    pub job: Pubkey,
    pub challenger: Pubkey,
    pub provider: Pubkey,
    pub bond: u64,
    pub members: Vec<Pubkey>,
    pub randomness_slot: u64,
    pub commit_end: i64,
    pub reveal_end: i64,
}

#[event]
pub struct VoteCommitted {
    pub dispute: Pubkey,
    pub voter: Pubkey,
}

#[event]
pub struct VoteRevealed {
    pub dispute: Pubkey,
    pub voter: Pubkey,
    pub vote: u8,
}

/// The dispute was decided. Bond: to the provider (minus the fee) when the provider was right,
/// back to the challenger otherwise.
#[event]
pub struct DisputeResolved {
    pub dispute: Pubkey,
    pub job: Pubkey,
    pub outcome: DisputeOutcome,
    pub votes_correct: u8,
    pub votes_wrong: u8,
    pub bond_to_provider: u64,
    pub bond_fee: u64,
    pub bond_refunded: u64,
}

#[event]
pub struct VoteSettled {
    pub dispute: Pubkey,
    pub voter: Pubkey,
    pub penalised: bool,
    pub penalty: u64,
    /// True when this was the last member and the dispute account was closed (rent → challenger).
    pub dispute_closed: bool,
}
