//! Verification program: the rejections of every instruction, the boundary seconds of each phase
//! (deadline, challenge window, commit and reveal phases), the no-quorum path and the vote
//! penalties. Each rejection asserts the named error and that no watched account changed.
#![allow(deprecated)]
use anchor_lang::{
    error::ErrorCode as Anchor,
    prelude::{Clock, Pubkey},
    InstructionData, ToAccountMetas,
};
use cinder_jobs::{JobStatus, JobsError, MarketParams};
use cinder_sdk::{jobs as jsdk, staking as ssdk, verification as vsdk};
use cinder_staking::StakingError;
use cinder_tests::{
    one_event,
    world::{market_params, World, FEE_BPS, PRICE},
    TokenKind,
};
use cinder_verification::{
    DisputeOutcome, DisputeResolved, VerificationError as E, VoteSettled, VOTE_RESULT_CORRECT, VOTE_RESULT_WRONG,
};
use solana_signer::Signer;

use crate::jobs_rejections::{
    attacker, claimed_job, extra_staker, mark_challenged_ix, replace_key, second_market_with_a_job, send_init_refused,
};

const BOND: u64 = 500;
const PENALTY: u64 = 50;

/// Posts, claims and submits a job; returns its id.
async fn submitted_job(w: &mut World) -> u64 {
    let id = claimed_job(w).await;
    w.submit(id).await;
    id
}

/// A submitted job challenged by verifier 0; returns its id.
async fn disputed_job(w: &mut World) -> u64 {
    let id = submitted_job(w).await;
    w.challenge(id, 0).await;
    id
}

async fn members(w: &mut World, id: u64) -> Vec<Pubkey> {
    let d = w.dispute(id).await.expect("dispute");
    d.members[..d.member_count as usize].to_vec()
}

fn commit_ix(w: &World, id: u64, member: &Pubkey, vote: u8) -> cinder_sdk::Instruction {
    let job = w.mk.job(id);
    let c = vsdk::vote_commitment(&vsdk::dispute_pda(&job), member, vote, &member.to_bytes());
    vsdk::commit_vote(*member, &job, c)
}

fn reveal_ix(w: &World, id: u64, member: &Pubkey, vote: u8) -> cinder_sdk::Instruction {
    vsdk::reveal_vote(*member, &w.mk.job(id), vote, member.to_bytes())
}

fn slash_job_ix(w: &World, authority: Pubkey, id: u64, challenger_token: Pubkey) -> cinder_sdk::Instruction {
    let close = jsdk::close_job_accounts(&w.mk, &w.mk.job(id), w.client.key(), w.provider.key());
    cinder_sdk::Instruction {
        program_id: cinder_jobs::ID,
        accounts: cinder_jobs::accounts::SlashJob {
            verification_authority: authority,
            close,
            client_token: w.client.token,
            challenger_token,
        }
        .to_account_metas(None),
        data: cinder_jobs::instruction::SlashJob {}.data(),
    }
}

// ---------------------------------------------------------------------------------------------
// register_verifier

#[tokio::test]
async fn register_verifier_rejects_a_second_registration_a_wrong_index_and_low_stake() {
    let mut w = World::new(TokenKind::Spl, 2).await;
    let set = vsdk::verifier_set_pda(&w.mk.market);
    w.fx.watch(set);
    w.fx.watch(vsdk::verifier_entry_pda(&w.mk.market, 2));
    // Twice: the marker `[VERIFIER_MARKER_SEED, market, verifier]` already exists.
    let v0 = w.verifiers[0].kp.insecure_clone();
    let ix = vsdk::register_verifier(v0.pubkey(), &w.mk, 2);
    send_init_refused(&mut w, ix, &v0).await;
    // A new staker naming an index other than the set's count.
    let p = extra_staker(&mut w, 10_000).await;
    w.fx.watch(vsdk::verifier_marker_pda(&w.mk.market, &p.kp.pubkey()));
    let ix = vsdk::register_verifier(p.kp.pubkey(), &w.mk, 5);
    w.fx.send_err(&[ix], &[&p.kp], Anchor::ConstraintSeeds).await;
    // Staked for the pool (1 000) but below the market's minimum (5 000).
    let low = extra_staker(&mut w, 1_000).await;
    w.fx.watch(vsdk::verifier_marker_pda(&w.mk.market, &low.kp.pubkey()));
    let ix = vsdk::register_verifier(low.kp.pubkey(), &w.mk, 2);
    w.fx.send_err(&[ix], &[&low.kp], E::InsufficientStake).await;
    assert_eq!(w.fx.anchor_account::<vsdk::VerifierSet>(set).await.count, 2);
}

// ---------------------------------------------------------------------------------------------
// submit_result

#[tokio::test]
async fn submit_result_rejects_a_non_assigned_provider() {
    let mut w = World::new(TokenKind::Spl, 1).await;
    let id = claimed_job(&mut w).await;
    let v = w.verifiers[0].kp.pubkey();
    let ix = vsdk::submit_result(
        v,
        w.mk.job(id),
        vsdk::SubmitResultArgs { commitment: [9; 32], output_hash: [9; 32], output_uri: "cas://09".into() },
    );
    w.fx.send_err(&[ix], &[&w.verifiers[0].kp], E::NotAssignedProvider).await;
    assert_eq!(w.job(id).await.unwrap().status, JobStatus::Claimed);
    w.check_invariants().await;
}

/// The deadline second accepts a result; the next second does not.
#[tokio::test]
async fn submit_result_accepts_the_deadline_second_and_rejects_the_next() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let on_time = claimed_job(&mut w).await;
    let late = claimed_job(&mut w).await;
    let d0 = w.job(on_time).await.unwrap().deadline;
    let d1 = w.job(late).await.unwrap().deadline;
    w.fx.warp_to_timestamp(d0).await;
    w.submit(on_time).await;
    assert_eq!(w.job(on_time).await.unwrap().status, JobStatus::Submitted);
    w.fx.warp_to_timestamp(d1 + 1).await;
    let ix = w.submit_ix(late, [2; 32]);
    w.fx.send_err(&[ix], &[&w.provider.kp], E::DeadlinePassed).await;
    w.check_invariants().await;
}

#[tokio::test]
async fn submit_result_rejects_a_second_submission() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let id = submitted_job(&mut w).await;
    // A different commitment after the fact would restart the window: rejected.
    let ix = w.submit_ix(id, [0xee; 32]);
    w.fx.send_err(&[ix], &[&w.provider.kp], E::JobNotClaimed).await;
    assert_eq!(w.job(id).await.unwrap().commitment, [2; 32]);
    w.check_invariants().await;
}

#[tokio::test]
async fn submit_result_rejects_an_output_uri_too_long() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let id = claimed_job(&mut w).await;
    let ix = vsdk::submit_result(
        w.provider.key(),
        w.mk.job(id),
        vsdk::SubmitResultArgs {
            commitment: [2; 32],
            output_hash: [3; 32],
            output_uri: "u".repeat(cinder_jobs::MAX_URI_LEN as usize + 1),
        },
    );
    // Raised by the jobs program inside the CPI.
    w.fx.send_err(&[ix], &[&w.provider.kp], JobsError::StringTooLong).await;
    w.check_invariants().await;
}

/// Type cosplay through the verification program: a market in the job's place, and a job's bytes
/// copied into an account the jobs program does not own.
#[tokio::test]
async fn submit_result_rejects_a_cosplayed_or_foreign_job_account() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let id = claimed_job(&mut w).await;
    let mut ix = w.submit_ix(id, [2; 32]);
    replace_key(&mut ix, w.mk.job(id), w.mk.market);
    w.fx.send_err(&[ix], &[&w.provider.kp], Anchor::AccountDiscriminatorMismatch).await;
    let bytes = w.fx.account_data(w.mk.job(id)).await.unwrap();
    let fake = Pubkey::new_unique();
    w.fx.set_raw_account(fake, cinder_verification::ID, bytes);
    w.fx.watch(fake);
    let mut ix = w.submit_ix(id, [2; 32]);
    replace_key(&mut ix, w.mk.job(id), fake);
    w.fx.send_err(&[ix], &[&w.provider.kp], Anchor::AccountOwnedByWrongProgram).await;
    w.check_invariants().await;
}

// ---------------------------------------------------------------------------------------------
// finalize_job

/// The window's last second still belongs to challengers; finalization starts one second later.
#[tokio::test]
async fn finalize_job_rejects_at_window_end_and_accepts_one_second_later() {
    let mut w = World::new(TokenKind::Token2022, 0).await;
    let before = w.balances().await;
    let id = submitted_job(&mut w).await;
    let window_end = w.job(id).await.unwrap().window_end;
    w.fx.warp_to_timestamp(window_end).await;
    let ix = w.finalize_ix(id);
    w.fx.send_err(&[ix], &[], E::ChallengeWindowOpen).await;
    w.check_invariants().await;
    w.fx.warp_to_timestamp(window_end + 1).await;
    let ix = w.finalize_ix(id);
    w.fx.send_ok(&[ix], &[]).await;
    let fee = PRICE * FEE_BPS as u64 / 10_000;
    let after = w.balances().await;
    assert_eq!((after.0, after.1, after.2), (before.0 - PRICE, before.1 + PRICE - fee, before.2 + fee));
    assert_eq!((after.3, after.4), (before.3, 0));
    w.check_invariants().await;
}

#[tokio::test]
async fn finalize_job_rejects_a_second_finalization() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let id = submitted_job(&mut w).await;
    let window_end = w.job(id).await.unwrap().window_end;
    w.fx.warp_to_timestamp(window_end + 1).await;
    let ix = w.finalize_ix(id);
    w.fx.send_ok(std::slice::from_ref(&ix), &[]).await;
    let before = w.balances().await;
    w.fx.send_err(&[ix], &[], Anchor::AccountNotInitialized).await;
    assert_eq!(w.balances().await, before);
    w.check_invariants().await;
}

#[tokio::test]
async fn finalize_job_rejects_a_claimed_job() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let id = claimed_job(&mut w).await;
    let deadline = w.job(id).await.unwrap().deadline;
    w.fx.warp_to_timestamp(deadline + 1_000).await;
    let ix = w.finalize_ix(id);
    w.fx.send_err(&[ix], &[], E::JobNotSubmitted).await;
    w.check_invariants().await;
}

#[tokio::test]
async fn finalize_job_rejects_a_challenged_job() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let id = disputed_job(&mut w).await;
    let window_end = w.job(id).await.unwrap().window_end;
    w.fx.warp_to_timestamp(window_end + 1).await;
    let ix = w.finalize_ix(id);
    w.fx.send_err(&[ix], &[], E::JobNotSubmitted).await;
    w.check_invariants().await;
}

/// Destination swap: an attacker's token account (same mint) as the provider's.
#[tokio::test]
async fn finalize_job_rejects_an_attackers_provider_token() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let id = submitted_job(&mut w).await;
    let atk = attacker(&mut w).await;
    let window_end = w.job(id).await.unwrap().window_end;
    w.fx.warp_to_timestamp(window_end + 1).await;
    let mut ix = w.finalize_ix(id);
    replace_key(&mut ix, w.provider.token, atk.token);
    w.fx.send_err(&[ix], &[], Anchor::ConstraintTokenOwner).await;
    w.check_invariants().await;
}

// ---------------------------------------------------------------------------------------------
// challenge_result

#[tokio::test]
async fn challenge_result_rejects_the_provider_itself() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let id = submitted_job(&mut w).await;
    // The provider is staked and registers as a verifier of the market: still not on its own job.
    let ix = vsdk::register_verifier(w.provider.key(), &w.mk, 4);
    w.fx.send_ok(&[ix], &[&w.provider.kp]).await;
    let ix = vsdk::challenge_result(w.provider.key(), w.provider.token, &w.mk, &w.mk.job(id));
    w.fx.watch(vsdk::dispute_pda(&w.mk.job(id)));
    w.fx.send_err(&[ix], &[&w.provider.kp], E::ProviderCannotChallenge).await;
}

#[tokio::test]
async fn challenge_result_rejects_an_unregistered_key() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let id = submitted_job(&mut w).await;
    let atk = attacker(&mut w).await;
    let ix = vsdk::challenge_result(atk.kp.pubkey(), atk.token, &w.mk, &w.mk.job(id));
    w.fx.watch(vsdk::dispute_pda(&w.mk.job(id)));
    w.fx.send_err(&[ix], &[&atk.kp], Anchor::AccountNotInitialized).await;
    w.check_invariants().await;
}

#[tokio::test]
async fn challenge_result_rejects_a_verifier_whose_stake_was_withdrawn() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let id = submitted_job(&mut w).await;
    let v = w.verifiers[0].kp.pubkey();
    let active = w.stake_of(&v).await.active;
    w.fx.send_ok(&[ssdk::request_unstake(&w.pool, v, active)], &[&w.verifiers[0].kp]).await;
    let ix = w.challenge_ix(id, 0).await;
    w.fx.watch(vsdk::dispute_pda(&w.mk.job(id)));
    w.fx.send_err(&[ix], &[&w.verifiers[0].kp], E::InsufficientStake).await;
    w.check_invariants().await;
}

/// The window's last second accepts a challenge; the next second does not.
#[tokio::test]
async fn challenge_result_accepts_window_end_and_rejects_the_next_second() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let on_time = submitted_job(&mut w).await;
    let late = submitted_job(&mut w).await;
    let w0 = w.job(on_time).await.unwrap().window_end;
    let w1 = w.job(late).await.unwrap().window_end;
    w.fx.warp_to_timestamp(w0).await;
    w.challenge(on_time, 0).await;
    assert_eq!(w.job(on_time).await.unwrap().status, JobStatus::Challenged);
    w.fx.warp_to_timestamp(w1 + 1).await;
    let ix = w.challenge_ix(late, 0).await;
    w.fx.watch(vsdk::dispute_pda(&w.mk.job(late)));
    w.fx.send_err(&[ix], &[&w.verifiers[0].kp], E::ChallengeWindowClosed).await;
    w.check_invariants().await;
}

#[tokio::test]
async fn challenge_result_rejects_a_second_concurrent_challenge() {
    let mut w = World::new(TokenKind::Spl, 5).await;
    let id = disputed_job(&mut w).await;
    let before = w.dispute(id).await.unwrap();
    // Another verifier (its own draw) while the first dispute is open: the dispute account of the
    // job already exists, so `init` fails before anything else runs.
    let ix = w.challenge_ix(id, 1).await;
    let kp = w.verifiers[1].kp.insecure_clone();
    send_init_refused(&mut w, ix, &kp).await;
    assert_eq!(w.dispute(id).await.unwrap(), before);
    w.check_invariants().await;
}

#[tokio::test]
async fn challenge_result_rejects_without_enough_verifiers() {
    // Quorum 3 needs 4 registered verifiers (the challenger never sits on its own quorum).
    let mut w = World::new(TokenKind::Spl, 3).await;
    let id = submitted_job(&mut w).await;
    w.fx.watch(vsdk::dispute_pda(&w.mk.job(id)));
    let ix = w.challenge_ix(id, 0).await;
    w.fx.send_err(&[ix], &[&w.verifiers[0].kp], E::NotEnoughVerifiers).await;
    w.check_invariants().await;
}

// ---------------------------------------------------------------------------------------------
// draw_quorum

/// The quorum depends on randomness produced after the challenge landed: the draw slot is later
/// than the challenge's slot, its hash was not in SlotHashes when the challenge executed, a draw
/// before it exists is refused, and the members are exactly those the later hash selects.
#[tokio::test]
async fn draw_quorum_uses_randomness_produced_after_the_challenge_landed() {
    let mut w = World::new(TokenKind::Spl, 6).await;
    let id = submitted_job(&mut w).await;
    w.challenge_only(id, 0).await;
    let d = w.dispute(id).await.unwrap();
    let clock: Clock = w.fx.ctx.banks_client.get_sysvar().await.unwrap();
    assert_eq!(d.draw_slot, clock.slot + cinder_verification::DRAW_DELAY_SLOTS);
    let data = w.fx.account_data(vsdk::SLOT_HASHES_SYSVAR).await.unwrap();
    assert_eq!(vsdk::draw_slot_hash(&data, d.draw_slot), vsdk::DrawRandomness::NotReady, "unknown at challenge time");
    assert_eq!(d.member_count, 0);
    // Voting cannot start, and drawing too early is refused.
    let m = w.verifiers[1].key();
    let ix = commit_ix(&w, id, &m, VOTE_RESULT_WRONG);
    w.fx.send_err(&[ix], &[&w.verifiers[1].kp], E::QuorumNotDrawn).await;
    let caller = w.fx.ctx.payer.pubkey();
    let early = vsdk::draw_quorum(caller, &w.mk, &w.mk.job(id), &[]);
    w.fx.send_err(&[early], &[], E::RandomnessNotReady).await;
    // Once the slot exists: the seed is the later slot's hash, and the members follow from it.
    w.draw(id).await;
    let d = w.dispute(id).await.unwrap();
    let data = w.fx.account_data(vsdk::SLOT_HASHES_SYSVAR).await.unwrap();
    let vsdk::DrawRandomness::Ready { slot, hash } = vsdk::draw_slot_hash(&data, d.draw_slot) else { panic!() };
    assert!(slot > clock.slot, "a slot produced after the challenge's");
    assert_eq!(d.seed, vsdk::selection_seed(&hash, &w.mk.job(id), &w.verifiers[0].key()));
    // Replay: every verifier holds the same free stake, so the draw accepts by ticket alone.
    let keys = w.verifier_keys();
    let cap = vsdk::weight_cap(d.min_stake);
    let free = w.stake_of(&keys[1]).await.active; // members' locks are taken from the same stake
    let mut expect = vec![];
    let mut step = 0;
    while expect.len() < 3 {
        let (i, ticket) = vsdk::draw_step_pick(&d.seed, step, 6, cap);
        let v = keys[i as usize];
        if v != keys[0] && !expect.contains(&v) && ticket < vsdk::draw_weight(free, d.min_stake, cap) {
            expect.push(v);
        }
        step += 1;
    }
    assert_eq!(members(&mut w, id).await, expect);
    assert_eq!(d.draw_step, step);
    assert!(d.commit_end > 0 && d.reveal_end == d.commit_end + market_params().voting_period_secs);
    w.check_invariants().await;
}

/// A verifier below the minimum free stake (it unstaked after registering) is never drawn, and a
/// drawn member's vote penalty is locked, so it cannot leave with it before `settle_vote`.
#[tokio::test]
async fn draw_quorum_never_draws_a_below_minimum_verifier_and_locks_each_members_penalty() {
    let mut w = World::new(TokenKind::Spl, 6).await;
    let id = submitted_job(&mut w).await;
    // Verifiers 1 and 2 withdraw (request) all their stake after registering.
    for v in [1, 2] {
        let k = w.verifiers[v].key();
        let active = w.stake_of(&k).await.active;
        let kp = w.verifiers[v].kp.insecure_clone();
        w.fx.send_ok(&[ssdk::request_unstake(&w.pool, k, active)], &[&kp]).await;
    }
    w.challenge(id, 0).await;
    let ms = members(&mut w, id).await;
    assert_eq!(ms.len(), 3);
    for v in [1, 2] {
        assert!(!ms.contains(&w.verifiers[v].key()), "below-minimum verifier {v} drawn");
    }
    for m in &ms {
        let st = w.stake_of(m).await;
        assert_eq!(st.locked, market_params().min_stake, "the qualifying stake is locked at the draw");
        let kp = w.verifier_by_key(m).kp.insecure_clone();
        let ix = ssdk::request_unstake(&w.pool, *m, st.active);
        w.fx.send_err(&[ix], &[&kp], StakingError::InsufficientFreeStake).await;
    }
    w.check_invariants().await;
}

#[tokio::test]
async fn draw_quorum_rejects_candidates_the_draw_did_not_pick() {
    let mut w = World::new(TokenKind::Spl, 6).await;
    let id = submitted_job(&mut w).await;
    w.challenge_only(id, 0).await;
    w.pass_draw_slot(id).await;
    let caller = w.fx.ctx.payer.pubkey();
    let job = w.mk.job(id);
    w.fx.send_ok(&[vsdk::draw_quorum(caller, &w.mk, &job, &[])], &[]).await;
    let d = w.dispute(id).await.unwrap();
    w.fx.watch(vsdk::dispute_pda(&job));
    let keys = w.verifier_keys();
    let idx = vsdk::next_draw_indices(&d, 3);
    // The caller names a friendlier verifier in place of the first step's.
    let other = (idx[0] + 1) % 6;
    let ix = vsdk::draw_quorum(caller, &w.mk, &job, &[(other, keys[other as usize])]);
    w.fx.send_err(&[ix], &[], E::InvalidQuorumCandidate).await;
    // The right entry with another verifier's stake account.
    let mut ix = vsdk::draw_quorum(caller, &w.mk, &job, &[(idx[0], keys[idx[0] as usize])]);
    let last = ix.accounts.len() - 1;
    ix.accounts[last].pubkey = w.mk.stake(&keys[other as usize]);
    w.fx.send_err(&[ix], &[], E::InvalidQuorumCandidate).await;
    // Another account type in an entry's place.
    let mut ix = vsdk::draw_quorum(caller, &w.mk, &job, &[(idx[0], keys[idx[0] as usize])]);
    ix.accounts[last - 1].pubkey = w.mk.market;
    w.fx.send_err(&[ix], &[], E::InvalidQuorumCandidate).await;
    // An odd number of candidate accounts, or more pairs than MAX_DRAW_PAIRS.
    let mut ix = vsdk::draw_quorum(caller, &w.mk, &job, &[(idx[0], keys[idx[0] as usize])]);
    ix.accounts.pop();
    w.fx.send_err(&[ix], &[], E::InvalidDrawCandidates).await;
    let n = cinder_verification::MAX_DRAW_PAIRS as usize + 1;
    let pairs: Vec<(u32, Pubkey)> = vsdk::next_draw_indices(&d, n).into_iter().map(|i| (i, keys[i as usize])).collect();
    let mut pairs11 = pairs.clone();
    pairs11.push(pairs[0]);
    let ix = vsdk::draw_quorum(caller, &w.mk, &job, &pairs11);
    w.fx.send_err(&[ix], &[], E::InvalidDrawCandidates).await;
    assert_eq!(w.dispute(id).await.unwrap().member_count, 0);
    w.check_invariants().await;
}

#[tokio::test]
async fn draw_quorum_rejects_a_complete_quorum_and_a_resolved_dispute() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let id = disputed_job(&mut w).await;
    let caller = w.fx.ctx.payer.pubkey();
    let ix = vsdk::draw_quorum(caller, &w.mk, &w.mk.job(id), &[]);
    w.fx.send_err(&[ix], &[], E::QuorumAlreadyDrawn).await;
    w.check_invariants().await;
}

/// With too few eligible verifiers the draw cannot complete: after the draw deadline the dispute
/// resolves as NoQuorum (result stands, bond back), nobody drawn so far is penalised, and their
/// locks are released.
#[tokio::test]
async fn an_incomplete_draw_resolves_as_no_quorum_after_its_deadline_without_penalties() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let id = submitted_job(&mut w).await;
    // Verifier 3 unstakes: only 2 of the 3 others are eligible.
    let k = w.verifiers[3].key();
    let active = w.stake_of(&k).await.active;
    let kp = w.verifiers[3].kp.insecure_clone();
    w.fx.send_ok(&[ssdk::request_unstake(&w.pool, k, active)], &[&kp]).await;
    w.challenge(id, 0).await;
    let d = w.dispute(id).await.unwrap();
    assert_eq!(d.member_count, 2, "the draw stopped after its step limit with 2 of 3 seats");
    let more = w.draw_ix(id).await.expect("seed fixed");
    w.fx.send_err(&[more], &[], E::DrawStepsExhausted).await;
    w.fx.send_err(&[w.resolve_ix(id, 0)], &[], E::DrawNotOver).await;
    w.fx.warp_to_timestamp(d.draw_deadline + 1).await;
    let ch_before = w.fx.balance(w.verifiers[0].token).await;
    let logs = w.fx.send_ok(&[w.resolve_ix(id, 0)], &[]).await;
    assert_eq!(one_event::<DisputeResolved>(&logs).outcome, DisputeOutcome::NoQuorum);
    assert_eq!(w.fx.balance(w.verifiers[0].token).await, ch_before + BOND);
    for logs in w.settle_all_votes(id, 0).await {
        let ev: VoteSettled = one_event(&logs);
        assert!(!ev.penalised && ev.penalty == 0);
    }
    assert!(w.dispute(id).await.is_none());
    w.check_invariants().await;
}

// ---------------------------------------------------------------------------------------------
// The jobs transitions only the verification program may drive, attempted by a challenger

#[tokio::test]
async fn mark_challenged_and_slash_job_reject_a_direct_call_by_a_challenger() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let id = submitted_job(&mut w).await;
    let v = w.verifiers[0].kp.pubkey();
    let ix = mark_challenged_ix(v, w.mk.job(id), v);
    w.fx.send_err(&[ix], &[&w.verifiers[0].kp], JobsError::NotVerificationProgram).await;
    w.challenge(id, 0).await;
    // With the job Challenged, the challenger tries to skip the vote and slash directly.
    let ix = slash_job_ix(&w, v, id, w.verifiers[0].token);
    w.fx.send_err(&[ix], &[&w.verifiers[0].kp], JobsError::NotVerificationProgram).await;
    let mut ix = slash_job_ix(&w, vsdk::verification_authority(), id, w.verifiers[0].token);
    ix.accounts[0].is_signer = false;
    w.fx.send_err(&[ix], &[], Anchor::AccountNotSigner).await;
    assert_eq!(w.job(id).await.unwrap().status, JobStatus::Challenged);
    w.check_invariants().await;
}

// ---------------------------------------------------------------------------------------------
// commit_vote and reveal_vote

#[tokio::test]
async fn commit_vote_rejects_a_non_member_and_a_second_commit() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let id = disputed_job(&mut w).await;
    // The challenger is never on the quorum; neither is the provider.
    let ch = w.verifiers[0].kp.pubkey();
    let ix = commit_ix(&w, id, &ch, VOTE_RESULT_WRONG);
    w.fx.send_err(&[ix], &[&w.verifiers[0].kp], E::NotQuorumMember).await;
    let ix = commit_ix(&w, id, &w.provider.key(), VOTE_RESULT_CORRECT);
    w.fx.send_err(&[ix], &[&w.provider.kp], E::NotQuorumMember).await;
    let m = members(&mut w, id).await[0];
    let kp = w.verifier_by_key(&m).kp.insecure_clone();
    w.fx.send_ok(&[commit_ix(&w, id, &m, VOTE_RESULT_CORRECT)], &[&kp]).await;
    let ix = commit_ix(&w, id, &m, VOTE_RESULT_WRONG);
    w.fx.send_err(&[ix], &[&kp], E::AlreadyCommitted).await;
    w.check_invariants().await;
}

/// Commit phase: `..= commit_end`.
#[tokio::test]
async fn commit_vote_accepts_commit_end_and_rejects_the_next_second() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let id = disputed_job(&mut w).await;
    let d = w.dispute(id).await.unwrap();
    let ms = members(&mut w, id).await;
    let (k0, k1) = (w.verifier_by_key(&ms[0]).kp.insecure_clone(), w.verifier_by_key(&ms[1]).kp.insecure_clone());
    w.fx.warp_to_timestamp(d.commit_end).await;
    w.fx.send_ok(&[commit_ix(&w, id, &ms[0], VOTE_RESULT_WRONG)], &[&k0]).await;
    w.fx.warp_to_timestamp(d.commit_end + 1).await;
    let ix = commit_ix(&w, id, &ms[1], VOTE_RESULT_WRONG);
    w.fx.send_err(&[ix], &[&k1], E::CommitPhaseOver).await;
    w.check_invariants().await;
}

/// Reveal phase: `commit_end + 1 ..= reveal_end`.
#[tokio::test]
async fn reveal_vote_rejects_outside_the_reveal_phase() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let id = disputed_job(&mut w).await;
    w.commit_all(id, |_| Some(VOTE_RESULT_WRONG)).await;
    let d = w.dispute(id).await.unwrap();
    let ms = members(&mut w, id).await;
    let kps: Vec<_> = ms.iter().map(|m| w.verifier_by_key(m).kp.insecure_clone()).collect();
    w.fx.warp_to_timestamp(d.commit_end).await;
    let ix = reveal_ix(&w, id, &ms[0], VOTE_RESULT_WRONG);
    w.fx.send_err(&[ix], &[&kps[0]], E::RevealPhaseNotOpen).await;
    w.fx.warp_to_timestamp(d.reveal_end).await;
    w.fx.send_ok(&[reveal_ix(&w, id, &ms[0], VOTE_RESULT_WRONG)], &[&kps[0]]).await;
    w.fx.warp_to_timestamp(d.reveal_end + 1).await;
    let ix = reveal_ix(&w, id, &ms[1], VOTE_RESULT_WRONG);
    w.fx.send_err(&[ix], &[&kps[1]], E::RevealPhaseNotOpen).await;
    w.check_invariants().await;
}

#[tokio::test]
async fn reveal_vote_rejects_a_wrong_salt_a_changed_vote_an_invalid_value_and_no_commitment() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let id = disputed_job(&mut w).await;
    let ms = members(&mut w, id).await;
    let kps: Vec<_> = ms.iter().map(|m| w.verifier_by_key(m).kp.insecure_clone()).collect();
    // Members 0 and 1 commit WRONG; member 2 never commits.
    w.commit_all(id, |i| (i < 2).then_some(VOTE_RESULT_WRONG)).await;
    let d = w.dispute(id).await.unwrap();
    w.fx.warp_to_timestamp(d.commit_end + 1).await;
    let job = w.mk.job(id);
    let ix = vsdk::reveal_vote(ms[0], &job, VOTE_RESULT_WRONG, [0xab; 32]);
    w.fx.send_err(&[ix], &[&kps[0]], E::VoteMismatch).await;
    let ix = reveal_ix(&w, id, &ms[0], VOTE_RESULT_CORRECT);
    w.fx.send_err(&[ix], &[&kps[0]], E::VoteMismatch).await;
    let ix = reveal_ix(&w, id, &ms[0], 4);
    w.fx.send_err(&[ix], &[&kps[0]], E::InvalidVote).await;
    let ix = reveal_ix(&w, id, &ms[2], VOTE_RESULT_WRONG);
    w.fx.send_err(&[ix], &[&kps[2]], E::NothingToReveal).await;
    // The honest reveal works once, and only once.
    w.fx.send_ok(&[reveal_ix(&w, id, &ms[0], VOTE_RESULT_WRONG)], &[&kps[0]]).await;
    let ix = reveal_ix(&w, id, &ms[0], VOTE_RESULT_WRONG);
    w.fx.send_err(&[ix], &[&kps[0]], E::NothingToReveal).await;
    w.check_invariants().await;
}

// ---------------------------------------------------------------------------------------------
// resolve_dispute

/// Voting ends after `reveal_end` (or earlier once every member has revealed).
#[tokio::test]
async fn resolve_dispute_rejects_at_reveal_end_unless_all_revealed() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let id = disputed_job(&mut w).await;
    w.commit_all(id, |_| Some(VOTE_RESULT_WRONG)).await;
    let d = w.dispute(id).await.unwrap();
    w.fx.warp_to_timestamp(d.commit_end + 1).await;
    let ix = w.resolve_ix(id, 0);
    w.fx.send_err(&[ix], &[], E::VotingNotOver).await;
    w.reveal_all(id, |i| (i < 2).then_some(VOTE_RESULT_WRONG)).await;
    w.fx.warp_to_timestamp(d.reveal_end).await;
    let ix = w.resolve_ix(id, 0);
    w.fx.send_err(&[ix], &[], E::VotingNotOver).await;
    w.check_invariants().await;
    w.fx.warp_to_timestamp(d.reveal_end + 1).await;
    let ix = w.resolve_ix(id, 0);
    let ev: DisputeResolved = one_event(&w.fx.send_ok(&[ix], &[]).await);
    assert_eq!((ev.outcome, ev.votes_wrong), (DisputeOutcome::ProviderWrong, 2));
    w.check_invariants().await;
}

#[tokio::test]
async fn resolve_dispute_rejects_a_second_resolution() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let id = disputed_job(&mut w).await;
    let d = w.dispute(id).await.unwrap();
    w.fx.warp_to_timestamp(d.reveal_end + 1).await;
    let ix = w.resolve_ix(id, 0);
    w.fx.send_ok(std::slice::from_ref(&ix), &[]).await;
    let before = w.balances().await;
    // The job is closed by the first resolution; the dispute stays (Resolved) for settle_vote.
    w.fx.send_err(&[ix], &[], Anchor::AccountNotInitialized).await;
    assert_eq!(w.balances().await, before);
    assert_ne!(w.dispute(id).await.unwrap().outcome, DisputeOutcome::Pending);
    w.check_invariants().await;
}

#[tokio::test]
async fn resolve_dispute_rejects_a_wrong_bond_escrow() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let id = disputed_job(&mut w).await;
    let d = w.dispute(id).await.unwrap();
    w.fx.warp_to_timestamp(d.reveal_end + 1).await;
    let mut ix = w.resolve_ix(id, 0);
    replace_key(&mut ix, w.bond_keys(id).escrow, w.escrow_keys(id).escrow);
    w.fx.send_err(&[ix], &[], E::WrongDisputeAccount).await;
    w.check_invariants().await;
}

/// On ProviderWrong the challenger's reward and bond go to the challenger's token account:
/// resolve_dispute checks the owner of every party's token account, so an attacker's is rejected.
#[tokio::test]
async fn resolve_dispute_rejects_an_attackers_challenger_token() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let id = disputed_job(&mut w).await;
    w.commit_all(id, |_| Some(VOTE_RESULT_WRONG)).await;
    let d = w.dispute(id).await.unwrap();
    w.fx.warp_to_timestamp(d.commit_end + 1).await;
    w.reveal_all(id, |_| Some(VOTE_RESULT_WRONG)).await;
    let atk = attacker(&mut w).await;
    let mut ix = w.resolve_ix(id, 0);
    replace_key(&mut ix, w.verifiers[0].token, atk.token);
    w.fx.send_err(&[ix], &[], E::WrongDisputeAccount).await;
    w.check_invariants().await;
}

/// Nobody reveals: after `reveal_end` the dispute resolves NoQuorum — the provider is paid, the
/// bond goes back, no collateral stays locked — and every silent member pays its vote penalty.
#[tokio::test]
async fn resolve_dispute_without_reveals_is_no_quorum_and_locks_nothing() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let before = w.balances().await;
    let ch_token = w.verifiers[0].token;
    let ch_before = w.fx.balance(ch_token).await;
    let id = disputed_job(&mut w).await;
    w.commit_all(id, |_| Some(VOTE_RESULT_WRONG)).await;
    let d = w.dispute(id).await.unwrap();
    w.fx.warp_to_timestamp(d.reveal_end + 1).await;
    let ix = w.resolve_ix(id, 0);
    let ev: DisputeResolved = one_event(&w.fx.send_ok(&[ix], &[]).await);
    assert_eq!(
        (ev.outcome, ev.votes_correct, ev.votes_wrong, ev.bond_refunded, ev.bond_to_provider),
        (DisputeOutcome::NoQuorum, 0, 0, BOND, 0)
    );
    let fee = PRICE * FEE_BPS as u64 / 10_000;
    let after = w.balances().await;
    assert_eq!(after.0, before.0 - PRICE, "client paid");
    assert_eq!(after.1, before.1 + PRICE - fee, "provider paid");
    assert_eq!(after.2, before.2 + fee, "treasury: the fee only");
    assert_eq!((after.3, after.4), (before.3, 0), "stake intact, nothing locked");
    assert_eq!(w.fx.balance(ch_token).await, ch_before, "bond refunded");
    assert!(w.job(id).await.is_none());
    w.check_invariants().await;

    let ms = members(&mut w, id).await;
    // Anyone may settle a vote; the penalty accrues to the pool's treasury only (no account to
    // redirect it to is even passed).
    for (i, m) in ms.iter().enumerate() {
        let (active, locked) = {
            let st = w.stake_of(m).await;
            (st.active, st.locked)
        };
        let accrued = w.fx.anchor_account::<cinder_staking::StakePool>(w.pool.pool).await.treasury_accrued;
        let ix = w.settle_vote_ix(id, m, 0);
        let ev: VoteSettled = one_event(&w.fx.send_ok(&[ix], &[]).await);
        assert_eq!((ev.penalised, ev.penalty, ev.dispute_closed), (true, PENALTY, i == ms.len() - 1));
        let st = w.stake_of(m).await;
        let lock = market_params().min_stake;
        assert_eq!(
            (st.active, st.locked),
            (active - PENALTY, locked - lock),
            "the vote's own lock paid it, the rest released"
        );
        let pool: cinder_staking::StakePool = w.fx.anchor_account(w.pool.pool).await;
        assert_eq!(pool.treasury_accrued, accrued + PENALTY);
        w.check_invariants().await;
    }
    assert!(w.dispute(id).await.is_none());
}

// ---------------------------------------------------------------------------------------------
// settle_vote

/// Quorum 5: three vote WRONG, one votes CORRECT (the losing side), one commits and never
/// reveals. Settling before resolution, settling a non-member and settling a member twice are
/// rejected; the loser and the silent member each lose `vote_penalty` to the treasury.
#[tokio::test]
async fn settle_vote_penalises_the_losing_side_and_non_revealers_exactly_once() {
    let mut w = World::new(TokenKind::Spl, 6).await;
    let p = MarketParams { quorum: 5, ..market_params() };
    w.fx.send_ok(&[jsdk::update_market(w.admin.pubkey(), &w.mk, p)], &[&w.admin]).await;
    w.refresh_terms().await;
    let id = disputed_job(&mut w).await;
    let ms = members(&mut w, id).await;
    assert_eq!(ms.len(), 5);
    let vote = |i: usize| if i == 3 { VOTE_RESULT_CORRECT } else { VOTE_RESULT_WRONG };
    w.commit_all(id, |i| Some(vote(i))).await;

    let ix = w.settle_vote_ix(id, &ms[0], 0);
    w.fx.send_err(&[ix], &[], E::NotResolved).await;

    let d = w.dispute(id).await.unwrap();
    w.fx.warp_to_timestamp(d.commit_end + 1).await;
    w.reveal_all(id, |i| (i != 4).then(|| vote(i))).await;
    w.fx.warp_to_timestamp(d.reveal_end + 1).await;
    let ix = w.resolve_ix(id, 0);
    let ev: DisputeResolved = one_event(&w.fx.send_ok(&[ix], &[]).await);
    assert_eq!((ev.outcome, ev.votes_wrong, ev.votes_correct), (DisputeOutcome::ProviderWrong, 3, 1));
    w.check_invariants().await;

    // The challenger is not a member: its stake cannot be "settled".
    let ch = w.verifiers[0].kp.pubkey();
    let ix = w.settle_vote_ix(id, &ch, 0);
    w.fx.send_err(&[ix], &[], E::NotQuorumMember).await;

    let mut penalties = 0;
    for (i, m) in ms.iter().enumerate() {
        let (active, locked) = {
            let st = w.stake_of(m).await;
            (st.active, st.locked)
        };
        let accrued = w.fx.anchor_account::<cinder_staking::StakePool>(w.pool.pool).await.treasury_accrued;
        let ix = w.settle_vote_ix(id, m, 0);
        let ev: VoteSettled = one_event(&w.fx.send_ok(std::slice::from_ref(&ix), &[]).await);
        let expect = if i >= 3 { PENALTY } else { 0 };
        assert_eq!((ev.voter, ev.penalised, ev.penalty), (*m, i >= 3, expect), "member {i}");
        let st = w.stake_of(m).await;
        let lock = market_params().min_stake;
        assert_eq!((st.active, st.locked), (active - expect, locked - lock), "lock released either way");
        let pool: cinder_staking::StakePool = w.fx.anchor_account(w.pool.pool).await;
        assert_eq!(pool.treasury_accrued, accrued + expect);
        penalties += expect;
        if i < ms.len() - 1 {
            w.fx.send_err(&[ix], &[], E::AlreadySettled).await;
        } else {
            assert!(ev.dispute_closed);
            w.fx.send_err(&[ix], &[], Anchor::AccountNotInitialized).await;
        }
        w.check_invariants().await;
    }
    assert_eq!(penalties, 2 * PENALTY);
    assert!(w.dispute(id).await.is_none());
}

// ---------------------------------------------------------------------------------------------
// Fake programs and unbounded remaining accounts

#[tokio::test]
async fn finalize_job_rejects_a_fake_jobs_program() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let id = submitted_job(&mut w).await;
    let window_end = w.job(id).await.unwrap().window_end;
    w.fx.warp_to_timestamp(window_end + 1).await;
    let mut ix = w.finalize_ix(id);
    replace_key(&mut ix, cinder_jobs::ID, cinder_test_caller::ID);
    w.fx.send_err(&[ix], &[], Anchor::InvalidProgramId).await;
    w.check_invariants().await;
}

/// The right account type with the wrong parent: a submitted job of another market challenged
/// through this market (whose verifier set and bond would then apply).
#[tokio::test]
async fn challenge_result_rejects_a_job_of_another_market() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let mk2 = second_market_with_a_job(&mut w).await;
    w.fx.send_ok(&[jsdk::claim_job(w.provider.key(), &mk2, 0, &[])], &[&w.provider.kp]).await;
    let ix = vsdk::submit_result(
        w.provider.key(),
        mk2.job(0),
        vsdk::SubmitResultArgs { commitment: [2; 32], output_hash: [3; 32], output_uri: "cas://0303".into() },
    );
    w.fx.send_ok(&[ix], &[&w.provider.kp]).await;
    w.fx.watch(vsdk::dispute_pda(&mk2.job(0)));
    let ch = w.verifiers[0].kp.pubkey();
    let ix = vsdk::challenge_result(ch, w.verifiers[0].token, &w.mk, &mk2.job(0));
    w.fx.send_err(&[ix], &[&w.verifiers[0].kp], Anchor::ConstraintHasOne).await;
    assert_eq!(w.fx.anchor_account::<jsdk::Job>(mk2.job(0)).await.status, JobStatus::Submitted);
}
