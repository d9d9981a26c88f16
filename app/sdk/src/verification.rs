//! Verification program: PDAs, instruction builders, and the off-chain side of the quorum draw.
use ::cinder_verification::{
    accounts as acc, instruction as ix, DISPUTE_SEED, ID, MAX_DRAW_PAIRS, VERIFIER_MARKER_SEED, VERIFIER_SEED,
    VERIFIER_SET_SEED,
};
use anchor_lang::prelude::Pubkey;

use crate::{anchor_ix, escrow::EscrowKeys, jobs::MarketKeys, AccountMeta, Instruction};

pub use cinder_verification::{
    draw_slot_hash, draw_step_pick, draw_weight, selection_seed, slot_hash_of, vote_commitment, weight_cap, Dispute,
    DisputeOutcome, DrawRandomness, VerifierEntry, VerifierMarker, VerifierSet, DRAW_DELAY_SLOTS, VOTE_ABSTAIN,
    VOTE_RESULT_CORRECT, VOTE_RESULT_WRONG,
};

/// The SlotHashes sysvar (the quorum draw's randomness source).
pub const SLOT_HASHES_SYSVAR: Pubkey = solana_sdk_ids::sysvar::slot_hashes::ID;

/// The newest (slot, hash) entry of the SlotHashes sysvar data.
pub fn newest_slot_hash(data: &[u8]) -> Option<(u64, [u8; 32])> {
    let slot = u64::from_le_bytes(data.get(8..16)?.try_into().ok()?);
    Some((slot, slot_hash_of(data, slot)?))
}

pub fn verifier_set_pda(market: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[VERIFIER_SET_SEED, market.as_ref()], &ID).0
}
pub fn verifier_entry_pda(market: &Pubkey, index: u32) -> Pubkey {
    Pubkey::find_program_address(&[VERIFIER_SEED, market.as_ref(), &index.to_le_bytes()], &ID).0
}
pub fn verifier_marker_pda(market: &Pubkey, verifier: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[VERIFIER_MARKER_SEED, market.as_ref(), verifier.as_ref()], &ID).0
}
pub fn dispute_pda(job: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[DISPUTE_SEED, job.as_ref()], &ID).0
}
pub use cinder_verification::{bond_escrow, verification_authority};

pub fn bond_escrow_keys(job: &Pubkey, mint: Pubkey, token_program: Pubkey) -> EscrowKeys {
    EscrowKeys::new(verification_authority(), job.to_bytes(), mint, token_program)
}

/// The candidate indices of the next `n` draw steps of `d` (from `d.draw_step`), whose
/// (entry, stake) pairs a `draw_quorum` must pass in this order. Needs the seed to be fixed
/// (`d.seed != 0`): a first `draw_quorum` with no candidates fixes it. The indices depend on the
/// seed alone, so nobody chooses them; which of them become members depends on their stake.
pub fn next_draw_indices(d: &Dispute, n: usize) -> Vec<u32> {
    if d.seed == [0; 32] || d.candidate_count == 0 {
        return vec![];
    }
    let cap = weight_cap(d.min_stake);
    let n = n.min(MAX_DRAW_PAIRS as usize);
    (0..n as u32).map(|k| draw_step_pick(&d.seed, d.draw_step + k, d.candidate_count, cap).0).collect()
}

pub fn register_verifier(verifier: Pubkey, k: &MarketKeys, next_index: u32) -> Instruction {
    anchor_ix(
        ID,
        acc::RegisterVerifier {
            verifier,
            market: k.market,
            verifier_set: verifier_set_pda(&k.market),
            entry: verifier_entry_pda(&k.market, next_index),
            marker: verifier_marker_pda(&k.market, &verifier),
            stake: k.stake(&verifier),
            system_program: anchor_lang::system_program::ID,
        },
        ix::RegisterVerifier {},
    )
}

/// Removes `verifier`'s registration at `index` from a market whose set holds `count`
/// registrations; `last` is the verifier registered at `count - 1` (moved into `index`). The
/// caller is the verifier itself, or anyone once its active stake is below the market minimum (refused while a draw is in progress).
pub fn remove_verifier(
    caller: Pubkey,
    k: &MarketKeys,
    verifier: Pubkey,
    index: u32,
    count: u32,
    last: Pubkey,
) -> Instruction {
    let entry = verifier_entry_pda(&k.market, index);
    let marker = verifier_marker_pda(&k.market, &verifier);
    let last_index = count.saturating_sub(1);
    let (last_entry, last_marker) = if index == last_index {
        (entry, marker)
    } else {
        (verifier_entry_pda(&k.market, last_index), verifier_marker_pda(&k.market, &last))
    };
    anchor_ix(
        ID,
        acc::RemoveVerifier {
            caller,
            market: k.market,
            verifier_set: verifier_set_pda(&k.market),
            entry,
            marker,
            stake: k.stake(&verifier),
            verifier,
            last_entry,
            last_marker,
        },
        ix::RemoveVerifier {},
    )
}

pub fn submit_result(provider: Pubkey, job: Pubkey, a: SubmitResultArgs) -> Instruction {
    anchor_ix(
        ID,
        acc::SubmitResult {
            provider,
            config: crate::jobs::config_pda(),
            job,
            verification_authority: verification_authority(),
            jobs_program: cinder_jobs::ID,
        },
        ix::SubmitResult { args: a },
    )
}
pub use cinder_verification::instructions::SubmitResultArgs;

fn job_accounts(k: &MarketKeys, job: &Pubkey, client: Pubkey, provider: Pubkey) -> acc::JobAccounts {
    let c = crate::jobs::close_job_accounts(k, job, client, provider);
    acc::JobAccounts {
        config: c.config,
        market: c.market,
        job: c.job,
        client: c.client,
        provider: c.provider,
        escrow: c.escrow,
        vault: c.vault,
        mint: c.mint,
        treasury_token: c.treasury_token,
        pool: c.pool,
        pool_vault: c.pool_vault,
        stake: c.stake,
        jobs_authority: c.jobs_authority,
        escrow_program: c.escrow_program,
        staking_program: c.staking_program,
        token_program: c.token_program,
        jobs_program: cinder_jobs::ID,
        verification_authority: verification_authority(),
    }
}

pub fn finalize_job(
    caller: Pubkey,
    k: &MarketKeys,
    job: &Pubkey,
    client: Pubkey,
    provider: Pubkey,
    provider_token: Pubkey,
) -> Instruction {
    anchor_ix(
        ID,
        acc::FinalizeJob { caller, job_accounts: job_accounts(k, job, client, provider), provider_token },
        ix::FinalizeJob {},
    )
}

/// Opens a dispute with the challenger's bond; the quorum is drawn later by `draw_quorum`.
pub fn challenge_result(challenger: Pubkey, challenger_token: Pubkey, k: &MarketKeys, job: &Pubkey) -> Instruction {
    let bond = bond_escrow_keys(job, k.mint, k.token_program);
    anchor_ix(
        ID,
        acc::ChallengeResult {
            challenger,
            config: crate::jobs::config_pda(),
            market: k.market,
            job: *job,
            verifier_set: verifier_set_pda(&k.market),
            challenger_marker: verifier_marker_pda(&k.market, &challenger),
            challenger_stake: k.stake(&challenger),
            mint: k.mint,
            challenger_token,
            bond_escrow: bond.escrow,
            bond_vault: bond.vault,
            dispute: dispute_pda(job),
            verification_authority: verification_authority(),
            jobs_program: cinder_jobs::ID,
            escrow_program: cinder_escrow::ID,
            token_program: k.token_program,
            system_program: anchor_lang::system_program::ID,
        },
        ix::ChallengeResult {},
    )
}

/// Anyone: draws quorum members. `candidates` are (index, verifier key) of the next draw steps
/// (`next_draw_indices` with the keys of those entries); empty just fixes the seed.
/// `candidates`: (index, verifier registered there) of the next draw steps, in order; the default
/// key for an index whose registration was removed since the challenge.
pub fn draw_quorum(caller: Pubkey, k: &MarketKeys, job: &Pubkey, candidates: &[(u32, Pubkey)]) -> Instruction {
    let mut i = anchor_ix(
        ID,
        acc::DrawQuorum {
            caller,
            dispute: dispute_pda(job),
            verifier_set: verifier_set_pda(&k.market),
            pool: k.pool,
            slot_hashes: SLOT_HASHES_SYSVAR,
            verification_authority: verification_authority(),
            staking_program: cinder_staking::ID,
        },
        ix::DrawQuorum {},
    );
    for (index, verifier) in candidates {
        let entry = verifier_entry_pda(&k.market, *index);
        i.accounts.push(AccountMeta::new_readonly(entry, false));
        if *verifier == Pubkey::default() {
            // A removed registration: its (empty) entry address twice; the step draws nobody.
            i.accounts.push(AccountMeta::new_readonly(entry, false));
        } else {
            i.accounts.push(AccountMeta::new(k.stake(verifier), false));
        }
    }
    i
}

pub fn commit_vote(voter: Pubkey, job: &Pubkey, commitment: [u8; 32]) -> Instruction {
    anchor_ix(ID, acc::Vote { voter, dispute: dispute_pda(job) }, ix::CommitVote { commitment })
}

pub fn reveal_vote(voter: Pubkey, job: &Pubkey, vote: u8, salt: [u8; 32]) -> Instruction {
    anchor_ix(ID, acc::Vote { voter, dispute: dispute_pda(job) }, ix::RevealVote { vote, salt })
}

/// Token accounts of the three parties: the jobs and escrow programs check who owns each.
pub struct DisputeParties {
    pub client: Pubkey,
    pub client_token: Pubkey,
    pub provider: Pubkey,
    pub provider_token: Pubkey,
    pub challenger: Pubkey,
    pub challenger_token: Pubkey,
}

pub fn resolve_dispute(caller: Pubkey, k: &MarketKeys, job: &Pubkey, p: &DisputeParties) -> Instruction {
    let bond = bond_escrow_keys(job, k.mint, k.token_program);
    anchor_ix(
        ID,
        acc::ResolveDispute {
            caller,
            job_accounts: job_accounts(k, job, p.client, p.provider),
            dispute: dispute_pda(job),
            verifier_set: verifier_set_pda(&k.market),
            provider_token: p.provider_token,
            client_token: p.client_token,
            challenger_token: p.challenger_token,
            challenger: p.challenger,
            bond_escrow: bond.escrow,
            bond_vault: bond.vault,
        },
        ix::ResolveDispute {},
    )
}

pub fn settle_vote(caller: Pubkey, k: &MarketKeys, job: &Pubkey, member: &Pubkey, challenger: Pubkey) -> Instruction {
    anchor_ix(
        ID,
        acc::SettleVote {
            caller,
            dispute: dispute_pda(job),
            market: k.market,
            pool: k.pool,
            pool_vault: k.pool_vault,
            stake: k.stake(member),
            mint: k.mint,
            challenger,
            verification_authority: verification_authority(),
            staking_program: cinder_staking::ID,
            token_program: k.token_program,
        },
        ix::SettleVote {},
    )
}
