//! `submit_result`: the assigned provider posts its result commitment; the challenge window starts.
use anchor_lang::prelude::*;
use cinder_jobs::{program::CinderJobs, Job, JobStatus};

use crate::{constants::*, error::VerificationError};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct SubmitResultArgs {
    /// The result commitment (docs/COMMITMENT.md §2).
    pub commitment: [u8; 32],
    /// The output's content hash (docs/COMMITMENT.md §3).
    pub output_hash: [u8; 32],
    pub output_uri: String,
}

#[derive(Accounts)]
pub struct SubmitResult<'info> {
    /// The provider assigned to the job. Signs.
    pub provider: Signer<'info>,
    /// CHECK: jobs' protocol config (validated by the jobs program).
    pub config: UncheckedAccount<'info>,
    #[account(mut)]
    pub job: Box<Account<'info, Job>>,
    /// CHECK: this program's signing PDA.
    #[account(seeds = [VERIFICATION_AUTHORITY_SEED], bump)]
    pub verification_authority: UncheckedAccount<'info>,
    pub jobs_program: Program<'info, CinderJobs>,
}

/// Only the assigned provider, at or before the deadline; starts the challenge window.
pub fn submit_result(ctx: Context<SubmitResult>, args: SubmitResultArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    require!(a.job.status == JobStatus::Claimed, VerificationError::JobNotClaimed);
    require_keys_eq!(a.job.provider, a.provider.key(), VerificationError::NotAssignedProvider);
    require!(now <= a.job.deadline, VerificationError::DeadlinePassed);
    let seeds: &[&[u8]] = &[VERIFICATION_AUTHORITY_SEED, &[ctx.bumps.verification_authority]];
    // The jobs program emits ResultRecorded for this transition.
    cinder_jobs::cpi::record_result(
        CpiContext::new_with_signer(
            a.jobs_program.key(),
            cinder_jobs::cpi::accounts::VerificationGated {
                verification_authority: a.verification_authority.to_account_info(),
                config: a.config.to_account_info(),
                job: a.job.to_account_info(),
            },
            &[seeds],
        ),
        cinder_jobs::instructions::RecordResultArgs {
            provider: a.provider.key(),
            commitment: args.commitment,
            output_hash: args.output_hash,
            output_uri: args.output_uri,
        },
    )
}
