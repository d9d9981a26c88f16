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
/// Oldest slot (relative to the current one) a challenger may name as the randomness source.
#[constant]
pub const MAX_SLOT_AGE: u64 = 16;
/// Most candidate entries a challenge may pass beyond the quorum (the draw is without
/// replacement, so only the provider and the challenger are ever skipped).
#[constant]
pub const MAX_EXTRA_CANDIDATES: u8 = 2;
/// Vote values.
#[constant]
pub const VOTE_RESULT_CORRECT: u8 = 1;
#[constant]
pub const VOTE_RESULT_WRONG: u8 = 2;
