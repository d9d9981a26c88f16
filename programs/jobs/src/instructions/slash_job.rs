//! `slash_job` (verification program only): the result was wrong — client refunded, collateral
//! slashed (a market-set share to the challenger, the rest to the treasury).
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use super::close_job::*;
use crate::{error::JobsError, events::*, state::*};

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
