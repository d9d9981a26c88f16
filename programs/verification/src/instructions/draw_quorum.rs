//! `draw_quorum`: anyone draws a dispute's quorum, permissionlessly and repeatably.
//!
//! Randomness: the challenge records `draw_slot = its slot + DRAW_DELAY_SLOTS`. `draw_quorum` uses
//! the hash of the first produced slot `>= draw_slot` from the SlotHashes sysvar;
//! `seed = sha256(QUORUM_TAG ‖ slot hash ‖ job ‖ challenger)`. If that hash has aged out of the
//! sysvar before anyone drew, the target moves to a new future slot (nobody can pick among old
//! hashes). Limits (docs/ARCHITECTURE.md): the leader of the target slot can bias or skip it.
//!
//! The draw is stake-weighted: step `k` names candidate `i_k` and a ticket (`draw_step_pick`); the
//! candidate becomes a member when its ticket is below its weight (`candidate_weight`) and it is
//! neither the provider, the challenger nor already a member. Each member's `vote_penalty` is locked
//! in the staking program at once, so the stake that answers for its vote cannot leave before
//! `settle_vote`. A draw that has not completed by `draw_deadline` resolves as `NoQuorum`.
use anchor_lang::prelude::*;
use cinder_jobs::calls::StakeCtx;
use cinder_staking::{program::CinderStaking, ProviderStake, StakePool};

use crate::{constants::*, error::VerificationError, events::*, state::*};

#[derive(Accounts)]
pub struct DrawQuorum<'info> {
    /// Anyone. Signs (pays the fee only).
    pub caller: Signer<'info>,
    #[account(mut, seeds = [DISPUTE_SEED, dispute.job.as_ref()], bump = dispute.bump)]
    pub dispute: Box<Account<'info, Dispute>>,
    /// The market's verifier set (its count of draws in progress drops when this one completes).
    #[account(
        mut,
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
        let Some((v, weight)) = candidate_weight(d, index, &pair[0], &pair[1])? else {
            // The index's registration was removed since the challenge: the step draws nobody.
            ctx.accounts.dispute.draw_step += 1;
            continue;
        };
        let eligible = v != d.provider && v != d.challenger && d.member_position(&v).is_none();
        let lock = d.member_lock();
        if eligible && ticket < weight {
            if lock > 0 {
                stake_ctx(&pair[1]).lock(lock)?;
            }
            let d = &mut ctx.accounts.dispute;
            let n = d.member_count as usize;
            d.members[n] = v;
            d.member_count += 1;
            new_members.push(v);
        }
        ctx.accounts.dispute.draw_step += 1;
    }

    if ctx.accounts.dispute.drawn() {
        let set = &mut ctx.accounts.verifier_set;
        set.drawing = set.drawing.checked_sub(1).ok_or(VerificationError::ArithmeticOverflow)?;
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

/// The drawn candidate of one step: `(verifier, weight)`, or `None` when the index holds no
/// registration any more (the caller passes the empty entry address twice). The weight is 0 for a
/// candidate with less than `max(min stake, vote penalty)` free (it could not lock its penalty), for
/// one that took its index or raised its stake at or after the randomness slot (nobody can act on
/// the public randomness), and otherwise `min(free stake, cap)`.
fn candidate_weight(
    d: &Dispute,
    index: u32,
    entry: &AccountInfo,
    stake: &AccountInfo,
) -> Result<Option<(Pubkey, u64)>> {
    if entry.data_is_empty() && entry.owner == &anchor_lang::system_program::ID {
        let (address, _) =
            Pubkey::find_program_address(&[VERIFIER_SEED, d.market.as_ref(), &index.to_le_bytes()], &crate::ID);
        require_keys_eq!(entry.key(), address, VerificationError::InvalidQuorumCandidate);
        return Ok(None);
    }
    let e: VerifierEntry = load(entry, &crate::ID)?;
    require_keys_eq!(e.market, d.market, VerificationError::InvalidQuorumCandidate);
    require!(e.index == index, VerificationError::InvalidQuorumCandidate);
    let s: ProviderStake = load(stake, &cinder_staking::ID)?;
    require_keys_eq!(s.pool, d.pool, VerificationError::InvalidQuorumCandidate);
    require_keys_eq!(s.owner, e.verifier, VerificationError::InvalidQuorumCandidate);
    let settled_before = e.since_slot < d.draw_slot && s.raised_slot < d.draw_slot;
    let floor = d.member_lock();
    let weight =
        if settled_before { draw_weight(s.active.saturating_sub(s.locked), floor, weight_cap(d.min_stake)) } else { 0 };
    Ok(Some((e.verifier, weight)))
}

/// An Anchor account of type `T` owned by `owner` (else `InvalidQuorumCandidate`).
fn load<T: AccountDeserialize>(info: &AccountInfo, owner: &Pubkey) -> Result<T> {
    require_keys_eq!(*info.owner, *owner, VerificationError::InvalidQuorumCandidate);
    let data = info.try_borrow_data()?;
    T::try_deserialize(&mut &data[..]).map_err(|_| error!(VerificationError::InvalidQuorumCandidate))
}

/// The voting period of the dispute's job (its snapshot): the draw deadline was set one period
/// after the challenge.
fn ctx_voting_period(d: &Dispute) -> i64 {
    d.draw_deadline - d.opened_at
}
