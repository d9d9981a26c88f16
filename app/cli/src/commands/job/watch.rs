//! `cinder job watch`: follow a job until it reaches a terminal state, printing status transitions.
use std::time::Duration;

use cinder_sdk::{chain::Chain, fetch, Pubkey};
use clap::Args;
use serde_json::json;

use super::{chrono_now, is_live, terminal_outcome};
use crate::cli::{Ctx, Exit, Output, OutputFormat};

#[derive(Debug, Args)]
pub struct WatchArgs {
    pub job: Pubkey,
    /// Seconds between polls.
    #[arg(long, default_value_t = 2)]
    pub interval: u64,
    /// Give up after this many seconds (0: never).
    #[arg(long, default_value_t = 0)]
    pub timeout: u64,
    /// Stop at the first change instead of a terminal state.
    #[arg(long)]
    pub until_change: bool,
}

pub async fn run(a: &WatchArgs, ctx: &Ctx, chain: &dyn Chain) -> anyhow::Result<Output> {
    let WatchArgs { job, interval, timeout, until_change } = a;
    let start = std::time::Instant::now();
    let mut last: Option<String> = None;
    let mut transitions = Vec::new();
    loop {
        let status = match fetch::<cinder_jobs::Job>(chain, job).await? {
            Some(j) => crate::status_name(j.status).to_owned(),
            None => terminal_outcome(chain, job).await,
        };
        if last.as_deref() != Some(status.as_str()) {
            let line = format!("{}: {status}", chrono_now(chain).await);
            if ctx.output == OutputFormat::Text {
                println!("{line}");
            }
            let changed = last.is_some();
            transitions.push(json!(status));
            last = Some(status.clone());
            if (changed && *until_change) || !is_live(&status) {
                break;
            }
        }
        if *timeout > 0 && start.elapsed() >= Duration::from_secs(*timeout) {
            let out = json!({"job": job.to_string(), "transitions": transitions, "final": false});
            return Ok(Output { text: String::new(), json: out, code: Exit::WatchTimedOut });
        }
        tokio::time::sleep(Duration::from_secs((*interval).max(1))).await;
    }
    let final_status = last.unwrap_or_default();
    Ok(Output::ok(
        String::new(),
        json!({"job": job.to_string(), "transitions": transitions, "status": final_status, "final": !is_live(&final_status)}),
    ))
}
