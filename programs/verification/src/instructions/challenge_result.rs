//! `challenge_result`: a staked verifier (not the provider) disputes a result within the window,
//! with a bond. The quorum is drawn afterwards (`draw_quorum`) from randomness that did not exist
//! when the challenge was sent; the candidate count is fixed now.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use cinder_escrow::program::CinderEscrow;
use cinder_jobs::{program::CinderJobs, Job, JobStatus, Market};
use cinder_staking::{ProviderStake, STAKE_SEED};

use crate::{constants::*, error::VerificationError, events::*, state::*};

#[derive(Accounts)]
pub struct ChallengeResult<'info> {
    /// The challenger: a registered verifier of the market. Signs, pays the bond and the rent.
    #[account(mut)]
    pub challenger: Signer<'info>,
    /// CHECK: jobs' protocol config (validated by the jobs program).
    pub config: UncheckedAccount<'info>,
    pub market: Box<Account<'info, Market>>,
    #[account(mut, has_one = market)]
    pub job: Box<Account<'info, Job>>,
    #[account(
        mut,
        seeds = [VERIFIER_SET_SEED, market.key().as_ref()],
        bump = verifier_set.bump,
    )]
    pub verifier_set: Box<Account<'info, VerifierSet>>,
    /// The challenger's verifier registration.
    #[account(
        seeds = [VERIFIER_MARKER_SEED, market.key().as_ref(), challenger.key().as_ref()],
        bump = challenger_marker.bump,
    )]
    pub challenger_marker: Box<Account<'info, VerifierMarker>>,
    #[account(
        seeds = [STAKE_SEED, market.pool.as_ref(), challenger.key().as_ref()],
        seeds::program = cinder_staking::ID,
        bump = challenger_stake.bump,
    )]
    pub challenger_stake: Box<Account<'info, ProviderStake>>,
    #[account(address = market.mint)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// The bond comes from here (the escrow program checks ownership).
    #[account(mut)]
    pub challenger_token: Box<InterfaceAccount<'info, TokenAccount>>,
    /// CHECK: the bond escrow, created by the escrow program at
    /// `[ESCROW_SEED, verification_authority, job]` (it checks the seeds).
    #[account(mut)]
    pub bond_escrow: UncheckedAccount<'info>,
    /// CHECK: the bond escrow's vault (created and checked by the escrow program).
    #[account(mut)]
    pub bond_vault: UncheckedAccount<'info>,
    #[account(
        init,
        payer = challenger,
        space = 8 + Dispute::INIT_SPACE,
        seeds = [DISPUTE_SEED, job.key().as_ref()],
        bump,
    )]
    pub dispute: Box<Account<'info, Dispute>>,
    /// CHECK: this program's signing PDA.
    #[account(seeds = [VERIFICATION_AUTHORITY_SEED], bump)]
    pub verification_authority: UncheckedAccount<'info>,
    pub jobs_program: Program<'info, CinderJobs>,
    pub escrow_program: Program<'info, CinderEscrow>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl ChallengeResult<'_> {
    pub fn validate(&self) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        require!(self.job.status == JobStatus::Submitted, VerificationError::JobNotSubmitted);
        require!(now <= self.job.window_end, VerificationError::ChallengeWindowClosed);
        require_keys_neq!(self.job.provider, self.challenger.key(), VerificationError::ProviderCannotChallenge);
        require!(self.challenger_stake.active >= self.market.params.min_stake, VerificationError::InsufficientStake);
        // The provider and the challenger are never drawn: at least `quorum` others must exist.
        require!(self.verifier_set.count as usize > self.job.quorum as usize, VerificationError::NotEnoughVerifiers);
        Ok(())
    }
}

#[access_control(ctx.accounts.validate())]
pub fn challenge_result<'info>(ctx: Context<'info, ChallengeResult<'info>>) -> Result<()> {
    let clock = Clock::get()?;
    let a = &ctx.accounts;

    // The bond goes into its own escrow, controlled by this program.
    let bump = ctx.bumps.verification_authority;
    let signer: &[&[u8]] = &[VERIFICATION_AUTHORITY_SEED, &[bump]];
    let bond = a.job.challenge_bond;
    cinder_escrow::cpi::open_escrow(
        CpiContext::new_with_signer(
            a.escrow_program.key(),
            cinder_escrow::cpi::accounts::OpenEscrow {
                rent_payer: a.challenger.to_account_info(),
                depositor: a.challenger.to_account_info(),
                controller: a.verification_authority.to_account_info(),
                mint: a.mint.to_account_info(),
                depositor_token: a.challenger_token.to_account_info(),
                escrow: a.bond_escrow.to_account_info(),
                vault: a.bond_vault.to_account_info(),
                token_program: a.token_program.to_account_info(),
                system_program: a.system_program.to_account_info(),
            },
            &[signer],
        ),
        cinder_escrow::instructions::OpenEscrowArgs { seed: a.job.key().to_bytes(), amount: bond },
    )?;

    // Submitted → Challenged (the jobs program emits JobChallenged).
    cinder_jobs::cpi::mark_challenged(
        CpiContext::new_with_signer(
            a.jobs_program.key(),
            cinder_jobs::cpi::accounts::VerificationGated {
                verification_authority: a.verification_authority.to_account_info(),
                config: a.config.to_account_info(),
                job: a.job.to_account_info(),
            },
            &[signer],
        ),
        a.challenger.key(),
    )?;

    let period = a.job.voting_period_secs;
    let draw_deadline = clock.unix_timestamp.checked_add(period).ok_or(VerificationError::ArithmeticOverflow)?;
    let draw_slot = clock.slot.checked_add(DRAW_DELAY_SLOTS).ok_or(VerificationError::ArithmeticOverflow)?;
    let (job, provider, challenger, market) = (a.job.key(), a.job.provider, a.challenger.key(), a.market.key());
    let (quorum, vote_penalty, min_stake, pool) =
        (a.job.quorum, a.job.vote_penalty, a.market.params.min_stake, a.market.pool);
    let candidate_count = a.verifier_set.count;
    ctx.accounts.verifier_set.drawing =
        ctx.accounts.verifier_set.drawing.checked_add(1).ok_or(VerificationError::ArithmeticOverflow)?;
    let dispute = &mut ctx.accounts.dispute;
    dispute.set_inner(Dispute {
        job,
        market,
        challenger,
        provider,
        pool,
        bond,
        opened_at: clock.unix_timestamp,
        quorum,
        min_stake,
        draw_slot,
        draw_deadline,
        seed: [0; 32],
        candidate_count,
        draw_step: 0,
        commit_end: 0,
        reveal_end: 0,
        members: [Pubkey::default(); cinder_jobs::MAX_QUORUM as usize],
        member_count: 0,
        commitments: [[0; 32]; cinder_jobs::MAX_QUORUM as usize],
        votes: [0; cinder_jobs::MAX_QUORUM as usize],
        settled_mask: 0,
        outcome: DisputeOutcome::Pending,
        vote_penalty,
        bump: ctx.bumps.dispute,
    });
    dispute.invariant()?;
    cinder_common::emit_event!(DisputeOpened {
        dispute: dispute.key(),
        job,
        challenger,
        provider,
        bond,
        quorum,
        draw_slot,
        draw_deadline,
    });
    Ok(())
}
