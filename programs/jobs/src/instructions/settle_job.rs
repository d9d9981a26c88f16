//! `settle_job` (verification program only): the result stood — payment minus fee to the
//! provider, fee to the treasury, collateral unlocked.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use super::close_job::*;
use crate::{error::JobsError, events::*, state::*};

#[derive(Accounts)]
pub struct SettleJob<'info> {
    /// The verification program's signing PDA. Signs (by CPI).
    #[account(address = close.config.verification_authority @ JobsError::NotVerificationProgram)]
    pub verification_authority: Signer<'info>,
    pub close: CloseJob<'info>,
    /// The provider's token account (owned by the job's provider); also receives stray tokens.
    #[account(mut, dup, token::authority = close.job.provider)]
    pub provider_token: Box<InterfaceAccount<'info, TokenAccount>>,
}

/// The provider's result stood: pay it, take the fee, unlock the collateral, close everything.
/// Allowed for a Submitted job after its window, or a Challenged job the verification program
/// resolved in the provider's favour (or without a quorum).
pub fn settle_job(ctx: Context<SettleJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let c = &ctx.accounts.close;
    match c.job.status {
        JobStatus::Submitted => require!(now > c.job.window_end, JobsError::ChallengeWindowOpen),
        JobStatus::Challenged => {}
        _ => return err!(JobsError::JobNotSubmitted),
    }
    let split = split_payment(c.job.payment, c.job.fee_bps);
    let esc = c.escrow()?;
    esc.release(&[
        (&ctx.accounts.provider_token.to_account_info(), split.to_provider),
        (&c.treasury_token.to_account_info(), split.fee),
    ])?;
    let provider_token = ctx.accounts.provider_token.to_account_info();
    let rent = esc.close(&c.client.to_account_info(), &provider_token)? + c.job.to_account_info().lamports();
    c.stake().unlock(c.job.collateral)?;
    let (job, job_id, provider, payment, collateral) =
        (c.job.key(), c.job.job_id, c.job.provider, c.job.payment, c.job.collateral);
    let c = &mut ctx.accounts.close;
    c.provider.jobs_completed += 1;
    c.market.jobs_finalized += 1;
    cinder_common::emit_event!(JobFinalized {
        job,
        market: c.market.key(),
        job_id,
        provider,
        payment,
        to_provider: split.to_provider,
        fee: split.fee,
        collateral_unlocked: collateral,
        rent_returned: rent,
        timestamp: now,
    });
    Ok(())
}
