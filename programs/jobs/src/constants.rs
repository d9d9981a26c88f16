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
#[constant]
pub const MAX_URI_LEN: u32 = 96;
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
/// Largest dispute quorum.
#[constant]
pub const MAX_QUORUM: u8 = 9;
