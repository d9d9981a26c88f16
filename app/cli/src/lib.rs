//! The `cinder` command-line tool as a library: chain discovery and listings, the conservation
//! audit, job history from events, the Solana CLI config loader and the local content-addressed
//! store. The binary (`src/main.rs`) is a thin clap layer over this; the demo and the tests call
//! these functions directly.
//!
//! Discovery of markets, models, providers, pools, stakers and open jobs asks the node's index
//! first (`getProgramAccounts`, filtered by the account's discriminator and, for jobs, its
//! market); where the node does not offer it ([`ChainError::Unsupported`]: many public nodes
//! disable it, and the in-process chain has no index) it falls back to the programs' events
//! (`signatures_for_address(program)` → `transaction_logs` → decode) and to derivation (a
//! market's `next_job_id`, a verifier set's `count`). Both paths give the same answer; the
//! `*_by_history` functions force the second.

pub mod audit;
pub mod cli;
pub mod commands;
pub mod config;
pub mod history;
pub mod store;

use std::collections::BTreeSet;

use anyhow::Context as _;
use cinder_jobs::{Job, JobStatus, Market, Model, Provider};
use cinder_sdk::{
    chain::{AccountFilter, Chain},
    events, fetch, jobs as jsdk, Pubkey,
};
use cinder_staking::{ProviderStake, StakePool};
use serde::Serialize;
use serde_json::{json, Value};

pub use audit::{audit, AuditReport, MintAudit};
pub use history::{job_history, HistoryEntry};

pub use cinder_sdk::util::{hex, token_amount};

/// [`cinder_sdk::util::parse_hex32`] as an `anyhow` error (for command arguments).
pub fn parse_hex32(s: &str) -> anyhow::Result<[u8; 32]> {
    cinder_sdk::util::parse_hex32(s).map_err(anyhow::Error::msg)
}

/// Serializes a `Pubkey` as its base58 string.
pub fn ser_pubkey<S: serde::Serializer>(k: &Pubkey, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&k.to_string())
}

/// Logs of every transaction that touched `key`, oldest first (transactions the node no longer
/// has are skipped).
pub async fn logs_touching(chain: &dyn Chain, key: &Pubkey) -> anyhow::Result<Vec<(String, Vec<String>)>> {
    let sigs = chain
        .signatures_for_address(key)
        .await
        .with_context(|| format!("listing the transactions of {key} (does the RPC node keep transaction history?)"))?;
    let mut out = Vec::with_capacity(sigs.len());
    for sig in sigs {
        if let Some(logs) = chain.transaction_logs(&sig).await.with_context(|| format!("reading transaction {sig}"))? {
            out.push((sig, logs));
        }
    }
    Ok(out)
}

/// Every event of type `E` emitted by transactions that touched `program`, oldest first.
pub async fn events_of<E: events::ProgramEvent>(chain: &dyn Chain, program: &Pubkey) -> anyhow::Result<Vec<E>> {
    Ok(logs_touching(chain, program).await?.iter().flat_map(|(_, logs)| events::decode::<E>(logs)).collect())
}

/// [`cinder_sdk::fetch_all_of`] with the error in context: every account of type `T` the node's
/// index holds, sorted by key; `None` where the node has no index.
pub async fn discover<T>(chain: &dyn Chain, extra: &[AccountFilter]) -> anyhow::Result<Option<Vec<(Pubkey, T)>>>
where
    T: anchor_lang::AccountDeserialize + anchor_lang::Owner + anchor_lang::Discriminator,
{
    cinder_sdk::fetch_all_of::<T>(chain, extra).await.context("getProgramAccounts")
}

/// Markets: from the index, else from `MarketCreated` events (those that still exist).
pub async fn markets(chain: &dyn Chain) -> anyhow::Result<Vec<(Pubkey, Market)>> {
    match discover::<Market>(chain, &[]).await? {
        Some(v) => Ok(v),
        None => markets_by_history(chain).await,
    }
}

pub async fn markets_by_history(chain: &dyn Chain) -> anyhow::Result<Vec<(Pubkey, Market)>> {
    let keys: BTreeSet<Pubkey> =
        events_of::<cinder_jobs::MarketCreated>(chain, &cinder_jobs::ID).await?.into_iter().map(|e| e.market).collect();
    fetch_all(chain, keys).await
}

/// Models: from the index, else from `ModelRegistered` events.
pub async fn models(chain: &dyn Chain) -> anyhow::Result<Vec<(Pubkey, Model)>> {
    match discover::<Model>(chain, &[]).await? {
        Some(v) => Ok(v),
        None => models_by_history(chain).await,
    }
}

pub async fn models_by_history(chain: &dyn Chain) -> anyhow::Result<Vec<(Pubkey, Model)>> {
    let keys: BTreeSet<Pubkey> = events_of::<cinder_jobs::ModelRegistered>(chain, &cinder_jobs::ID)
        .await?
        .into_iter()
        .map(|e| e.model)
        .collect();
    fetch_all(chain, keys).await
}

/// Providers: from the index, else from `ProviderRegistered` events.
pub async fn providers(chain: &dyn Chain) -> anyhow::Result<Vec<(Pubkey, Provider)>> {
    match discover::<Provider>(chain, &[]).await? {
        Some(v) => Ok(v),
        None => providers_by_history(chain).await,
    }
}

pub async fn providers_by_history(chain: &dyn Chain) -> anyhow::Result<Vec<(Pubkey, Provider)>> {
    let keys: BTreeSet<Pubkey> = events_of::<cinder_jobs::ProviderRegistered>(chain, &cinder_jobs::ID)
        .await?
        .into_iter()
        .map(|e| e.provider)
        .collect();
    fetch_all(chain, keys).await
}

/// Stake pools: from the index, else from `PoolInitialized` events.
pub async fn pools(chain: &dyn Chain) -> anyhow::Result<Vec<(Pubkey, StakePool)>> {
    match discover::<StakePool>(chain, &[]).await? {
        Some(v) => Ok(v),
        None => pools_by_history(chain).await,
    }
}

pub async fn pools_by_history(chain: &dyn Chain) -> anyhow::Result<Vec<(Pubkey, StakePool)>> {
    let keys: BTreeSet<Pubkey> = events_of::<cinder_staking::PoolInitialized>(chain, &cinder_staking::ID)
        .await?
        .into_iter()
        .map(|e| e.pool)
        .collect();
    fetch_all(chain, keys).await
}

/// (pool, owner) of the stake accounts: from the index (those that exist), else of every stake
/// account that ever received a deposit (`StakeDeposited`). A closed stake account holds
/// nothing, so both serve the audit alike.
pub async fn stakers(chain: &dyn Chain) -> anyhow::Result<BTreeSet<(Pubkey, Pubkey)>> {
    match discover::<ProviderStake>(chain, &[]).await? {
        Some(v) => Ok(v.into_iter().map(|(_, s)| (s.pool, s.owner)).collect()),
        None => stakers_by_history(chain).await,
    }
}

pub async fn stakers_by_history(chain: &dyn Chain) -> anyhow::Result<BTreeSet<(Pubkey, Pubkey)>> {
    Ok(events_of::<cinder_staking::StakeDeposited>(chain, &cinder_staking::ID)
        .await?
        .into_iter()
        .map(|e| (e.pool, e.owner))
        .collect())
}

async fn fetch_all<T: anchor_lang::AccountDeserialize + anchor_lang::Owner>(
    chain: &dyn Chain,
    keys: impl IntoIterator<Item = Pubkey>,
) -> anyhow::Result<Vec<(Pubkey, T)>> {
    let mut out = Vec::new();
    for k in keys {
        if let Some(v) = fetch::<T>(chain, &k).await? {
            out.push((k, v));
        }
    }
    Ok(out)
}

/// One job slot of a market: `job` is `None` once the job reached a terminal state (its account
/// is closed then).
pub struct JobSlot {
    pub id: u64,
    pub key: Pubkey,
    pub job: Option<Job>,
}

/// Every job id of a market (0..next_job_id) with its account, if still open. The open ones come
/// from the index in one request (jobs whose `market` is this one) where the node has it, else
/// from reading every job address the counter derives.
pub async fn market_jobs(chain: &dyn Chain, market: &Pubkey) -> anyhow::Result<(Market, Vec<JobSlot>)> {
    let m = fetch_market(chain, market).await?;
    let by_market = [AccountFilter::Memcmp { offset: jsdk::JOB_MARKET_OFFSET, bytes: market.to_bytes().to_vec() }];
    if let Some(open) = discover::<Job>(chain, &by_market).await? {
        let mut open: std::collections::BTreeMap<Pubkey, Job> =
            open.into_iter().filter(|(_, j)| j.market == *market).collect();
        let slots = (0..m.next_job_id)
            .map(|id| {
                let key = jsdk::job_pda(market, id);
                let job = open.remove(&key).filter(|j| j.job_id == id);
                JobSlot { id, key, job }
            })
            .collect();
        return Ok((m, slots));
    }
    let slots = jobs_by_derivation(chain, market, &m).await?;
    Ok((m, slots))
}

/// [`market_jobs`] without the index: every job address the counter derives, 100 per request.
pub async fn market_jobs_by_derivation(chain: &dyn Chain, market: &Pubkey) -> anyhow::Result<(Market, Vec<JobSlot>)> {
    let m = fetch_market(chain, market).await?;
    let slots = jobs_by_derivation(chain, market, &m).await?;
    Ok((m, slots))
}

async fn jobs_by_derivation(chain: &dyn Chain, market: &Pubkey, m: &Market) -> anyhow::Result<Vec<JobSlot>> {
    let keys: Vec<Pubkey> = (0..m.next_job_id).map(|id| jsdk::job_pda(market, id)).collect();
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(100) {
        let accounts = chain.get_multiple_accounts(chunk).await?;
        for (key, a) in chunk.iter().zip(accounts) {
            let job = a.filter(|a| a.owner == cinder_jobs::ID).and_then(|a| cinder_sdk::decode::<Job>(&a.data));
            out.push(JobSlot { id: out.len() as u64, key: *key, job });
        }
    }
    Ok(out)
}

pub async fn fetch_market(chain: &dyn Chain, market: &Pubkey) -> anyhow::Result<Market> {
    fetch::<Market>(chain, market)
        .await?
        .with_context(|| format!("no market at {market} (list markets with `cinder list markets`)"))
}

/// One job; errors if it does not exist (never posted, or closed after reaching a terminal state).
pub async fn fetch_job(chain: &dyn Chain, job: &Pubkey) -> anyhow::Result<Job> {
    fetch::<Job>(chain, job).await?.with_context(|| {
        format!("no open job at {job}: it was never posted, or it reached a terminal state and was closed (see `cinder job history {job}`)")
    })
}

pub fn status_name(s: JobStatus) -> &'static str {
    match s {
        JobStatus::Open => "open",
        JobStatus::Claimed => "claimed",
        JobStatus::Submitted => "submitted",
        JobStatus::Challenged => "challenged",
    }
}

/// A job as JSON.
pub fn job_json(key: &Pubkey, j: &Job) -> Value {
    json!({
        "job": key.to_string(),
        "market": j.market.to_string(),
        "job_id": j.job_id,
        "client": j.client.to_string(),
        "designated": j.designated.map(|d| d.to_string()),
        "provider": (j.status != JobStatus::Open).then(|| j.provider.to_string()),
        "status": status_name(j.status),
        "payment": j.payment,
        "fee_bps": j.fee_bps,
        "collateral": j.collateral,
        "input_hash": hex(&j.input_hash),
        "input_uri": j.input_uri,
        "params": params_json(&j.params),
        "posted_at": j.posted_at,
        "claimed_at": j.claimed_at,
        "deadline": j.deadline,
        "submitted_at": j.submitted_at,
        "window_end": j.window_end,
        "commitment": hex(&j.commitment),
        "output_hash": hex(&j.output_hash),
        "output_uri": j.output_uri,
    })
}

pub fn params_json(p: &cinder_jobs::InferenceParams) -> Value {
    json!({
        "max_tokens": p.max_tokens,
        "temperature": f32::from_bits(p.temperature_bits),
        "top_k": p.top_k,
        "top_p": f32::from_bits(p.top_p_bits),
        "seed": p.seed,
        "dtype": p.dtype,
    })
}

pub fn market_params_json(p: &cinder_jobs::MarketParams) -> Value {
    json!({
        "price": p.price,
        "job_timeout_secs": p.job_timeout_secs,
        "challenge_window_secs": p.challenge_window_secs,
        "collateral": p.collateral,
        "min_stake": p.min_stake,
        "challenge_bond": p.challenge_bond,
        "challenger_reward_bps": p.challenger_reward_bps,
        "timeout_client_bps": p.timeout_client_bps,
        "quorum": p.quorum,
        "voting_period_secs": p.voting_period_secs,
        "vote_penalty": p.vote_penalty,
    })
}

pub fn market_json(key: &Pubkey, m: &Market) -> Value {
    json!({
        "market": key.to_string(),
        "creator": m.creator.to_string(),
        "model": m.model.to_string(),
        "model_id": hex(&m.model_id),
        "mint": m.mint.to_string(),
        "token_program": m.token_program.to_string(),
        "pool": m.pool.to_string(),
        "treasury_token": m.treasury_token.to_string(),
        "params": market_params_json(&m.params),
        "next_job_id": m.next_job_id,
        "queue_head": m.queue_head,
        "jobs_finalized": m.jobs_finalized,
        "jobs_slashed": m.jobs_slashed,
        "jobs_expired": m.jobs_expired,
        "jobs_cancelled": m.jobs_cancelled,
    })
}

pub fn model_json(key: &Pubkey, m: &Model) -> Value {
    json!({
        "model": key.to_string(),
        "model_id": hex(&m.model_id),
        "name": m.name,
        "architecture": m.architecture,
        "engine_version": m.engine_version,
        "registered_by": m.registered_by.to_string(),
    })
}

pub fn provider_json(key: &Pubkey, p: &Provider) -> Value {
    json!({
        "provider": key.to_string(),
        "authority": p.authority.to_string(),
        "endpoint": p.endpoint,
        "models": p.models.iter().map(|m| hex(m)).collect::<Vec<_>>(),
        "jobs_claimed": p.jobs_claimed,
        "jobs_completed": p.jobs_completed,
        "jobs_failed": p.jobs_failed,
        "jobs_slashed": p.jobs_slashed,
        "registered_at": p.registered_at,
    })
}

pub fn stake_json(key: &Pubkey, s: &ProviderStake) -> Value {
    json!({
        "stake": key.to_string(),
        "pool": s.pool.to_string(),
        "owner": s.owner.to_string(),
        "active": s.active,
        "locked": s.locked,
        "free": s.active - s.locked,
        "pending": s.pending,
        "unlock_at": s.unlock_at,
        "total_deposited": s.total_deposited,
        "total_withdrawn": s.total_withdrawn,
        "total_slashed": s.total_slashed,
    })
}

/// A job slot as a listing row.
#[derive(Clone, Debug, Serialize)]
pub struct JobRow {
    pub job_id: u64,
    pub job: String,
    /// open / claimed / submitted / challenged, or "closed" once terminal.
    pub status: String,
    pub payment: Option<u64>,
    pub provider: Option<String>,
}

impl From<&JobSlot> for JobRow {
    fn from(s: &JobSlot) -> Self {
        JobRow {
            job_id: s.id,
            job: s.key.to_string(),
            status: s.job.as_ref().map(|j| status_name(j.status)).unwrap_or("closed").to_owned(),
            payment: s.job.as_ref().map(|j| j.payment),
            provider: s.job.as_ref().filter(|j| j.status != JobStatus::Open).map(|j| j.provider.to_string()),
        }
    }
}
