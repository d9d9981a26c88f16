//! `cinder list …`: markets, models, providers, the jobs of a market.
use cinder_sdk::chain::Chain;
use serde_json::Value;

use crate::{
    cli::{ListCmd, Output},
    hex,
};

pub async fn run(c: &ListCmd, chain: &dyn Chain) -> anyhow::Result<Output> {
    let (rows, text): (Vec<Value>, Vec<String>) = match c {
        ListCmd::Markets => crate::markets(chain)
            .await?
            .iter()
            .map(|(k, m)| {
                (
                    crate::market_json(k, m),
                    format!(
                        "{k} model {} mint {} price {} jobs {}",
                        &hex(&m.model_id)[..16],
                        m.mint,
                        m.params.price,
                        m.next_job_id
                    ),
                )
            })
            .unzip(),
        ListCmd::Models => crate::models(chain)
            .await?
            .iter()
            .map(|(k, m)| {
                (
                    crate::model_json(k, m),
                    format!("{} {} ({}, engine v{})", hex(&m.model_id), m.name, m.architecture, m.engine_version),
                )
            })
            .unzip(),
        ListCmd::Providers => crate::providers(chain)
            .await?
            .iter()
            .map(|(k, p)| {
                (
                    crate::provider_json(k, p),
                    format!(
                        "{} {} claimed {} completed {} slashed {}",
                        p.authority, p.endpoint, p.jobs_claimed, p.jobs_completed, p.jobs_slashed
                    ),
                )
            })
            .unzip(),
        ListCmd::Jobs { market } => {
            let (_, slots) = crate::market_jobs(chain, market).await?;
            slots
                .iter()
                .map(|s| {
                    let r = crate::JobRow::from(s);
                    let line = format!("{:>6} {} {}", r.job_id, r.job, r.status);
                    (serde_json::to_value(&r).expect("serializable"), line)
                })
                .unzip()
        }
    };
    let text = if text.is_empty() { "(none)".to_owned() } else { text.join("\n") };
    Ok(Output::ok(text, Value::Array(rows)))
}
