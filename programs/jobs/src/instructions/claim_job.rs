//! `claim_job`: a provider takes the oldest open job of a market, or a job designated to it.
//!
//! The queue is the market's job-id counter plus a head pointer: no account grows with the number
//! of queued jobs. Dead slots at the head (cancelled and closed, designated to someone, already
//! taken) are skipped by passing them as remaining accounts, at most `MAX_QUEUE_SKIP` per claim,
//! so the cost of a claim is bounded and the same at any queue length.
use anchor_lang::prelude::*;
use cinder_staking::{program::CinderStaking, ProviderStake, StakePool, STAKE_SEED};

use crate::{calls::StakeCtx, constants::*, error::JobsError, events::*, state::*};

#[derive(Accounts)]
pub struct ClaimJob<'info> {
    /// The provider's key. Signs.
    pub authority: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, ProtocolConfig>>,
    #[account(
        mut,
        seeds = [MARKET_SEED, market.model.as_ref(), market.mint.as_ref(), market.creator.as_ref()],
        bump = market.bump,
        has_one = pool,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
        seeds = [JOB_SEED, market.key().as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = market,
    )]
    pub job: Box<Account<'info, Job>>,
    #[account(mut, seeds = [PROVIDER_SEED, authority.key().as_ref()], bump = provider.bump, has_one = authority)]
    pub provider: Box<Account<'info, Provider>>,
    #[account(mut)]
    pub pool: Box<Account<'info, StakePool>>,
    #[account(
        mut,
        seeds = [STAKE_SEED, pool.key().as_ref(), authority.key().as_ref()],
        seeds::program = cinder_staking::ID,
        bump = stake.bump,
    )]
    pub stake: Box<Account<'info, ProviderStake>>,
    /// CHECK: the jobs program's signing PDA (a pool authority).
    #[account(seeds = [JOBS_AUTHORITY_SEED], bump = config.jobs_authority_bump)]
    pub jobs_authority: UncheckedAccount<'info>,
    pub staking_program: Program<'info, CinderStaking>,
    // remaining_accounts: the dead queue slots head, head+1, … to skip (job PDAs, possibly closed).
}

impl ClaimJob<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(!self.config.paused, JobsError::Paused);
        require!(self.job.status == JobStatus::Open, JobsError::JobNotOpen);
        require!(self.provider.models.contains(&self.market.model_id), JobsError::ModelNotServed);
        require!(self.stake.active >= self.market.params.min_stake, JobsError::InsufficientStake);
        if let Some(d) = self.job.designated {
            require_keys_eq!(d, self.authority.key(), JobsError::DesignatedToAnotherProvider);
        }
        Ok(())
    }
}

/// Whether queue slot `id` (below the market's `next_job_id`) can be skipped: its job account is
/// closed, or not open, or designated.
pub(crate) fn slot_is_dead(info: &AccountInfo, market: &Market, market_key: &Pubkey, id: u64) -> Result<bool> {
    // A slot at or past the counter holds no job yet: skipping it would lose a future job.
    require!(id < market.next_job_id, JobsError::NothingToAdvance);
    let (expected, _) = Pubkey::find_program_address(&[JOB_SEED, market_key.as_ref(), &id.to_le_bytes()], &crate::ID);
    require_keys_eq!(info.key(), expected, JobsError::InvalidQueueSkip);
    if info.owner != &crate::ID || info.lamports() == 0 {
        return Ok(true); // closed (cancelled or settled)
    }
    let data = info.try_borrow_data()?;
    let job = Job::try_deserialize(&mut &data[..])?;
    Ok(job.status != JobStatus::Open || job.designated.is_some())
}

#[access_control(ctx.accounts.validate())]
pub fn claim_job<'info>(ctx: Context<'info, ClaimJob<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let market_key = ctx.accounts.market.key();
    let mut skipped = 0u8;
    if ctx.accounts.job.designated.is_none() {
        require!(ctx.remaining_accounts.len() <= MAX_QUEUE_SKIP as usize, JobsError::InvalidQueueSkip);
        let market = &mut ctx.accounts.market;
        for info in ctx.remaining_accounts {
            require!(slot_is_dead(info, market, &market_key, market.queue_head)?, JobsError::InvalidQueueSkip);
            market.queue_head += 1;
            skipped += 1;
        }
        require!(ctx.accounts.job.job_id == market.queue_head, JobsError::NotQueueHead);
        market.queue_head += 1;
    }

    let a = &ctx.accounts;
    StakeCtx {
        authority: a.jobs_authority.to_account_info(),
        authority_bump: a.config.jobs_authority_bump,
        signer_seed: JOBS_AUTHORITY_SEED,
        staking_program: a.staking_program.to_account_info(),
        pool: a.pool.to_account_info(),
        stake: a.stake.to_account_info(),
    }
    .lock(a.job.collateral)?;

    let authority = ctx.accounts.authority.key();
    let job = &mut ctx.accounts.job;
    job.claim(authority, now)?;
    ctx.accounts.provider.jobs_claimed += 1;
    cinder_common::emit_event!(JobClaimed {
        job: job.key(),
        market: market_key,
        job_id: job.job_id,
        provider: authority,
        collateral: job.collateral,
        deadline: job.deadline,
        skipped,
        queue_head: ctx.accounts.market.queue_head,
        timestamp: now,
    });
    Ok(())
}
