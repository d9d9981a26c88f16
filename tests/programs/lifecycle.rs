//! The four end-to-end paths of a job (finalized; challenged and provider wrong; challenged and
//! provider right; expired), under SPL Token and Token-2022, with the conservation invariants
//! and the exact split checked after every step.
#![allow(deprecated)]
use cinder_jobs::{JobClaimed, JobExpired, JobFinalized, JobPosted, JobSlashed, JobStatus, ResultRecorded};
use cinder_tests::{
    one_event,
    world::{World, FEE_BPS, PRICE},
    TokenKind,
};
use cinder_verification::{
    DisputeOpened, DisputeOutcome, DisputeResolved, VoteSettled, VOTE_RESULT_CORRECT, VOTE_RESULT_WRONG,
};
use solana_signer::Signer;

const COLLATERAL: u64 = 2_000;
const BOND: u64 = 500;

/// Posts, claims and submits a job; returns its id.
async fn submitted_job(w: &mut World) -> u64 {
    let client_lamports = w.fx.lamports(w.client.key()).await;
    let (id, logs) = w.post(w.post_args(PRICE)).await;
    let ev: JobPosted = one_event(&logs);
    assert_eq!((ev.job_id, ev.client, ev.payment, ev.fee_bps), (id, w.client.key(), PRICE, FEE_BPS));
    assert!(w.fx.lamports(w.client.key()).await < client_lamports, "the client pays the rent");
    w.check_invariants().await;

    let logs = w.claim(id, &[]).await;
    let ev: JobClaimed = one_event(&logs);
    assert_eq!((ev.provider, ev.collateral, ev.queue_head), (w.provider.key(), COLLATERAL, id + 1));
    assert_eq!(w.stake_of(&w.provider.key()).await.locked, COLLATERAL);
    w.check_invariants().await;

    let logs = w.submit(id).await;
    let ev: ResultRecorded = one_event(&logs);
    assert_eq!((ev.commitment, ev.provider), ([2; 32], w.provider.key()));
    assert_eq!(w.job(id).await.unwrap().status, JobStatus::Submitted);
    w.check_invariants().await;
    id
}

async fn finalized(token: TokenKind) {
    let mut w = World::new(token, 4).await;
    let client_lamports = w.fx.lamports(w.client.key()).await;
    let before = w.balances().await;
    let id = submitted_job(&mut w).await;
    let window_end = w.job(id).await.unwrap().window_end;
    w.fx.warp_to_timestamp(window_end + 1).await;
    let ix = w.finalize_ix(id);
    let logs = w.fx.send_ok(&[ix], &[]).await;
    let ev: JobFinalized = one_event(&logs);
    let fee = PRICE * FEE_BPS as u64 / 10_000;
    assert_eq!((ev.payment, ev.to_provider, ev.fee, ev.collateral_unlocked), (PRICE, PRICE - fee, fee, COLLATERAL));
    assert_eq!(ev.to_provider + ev.fee, ev.payment, "split sums to the escrowed amount");
    let after = w.balances().await;
    assert_eq!(after.0, before.0 - PRICE, "client paid");
    assert_eq!(after.1, before.1 + PRICE - fee, "provider paid");
    assert_eq!(after.2, before.2 + fee, "treasury got the fee");
    assert_eq!((after.3, after.4), (before.3, 0), "stake intact, collateral unlocked");
    assert!(w.job(id).await.is_none(), "job closed");
    assert_eq!(w.fx.lamports(w.client.key()).await, client_lamports, "all rent back to the client");
    assert_eq!(ev.rent_returned, client_lamports - (client_lamports - ev.rent_returned));
    let m = w.market().await;
    assert_eq!(m.jobs_finalized, 1);
    w.check_invariants().await;
}

#[tokio::test]
async fn job_finalized_after_the_window_spl_token() {
    finalized(TokenKind::Spl).await;
}

#[tokio::test]
async fn job_finalized_after_the_window_token_2022() {
    finalized(TokenKind::Token2022).await;
}

async fn disputed(token: TokenKind, vote: u8) {
    let mut w = World::new(token, 4).await;
    let client_lamports = w.fx.lamports(w.client.key()).await;
    let before = w.balances().await;
    let id = submitted_job(&mut w).await;
    let challenger = 0;
    let ch_key = w.verifiers[challenger].key();
    let ch_token = w.verifiers[challenger].token;
    let ch_lamports = w.fx.lamports(ch_key).await;
    let ch_before = w.fx.balance(ch_token).await;

    let logs = w.challenge(id, challenger).await;
    let ev: DisputeOpened = one_event(&logs);
    assert_eq!((ev.challenger, ev.provider, ev.bond, ev.quorum), (ch_key, w.provider.key(), BOND, 3));
    let d = w.dispute(id).await.unwrap();
    let members = &d.members[..d.member_count as usize];
    assert_eq!(members.len(), 3);
    assert!(!members.contains(&ch_key) && !members.contains(&w.provider.key()), "neither side sits on the quorum");
    assert_eq!(w.job(id).await.unwrap().status, JobStatus::Challenged);
    assert_eq!(w.fx.balance(ch_token).await, ch_before - BOND);
    w.check_invariants().await;

    w.commit_all(id, |_| Some(vote)).await;
    w.check_invariants().await;
    let d = w.dispute(id).await.unwrap();
    w.fx.warp_to_timestamp(d.commit_end + 1).await;
    w.reveal_all(id, |_| Some(vote)).await;
    let ix = w.resolve_ix(id, challenger);
    let logs = w.fx.send_ok(&[ix], &[]).await;
    let ev: DisputeResolved = one_event(&logs);
    let after = w.balances().await;
    let fee = PRICE * FEE_BPS as u64 / 10_000;
    if vote == VOTE_RESULT_WRONG {
        assert_eq!((ev.outcome, ev.votes_wrong, ev.bond_refunded), (DisputeOutcome::ProviderWrong, 3, BOND));
        let s: JobSlashed = one_event(&logs);
        let reward = COLLATERAL * 4_000 / 10_000;
        assert_eq!(
            (s.refunded, s.slashed, s.challenger_reward, s.to_treasury),
            (PRICE, COLLATERAL, reward, COLLATERAL - reward)
        );
        assert_eq!(s.challenger_reward + s.to_treasury, s.slashed, "slash split sums exactly");
        assert!(s.challenger_reward < s.slashed, "challenging yourself loses money");
        assert_eq!(after.0, before.0, "client refunded in full");
        assert_eq!(after.1, before.1, "provider paid nothing");
        assert_eq!(after.2, before.2, "the treasury's part of a slash waits in the stake vault");
        let pool: cinder_staking::StakePool = w.fx.anchor_account(w.pool.pool).await;
        assert_eq!(pool.treasury_accrued, COLLATERAL - reward, "treasury accrued the rest of the slash");
        assert_eq!((after.3, after.4), (before.3 - COLLATERAL, 0), "collateral slashed");
        assert_eq!(w.fx.balance(ch_token).await, ch_before + reward, "bond back plus the reward");
        assert_eq!(w.market().await.jobs_slashed, 1);
    } else {
        assert_eq!((ev.outcome, ev.votes_correct), (DisputeOutcome::ProviderRight, 3));
        let f: JobFinalized = one_event(&logs);
        let bond_fee = BOND * FEE_BPS as u64 / 10_000;
        assert_eq!((ev.bond_to_provider, ev.bond_fee, ev.bond_refunded), (BOND - bond_fee, bond_fee, 0));
        assert_eq!((f.to_provider, f.fee), (PRICE - fee, fee));
        assert_eq!(after.0, before.0 - PRICE, "client paid");
        assert_eq!(after.1, before.1 + PRICE - fee + BOND - bond_fee, "provider paid, plus the bond");
        assert_eq!(after.2, before.2 + fee + bond_fee, "treasury got both fees");
        assert_eq!((after.3, after.4), (before.3, 0), "collateral unlocked");
        assert_eq!(w.fx.balance(ch_token).await, ch_before - BOND, "the challenger lost its bond");
    }
    assert!(w.job(id).await.is_none(), "job closed");
    assert_eq!(w.fx.lamports(w.client.key()).await, client_lamports, "all job rent back to the client");
    w.check_invariants().await;

    // Every member voted with the majority: no penalties; the last settlement closes the dispute.
    let d = w.dispute(id).await.unwrap();
    assert_eq!(
        d.outcome,
        if vote == VOTE_RESULT_WRONG { DisputeOutcome::ProviderWrong } else { DisputeOutcome::ProviderRight }
    );
    for (i, m) in d.members[..3].to_vec().iter().enumerate() {
        let active = w.stake_of(m).await.active;
        let ix = w.settle_vote_ix(id, m, challenger);
        let ev: VoteSettled = one_event(&w.fx.send_ok(&[ix], &[]).await);
        assert_eq!((ev.penalised, ev.penalty, ev.dispute_closed), (false, 0, i == 2));
        assert_eq!(w.stake_of(m).await.active, active);
        w.check_invariants().await;
    }
    assert!(w.dispute(id).await.is_none());
    assert_eq!(w.fx.lamports(ch_key).await, ch_lamports, "all dispute and bond rent back to the challenger");
}

#[tokio::test]
async fn job_challenged_and_provider_wrong_spl_token() {
    disputed(TokenKind::Spl, VOTE_RESULT_WRONG).await;
}

#[tokio::test]
async fn job_challenged_and_provider_wrong_token_2022() {
    disputed(TokenKind::Token2022, VOTE_RESULT_WRONG).await;
}

#[tokio::test]
async fn job_challenged_and_provider_right_spl_token() {
    disputed(TokenKind::Spl, VOTE_RESULT_CORRECT).await;
}

#[tokio::test]
async fn job_challenged_and_provider_right_token_2022() {
    disputed(TokenKind::Token2022, VOTE_RESULT_CORRECT).await;
}

async fn expired(token: TokenKind) {
    let mut w = World::new(token, 0).await;
    let client_lamports = w.fx.lamports(w.client.key()).await;
    let before = w.balances().await;
    let (id, _) = w.post(w.post_args(PRICE + 7)).await;
    w.claim(id, &[]).await;
    w.check_invariants().await;
    let deadline = w.job(id).await.unwrap().deadline;
    w.fx.warp_to_timestamp(deadline + 1).await;
    let ix = w.expire_ix(id);
    let logs = w.fx.send_ok(&[ix], &[]).await;
    let ev: JobExpired = one_event(&logs);
    let comp = COLLATERAL * 2_000 / 10_000;
    assert_eq!(
        (ev.refunded, ev.slashed, ev.client_compensation, ev.to_treasury),
        (PRICE + 7, COLLATERAL, comp, COLLATERAL - comp)
    );
    assert_eq!(ev.client_compensation + ev.to_treasury, ev.slashed);
    let after = w.balances().await;
    assert_eq!(after.0, before.0 + comp, "client refunded in full plus compensation");
    assert_eq!(after.2, before.2, "the treasury's part of a slash waits in the stake vault");
    let pool: cinder_staking::StakePool = w.fx.anchor_account(w.pool.pool).await;
    assert_eq!(pool.treasury_accrued, COLLATERAL - comp);
    assert_eq!((after.3, after.4), (before.3 - COLLATERAL, 0));
    assert!(w.job(id).await.is_none());
    assert_eq!(w.fx.lamports(w.client.key()).await, client_lamports, "all rent back to the client");
    let p: cinder_jobs::Provider = w.fx.anchor_account(cinder_sdk::jobs::provider_pda(&w.provider.key())).await;
    assert_eq!((p.jobs_claimed, p.jobs_failed, p.jobs_completed), (1, 1, 0));
    w.check_invariants().await;
}

#[tokio::test]
async fn job_expired_without_result_spl_token() {
    expired(TokenKind::Spl).await;
}

#[tokio::test]
async fn job_expired_without_result_token_2022() {
    expired(TokenKind::Token2022).await;
}

#[tokio::test]
async fn unclaimed_job_expires_with_a_full_refund_and_frees_the_queue() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let client_lamports = w.fx.lamports(w.client.key()).await;
    let before = w.balances().await;
    let (id, _) = w.post(w.post_args(PRICE)).await;
    let (next, _) = w.post(w.post_args(PRICE)).await;
    let job = w.job(id).await.unwrap();
    let caller = w.fx.ctx.payer.pubkey();
    let ix = cinder_sdk::jobs::expire_open_job(caller, w.client.key(), w.client.token, &w.mk, id);
    w.fx.warp_to_timestamp(job.posted_at + job.job_timeout_secs).await;
    w.fx.send_err(std::slice::from_ref(&ix), &[], cinder_jobs::JobsError::DeadlineNotReached).await;
    w.fx.warp_to_timestamp(job.posted_at + job.job_timeout_secs + 1).await;
    let ev: JobExpired = one_event(&w.fx.send_ok(&[ix], &[]).await);
    assert_eq!((ev.refunded, ev.slashed, ev.provider), (PRICE, 0, anchor_lang::prelude::Pubkey::default()));
    let rent = anchor_lang::prelude::Rent::default();
    let expected_rent = rent.minimum_balance(8 + <cinder_jobs::Job as anchor_lang::Space>::INIT_SPACE)
        + rent.minimum_balance(8 + <cinder_escrow::Escrow as anchor_lang::Space>::INIT_SPACE)
        + rent.minimum_balance(165);
    assert_eq!(ev.rent_returned, expected_rent, "job, escrow and vault rent back to the client");
    assert!(w.job(id).await.is_none());
    assert_eq!(w.market().await.queue_head, next, "the queue moved past it");
    w.claim(next, &[]).await;
    let after = w.balances().await;
    assert_eq!(after.0, before.0 - PRICE, "only the second job's payment is still escrowed");
    assert!(w.fx.lamports(w.client.key()).await < client_lamports);
    w.check_invariants().await;
}

#[tokio::test]
async fn a_market_update_never_changes_the_terms_of_a_posted_job() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let before = w.balances().await;
    let (id, _) = w.post(w.post_args(PRICE)).await;
    w.claim(id, &[]).await;
    // The market creator raises the client's timeout compensation to 50 % afterwards.
    let admin = w.admin.insecure_clone();
    let new = cinder_jobs::MarketParams {
        timeout_client_bps: 5_000,
        challenger_reward_bps: 5_000,
        ..cinder_tests::world::market_params()
    };
    w.fx.send_ok(&[cinder_sdk::jobs::update_market(admin.pubkey(), &w.mk, new)], &[&admin]).await;
    let deadline = w.job(id).await.unwrap().deadline;
    w.fx.warp_to_timestamp(deadline + 1).await;
    let ix = w.expire_ix(id);
    let ev: JobExpired = one_event(&w.fx.send_ok(&[ix], &[]).await);
    let comp = COLLATERAL * 2_000 / 10_000;
    assert_eq!(ev.client_compensation, comp, "the 20 % in force when the job was posted");
    assert_eq!(w.balances().await.0, before.0 + comp);
    w.check_invariants().await;
}

#[tokio::test]
async fn expire_open_job_rejects_a_claimed_job_and_a_foreign_refund_account() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let (claimed, _) = w.post(w.post_args(PRICE)).await;
    w.claim(claimed, &[]).await;
    let (open, _) = w.post(w.post_args(PRICE)).await;
    let job = w.job(open).await.unwrap();
    w.fx.warp_to_timestamp(job.posted_at + job.job_timeout_secs + 1).await;
    let caller = w.fx.ctx.payer.pubkey();
    // A claimed job is not open: only expire_job (after its deadline, with a slash) ends it.
    let ix = cinder_sdk::jobs::expire_open_job(caller, w.client.key(), w.client.token, &w.mk, claimed);
    w.fx.send_err(&[ix], &[], cinder_jobs::JobsError::JobNotOpen).await;
    // The refund can only go to a token account the client owns.
    let (_m, mallory_token) = w.fx.funded_wallet(w.mint, 0).await;
    let ix = cinder_sdk::jobs::expire_open_job(caller, w.client.key(), mallory_token, &w.mk, open);
    w.fx.send_err(&[ix], &[], anchor_lang::error::ErrorCode::ConstraintTokenOwner).await;
    w.check_invariants().await;
}
