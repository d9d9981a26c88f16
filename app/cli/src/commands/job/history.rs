//! `cinder job history`: every event of a job, oldest first.
use anyhow::bail;
use cinder_sdk::{chain::Chain, Pubkey};
use clap::Args;

use crate::cli::{Ctx, Output};

#[derive(Debug, Args)]
pub struct HistoryArgs {
    pub job: Pubkey,
}

pub async fn run(a: &HistoryArgs, _ctx: &Ctx, chain: &dyn Chain) -> anyhow::Result<Output> {
    let HistoryArgs { job } = a;
    let h = crate::job_history(chain, job).await?;
    if h.is_empty() {
        bail!("no events found for job {job} (wrong key, or the RPC node no longer has its transactions)");
    }
    let text = h
        .iter()
        .map(|e| format!("{} {} {}", &e.signature[..8.min(e.signature.len())], e.name, e.fields))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Output::ok(text, serde_json::to_value(&h)?))
}
