//! The accounts every path that ends a claimed job shares (`CloseJob`), and how they pay out.
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
    pub(crate) fn escrow(&self) -> Result<EscrowCtx<'info>> {
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

    pub(crate) fn stake(&self) -> StakeCtx<'info> {
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
    pub(crate) fn refund_and_slash(
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
