#![allow(deprecated)]
//! Issue A's money-safety properties, each as the attack that used to work: stray tokens in a
//! vault, a wedged queue, a vote penalty eating another job's collateral, admin changes between a
//! post and its exit, changed market terms, and parties sharing one token account. Every exit
//! still succeeds and the tokens land where docs/ARCHITECTURE.md says.
use anchor_lang::prelude::Pubkey;
use cinder_jobs::{JobStatus, JobsError, MarketParams, QueueAdvanced};
use cinder_sdk::{jobs as jsdk, staking as ssdk, verification as vsdk};
use cinder_tests::{
    one_event,
    world::{market_params, Party, World, FEE_BPS, PRICE},
    TokenKind,
};
use cinder_verification::{DisputeOutcome, DisputeResolved, VOTE_RESULT_CORRECT, VOTE_RESULT_WRONG};
use solana_signer::Signer;

use crate::jobs_rejections::{attacker, claimed_job};

const STRAY: u64 = 1;
const BOND: u64 = 500;
const COLLATERAL: u64 = 2_000;

async fn submitted(w: &mut World) -> u64 {
    let id = claimed_job(w).await;
    w.submit(id).await;
    id
}

/// `resolve_dispute` of job `id` whose provider is `provider` (not the world's).
fn resolve_with_provider(w: &World, id: u64, challenger: usize, provider: &Party) -> cinder_sdk::Instruction {
    let c = &w.verifiers[challenger];
    vsdk::resolve_dispute(
        w.fx.ctx.payer.pubkey(),
        &w.mk,
        &w.mk.job(id),
        &vsdk::DisputeParties {
            client: w.client.key(),
            client_token: w.client.token,
            provider: provider.key(),
            provider_token: provider.token,
            challenger: c.key(),
            challenger_token: c.token,
        },
    )
}

/// Sends one raw unit into job `id`'s vault (and its bond vault, when it has one).
async fn stray_into(w: &mut World, id: u64, bond_too: bool) {
    let v = w.escrow_keys(id).vault;
    w.send_stray(v, STRAY).await;
    if bond_too {
        let b = w.bond_keys(id).vault;
        w.send_stray(b, STRAY).await;
    }
    w.check_invariants().await;
}

#[tokio::test]
async fn cancel_with_a_stray_in_the_vault_refunds_payment_and_stray_to_the_client() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let before = w.fx.balance(w.client.token).await;
    let (id, _) = w.post(w.post_args(PRICE)).await;
    stray_into(&mut w, id, false).await;
    let ix = jsdk::cancel_job(w.client.key(), w.client.token, &w.mk, id);
    w.fx.send_ok(&[ix], &[&w.client.kp]).await;
    assert_eq!(w.fx.balance(w.client.token).await, before + STRAY, "payment back, and the stray");
    assert!(w.job(id).await.is_none());
    w.check_invariants().await;
}

#[tokio::test]
async fn expire_open_job_with_a_stray_at_the_queue_head_refunds_and_frees_the_queue() {
    let mut w = World::new(TokenKind::Token2022, 0).await;
    let before = w.fx.balance(w.client.token).await;
    let (id, _) = w.post(w.post_args(PRICE)).await;
    stray_into(&mut w, id, false).await;
    let job = w.job(id).await.unwrap();
    w.fx.warp_to_timestamp(job.posted_at + job.job_timeout_secs + 1).await;
    let caller = w.fx.ctx.payer.pubkey();
    let ix = jsdk::expire_open_job(caller, w.client.key(), w.client.token, &w.mk, id);
    w.fx.send_ok(&[ix], &[]).await;
    assert_eq!(w.fx.balance(w.client.token).await, before + STRAY);
    assert_eq!(w.market().await.queue_head, id + 1, "the queue moved on");
    w.check_invariants().await;
}

#[tokio::test]
async fn expire_job_with_a_stray_refunds_the_client_with_the_stray() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let before = w.fx.balance(w.client.token).await;
    let id = claimed_job(&mut w).await;
    stray_into(&mut w, id, false).await;
    let deadline = w.job(id).await.unwrap().deadline;
    w.fx.warp_to_timestamp(deadline + 1).await;
    w.fx.send_ok(&[w.expire_ix(id)], &[]).await;
    let comp = COLLATERAL * market_params().timeout_client_bps as u64 / 10_000;
    assert_eq!(w.fx.balance(w.client.token).await, before + comp + STRAY);
    w.check_invariants().await;
}

#[tokio::test]
async fn finalize_with_a_stray_pays_the_provider_the_stray_too() {
    let mut w = World::new(TokenKind::Token2022, 0).await;
    let before = w.fx.balance(w.provider.token).await;
    let id = submitted(&mut w).await;
    stray_into(&mut w, id, false).await;
    let window_end = w.job(id).await.unwrap().window_end;
    w.fx.warp_to_timestamp(window_end + 1).await;
    w.fx.send_ok(&[w.finalize_ix(id)], &[]).await;
    let fee = PRICE * FEE_BPS as u64 / 10_000;
    assert_eq!(w.fx.balance(w.provider.token).await, before + PRICE - fee + STRAY);
    w.check_invariants().await;
}

/// Each dispute outcome with a stray in the job vault and the bond vault: the job's stray goes
/// with the job's payout, the bond's with the bond; settle_vote then runs with a stray in the
/// stake vault (owed to nobody, it blocks nothing).
async fn dispute_with_strays(vote: Option<u8>, expect: DisputeOutcome) {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let id = submitted(&mut w).await;
    w.challenge(id, 0).await;
    stray_into(&mut w, id, true).await;
    let (client0, provider0, ch0) = (
        w.fx.balance(w.client.token).await,
        w.fx.balance(w.provider.token).await,
        w.fx.balance(w.verifiers[0].token).await,
    );
    if let Some(v) = vote {
        w.commit_all(id, |_| Some(v)).await;
        let d = w.dispute(id).await.unwrap();
        w.fx.warp_to_timestamp(d.commit_end + 1).await;
        w.reveal_all(id, |_| Some(v)).await;
    } else {
        let d = w.dispute(id).await.unwrap();
        w.fx.warp_to_timestamp(d.reveal_end + 1).await;
    }
    let logs = w.fx.send_ok(&[w.resolve_ix(id, 0)], &[]).await;
    assert_eq!(one_event::<DisputeResolved>(&logs).outcome, expect);
    let (client1, provider1, ch1) = (
        w.fx.balance(w.client.token).await,
        w.fx.balance(w.provider.token).await,
        w.fx.balance(w.verifiers[0].token).await,
    );
    let fee = PRICE * FEE_BPS as u64 / 10_000;
    let bond_fee = BOND * FEE_BPS as u64 / 10_000;
    let reward = COLLATERAL * market_params().challenger_reward_bps as u64 / 10_000;
    match expect {
        DisputeOutcome::ProviderWrong => {
            assert_eq!(client1, client0 + PRICE + STRAY, "refund + the job vault's stray");
            assert_eq!(ch1, ch0 + BOND + STRAY + reward, "bond + the bond vault's stray + reward");
            assert_eq!(provider1, provider0);
        }
        DisputeOutcome::ProviderRight => {
            assert_eq!(
                provider1,
                provider0 + PRICE - fee + STRAY + BOND - bond_fee + STRAY,
                "both strays with the pay"
            );
            assert_eq!((client1, ch1), (client0, ch0));
        }
        _ => {
            assert_eq!(provider1, provider0 + PRICE - fee + STRAY, "the job's stray with the payment");
            assert_eq!(ch1, ch0 + BOND + STRAY, "bond back with its stray");
        }
    }
    w.check_invariants().await;
    let pool_vault = w.pool.vault;
    w.send_stray(pool_vault, STRAY).await;
    w.settle_all_votes(id, 0).await;
    assert!(w.dispute(id).await.is_none(), "every vote settled, dispute closed");
    w.check_invariants().await;
}

#[tokio::test]
async fn dispute_provider_wrong_with_strays_in_both_vaults() {
    dispute_with_strays(Some(VOTE_RESULT_WRONG), DisputeOutcome::ProviderWrong).await;
}

#[tokio::test]
async fn dispute_provider_right_with_strays_in_both_vaults() {
    dispute_with_strays(Some(VOTE_RESULT_CORRECT), DisputeOutcome::ProviderRight).await;
}

#[tokio::test]
async fn dispute_without_votes_with_strays_in_both_vaults() {
    dispute_with_strays(None, DisputeOutcome::NoQuorum).await;
}

/// 60 designated jobs at the head, all cancelled from the last to the first (the old wedge: no
/// claim could skip more than 8 dead slots). `advance_queue`, by anyone, moves the head on in
/// bounded steps, and an unprivileged provider then claims the next open job.
#[tokio::test]
async fn advance_queue_unwedges_a_head_of_sixty_dead_slots() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let mut ids = vec![];
    for _ in 0..60 {
        let (id, _) = w.post(jsdk::PostJobArgs { designated: Some(Pubkey::new_unique()), ..w.post_args(PRICE) }).await;
        ids.push(id);
    }
    for id in ids.iter().rev() {
        let ix = jsdk::cancel_job(w.client.key(), w.client.token, &w.mk, *id);
        w.fx.send_ok(&[ix], &[&w.client.kp]).await;
    }
    let (open, _) = w.post(w.post_args(PRICE)).await;
    // Claiming with 60 skips is impossible (at most MAX_QUEUE_SKIP).
    let ix = jsdk::claim_job(w.provider.key(), &w.mk, open, &ids[..9]);
    w.fx.send_err(&[ix], &[&w.provider.kp], JobsError::InvalidQueueSkip).await;
    // A stranger cannot skip a live job, or a slot past the counter.
    let atk = attacker(&mut w).await;
    let ix = jsdk::advance_queue(atk.kp.pubkey(), &w.mk, &[]);
    w.fx.send_err(&[ix], &[&atk.kp], JobsError::NothingToAdvance).await;
    // Cancelling the head job moved the head by one; the other 59 dead slots stay.
    let mut head = w.market().await.queue_head;
    assert_eq!(head, 1);
    while head < 60 {
        let n = (60 - head).min(cinder_jobs::MAX_QUEUE_ADVANCE as u64);
        let dead: Vec<u64> = (head..head + n).collect();
        let logs = w.fx.send_ok(&[jsdk::advance_queue(atk.kp.pubkey(), &w.mk, &dead)], &[&atk.kp]).await;
        let ev: QueueAdvanced = one_event(&logs);
        assert_eq!((ev.from, ev.to), (head, head + n));
        head += n;
        w.check_invariants().await;
    }
    assert_eq!(w.market().await.queue_head, 60);
    let ix = jsdk::advance_queue(atk.kp.pubkey(), &w.mk, &[open]);
    w.fx.send_err(&[ix], &[&atk.kp], JobsError::InvalidQueueSkip).await;
    let ix = jsdk::advance_queue(atk.kp.pubkey(), &w.mk, &[open, open + 1]);
    w.fx.send_err(&[ix], &[&atk.kp], JobsError::InvalidQueueSkip).await;
    w.claim(open, &[]).await;
    assert_eq!(w.job(open).await.unwrap().status, JobStatus::Claimed);
    w.check_invariants().await;
}

/// The provider also verifies, is drawn onto another job's quorum, votes with the minority and is
/// penalised. The penalty comes out of the lock its vote took at the draw: its own honest job's
/// collateral stays locked and that job still finalizes.
#[tokio::test]
async fn a_provider_penalised_as_a_voter_still_finalizes_its_honest_job() {
    let mut w = World::new(TokenKind::Spl, 3).await;
    let k = w.provider.key();
    let n = w.verifiers.len() as u32;
    w.fx.send_ok(&[vsdk::register_verifier(k, &w.mk, n)], &[&w.provider.kp]).await;
    w.verifiers.push(Party { kp: w.provider.kp.insecure_clone(), token: w.provider.token });
    // Job A: the provider's honest job (claimed, submitted).
    let a = submitted(&mut w).await;
    // Job B: claimed and submitted by a second provider, disputed; the first provider is drawn.
    let other = crate::jobs_rejections::extra_staker(&mut w, 10_000).await;
    let ix = jsdk::register_provider(
        other.key(),
        jsdk::ProviderArgs {
            endpoint: "http://b".into(),
            x25519_pubkey: [0; 32],
            models: vec![cinder_tests::world::MODEL_ID],
        },
    );
    w.fx.send_ok(&[ix], &[&other.kp]).await;
    let (b, _) = w.post(jsdk::PostJobArgs { designated: Some(other.key()), ..w.post_args(PRICE) }).await;
    w.fx.send_ok(&[jsdk::claim_job(other.key(), &w.mk, b, &[])], &[&other.kp]).await;
    let sub = vsdk::submit_result(
        other.key(),
        w.mk.job(b),
        vsdk::SubmitResultArgs { commitment: [5; 32], output_hash: [6; 32], output_uri: String::new() },
    );
    w.fx.send_ok(&[sub], &[&other.kp]).await;
    w.challenge(b, 0).await;
    let d = w.dispute(b).await.unwrap();
    let ms = d.members[..d.member_count as usize].to_vec();
    assert!(ms.contains(&k), "quorum 3 of the 3 eligible: the provider sits on it");
    let locked = w.stake_of(&k).await.locked;
    let member_lock = market_params().min_stake.max(market_params().vote_penalty);
    assert_eq!(locked, COLLATERAL + member_lock, "job A's collateral + its vote lock");
    // Everyone else votes WRONG, the provider CORRECT: it is on the losing side.
    w.commit_all(b, |i| Some(if ms[i] == k { VOTE_RESULT_CORRECT } else { VOTE_RESULT_WRONG })).await;
    w.fx.warp_to_timestamp(d.commit_end + 1).await;
    w.reveal_all(b, |i| Some(if ms[i] == k { VOTE_RESULT_CORRECT } else { VOTE_RESULT_WRONG })).await;
    let logs = w.fx.send_ok(&[resolve_with_provider(&w, b, 0, &other)], &[]).await;
    assert_eq!(one_event::<DisputeResolved>(&logs).outcome, DisputeOutcome::ProviderWrong);
    let ix = w.settle_vote_ix(b, &k, 0);
    w.fx.send_ok(&[ix], &[]).await;
    let st = w.stake_of(&k).await;
    assert_eq!(st.locked, COLLATERAL, "only the vote's own lock was used");
    // Job A finalizes after its window.
    let window_end = w.job(a).await.unwrap().window_end;
    let now = w.fx.now().await;
    w.fx.warp_to_timestamp(window_end.max(now) + 1).await;
    w.fx.send_ok(&[w.finalize_ix(a)], &[]).await;
    assert!(w.job(a).await.is_none());
    assert_eq!(w.stake_of(&k).await.locked, 0);
}

/// Between a job's post and its exit, every admin changes everything it administers: the
/// protocol treasury (and the old treasury account is closed), the fee, the pause, the pool's
/// treasury, reward cap, minimum stake and cooldown. Every exit still succeeds.
#[tokio::test]
async fn admin_changes_between_post_and_exit_never_block_an_exit() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    let expired = claimed_job(&mut w).await;
    let finalized = submitted(&mut w).await;
    let disputed = submitted(&mut w).await;
    w.challenge(disputed, 0).await;
    let (open, _) = w.post(w.post_args(PRICE)).await;
    // The admins change everything.
    let admin = w.admin.insecure_clone();
    let new_treasury = w.fx.wallet(1_000_000_000).await;
    let new_treasury_token = w.fx.create_token_account(w.mint, new_treasury.pubkey()).await;
    let cfg = jsdk::UpdateConfigArgs {
        treasury: Some(new_treasury.pubkey()),
        protocol_fee_bps: Some(cinder_jobs::MAX_FEE_BPS),
        paused: Some(true),
        ..Default::default()
    };
    w.fx.send_ok(&[jsdk::update_config(admin.pubkey(), cfg)], &[&admin]).await;
    let pool_args = ssdk::UpdatePoolArgs {
        min_stake: Some(1_000_000),
        cooldown_secs: Some(cinder_staking::MAX_COOLDOWN_SECS),
        max_reward_bps: Some(0),
        ..Default::default()
    };
    w.fx.send_ok(&[ssdk::update_pool(&w.pool, admin.pubkey(), Some(new_treasury_token), pool_args)], &[&admin]).await;
    let fees_to = new_treasury_token;
    // Exits: expire_open_job, expire_job, finalize (fees to the new treasury's account), the dispute.
    let job = w.job(open).await.unwrap();
    let t = job.posted_at + job.job_timeout_secs + 1;
    w.fx.warp_to_timestamp(t).await;
    let caller = w.fx.ctx.payer.pubkey();
    w.fx.send_ok(&[jsdk::expire_open_job(caller, w.client.key(), w.client.token, &w.mk, open)], &[]).await;
    let mut exp = w.expire_ix(expired);
    crate::jobs_rejections::replace_key(&mut exp, w.treasury.token, fees_to);
    w.fx.send_ok(&[exp], &[]).await;
    let mut fin = w.finalize_ix(finalized);
    crate::jobs_rejections::replace_key(&mut fin, w.treasury.token, fees_to);
    w.fx.send_ok(&[fin], &[]).await;
    assert_eq!(
        w.fx.balance(fees_to).await,
        PRICE * FEE_BPS as u64 / 10_000,
        "the fee posted with, to the new treasury"
    );
    let d = w.dispute(disputed).await.unwrap();
    w.fx.warp_to_timestamp(d.reveal_end.max(t) + 1).await;
    let mut resolve = w.resolve_ix(disputed, 0);
    crate::jobs_rejections::replace_key(&mut resolve, w.treasury.token, fees_to);
    w.fx.send_ok(&[resolve], &[]).await;
    w.settle_all_votes(disputed, 0).await;
    for id in [expired, finalized, disputed, open] {
        assert!(w.job(id).await.is_none(), "job {id} reached its exit");
    }
    // The pool's accrued treasury part goes to the new pool treasury.
    w.fx.send_ok(&[ssdk::withdraw_treasury(&w.pool, admin.pubkey(), new_treasury_token)], &[&admin]).await;
    // Stakers can still leave under the new cooldown.
    let v = w.verifiers[1].key();
    let st = w.stake_of(&v).await;
    let kp = w.verifiers[1].kp.insecure_clone();
    w.fx.send_ok(&[ssdk::request_unstake(&w.pool, v, st.active - st.locked)], &[&kp]).await;
}

/// `post_job` names the terms the client read; a change of the market's terms or of the protocol
/// fee before the post lands fails it with a named error, and nothing is charged.
#[tokio::test]
async fn post_job_fails_when_the_terms_changed_after_the_client_read_them() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let args = w.post_args(PRICE);
    let admin = w.admin.insecure_clone();
    let dearer = MarketParams { collateral: 1_000, ..market_params() };
    w.fx.send_ok(&[jsdk::update_market(admin.pubkey(), &w.mk, dearer)], &[&admin]).await;
    let id = w.market().await.next_job_id;
    w.fx.watch(w.mk.job(id));
    let ix = jsdk::post_job(w.client.key(), w.client.token, &w.mk, id, args.clone());
    w.fx.send_err(&[ix], &[&w.client.kp], JobsError::MarketTermsChanged).await;
    w.refresh_terms().await;
    let fee = jsdk::UpdateConfigArgs { protocol_fee_bps: Some(FEE_BPS + 1), ..Default::default() };
    w.fx.send_ok(&[jsdk::update_config(admin.pubkey(), fee)], &[&admin]).await;
    let ix = jsdk::post_job(w.client.key(), w.client.token, &w.mk, id, w.post_args(PRICE));
    w.fx.send_err(&[ix], &[&w.client.kp], JobsError::MarketTermsChanged).await;
    w.refresh_terms().await;
    w.post(w.post_args(PRICE)).await;
    w.check_invariants().await;
}

/// The client is also the challenger and pays with the same token account: the dispute still
/// resolves, with that one account passed for both parties.
#[tokio::test]
async fn resolve_dispute_accepts_one_token_account_shared_by_two_parties() {
    let mut w = World::new(TokenKind::Spl, 4).await;
    // Verifier 0 posts the job itself (it is the client) and challenges it.
    let client = Party { kp: w.verifiers[0].kp.insecure_clone(), token: w.verifiers[0].token };
    let original = std::mem::replace(&mut w.client, client);
    let id = submitted(&mut w).await;
    w.challenge(id, 0).await;
    w.commit_all(id, |_| Some(VOTE_RESULT_WRONG)).await;
    let d = w.dispute(id).await.unwrap();
    w.fx.warp_to_timestamp(d.commit_end + 1).await;
    w.reveal_all(id, |_| Some(VOTE_RESULT_WRONG)).await;
    let before = w.fx.balance(w.client.token).await;
    let logs = w.fx.send_ok(&[w.resolve_ix(id, 0)], &[]).await;
    assert_eq!(one_event::<DisputeResolved>(&logs).outcome, DisputeOutcome::ProviderWrong);
    let reward = COLLATERAL * market_params().challenger_reward_bps as u64 / 10_000;
    assert_eq!(w.fx.balance(w.client.token).await, before + PRICE + BOND + reward);
    w.settle_all_votes(id, 0).await;
    w.check_invariants().await;
    w.client = original;
}
