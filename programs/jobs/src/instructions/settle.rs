//! Every way a claimed job ends, plus the two transitions the verification program drives.
//!
//! * `expire_job` (anyone, after the deadline, no result): client refunded in full, collateral
//!   slashed (a market-set share to the client, the rest accrues to the pool treasury).
//! * `record_result` / `mark_challenged` (verification program only): Claimed → Submitted →
//!   Challenged.
//! * `settle_job` (verification program only): the result stood — payment minus fee to the
//!   provider, fee to the treasury, collateral unlocked.
//! * `slash_job` (verification program only): the result was wrong — client refunded, collateral
//!   slashed (a market-set share to the challenger, the rest to the treasury).
//!
//! Each path empties and closes the job's escrow and the job account; all rent goes to the client
//! who paid it. Tokens sent straight into the job's vault (strays) go with the payout: to the
//! client on refund paths, to the provider when it is paid.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use cinder_escrow::program::CinderEscrow;
use cinder_staking::{program::CinderStaking, ProviderStake, StakePool, STAKE_SEED};

use crate::{
    calls::{EscrowCtx, StakeCtx},
    constants::*,
    error::JobsError,
    events::*,
    state::*,
};

/// Accounts shared by every path that ends a claimed job.
#[derive(Accounts)]
pub struct CloseJob<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, ProtocolConfig>>,
    #[account(
        mut,
        seeds = [MARKET_SEED, market.model.as_ref(), market.mint.as_ref(), market.creator.as_ref()],
        bump = market.bump,
        has_one = pool,
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
    #[account(mut, seeds = [PROVIDER_SEED, job.provider.as_ref()], bump = provider.bump)]
    pub provider: Box<Account<'info, Provider>>,
    /// CHECK: the job's escrow (its key is checked against the job; the escrow program checks the rest).
    #[account(mut)]
    pub escrow: UncheckedAccount<'info>,
    /// CHECK: the escrow's vault (checked by the escrow program).
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// Receives the protocol fee: any token account of the mint owned by the *current*
    /// `config.treasury` (anyone can create one), so rotating or closing a treasury account never
    /// blocks a settlement. May coincide with a party's account (`dup`): only the token program
    /// writes it.
    #[account(
        mut,
        dup,
        token::mint = mint,
        token::token_program = token_program,
        constraint = treasury_token.owner == config.treasury @ JobsError::InvalidTreasury,
    )]
    pub treasury_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut)]
    pub pool: Box<Account<'info, StakePool>>,
    /// CHECK: the pool's vault (checked by the staking program).
    #[account(mut)]
    pub pool_vault: UncheckedAccount<'info>,
    #[account(
        mut,
        seeds = [STAKE_SEED, pool.key().as_ref(), job.provider.as_ref()],
        seeds::program = cinder_staking::ID,
        bump = stake.bump,
    )]
    pub stake: Box<Account<'info, ProviderStake>>,
    /// CHECK: the jobs program's signing PDA.
    #[account(seeds = [JOBS_AUTHORITY_SEED], bump = config.jobs_authority_bump)]
    pub jobs_authority: UncheckedAccount<'info>,
    pub escrow_program: Program<'info, CinderEscrow>,
    pub staking_program: Program<'info, CinderStaking>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl<'info> CloseJob<'info> {
    fn escrow(&self) -> Result<EscrowCtx<'info>> {
        crate::check_job_escrow(&self.escrow.key(), &self.job.key())?;
        Ok(EscrowCtx::for_job(
            self.config.jobs_authority_bump,
            &self.jobs_authority,
            &self.escrow_program,
            &self.escrow,
            &self.vault,
            &*self.mint,
            &self.token_program,
        ))
    }

    fn stake(&self) -> StakeCtx<'info> {
        StakeCtx {
            authority: self.jobs_authority.to_account_info(),
            authority_bump: self.config.jobs_authority_bump,
            signer_seed: JOBS_AUTHORITY_SEED,
            staking_program: self.staking_program.to_account_info(),
            pool: self.pool.to_account_info(),
            stake: self.stake.to_account_info(),
        }
    }

    /// Refunds the client, slashes the collateral with `reward_bps` to `reward_to`, closes the escrow.
    /// Returns (refunded, slashed, reward, to_treasury, rent returned).
    fn refund_and_slash(
        &self,
        client_token: &AccountInfo<'info>,
        reward_to: &AccountInfo<'info>,
        reward_bps: u16,
    ) -> Result<(u64, u64, u64, u64, u64)> {
        let esc = self.escrow()?;
        esc.refund(client_token)?;
        let rent = esc.close(&self.client.to_account_info(), client_token)?;
        let (slashed, reward, to_treasury) = self.stake().slash(
            self.job.collateral,
            reward_bps,
            &self.pool_vault.to_account_info(),
            &self.mint.to_account_info(),
            Some(reward_to),
            &self.token_program.to_account_info(),
        )?;
        let job_rent = self.job.to_account_info().lamports();
        Ok((self.job.payment, slashed, reward, to_treasury, rent + job_rent))
    }
}

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

/// Submitted → Challenged, within the challenge window.
pub fn mark_challenged(ctx: Context<VerificationGated>, challenger: Pubkey) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let job = &mut ctx.accounts.job;
    job.mark_challenged(now)?;
    cinder_common::emit_event!(JobChallenged { job: job.key(), challenger, timestamp: now });
    Ok(())
}

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

#[derive(Accounts)]
pub struct SlashJob<'info> {
    /// The verification program's signing PDA. Signs (by CPI).
    #[account(address = close.config.verification_authority @ JobsError::NotVerificationProgram)]
    pub verification_authority: Signer<'info>,
    pub close: CloseJob<'info>,
    /// The client's token account: receives the refund.
    #[account(mut, dup, token::authority = close.job.client)]
    pub client_token: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The challenger's token account: receives the challenger's share of the slash (the
    /// verification program checks its owner). May be the client's (`dup`).
    #[account(mut, dup)]
    pub challenger_token: Box<InterfaceAccount<'info, TokenAccount>>,
}

/// The provider's result was judged wrong: refund the client, slash the collateral.
pub fn slash_job(ctx: Context<SlashJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let c = &ctx.accounts.close;
    require!(c.job.status == JobStatus::Challenged, JobsError::JobNotChallenged);
    let bps = c.job.challenger_reward_bps;
    let (refunded, slashed, reward, to_treasury, rent) = c.refund_and_slash(
        &ctx.accounts.client_token.to_account_info(),
        &ctx.accounts.challenger_token.to_account_info(),
        bps,
    )?;
    let (job, job_id, provider) = (c.job.key(), c.job.job_id, c.job.provider);
    let c = &mut ctx.accounts.close;
    c.provider.jobs_slashed += 1;
    c.market.jobs_slashed += 1;
    cinder_common::emit_event!(JobSlashed {
        job,
        market: c.market.key(),
        job_id,
        provider,
        refunded,
        slashed,
        challenger_reward: reward,
        to_treasury,
        rent_returned: rent,
        timestamp: now,
    });
    Ok(())
}
