//! `cancel_job`: the client takes back a job nobody has claimed (full refund).
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use cinder_escrow::program::CinderEscrow;

use crate::{calls::EscrowCtx, constants::*, error::JobsError, events::*, state::*};

#[derive(Accounts)]
pub struct CancelJob<'info> {
    /// The client. Signs; receives the refund and the rent.
    #[account(mut)]
    pub client: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, ProtocolConfig>>,
    #[account(
        mut,
        seeds = [MARKET_SEED, market.model.as_ref(), market.mint.as_ref(), market.creator.as_ref()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
        seeds = [JOB_SEED, market.key().as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = market,
        has_one = client @ JobsError::NotClient,
        close = client,
    )]
    pub job: Box<Account<'info, Job>>,
    /// Any token account of the mint owned by the client (the escrow program checks it); also
    /// receives stray tokens found in the vault.
    #[account(mut, token::authority = client)]
    pub client_token: InterfaceAccount<'info, TokenAccount>,
    /// CHECK: the job's escrow; the escrow program checks it against the controller and seed.
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

/// Refunds an Open job in full through `esc`, closes the escrow (rent to the client) and advances
/// the queue head past the job. The caller closes the job account. Returns (refunded, rent
/// returned: escrow, vault and job account).
pub(crate) fn refund_open_job<'info>(
    esc: EscrowCtx<'info>,
    market: &mut Market,
    job: &Job,
    job_key: Pubkey,
    client_token: &AccountInfo<'info>,
    client: &AccountInfo<'info>,
    job_lamports: u64,
) -> Result<(u64, u64)> {
    require!(job.status == JobStatus::Open, JobsError::JobNotOpen);
    crate::check_job_escrow(&esc.escrow.key(), &job_key)?;
    esc.refund(client_token)?;
    let rent = esc.close(client, client_token)?;
    if market.queue_head == job.job_id {
        market.queue_head += 1;
    }
    Ok((job.payment, rent.checked_add(job_lamports).ok_or(JobsError::ArithmeticOverflow)?))
}

/// Only before a provider has taken the job: refund in full, close everything.
pub fn cancel_job(ctx: Context<CancelJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &mut *ctx.accounts;
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
    a.market.jobs_cancelled += 1;
    cinder_common::emit_event!(JobCancelled {
        job: job_key,
        market: a.market.key(),
        job_id,
        client: a.client.key(),
        refunded,
        rent_returned,
        timestamp: now,
    });
    Ok(())
}
