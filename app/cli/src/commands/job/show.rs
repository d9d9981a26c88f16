//! `cinder job show`: show a job's account.
use cinder_sdk::{chain::Chain, Pubkey};
use clap::Args;

use crate::{
    cli::{Ctx, Output},
    commands::pretty_fields,
};

#[derive(Debug, Args)]
pub struct ShowArgs {
    pub job: Pubkey,
}

pub async fn run(a: &ShowArgs, _ctx: &Ctx, chain: &dyn Chain) -> anyhow::Result<Output> {
    let ShowArgs { job } = a;
    let j = crate::fetch_job(chain, job).await?;
    let v = crate::job_json(job, &j);
    Ok(Output::ok(pretty_fields(&v), v))
}
