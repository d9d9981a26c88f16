//! Matching cost does not grow with the queue, and the protocol cost per path (transactions,
//! signatures, accounts, bytes) — the numbers docs/PERFORMANCE.md records.
#![allow(deprecated)]
use anchor_lang::prelude::{Pubkey, Rent};
use cinder_jobs::{JobClaimed, MarketParams};
use cinder_sdk::{jobs as jsdk, jobs::MarketKeys, verification as vsdk, Instruction};
use cinder_tests::{
    one_event, tx_size,
    world::{market_params, World, PRICE},
    TokenKind,
};
use solana_signer::Signer;

const QUEUE: u64 = 2_048;

/// Accounts an instruction touches and the bytes of data they hold right now.
async fn footprint(w: &mut World, ix: &Instruction) -> (usize, usize) {
    let mut bytes = 0;
    for m in &ix.accounts {
        bytes += w.fx.account_data(m.pubkey).await.map(|d| d.len()).unwrap_or(0);
    }
    (ix.accounts.len(), bytes)
}

#[tokio::test]
async fn post_and_claim_cost_the_same_at_the_start_and_the_end_of_a_long_queue() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    // A market with a collateral of 1 so one provider can hold the whole queue.
    let admin = w.admin.insecure_clone();
    let params = MarketParams { collateral: 1, min_stake: 1_000, ..market_params() };
    let market = jsdk::market_pda(&w.mk.model, &w.mint, &w.provider.key());
    let mk = MarketKeys { market, ..w.mk };
    let provider = w.provider.kp.insecure_clone();
    w.fx.send_ok(&[jsdk::create_market(provider.pubkey(), &mk, params)], &[&provider]).await;
    let _ = admin;
    let client = w.client.kp.insecure_clone();
    let args =
        jsdk::PostJobArgs { expected_terms: params.terms_hash(cinder_tests::world::FEE_BPS), ..w.post_args(PRICE) };
    w.fx.mint_to(w.mint, w.client.token, QUEUE * PRICE).await;
    // Rent for QUEUE jobs (about 0.01 SOL each, all of it returned when they end).
    let payer = w.fx.ctx.payer.pubkey();
    let fund = solana_system_interface::instruction::transfer(&payer, &client.pubkey(), QUEUE * 12_000_000);
    w.fx.send_ok(&[fund], &[]).await;

    let first_post = jsdk::post_job(client.pubkey(), w.client.token, &mk, 0, args.clone());
    let first_post_footprint = footprint(&mut w, &first_post).await;
    let first_post_size = tx_size(&[first_post], &client, &[]);

    // Post QUEUE jobs, five per transaction.
    let mut id = 0;
    while id < QUEUE {
        let n = (QUEUE - id).min(5);
        let ixs: Vec<_> =
            (id..id + n).map(|i| jsdk::post_job(client.pubkey(), w.client.token, &mk, i, args.clone())).collect();
        w.fx.send_unique_ok(&ixs, &[&client]).await;
        id += n;
    }
    let m: cinder_jobs::Market = w.fx.anchor_account(market).await;
    assert_eq!((m.next_job_id, m.queue_head), (QUEUE, 0));

    // The same instruction for the next job, at the end of the queue.
    let last_post = jsdk::post_job(client.pubkey(), w.client.token, &mk, QUEUE, args.clone());
    let last_post_footprint = footprint(&mut w, &last_post).await;
    assert_eq!(last_post_footprint, first_post_footprint, "post_job: same accounts and bytes");
    assert_eq!(tx_size(&[last_post], &client, &[]), first_post_size);

    // Claim the head at the start …
    let first_claim = jsdk::claim_job(provider.pubkey(), &mk, 0, &[]);
    let first_claim_footprint = footprint(&mut w, &first_claim).await;
    let first_claim_size = tx_size(std::slice::from_ref(&first_claim), &provider, &[]);
    let logs = w.fx.send_ok(&[first_claim], &[&provider]).await;
    assert_eq!(one_event::<JobClaimed>(&logs).queue_head, 1);
    // … drain the queue sixteen claims at a time …
    let mut id = 1;
    while id < QUEUE - 1 {
        let n = (QUEUE - 1 - id).min(16);
        let ixs: Vec<_> = (id..id + n).map(|i| jsdk::claim_job(provider.pubkey(), &mk, i, &[])).collect();
        w.fx.send_unique_ok(&ixs, &[&provider]).await;
        id += n;
    }
    // … and claim the last job when it reaches the head.
    let last_claim = jsdk::claim_job(provider.pubkey(), &mk, QUEUE - 1, &[]);
    let last_claim_footprint = footprint(&mut w, &last_claim).await;
    assert_eq!(last_claim_footprint, first_claim_footprint, "claim_job: same accounts and bytes");
    assert_eq!(tx_size(std::slice::from_ref(&last_claim), &provider, &[]), first_claim_size);
    let logs = w.fx.send_ok(&[last_claim], &[&provider]).await;
    assert_eq!(one_event::<JobClaimed>(&logs).queue_head, QUEUE);
    let st = w.stake_of(&provider.pubkey()).await;
    assert_eq!(st.locked, QUEUE, "one unit of collateral per claimed job");
    println!(
        "queue of {QUEUE}: post_job {} accounts / {} bytes touched / {} byte tx; claim_job {} accounts / {} bytes / {} byte tx",
        first_post_footprint.0, first_post_footprint.1, first_post_size.0, first_claim_footprint.0, first_claim_footprint.1, first_claim_size.0
    );
}

#[tokio::test]
async fn claim_skips_dead_slots_at_the_head_within_a_bounded_cost() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let (a, _) = w.post(w.post_args(PRICE)).await;
    let mut designated = w.post_args(PRICE);
    designated.designated = Some(Pubkey::new_unique());
    let (b, _) = w.post(designated).await;
    let (c, _) = w.post(w.post_args(PRICE)).await;
    // Job a is cancelled (closed), job b is designated to someone else: both are dead slots.
    let client = w.client.kp.insecure_clone();
    w.fx.send_ok(&[jsdk::cancel_job(client.pubkey(), w.client.token, &w.mk, a)], &[&client]).await;
    let m = w.market().await;
    assert_eq!(m.queue_head, 1, "cancelling the head advances it");
    let logs = w.claim(c, &[b]).await;
    let ev: JobClaimed = one_event(&logs);
    assert_eq!((ev.job_id, ev.skipped, ev.queue_head), (c, 1, c + 1));
    w.check_invariants().await;
}

/// One row of the cost table.
fn row(path: &str, txs: &[(&str, Vec<Instruction>, &solana_keypair::Keypair)]) -> String {
    let mut sigs = 0;
    let mut parts = vec![];
    for (name, ixs, payer) in txs {
        let (size, s) = tx_size(ixs, payer, &[]);
        assert!(size <= 1_232, "{name}: {size} bytes exceeds the packet limit");
        let mut keys: Vec<Pubkey> =
            ixs.iter().flat_map(|i| i.accounts.iter().map(|m| m.pubkey).chain([i.program_id])).collect();
        keys.sort();
        keys.dedup();
        sigs += s;
        parts.push(format!("{name}: {} accts, {size} B", keys.len()));
    }
    format!("| {path} | {} | {sigs} | {} |", txs.len(), parts.join("; "))
}

#[tokio::test]
async fn protocol_cost_table() {
    let w = World::new(TokenKind::Spl, 4).await;
    let (client, provider) = (w.client.kp.insecure_clone(), w.provider.kp.insecure_clone());
    let v0 = w.verifiers[0].kp.insecure_clone();
    let job = w.mk.job(0);
    let post = jsdk::post_job(client.pubkey(), w.client.token, &w.mk, 0, w.post_args(PRICE));
    let claim = jsdk::claim_job(provider.pubkey(), &w.mk, 0, &[]);
    let submit = w.submit_ix(0, [2; 32]);
    let finalize =
        vsdk::finalize_job(provider.pubkey(), &w.mk, &job, client.pubkey(), provider.pubkey(), w.provider.token);
    let expire = jsdk::expire_job(client.pubkey(), &w.mk, &job, client.pubkey(), provider.pubkey(), w.client.token);
    let challenge = vsdk::challenge_result(v0.pubkey(), w.verifiers[0].token, &w.mk, &job);
    let keys = w.verifier_keys();
    let pairs: Vec<(u32, Pubkey)> =
        (0..cinder_verification::MAX_DRAW_PAIRS as u32).map(|i| (i % 4, keys[(i % 4) as usize])).collect();
    let draw = vsdk::draw_quorum(v0.pubkey(), &w.mk, &job, &pairs);
    let vote = vsdk::commit_vote(v0.pubkey(), &job, [0; 32]);
    let parties = vsdk::DisputeParties {
        client: client.pubkey(),
        client_token: w.client.token,
        provider: provider.pubkey(),
        provider_token: w.provider.token,
        challenger: v0.pubkey(),
        challenger_token: w.verifiers[0].token,
    };
    let resolve = vsdk::resolve_dispute(v0.pubkey(), &w.mk, &job, &parties);
    let settle = vsdk::settle_vote(v0.pubkey(), &w.mk, &job, &v0.pubkey(), v0.pubkey());
    let table = [
        row(
            "finalized",
            &[
                ("post", vec![post.clone()], &client),
                ("claim", vec![claim.clone()], &provider),
                ("submit", vec![submit.clone()], &provider),
                ("finalize", vec![finalize.clone()], &provider),
            ],
        ),
        row(
            "finalized, client names the provider",
            &[
                ("post", vec![post.clone()], &client),
                ("claim+submit", vec![claim.clone(), submit.clone()], &provider),
                ("finalize", vec![finalize], &provider),
            ],
        ),
        row(
            "expired",
            &[
                ("post", vec![post.clone()], &client),
                ("claim", vec![claim.clone()], &provider),
                ("expire", vec![expire], &client),
            ],
        ),
        row(
            "challenged (quorum 3)",
            &[
                ("post", vec![post], &client),
                ("claim", vec![claim], &provider),
                ("submit", vec![submit], &provider),
                ("challenge", vec![challenge], &v0),
                ("draw (10 candidates)", vec![draw], &v0),
                ("commit ×3", vec![vote.clone()], &v0),
                ("reveal ×3", vec![vote], &v0),
                ("resolve", vec![resolve], &v0),
                ("settle_vote ×3", vec![settle], &v0),
            ],
        ),
    ];
    let rent = Rent::default();
    let sizes = [
        ("Job", 8 + <cinder_jobs::Job as anchor_lang::Space>::INIT_SPACE),
        ("Escrow", 8 + <cinder_escrow::Escrow as anchor_lang::Space>::INIT_SPACE),
        ("escrow vault (SPL token account)", 165),
        ("Dispute (challenged jobs only)", 8 + <cinder_verification::Dispute as anchor_lang::Space>::INIT_SPACE),
        (
            "bond Escrow + vault (challenged jobs only)",
            8 + <cinder_escrow::Escrow as anchor_lang::Space>::INIT_SPACE + 165,
        ),
    ];
    let mut per_job = 0;
    println!("| path | transactions | signatures | per transaction |");
    for r in &table {
        println!("{r}");
    }
    println!("| account | bytes | rent (lamports) |");
    for (i, (name, size)) in sizes.iter().enumerate() {
        let lamports = if i == 4 {
            rent.minimum_balance(size - 165) + rent.minimum_balance(165)
        } else {
            rent.minimum_balance(*size)
        };
        if i < 3 {
            per_job += lamports;
        }
        println!("| {name} | {size} | {lamports} |");
    }
    println!("rent locked per unchallenged job: {per_job} lamports = {:.5} SOL (all returned)", per_job as f64 / 1e9);
    assert!(per_job > 0);
}
