//! The local end-to-end demo: the whole protocol in one process. An in-process chain with the four programs,
//! a mint, the protocol config, a generated (or local) model registered on-chain, a market, a
//! staked provider worker and four staked verifier workers, and a client posting jobs (text
//! generation and code completion). Real inference runs and real commitments are posted; the
//! provider is dishonest for one job, a verifier challenges, the quorum votes, the provider is
//! slashed; the other jobs finalize after the challenge window (the clock is warped).
use std::{path::PathBuf, sync::Arc, time::Duration};

use anchor_lang::prelude::Pubkey;
use cinder_inference::{make_test_model, model_id_of_dir, Architecture, DType, TestModelSize};
use cinder_jobs::{InferenceParams, JobExpired, JobFinalized, JobSlashed, MarketParams};
use cinder_sdk::{
    bootstrap::{deploy, Deployment, DeploymentSpec, Participant},
    chain::{local::LocalChain, Chain},
    events::decode,
    jobs as jsdk,
};
use serde::Serialize;

use cinder_worker::{ContentStore, Engine, Journal, Metrics, Node, Provider, Verifier, WorkerError};

/// One token = 10^6 raw units (the demo mint has 6 decimals).
pub const TOKEN: u64 = 1_000_000;

pub struct DemoOptions {
    /// A local Hugging Face-format model directory; a small Qwen2-shaped model is generated when absent.
    pub model_dir: Option<PathBuf>,
    /// Where the demo keeps its model, store and journals.
    pub work_dir: PathBuf,
    /// The job (index) the provider lies about; `None` for an all-honest run.
    pub dishonest_job: Option<u64>,
    /// Print progress lines.
    pub progress: bool,
}

/// One job's outcome, from its terminal event.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct JobSummary {
    pub job_id: u64,
    pub job: String,
    pub kind: String,
    pub outcome: String,
    pub payment: u64,
    pub paid_to_provider: u64,
    pub fee: u64,
    pub slashed: u64,
    pub challenger_reward: u64,
    pub refunded: u64,
    pub rent_returned: u64,
    pub output_text: Option<String>,
}

#[derive(Serialize, Debug, Clone)]
pub struct DemoSummary {
    pub market: String,
    pub mint: String,
    pub model_id: String,
    pub provider: String,
    pub jobs: Vec<JobSummary>,
    /// Client, provider and treasury token balances at the end (raw units).
    pub client_balance: u64,
    pub provider_balance: u64,
    pub treasury_balance: u64,
    pub provider_stake: u64,
    /// True when the demo generated its model (random weights) instead of loading one.
    pub generated_model: bool,
}

/// The demo's chain and keys, for callers (the CLI) that audit afterwards.
pub struct DemoRun {
    pub chain: LocalChain,
    pub deployment: Deployment,
    pub summary: DemoSummary,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("model: {0}")]
    Model(#[from] cinder_inference::Error),
    #[error(transparent)]
    Worker(#[from] WorkerError),
    #[error("chain: {0}")]
    Chain(#[from] cinder_sdk::chain::ChainError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("the demo did not settle every job after {0} rounds")]
    Stuck(usize),
}

pub fn market_params() -> MarketParams {
    MarketParams {
        price: TOKEN,
        job_timeout_secs: 600,
        challenge_window_secs: 300,
        collateral: 2 * TOKEN,
        min_stake: 5 * TOKEN,
        challenge_bond: TOKEN / 2,
        challenger_reward_bps: 4_000,
        timeout_client_bps: 2_000,
        quorum: 3,
        voting_period_secs: 120,
        vote_penalty: TOKEN / 10,
    }
}

/// The demo's jobs: (kind, input document, max tokens).
pub fn demo_inputs() -> Vec<(&'static str, String, u32)> {
    vec![
        ("text", r#"{"prompt":"Write a short poem about GPUs sharing work."}"#.into(), 24),
        ("text", "Explain proof of stake in one sentence.".into(), 24),
        ("code", r#"{"fim_prefix":"fn add(a: i32, b: i32) -> i32 {\n    ","fim_suffix":"\n}\n"}"#.into(), 16),
        ("code", "// Rust\nfn fibonacci(n: u64) -> u64 {\n".into(), 16),
    ]
}

fn say(on: bool, line: impl AsRef<str>) {
    if on {
        eprintln!("{}", line.as_ref());
    }
}

pub async fn run(opts: DemoOptions) -> Result<DemoRun, DemoError> {
    let p = opts.progress;
    std::fs::create_dir_all(&opts.work_dir)?;
    let model_dir = match &opts.model_dir {
        Some(d) => d.clone(),
        None => {
            let d = opts.work_dir.join("model");
            say(p, format!("• generating a small Qwen2-shaped test model in {}", d.display()));
            make_test_model(Architecture::Qwen2, 7, TestModelSize::Tiny, &d)?;
            d
        }
    };
    let model_id = model_id_of_dir(&model_dir)?;
    say(p, "• loading the model");
    let engine = Arc::new(Engine::load(&model_dir, DType::F32, Some(1))?);

    say(p, "• starting the in-process chain (escrow, staking, jobs, verification)");
    let chain = LocalChain::start().await;
    let faucet = chain.faucet();
    let spec = DeploymentSpec {
        token_program: anchor_spl::token::ID,
        decimals: 6,
        protocol_fee_bps: 250,
        pool_min_stake: TOKEN,
        pool_cooldown_secs: 86_400,
        pool_max_reward_bps: 5_000,
        model_id,
        model_name: "cinder-demo-qwen2".into(),
        architecture: "qwen2".into(),
        engine_version: cinder_inference::ENGINE_VERSION,
        market: market_params(),
    };
    let d = deploy(&chain, &faucet, &spec).await?;
    say(p, format!("• protocol deployed: market {} (mint {})", d.market.market, d.mint));

    let provider = d.participant(&chain, &faucet, 10_000_000_000, 20 * TOKEN).await?;
    d.stake(&chain, &provider, 10 * TOKEN).await?;
    d.register_provider(&chain, &provider, model_id, "in-process").await?;
    let mut verifiers = vec![];
    for _ in 0..4 {
        let v = d.participant(&chain, &faucet, 10_000_000_000, 20 * TOKEN).await?;
        d.stake(&chain, &v, 10 * TOKEN).await?;
        d.register_verifier(&chain, &v).await?;
        verifiers.push(v);
    }
    let client = d.participant(&chain, &faucet, 10_000_000_000, 100 * TOKEN).await?;
    say(p, "• staked provider and 4 staked verifiers registered; client funded with 100 tokens");

    let store = ContentStore::open(opts.work_dir.join("store"))?;
    let shared: Arc<dyn Chain> = Arc::new(chain.clone());
    let node = |kp: &Participant, name: &str| {
        let journal = Journal::open(&opts.work_dir.join(format!("{name}.journal.sqlite")));
        let store = store.clone();
        let engine = engine.clone();
        let chain = shared.clone();
        let kp = kp.keypair.insecure_clone();
        let market = d.market.market;
        async move {
            let journal = journal.map_err(WorkerError::from)?;
            Node::connect(chain, kp, market, engine, store, journal, Arc::new(Metrics::default())).await
        }
    };
    let mut prov = Provider::new(node(&provider, "provider").await?);
    prov.dishonest_job_ids = opts.dishonest_job.into_iter().collect();
    let mut vers = vec![];
    for (i, v) in verifiers.iter().enumerate() {
        vers.push(Verifier::new(node(v, &format!("verifier{i}")).await?));
    }

    // The client posts the jobs.
    let inputs = demo_inputs();
    let terms = cinder_sdk::market_terms(&chain, &d.market.market).await?.ok_or_else(|| {
        cinder_sdk::chain::ChainError::Decode("the demo market or the protocol config is missing".into())
    })?;
    let mut jobs = vec![];
    for (i, (kind, doc, max_tokens)) in inputs.iter().enumerate() {
        let hash = store.put(doc.as_bytes())?;
        let args = jsdk::PostJobArgs {
            payment: TOKEN,
            input_hash: hash,
            input_uri: ContentStore::uri(&hash),
            params: InferenceParams {
                max_tokens: *max_tokens,
                temperature_bits: 0,
                top_k: 0,
                top_p_bits: 1f32.to_bits(),
                seed: 42 + i as u64,
                dtype: 0,
            },
            designated: None,
            expected_terms: terms,
        };
        let ix = jsdk::post_job(client.key(), client.token, &d.market, i as u64, args);
        chain.send(&[ix], &client.keypair, &[]).await?;
        jobs.push((i as u64, kind.to_string(), d.market.job(i as u64)));
        say(p, format!("• client posted job {i} ({kind}) paying 1 token"));
    }

    // Run the workers; when nobody has anything to do, move the clock forward.
    let mut idle_rounds = 0;
    let mut slots_moved = false;
    for round in 0..400 {
        let mut actions = prov.tick().await?;
        for v in vers.iter_mut() {
            actions += v.tick().await?;
        }
        let mut open = 0;
        for (_, _, key) in &jobs {
            if chain.get_account(key).await?.is_some()
                || chain.get_account(&cinder_sdk::verification::dispute_pda(key)).await?.is_some()
            {
                open += 1;
            }
        }
        if open == 0 {
            say(p, format!("• every job settled after {round} rounds"));
            break;
        }
        if actions == 0 && !slots_moved {
            // A quorum draw waits for a later slot's hash: produce a few slots first, at the same
            // time, and only move the clock if that did not unblock anything.
            chain.advance_slots(cinder_sdk::verification::DRAW_DELAY_SLOTS + 1).await?;
            slots_moved = true;
        } else if actions == 0 {
            slots_moved = false;
            idle_rounds += 1;
            let now = chain.unix_timestamp().await?;
            chain.warp_to_timestamp(now + 61).await?;
            say(p, format!("  … {open} job(s) in flight; clock +61 s"));
            if idle_rounds > 60 {
                return Err(DemoError::Stuck(round));
            }
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    // The pool admin moves the treasury's share of slashes (kept in the stake vault) to the
    // treasury's token account.
    let pool: Option<cinder_staking::StakePool> = cinder_sdk::fetch(&chain, &d.pool.pool).await?;
    if pool.is_some_and(|p| p.treasury_accrued > 0) {
        let ix =
            cinder_sdk::staking::withdraw_treasury(&d.pool, solana_signer::Signer::pubkey(&d.admin), d.treasury_token);
        chain.send(&[ix], &d.admin, &[]).await?;
        say(p, "• the pool admin withdrew the treasury's share of the slash");
    }

    // Summary from the terminal events.
    let mut out = vec![];
    for (id, kind, key) in &jobs {
        let mut s = JobSummary {
            job_id: *id,
            job: key.to_string(),
            kind: kind.clone(),
            outcome: "unsettled".into(),
            payment: TOKEN,
            paid_to_provider: 0,
            fee: 0,
            slashed: 0,
            challenger_reward: 0,
            refunded: 0,
            rent_returned: 0,
            output_text: None,
        };
        for sig in chain.signatures_for(key) {
            let logs = chain.transaction_logs(&sig).await?.unwrap_or_default();
            for e in decode::<JobFinalized>(&logs).into_iter().filter(|e| e.job == *key) {
                (s.outcome, s.paid_to_provider, s.fee, s.rent_returned) =
                    ("finalized".into(), e.to_provider, e.fee, e.rent_returned);
            }
            for e in decode::<JobSlashed>(&logs).into_iter().filter(|e| e.job == *key) {
                s.outcome = "provider slashed (wrong result)".into();
                (s.slashed, s.challenger_reward, s.refunded, s.rent_returned) =
                    (e.slashed, e.challenger_reward, e.refunded, e.rent_returned);
            }
            for e in decode::<JobExpired>(&logs).into_iter().filter(|e| e.job == *key) {
                s.outcome = "expired".into();
                (s.slashed, s.refunded, s.rent_returned) = (e.slashed, e.refunded, e.rent_returned);
            }
            for e in decode::<cinder_jobs::ResultRecorded>(&logs).into_iter().filter(|e| e.job == *key) {
                let doc = e
                    .output_uri
                    .strip_prefix("cas://")
                    .and_then(cinder_worker::store::parse_hex32)
                    .and_then(|h| store.get(&h));
                s.output_text = doc
                    .and_then(|b| serde_json::from_slice::<cinder_worker::engine::OutputDoc>(&b).ok())
                    .map(|d| d.text);
            }
        }
        out.push(s);
    }
    let bal = |k: Pubkey| {
        let chain = chain.clone();
        async move {
            let a = chain.get_account(&k).await?.map(|a| a.data).unwrap_or_default();
            Ok::<u64, DemoError>(cinder_sdk::util::token_amount(&a).unwrap_or(0))
        }
    };
    let stake: Option<cinder_staking::ProviderStake> =
        cinder_sdk::fetch(&chain, &d.pool.stake(&provider.key())).await?;
    let summary = DemoSummary {
        market: d.market.market.to_string(),
        mint: d.mint.to_string(),
        model_id: cinder_worker::store::hex(&model_id),
        provider: provider.key().to_string(),
        jobs: out,
        client_balance: bal(client.token).await?,
        provider_balance: bal(provider.token).await?,
        treasury_balance: bal(d.treasury_token).await?,
        provider_stake: stake.map(|s| s.active).unwrap_or(0),
        generated_model: opts.model_dir.is_none(),
    };
    Ok(DemoRun { chain, deployment: d, summary })
}

fn tokens(raw: u64) -> String {
    format!("{}.{:06}", raw / TOKEN, raw % TOKEN)
}

/// The summary as a table (amounts in tokens).
pub fn render_table(s: &DemoSummary) -> String {
    let mut out = String::new();
    out.push_str(&format!("market {}  model {}\n\n", s.market, &s.model_id[..16]));
    out.push_str(&format!(
        "{:<4} {:<5} {:<32} {:>10} {:>10} {:>10} {:>10} {:>10} {:>12}\n",
        "job", "kind", "outcome", "payment", "payout", "fee", "slash", "refund", "rent back"
    ));
    for j in &s.jobs {
        out.push_str(&format!(
            "{:<4} {:<5} {:<32} {:>10} {:>10} {:>10} {:>10} {:>10} {:>12}\n",
            j.job_id,
            j.kind,
            j.outcome,
            tokens(j.payment),
            tokens(j.paid_to_provider),
            tokens(j.fee),
            tokens(j.slashed),
            tokens(j.refunded),
            format!("{} lamports", j.rent_returned),
        ));
    }
    out.push_str(&format!(
        "\nbalances: client {}  provider {} (stake {})  treasury {}\n",
        tokens(s.client_balance),
        tokens(s.provider_balance),
        tokens(s.provider_stake),
        tokens(s.treasury_balance)
    ));
    if s.generated_model {
        out.push_str(
            "(the generated test model has random weights: its text is noise, but it is the same on every run)\n",
        );
    }
    for j in s.jobs.iter().filter(|j| j.output_text.is_some()) {
        let text: String = j.output_text.as_deref().unwrap_or("").chars().take(60).collect();
        out.push_str(&format!("output of job {}: {:?}\n", j.job_id, text));
    }
    out
}
