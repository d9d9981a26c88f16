//! The verifier registry and the draw's resistance to acting on public randomness:
//! `remove_verifier` (self, or anyone below the minimum; the set stays dense; never while a draw is
//! in progress), registrations that withdrew their stake pruned so they cannot exhaust a draw, the
//! candidate count fixed at the challenge, stake raised after the randomness slot weighing nothing,
//! and abstentions.
#![allow(deprecated)]
use anchor_lang::prelude::{Clock, Pubkey};
use cinder_sdk::{staking as ssdk, verification as vsdk};
use cinder_tests::{
    one_event,
    world::{Party, World},
    Fixture, TokenKind,
};
use cinder_verification::{
    DisputeOutcome, DisputeResolved, VerificationError as E, VerifierRemoved, VoteSettled, VOTE_ABSTAIN,
    VOTE_RESULT_WRONG,
};
use solana_signer::Signer;

use crate::jobs_rejections::{attacker, claimed_job, extra_staker, replace_key};

async fn submitted_job(w: &mut World) -> u64 {
    let id = claimed_job(w).await;
    w.submit(id).await;
    id
}

async fn set(w: &mut World) -> vsdk::VerifierSet {
    let k = vsdk::verifier_set_pda(&w.mk.market);
    w.fx.anchor_account(k).await
}

async fn entry(w: &mut World, index: u32) -> Option<vsdk::VerifierEntry> {
    let k = vsdk::verifier_entry_pda(&w.mk.market, index);
    if w.fx.exists(k).await {
        Some(w.fx.anchor_account(k).await)
    } else {
        None
    }
}

/// The remove instruction for `v` (its current index, the set's current last registration).
async fn remove_ix(w: &mut World, caller: Pubkey, v: Pubkey) -> cinder_sdk::Instruction {
    let marker: vsdk::VerifierMarker = w.fx.anchor_account(vsdk::verifier_marker_pda(&w.mk.market, &v)).await;
    let s = set(w).await;
    let last = entry(w, s.count - 1).await.expect("last entry").verifier;
    vsdk::remove_verifier(caller, &w.mk, v, marker.index, s.count, last)
}

async fn register(w: &mut World, p: &Party) -> u32 {
    let n = set(w).await.count;
    w.fx.send_ok(&[vsdk::register_verifier(p.key(), &w.mk, n)], &[&p.kp]).await;
    n
}

async fn unstake_all(w: &mut World, p: &Party) {
    let free = {
        let st = w.stake_of(&p.key()).await;
        st.active - st.locked
    };
    w.fx.send_ok(&[ssdk::request_unstake(&w.pool, p.key(), free)], &[&p.kp]).await;
}

/// A stranger cannot remove a staked registration, nor pass the wrong last entry or marker; the
/// verifier removes itself, the last registration moves into its index (marker rewritten, the
/// freed accounts' rent back to the verifier), it can register again, and removing the last entry
/// moves nothing.
#[tokio::test]
async fn remove_verifier_keeps_the_set_dense_and_refuses_strangers_while_staked() {
    let mut w = World::new(TokenKind::Spl, 5).await;
    let keys = w.verifier_keys();
    let atk = attacker(&mut w).await;
    w.fx.watch(vsdk::verifier_set_pda(&w.mk.market));
    for i in 0..5 {
        w.fx.watch(vsdk::verifier_entry_pda(&w.mk.market, i));
        w.fx.watch(vsdk::verifier_marker_pda(&w.mk.market, &keys[i as usize]));
    }
    let ix = remove_ix(&mut w, atk.key(), keys[1]).await;
    w.fx.send_err(&[ix], &[&atk.kp], E::VerifierStillStaked).await;
    // The wrong "last" entry (index 2 is not the last) and the wrong last marker.
    let mut ix = remove_ix(&mut w, keys[1], keys[1]).await;
    replace_key(&mut ix, vsdk::verifier_entry_pda(&w.mk.market, 4), vsdk::verifier_entry_pda(&w.mk.market, 2));
    w.fx.send_err(&[ix], &[&w.verifiers[1].kp], E::WrongVerifierEntry).await;
    let mut ix = remove_ix(&mut w, keys[1], keys[1]).await;
    replace_key(
        &mut ix,
        vsdk::verifier_marker_pda(&w.mk.market, &keys[4]),
        vsdk::verifier_marker_pda(&w.mk.market, &keys[3]),
    );
    w.fx.send_err(&[ix], &[&w.verifiers[1].kp], E::WrongVerifierEntry).await;
    // Another market's registration in the entry's place is refused too.
    let mut ix = remove_ix(&mut w, keys[1], keys[1]).await;
    replace_key(&mut ix, vsdk::verifier_entry_pda(&w.mk.market, 1), w.mk.market);
    w.fx.send_err(&[ix], &[&w.verifiers[1].kp], E::WrongVerifierEntry).await;

    let rent_before = w.fx.lamports(keys[1]).await;
    let freed = w.fx.lamports(vsdk::verifier_entry_pda(&w.mk.market, 4)).await
        + w.fx.lamports(vsdk::verifier_marker_pda(&w.mk.market, &keys[1])).await;
    let ix = remove_ix(&mut w, keys[1], keys[1]).await;
    let kp = w.verifiers[1].kp.insecure_clone();
    let ev: VerifierRemoved = one_event(&w.fx.send_ok(&[ix], &[&kp]).await);
    assert_eq!((ev.verifier, ev.index, ev.moved, ev.by), (keys[1], 1, Some(keys[4]), keys[1]));
    assert_eq!(set(&mut w).await.count, 4);
    let moved = entry(&mut w, 1).await.unwrap();
    let clock: Clock = w.fx.ctx.banks_client.get_sysvar().await.unwrap();
    assert_eq!((moved.verifier, moved.index, moved.since_slot), (keys[4], 1, clock.slot));
    assert!(entry(&mut w, 4).await.is_none(), "the last entry's account is closed");
    let m4: vsdk::VerifierMarker = w.fx.anchor_account(vsdk::verifier_marker_pda(&w.mk.market, &keys[4])).await;
    assert_eq!(m4.index, 1);
    assert!(!w.fx.exists(vsdk::verifier_marker_pda(&w.mk.market, &keys[1])).await);
    // The fixture payer paid the fee; the verifier gets back exactly the freed rent.
    assert_eq!(w.fx.lamports(keys[1]).await, rent_before + freed);

    // It registers again (at the end), then removes itself as the last registration.
    let v1 = Party { kp: kp.insecure_clone(), token: w.verifiers[1].token };
    assert_eq!(register(&mut w, &v1).await, 4);
    let ix = remove_ix(&mut w, keys[1], keys[1]).await;
    let ev: VerifierRemoved = one_event(&w.fx.send_ok(&[ix], &[&kp]).await);
    assert_eq!((ev.index, ev.moved), (4, None));
    assert_eq!(set(&mut w).await.count, 4);
    assert!(entry(&mut w, 4).await.is_none());
}

/// Twenty registrations that withdrew their stake are pruned by a stranger (permissionless), the
/// staked ones are not, and a draw then completes from the staked verifiers.
#[tokio::test]
async fn registrations_below_the_minimum_are_pruned_by_anyone_and_the_draw_completes() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let mut dead = vec![];
    for _ in 0..20 {
        let p = extra_staker(&mut w, 10_000).await;
        register(&mut w, &p).await;
        unstake_all(&mut w, &p).await;
        dead.push(p);
    }
    assert_eq!(set(&mut w).await.count, 24);
    let atk = attacker(&mut w).await;
    for v in w.verifier_keys() {
        let ix = remove_ix(&mut w, atk.key(), v).await;
        w.fx.send_err(&[ix], &[&atk.kp], E::VerifierStillStaked).await;
    }
    for p in &dead {
        let ix = remove_ix(&mut w, atk.key(), p.key()).await;
        let ev: VerifierRemoved = one_event(&w.fx.send_ok(&[ix], &[&atk.kp]).await);
        assert_eq!((ev.verifier, ev.by), (p.key(), atk.key()));
    }
    assert_eq!(set(&mut w).await.count, 4);
    let mut left: Vec<Pubkey> = vec![];
    for i in 0..4 {
        left.push(entry(&mut w, i).await.unwrap().verifier);
    }
    left.sort();
    let mut keys = w.verifier_keys();
    keys.sort();
    assert_eq!(left, keys, "exactly the staked registrations remain");
    let id = submitted_job(&mut w).await;
    w.challenge(id, 0).await;
    let d = w.dispute(id).await.unwrap();
    assert!(d.drawn(), "the quorum is complete");
    // (extra stakers are outside the world's stake invariants)
}

/// The candidate count is fixed when the challenge lands: a registration after it never takes
/// part in that dispute.
#[tokio::test]
async fn a_registration_after_the_challenge_never_takes_part_in_its_draw() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let id = submitted_job(&mut w).await;
    w.challenge_only(id, 0).await;
    let late = extra_staker(&mut w, 20_000).await;
    assert_eq!(register(&mut w, &late).await, 4);
    let d = w.dispute(id).await.unwrap();
    assert_eq!(d.candidate_count, 4, "the count when the challenge landed");
    w.draw(id).await;
    let d = w.dispute(id).await.unwrap();
    assert!(d.drawn());
    assert!(!d.members.contains(&late.key()));
    // (extra stakers are outside the world's stake invariants)
}

/// Finds a SlotHashes salt whose draw seed makes step 0 name `index` with a ticket below
/// `weight`: the candidate would be drawn at once if its weight counted.
fn salt_naming(d: &vsdk::Dispute, job: &Pubkey, index: u32, weight: u64) -> u64 {
    let cap = vsdk::weight_cap(d.min_stake);
    (0..10_000u64)
        .find(|salt| {
            let seed = vsdk::selection_seed(&Fixture::pinned_slot_hash(*salt, d.draw_slot), job, &d.challenger);
            let (i, ticket) = vsdk::draw_step_pick(&seed, 0, d.candidate_count, cap);
            i == index && ticket < weight
        })
        .expect("a salt")
}

/// Nobody can act on the draw's randomness once it is public: a verifier that raises its stake
/// (cancels its unstake) after the randomness slot weighs nothing in that draw, even at the step
/// that names it with a winning ticket.
#[tokio::test]
async fn stake_raised_after_the_randomness_slot_weighs_nothing() {
    let mut w = World::new(TokenKind::Spl, 6).await;
    let x = w.verifiers[5].kp.insecure_clone();
    let xp = Party { kp: x.insecure_clone(), token: w.verifiers[5].token };
    unstake_all(&mut w, &xp).await;
    let id = submitted_job(&mut w).await;
    w.challenge_only(id, 0).await;
    w.pass_draw_slot(id).await;
    let d = w.dispute(id).await.unwrap();
    let job = w.mk.job(id);
    let full = w.stake_of(&x.pubkey()).await.pending;
    let weight = vsdk::draw_weight(full, d.min_stake.max(d.vote_penalty), vsdk::weight_cap(d.min_stake));
    let salt = salt_naming(&d, &job, 5, weight);
    w.fx.pin_slot_hashes(salt).await;
    let caller = w.fx.ctx.payer.pubkey();
    w.fx.send_ok(&[vsdk::draw_quorum(caller, &w.mk, &job, &[])], &[]).await;
    // The seed is public now: X takes its stake back, to full weight.
    w.fx.send_ok(&[ssdk::cancel_unstake(&w.pool, x.pubkey())], &[&x]).await;
    let st = w.stake_of(&x.pubkey()).await;
    assert!(st.active - st.locked >= d.min_stake, "X holds enough to be drawn");
    let d = w.dispute(id).await.unwrap();
    assert_eq!(vsdk::next_draw_indices(&d, 1), vec![5], "step 0 names X");
    while !w.dispute(id).await.unwrap().drawn() {
        let ix = w.draw_ix(id).await.unwrap();
        w.fx.send_ok(&[ix], &[]).await;
    }
    let d = w.dispute(id).await.unwrap();
    assert!(!d.members.contains(&x.pubkey()), "stake raised after the randomness slot bought a seat");
    w.check_invariants().await;
}

/// Entries never move under a draw in flight: while a dispute's draw is in progress every removal
/// is refused (`DrawInProgress`), the verifier's own included, so nobody can knock a registration
/// out of a draw or move a key onto an index the public randomness names; once the quorum is drawn
/// removals work again. An incomplete draw ends at resolution, which frees removals too.
#[tokio::test]
async fn registrations_cannot_move_while_a_draw_is_in_progress() {
    let mut w = World::new(TokenKind::Spl, 6).await;
    let keys = w.verifier_keys();
    let id = submitted_job(&mut w).await;
    w.challenge_only(id, 0).await;
    assert_eq!(set(&mut w).await.drawing, 1);
    w.pass_draw_slot(id).await;
    let job = w.mk.job(id);
    let caller = w.fx.ctx.payer.pubkey();
    w.fx.send_ok(&[vsdk::draw_quorum(caller, &w.mk, &job, &[])], &[]).await;
    let kp = w.verifiers[2].kp.insecure_clone();
    w.fx.watch(vsdk::verifier_set_pda(&w.mk.market));
    w.fx.watch(vsdk::verifier_entry_pda(&w.mk.market, 2));
    let ix = remove_ix(&mut w, keys[2], keys[2]).await;
    w.fx.send_err(&[ix], &[&kp], E::DrawInProgress).await;
    while !w.dispute(id).await.unwrap().drawn() {
        let ix = w.draw_ix(id).await.unwrap();
        w.fx.send_ok(&[ix], &[]).await;
    }
    assert_eq!(set(&mut w).await.drawing, 0, "the completed draw released the set");
    let ix = remove_ix(&mut w, keys[2], keys[2]).await;
    w.fx.send_ok(&[ix], &[&kp]).await;
    assert_eq!(entry(&mut w, 2).await.unwrap().verifier, keys[5], "the last registration moved in");
    w.check_invariants().await;

    // A draw that never completes ends at resolution (after its deadline).
    let mut w = World::new(TokenKind::Spl, 4).await;
    let id = submitted_job(&mut w).await;
    w.challenge_only(id, 0).await;
    assert_eq!(set(&mut w).await.drawing, 1);
    let d = w.dispute(id).await.unwrap();
    w.fx.warp_to_timestamp(d.draw_deadline + 1).await;
    let ix = w.resolve_ix(id, 0);
    let ev: DisputeResolved = one_event(&w.fx.send_ok(&[ix], &[]).await);
    assert_eq!(ev.outcome, DisputeOutcome::NoQuorum);
    assert_eq!(set(&mut w).await.drawing, 0, "the resolution ended the draw");
    let v = w.verifier_keys()[3];
    let kp = w.verifiers[3].kp.insecure_clone();
    let ix = remove_ix(&mut w, v, v).await;
    w.fx.send_ok(&[ix], &[&kp]).await;
}

/// Abstentions decide nothing: a quorum that all abstains resolves NoQuorum and nobody is
/// penalised; when the others decide, the abstainer loses its vote penalty.
#[tokio::test]
async fn abstentions_decide_nothing_and_are_penalised_only_when_the_others_decided() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    for (votes, outcome) in [
        ([VOTE_ABSTAIN; 3], DisputeOutcome::NoQuorum),
        ([VOTE_RESULT_WRONG, VOTE_RESULT_WRONG, VOTE_ABSTAIN], DisputeOutcome::ProviderWrong),
    ] {
        let id = submitted_job(&mut w).await;
        w.challenge(id, 0).await;
        w.commit_all(id, |i| Some(votes[i])).await;
        let d = w.dispute(id).await.unwrap();
        w.fx.warp_to_timestamp(d.commit_end + 1).await;
        w.reveal_all(id, |i| Some(votes[i])).await;
        let ix = w.resolve_ix(id, 0);
        let ev: DisputeResolved = one_event(&w.fx.send_ok(&[ix], &[]).await);
        assert_eq!(ev.outcome, outcome);
        let ms = d.members[..3].to_vec();
        for (i, m) in ms.iter().enumerate() {
            let ix = w.settle_vote_ix(id, m, 0);
            let ev: VoteSettled = one_event(&w.fx.send_ok(&[ix], &[]).await);
            let expect = outcome == DisputeOutcome::ProviderWrong && votes[i] == VOTE_ABSTAIN;
            assert_eq!(ev.penalised, expect, "member {i} voting {}", votes[i]);
        }
        w.check_invariants().await;
    }
    // Any other value is refused.
    let id = submitted_job(&mut w).await;
    w.challenge(id, 0).await;
    w.commit_all(id, |_| Some(4)).await;
    let d = w.dispute(id).await.unwrap();
    w.fx.warp_to_timestamp(d.commit_end + 1).await;
    let m = d.members[0];
    let kp = w.verifier_by_key(&m).kp.insecure_clone();
    w.fx.send_err(&[vsdk::reveal_vote(m, &w.mk.job(id), 4, m.to_bytes())], &[&kp], E::InvalidVote).await;
}
