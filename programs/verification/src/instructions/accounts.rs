//! Accounts the verification program passes through to the jobs program. The jobs program
//! validates every one of them (seeds, `has_one`, owners); here only `job` and `market` are read.
use anchor_lang::prelude::*;
use cinder_escrow::program::CinderEscrow;
use cinder_jobs::{program::CinderJobs, Job, Market};
use cinder_staking::program::CinderStaking;

use crate::constants::*;

#[derive(Accounts)]
pub struct JobAccounts<'info> {
    /// CHECK: jobs' protocol config (validated by the jobs program).
    pub config: UncheckedAccount<'info>,
    #[account(mut)]
    pub market: Box<Account<'info, Market>>,
    #[account(mut, has_one = market)]
    pub job: Box<Account<'info, Job>>,
    /// CHECK: the job's client (validated by jobs); receives the job's rent.
    #[account(mut)]
    pub client: UncheckedAccount<'info>,
    /// CHECK: the provider's jobs-program account (validated by jobs).
    #[account(mut)]
    pub provider: UncheckedAccount<'info>,
    /// CHECK: the job's escrow (validated by jobs and escrow).
    #[account(mut)]
    pub escrow: UncheckedAccount<'info>,
    /// CHECK: the escrow's vault (validated by escrow).
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: the market's mint (validated by jobs).
    pub mint: UncheckedAccount<'info>,
    /// CHECK: the market's treasury token account (validated by jobs).
    #[account(mut)]
    pub treasury_token: UncheckedAccount<'info>,
    /// CHECK: the market's stake pool (validated by jobs and staking).
    #[account(mut)]
    pub pool: UncheckedAccount<'info>,
    /// CHECK: the pool's vault (validated by staking).
    #[account(mut)]
    pub pool_vault: UncheckedAccount<'info>,
    /// CHECK: the provider's stake account (validated by jobs and staking).
    #[account(mut)]
    pub stake: UncheckedAccount<'info>,
    /// CHECK: the jobs program's signing PDA (validated by jobs).
    pub jobs_authority: UncheckedAccount<'info>,
    pub escrow_program: Program<'info, CinderEscrow>,
    pub staking_program: Program<'info, CinderStaking>,
    /// CHECK: the token program (validated by jobs, escrow and the token program itself).
    pub token_program: UncheckedAccount<'info>,
    pub jobs_program: Program<'info, CinderJobs>,
    /// CHECK: this program's signing PDA.
    #[account(seeds = [VERIFICATION_AUTHORITY_SEED], bump)]
    pub verification_authority: UncheckedAccount<'info>,
}

impl<'info> JobAccounts<'info> {
    pub fn close_job(&self) -> cinder_jobs::cpi::accounts::CloseJob<'info> {
        cinder_jobs::cpi::accounts::CloseJob {
            config: self.config.to_account_info(),
            market: self.market.to_account_info(),
            job: self.job.to_account_info(),
            client: self.client.to_account_info(),
            provider: self.provider.to_account_info(),
            escrow: self.escrow.to_account_info(),
            vault: self.vault.to_account_info(),
            mint: self.mint.to_account_info(),
            treasury_token: self.treasury_token.to_account_info(),
            pool: self.pool.to_account_info(),
            pool_vault: self.pool_vault.to_account_info(),
            stake: self.stake.to_account_info(),
            jobs_authority: self.jobs_authority.to_account_info(),
            escrow_program: self.escrow_program.to_account_info(),
            staking_program: self.staking_program.to_account_info(),
            token_program: self.token_program.to_account_info(),
        }
    }

    /// CPI into `jobs::settle_job` (pay the provider).
    pub fn settle(&self, provider_token: &AccountInfo<'info>, bump: u8) -> Result<()> {
        let seeds: &[&[u8]] = &[VERIFICATION_AUTHORITY_SEED, &[bump]];
        cinder_jobs::cpi::settle_job(CpiContext::new_with_signer(
            self.jobs_program.key(),
            cinder_jobs::cpi::accounts::SettleJob {
                verification_authority: self.verification_authority.to_account_info(),
                close: self.close_job(),
                provider_token: provider_token.clone(),
            },
            &[seeds],
        ))
    }

    /// CPI into `jobs::slash_job` (refund the client, slash the provider).
    pub fn slash(
        &self,
        client_token: &AccountInfo<'info>,
        challenger_token: &AccountInfo<'info>,
        bump: u8,
    ) -> Result<()> {
        let seeds: &[&[u8]] = &[VERIFICATION_AUTHORITY_SEED, &[bump]];
        cinder_jobs::cpi::slash_job(CpiContext::new_with_signer(
            self.jobs_program.key(),
            cinder_jobs::cpi::accounts::SlashJob {
                verification_authority: self.verification_authority.to_account_info(),
                close: self.close_job(),
                client_token: client_token.clone(),
                challenger_token: challenger_token.clone(),
            },
            &[seeds],
        ))
    }
}
