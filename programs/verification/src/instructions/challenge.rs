//! `challenge_result`: a staked verifier (not the provider) disputes a result within the window,
//! with a bond; a quorum that neither side picks is drawn at once.
//!
//! Randomness: the challenger names a recent slot (at most `MAX_SLOT_AGE` slots old) whose hash is
//! in the SlotHashes sysvar; `seed = sha256(QUORUM_TAG ‖ slot hash ‖ job ‖ challenger)` drives a
//! draw without replacement (`QuorumDraw`). Candidates that are the provider or the challenger
//! are skipped. Limits (documented in docs/ARCHITECTURE.md): the
//! challenger can choose among ~16 slots and when to challenge within the window, and a slot leader
//! can bias its slot hash; this makes the draw unpredictable to the *provider* but lets a patient
//! challenger grind. Stake-weighted, VRF-based selection is future work.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use cinder_escrow::program::CinderEscrow;
use cinder_jobs::{program::CinderJobs, Job, JobStatus, Market};
use cinder_staking::{ProviderStake, STAKE_SEED};

use crate::{constants::*, error::VerificationError, events::*, state::*};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ChallengeResultArgs {
    /// A recent slot whose hash seeds the quorum draw.
    pub randomness_slot: u64,
}

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
    /// CHECK: the SlotHashes sysvar (address checked).
    #[account(address = solana_sdk_ids::sysvar::slot_hashes::ID)]
    pub slot_hashes: UncheckedAccount<'info>,
    /// CHECK: this program's signing PDA.
    #[account(seeds = [VERIFICATION_AUTHORITY_SEED], bump)]
    pub verification_authority: UncheckedAccount<'info>,
    pub jobs_program: Program<'info, CinderJobs>,
    pub escrow_program: Program<'info, CinderEscrow>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
    // remaining_accounts: VerifierEntry accounts for candidates 0, 1, 2, … of the draw.
}

impl ChallengeResult<'_> {
    pub fn validate(&self) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        require!(self.job.status == JobStatus::Submitted, VerificationError::InvalidJobStatus);
        require!(now <= self.job.window_end, VerificationError::ChallengeWindowClosed);
        require_keys_neq!(self.job.provider, self.challenger.key(), VerificationError::ProviderCannotChallenge);
        require!(self.challenger_stake.active >= self.market.params.min_stake, VerificationError::InsufficientStake);
        Ok(())
    }
}

#[access_control(ctx.accounts.validate())]
pub fn challenge_result<'info>(ctx: Context<'info, ChallengeResult<'info>>, args: ChallengeResultArgs) -> Result<()> {
    let clock = Clock::get()?;
    let a = &ctx.accounts;
    require!(
        args.randomness_slot <= clock.slot && clock.slot - args.randomness_slot <= MAX_SLOT_AGE,
        VerificationError::StaleRandomnessSlot
    );
    let slot_hash = slot_hash_of(&a.slot_hashes.try_borrow_data()?, args.randomness_slot)
        .ok_or(VerificationError::StaleRandomnessSlot)?;

    // Draw the quorum and check the candidate accounts against it.
    let quorum = a.job.quorum as usize;
    let count = a.verifier_set.count;
    require!(count as usize > quorum, VerificationError::NotEnoughVerifiers);
    require!(
        ctx.remaining_accounts.len() <= quorum + MAX_EXTRA_CANDIDATES as usize,
        VerificationError::InvalidQuorumCandidate
    );
    let seed = selection_seed(&slot_hash, &a.job.key(), &a.challenger.key());
    let mut draw = QuorumDraw::new(seed, count);
    let mut members: Vec<Pubkey> = Vec::with_capacity(quorum);
    for info in ctx.remaining_accounts.iter() {
        if members.len() == quorum {
            break;
        }
        let index = draw.next().ok_or(VerificationError::NotEnoughVerifiers)?;
        let entry =
            Account::<VerifierEntry>::try_from(info).map_err(|_| error!(VerificationError::InvalidQuorumCandidate))?;
        require_keys_eq!(entry.market, a.market.key(), VerificationError::InvalidQuorumCandidate);
        require!(entry.index == index, VerificationError::InvalidQuorumCandidate);
        let v = entry.verifier;
        if v != a.job.provider && v != a.challenger.key() {
            members.push(v);
        }
    }
    require!(members.len() == quorum, VerificationError::NotEnoughVerifiers);

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
    let commit_end = clock.unix_timestamp.checked_add(period).ok_or(VerificationError::ArithmeticOverflow)?;
    let reveal_end = commit_end.checked_add(period).ok_or(VerificationError::ArithmeticOverflow)?;
    let mut member_arr = [Pubkey::default(); cinder_jobs::MAX_QUORUM as usize];
    member_arr[..quorum].copy_from_slice(&members);
    let (job, provider, challenger, market) = (a.job.key(), a.job.provider, a.challenger.key(), a.market.key());
    let job_vote_penalty = ctx.accounts.job.vote_penalty;
    let dispute = &mut ctx.accounts.dispute;
    dispute.set_inner(Dispute {
        job,
        market,
        challenger,
        provider,
        bond,
        opened_at: clock.unix_timestamp,
        commit_end,
        reveal_end,
        members: member_arr,
        member_count: quorum as u8,
        commitments: [[0; 32]; cinder_jobs::MAX_QUORUM as usize],
        votes: [0; cinder_jobs::MAX_QUORUM as usize],
        settled_mask: 0,
        outcome: DisputeOutcome::Pending,
        vote_penalty: job_vote_penalty,
        bump: ctx.bumps.dispute,
    });
    cinder_common::emit_event!(DisputeOpened {
        dispute: dispute.key(),
        job,
        challenger,
        provider,
        bond,
        members,
        randomness_slot: args.randomness_slot,
        commit_end,
        reveal_end,
    });
    Ok(())
}
