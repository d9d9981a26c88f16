//! `record_result` (verification program only): Claimed → Submitted.
use anchor_lang::prelude::*;

use crate::{constants::*, error::JobsError, events::*, state::*};

#[derive(Accounts)]
pub struct VerificationGated<'info> {
    /// The verification program's signing PDA. Signs (by CPI).
    #[account(address = config.verification_authority @ JobsError::NotVerificationProgram)]
    pub verification_authority: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, ProtocolConfig>>,
    #[account(mut, seeds = [JOB_SEED, job.market.as_ref(), &job.job_id.to_le_bytes()], bump = job.bump)]
    pub job: Box<Account<'info, Job>>,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct RecordResultArgs {
    pub provider: Pubkey,
    pub commitment: [u8; 32],
    pub output_hash: [u8; 32],
    pub output_uri: String,
}

/// Claimed → Submitted, by the assigned provider, at or before the deadline.
pub fn record_result(ctx: Context<VerificationGated>, args: RecordResultArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    require!(args.output_uri.len() <= MAX_URI_LEN as usize, JobsError::StringTooLong);
    let job = &mut ctx.accounts.job;
    require_keys_eq!(job.provider, args.provider, JobsError::NotJobProvider);
    require!(job.status == JobStatus::Claimed, JobsError::JobNotClaimed);
    require!(now <= job.deadline, JobsError::ResultDeadlinePassed);
    job.record_result(args.commitment, args.output_hash, args.output_uri.clone(), now)?;
    cinder_common::emit_event!(ResultRecorded {
        job: job.key(),
        provider: job.provider,
        commitment: args.commitment,
        output_hash: args.output_hash,
        output_uri: args.output_uri,
        window_end: job.window_end,
        timestamp: now,
    });
    Ok(())
}
