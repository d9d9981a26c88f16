//! `register_verifier`, `submit_result` and `finalize_job`.
use anchor_lang::prelude::*;
use cinder_jobs::{program::CinderJobs, Job, JobStatus, Market, MARKET_SEED};
use cinder_staking::{ProviderStake, STAKE_SEED};

use super::accounts::*;
use crate::{constants::*, error::VerificationError, events::*, state::*};

#[derive(Accounts)]
pub struct RegisterVerifier<'info> {
    /// The verifier (its stake key). Signs and pays.
    #[account(mut)]
    pub verifier: Signer<'info>,
    #[account(
        seeds = [MARKET_SEED, market.model.as_ref(), market.mint.as_ref(), market.creator.as_ref()],
        seeds::program = cinder_jobs::ID,
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(
        init_if_needed,
        payer = verifier,
        space = 8 + VerifierSet::INIT_SPACE,
        seeds = [VERIFIER_SET_SEED, market.key().as_ref()],
        bump,
    )]
    pub verifier_set: Box<Account<'info, VerifierSet>>,
    #[account(
        init,
        payer = verifier,
        space = 8 + VerifierEntry::INIT_SPACE,
        seeds = [VERIFIER_SEED, market.key().as_ref(), &verifier_set.count.to_le_bytes()],
        bump,
    )]
    pub entry: Box<Account<'info, VerifierEntry>>,
    /// Fails if the verifier is already registered in this market.
    #[account(
        init,
        payer = verifier,
        space = 8 + VerifierMarker::INIT_SPACE,
        seeds = [VERIFIER_MARKER_SEED, market.key().as_ref(), verifier.key().as_ref()],
        bump,
    )]
    pub marker: Box<Account<'info, VerifierMarker>>,
    #[account(
        seeds = [STAKE_SEED, market.pool.as_ref(), verifier.key().as_ref()],
        seeds::program = cinder_staking::ID,
        bump = stake.bump,
    )]
    pub stake: Box<Account<'info, ProviderStake>>,
    pub system_program: Program<'info, System>,
}

pub fn register_verifier(ctx: Context<RegisterVerifier>) -> Result<()> {
    let a = ctx.accounts;
    require!(a.stake.active >= a.market.params.min_stake, VerificationError::InsufficientStake);
    if a.verifier_set.market == Pubkey::default() {
        a.verifier_set.market = a.market.key();
        a.verifier_set.bump = ctx.bumps.verifier_set;
    }
    let index = a.verifier_set.count;
    a.verifier_set.count = index.checked_add(1).ok_or(VerificationError::ArithmeticOverflow)?;
    a.entry.set_inner(VerifierEntry {
        market: a.market.key(),
        verifier: a.verifier.key(),
        index,
        registered_at: Clock::get()?.unix_timestamp,
        bump: ctx.bumps.entry,
    });
    a.marker.set_inner(VerifierMarker { index, bump: ctx.bumps.marker });
    cinder_common::emit_event!(VerifierRegistered { market: a.market.key(), verifier: a.verifier.key(), index });
    Ok(())
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct SubmitResultArgs {
    /// The result commitment (docs/COMMITMENT.md §2).
    pub commitment: [u8; 32],
    /// The output's content hash (docs/COMMITMENT.md §3).
    pub output_hash: [u8; 32],
    pub output_uri: String,
}

#[derive(Accounts)]
pub struct SubmitResult<'info> {
    /// The provider assigned to the job. Signs.
    pub provider: Signer<'info>,
    /// CHECK: jobs' protocol config (validated by the jobs program).
    pub config: UncheckedAccount<'info>,
    #[account(mut)]
    pub job: Box<Account<'info, Job>>,
    /// CHECK: this program's signing PDA.
    #[account(seeds = [VERIFICATION_AUTHORITY_SEED], bump)]
    pub verification_authority: UncheckedAccount<'info>,
    pub jobs_program: Program<'info, CinderJobs>,
}

/// Only the assigned provider, at or before the deadline; starts the challenge window.
pub fn submit_result(ctx: Context<SubmitResult>, args: SubmitResultArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    require!(a.job.status == JobStatus::Claimed, VerificationError::JobNotClaimed);
    require_keys_eq!(a.job.provider, a.provider.key(), VerificationError::NotAssignedProvider);
    require!(now <= a.job.deadline, VerificationError::DeadlinePassed);
    let seeds: &[&[u8]] = &[VERIFICATION_AUTHORITY_SEED, &[ctx.bumps.verification_authority]];
    // The jobs program emits ResultRecorded for this transition.
    cinder_jobs::cpi::record_result(
        CpiContext::new_with_signer(
            a.jobs_program.key(),
            cinder_jobs::cpi::accounts::VerificationGated {
                verification_authority: a.verification_authority.to_account_info(),
                config: a.config.to_account_info(),
                job: a.job.to_account_info(),
            },
            &[seeds],
        ),
        cinder_jobs::instructions::RecordResultArgs {
            provider: a.provider.key(),
            commitment: args.commitment,
            output_hash: args.output_hash,
            output_uri: args.output_uri,
        },
    )
}

#[derive(Accounts)]
pub struct FinalizeJob<'info> {
    /// Anyone may finalize after the window. Signs (pays the fee only).
    pub caller: Signer<'info>,
    pub job_accounts: JobAccounts<'info>,
    /// CHECK: the provider's token account (jobs checks it is owned by the job's provider).
    #[account(mut)]
    pub provider_token: UncheckedAccount<'info>,
}

/// After the challenge window with no challenge: pay the provider (the jobs program emits
/// JobFinalized).
pub fn finalize_job(ctx: Context<FinalizeJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let j = &ctx.accounts.job_accounts;
    require!(j.job.status == JobStatus::Submitted, VerificationError::JobNotSubmitted);
    require!(now > j.job.window_end, VerificationError::ChallengeWindowOpen);
    j.settle(&ctx.accounts.provider_token.to_account_info(), ctx.bumps.job_accounts.verification_authority)
}
