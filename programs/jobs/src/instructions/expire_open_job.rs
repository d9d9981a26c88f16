//! `expire_open_job`: anyone refunds a job nobody took before its open timeout.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use cinder_escrow::program::CinderEscrow;

use super::cancel_job::refund_open_job;
use crate::{calls::EscrowCtx, constants::*, error::JobsError, events::*, state::*};

#[derive(Accounts)]
pub struct ExpireOpenJob<'info> {
    /// Anyone. Signs (pays the fee only).
    pub caller: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, ProtocolConfig>>,
    #[account(
        mut,
        seeds = [MARKET_SEED, market.model.as_ref(), market.mint.as_ref(), market.creator.as_ref()],
        bump = market.bump,
        has_one = mint,
        has_one = token_program,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
        seeds = [JOB_SEED, market.key().as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = market,
        has_one = client,
        close = client,
    )]
    pub job: Box<Account<'info, Job>>,
    /// CHECK: the job's client (checked against the job); receives the rent.
    #[account(mut)]
    pub client: UncheckedAccount<'info>,
    /// A token account owned by the client; receives the refund and any stray tokens.
    #[account(mut, token::authority = client)]
    pub client_token: InterfaceAccount<'info, TokenAccount>,
    /// CHECK: the job's escrow; checked against the job, then by the escrow program.
    #[account(mut)]
    pub escrow: UncheckedAccount<'info>,
    /// CHECK: the escrow's vault (checked by the escrow program).
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    pub mint: InterfaceAccount<'info, Mint>,
    /// CHECK: the jobs program's signing PDA.
    #[account(seeds = [JOBS_AUTHORITY_SEED], bump = config.jobs_authority_bump)]
    pub jobs_authority: UncheckedAccount<'info>,
    pub escrow_program: Program<'info, CinderEscrow>,
    pub token_program: Interface<'info, TokenInterface>,
}

/// A job nobody took (for example because its input could not be fetched or verified) expires
/// `job_timeout_secs` after posting: the client is refunded in full and the queue moves on. Nobody
/// is slashed: no provider ever held it.
pub fn expire_open_job(ctx: Context<ExpireOpenJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &mut *ctx.accounts;
    let limit = a.job.posted_at.checked_add(a.job.job_timeout_secs).ok_or(JobsError::ArithmeticOverflow)?;
    require!(now > limit, JobsError::DeadlineNotReached);
    let esc = EscrowCtx::for_job(
        a.config.jobs_authority_bump,
        &a.jobs_authority,
        &a.escrow_program,
        &a.escrow,
        &a.vault,
        &a.mint,
        &a.token_program,
    );
    let (job_key, job_id) = (a.job.key(), a.job.job_id);
    let (refunded, rent_returned) = refund_open_job(
        esc,
        &mut a.market,
        &a.job,
        job_key,
        &a.client_token.to_account_info(),
        &a.client.to_account_info(),
        a.job.to_account_info().lamports(),
    )?;
    a.market.jobs_expired += 1;
    cinder_common::emit_event!(JobExpired {
        job: job_key,
        market: a.market.key(),
        job_id,
        provider: Pubkey::default(),
        refunded,
        slashed: 0,
        client_compensation: 0,
        to_treasury: 0,
        rent_returned,
        timestamp: now,
    });
    Ok(())
}
