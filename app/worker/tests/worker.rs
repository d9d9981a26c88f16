//! Worker tests against the in-process chain: crash/restart, bad input, dead queue heads.
use cinder_demo::{self as demo, TOKEN};
use cinder_sdk::chain::Chain;
use solana_signer::Signer;

mod harness {
    use std::sync::Arc;

    use cinder_demo as demo;
    use cinder_inference::{make_test_model, model_id_of_dir, Architecture, DType, TestModelSize};
    use cinder_jobs::InferenceParams;
    use cinder_sdk::{
        bootstrap::{deploy, Deployment, DeploymentSpec, Participant},
        chain::{local::LocalChain, Chain},
        jobs as jsdk,
    };
    use cinder_worker::{ContentStore, Engine, Journal, Metrics, Node};

    pub struct H {
        pub chain: LocalChain,
        pub d: Deployment,
        pub engine: Arc<Engine>,
        pub store: ContentStore,
        pub client: Participant,
        pub provider: Participant,
        pub dir: tempfile::TempDir,
    }

    pub async fn harness() -> H {
        let dir = tempfile::tempdir().unwrap();
        let model_dir = dir.path().join("model");
        make_test_model(Architecture::Qwen2, 7, TestModelSize::Tiny, &model_dir).unwrap();
        let model_id = model_id_of_dir(&model_dir).unwrap();
        let engine = Arc::new(Engine::load(&model_dir, DType::F32, Some(1)).unwrap());
        let chain = LocalChain::start().await;
        let faucet = chain.faucet();
        let spec = DeploymentSpec {
            token_program: anchor_spl::token::ID,
            decimals: 6,
            protocol_fee_bps: 250,
            pool_min_stake: demo::TOKEN,
            pool_cooldown_secs: 86_400,
            pool_max_reward_bps: 5_000,
            model_id,
            model_name: "test".into(),
            architecture: "qwen2".into(),
            engine_version: 1,
            market: demo::market_params(),
        };
        let d = deploy(&chain, &faucet, &spec).await.unwrap();
        let provider = d.participant(&chain, &faucet, 10_000_000_000, 20 * demo::TOKEN).await.unwrap();
        d.stake(&chain, &provider, 10 * demo::TOKEN).await.unwrap();
        d.register_provider(&chain, &provider, model_id, "test").await.unwrap();
        let client = d.participant(&chain, &faucet, 10_000_000_000, 100 * demo::TOKEN).await.unwrap();
        let store = ContentStore::open(dir.path().join("store")).unwrap();
        H { chain, d, engine, store, client, provider, dir }
    }

    impl H {
        pub async fn node(&self, market: anchor_lang::prelude::Pubkey, journal: &str) -> Node {
            self.node_of(&self.provider, market, journal).await
        }

        /// A node acting as `who` (its own journal).
        pub async fn node_of(&self, who: &Participant, market: anchor_lang::prelude::Pubkey, journal: &str) -> Node {
            self.node_over(Arc::new(self.chain.clone()), who, market, journal).await
        }

        /// A node acting as `who` that talks to `chain` (e.g. a [`super::faults::Faulty`] one).
        pub async fn node_over(
            &self,
            chain: Arc<dyn Chain>,
            who: &Participant,
            market: anchor_lang::prelude::Pubkey,
            journal: &str,
        ) -> Node {
            let j = Journal::open(&self.dir.path().join(journal)).unwrap();
            Node::connect(
                chain,
                who.keypair.insecure_clone(),
                market,
                self.engine.clone(),
                self.store.clone(),
                j,
                Arc::new(Metrics::default()),
            )
            .await
            .map(|mut n| {
                n.fetch_policy = cinder_worker::fetch_input::FetchPolicy::LOCAL;
                n
            })
            .unwrap()
        }

        /// Posts a job with an explicit input hash and URI; returns its key.
        pub async fn post(
            &self,
            id: u64,
            hash: [u8; 32],
            uri: String,
            max_tokens: u32,
        ) -> anchor_lang::prelude::Pubkey {
            let args = jsdk::PostJobArgs {
                payment: demo::TOKEN,
                input_hash: hash,
                input_uri: uri,
                params: InferenceParams {
                    max_tokens,
                    temperature_bits: 0,
                    top_k: 0,
                    top_p_bits: 1f32.to_bits(),
                    seed: 1,
                    dtype: 0,
                },
                designated: None,
                expected_terms: cinder_sdk::market_terms(&self.chain, &self.d.market.market).await.unwrap().unwrap(),
            };
            let ix = jsdk::post_job(self.client.key(), self.client.token, &self.d.market, id, args);
            self.chain.send(&[ix], &self.client.keypair, &[]).await.unwrap();
            self.d.market.job(id)
        }

        pub async fn balance(&self, token: anchor_lang::prelude::Pubkey) -> u64 {
            let a = self.chain.get_account(&token).await.unwrap().unwrap();
            cinder_sdk::util::token_amount(&a.data).unwrap()
        }

        pub async fn warp(&self, secs: i64) {
            let now = self.chain.unix_timestamp().await.unwrap();
            self.chain.warp_to_timestamp(now + secs).await.unwrap();
        }

        /// Events of type E in every transaction that touched `key`.
        pub async fn events<E: cinder_sdk::events::ProgramEvent>(&self, key: &anchor_lang::prelude::Pubkey) -> Vec<E> {
            let mut out = vec![];
            for sig in self.chain.signatures_for(key) {
                let logs = self.chain.transaction_logs(&sig).await.unwrap().unwrap_or_default();
                out.extend(cinder_sdk::events::decode::<E>(&logs));
            }
            out
        }
    }
}

/// A chain in front of the in-process one that fails the way real nodes and networks do.
mod faults {
    use std::sync::{
        atomic::{AtomicUsize, Ordering::SeqCst},
        Arc,
    };

    use anchor_lang::prelude::Pubkey;
    use cinder_sdk::{
        chain::{
            local::LocalChain, BoxFuture, Chain, ChainAccount, ChainError, ChainResult, PreparedTx, TxReceipt, TxStatus,
        },
        Instruction,
    };
    use solana_keypair::Keypair;

    #[derive(Default)]
    pub struct Knobs {
        /// Sends that reach the node and land, whose answer is then lost (a timeout).
        pub drop_answers: AtomicUsize,
        /// Sends lost before reaching the node.
        pub swallow: AtomicUsize,
        /// Status reads answered "unknown" (a lagging node).
        pub stale_statuses: AtomicUsize,
    }

    pub struct Faulty {
        pub inner: LocalChain,
        pub knobs: Arc<Knobs>,
    }

    fn take(c: &AtomicUsize) -> bool {
        c.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_ok()
    }

    impl Chain for Faulty {
        fn get_account<'a>(&'a self, key: &'a Pubkey) -> BoxFuture<'a, ChainResult<Option<ChainAccount>>> {
            self.inner.get_account(key)
        }
        fn get_multiple_accounts<'a>(
            &'a self,
            keys: &'a [Pubkey],
        ) -> BoxFuture<'a, ChainResult<Vec<Option<ChainAccount>>>> {
            self.inner.get_multiple_accounts(keys)
        }
        fn send<'a>(
            &'a self,
            ixs: &'a [Instruction],
            payer: &'a Keypair,
            signers: &'a [&'a Keypair],
        ) -> BoxFuture<'a, ChainResult<TxReceipt>> {
            Box::pin(async move {
                if take(&self.knobs.swallow) {
                    return Err(ChainError::Rpc("connection reset".into()));
                }
                let r = self.inner.send(ixs, payer, signers).await;
                if take(&self.knobs.drop_answers) {
                    return Err(ChainError::Timeout("no answer".into()));
                }
                r
            })
        }
        fn prepare<'a>(
            &'a self,
            ixs: &'a [Instruction],
            payer: &'a Keypair,
            signers: &'a [&'a Keypair],
        ) -> BoxFuture<'a, ChainResult<PreparedTx>> {
            self.inner.prepare(ixs, payer, signers)
        }
        fn submit<'a>(&'a self, tx: &'a PreparedTx) -> BoxFuture<'a, ChainResult<()>> {
            Box::pin(async move {
                if take(&self.knobs.swallow) {
                    return Err(ChainError::Rpc("connection reset".into()));
                }
                let r = self.inner.submit(tx).await;
                if take(&self.knobs.drop_answers) {
                    return Err(ChainError::Timeout("no answer".into()));
                }
                r
            })
        }
        fn statuses<'a>(&'a self, sigs: &'a [String]) -> BoxFuture<'a, ChainResult<Vec<TxStatus>>> {
            Box::pin(async move {
                if take(&self.knobs.stale_statuses) {
                    return Ok(vec![TxStatus::Unknown; sigs.len()]);
                }
                self.inner.statuses(sigs).await
            })
        }
        fn block_height(&self) -> BoxFuture<'_, ChainResult<u64>> {
            self.inner.block_height()
        }
        fn unix_timestamp(&self) -> BoxFuture<'_, ChainResult<i64>> {
            self.inner.unix_timestamp()
        }
        fn transaction_logs<'a>(&'a self, sig: &'a str) -> BoxFuture<'a, ChainResult<Option<Vec<String>>>> {
            self.inner.transaction_logs(sig)
        }
        fn signatures_for_address<'a>(&'a self, key: &'a Pubkey) -> BoxFuture<'a, ChainResult<Vec<String>>> {
            self.inner.signatures_for_address(key)
        }
    }
}

fn faulty(h: &harness::H) -> (std::sync::Arc<dyn Chain>, std::sync::Arc<faults::Knobs>) {
    let knobs = std::sync::Arc::new(faults::Knobs::default());
    (std::sync::Arc::new(faults::Faulty { inner: h.chain.clone(), knobs: knobs.clone() }), knobs)
}

/// A claim that lands but whose answer is lost, on a node whose status reads lag, is not given up
/// (formerly: journaled "failed", the job orphaned and the provider slashed at its deadline). The
/// journaled signature is resolved on the next tick and the job is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_whose_answer_is_lost_after_landing_is_served_not_orphaned() {
    use cinder_worker::Provider;
    use std::sync::atomic::Ordering::SeqCst;
    let h = harness::harness().await;
    let market = h.d.market.market;
    let (chain, knobs) = faulty(&h);
    let hash = h.store.put(b"a prompt whose claim answer is lost").unwrap();
    let job = h.post(0, hash, cinder_worker::ContentStore::uri(&hash), 4).await;
    let before = h.balance(h.provider.token).await;
    let mut node = h.node_over(chain, &h.provider, market, "p.sqlite").await;
    node.confirm_timeout = std::time::Duration::from_millis(200);
    node.status_poll = std::time::Duration::from_millis(20);
    let mut p = Provider::new(node);
    knobs.drop_answers.store(1, SeqCst);
    knobs.stale_statuses.store(1_000, SeqCst);
    assert_eq!(p.tick().await.unwrap(), 0, "the claim is undecided");
    let e = p.node.journal.get(&job.to_string()).unwrap().unwrap();
    assert_eq!(e.state, "claiming", "not given up");
    assert!(p.node.journal.pending("claim_job:0").unwrap().is_some(), "its signature is journaled");
    // Still lagging: nothing is concluded and no second claim is sent.
    p.tick().await.unwrap();
    let j: cinder_jobs::Job = cinder_sdk::fetch(&h.chain, &job).await.unwrap().unwrap();
    assert_eq!(j.status, cinder_jobs::JobStatus::Submitted, "the chain shows our claim, so the job is served");
    // The node catches up: both journaled signatures resolve as landed.
    knobs.stale_statuses.store(0, SeqCst);
    p.tick().await.unwrap();
    assert!(p.node.journal.all_pending().unwrap().is_empty(), "resolved as landed");
    assert_eq!(p.node.journal.get(&job.to_string()).unwrap().unwrap().state, "submitted");
    h.warp(301).await;
    for _ in 0..3 {
        p.tick().await.unwrap();
    }
    let claims: Vec<cinder_jobs::JobClaimed> = h.events(&job).await;
    let finals: Vec<cinder_jobs::JobFinalized> = h.events(&job).await;
    assert_eq!((claims.len(), finals.len()), (1, 1), "claimed once, finalized once");
    let fee = demo::TOKEN * 250 / 10_000;
    assert_eq!(h.balance(h.provider.token).await, before + demo::TOKEN - fee, "paid, not slashed");
    let stake: cinder_staking::ProviderStake =
        cinder_sdk::fetch(&h.chain, &h.d.pool.stake(&h.provider.key())).await.unwrap().unwrap();
    assert_eq!(stake.active, 10 * demo::TOKEN);
}

/// A claim lost before it reached the node is not retried while it could still land; once the
/// cluster is past its last valid block height it is known never to land and a fresh claim goes out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_claim_is_retried_only_after_its_blockhash_expired() {
    use cinder_worker::Provider;
    use std::sync::atomic::Ordering::SeqCst;
    let h = harness::harness().await;
    let market = h.d.market.market;
    let (chain, knobs) = faulty(&h);
    let hash = h.store.put(b"a prompt whose claim is lost").unwrap();
    let job = h.post(0, hash, cinder_worker::ContentStore::uri(&hash), 4).await;
    let mut node = h.node_over(chain, &h.provider, market, "p.sqlite").await;
    node.confirm_timeout = std::time::Duration::from_millis(200);
    node.status_poll = std::time::Duration::from_millis(20);
    let mut p = Provider::new(node);
    knobs.swallow.store(2, SeqCst); // the send and its one resend
    assert_eq!(p.tick().await.unwrap(), 0);
    let first = p.node.journal.pending("claim_job:0").unwrap().expect("journaled");
    assert_eq!(p.tick().await.unwrap(), 0, "may still land: nothing new sent");
    assert_eq!(p.node.journal.pending("claim_job:0").unwrap().as_ref(), Some(&first));
    let j: cinder_jobs::Job = cinder_sdk::fetch(&h.chain, &job).await.unwrap().unwrap();
    assert_eq!(j.status, cinder_jobs::JobStatus::Open);
    h.chain.advance_slots(cinder_sdk::chain::local::BLOCKHASH_VALIDITY + 2).await.unwrap();
    p.tick().await.unwrap();
    let j: cinder_jobs::Job = cinder_sdk::fetch(&h.chain, &job).await.unwrap().unwrap();
    assert_eq!((j.status, j.provider), (cinder_jobs::JobStatus::Claimed, h.provider.key()), "claimed afresh");
    let claims: Vec<cinder_jobs::JobClaimed> = h.events(&job).await;
    assert_eq!(claims.len(), 1);
}

/// A verifier's scan covers every job up to the market's counter (formerly a 64-job window), and
/// its cursor survives a restart (formerly every restart rescanned from job 0). The provider finds
/// a job designated to it far behind the queue head (formerly only the first 16 slots).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_designated_job_far_down_the_queue_is_served_and_verified_and_the_cursor_persists() {
    use cinder_worker::{Provider, Verifier};
    let h = harness::harness().await;
    let market = h.d.market.market;
    let terms = cinder_sdk::market_terms(&h.chain, &market).await.unwrap().unwrap();
    // 70 open jobs nobody can serve (their input is nowhere), then one designated to the provider.
    for id in 0..70u64 {
        let args = cinder_sdk::jobs::PostJobArgs {
            payment: demo::TOKEN,
            input_hash: [9; 32],
            input_uri: cinder_worker::ContentStore::uri(&[9; 32]),
            params: cinder_jobs::InferenceParams { max_tokens: 4, top_p_bits: 1f32.to_bits(), ..Default::default() },
            designated: None,
            expected_terms: terms,
        };
        let ix = cinder_sdk::jobs::post_job(h.client.key(), h.client.token, &h.d.market, id, args);
        h.chain.send(&[ix], &h.client.keypair, &[]).await.unwrap();
    }
    let hash = h.store.put(b"for you only").unwrap();
    let args = cinder_sdk::jobs::PostJobArgs {
        payment: demo::TOKEN,
        input_hash: hash,
        input_uri: cinder_worker::ContentStore::uri(&hash),
        params: cinder_jobs::InferenceParams { max_tokens: 4, top_p_bits: 1f32.to_bits(), ..Default::default() },
        designated: Some(h.provider.key()),
        expected_terms: terms,
    };
    let ix = cinder_sdk::jobs::post_job(h.client.key(), h.client.token, &h.d.market, 70, args);
    h.chain.send(&[ix], &h.client.keypair, &[]).await.unwrap();
    let designated = h.d.market.job(70);
    let faucet = h.chain.faucet();
    let v = h.d.participant(&h.chain, &faucet, 10_000_000_000, 20 * demo::TOKEN).await.unwrap();
    h.d.stake(&h.chain, &v, 10 * demo::TOKEN).await.unwrap();
    h.d.register_verifier(&h.chain, &v).await.unwrap();

    let mut p = Provider::new(h.node(market, "p.sqlite").await);
    for _ in 0..3 {
        p.tick().await.unwrap();
    }
    let j: cinder_jobs::Job = cinder_sdk::fetch(&h.chain, &designated).await.unwrap().unwrap();
    assert_eq!((j.status, j.provider), (cinder_jobs::JobStatus::Submitted, h.provider.key()));
    let mut ver = Verifier::new(h.node_of(&v, market, "v.sqlite").await);
    ver.tick().await.unwrap();
    let e = ver.node.journal.get(&designated.to_string()).unwrap().expect("job 70 was looked at");
    assert_eq!((e.state.as_str(), e.vote), ("verified", Some(cinder_sdk::verification::VOTE_RESULT_CORRECT)));
    assert_eq!(ver.scan_from(), 0, "job 0 is still open");

    // Every job ends (the client cancels the open ones, the designated one finalizes); the
    // cursor moves past them all and a restarted verifier starts there.
    for id in 0..70u64 {
        let ix = cinder_sdk::jobs::cancel_job(h.client.key(), h.client.token, &h.d.market, id);
        h.chain.send(&[ix], &h.client.keypair, &[]).await.unwrap();
    }
    h.warp(301).await;
    for _ in 0..3 {
        p.tick().await.unwrap();
        ver.tick().await.unwrap();
    }
    for id in 0..71u64 {
        assert!(h.chain.get_account(&h.d.market.job(id)).await.unwrap().is_none(), "job {id} closed");
    }
    ver.tick().await.unwrap();
    assert_eq!(ver.scan_from(), 71);
    drop(ver);
    let ver = Verifier::new(h.node_of(&v, market, "v.sqlite").await);
    assert_eq!(ver.scan_from(), 71, "the cursor was persisted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_killed_mid_job_and_restarted_finishes_it_exactly_once() {
    use cinder_worker::{CrashPoint, Provider, WorkerError};
    let h = harness::harness().await;
    let market = h.d.market.market;
    let doc = b"Say hello to the verifiers.";
    let hash = h.store.put(doc).unwrap();
    let job = h.post(0, hash, cinder_worker::ContentStore::uri(&hash), 12).await;
    let before = h.balance(h.provider.token).await;

    // Claim, then crash after inference (nothing journaled yet).
    let mut p = Provider::new(h.node(market, "p.sqlite").await);
    assert_eq!(p.tick().await.unwrap(), 1, "claimed");
    p.crash_at = Some(CrashPoint::AfterInference);
    assert!(matches!(p.tick().await, Err(WorkerError::Crashed(CrashPoint::AfterInference))));
    drop(p);
    // Restart; crash after journaling the commitment, before sending it.
    let mut p = Provider::new(h.node(market, "p.sqlite").await);
    p.crash_at = Some(CrashPoint::BeforeSubmit);
    assert!(matches!(p.tick().await, Err(WorkerError::Crashed(CrashPoint::BeforeSubmit))));
    drop(p);
    // Restart; crash after the transaction landed, before the journal records it.
    let mut p = Provider::new(h.node(market, "p.sqlite").await);
    p.crash_at = Some(CrashPoint::AfterSubmit);
    assert!(matches!(p.tick().await, Err(WorkerError::Crashed(CrashPoint::AfterSubmit))));
    drop(p);
    // Restart without crashing: it reconciles with the chain, waits out the window, finalizes.
    let mut p = Provider::new(h.node(market, "p.sqlite").await);
    p.tick().await.unwrap();
    assert_eq!(p.node.journal.get(&job.to_string()).unwrap().unwrap().state, "submitted");
    h.warp(301).await;
    assert_eq!(p.tick().await.unwrap(), 1, "finalized");
    assert_eq!(p.tick().await.unwrap(), 0, "nothing left to do");

    let results: Vec<cinder_jobs::ResultRecorded> = h.events(&job).await;
    let finals: Vec<cinder_jobs::JobFinalized> = h.events(&job).await;
    assert_eq!(results.len(), 1, "the result was submitted exactly once");
    assert_eq!(finals.len(), 1, "and finalized exactly once");
    let fee = demo::TOKEN * 250 / 10_000;
    assert_eq!(h.balance(h.provider.token).await, before + demo::TOKEN - fee);
    assert!(h.chain.get_account(&job).await.unwrap().is_none());
}

/// An input server that is down when the job is first seen is retried, not a refusal (formerly a
/// terminal refusal: the job expired although its input came back); once it is up the job is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_server_that_comes_back_gets_its_job_served() {
    use cinder_worker::Provider;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let h = harness::harness().await;
    let doc = b"served once the server is back";
    let hash = cinder_worker::store::sha256(doc);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let job = h.post(0, hash, format!("http://127.0.0.1:{port}/v1/objects/x"), 4).await;
    let mut p = Provider::new(h.node(h.d.market.market, "p.sqlite").await);
    assert_eq!(p.tick().await.unwrap(), 0);
    let e = p.node.journal.get(&job.to_string()).unwrap().unwrap();
    assert_eq!(e.state, cinder_worker::provider::WAITING_INPUT, "{:?}", e.note);
    // The server comes up.
    let l = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = l.accept().await {
            let mut buf = [0u8; 2048];
            let _ = sock.read(&mut buf).await;
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", doc.len());
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(doc).await;
        }
    });
    assert_eq!(p.tick().await.unwrap(), 1, "claimed");
    let j: cinder_jobs::Job = cinder_sdk::fetch(&h.chain, &job).await.unwrap().unwrap();
    assert_eq!((j.status, j.provider), (cinder_jobs::JobStatus::Claimed, h.provider.key()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_are_refused_with_a_reason_and_the_client_is_refunded() {
    use cinder_worker::Provider;
    let h = harness::harness().await;
    let client_before = h.balance(h.client.token).await;
    let good = h.store.put(b"a fine prompt").unwrap();
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    // 0: the bytes at the URI do not hash to the job's input hash.
    let j0 = h.post(0, [7; 32], cinder_worker::ContentStore::uri(&good), 8).await;
    // 1: the input URI is unreachable.
    let j1 = h.post(1, [8; 32], format!("http://127.0.0.1:{closed_port}/prompt"), 8).await;
    // 2: prompt plus requested tokens exceed the model's context.
    let j2 = h.post(2, good, cinder_worker::ContentStore::uri(&good), 1_000_000).await;
    let mut p = Provider::new(h.node(h.d.market.market, "p.sqlite").await);
    for _ in 0..3 {
        p.tick().await.unwrap();
        h.warp(601).await;
        for _ in 0..3 {
            p.tick().await.unwrap();
        }
    }
    let note = |k: anchor_lang::prelude::Pubkey| {
        p.node.journal.get(&k.to_string()).unwrap().and_then(|e| e.note).unwrap_or_default()
    };
    // The reasons were journaled (and logged) before the jobs expired.
    let reasons: Vec<String> = [j0, j1, j2].iter().map(|k| note(*k)).collect();
    assert!(reasons.iter().all(|r| r.contains("client refunded")), "{reasons:?}");
    assert!(reasons[0].contains("input hash mismatch"), "{}", reasons[0]);
    assert!(reasons[1].contains("unreachable"), "{}", reasons[1]);
    assert!(reasons[2].contains("exceeds the model's context"), "{}", reasons[2]);
    for k in [j0, j1, j2] {
        assert!(h.chain.get_account(&k).await.unwrap().is_none(), "job {k} expired and closed");
        let exp: Vec<cinder_jobs::JobExpired> = h.events(&k).await;
        assert_eq!((exp.len(), exp[0].refunded, exp[0].slashed), (1, demo::TOKEN, 0));
    }
    assert_eq!(h.balance(h.client.token).await, client_before, "client refunded in full");
    // A closed port is transient (the server may come back): retried every tick until the job's
    // open timeout, then expired like the two refusals, which are definitive.
    assert!(reasons[1].contains("temporarily unreachable"), "{}", reasons[1]);
    assert_eq!(p.node.metrics.jobs_refused.load(std::sync::atomic::Ordering::Relaxed), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_market_for_another_model_is_refused_with_the_reason() {
    use cinder_sdk::jobs as jsdk;
    use cinder_worker::Provider;
    let h = harness::harness().await;
    let other_model = [9u8; 32];
    let admin = &h.d.admin;
    let reg = jsdk::register_model(
        admin.pubkey(),
        jsdk::RegisterModelArgs {
            model_id: other_model,
            name: "other".into(),
            architecture: "llama".into(),
            engine_version: 1,
        },
    );
    let mut mk = h.d.market;
    mk.model = jsdk::model_pda(&other_model);
    mk.market = jsdk::market_pda(&mk.model, &mk.mint, &admin.pubkey());
    let create = jsdk::create_market(admin.pubkey(), &mk, demo::market_params());
    h.chain.send(&[reg, create], admin, &[]).await.unwrap();
    let good = h.store.put(b"prompt").unwrap();
    let args = jsdk::PostJobArgs {
        payment: TOKEN,
        input_hash: good,
        input_uri: cinder_worker::ContentStore::uri(&good),
        params: cinder_jobs::InferenceParams { max_tokens: 4, top_p_bits: 1f32.to_bits(), ..Default::default() },
        designated: None,
        expected_terms: cinder_sdk::market_terms(&h.chain, &mk.market).await.unwrap().unwrap(),
    };
    h.chain
        .send(&[jsdk::post_job(h.client.key(), h.client.token, &mk, 0, args)], &h.client.keypair, &[])
        .await
        .unwrap();
    let mut p = Provider::new(h.node(mk.market, "p2.sqlite").await);
    assert_eq!(p.tick().await.unwrap(), 0, "nothing claimed");
    let e = p.node.journal.get(&mk.job(0).to_string()).unwrap().unwrap();
    assert_eq!(e.state, "refused");
    assert!(e.note.unwrap().contains("is not the model this worker loaded"));
    assert!(h.chain.get_account(&mk.job(0)).await.unwrap().is_some(), "still open, awaiting expiry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verifier_finalizes_for_a_provider_that_vanished_after_submitting() {
    use cinder_worker::{Provider, Verifier};
    let h = harness::harness().await;
    let market = h.d.market.market;
    let hash = h.store.put(b"vanishing provider").unwrap();
    let job = h.post(0, hash, cinder_worker::ContentStore::uri(&hash), 6).await;
    let before = h.balance(h.provider.token).await;
    let mut p = Provider::new(h.node(market, "p.sqlite").await);
    p.tick().await.unwrap(); // claim
    p.tick().await.unwrap(); // run and submit
    drop(p); // the provider goes away
             // A verifier (any key; this one is not registered) finalizes after the window.
    let faucet = h.chain.faucet();
    let v = h.d.participant(&h.chain, &faucet, 1_000_000_000, 0).await.unwrap();
    let j = cinder_worker::Journal::open(&h.dir.path().join("v.sqlite")).unwrap();
    let chain: std::sync::Arc<dyn Chain> = std::sync::Arc::new(h.chain.clone());
    let node = cinder_worker::Node::connect(
        chain,
        v.keypair.insecure_clone(),
        market,
        h.engine.clone(),
        h.store.clone(),
        j,
        Default::default(),
    )
    .await
    .unwrap();
    let mut ver = Verifier::new(node);
    ver.tick().await.unwrap(); // verifies the result; the window is still open
    assert!(h.chain.get_account(&job).await.unwrap().is_some());
    h.warp(301).await;
    assert_eq!(ver.tick().await.unwrap(), 1, "finalized");
    assert!(h.chain.get_account(&job).await.unwrap().is_none());
    let fee = TOKEN * 250 / 10_000;
    assert_eq!(h.balance(h.provider.token).await, before + TOKEN - fee, "paid to the recorded provider");
}

/// Fifty dead slots at the queue head (designated jobs cancelled from the last to the first: the
/// old wedge). The provider notices the head is dead, moves it on with `advance_queue` by itself,
/// and claims the next open job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provider_moves_a_dead_queue_head_on_and_claims_the_next_job() {
    use cinder_worker::Provider;
    let h = harness::harness().await;
    let market = h.d.market.market;
    let terms = cinder_sdk::market_terms(&h.chain, &market).await.unwrap().unwrap();
    for id in 0..50u64 {
        let args = cinder_sdk::jobs::PostJobArgs {
            payment: demo::TOKEN,
            input_hash: [1; 32],
            input_uri: "cas://01".into(),
            params: cinder_jobs::InferenceParams { max_tokens: 4, top_p_bits: 1f32.to_bits(), ..Default::default() },
            designated: Some(anchor_lang::prelude::Pubkey::new_unique()),
            expected_terms: terms,
        };
        let ix = cinder_sdk::jobs::post_job(h.client.key(), h.client.token, &h.d.market, id, args);
        h.chain.send(&[ix], &h.client.keypair, &[]).await.unwrap();
    }
    for id in (0..50u64).rev() {
        let ix = cinder_sdk::jobs::cancel_job(h.client.key(), h.client.token, &h.d.market, id);
        h.chain.send(&[ix], &h.client.keypair, &[]).await.unwrap();
    }
    let hash = h.store.put(b"after the dead slots").unwrap();
    let job = h.post(50, hash, cinder_worker::ContentStore::uri(&hash), 4).await;
    let mut p = Provider::new(h.node(market, "p.sqlite").await);
    for _ in 0..6 {
        p.tick().await.unwrap();
        if cinder_sdk::fetch::<cinder_jobs::Job>(&h.chain, &job).await.unwrap().unwrap().status
            != cinder_jobs::JobStatus::Open
        {
            break;
        }
    }
    let j: cinder_jobs::Job = cinder_sdk::fetch(&h.chain, &job).await.unwrap().unwrap();
    assert_eq!((j.status, j.provider), (cinder_jobs::JobStatus::Claimed, h.provider.key()));
    let m: cinder_jobs::Market = cinder_sdk::fetch(&h.chain, &market).await.unwrap().unwrap();
    assert_eq!(m.queue_head, 51, "the head passed every dead slot and the claimed job");
    let advanced: Vec<cinder_jobs::QueueAdvanced> = h.events(&market).await;
    assert!(advanced.len() >= 2, "moved on in bounded steps: {} advances", advanced.len());
    assert!(advanced.iter().all(|e| e.to - e.from <= cinder_jobs::MAX_QUEUE_ADVANCE as u64));
}

/// A verifier whose draw meets registrations that unstaked removes them (anyone may) once the draw
/// is complete, so they cannot use up later draws' step budgets; staked registrations stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verifier_removes_dead_registrations_its_draw_named() {
    use cinder_sdk::verification as vsdk;
    use cinder_worker::{Provider, Verifier};
    let h = harness::harness().await;
    let market = h.d.market.market;
    let faucet = h.chain.faucet();
    let mut live = vec![];
    for _ in 0..4 {
        let v = h.d.participant(&h.chain, &faucet, 10_000_000_000, 20 * demo::TOKEN).await.unwrap();
        h.d.stake(&h.chain, &v, 10 * demo::TOKEN).await.unwrap();
        h.d.register_verifier(&h.chain, &v).await.unwrap();
        live.push(v);
    }
    let mut dead = vec![];
    for _ in 0..8 {
        let v = h.d.participant(&h.chain, &faucet, 10_000_000_000, 20 * demo::TOKEN).await.unwrap();
        h.d.stake(&h.chain, &v, 10 * demo::TOKEN).await.unwrap();
        h.d.register_verifier(&h.chain, &v).await.unwrap();
        let ix = cinder_sdk::staking::request_unstake(&h.d.pool, v.key(), 10 * demo::TOKEN);
        h.chain.send(&[ix], &v.keypair, &[]).await.unwrap();
        dead.push(v.key());
    }
    let set = |c: &cinder_sdk::chain::local::LocalChain| {
        let c = c.clone();
        async move { cinder_sdk::fetch::<vsdk::VerifierSet>(&c, &vsdk::verifier_set_pda(&market)).await.unwrap().unwrap() }
    };
    assert_eq!(set(&h.chain).await.count, 12);
    let hash = h.store.put(b"a prompt the provider lies about").unwrap();
    let job = h.post(0, hash, cinder_worker::ContentStore::uri(&hash), 4).await;
    let mut p = Provider { dishonest_job_ids: vec![0], ..Provider::new(h.node(market, "p.sqlite").await) };
    let mut v = Verifier::new(h.node_of(&live[0], market, "v.sqlite").await);
    let mut drawn = false;
    for _ in 0..60 {
        p.tick().await.unwrap();
        v.tick().await.unwrap();
        h.chain.advance_slots(2).await.unwrap();
        let d: Option<vsdk::Dispute> = cinder_sdk::fetch(&h.chain, &vsdk::dispute_pda(&job)).await.unwrap();
        if d.is_some_and(|d| d.drawn()) {
            drawn = true;
            v.tick().await.unwrap();
            break;
        }
    }
    assert!(drawn, "the dispute's quorum was drawn");
    let s = set(&h.chain).await;
    assert_eq!(s.drawing, 0);
    assert!(s.count < 12, "some dead registration was removed (count {})", s.count);
    let mut left = vec![];
    for i in 0..s.count {
        let e: vsdk::VerifierEntry =
            cinder_sdk::fetch(&h.chain, &vsdk::verifier_entry_pda(&market, i)).await.unwrap().unwrap();
        left.push(e.verifier);
    }
    for l in &live {
        assert!(left.contains(&l.key()), "a staked registration was removed");
    }
    assert_eq!(left.len() + dead.iter().filter(|d| !left.contains(d)).count(), 12);
}

/// A verifier re-executes the results it has not judged at most `max_parallel_verifications` at
/// a time: with a limit of 1 never two at once, with 2 two at once (the first is still running
/// when the second starts, since each runs on the blocking pool); every verdict is journaled
/// and equal, whatever the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_execution_runs_in_parallel_within_its_bound() {
    use cinder_worker::{Provider, Verifier};
    let h = harness::harness().await;
    let market = h.d.market.market;
    let mut jobs = vec![];
    for id in 0..4u64 {
        let hash = h.store.put(format!("parallel {id}").as_bytes()).unwrap();
        jobs.push(h.post(id, hash, cinder_worker::ContentStore::uri(&hash), 6).await);
    }
    let mut p = Provider::new(h.node(market, "p.sqlite").await);
    for _ in 0..12 {
        p.tick().await.unwrap();
    }
    for j in &jobs {
        let j: cinder_jobs::Job = cinder_sdk::fetch(&h.chain, j).await.unwrap().unwrap();
        assert_eq!(j.status, cinder_jobs::JobStatus::Submitted, "job {}", j.job_id);
    }
    let faucet = h.chain.faucet();
    for (limit, journal) in [(1usize, "v1.sqlite"), (2, "v2.sqlite")] {
        let v = h.d.participant(&h.chain, &faucet, 1_000_000_000, 0).await.unwrap();
        let mut node = h.node_of(&v, market, journal).await;
        node.max_parallel_verifications = limit;
        let mut ver = Verifier::new(node);
        assert_eq!(ver.tick().await.unwrap(), 0, "nothing to challenge");
        let m = &ver.node.metrics;
        use std::sync::atomic::Ordering::SeqCst;
        assert_eq!(m.results_verified.load(SeqCst), 4);
        assert_eq!(m.verifications_in_flight.load(SeqCst), 0);
        assert_eq!(m.verifications_in_flight_peak.load(SeqCst), limit as u64, "limit {limit}");
        for j in &jobs {
            let e = ver.node.journal.get(&j.to_string()).unwrap().expect("journaled");
            assert_eq!((e.state.as_str(), e.vote), ("verified", Some(cinder_sdk::verification::VOTE_RESULT_CORRECT)));
        }
        // A second tick re-executes nothing: the verdicts are journaled.
        ver.tick().await.unwrap();
        assert_eq!(ver.node.metrics.results_verified.load(SeqCst), 4);
    }
}

/// The provider's endpoint over a real socket: `PUT` takes only the input of an open job of its
/// market, within the cap and hashing to its name; the provider then serves that job without
/// fetching anything, publishes its output under the endpoint, and `GET` returns it. At most
/// `max_concurrency` requests at once (503 + Retry-After), each within the deadline (408).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_takes_inputs_of_open_jobs_and_serves_outputs() {
    use cinder_worker::{
        http::{serve, Endpoint, HttpLimits},
        store::{hex, sha256},
        ContentStore, Provider,
    };
    let h = harness::harness().await;
    let market = h.d.market.market;
    let store = ContentStore::open(h.dir.path().join("provider-store")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let ep = Endpoint {
        store: store.clone(),
        chain: std::sync::Arc::new(h.chain.clone()),
        market,
        worker: h.provider.key(),
        public_url: Some(base.clone()),
        role: "provider",
        limits: HttpLimits {
            max_upload_bytes: 64,
            max_concurrency: 1,
            request_timeout: std::time::Duration::from_secs(2),
        },
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(serve(listener, ep, stop_rx));
    let http = reqwest::Client::new();
    let url = |hash: &[u8; 32]| format!("{base}/v1/objects/{}", hex(hash));

    let health: serde_json::Value = http.get(format!("{base}/v1/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (health["ok"].clone(), health["market"].clone()),
        (serde_json::json!(true), serde_json::json!(market.to_string()))
    );

    let input = b"uploaded prompt".to_vec();
    let hash = sha256(&input);
    // No job names it yet: refused.
    let r = http.put(url(&hash)).body(input.clone()).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let job = h.post(0, hash, url(&hash), 6).await;
    // Bad name, wrong bytes, too large: refused with their reasons; nothing stored.
    assert_eq!(http.put(format!("{base}/v1/objects/xyz")).body("a").send().await.unwrap().status(), 400);
    assert_eq!(http.put(url(&hash)).body("other bytes").send().await.unwrap().status(), 422);
    let big = vec![b'a'; 65];
    let big_hash = sha256(&big);
    h.post(1, big_hash, url(&big_hash), 6).await;
    assert_eq!(http.put(url(&big_hash)).body(big).send().await.unwrap().status(), 413);
    assert!(store.get(&hash).is_none() && store.get(&big_hash).is_none());
    // An open job that neither names this provider nor this endpoint: not ours to host.
    let elsewhere = b"hosted elsewhere".to_vec();
    let elsewhere_hash = sha256(&elsewhere);
    h.post(2, elsewhere_hash, "https://elsewhere.example/x".into(), 6).await;
    assert_eq!(http.put(url(&elsewhere_hash)).body(elsewhere).send().await.unwrap().status(), 403);
    // The right bytes: stored (201), and again is a no-op (200).
    assert_eq!(http.put(url(&hash)).body(input.clone()).send().await.unwrap().status(), 201);
    assert_eq!(http.put(url(&hash)).body(input.clone()).send().await.unwrap().status(), 200);
    assert_eq!(store.get(&hash).unwrap(), input);
    assert_eq!(http.get(url(&hash)).send().await.unwrap().bytes().await.unwrap().to_vec(), input);
    assert_eq!(http.get(url(&[7; 32])).send().await.unwrap().status(), 404);

    // The provider (same store, publishing under the endpoint) serves job 0 and publishes there.
    let j = cinder_worker::Journal::open(&h.dir.path().join("p.sqlite")).unwrap();
    let mut node = cinder_worker::Node::connect(
        std::sync::Arc::new(h.chain.clone()),
        h.provider.keypair.insecure_clone(),
        market,
        h.engine.clone(),
        store.clone(),
        j,
        Default::default(),
    )
    .await
    .unwrap();
    node.public_url = Some(base.clone());
    let mut p = Provider::new(node);
    for _ in 0..3 {
        p.tick().await.unwrap();
    }
    let posted: cinder_jobs::Job = cinder_sdk::fetch(&h.chain, &job).await.unwrap().unwrap();
    assert_eq!(posted.status, cinder_jobs::JobStatus::Submitted);
    assert!(posted.output_uri.starts_with(&format!("{base}/v1/objects/")), "{}", posted.output_uri);
    let out = http.get(&posted.output_uri).send().await.unwrap();
    assert_eq!(out.status(), 200);
    let doc: serde_json::Value = out.json().await.unwrap();
    let ids: Vec<u32> = serde_json::from_value(doc["output_token_ids"].clone()).unwrap();
    assert_eq!(cinder_inference::output_hash(&ids), posted.output_hash);

    // One request at a time: a stalled upload holds the only permit; the next is told to retry.
    use tokio::io::AsyncWriteExt;
    let other = sha256(b"stalled");
    h.post(3, other, url(&other), 6).await;
    let mut stalled = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!("PUT /v1/objects/{} HTTP/1.1\r\nhost: x\r\ncontent-length: 7\r\n\r\n", hex(&other));
    stalled.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let busy = http.get(format!("{base}/v1/health")).send().await.unwrap();
    assert_eq!(busy.status(), 503);
    assert_eq!(busy.headers()["retry-after"], "1");
    // The stalled upload runs out of time (408) and frees the permit.
    use tokio::io::AsyncReadExt;
    let mut answer = vec![0u8; 256];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stalled.read(&mut answer)).await.unwrap().unwrap();
    assert!(
        String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer[..n])
    );
    assert_eq!(http.get(format!("{base}/v1/health")).send().await.unwrap().status(), 200);

    stop_tx.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), server).await.unwrap().unwrap().unwrap();
}
