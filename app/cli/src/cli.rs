//! The `cinder` command line: clap definitions and the commands, over any [`Chain`] (the binary
//! uses [`RpcChain`]; the tests run the same commands on the in-process chain).
use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{bail, Context as _};
use cinder_jobs::{InferenceParams, JobStatus, MarketParams, ProtocolConfig};
use cinder_sdk::{
    chain::{
        rpc::{Commitment, RpcChain, RpcConfig},
        Chain,
    },
    fetch,
    jobs::{self as jsdk, MarketKeys},
    staking::{self as ssdk, PoolKeys},
    verification as vsdk, Pubkey,
};
use cinder_staking::{ProviderStake, StakePool};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::{
    config::{self, read_keypair},
    hex, parse_hex32,
    store::{self, Store},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CommitmentArg {
    Processed,
    Confirmed,
    Finalized,
}

/// Cinder: a decentralized GPU-inference market on Solana.
#[derive(Debug, Parser)]
#[command(name = "cinder", version, about)]
pub struct Cli {
    /// JSON-RPC URL or moniker (localhost, devnet, ...). Default: the Solana CLI config's
    /// json_rpc_url, else http://127.0.0.1:8899.
    #[arg(long, short = 'u', global = true)]
    pub url: Option<String>,
    /// Keypair file (JSON array of 64 bytes). Default: the Solana CLI config's keypair_path,
    /// else ~/.config/solana/id.json.
    #[arg(long, short = 'k', global = true)]
    pub keypair: Option<PathBuf>,
    /// Commitment for reads and confirmations. Default: the Solana CLI config's commitment,
    /// else confirmed.
    #[arg(long, global = true, value_enum)]
    pub commitment: Option<CommitmentArg>,
    /// Websocket URL for subscriptions. Default: the Solana CLI config's websocket_url (unless
    /// --url is given), else derived from the RPC URL (ws/wss, port + 1).
    #[arg(long, global = true)]
    pub ws_url: Option<String>,
    /// text (for people) or json (exactly one JSON value on stdout).
    #[arg(long, short = 'o', global = true, value_enum, default_value = "text")]
    pub output: OutputFormat,
    /// The Solana CLI config file to read defaults from.
    #[arg(long, global = true, env = "CINDER_SOLANA_CONFIG")]
    pub config: Option<PathBuf>,
    /// The local content-addressed store (inputs and outputs by SHA-256). Default: ~/.cinder/store.
    #[arg(long, global = true)]
    pub store: Option<PathBuf>,
    /// Log as JSON lines on stderr (level from RUST_LOG).
    #[arg(long, global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Post, follow, read, cancel and inspect jobs.
    #[command(subcommand)]
    Job(JobCmd),
    /// Register as a provider.
    #[command(subcommand)]
    Provider(ProviderCmd),
    /// Deposit, unstake, withdraw and inspect stake.
    #[command(subcommand)]
    Stake(StakeCmd),
    /// Register as a verifier of a market.
    #[command(subcommand)]
    Verifier(VerifierCmd),
    /// List markets, models, providers, or the jobs of a market.
    #[command(subcommand)]
    List(ListCmd),
    /// Conservation audit: what escrows and pools owe vs. what their vaults hold, per mint.
    /// Exits with status 3 on any mismatch.
    Audit,
    /// Protocol administration.
    #[command(subcommand)]
    Admin(AdminCmd),
}

#[derive(Debug, Args)]
pub struct InferenceArgs {
    /// Tokens to generate.
    #[arg(long, default_value_t = 128)]
    pub max_tokens: u32,
    /// 0 = greedy.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f32,
    /// 0 = off.
    #[arg(long, default_value_t = 0)]
    pub top_k: u32,
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f32,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// 0 = f32, 1 = f16, 2 = bf16.
    #[arg(long, default_value_t = 0)]
    pub dtype: u8,
}

impl InferenceArgs {
    pub fn params(&self) -> InferenceParams {
        InferenceParams {
            max_tokens: self.max_tokens,
            temperature_bits: self.temperature.to_bits(),
            top_k: self.top_k,
            top_p_bits: self.top_p.to_bits(),
            seed: self.seed,
            dtype: self.dtype,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum JobCmd {
    /// Post a job: stores the input in the local store and escrows the payment.
    Post {
        #[arg(long)]
        market: Pubkey,
        /// The prompt text.
        #[arg(long, conflicts_with = "file", required_unless_present = "file")]
        prompt: Option<String>,
        /// A file holding the input.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Tokens to escrow (default: the market price).
        #[arg(long)]
        payment: Option<u64>,
        #[command(flatten)]
        inference: InferenceArgs,
        /// Only this provider may claim the job.
        #[arg(long)]
        provider: Option<Pubkey>,
        /// The token account paying (default: your associated token account of the mint).
        #[arg(long)]
        token_account: Option<Pubkey>,
    },
    /// Follow a job until it reaches a terminal state, printing status transitions.
    Watch {
        job: Pubkey,
        /// Seconds between polls.
        #[arg(long, default_value_t = 2)]
        interval: u64,
        /// Give up after this many seconds (0: never).
        #[arg(long, default_value_t = 0)]
        timeout: u64,
        /// Stop at the first change instead of a terminal state.
        #[arg(long)]
        until_change: bool,
    },
    /// Read a job's output from the store and check it against the on-chain output hash.
    Result { job: Pubkey },
    /// Cancel an open job (full refund).
    Cancel {
        job: Pubkey,
        #[arg(long)]
        token_account: Option<Pubkey>,
    },
    /// Show a job's account.
    Show { job: Pubkey },
    /// Every event of a job, oldest first.
    History { job: Pubkey },
}

#[derive(Debug, Subcommand)]
pub enum ProviderCmd {
    /// Register (or update) your provider account.
    Register {
        #[arg(long)]
        endpoint: String,
        /// Model id (64 hex); repeat for several.
        #[arg(long = "model", required = true)]
        models: Vec<String>,
        /// X25519 public key for encrypted prompts (64 hex).
        #[arg(long)]
        x25519: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum StakeCmd {
    /// Deposit stake into a pool.
    Deposit {
        #[arg(long)]
        pool: Pubkey,
        #[arg(long)]
        amount: u64,
        #[arg(long)]
        token_account: Option<Pubkey>,
    },
    /// Request to withdraw stake (starts the cooldown).
    Unstake {
        #[arg(long)]
        pool: Pubkey,
        #[arg(long)]
        amount: u64,
    },
    /// Withdraw pending stake after the cooldown.
    Withdraw {
        #[arg(long)]
        pool: Pubkey,
        #[arg(long)]
        token_account: Option<Pubkey>,
    },
    /// Show a stake account.
    Status {
        #[arg(long)]
        pool: Pubkey,
        /// Default: your key.
        #[arg(long)]
        owner: Option<Pubkey>,
    },
}

#[derive(Debug, Subcommand)]
pub enum VerifierCmd {
    /// Register as a verifier of a market (needs stake in its pool).
    Register {
        #[arg(long)]
        market: Pubkey,
    },
}

#[derive(Debug, Subcommand)]
pub enum ListCmd {
    Markets,
    Models,
    Providers,
    /// The jobs of a market with their status.
    Jobs {
        #[arg(long)]
        market: Pubkey,
    },
}

#[derive(Debug, Args)]
pub struct MarketParamArgs {
    /// Minimum payment per job (raw token units).
    #[arg(long)]
    pub price: u64,
    #[arg(long, default_value_t = 600)]
    pub job_timeout_secs: i64,
    #[arg(long, default_value_t = 300)]
    pub challenge_window_secs: i64,
    #[arg(long)]
    pub collateral: u64,
    #[arg(long)]
    pub min_stake: u64,
    #[arg(long)]
    pub challenge_bond: u64,
    #[arg(long, default_value_t = 4_000)]
    pub challenger_reward_bps: u16,
    #[arg(long, default_value_t = 2_000)]
    pub timeout_client_bps: u16,
    #[arg(long, default_value_t = 3)]
    pub quorum: u8,
    #[arg(long, default_value_t = 100)]
    pub voting_period_secs: i64,
    #[arg(long, default_value_t = 0)]
    pub vote_penalty: u64,
}

impl MarketParamArgs {
    pub fn params(&self) -> MarketParams {
        MarketParams {
            price: self.price,
            job_timeout_secs: self.job_timeout_secs,
            challenge_window_secs: self.challenge_window_secs,
            collateral: self.collateral,
            min_stake: self.min_stake,
            challenge_bond: self.challenge_bond,
            challenger_reward_bps: self.challenger_reward_bps,
            timeout_client_bps: self.timeout_client_bps,
            quorum: self.quorum,
            voting_period_secs: self.voting_period_secs,
            vote_penalty: self.vote_penalty,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AdminCmd {
    /// Create the protocol config (you become the admin).
    Init {
        #[arg(long)]
        treasury: Pubkey,
        #[arg(long)]
        fee_bps: u16,
        #[arg(long)]
        pool_creator: Pubkey,
    },
    /// Register a model, by directory (its id is computed) or by id.
    RegisterModel {
        #[arg(long, conflicts_with = "model_id", required_unless_present = "model_id")]
        model_dir: Option<PathBuf>,
        #[arg(long)]
        model_id: Option<String>,
        /// Default: the directory's name.
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        arch: String,
        #[arg(long, default_value_t = 1)]
        engine_version: u32,
    },
    /// Create a market for a registered model in a mint (the mint's pool must exist).
    CreateMarket {
        #[arg(long)]
        model_id: String,
        #[arg(long)]
        mint: Pubkey,
        /// Treasury token account of the mint (default: the treasury's associated token account).
        #[arg(long)]
        treasury_token: Option<Pubkey>,
        #[command(flatten)]
        params: MarketParamArgs,
    },
}

/// What a command produced: text for people, one JSON value for programs, and the exit status.
pub struct Output {
    pub text: String,
    pub json: Value,
    pub code: i32,
}

impl Output {
    fn ok(text: impl Into<String>, json: Value) -> Self {
        Output { text: text.into(), json, code: 0 }
    }
}

/// Settings resolved from flags and the Solana config.
pub struct Ctx {
    pub url: String,
    pub ws_url: String,
    pub commitment: Commitment,
    pub keypair_path: PathBuf,
    pub store: Store,
    pub output: OutputFormat,
}

impl Ctx {
    pub fn from_cli(cli: &Cli) -> anyhow::Result<Self> {
        let cfg = match cli.config.clone().or_else(config::default_config_path) {
            Some(p) => config::load_solana_config(&p)?,
            None => config::SolanaConfig::default(),
        };
        let commitment = cli.commitment.map(|c| match c {
            CommitmentArg::Processed => Commitment::Processed,
            CommitmentArg::Confirmed => Commitment::Confirmed,
            CommitmentArg::Finalized => Commitment::Finalized,
        });
        let r =
            config::resolve_all(cli.url.as_deref(), cli.ws_url.as_deref(), cli.keypair.as_deref(), commitment, &cfg);
        Ok(Ctx {
            url: r.url,
            ws_url: r.ws_url,
            commitment: r.commitment,
            keypair_path: r.keypair_path,
            store: Store::new(cli.store.clone().unwrap_or_else(store::default_store_dir)),
            output: cli.output,
        })
    }

    pub fn signer(&self) -> anyhow::Result<Keypair> {
        read_keypair(&self.keypair_path)
    }

    /// The RPC client these settings describe (websocket subscriptions fall back to polling
    /// when the websocket is unreachable).
    pub fn rpc_chain(&self) -> RpcChain {
        RpcChain::new(
            self.url.clone(),
            RpcConfig { commitment: self.commitment, ws_url: Some(self.ws_url.clone()), ..RpcConfig::default() },
        )
    }
}

fn ata(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    anchor_spl::associated_token::get_associated_token_address_with_program_id(owner, mint, token_program)
}

async fn market_keys(chain: &dyn Chain, market: &Pubkey) -> anyhow::Result<(MarketKeys, cinder_jobs::Market)> {
    let m = crate::fetch_market(chain, market).await?;
    Ok((MarketKeys::from_market(*market, &m), m))
}

async fn pool_keys(chain: &dyn Chain, pool: &Pubkey) -> anyhow::Result<(PoolKeys, StakePool)> {
    let p = fetch::<StakePool>(chain, pool)
        .await?
        .with_context(|| format!("no stake pool at {pool} (a market's pool is in `cinder list markets`)"))?;
    Ok((PoolKeys { creator: p.creator, mint: p.mint, token_program: p.token_program, pool: *pool, vault: p.vault }, p))
}

async fn token_account_or_ata(
    chain: &dyn Chain,
    given: Option<Pubkey>,
    owner: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
) -> anyhow::Result<Pubkey> {
    if let Some(t) = given {
        return Ok(t);
    }
    let a = ata(owner, mint, token_program);
    if chain.get_account(&a).await?.is_none() {
        bail!(
            "you ({owner}) have no associated token account of mint {mint}; create one (`spl-token create-account {mint}`) or pass --token-account"
        );
    }
    Ok(a)
}

fn sig_out(what: &str, sig: &str, mut extra: Value) -> Output {
    extra["signature"] = json!(sig);
    Output::ok(format!("{what}\nsignature: {sig}"), extra)
}

/// Runs one command on `chain`.
pub async fn execute(cli: &Cli, ctx: &Ctx, chain: &dyn Chain) -> anyhow::Result<Output> {
    match &cli.command {
        Command::Job(c) => job(c, ctx, chain).await,
        Command::Provider(ProviderCmd::Register { endpoint, models, x25519 }) => {
            let me = ctx.signer()?;
            let models = models.iter().map(|m| parse_hex32(m)).collect::<anyhow::Result<Vec<_>>>()?;
            let x25519_pubkey = x25519.as_deref().map(parse_hex32).transpose()?.unwrap_or([0; 32]);
            let args = jsdk::ProviderArgs { endpoint: endpoint.clone(), x25519_pubkey, models };
            let key = jsdk::provider_pda(&me.pubkey());
            let exists = chain.get_account(&key).await?.is_some();
            let ix = if exists {
                jsdk::update_provider(me.pubkey(), args)
            } else {
                jsdk::register_provider(me.pubkey(), args)
            };
            let r = chain.send(&[ix], &me, &[]).await?;
            let verb = if exists { "updated" } else { "registered" };
            Ok(sig_out(
                &format!("provider {key} {verb}"),
                &r.signature,
                json!({"provider": key.to_string(), "action": verb}),
            ))
        }
        Command::Stake(c) => stake(c, ctx, chain).await,
        Command::Verifier(VerifierCmd::Register { market }) => {
            let me = ctx.signer()?;
            let (k, _) = market_keys(chain, market).await?;
            let set = vsdk::verifier_set_pda(market);
            let index = fetch::<vsdk::VerifierSet>(chain, &set).await?.map(|s| s.count).unwrap_or(0);
            let r = chain.send(&[vsdk::register_verifier(me.pubkey(), &k, index)], &me, &[]).await?;
            Ok(sig_out(
                &format!("registered as verifier #{index} of market {market}"),
                &r.signature,
                json!({"market": market.to_string(), "index": index}),
            ))
        }
        Command::List(c) => list(c, chain).await,
        Command::Audit => {
            let r = crate::audit(chain).await?;
            let mut text = format!(
                "audited {} market(s), {} pool(s), {} live job(s), {} stake(s)\n",
                r.markets, r.pools, r.live_jobs, r.stakes
            );
            for m in &r.mints {
                text.push_str(&format!(
                    "mint {}: owed {} held {} {}\n",
                    m.mint,
                    m.owed,
                    m.held,
                    if m.ok { "OK" } else { "MISMATCH" }
                ));
            }
            for f in &r.findings {
                text.push_str(&format!("FINDING: {f}\n"));
            }
            text.push_str(if r.ok { "audit passed" } else { "audit FAILED" });
            Ok(Output { text, json: serde_json::to_value(&r)?, code: if r.ok { 0 } else { 3 } })
        }
        Command::Admin(c) => admin(c, ctx, chain).await,
    }
}

async fn job(c: &JobCmd, ctx: &Ctx, chain: &dyn Chain) -> anyhow::Result<Output> {
    match c {
        JobCmd::Post { market, prompt, file, payment, inference, provider, token_account } => {
            let me = ctx.signer()?;
            let bytes = match (prompt, file) {
                (Some(p), _) => p.as_bytes().to_vec(),
                (None, Some(f)) => {
                    std::fs::read(f).with_context(|| format!("reading the input file {}", f.display()))?
                }
                (None, None) => bail!("give the input with --prompt TEXT or --file PATH"),
            };
            let (input_hash, input_uri) = ctx.store.put(&bytes)?;
            let (k, m) = market_keys(chain, market).await?;
            let payment = payment.unwrap_or(m.params.price);
            if payment < m.params.price {
                bail!("--payment {payment} is below the market price {}", m.params.price);
            }
            let client_token =
                token_account_or_ata(chain, *token_account, &me.pubkey(), &k.mint, &k.token_program).await?;
            // The client agrees to the terms it just read; if the market or the protocol fee
            // changes before the post lands, the program refuses it (MarketTermsChanged).
            let config: jsdk::ProtocolConfig = cinder_sdk::fetch(chain, &jsdk::config_pda())
                .await?
                .context("the protocol config does not exist on this cluster")?;
            let args = jsdk::PostJobArgs {
                payment,
                input_hash,
                input_uri: input_uri.clone(),
                params: inference.params(),
                designated: *provider,
                expected_terms: jsdk::terms_hash(&m, &config),
            };
            // The job id is the market's counter: if someone else posts first, read it again.
            let mut attempt = 0;
            let (job_id, r) = loop {
                let next =
                    if attempt == 0 { m.next_job_id } else { crate::fetch_market(chain, market).await?.next_job_id };
                match chain.send(&[jsdk::post_job(me.pubkey(), client_token, &k, next, args.clone())], &me, &[]).await {
                    Ok(r) => break (next, r),
                    Err(e)
                        if e.program_error_code()
                            == Some(cinder_sdk::errors::code_of(cinder_jobs::JobsError::MarketTermsChanged)) =>
                    {
                        bail!("{e}\nthe market's terms changed since they were read: check them with `cinder list markets` and post again");
                    }
                    Err(e) if attempt < 2 && e.program_error_code().is_some() => {
                        attempt += 1;
                        tracing::debug!(error = %e, "post_job failed, retrying with a fresh job id");
                    }
                    Err(e) => return Err(e).context("post_job"),
                }
            };
            let job = k.job(job_id);
            Ok(sig_out(
                &format!("posted job {job_id}: {job}\ninput: {input_uri} ({} bytes)\npayment: {payment}", bytes.len()),
                &r.signature,
                json!({"job": job.to_string(), "job_id": job_id, "market": market.to_string(), "input_uri": input_uri,
                       "input_hash": hex(&input_hash), "payment": payment}),
            ))
        }
        JobCmd::Watch { job, interval, timeout, until_change } => {
            let start = std::time::Instant::now();
            let mut last: Option<String> = None;
            let mut transitions = Vec::new();
            loop {
                let status = match fetch::<cinder_jobs::Job>(chain, job).await? {
                    Some(j) => crate::status_name(j.status).to_owned(),
                    None => terminal_outcome(chain, job).await,
                };
                if last.as_deref() != Some(status.as_str()) {
                    let line = format!("{}: {status}", chrono_now(chain).await);
                    if ctx.output == OutputFormat::Text {
                        println!("{line}");
                    }
                    let changed = last.is_some();
                    transitions.push(json!(status));
                    last = Some(status.clone());
                    if (changed && *until_change) || !is_live(&status) {
                        break;
                    }
                }
                if *timeout > 0 && start.elapsed() >= Duration::from_secs(*timeout) {
                    let out = json!({"job": job.to_string(), "transitions": transitions, "final": false});
                    return Ok(Output { text: String::new(), json: out, code: 4 });
                }
                tokio::time::sleep(Duration::from_secs((*interval).max(1))).await;
            }
            let final_status = last.unwrap_or_default();
            Ok(Output::ok(
                String::new(),
                json!({"job": job.to_string(), "transitions": transitions, "status": final_status, "final": !is_live(&final_status)}),
            ))
        }
        JobCmd::Result { job } => job_result(ctx, chain, job).await,
        JobCmd::Cancel { job, token_account } => {
            let me = ctx.signer()?;
            let j = crate::fetch_job(chain, job).await?;
            if j.status != JobStatus::Open {
                bail!("job {job} is {}: only open jobs can be cancelled", crate::status_name(j.status));
            }
            if j.client != me.pubkey() {
                bail!(
                    "job {job} was posted by {}, not by you ({}); pass that client's --keypair",
                    j.client,
                    me.pubkey()
                );
            }
            let (k, _) = market_keys(chain, &j.market).await?;
            let client_token =
                token_account_or_ata(chain, *token_account, &me.pubkey(), &k.mint, &k.token_program).await?;
            let r = chain.send(&[jsdk::cancel_job(me.pubkey(), client_token, &k, j.job_id)], &me, &[]).await?;
            Ok(sig_out(
                &format!("cancelled job {job}; {} refunded", j.payment),
                &r.signature,
                json!({"job": job.to_string(), "refunded": j.payment}),
            ))
        }
        JobCmd::Show { job } => {
            let j = crate::fetch_job(chain, job).await?;
            let v = crate::job_json(job, &j);
            Ok(Output::ok(pretty_fields(&v), v))
        }
        JobCmd::History { job } => {
            let h = crate::job_history(chain, job).await?;
            if h.is_empty() {
                bail!("no events found for job {job} (wrong key, or the RPC node no longer has its transactions)");
            }
            let text = h
                .iter()
                .map(|e| format!("{} {} {}", &e.signature[..8.min(e.signature.len())], e.name, e.fields))
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Output::ok(text, serde_json::to_value(&h)?))
        }
    }
}

fn is_live(status: &str) -> bool {
    matches!(status, "open" | "claimed" | "submitted" | "challenged")
}

async fn chrono_now(chain: &dyn Chain) -> String {
    chain.unix_timestamp().await.map(|t| format!("t={t}")).unwrap_or_else(|_| "t=?".into())
}

/// The terminal state of a closed job from its last event (`closed` if history is unavailable).
async fn terminal_outcome(chain: &dyn Chain, job: &Pubkey) -> String {
    let Ok(h) = crate::job_history(chain, job).await else { return "closed".into() };
    h.iter()
        .rev()
        .find_map(|e| match e.name.as_str() {
            "JobFinalized" => Some("finalized"),
            "JobSlashed" => Some("slashed"),
            "JobExpired" => Some("expired"),
            "JobCancelled" => Some("cancelled"),
            _ => None,
        })
        .unwrap_or(if h.is_empty() { "not found" } else { "closed" })
        .to_owned()
}

fn pretty_fields(v: &Value) -> String {
    match v {
        Value::Object(m) => m.iter().map(|(k, v)| format!("{k}: {}", one_line(v))).collect::<Vec<_>>().join("\n"),
        other => other.to_string(),
    }
}

fn one_line(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// What `job result` needs to recheck a result: from the job account while it exists, else from
/// the job's events.
struct ResultFacts {
    market: Pubkey,
    provider: Pubkey,
    params: cinder_jobs::InferenceParams,
    commitment: [u8; 32],
    output_hash: [u8; 32],
    output_uri: String,
}

async fn result_facts(chain: &dyn Chain, job: &Pubkey) -> anyhow::Result<ResultFacts> {
    if let Some(j) = fetch::<cinder_jobs::Job>(chain, job).await? {
        if !matches!(j.status, JobStatus::Submitted | JobStatus::Challenged) {
            bail!(
                "job {job} is {}: no result yet (follow it with `cinder job watch {job}`)",
                crate::status_name(j.status)
            );
        }
        return Ok(ResultFacts {
            market: j.market,
            provider: j.provider,
            params: j.params,
            commitment: j.commitment,
            output_hash: j.output_hash,
            output_uri: j.output_uri,
        });
    }
    let posted = crate::events_of::<cinder_jobs::JobPosted>(chain, job).await?;
    let posted = posted.iter().find(|e| e.job == *job).with_context(|| format!("no JobPosted event for job {job}"))?;
    let result = crate::events_of::<cinder_jobs::ResultRecorded>(chain, job).await?;
    let result = result
        .iter()
        .rev()
        .find(|e| e.job == *job)
        .with_context(|| format!("job {job} is closed and no ResultRecorded event was found for it"))?;
    Ok(ResultFacts {
        market: posted.market,
        provider: result.provider,
        params: posted.params,
        commitment: result.commitment,
        output_hash: result.output_hash,
        output_uri: result.output_uri.clone(),
    })
}

/// Recomputes the commitment (docs/COMMITMENT.md) from an output record — no model needed: every
/// field it binds is on-chain or in the record.
fn recompute_commitment(job: &Pubkey, f: &ResultFacts, model_id: [u8; 32], record: &Value) -> Option<[u8; 32]> {
    use cinder_inference::{CommitmentInput, DType, FinishReason, SamplingParams};
    let ids = |k: &str| -> Option<Vec<u32>> { serde_json::from_value(record.get(k)?.clone()).ok() };
    let finish = match record.get("finish_reason")?.as_str()? {
        "eos" => FinishReason::Eos,
        "max_tokens" => FinishReason::MaxTokens,
        _ => return None,
    };
    let dtype = match f.params.dtype {
        0 => DType::F32,
        1 => DType::F16,
        2 => DType::Bf16,
        _ => return None,
    };
    let params = SamplingParams {
        max_tokens: f.params.max_tokens,
        temperature: f32::from_bits(f.params.temperature_bits),
        top_k: f.params.top_k,
        top_p: f32::from_bits(f.params.top_p_bits),
        seed: f.params.seed,
    };
    let input = CommitmentInput::new(
        job.to_bytes(),
        f.provider.to_bytes(),
        model_id,
        dtype,
        params,
        ids("prompt_token_ids")?,
        ids("output_token_ids")?,
        finish,
    );
    Some(input.commitment())
}

/// `job result`: reads the output the provider stored under the on-chain output URI and checks it
/// three ways: the file hashes to its `cas://` name; `cinder_inference::output_hash` of its
/// `output_token_ids` equals the on-chain output hash; and the commitment recomputed from the
/// record (prompt and output token ids, finish reason) with the job's on-chain parameters, model,
/// job and provider keys equals the on-chain commitment. Exit status 5 on any mismatch.
pub async fn job_result(ctx: &Ctx, chain: &dyn Chain, job: &Pubkey) -> anyhow::Result<Output> {
    let f = result_facts(chain, job).await?;
    let bytes = ctx.store.get(&f.output_uri)?;
    let content_ok = f
        .output_uri
        .strip_prefix(store::SCHEME)
        .map(|h| h.eq_ignore_ascii_case(&hex(&store::sha256(&bytes))))
        .unwrap_or(true);
    let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
    let ids: Option<Vec<u32>> =
        parsed.as_ref().and_then(|v| v.get("output_token_ids")).and_then(|v| serde_json::from_value(v.clone()).ok());
    let (computed, method) = match &ids {
        Some(ids) => (cinder_inference::output_hash(ids), "cinder_inference::output_hash(output_token_ids)"),
        None => (store::sha256(&bytes), "sha256(file)"),
    };
    let hash_ok = content_ok && computed == f.output_hash;
    let model_id = crate::fetch_market(chain, &f.market).await.ok().map(|m| m.model_id);
    let recomputed = match (&parsed, model_id) {
        (Some(rec), Some(model_id)) => recompute_commitment(job, &f, model_id, rec),
        _ => None,
    };
    let commitment_ok = recomputed == Some(f.commitment);
    let matches = hash_ok && commitment_ok;
    let text_out = parsed
        .as_ref()
        .and_then(|v| v.get("text").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
    let json = json!({
        "job": job.to_string(),
        "output_uri": f.output_uri,
        "output_hash": hex(&f.output_hash),
        "computed_hash": hex(&computed),
        "method": method,
        "content_address_ok": content_ok,
        "commitment": hex(&f.commitment),
        "recomputed_commitment": recomputed.map(|c| hex(&c)),
        "commitment_match": commitment_ok,
        "match": matches,
        "output": text_out,
    });
    let verdict = |ok: bool| if ok { "MATCH" } else { "MISMATCH" };
    let text = format!(
        "{text_out}\n---\noutput hash {} ({method}): {}\ncommitment {}: {}",
        hex(&f.output_hash),
        verdict(hash_ok),
        hex(&f.commitment),
        verdict(commitment_ok)
    );
    Ok(Output { text, json, code: if matches { 0 } else { 5 } })
}

async fn stake(c: &StakeCmd, ctx: &Ctx, chain: &dyn Chain) -> anyhow::Result<Output> {
    match c {
        StakeCmd::Deposit { pool, amount, token_account } => {
            let me = ctx.signer()?;
            let (k, _) = pool_keys(chain, pool).await?;
            let from = token_account_or_ata(chain, *token_account, &me.pubkey(), &k.mint, &k.token_program).await?;
            let r = chain.send(&[ssdk::deposit_stake(&k, me.pubkey(), from, *amount)], &me, &[]).await?;
            Ok(sig_out(
                &format!("deposited {amount} into pool {pool}"),
                &r.signature,
                json!({"pool": pool.to_string(), "amount": amount}),
            ))
        }
        StakeCmd::Unstake { pool, amount } => {
            let me = ctx.signer()?;
            let (k, p) = pool_keys(chain, pool).await?;
            let r = chain.send(&[ssdk::request_unstake(&k, me.pubkey(), *amount)], &me, &[]).await?;
            Ok(sig_out(
                &format!(
                    "requested to unstake {amount} from pool {pool}; withdrawable after the {} s cooldown",
                    p.cooldown_secs
                ),
                &r.signature,
                json!({"pool": pool.to_string(), "amount": amount, "cooldown_secs": p.cooldown_secs}),
            ))
        }
        StakeCmd::Withdraw { pool, token_account } => {
            let me = ctx.signer()?;
            let (k, _) = pool_keys(chain, pool).await?;
            let s = fetch::<ProviderStake>(chain, &k.stake(&me.pubkey()))
                .await?
                .with_context(|| format!("you ({}) have no stake in pool {pool}", me.pubkey()))?;
            if s.pending == 0 {
                bail!("nothing pending to withdraw; request it first with `cinder stake unstake --pool {pool} --amount N`");
            }
            let now = chain.unix_timestamp().await?;
            if now < s.unlock_at {
                bail!("the cooldown ends at {} ({} s from now); withdraw then", s.unlock_at, s.unlock_at - now);
            }
            let to = token_account_or_ata(chain, *token_account, &me.pubkey(), &k.mint, &k.token_program).await?;
            let r = chain.send(&[ssdk::withdraw_stake(&k, me.pubkey(), to)], &me, &[]).await?;
            Ok(sig_out(
                &format!("withdrew {} from pool {pool}", s.pending),
                &r.signature,
                json!({"pool": pool.to_string(), "amount": s.pending}),
            ))
        }
        StakeCmd::Status { pool, owner } => {
            let owner = match owner {
                Some(o) => *o,
                None => ctx.signer()?.pubkey(),
            };
            let key = ssdk::stake_pda(pool, &owner);
            let s = fetch::<ProviderStake>(chain, &key)
                .await?
                .with_context(|| format!("{owner} has no stake in pool {pool}"))?;
            let v = crate::stake_json(&key, &s);
            Ok(Output::ok(pretty_fields(&v), v))
        }
    }
}

async fn list(c: &ListCmd, chain: &dyn Chain) -> anyhow::Result<Output> {
    let (rows, text): (Vec<Value>, Vec<String>) = match c {
        ListCmd::Markets => crate::markets(chain)
            .await?
            .iter()
            .map(|(k, m)| {
                (
                    crate::market_json(k, m),
                    format!(
                        "{k} model {} mint {} price {} jobs {}",
                        &hex(&m.model_id)[..16],
                        m.mint,
                        m.params.price,
                        m.next_job_id
                    ),
                )
            })
            .unzip(),
        ListCmd::Models => crate::models(chain)
            .await?
            .iter()
            .map(|(k, m)| {
                (
                    crate::model_json(k, m),
                    format!("{} {} ({}, engine v{})", hex(&m.model_id), m.name, m.architecture, m.engine_version),
                )
            })
            .unzip(),
        ListCmd::Providers => crate::providers(chain)
            .await?
            .iter()
            .map(|(k, p)| {
                (
                    crate::provider_json(k, p),
                    format!(
                        "{} {} claimed {} completed {} slashed {}",
                        p.authority, p.endpoint, p.jobs_claimed, p.jobs_completed, p.jobs_slashed
                    ),
                )
            })
            .unzip(),
        ListCmd::Jobs { market } => {
            let (_, slots) = crate::market_jobs(chain, market).await?;
            slots
                .iter()
                .map(|s| {
                    let r = crate::JobRow::from(s);
                    let line = format!("{:>6} {} {}", r.job_id, r.job, r.status);
                    (serde_json::to_value(&r).expect("serializable"), line)
                })
                .unzip()
        }
    };
    let text = if text.is_empty() { "(none)".to_owned() } else { text.join("\n") };
    Ok(Output::ok(text, Value::Array(rows)))
}

async fn admin(c: &AdminCmd, ctx: &Ctx, chain: &dyn Chain) -> anyhow::Result<Output> {
    let me = ctx.signer()?;
    match c {
        AdminCmd::Init { treasury, fee_bps, pool_creator } => {
            if fetch::<ProtocolConfig>(chain, &jsdk::config_pda()).await?.is_some() {
                bail!("the protocol config {} already exists", jsdk::config_pda());
            }
            let ix = jsdk::init_config(
                me.pubkey(),
                jsdk::InitConfigArgs {
                    treasury: *treasury,
                    protocol_fee_bps: *fee_bps,
                    stake_pool_creator: *pool_creator,
                    verification_program: cinder_verification::ID,
                },
            );
            let r = chain.send(&[ix], &me, &[]).await?;
            Ok(sig_out(
                &format!("protocol config {} created", jsdk::config_pda()),
                &r.signature,
                json!({"config": jsdk::config_pda().to_string()}),
            ))
        }
        AdminCmd::RegisterModel { model_dir, model_id, name, arch, engine_version } => {
            let (id, default_name) = match (model_dir, model_id) {
                (Some(dir), _) => (model_id_of_dir(dir)?, dir.file_name().map(|n| n.to_string_lossy().into_owned())),
                (None, Some(h)) => (parse_hex32(h)?, None),
                (None, None) => bail!("give --model-dir DIR or --model-id HEX"),
            };
            let name = name.clone().or(default_name).context("give the model a --name")?;
            let ix = jsdk::register_model(
                me.pubkey(),
                jsdk::RegisterModelArgs {
                    model_id: id,
                    name: name.clone(),
                    architecture: arch.clone(),
                    engine_version: *engine_version,
                },
            );
            let r = chain.send(&[ix], &me, &[]).await?;
            let key = jsdk::model_pda(&id);
            Ok(sig_out(
                &format!("model {name} registered: {key}\nmodel id: {}", hex(&id)),
                &r.signature,
                json!({"model": key.to_string(), "model_id": hex(&id), "name": name}),
            ))
        }
        AdminCmd::CreateMarket { model_id, mint, treasury_token, params } => {
            let id = parse_hex32(model_id)?;
            let config = fetch::<ProtocolConfig>(chain, &jsdk::config_pda())
                .await?
                .context("the protocol is not initialised (run `cinder admin init` first)")?;
            let mint_acc = chain.get_account(mint).await?.with_context(|| format!("mint {mint} does not exist"))?;
            let tp = mint_acc.owner;
            let pool = ssdk::pool_pda(&config.stake_pool_creator, mint);
            if chain.get_account(&pool).await?.is_none() {
                bail!(
                    "mint {mint} has no stake pool ({pool}) yet; its creator {} must create it first",
                    config.stake_pool_creator
                );
            }
            let model = jsdk::model_pda(&id);
            let k = MarketKeys {
                market: jsdk::market_pda(&model, mint, &me.pubkey()),
                model,
                mint: *mint,
                token_program: tp,
                pool,
                pool_vault: ssdk::pool_vault_pda(&pool),
                treasury_token: treasury_token.unwrap_or_else(|| ata(&config.treasury, mint, &tp)),
            };
            let r = chain.send(&[jsdk::create_market(me.pubkey(), &k, params.params())], &me, &[]).await?;
            Ok(sig_out(
                &format!("market {} created", k.market),
                &r.signature,
                json!({"market": k.market.to_string(), "pool": pool.to_string()}),
            ))
        }
    }
}

pub fn model_id_of_dir(dir: &Path) -> anyhow::Result<[u8; 32]> {
    cinder_inference::model_id_of_dir(dir)
        .map_err(|e| anyhow::anyhow!("computing the model id of {}: {e}", dir.display()))
}

/// Prints an output in the chosen format.
pub fn print(out: &Output, format: OutputFormat) {
    match format {
        OutputFormat::Text => {
            if !out.text.is_empty() {
                println!("{}", out.text);
            }
        }
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&out.json).unwrap_or_else(|_| "null".into())),
    }
}

/// The binary's main: parse, run on RPC, print; returns the exit status.
pub async fn main_with(cli: Cli) -> i32 {
    let format = cli.output;
    let result = async {
        let ctx = Ctx::from_cli(&cli)?;
        let chain = ctx.rpc_chain();
        execute(&cli, &ctx, &chain).await.map_err(|e| e.context(format!("cluster {}", ctx.url)))
    }
    .await;
    match result {
        Ok(out) => {
            print(&out, format);
            out.code
        }
        Err(e) => {
            let mut e = e;
            if format!("{e:#}").contains("transport:") {
                e = e.context(
                    "cannot reach the RPC node: is a validator running there? Pass --url, or set json_rpc_url with `solana config set --url`",
                );
            }
            match format {
                OutputFormat::Json => println!("{}", json!({"error": format!("{e:#}")})),
                OutputFormat::Text => eprintln!("error: {e:#}"),
            }
            1
        }
    }
}
