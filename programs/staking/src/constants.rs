//! Seeds and limits. Off-chain code (SDK, CLI, tests) imports these; it never re-declares them.
use anchor_lang::prelude::*;

/// Stake pool: `[POOL_SEED, creator, mint]` (the creator signs init, so a pool cannot be squatted).
#[constant]
pub const POOL_SEED: &[u8] = b"stake-pool";
/// Pool vault token account: `[POOL_VAULT_SEED, pool]`.
#[constant]
pub const POOL_VAULT_SEED: &[u8] = b"stake-vault";
/// Provider stake account: `[STAKE_SEED, pool, owner]`.
#[constant]
pub const STAKE_SEED: &[u8] = b"stake";
/// Most program PDAs a pool trusts to lock, unlock and slash.
#[constant]
pub const MAX_AUTHORITIES: u8 = 4;
/// Longest unstake cooldown an admin can set (30 days), so stake can never be frozen by config.
#[constant]
pub const MAX_COOLDOWN_SECS: i64 = 30 * 24 * 60 * 60;
/// Highest share of a slash (basis points) a pool may let the slashing program direct to a reward
/// recipient; the rest always goes to the pool's treasury. Below 10 000 so that a reward is always
/// strictly smaller than the slash that pays it.
#[constant]
pub const MAX_REWARD_BPS_CAP: u16 = 5_000;
/// Basis-point denominator.
#[constant]
pub const BPS_DENOMINATOR: u64 = 10_000;
