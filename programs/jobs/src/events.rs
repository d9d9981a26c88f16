use anchor_lang::prelude::*;

use crate::state::{InferenceParams, MarketParams};

#[event]
pub struct ConfigInitialized {
    pub admin: Pubkey,
    pub treasury: Pubkey,
    pub protocol_fee_bps: u16,
    pub stake_pool_creator: Pubkey,
    pub verification_program: Pubkey,
}

#[event]
pub struct ConfigUpdated {
    pub admin: Pubkey,
    pub treasury: Pubkey,
    pub protocol_fee_bps: u16,
    pub paused: bool,
}

#[event]
pub struct ModelRegistered {
    pub model: Pubkey,
    pub model_id: [u8; 32],
    pub name: String,
    pub architecture: String,
    pub engine_version: u32,
}

#[event]
pub struct MarketCreated {
    pub market: Pubkey,
    pub creator: Pubkey,
    pub model_id: [u8; 32],
    pub mint: Pubkey,
    pub params: MarketParams,
}

#[event]
pub struct MarketUpdated {
    pub market: Pubkey,
    pub old_params: MarketParams,
    pub new_params: MarketParams,
}

#[event]
pub struct ProviderRegistered {
    pub provider: Pubkey,
    pub authority: Pubkey,
    pub endpoint: String,
    pub models: Vec<[u8; 32]>,
}

#[event]
pub struct JobPosted {
    pub job: Pubkey,
    pub market: Pubkey,
    pub job_id: u64,
    pub client: Pubkey,
    pub designated: Option<Pubkey>,
    pub payment: u64,
    pub fee_bps: u16,
    pub input_hash: [u8; 32],
    pub input_uri: String,
    pub params: InferenceParams,
    pub timestamp: i64,
}

/// The input of a job posted with `post_job_inline`, in the same transaction as its
/// `JobPosted`: anyone can read it from the chain (inline inputs are public).
#[event]
pub struct JobInputInline {
    pub job: Pubkey,
    pub input_hash: [u8; 32],
    pub input: Vec<u8>,
}

#[event]
pub struct JobCancelled {
    pub job: Pubkey,
    pub market: Pubkey,
    pub job_id: u64,
    pub client: Pubkey,
    pub refunded: u64,
    /// Lamports returned to the client (job, escrow and vault accounts).
    pub rent_returned: u64,
    pub timestamp: i64,
}

#[event]
pub struct JobClaimed {
    pub job: Pubkey,
    pub market: Pubkey,
    pub job_id: u64,
    pub provider: Pubkey,
    pub collateral: u64,
    pub deadline: i64,
    /// Queue slots skipped by this claim (dead: cancelled, designated or taken).
    pub skipped: u8,
    pub queue_head: u64,
    pub timestamp: i64,
}

#[event]
pub struct ResultRecorded {
    pub job: Pubkey,
    pub provider: Pubkey,
    pub commitment: [u8; 32],
    pub output_hash: [u8; 32],
    pub output_uri: String,
    pub window_end: i64,
    pub timestamp: i64,
}

#[event]
pub struct JobChallenged {
    pub job: Pubkey,
    pub challenger: Pubkey,
    pub timestamp: i64,
}

/// Paid: the provider's result stood (no challenge, challenge lost, or no quorum).
#[event]
pub struct JobFinalized {
    pub job: Pubkey,
    pub market: Pubkey,
    pub job_id: u64,
    pub provider: Pubkey,
    pub payment: u64,
    pub to_provider: u64,
    pub fee: u64,
    pub collateral_unlocked: u64,
    pub rent_returned: u64,
    pub timestamp: i64,
}

/// The provider's result was judged wrong: client refunded, provider slashed.
#[event]
pub struct JobSlashed {
    pub job: Pubkey,
    pub market: Pubkey,
    pub job_id: u64,
    pub provider: Pubkey,
    pub refunded: u64,
    pub slashed: u64,
    pub challenger_reward: u64,
    pub to_treasury: u64,
    pub rent_returned: u64,
    pub timestamp: i64,
}

/// No result by the deadline: client refunded in full, provider slashed.
#[event]
pub struct JobExpired {
    pub job: Pubkey,
    pub market: Pubkey,
    pub job_id: u64,
    pub provider: Pubkey,
    pub refunded: u64,
    pub slashed: u64,
    pub client_compensation: u64,
    pub to_treasury: u64,
    pub rent_returned: u64,
    pub timestamp: i64,
}

/// The queue head moved past dead slots (`advance_queue`): `from..to` were all dead.
#[event]
pub struct QueueAdvanced {
    pub market: Pubkey,
    pub caller: Pubkey,
    pub from: u64,
    pub to: u64,
    pub timestamp: i64,
}
