//! Seeds and limits. Off-chain code (SDK, CLI, worker) imports these; it never re-declares them.
use anchor_lang::prelude::*;

/// Protocol config (singleton): `[CONFIG_SEED]`.
#[constant]
pub const CONFIG_SEED: &[u8] = b"config";
/// Model registry entry: `[MODEL_SEED, model_id]`.
#[constant]
pub const MODEL_SEED: &[u8] = b"model";
/// Market: `[MARKET_SEED, model, mint, creator]`.
#[constant]
pub const MARKET_SEED: &[u8] = b"market";
/// Provider: `[PROVIDER_SEED, authority]`.
#[constant]
pub const PROVIDER_SEED: &[u8] = b"provider";
/// Job: `[JOB_SEED, market, job_id (u64 LE)]`; job ids come from the market's counter.
#[constant]
pub const JOB_SEED: &[u8] = b"job";
/// The jobs program's signing PDA: controller of job escrows, authority of stake pools.
#[constant]
pub const JOBS_AUTHORITY_SEED: &[u8] = b"jobs-authority";
/// The verification program's signing PDA (derived under the verification program id).
#[constant]
pub const VERIFICATION_AUTHORITY_SEED: &[u8] = b"verification-authority";
/// Highest protocol fee: 10%.
#[constant]
pub const MAX_FEE_BPS: u16 = 1_000;
#[constant]
pub const BPS_DENOMINATOR: u64 = 10_000;
/// Longest input/output URI in bytes: room for `https://<host>/<prefix>/` plus a 64-hex-digit
/// content hash (96 was too short for real object-store and provider-endpoint URIs).
#[constant]
pub const MAX_URI_LEN: u32 = 200;
/// Largest input `post_job_inline` carries in the transaction itself. Measured: with both
/// compute-budget instructions and a designated provider, 480 bytes make a 1 219-byte
/// transaction, under the 1 232-byte packet limit (tests/programs/jobs_rejections.rs checks it).
#[constant]
pub const MAX_INLINE_INPUT: u32 = 480;
/// The `input_uri` of a job whose input travels inline (in its `JobInputInline` event).
#[constant]
pub const INLINE_INPUT_URI: &str = "inline:";
#[constant]
pub const MAX_NAME_LEN: u32 = 32;
#[constant]
pub const MAX_ARCH_LEN: u32 = 16;
#[constant]
pub const MAX_ENDPOINT_LEN: u32 = 64;
#[constant]
pub const MAX_PROVIDER_MODELS: u8 = 4;
/// Most dead queue slots (cancelled, designated, taken) one claim may skip.
#[constant]
pub const MAX_QUEUE_SKIP: u8 = 8;
/// Most dead queue slots one `advance_queue` may pass (it can be repeated without limit).
#[constant]
pub const MAX_QUEUE_ADVANCE: u8 = 24;
/// Longest `job_timeout_secs` a market may set (7 days).
#[constant]
pub const MAX_JOB_TIMEOUT_SECS: i64 = 7 * 24 * 60 * 60;
/// Longest `challenge_window_secs` a market may set (7 days).
#[constant]
pub const MAX_CHALLENGE_WINDOW_SECS: i64 = 7 * 24 * 60 * 60;
/// Shortest `voting_period_secs` a market may set: the quorum draw waits a few slots for its
/// randomness and must be able to complete before the draw deadline (one voting period).
#[constant]
pub const MIN_VOTING_PERIOD_SECS: i64 = 30;
/// Longest `voting_period_secs` a market may set (3 days; a dispute lasts at most about 3 times this).
#[constant]
pub const MAX_VOTING_PERIOD_SECS: i64 = 3 * 24 * 60 * 60;
/// Domain tag of the market-terms hash a client names in `post_job`.
#[constant]
pub const TERMS_TAG: &[u8] = b"cinder-market-terms-v1";
/// Largest dispute quorum.
#[constant]
pub const MAX_QUORUM: u8 = 9;
