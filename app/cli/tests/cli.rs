//! The CLI library, the `cinder` commands and the migrations, on the in-process chain.
use anchor_spl::token_2022::spl_token_2022;
use cinder_cli::{
    audit,
    cli::{execute, Cli, Ctx, Exit, OutputFormat},
    config, job_history,
    store::Store,
};
use cinder_jobs::{InferenceParams, MarketParams};
use cinder_migrations::{migrate, ClusterFile};
use cinder_sdk::{
    bootstrap::{create_mint, create_token_account, deploy, transfer_sol, Deployment, DeploymentSpec, Participant},
    chain::{local::LocalChain, Chain},
    jobs as jsdk, Pubkey,
};
use clap::Parser;
use solana_keypair::Keypair;
use solana_signer::Signer;

const MODEL_ID: [u8; 32] = [0x42; 32];
const PRICE: u64 = 1_000;

fn market_params() -> MarketParams {
    MarketParams {
        price: PRICE,
        job_timeout_secs: 600,
        challenge_window_secs: 300,
        collateral: 2_000,
        min_stake: 5_000,
        challenge_bond: 500,
        challenger_reward_bps: 4_000,
        timeout_client_bps: 2_000,
        quorum: 1,
        voting_period_secs: 100,
        vote_penalty: 50,
    }
}

fn spec() -> DeploymentSpec {
    DeploymentSpec {
        token_program: anchor_spl::token::ID,
        decimals: 6,
        protocol_fee_bps: 250,
        pool_min_stake: 1_000,
        pool_cooldown_secs: 3_600,
        pool_max_reward_bps: 5_000,
        model_id: MODEL_ID,
        model_name: "test".into(),
        architecture: "llama".into(),
        engine_version: 1,
        market: market_params(),
    }
}

struct World {
    chain: LocalChain,
    d: Deployment,
    client: Participant,
    provider: Participant,
}

async fn world() -> World {
    let chain = LocalChain::start().await;
    let faucet = chain.faucet();
    let d = deploy(&chain, &faucet, &spec()).await.expect("deploy");
    let client = d.participant(&chain, &faucet, 1_000_000_000, 100_000).await.unwrap();
    let provider = d.participant(&chain, &faucet, 1_000_000_000, 20_000).await.unwrap();
    d.stake(&chain, &provider, 10_000).await.unwrap();
    d.register_provider(&chain, &provider, MODEL_ID, "http://provider").await.unwrap();
    World { chain, d, client, provider }
}

impl World {
    async fn post(&self, job_id: u64, payment: u64) -> Pubkey {
        let args = jsdk::PostJobArgs {
            payment,
            input_hash: [7; 32],
            input_uri: "cas://00".into(),
            params: InferenceParams { max_tokens: 8, ..Default::default() },
            designated: None,
            expected_terms: cinder_sdk::market_terms(&self.chain, &self.d.market.market).await.unwrap().unwrap(),
        };
        let ix = jsdk::post_job(self.client.key(), self.client.token, &self.d.market, job_id, args);
        self.chain.send(&[ix], &self.client.keypair, &[]).await.expect("post_job");
        self.d.market.job(job_id)
    }

    async fn claim(&self, job_id: u64) {
        let ix = jsdk::claim_job(self.provider.key(), &self.d.market, job_id, &[]);
        self.chain.send(&[ix], &self.provider.keypair, &[]).await.expect("claim_job");
    }
}

#[tokio::test]
async fn audit_passes_on_a_healthy_deployment_counts_strays_and_fails_on_a_shortfall() {
    let w = world().await;
    let job0 = w.post(0, 1_500).await;
    let job1 = w.post(1, 1_000).await;
    w.claim(0).await;

    let r = audit(&w.chain).await.unwrap();
    assert!(r.ok, "findings: {:?}", r.findings);
    assert_eq!((r.markets, r.pools, r.live_jobs, r.stakes), (1, 1, 2, 1));
    assert_eq!(r.mints.len(), 1);
    let m = &r.mints[0];
    assert_eq!(m.mint, w.d.mint);
    assert_eq!((m.owed, m.held), (1_500 + 1_000 + 10_000, 1_500 + 1_000 + 10_000));
    assert!(m.ok);
    let _ = job0;

    // A real transfer straight into job 1's escrow vault: the vault now holds more than the
    // escrow accounts for. That is a stray (it goes with the job's payout), not a shortfall.
    let vault = cinder_sdk::escrow::vault_pda(&cinder_jobs::job_escrow(&job1));
    let ix = spl_token_2022::instruction::transfer_checked(
        &anchor_spl::token::ID,
        &w.client.token,
        &w.d.mint,
        &vault,
        &w.client.key(),
        &[],
        7,
        6,
    )
    .unwrap();
    w.chain.send(&[ix], &w.client.keypair, &[]).await.expect("stray transfer");
    let r = audit(&w.chain).await.unwrap();
    assert!(r.ok, "findings: {:?}", r.findings);
    assert_eq!((r.mints[0].held, r.mints[0].stray), (r.mints[0].owed + 7, 7));

    // Forged state (no real node allows it): the vault holds less than the escrow owes.
    let mut data = w.chain.get_account(&vault).await.unwrap().unwrap().data;
    data[64..72].copy_from_slice(&900u64.to_le_bytes());
    w.chain.overwrite_account_data(&vault, data).await.unwrap();
    let r = audit(&w.chain).await.unwrap();
    assert!(!r.ok);
    assert!(!r.mints[0].ok);
    assert!(
        r.findings.iter().any(|f| f.contains(&vault.to_string()) && f.contains("holds 900")),
        "findings: {:?}",
        r.findings
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["mints"][0]["mint"], w.d.mint.to_string());
    // `cinder audit` exits non-zero on it.
    let c = cli(&["audit"]);
    let out = execute(&c, &Ctx::from_cli(&c).unwrap(), &w.chain).await.unwrap();
    assert_eq!(out.code, Exit::AuditMismatch);
    assert!(out.text.contains("FINDING") && out.text.contains("audit FAILED"), "{}", out.text);
}

#[tokio::test]
async fn job_history_returns_posted_then_claimed() {
    let w = world().await;
    let job = w.post(0, 1_200).await;
    w.claim(0).await;
    let h = job_history(&w.chain, &job).await.unwrap();
    let names: Vec<&str> = h.iter().map(|e| e.name.as_str()).collect();
    let posted = names.iter().position(|n| *n == "JobPosted").expect("JobPosted");
    let claimed = names.iter().position(|n| *n == "JobClaimed").expect("JobClaimed");
    assert!(posted < claimed, "{names:?}");
    assert!(names.contains(&"EscrowOpened"), "the job's escrow events are part of it: {names:?}");
    assert!(!names.contains(&"StakeDeposited"), "unrelated events are not: {names:?}");
    assert_eq!(h[posted].fields["payment"], 1_200);
    assert_eq!(h[posted].fields["job"], job.to_string());
    assert_eq!(h[claimed].fields["provider"], w.provider.key().to_string());
    // Another job's events stay out.
    let other = w.post(1, 1_000).await;
    let h0 = job_history(&w.chain, &job).await.unwrap();
    assert!(h0.iter().all(|e| e.fields.get("job").is_none_or(|j| j == &job.to_string())));
    let h1 = job_history(&w.chain, &other).await.unwrap();
    assert_eq!(h1.iter().filter(|e| e.name == "JobPosted").count(), 1);
}

fn cli(args: &[&str]) -> Cli {
    Cli::try_parse_from(std::iter::once("cinder").chain(args.iter().copied())).expect("parses")
}

#[tokio::test]
async fn commands_post_show_list_and_audit_on_the_local_chain() {
    let w = world().await;
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("client.json");
    config::write_keypair(&key_path, &w.client.keypair).unwrap();
    let store = dir.path().join("store");
    let market = w.d.market.market.to_string();
    let token = w.client.token.to_string();
    let base = ["--keypair", key_path.to_str().unwrap(), "--store", store.to_str().unwrap(), "-o", "json"];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        cli(&args)
    };

    let c = run(&[
        "job",
        "post",
        "--market",
        &market,
        "--prompt",
        "hello cinder",
        "--token-account",
        &token,
        "--no-inline",
    ]);
    let ctx = Ctx::from_cli(&c).unwrap();
    assert_eq!(ctx.output, OutputFormat::Json);
    let out = execute(&c, &ctx, &w.chain).await.expect("job post");
    assert_eq!(out.code, Exit::Ok);
    let job = out.json["job"].as_str().unwrap().to_owned();
    assert_eq!(out.json["job_id"], 0);
    assert_eq!(out.json["payment"], PRICE);
    let uri = out.json["input_uri"].as_str().unwrap();
    assert_eq!(Store::new(&store).get(uri).unwrap(), b"hello cinder");
    let sha = cinder_cli::hex(&cinder_cli::store::sha256(b"hello cinder"));
    assert_eq!(uri, format!("cas://{sha}"));

    let c = run(&["job", "show", &job]);
    let out = execute(&c, &ctx, &w.chain).await.unwrap();
    assert_eq!(out.json["status"], "open");
    assert_eq!(out.json["input_hash"], sha);

    let c = run(&["list", "jobs", "--market", &market]);
    let out = execute(&c, &ctx, &w.chain).await.unwrap();
    assert_eq!(out.json.as_array().unwrap().len(), 1);
    assert_eq!(out.json[0]["status"], "open");

    // By default a small input goes inline: in the transaction, emitted in JobInputInline.
    let c = run(&["job", "post", "--market", &market, "--prompt", "short and public", "--token-account", &token]);
    let out = execute(&c, &ctx, &w.chain).await.expect("job post (inline)");
    assert_eq!(
        (out.json["input_uri"].clone(), out.json["inline"].clone()),
        (serde_json::json!("inline:"), serde_json::json!(true))
    );
    let inline_job = out.json["job"].as_str().unwrap().to_owned();
    let out = execute(&run(&["job", "history", &inline_job]), &ctx, &w.chain).await.unwrap();
    let ev = out
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "JobInputInline")
        .expect("JobInputInline in the history")
        .clone();
    assert_eq!(ev["fields"]["input"], serde_json::json!(b"short and public".to_vec()));
    let out = execute(&run(&["job", "cancel", &inline_job, "--token-account", &token]), &ctx, &w.chain).await.unwrap();
    assert_eq!(out.json["refunded"], PRICE);

    // --input-uri: the posted URI names where the workers fetch it; `{sha256}` is the hash.
    let c = run(&[
        "job",
        "post",
        "--market",
        &market,
        "--prompt",
        "served elsewhere",
        "--token-account",
        &token,
        "--input-uri",
        "https://inputs.example/v1/objects/{sha256}",
    ]);
    let out = execute(&c, &ctx, &w.chain).await.expect("job post --input-uri");
    let sha2 = cinder_cli::hex(&cinder_cli::store::sha256(b"served elsewhere"));
    assert_eq!(out.json["input_uri"], format!("https://inputs.example/v1/objects/{sha2}"));
    let posted = cinder_cli::fetch_job(&w.chain, &out.json["job"].as_str().unwrap().parse().unwrap()).await.unwrap();
    assert_eq!(posted.input_uri, format!("https://inputs.example/v1/objects/{sha2}"));
    let second = out.json["job"].as_str().unwrap().to_owned();
    let long = format!("https://x.example/{}", "a".repeat(200));
    let c =
        run(&["job", "post", "--market", &market, "--prompt", "x", "--token-account", &token, "--input-uri", &long]);
    let err = execute(&c, &ctx, &w.chain).await.err().expect("too long");
    assert!(err.to_string().contains("--input-uri must be 1 to 200 bytes"), "{err}");
    let out = execute(&run(&["job", "cancel", &second, "--token-account", &token]), &ctx, &w.chain).await.unwrap();
    assert_eq!(out.json["refunded"], PRICE);

    for what in ["markets", "models", "providers"] {
        let out = execute(&run(&["list", what]), &ctx, &w.chain).await.unwrap();
        assert_eq!(out.json.as_array().unwrap().len(), 1, "{what}: {}", out.json);
    }

    let out = execute(&run(&["audit"]), &ctx, &w.chain).await.unwrap();
    assert_eq!((out.code, out.json["ok"].clone()), (Exit::Ok, serde_json::json!(true)), "{}", out.json);

    let out = execute(&run(&["job", "cancel", &job, "--token-account", &token]), &ctx, &w.chain).await.unwrap();
    assert_eq!(out.json["refunded"], PRICE);
    let err = execute(&run(&["job", "show", &job]), &ctx, &w.chain).await.err().expect("closed");
    assert!(err.to_string().contains("job history"), "{err}");
    let out = execute(&run(&["job", "history", &job]), &ctx, &w.chain).await.unwrap();
    let names: Vec<&str> = out.json.as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    let pos = |n: &str| names.iter().position(|x| *x == n);
    assert!(pos("JobPosted").is_some() && pos("JobPosted") < pos("JobCancelled"), "{names:?}");
    assert!(pos("EscrowRefunded").is_some() && pos("EscrowClosed").is_some(), "{names:?}");
    let out = execute(&run(&["job", "watch", &job]), &ctx, &w.chain).await.unwrap();
    assert_eq!(out.json["status"], "cancelled");
}

#[test]
fn argument_parser() {
    let m = Pubkey::new_unique().to_string();
    let c =
        cli(&["-o", "json", "job", "post", "--market", &m, "--prompt", "hi", "--max-tokens", "5", "--top-p", "0.9"]);
    assert_eq!(c.output, OutputFormat::Json);
    match c.command {
        cinder_cli::cli::Command::Job(cinder_cli::cli::JobCmd::Post(a)) => {
            assert_eq!(a.prompt.as_deref(), Some("hi"));
            assert_eq!(a.inference.params().max_tokens, 5);
            assert_eq!(f32::from_bits(a.inference.params().top_p_bits), 0.9);
        }
        other => panic!("{other:?}"),
    }
    let parse = |a: &[&str]| Cli::try_parse_from(std::iter::once("cinder").chain(a.iter().copied()));
    assert!(parse(&["job", "post", "--market", &m]).is_err(), "needs --prompt or --file");
    assert!(parse(&["job", "post", "--market", &m, "--prompt", "a", "--file", "b"]).is_err(), "not both");
    assert!(parse(&["job", "post", "--market", "not-a-key", "--prompt", "a"]).is_err());
    assert!(parse(&["list", "jobs"]).is_err(), "needs --market");
    assert!(parse(&["--output", "yaml", "audit"]).is_err());
    assert!(parse(&["audit", "--url", "http://x:1", "--commitment", "finalized"]).is_ok(), "globals after the command");
    assert!(parse(&["admin", "register-model", "--arch", "llama"]).is_err(), "needs a dir or an id");
    assert!(parse(&[
        "admin",
        "create-market",
        "--model-id",
        "00",
        "--mint",
        &m,
        "--price",
        "1",
        "--collateral",
        "1",
        "--min-stake",
        "1",
        "--challenge-bond",
        "1"
    ])
    .is_ok());
}

/// websocket_url and commitment from the Solana CLI config reach the RPC client; flags win; an
/// empty websocket_url is derived from the RPC URL as the Solana CLI does; a bad commitment is an
/// error naming the file and the key.
#[test]
fn solana_config_websocket_and_commitment() {
    use cinder_sdk::chain::rpc::Commitment;
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("config.yml");
    std::fs::write(
        &cfg_path,
        "json_rpc_url: http://127.0.0.1:7000\nwebsocket_url: ws://127.0.0.1:7777\ncommitment: finalized\nkeypair_path: ~/k.json\n",
    )
    .unwrap();
    let ctx = Ctx::from_cli(&cli(&["--config", cfg_path.to_str().unwrap(), "audit"])).unwrap();
    assert_eq!((ctx.url.as_str(), ctx.ws_url.as_str()), ("http://127.0.0.1:7000", "ws://127.0.0.1:7777"));
    assert_eq!(ctx.commitment, Commitment::Finalized);
    let chain = ctx.rpc_chain();
    assert_eq!(chain.config().commitment, Commitment::Finalized);
    assert_eq!(chain.config().ws_url.as_deref(), Some("ws://127.0.0.1:7777"));
    if let Some(home) = std::env::var_os("HOME") {
        assert_eq!(ctx.keypair_path, std::path::PathBuf::from(home).join("k.json"), "~ is the home directory");
    }
    // Flags win; --url also decides the websocket (derived), so it never pairs with the file's.
    let ctx = Ctx::from_cli(&cli(&[
        "--config",
        cfg_path.to_str().unwrap(),
        "--url",
        "https://rpc.example.com:8443/k",
        "--commitment",
        "processed",
        "audit",
    ]))
    .unwrap();
    assert_eq!(ctx.ws_url, "wss://rpc.example.com:8444/k");
    assert_eq!(ctx.commitment, Commitment::Processed);
    assert_eq!(config::websocket_url_for("http://localhost:8899"), "ws://localhost:8900");
    assert_eq!(config::websocket_url_for("https://api.devnet.solana.com"), "wss://api.devnet.solana.com");
    // Empty websocket_url (what `solana config set` writes): derived.
    std::fs::write(&cfg_path, "json_rpc_url: http://127.0.0.1:7000\nwebsocket_url: ''\n").unwrap();
    let ctx = Ctx::from_cli(&cli(&["--config", cfg_path.to_str().unwrap(), "audit"])).unwrap();
    assert_eq!((ctx.ws_url.as_str(), ctx.commitment), ("ws://127.0.0.1:7001", Commitment::Confirmed));
    std::fs::write(&cfg_path, "commitment: quick\n").unwrap();
    let err = Ctx::from_cli(&cli(&["--config", cfg_path.to_str().unwrap(), "audit"])).err().unwrap();
    let msg = format!("{err:#}");
    assert!(msg.contains("commitment") && msg.contains("config.yml") && msg.contains("quick"), "{msg}");
}

#[test]
fn solana_config_loader() {
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("config.yml");
    let key_path = dir.path().join("id.json");
    std::fs::write(
        &cfg_path,
        format!(
            "---\njson_rpc_url: \"https://api.devnet.solana.com\"\nwebsocket_url: \"\"\nkeypair_path: {}\naddress_labels:\n  \"11111111111111111111111111111111\": System Program\ncommitment: confirmed\n",
            key_path.display()
        ),
    )
    .unwrap();
    let c = config::load_solana_config(&cfg_path).unwrap();
    assert_eq!(c.json_rpc_url.as_deref(), Some("https://api.devnet.solana.com"));
    assert_eq!(c.commitment.as_deref(), Some("confirmed"));
    assert_eq!(c.keypair_path.as_deref(), Some(key_path.as_path()));
    // Flags win over the file; the file over the defaults.
    let r = config::resolve(Some("localhost"), None, &c);
    assert_eq!((r.url.as_str(), r.keypair_path.as_path()), ("http://127.0.0.1:8899", key_path.as_path()));
    let r = config::resolve(None, None, &config::SolanaConfig::default());
    assert_eq!(r.url, config::DEFAULT_URL);
    assert!(r.keypair_path.ends_with(".config/solana/id.json"));
    // A missing config is no error; a missing keypair file is, and says what to do.
    assert_eq!(config::load_solana_config(&dir.path().join("nope.yml")).unwrap(), config::SolanaConfig::default());
    let cli = cli(&["--config", cfg_path.to_str().unwrap(), "audit"]);
    let ctx = Ctx::from_cli(&cli).unwrap();
    assert_eq!(ctx.url, "https://api.devnet.solana.com");
    let err = ctx.signer().expect_err("no keypair file yet").to_string();
    assert!(err.contains(&key_path.display().to_string()) && err.contains("solana-keygen new"), "{err}");
    // A valid file loads; a malformed one is a clear error.
    let k = Keypair::new();
    config::write_keypair(&key_path, &k).unwrap();
    assert_eq!(ctx.signer().unwrap().pubkey(), k.pubkey());
    std::fs::write(&key_path, "[1,2,3]").unwrap();
    let err = ctx.signer().err().unwrap().to_string();
    assert!(err.contains("expected 64"), "{err}");
}

#[tokio::test]
async fn migrations_are_idempotent_and_report_drift() {
    let chain = LocalChain::start().await;
    let faucet = chain.faucet();
    let admin = cinder_sdk::bootstrap::local_upgrade_authority();
    transfer_sol(&chain, &faucet, &admin.pubkey(), 10_000_000_000).await.unwrap();
    let tp = anchor_spl::token::ID;
    let mint = create_mint(&chain, &admin, &admin.pubkey(), 6, &tp).await.unwrap();
    let treasury = Keypair::new().pubkey();
    let treasury_token = create_token_account(&chain, &admin, &mint, &treasury, &tp).await.unwrap();
    let model_id = "ab".repeat(32);
    let file = |fee: u16| {
        format!(
            r#"
url = "http://127.0.0.1:8899"
[protocol]
treasury = "{treasury}"
protocol_fee_bps = {fee}
[[pools]]
mint = "{mint}"
treasury_token = "{treasury_token}"
min_stake = 1_000
cooldown_secs = 3_600
max_reward_bps = 5_000
[[models]]
model_id = "{model_id}"
name = "tiny"
architecture = "llama"
engine_version = 1
[[markets]]
model_id = "{model_id}"
mint = "{mint}"
price = 1_000
job_timeout_secs = 600
challenge_window_secs = 300
collateral = 2_000
min_stake = 5_000
challenge_bond = 500
challenger_reward_bps = 4_000
timeout_client_bps = 2_000
quorum = 3
voting_period_secs = 100
vote_penalty = 50
"#
        )
    };
    let f = ClusterFile::parse(&file(250)).unwrap();
    let first = migrate(&chain, &admin, &f).await.unwrap();
    assert_eq!(first.created.len(), 4, "{first:?}");
    assert!(first.drift.is_empty() && first.unchanged.is_empty(), "{first:?}");
    let markets = cinder_cli::markets(&chain).await.unwrap();
    assert_eq!(markets.len(), 1);
    assert_eq!(markets[0].1.treasury_token, treasury_token);

    let second = migrate(&chain, &admin, &f).await.unwrap();
    assert!(second.is_noop() && second.drift.is_empty(), "{second:?}");
    assert_eq!(second.unchanged.len(), 4);

    let drifted = migrate(&chain, &admin, &ClusterFile::parse(&file(300)).unwrap()).await.unwrap();
    assert!(drifted.created.is_empty());
    assert_eq!(drifted.drift.len(), 1, "{drifted:?}");
    assert!(drifted.drift[0].contains("protocol_fee_bps is 250 on chain, 300 in the file"), "{drifted:?}");

    // The commented example parses.
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/cluster.example.toml"));
    ClusterFile::parse(&example.unwrap()).expect("example parses");
    assert!(ClusterFile::parse("[protocol]\ntreasury = \"x\"\nprotocol_fee_bps = 1\nbogus = 2\n").is_err());
}

#[tokio::test]
async fn job_result_checks_the_stored_output_against_the_on_chain_hash() {
    let w = world().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("store"));
    let job = w.post(0, 1_000).await;
    w.claim(0).await;
    // The provider stores its output record and submits its hash and its commitment.
    let ids = vec![5u32, 17, 9];
    let prompt = vec![1u32, 2, 3];
    let record = serde_json::json!({
        "prompt_token_ids": prompt, "output_token_ids": ids, "finish_reason": "max_tokens", "text": "four five six"
    });
    let (_, uri) = store.put(serde_json::to_vec(&record).unwrap().as_slice()).unwrap();
    let on_chain: cinder_jobs::Job = cinder_sdk::fetch(&w.chain, &job).await.unwrap().unwrap();
    let market: cinder_jobs::Market = cinder_sdk::fetch(&w.chain, &on_chain.market).await.unwrap().unwrap();
    let p = on_chain.params;
    let commitment = cinder_inference::CommitmentInput::new(
        job.to_bytes(),
        w.provider.key().to_bytes(),
        market.model_id,
        cinder_inference::DType::F32,
        cinder_inference::SamplingParams {
            max_tokens: p.max_tokens,
            temperature: f32::from_bits(p.temperature_bits),
            top_k: p.top_k,
            top_p: f32::from_bits(p.top_p_bits),
            seed: p.seed,
        },
        prompt.clone(),
        ids.clone(),
        cinder_inference::FinishReason::MaxTokens,
    )
    .commitment();
    let args = cinder_sdk::verification::SubmitResultArgs {
        commitment,
        output_hash: cinder_inference::output_hash(&ids),
        output_uri: uri.clone(),
    };
    let ix = cinder_sdk::verification::submit_result(w.provider.key(), job, args);
    w.chain.send(&[ix], &w.provider.keypair, &[]).await.expect("submit_result");

    let c = cli(&["--store", store.dir.to_str().unwrap(), "job", "result", &job.to_string()]);
    let ctx = Ctx::from_cli(&c).unwrap();
    let out = execute(&c, &ctx, &w.chain).await.unwrap();
    assert_eq!(
        (out.code, &out.json["match"], &out.json["output"]),
        (Exit::Ok, &serde_json::json!(true), &serde_json::json!("four five six"))
    );
    assert!(out.text.contains("MATCH"), "{}", out.text);
    assert_eq!(out.json["commitment_match"], serde_json::json!(true), "commitment recomputed from the record");

    // A record whose output hash matches but whose commitment is not the on-chain one: MISMATCH.
    let other = w.post(1, 1_000).await;
    w.claim(1).await;
    let bad = cinder_sdk::verification::SubmitResultArgs {
        commitment: [1; 32],
        output_hash: cinder_inference::output_hash(&ids),
        output_uri: uri.clone(),
    };
    let ix = cinder_sdk::verification::submit_result(w.provider.key(), other, bad);
    w.chain.send(&[ix], &w.provider.keypair, &[]).await.expect("submit_result");
    let c2 = cli(&["--store", store.dir.to_str().unwrap(), "job", "result", &other.to_string()]);
    let out2 = execute(&c2, &ctx, &w.chain).await.unwrap();
    assert_eq!((out2.code, &out2.json["commitment_match"]), (Exit::ResultMismatch, &serde_json::json!(false)));

    // A tampered file (still under the same name) fails the content-address check.
    std::fs::write(store.path_of(&uri).unwrap(), br#"{"output_token_ids":[5,17,10]}"#).unwrap();
    let out = execute(&c, &ctx, &w.chain).await.unwrap();
    assert_eq!((out.code, &out.json["match"]), (Exit::ResultMismatch, &serde_json::json!(false)));
    assert!(out.text.contains("MISMATCH"), "{}", out.text);

    // An output not in the local store is asked of the provider's registered endpoint (here
    // `http://provider`, which does not resolve): the error names the URL it tried.
    std::fs::remove_file(store.path_of(&uri).unwrap()).unwrap();
    let err = execute(&c, &ctx, &w.chain).await.err().expect("missing output");
    let hx = uri.strip_prefix("cas://").unwrap();
    assert!(
        format!("{err:#}").contains(&format!("fetching the output from http://provider/v1/objects/{hx}")),
        "{err:#}"
    );

    // Before any result, `job result` says so.
    let open = w.post(2, 1_000).await;
    let c = cli(&["job", "result", &open.to_string()]);
    let err = execute(&c, &ctx, &w.chain).await.err().expect("no result yet");
    assert!(err.to_string().contains("no result yet"), "{err}");
}

#[tokio::test]
async fn audit_and_history_follow_a_challenged_job() {
    let w = world().await;
    let faucet = w.chain.faucet();
    let mut verifiers = Vec::new();
    for _ in 0..2 {
        let v = w.d.participant(&w.chain, &faucet, 1_000_000_000, 20_000).await.unwrap();
        w.d.stake(&w.chain, &v, 10_000).await.unwrap();
        w.d.register_verifier(&w.chain, &v).await.unwrap();
        verifiers.push(v);
    }
    let job = w.post(0, 1_000).await;
    w.claim(0).await;
    let args = cinder_sdk::verification::SubmitResultArgs {
        commitment: [1; 32],
        output_hash: [2; 32],
        output_uri: "cas://00".into(),
    };
    let ix = cinder_sdk::verification::submit_result(w.provider.key(), job, args);
    w.chain.send(&[ix], &w.provider.keypair, &[]).await.expect("submit_result");

    // Verifier 0 challenges; the draw (from a later slot) can only name verifier 1.
    let keys: Vec<Pubkey> = verifiers.iter().map(|v| v.key()).collect();
    let ix = cinder_sdk::verification::challenge_result(keys[0], verifiers[0].token, &w.d.market, &job);
    w.chain.send(&[ix], &verifiers[0].keypair, &[]).await.expect("challenge_result");
    w.chain.advance_slots(cinder_sdk::verification::DRAW_DELAY_SLOTS + 1).await.unwrap();
    let vsdk_draw = |pairs: &[(u32, Pubkey)]| cinder_sdk::verification::draw_quorum(keys[1], &w.d.market, &job, pairs);
    w.chain.send(&[vsdk_draw(&[])], &verifiers[1].keypair, &[]).await.expect("draw_quorum (seed)");
    for _ in 0..20 {
        let d: cinder_sdk::verification::Dispute =
            cinder_sdk::fetch(&w.chain, &cinder_sdk::verification::dispute_pda(&job)).await.unwrap().unwrap();
        if d.member_count == d.quorum {
            assert_eq!(d.members[0], keys[1]);
            break;
        }
        let idx = cinder_sdk::verification::next_draw_indices(&d, 10);
        let pairs: Vec<(u32, Pubkey)> = idx.iter().map(|i| (*i, keys[*i as usize])).collect();
        w.chain.send(&[vsdk_draw(&pairs)], &verifiers[1].keypair, &[]).await.expect("draw_quorum");
    }

    let r = audit(&w.chain).await.unwrap();
    assert!(r.ok, "findings: {:?}", r.findings);
    // Escrowed: payment + bond; staked: provider + two verifiers.
    assert_eq!(r.mints[0].owed, 1_000 + 500 + 3 * 10_000);
    assert_eq!(r.stakes, 3);

    // A vote touches only the dispute; it still belongs to the job's history, after the challenge.
    let dispute = cinder_sdk::verification::dispute_pda(&job);
    let commitment = cinder_sdk::verification::vote_commitment(&dispute, &keys[1], 1, &[9; 32]);
    let ix = cinder_sdk::verification::commit_vote(keys[1], &job, commitment);
    w.chain.send(&[ix], &verifiers[1].keypair, &[]).await.expect("commit_vote");
    let names: Vec<String> = job_history(&w.chain, &job).await.unwrap().into_iter().map(|e| e.name).collect();
    let pos = |n: &str| names.iter().position(|x| x == n).unwrap_or_else(|| panic!("{n} missing: {names:?}"));
    assert!(pos("JobPosted") < pos("JobClaimed"));
    assert!(pos("JobClaimed") < pos("ResultRecorded"));
    assert!(pos("ResultRecorded") < pos("DisputeOpened"));
    assert!(pos("DisputeOpened") < pos("VoteCommitted"), "{names:?}");
}

#[tokio::test]
async fn a_finalized_job_leaves_nothing_behind_and_its_result_stays_readable() {
    let w = world().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("store"));
    let job = w.post(0, 1_000).await;
    w.claim(0).await;
    let ids = vec![1u32, 2, 3];
    let (_, uri) = store.put(&serde_json::to_vec(&serde_json::json!({"output_token_ids": ids})).unwrap()).unwrap();
    let args = cinder_sdk::verification::SubmitResultArgs {
        commitment: [1; 32],
        output_hash: cinder_inference::output_hash(&ids),
        output_uri: uri,
    };
    let ix = cinder_sdk::verification::submit_result(w.provider.key(), job, args);
    w.chain.send(&[ix], &w.provider.keypair, &[]).await.expect("submit_result");
    let window_end = cinder_cli::fetch_job(&w.chain, &job).await.unwrap().window_end;
    w.chain.warp_to_timestamp(window_end + 1).await.unwrap();
    let ix = cinder_sdk::verification::finalize_job(
        w.provider.key(),
        &w.d.market,
        &job,
        w.client.key(),
        w.provider.key(),
        w.provider.token,
    );
    w.chain.send(&[ix], &w.provider.keypair, &[]).await.expect("finalize_job");

    let r = audit(&w.chain).await.unwrap();
    assert!(r.ok, "findings: {:?}", r.findings);
    assert_eq!((r.live_jobs, r.mints[0].owed), (0, 10_000), "only the provider's stake is owed");

    let c = cli(&["--store", store.dir.to_str().unwrap(), "-o", "json", "job", "result", &job.to_string()]);
    let ctx = Ctx::from_cli(&c).unwrap();
    let out = execute(&c, &ctx, &w.chain).await.expect("result of a closed job, from its ResultRecorded event");
    // The output hash, read back from the closed job's ResultRecorded event, matches the record;
    // this test posted a placeholder commitment, which the recomputation flags.
    assert_eq!(out.json["computed_hash"], out.json["output_hash"]);
    assert_eq!(out.json["content_address_ok"], true);
    assert_eq!((&out.json["commitment_match"], out.code), (&serde_json::json!(false), Exit::ResultMismatch));
    let out = execute(&cli(&["job", "watch", &job.to_string()]), &ctx, &w.chain).await.unwrap();
    assert_eq!(out.json["status"], "finalized");
    let out =
        execute(&cli(&["list", "jobs", "--market", &w.d.market.market.to_string()]), &ctx, &w.chain).await.unwrap();
    assert_eq!(out.json[0]["status"], "closed");
}

#[tokio::test]
async fn admin_stake_provider_and_verifier_commands() {
    let chain = LocalChain::start().await;
    let faucet = chain.faucet();
    let dir = tempfile::tempdir().unwrap();
    let admin = cinder_sdk::bootstrap::local_upgrade_authority();
    transfer_sol(&chain, &faucet, &admin.pubkey(), 10_000_000_000).await.unwrap();
    let admin_path = dir.path().join("admin.json");
    config::write_keypair(&admin_path, &admin).unwrap();
    let as_admin = |args: &[&str]| {
        let mut a = vec!["-o", "json", "--keypair", admin_path.to_str().unwrap()];
        a.extend_from_slice(args);
        cli(&a)
    };
    let run = |c: Cli| {
        let chain = chain.clone();
        async move {
            let ctx = Ctx::from_cli(&c).unwrap();
            execute(&c, &ctx, &chain).await
        }
    };

    let treasury = Keypair::new().pubkey();
    let (t, a) = (treasury.to_string(), admin.pubkey().to_string());
    // A stranger racing the deployer: the program refuses, and the CLI names program and error.
    let stranger = Keypair::new();
    transfer_sol(&chain, &faucet, &stranger.pubkey(), 1_000_000_000).await.unwrap();
    let stranger_path = dir.path().join("stranger.json");
    config::write_keypair(&stranger_path, &stranger).unwrap();
    let c = cli(&[
        "--keypair",
        stranger_path.to_str().unwrap(),
        "admin",
        "init",
        "--treasury",
        &t,
        "--fee-bps",
        "250",
        "--pool-creator",
        &a,
    ]);
    let err = run(c).await.err().expect("a stranger cannot create the config");
    let msg = format!("{err:#}");
    assert!(msg.contains("cinder_jobs::NotUpgradeAuthority (9025)") && msg.contains("upgrade authority"), "{msg}");
    run(as_admin(&["admin", "init", "--treasury", &t, "--fee-bps", "250", "--pool-creator", &a])).await.unwrap();
    let err = run(as_admin(&["admin", "init", "--treasury", &t, "--fee-bps", "250", "--pool-creator", &a]))
        .await
        .err()
        .expect("second init");
    assert!(err.to_string().contains("already exists"), "{err}");

    // A model directory: its id is the manifest hash cinder-inference computes.
    let model_dir = dir.path().join("tiny-model");
    std::fs::create_dir(&model_dir).unwrap();
    for (name, body) in [("config.json", "{}"), ("tokenizer.json", "{}"), ("model.safetensors", "weights")] {
        std::fs::write(model_dir.join(name), body).unwrap();
    }
    let out =
        run(as_admin(&["admin", "register-model", "--model-dir", model_dir.to_str().unwrap(), "--arch", "llama"]))
            .await
            .unwrap();
    let model_id = cinder_inference::model_id_of_dir(&model_dir).unwrap();
    assert_eq!(out.json["model_id"], cinder_cli::hex(&model_id));
    assert_eq!(out.json["name"], "tiny-model");

    // The pool (no CLI command: the migrations program creates pools).
    let tp = anchor_spl::token::ID;
    let mint = create_mint(&chain, &admin, &admin.pubkey(), 6, &tp).await.unwrap();
    let treasury_token = create_token_account(&chain, &admin, &mint, &treasury, &tp).await.unwrap();
    let pool = cinder_sdk::staking::PoolKeys::new(admin.pubkey(), mint, tp);
    let ix = cinder_sdk::staking::init_pool(
        &pool,
        treasury_token,
        cinder_sdk::staking::InitPoolArgs {
            min_stake: 1_000,
            cooldown_secs: 100,
            max_reward_bps: 5_000,
            authorities: vec![jsdk::jobs_authority(), cinder_sdk::verification::verification_authority()],
        },
    );
    chain.send(&[ix], &admin, &[]).await.unwrap();

    let hexid = cinder_cli::hex(&model_id);
    let (m, tt) = (mint.to_string(), treasury_token.to_string());
    let out = run(as_admin(&[
        "admin",
        "create-market",
        "--model-id",
        &hexid,
        "--mint",
        &m,
        "--treasury-token",
        &tt,
        "--price",
        "1000",
        "--collateral",
        "2000",
        "--min-stake",
        "5000",
        "--challenge-bond",
        "500",
        "--quorum",
        "1",
    ]))
    .await
    .unwrap();
    let market = out.json["market"].as_str().unwrap().to_owned();
    let markets = run(as_admin(&["list", "markets"])).await.unwrap();
    assert_eq!(markets.json[0]["market"], market);
    assert_eq!(markets.json[0]["params"]["quorum"], 1);

    // A staker: deposit, register as provider and verifier, unstake, withdraw after the cooldown.
    let staker = Keypair::new();
    transfer_sol(&chain, &faucet, &staker.pubkey(), 1_000_000_000).await.unwrap();
    let token = create_token_account(&chain, &staker, &mint, &staker.pubkey(), &tp).await.unwrap();
    cinder_sdk::bootstrap::mint_to(&chain, &admin, &mint, &token, 20_000, &tp).await.unwrap();
    let staker_path = dir.path().join("staker.json");
    config::write_keypair(&staker_path, &staker).unwrap();
    let (p, tok) = (pool.pool.to_string(), token.to_string());
    let as_staker = |args: &[&str]| {
        let mut a = vec!["-o", "json", "--keypair", staker_path.to_str().unwrap()];
        a.extend_from_slice(args);
        cli(&a)
    };
    run(as_staker(&["stake", "deposit", "--pool", &p, "--amount", "8000", "--token-account", &tok])).await.unwrap();
    let out = run(as_staker(&["provider", "register", "--endpoint", "http://gpu", "--model", &hexid])).await.unwrap();
    assert_eq!(out.json["action"], "registered");
    let out = run(as_staker(&["provider", "register", "--endpoint", "http://gpu2", "--model", &hexid])).await.unwrap();
    assert_eq!(out.json["action"], "updated");
    let out = run(as_staker(&["verifier", "register", "--market", &market])).await.unwrap();
    assert_eq!(out.json["index"], 0);
    let providers = run(as_staker(&["list", "providers"])).await.unwrap();
    assert_eq!(providers.json[0]["endpoint"], "http://gpu2");

    run(as_staker(&["stake", "unstake", "--pool", &p, "--amount", "8000"])).await.unwrap();
    let s = run(as_staker(&["stake", "status", "--pool", &p])).await.unwrap();
    assert_eq!((s.json["active"].clone(), s.json["pending"].clone()), (serde_json::json!(0), serde_json::json!(8000)));
    let err =
        run(as_staker(&["stake", "withdraw", "--pool", &p, "--token-account", &tok])).await.err().expect("cooldown");
    assert!(err.to_string().contains("cooldown ends"), "{err}");
    let unlock_at = s.json["unlock_at"].as_i64().unwrap();
    chain.warp_to_timestamp(unlock_at).await.unwrap();
    let out = run(as_staker(&["stake", "withdraw", "--pool", &p, "--token-account", &tok])).await.unwrap();
    assert_eq!(out.json["amount"], 8000);
    let s = run(as_admin(&["stake", "status", "--pool", &p, "--owner", &staker.pubkey().to_string()])).await.unwrap();
    assert_eq!(s.json["total_withdrawn"], 8000);

    let r = audit(&chain).await.unwrap();
    assert!(r.ok, "{:?}", r.findings);
}

/// The binary's exit statuses are the documented ones: 2 for a command line that does not parse,
/// 1 for an error (here: no node at the URL, with a hint), and the enum's values are stable.
#[test]
fn exit_statuses_of_the_binary() {
    let codes: Vec<i32> =
        [Exit::Ok, Exit::Failed, Exit::Usage, Exit::AuditMismatch, Exit::WatchTimedOut, Exit::ResultMismatch]
            .into_iter()
            .map(i32::from)
            .collect();
    assert_eq!(codes, [0, 1, 2, 3, 4, 5]);
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_cinder"))
            .args(args)
            .env("CINDER_SOLANA_CONFIG", dir.path().join("none.yml"))
            .env("HOME", dir.path())
            .output()
            .unwrap()
    };
    let out = run(&["job", "post", "--prompt", "x"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["--url", "http://127.0.0.1:9", "list", "markets"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot reach the RPC node"), "{stderr}");
}
