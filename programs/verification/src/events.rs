use anchor_lang::prelude::*;

use crate::state::DisputeOutcome;

#[event]
pub struct VerifierRegistered {
    pub market: Pubkey,
    pub verifier: Pubkey,
    pub index: u32,
}

/// A registration left the verifier set; `moved` (the last registration) now holds `index`.
#[event]
pub struct VerifierRemoved {
    pub market: Pubkey,
    pub verifier: Pubkey,
    pub index: u32,
    pub moved: Option<Pubkey>,
    /// Who removed it (the verifier itself, or anyone once it fell below the minimum).
    pub by: Pubkey,
}

/// A challenge opened a dispute; its quorum is drawn later from `draw_slot`'s hash.
#[event]
pub struct DisputeOpened {
    pub dispute: Pubkey,
    pub job: Pubkey,
    pub challenger: Pubkey,
    pub provider: Pubkey,
    pub bond: u64,
    pub quorum: u8,
    pub draw_slot: u64,
    pub draw_deadline: i64,
}

/// `draw_quorum` progressed: members drawn so far (each with `vote_penalty` locked), and the
/// voting phases once the quorum is complete.
#[event]
pub struct QuorumDrawn {
    pub dispute: Pubkey,
    /// The slot whose hash seeded the draw (or, when `retargeted`, the new target slot).
    pub randomness_slot: u64,
    /// The target slot's hash aged out before anyone drew: a new, later target was set.
    pub retargeted: bool,
    pub new_members: Vec<Pubkey>,
    pub member_count: u8,
    pub draw_step: u32,
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
