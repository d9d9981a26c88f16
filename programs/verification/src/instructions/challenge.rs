//! `challenge_result` and `draw_quorum`: a staked verifier (not the provider) disputes a result
//! within the window, with a bond; the quorum is drawn afterwards, permissionlessly, from
//! randomness that did not exist when the challenge was sent.
//!
//! Randomness: the challenge records `draw_slot = its slot + DRAW_DELAY_SLOTS`. `draw_quorum`
//! (anyone, repeatable) uses the hash of the first produced slot `>= draw_slot` from the SlotHashes
//! sysvar; `seed = sha256(QUORUM_TAG ‖ slot hash ‖ job ‖ challenger)`. If that hash has aged out
//! of the sysvar before anyone drew, the target moves to a new future slot (nobody can pick among
//! old hashes). Limits (docs/ARCHITECTURE.md): the leader of the target slot can bias or skip it.
//!
//! The draw is stake-weighted: step `k` names candidate `i_k` and a ticket (`draw_step_pick`); the
//! candidate becomes a member when its ticket is below its weight, `min(free stake, cap)` for a
//! candidate with at least the dispute's `min_stake` free (0 otherwise), and it is neither the
//! provider, the challenger nor already a member. Each member's `vote_penalty` is locked in the
//! staking program at once, so the stake that answers for its vote cannot leave before
//! `settle_vote`. A draw that has not completed by `draw_deadline` resolves as `NoQuorum`.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use cinder_escrow::program::CinderEscrow;
use cinder_jobs::{calls::StakeCtx, program::CinderJobs, Job, JobStatus, Market};
use cinder_staking::{program::CinderStaking, ProviderStake, StakePool, STAKE_SEED};

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
        candidate_count: 0,
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

#[derive(Accounts)]
pub struct DrawQuorum<'info> {
    /// Anyone. Signs (pays the fee only).
    pub caller: Signer<'info>,
    #[account(mut, seeds = [DISPUTE_SEED, dispute.job.as_ref()], bump = dispute.bump)]
    pub dispute: Box<Account<'info, Dispute>>,
    #[account(
        seeds = [VERIFIER_SET_SEED, dispute.market.as_ref()],
        bump = verifier_set.bump,
    )]
    pub verifier_set: Box<Account<'info, VerifierSet>>,
    /// The market's stake pool (members' vote penalties are locked here).
    #[account(mut, address = dispute.pool @ VerificationError::WrongDisputeAccount)]
    pub pool: Box<Account<'info, StakePool>>,
    /// CHECK: the SlotHashes sysvar (address checked).
    #[account(address = solana_sdk_ids::sysvar::slot_hashes::ID)]
    pub slot_hashes: UncheckedAccount<'info>,
    /// CHECK: this program's signing PDA (a pool authority).
    #[account(seeds = [VERIFICATION_AUTHORITY_SEED], bump)]
    pub verification_authority: UncheckedAccount<'info>,
    pub staking_program: Program<'info, CinderStaking>,
    // remaining_accounts: (VerifierEntry, ProviderStake (writable)) pairs for draw steps
    // draw_step, draw_step + 1, … in order; at most MAX_DRAW_PAIRS.
}

/// Fixes the seed once its slot exists, then takes draw steps over the candidate pairs passed
/// (the steps' indices follow from the seed alone, so anyone can compute which entries to pass).
pub fn draw_quorum<'info>(ctx: Context<'info, DrawQuorum<'info>>) -> Result<()> {
    let clock = Clock::get()?;
    let key = ctx.accounts.dispute.key();
    let d = &ctx.accounts.dispute;
    d.require_unresolved()?;
    require!(!d.drawn(), VerificationError::QuorumAlreadyDrawn);
    let pairs = ctx.remaining_accounts;
    require!(
        pairs.len().is_multiple_of(2) && pairs.len() <= 2 * MAX_DRAW_PAIRS as usize,
        VerificationError::InvalidDrawCandidates
    );

    let dispute = &mut ctx.accounts.dispute;
    if dispute.seed == [0; 32] {
        require!(clock.slot > dispute.draw_slot, VerificationError::RandomnessNotReady);
        match draw_slot_hash(&ctx.accounts.slot_hashes.try_borrow_data()?, dispute.draw_slot) {
            DrawRandomness::NotReady => return err!(VerificationError::RandomnessNotReady),
            DrawRandomness::Stale => {
                // Nobody drew while the target's hash was available: aim at a future slot again.
                dispute.draw_slot =
                    clock.slot.checked_add(DRAW_DELAY_SLOTS).ok_or(VerificationError::ArithmeticOverflow)?;
                cinder_common::emit_event!(QuorumDrawn {
                    dispute: key,
                    randomness_slot: dispute.draw_slot,
                    retargeted: true,
                    new_members: vec![],
                    member_count: dispute.member_count,
                    draw_step: dispute.draw_step,
                    commit_end: 0,
                    reveal_end: 0,
                });
                return Ok(());
            }
            DrawRandomness::Ready { slot, hash } => {
                dispute.seed = selection_seed(&hash, &dispute.job, &dispute.challenger);
                dispute.candidate_count = ctx.accounts.verifier_set.count;
                dispute.draw_slot = slot;
            }
        }
    }

    let cap = weight_cap(dispute.min_stake);
    let max_steps = dispute.max_draw_steps();
    require!(dispute.draw_step < max_steps, VerificationError::DrawStepsExhausted);
    let (authority, authority_bump) =
        (ctx.accounts.verification_authority.to_account_info(), ctx.bumps.verification_authority);
    let (staking_program, pool) = (ctx.accounts.staking_program.to_account_info(), ctx.accounts.pool.to_account_info());
    let stake_ctx = |stake: &AccountInfo<'info>| StakeCtx {
        authority: authority.clone(),
        authority_bump,
        signer_seed: VERIFICATION_AUTHORITY_SEED,
        staking_program: staking_program.clone(),
        pool: pool.clone(),
        stake: stake.clone(),
    };
    let mut new_members = Vec::new();
    for pair in pairs.chunks(2) {
        let d = &ctx.accounts.dispute;
        if d.drawn() || d.draw_step >= max_steps {
            break;
        }
        let (index, ticket) = draw_step_pick(&d.seed, d.draw_step, d.candidate_count, cap);
        let entry = Account::<VerifierEntry>::try_from(&pair[0])
            .map_err(|_| error!(VerificationError::InvalidQuorumCandidate))?;
        require_keys_eq!(entry.market, d.market, VerificationError::InvalidQuorumCandidate);
        require!(entry.index == index, VerificationError::InvalidQuorumCandidate);
        let stake = Account::<ProviderStake>::try_from(&pair[1])
            .map_err(|_| error!(VerificationError::InvalidQuorumCandidate))?;
        require_keys_eq!(stake.pool, d.pool, VerificationError::InvalidQuorumCandidate);
        require_keys_eq!(stake.owner, entry.verifier, VerificationError::InvalidQuorumCandidate);
        let v = entry.verifier;
        // A candidate must be able to lock its vote penalty: below max(min stake, penalty) free
        // it weighs nothing (else an accepted candidate's failing lock would stall the draw).
        let floor = d.min_stake.max(d.vote_penalty);
        let weight = draw_weight(stake.active.saturating_sub(stake.locked), floor, cap);
        let eligible = v != d.provider && v != d.challenger && d.member_position(&v).is_none();
        let penalty = d.vote_penalty;
        if eligible && ticket < weight {
            if penalty > 0 {
                stake_ctx(&pair[1]).lock(penalty)?;
            }
            let d = &mut ctx.accounts.dispute;
            let n = d.member_count as usize;
            d.members[n] = v;
            d.member_count += 1;
            new_members.push(v);
        }
        ctx.accounts.dispute.draw_step += 1;
    }

    let d = &mut ctx.accounts.dispute;
    if d.drawn() {
        let period = ctx_voting_period(d);
        let commit_end = clock.unix_timestamp.checked_add(period).ok_or(VerificationError::ArithmeticOverflow)?;
        d.commit_end = commit_end;
        d.reveal_end = commit_end.checked_add(period).ok_or(VerificationError::ArithmeticOverflow)?;
    }
    d.invariant()?;
    cinder_common::emit_event!(QuorumDrawn {
        dispute: key,
        randomness_slot: d.draw_slot,
        retargeted: false,
        new_members,
        member_count: d.member_count,
        draw_step: d.draw_step,
        commit_end: d.commit_end,
        reveal_end: d.reveal_end,
    });
    Ok(())
}

/// The voting period of the dispute's job (its snapshot): the draw deadline was set one period
/// after the challenge.
fn ctx_voting_period(d: &Dispute) -> i64 {
    d.draw_deadline - d.opened_at
}
