//! `cinder job …`: one file per subcommand.
pub mod cancel;
pub mod history;
pub mod post;
pub mod result;
pub mod show;
pub mod watch;

use cinder_sdk::{chain::Chain, Pubkey};

use crate::cli::{Ctx, JobCmd, Output};

pub async fn run(c: &JobCmd, ctx: &Ctx, chain: &dyn Chain) -> anyhow::Result<Output> {
    match c {
        JobCmd::Post(a) => post::run(a, ctx, chain).await,
        JobCmd::Watch(a) => watch::run(a, ctx, chain).await,
        JobCmd::Result(a) => result::run(a, ctx, chain).await,
        JobCmd::Cancel(a) => cancel::run(a, ctx, chain).await,
        JobCmd::Show(a) => show::run(a, ctx, chain).await,
        JobCmd::History(a) => history::run(a, ctx, chain).await,
    }
}

pub(crate) fn is_live(status: &str) -> bool {
    matches!(status, "open" | "claimed" | "submitted" | "challenged")
}

pub(crate) async fn chrono_now(chain: &dyn Chain) -> String {
    chain.unix_timestamp().await.map(|t| format!("t={t}")).unwrap_or_else(|_| "t=?".into())
}

/// The terminal state of a closed job from its last event (`closed` if history is unavailable).
pub(crate) async fn terminal_outcome(chain: &dyn Chain, job: &Pubkey) -> String {
    let Ok(h) = crate::job_history(chain, job).await else { return "closed".into() };
    h.iter()
        .rev()
        .find_map(|e| match e.name.as_str() {
            "JobFinalized" => Some("finalized"),
            "JobSlashed" => Some("slashed"),
            "JobExpired" => Some("expired"),
            "JobCancelled" => Some("cancelled"),
            _ => None,
        })
        .unwrap_or(if h.is_empty() { "not found" } else { "closed" })
        .to_owned()
}
