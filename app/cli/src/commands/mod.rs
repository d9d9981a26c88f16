//! The commands of `cinder`, one module per command (`job` one file per subcommand), over any
//! [`Chain`]. Each returns an [`Output`]: text, one JSON value, and the exit status.
pub mod admin;
pub mod audit;
pub mod job;
pub mod list;
pub mod provider;
pub mod stake;
pub mod verifier;

use std::path::Path;

use anyhow::{bail, Context as _};
use cinder_sdk::{chain::Chain, fetch, jobs::MarketKeys, staking::PoolKeys, Pubkey};
use cinder_staking::StakePool;
use serde_json::{json, Value};

use crate::cli::Output;

pub(crate) fn ata(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    anchor_spl::associated_token::get_associated_token_address_with_program_id(owner, mint, token_program)
}

pub(crate) async fn market_keys(
    chain: &dyn Chain,
    market: &Pubkey,
) -> anyhow::Result<(MarketKeys, cinder_jobs::Market)> {
    let m = crate::fetch_market(chain, market).await?;
    Ok((MarketKeys::from_market(*market, &m), m))
}

pub(crate) async fn pool_keys(chain: &dyn Chain, pool: &Pubkey) -> anyhow::Result<(PoolKeys, StakePool)> {
    let p = fetch::<StakePool>(chain, pool)
        .await?
        .with_context(|| format!("no stake pool at {pool} (a market's pool is in `cinder list markets`)"))?;
    Ok((PoolKeys { creator: p.creator, mint: p.mint, token_program: p.token_program, pool: *pool, vault: p.vault }, p))
}

pub(crate) async fn token_account_or_ata(
    chain: &dyn Chain,
    given: Option<Pubkey>,
    owner: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
) -> anyhow::Result<Pubkey> {
    if let Some(t) = given {
        return Ok(t);
    }
    let a = ata(owner, mint, token_program);
    if chain.get_account(&a).await?.is_none() {
        bail!(
            "you ({owner}) have no associated token account of mint {mint}; create one (`spl-token create-account {mint}`) or pass --token-account"
        );
    }
    Ok(a)
}

pub(crate) fn sig_out(what: &str, sig: &str, mut extra: Value) -> Output {
    extra["signature"] = json!(sig);
    Output::ok(format!("{what}\nsignature: {sig}"), extra)
}

pub fn model_id_of_dir(dir: &Path) -> anyhow::Result<[u8; 32]> {
    cinder_inference::model_id_of_dir(dir)
        .map_err(|e| anyhow::anyhow!("computing the model id of {}: {e}", dir.display()))
}

pub(crate) fn pretty_fields(v: &Value) -> String {
    match v {
        Value::Object(m) => m.iter().map(|(k, v)| format!("{k}: {}", one_line(v))).collect::<Vec<_>>().join("\n"),
        other => other.to_string(),
    }
}

fn one_line(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}
