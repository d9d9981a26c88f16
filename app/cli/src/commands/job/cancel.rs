//! `cinder job cancel`: cancel an open job (full refund).
use anyhow::bail;
use cinder_jobs::JobStatus;
use cinder_sdk::{chain::Chain, jobs as jsdk, Pubkey};
use clap::Args;
use serde_json::json;
use solana_signer::Signer;

use crate::{
    cli::{Ctx, Output},
    commands::{market_keys, sig_out, token_account_or_ata},
};

#[derive(Debug, Args)]
pub struct CancelArgs {
    pub job: Pubkey,
    #[arg(long)]
    pub token_account: Option<Pubkey>,
}

pub async fn run(a: &CancelArgs, ctx: &Ctx, chain: &dyn Chain) -> anyhow::Result<Output> {
    let CancelArgs { job, token_account } = a;
    let me = ctx.signer()?;
    let j = crate::fetch_job(chain, job).await?;
    if j.status != JobStatus::Open {
        bail!("job {job} is {}: only open jobs can be cancelled", crate::status_name(j.status));
    }
    if j.client != me.pubkey() {
        bail!("job {job} was posted by {}, not by you ({}); pass that client's --keypair", j.client, me.pubkey());
    }
    let (k, _) = market_keys(chain, &j.market).await?;
    let client_token = token_account_or_ata(chain, *token_account, &me.pubkey(), &k.mint, &k.token_program).await?;
    let r = chain.send(&[jsdk::cancel_job(me.pubkey(), client_token, &k, j.job_id)], &me, &[]).await?;
    Ok(sig_out(
        &format!("cancelled job {job}; {} refunded", j.payment),
        &r.signature,
        json!({"job": job.to_string(), "refunded": j.payment}),
    ))
}
