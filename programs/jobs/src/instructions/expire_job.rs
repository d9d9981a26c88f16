//! `expire_job` (anyone, after the deadline, no result): client refunded in full, collateral
//! slashed (a market-set share to the client, the rest accrues to the pool treasury).
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use super::close_job::*;
use crate::{error::JobsError, events::*, state::*};

#[derive(Accounts)]
pub struct ExpireJob<'info> {
    /// Anyone may expire a job after its deadline. Signs (pays the fee only).
    pub caller: Signer<'info>,
    pub close: CloseJob<'info>,
    /// The client's token account: receives the refund and the compensation.
    #[account(mut, dup, token::authority = close.job.client)]
    pub client_token: Box<InterfaceAccount<'info, TokenAccount>>,
}

/// No result by the deadline (the deadline second itself still accepts a result).
pub fn expire_job(ctx: Context<ExpireJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let c = &ctx.accounts.close;
    require!(c.job.status == JobStatus::Claimed, JobsError::JobNotClaimed);
    require!(now > c.job.deadline, JobsError::DeadlineNotReached);
    let bps = c.job.timeout_client_bps;
    let ct = ctx.accounts.client_token.to_account_info();
    let (refunded, slashed, compensation, to_treasury, rent) = c.refund_and_slash(&ct, &ct, bps)?;
    let (job, job_id, provider) = (c.job.key(), c.job.job_id, c.job.provider);
    let c = &mut ctx.accounts.close;
    c.provider.jobs_failed += 1;
    c.market.jobs_expired += 1;
    cinder_common::emit_event!(JobExpired {
        job,
        market: c.market.key(),
        job_id,
        provider,
        refunded,
        slashed,
        client_compensation: compensation,
        to_treasury,
        rent_returned: rent,
        timestamp: now,
    });
    Ok(())
}
