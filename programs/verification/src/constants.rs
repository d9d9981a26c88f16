//! Seeds, tags and limits. Off-chain code imports these; it never re-declares them.
use anchor_lang::prelude::*;

pub use cinder_jobs::VERIFICATION_AUTHORITY_SEED;

/// Per-market verifier counter: `[VERIFIER_SET_SEED, market]`.
#[constant]
pub const VERIFIER_SET_SEED: &[u8] = b"verifier-set";
/// A registered verifier by position: `[VERIFIER_SEED, market, index (u32 LE)]` (what a quorum
/// draw names).
#[constant]
pub const VERIFIER_SEED: &[u8] = b"verifier";
/// A registered verifier by key: `[VERIFIER_MARKER_SEED, market, verifier]` (prevents registering
/// twice; holds the index).
#[constant]
pub const VERIFIER_MARKER_SEED: &[u8] = b"verifier-of";
/// Dispute of a job: `[DISPUTE_SEED, job]`.
#[constant]
pub const DISPUTE_SEED: &[u8] = b"dispute";
/// Domain tag of the quorum-selection seed.
#[constant]
pub const QUORUM_TAG: &[u8] = b"cinder.quorum.v1";
/// Domain tag of a vote commitment.
#[constant]
pub const VOTE_TAG: &[u8] = b"cinder.vote.v1";
/// The draw's randomness is the hash of the first slot at least this many slots after the
/// challenge's: unknown to everyone when the challenge is sent.
#[constant]
pub const DRAW_DELAY_SLOTS: u64 = 4;
/// Most (entry, stake) candidate pairs one `draw_quorum` may take (it can be repeated).
#[constant]
pub const MAX_DRAW_PAIRS: u8 = 10;
/// Most draw steps per quorum seat; a draw that needs more (too few eligible verifiers) stops,
/// and the dispute resolves as `NoQuorum` after its draw deadline.
#[constant]
pub const MAX_DRAW_STEPS_PER_SEAT: u32 = 64;
/// A candidate's draw weight is its free stake, capped at this multiple of the minimum.
#[constant]
pub const VERIFIER_WEIGHT_CAP_MULTIPLE: u8 = 4;
/// Entries the SlotHashes sysvar keeps.
pub const SLOT_HASHES_MAX_ENTRIES: usize = 512;
/// Vote values.
#[constant]
pub const VOTE_RESULT_CORRECT: u8 = 1;
#[constant]
pub const VOTE_RESULT_WRONG: u8 = 2;
/// "Cannot verify" (the input could not be fetched or served): a revealed vote that counts for
/// neither side. It is penalised like the losing side when the others decide the dispute, and not
/// at all when nobody could decide it (`NoQuorum`).
#[constant]
pub const VOTE_ABSTAIN: u8 = 3;
