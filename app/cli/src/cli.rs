//! The `cinder` command line: clap definitions, settings, output and exit statuses, and the
//! dispatch to [`crate::commands`] (one module per command), over any [`Chain`] (the binary uses
//! [`RpcChain`]; the tests run the same commands on the in-process chain).
use std::path::PathBuf;

use cinder_jobs::{InferenceParams, MarketParams};
use cinder_sdk::{
    chain::{
        rpc::{Commitment, RpcChain, RpcConfig},
        Chain,
    },
    Pubkey,
};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::{json, Value};
use solana_keypair::Keypair;

use crate::{
    commands,
    config::{self, read_keypair},
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
    Post(commands::job::post::PostArgs),
    /// Follow a job until it reaches a terminal state, printing status transitions.
    Watch(commands::job::watch::WatchArgs),
    /// Read a job's output from the store and check it against the on-chain output hash.
    Result(commands::job::result::ResultArgs),
    /// Cancel an open job (full refund).
    Cancel(commands::job::cancel::CancelArgs),
    /// Show a job's account.
    Show(commands::job::show::ShowArgs),
    /// Every event of a job, oldest first.
    History(commands::job::history::HistoryArgs),
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

/// The exit statuses of `cinder` (app/cli/README.md lists them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// The command did what it was asked.
    Ok = 0,
    /// An error: bad input, a failed transaction, an unreachable node (the message says which).
    Failed = 1,
    /// The command line did not parse (clap's status).
    Usage = 2,
    /// `cinder audit` found a mismatch.
    AuditMismatch = 3,
    /// `cinder job watch --timeout` gave up before a terminal state.
    WatchTimedOut = 4,
    /// `cinder job result`: the output or the commitment does not match the chain.
    ResultMismatch = 5,
}

impl From<Exit> for i32 {
    fn from(e: Exit) -> i32 {
        e as u8 as i32
    }
}

/// What a command produced: text for people, one JSON value for programs, and the exit status.
pub struct Output {
    pub text: String,
    pub json: Value,
    pub code: Exit,
}

impl Output {
    pub(crate) fn ok(text: impl Into<String>, json: Value) -> Self {
        Output { text: text.into(), json, code: Exit::Ok }
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

/// Runs one command on `chain`.
pub async fn execute(cli: &Cli, ctx: &Ctx, chain: &dyn Chain) -> anyhow::Result<Output> {
    match &cli.command {
        Command::Job(c) => commands::job::run(c, ctx, chain).await,
        Command::Provider(c) => commands::provider::run(c, ctx, chain).await,
        Command::Stake(c) => commands::stake::run(c, ctx, chain).await,
        Command::Verifier(c) => commands::verifier::run(c, ctx, chain).await,
        Command::List(c) => commands::list::run(c, chain).await,
        Command::Audit => commands::audit::run(chain).await,
        Command::Admin(c) => commands::admin::run(c, ctx, chain).await,
    }
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
pub async fn main_with(cli: Cli) -> Exit {
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
            Exit::Failed
        }
    }
}
