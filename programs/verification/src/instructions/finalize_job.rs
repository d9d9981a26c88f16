//! `finalize_job`: anyone pays the provider after an unchallenged window.
use anchor_lang::prelude::*;
use cinder_jobs::JobStatus;

use super::accounts::*;
use crate::error::VerificationError;

#[derive(Accounts)]
pub struct FinalizeJob<'info> {
    /// Anyone may finalize after the window. Signs (pays the fee only).
    pub caller: Signer<'info>,
    pub job_accounts: JobAccounts<'info>,
    /// CHECK: the provider's token account (jobs checks it is owned by the job's provider).
    #[account(mut)]
    pub provider_token: UncheckedAccount<'info>,
}

/// After the challenge window with no challenge: pay the provider (the jobs program emits
/// JobFinalized).
pub fn finalize_job(ctx: Context<FinalizeJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let j = &ctx.accounts.job_accounts;
    require!(j.job.status == JobStatus::Submitted, VerificationError::JobNotSubmitted);
    require!(now > j.job.window_end, VerificationError::ChallengeWindowOpen);
    j.settle(&ctx.accounts.provider_token.to_account_info(), ctx.bumps.job_accounts.verification_authority)
}
