//! `mark_challenged` (verification program only): Submitted → Challenged.
use anchor_lang::prelude::*;

use super::record_result::VerificationGated;
use crate::events::*;

/// Submitted → Challenged, within the challenge window.
pub fn mark_challenged(ctx: Context<VerificationGated>, challenger: Pubkey) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let job = &mut ctx.accounts.job;
    job.mark_challenged(now)?;
    cinder_common::emit_event!(JobChallenged { job: job.key(), challenger, timestamp: now });
    Ok(())
}
