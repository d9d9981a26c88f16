//! Seeds and limits. Off-chain code (SDK, CLI, tests) imports these; it never re-declares them.
use anchor_lang::prelude::*;

/// Escrow account: `[ESCROW_SEED, controller, seed]`.
#[constant]
pub const ESCROW_SEED: &[u8] = b"escrow";
/// Vault token account: `[VAULT_SEED, escrow]`.
#[constant]
pub const VAULT_SEED: &[u8] = b"escrow-vault";
/// Most recipients one `release_escrow` may pay.
#[constant]
pub const MAX_RECIPIENTS: u8 = 8;
