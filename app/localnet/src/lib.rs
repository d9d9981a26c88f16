//! `cinder-localnet`: a local Solana cluster on surfpool (the Solana Foundation's LiteSVM-based
//! validator) that serves the four Cinder programs, registered as native builtins, next to the SPL
//! Token, Token-2022 and associated-token programs, over the real JSON-RPC (HTTP) and PubSub
//! (websocket) API on 127.0.0.1.
//!
//! * [`Localnet::start`] boots the validator on its own thread and returns once it answers.
//! * [`bootstrap`] deploys a ready market over RPC (mint, config, pool, a generated model, market,
//!   funded wallets written as Solana CLI keypair files) and writes [`ClusterFile`] plus a Solana
//!   CLI config and one settings file per worker.
//! * [`time_travel`] moves the clock the programs see (`surfnet_timeTravel`), from any process.
//!
//! Never linked by the production `cinder` / `cinder-worker` binaries (CI checks `cargo tree`).
#![allow(deprecated)] // program-test 3.x marks `processor!` "unstable"; it is the harness we pin.

pub mod cli;

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    thread::JoinHandle,
    time::{Duration, Instant},
};

use anchor_lang::prelude::Pubkey;
use cinder_sdk::{
    bootstrap::{deploy, local_upgrade_authority, Deployment},
    chain::{
        rpc::{RpcChain, RpcConfig},
        ChainError,
    },
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use surfpool_core::surfnet::svm::{SurfnetSvm, SurfnetSvmConfig};
use surfpool_types::{
    BlockProductionMode, RpcConfig as SurfRpc, SimnetCommand, SimnetConfig, SimnetEvent, SurfpoolConfig,
};

cinder_sdk::native_entry!(escrow_entry, cinder_escrow);
cinder_sdk::native_entry!(staking_entry, cinder_staking);
cinder_sdk::native_entry!(jobs_entry, cinder_jobs);
cinder_sdk::native_entry!(verification_entry, cinder_verification);

/// One token of the bootstrapped mint (6 decimals).
pub use cinder_sdk::bootstrap::TOKEN;

#[derive(Debug, thiserror::Error)]
pub enum LocalnetError {
    #[error("the validator failed to start: {0}")]
    Start(String),
    #[error("the validator did not answer within {0:?}")]
    NotReady(Duration),
    #[error("no free port on 127.0.0.1: {0}")]
    Port(std::io::Error),
    #[error("chain: {0}")]
    Chain(#[from] ChainError),
    #[error("model: {0}")]
    Model(#[from] cinder_inference::Error),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Invalid(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LocalnetError + '_ {
    move |source| LocalnetError::Io { path: path.to_path_buf(), source }
}

/// How to start the validator.
#[derive(Clone, Debug)]
pub struct LocalnetOptions {
    /// HTTP JSON-RPC port; 0 picks a free one.
    pub rpc_port: u16,
    /// Websocket port; 0 picks a free one.
    pub ws_port: u16,
    /// Slot time in milliseconds.
    pub slot_ms: u64,
}

impl Default for LocalnetOptions {
    fn default() -> Self {
        LocalnetOptions { rpc_port: 8899, ws_port: 8900, slot_ms: 400 }
    }
}

/// A running validator. Dropping it (or [`Localnet::stop`]) terminates it.
pub struct Localnet {
    pub rpc_url: String,
    pub ws_url: String,
    commands: crossbeam_channel::Sender<SimnetCommand>,
    server: Option<JoinHandle<()>>,
    events: Option<JoinHandle<()>>,
}

fn free_port() -> Result<u16, LocalnetError> {
    Ok(TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(LocalnetError::Port)?.port())
}

/// program-test installs its native syscall stubs (CPI, sysvars, logs into the invoke context's
/// log collector, return data) process-wide, once, when it builds its first bank; its stub type
/// is private. Starting and dropping one empty program-test bank installs them. Runs on its own
/// thread so it works from inside a tokio runtime too.
fn install_syscall_stubs() -> Result<(), LocalnetError> {
    static ONCE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            rt.block_on(async {
                let mut pt = solana_program_test::ProgramTest::default();
                pt.prefer_bpf(false);
                drop(pt.start().await);
            });
            Ok(())
        })
        .join()
        .unwrap_or_else(|_| Err("program-test panicked while installing its syscall stubs".into()))
    })
    .clone()
    .map_err(LocalnetError::Start)
}

impl Localnet {
    /// Starts the validator and waits until `getHealth` answers `ok`.
    pub fn start(opts: &LocalnetOptions) -> Result<Localnet, LocalnetError> {
        install_syscall_stubs()?;
        let rpc_port = if opts.rpc_port == 0 { free_port()? } else { opts.rpc_port };
        let ws_port = if opts.ws_port == 0 { free_port()? } else { opts.ws_port };
        let (mut svm, events_rx, geyser_rx) = SurfnetSvm::new(SurfnetSvmConfig {
            slot_time: opts.slot_ms,
            instruction_profiling_enabled: false,
            log_bytes_limit: None,
            ..SurfnetSvmConfig::default()
        })
        .map_err(|e| LocalnetError::Start(format!("SurfnetSvm::new: {e:?}")))?;
        use solana_program_runtime::invoke_context::BuiltinFunctionWithContext;
        let programs: [(Pubkey, Option<BuiltinFunctionWithContext>); 4] = [
            (cinder_escrow::ID, solana_program_test::processor!(escrow_entry)),
            (cinder_staking::ID, solana_program_test::processor!(staking_entry)),
            (cinder_jobs::ID, solana_program_test::processor!(jobs_entry)),
            (cinder_verification::ID, solana_program_test::processor!(verification_entry)),
        ];
        for (id, entry) in programs {
            let entry = entry.ok_or_else(|| LocalnetError::Start("processor! gave no entry".into()))?;
            svm.inner.svm.add_builtin(id, entry);
        }
        // Native builtins have no ProgramData account; `init_config` reads the jobs program's upgrade
        // authority from it, as on a real cluster. Record the fixed local authority.
        let authority = local_upgrade_authority().pubkey();
        let data = cinder_sdk::jobs::program_data_account_data(&authority);
        let program_data = solana_account::Account {
            lamports: 1_000_000_000,
            data,
            owner: solana_sdk_ids::bpf_loader_upgradeable::ID,
            executable: false,
            rent_epoch: 0,
        };
        svm.set_account(&cinder_sdk::jobs::program_data_address(&cinder_jobs::ID), program_data)
            .map_err(|e| LocalnetError::Start(format!("ProgramData account: {e:?}")))?;

        let config = SurfpoolConfig {
            simnets: vec![SimnetConfig {
                offline_mode: true,
                remote_rpc_url: None,
                slot_time: opts.slot_ms,
                block_production_mode: BlockProductionMode::Clock,
                instruction_profiling_enabled: false,
                log_bytes_limit: None,
                ..SimnetConfig::default()
            }],
            rpc: SurfRpc { bind_host: "127.0.0.1".into(), bind_port: rpc_port, ws_port, ..SurfRpc::default() },
            plugin_config_path: vec![],
            ..SurfpoolConfig::default()
        };
        let (commands, commands_rx) = crossbeam_channel::unbounded();
        let tx = commands.clone();
        let server = std::thread::Builder::new()
            .name("surfnet".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
                    Ok(rt) => rt,
                    Err(e) => return tracing::error!(error = %e, "validator runtime"),
                };
                if let Err(e) = rt.block_on(surfpool_core::start_local_surfnet(svm, config, tx, commands_rx, geyser_rx))
                {
                    tracing::error!(error = %e, "the validator stopped with an error");
                }
            })
            .map_err(|e| LocalnetError::Start(e.to_string()))?;
        // The event channel is bounded: drain it for the validator's whole life.
        let events = std::thread::Builder::new()
            .name("surfnet-events".into())
            .spawn(move || loop {
                match events_rx.recv() {
                    Ok(SimnetEvent::Aborted(e)) => {
                        tracing::error!(error = %e, "validator aborted");
                        break;
                    }
                    Ok(SimnetEvent::Shutdown) | Err(_) => break,
                    Ok(SimnetEvent::ErrorLog(_, m)) => tracing::warn!("validator: {m}"),
                    Ok(SimnetEvent::TransactionProcessed(_, meta, err)) => {
                        tracing::debug!(signature = %meta.signature, ?err, "transaction")
                    }
                    Ok(_) => {}
                }
            })
            .map_err(|e| LocalnetError::Start(e.to_string()))?;
        let net = Localnet {
            rpc_url: format!("http://127.0.0.1:{rpc_port}"),
            ws_url: format!("ws://127.0.0.1:{ws_port}"),
            commands,
            server: Some(server),
            events: Some(events),
        };
        net.wait_ready(Duration::from_secs(60))?;
        Ok(net)
    }

    fn wait_ready(&self, limit: Duration) -> Result<(), LocalnetError> {
        let deadline = Instant::now() + limit;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| LocalnetError::Start(e.to_string()))?;
        let chain = RpcChain::new(self.rpc_url.clone(), RpcConfig { max_rpc_attempts: 1, ..RpcConfig::default() });
        let url = self.rpc_url.clone();
        std::thread::scope(|s| {
            s.spawn(|| {
                rt.block_on(async {
                    loop {
                        if let Ok(v) = chain.call::<Value>("getHealth", json!([])).await {
                            if v == json!("ok") {
                                return Ok(());
                            }
                        }
                        if self.server.as_ref().is_some_and(|s| s.is_finished()) {
                            return Err(LocalnetError::Start(format!("the validator at {url} exited")));
                        }
                        if Instant::now() > deadline {
                            return Err(LocalnetError::NotReady(limit));
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                })
            })
            .join()
            .unwrap_or_else(|_| Err(LocalnetError::Start("readiness check panicked".into())))
        })
    }

    /// An RPC client of this validator (websocket subscriptions on).
    pub fn chain(&self) -> RpcChain {
        rpc_chain(&self.rpc_url, &self.ws_url)
    }

    /// Stops the validator and waits for its threads.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.commands.send(SimnetCommand::Terminate(None));
        if let Some(h) = self.server.take() {
            let _ = h.join();
        }
        if let Some(h) = self.events.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// An [`RpcChain`] tuned for the local cluster (fast polling, websocket on).
pub fn rpc_chain(rpc_url: &str, ws_url: &str) -> RpcChain {
    RpcChain::new(
        rpc_url.to_string(),
        RpcConfig {
            ws_url: Some(ws_url.to_string()),
            poll_interval: Duration::from_millis(100),
            confirm_timeout: Duration::from_secs(30),
            ..RpcConfig::default()
        },
    )
}

/// Moves the cluster clock to `unix_timestamp` (`surfnet_timeTravel`), then waits until the Clock
/// sysvar shows it. Works from any process that can reach the RPC port.
pub async fn time_travel(chain: &RpcChain, unix_timestamp: i64) -> Result<(), LocalnetError> {
    use cinder_sdk::chain::Chain;
    let ms = unix_timestamp.checked_mul(1000).ok_or_else(|| LocalnetError::Invalid("timestamp overflows".into()))?;
    let _: Value = chain.call("surfnet_timeTravel", json!([{ "absoluteTimestamp": ms }])).await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if chain.unix_timestamp().await? >= unix_timestamp {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(LocalnetError::Invalid(format!("the clock did not reach {unix_timestamp} after timeTravel")));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `requestAirdrop`, waiting until the balance shows it.
pub async fn airdrop(chain: &RpcChain, to: &Pubkey, lamports: u64) -> Result<(), LocalnetError> {
    let before = balance(chain, to).await?;
    let _: String = chain.call("requestAirdrop", json!([to.to_string(), lamports])).await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while balance(chain, to).await? < before.saturating_add(lamports) {
        if Instant::now() > deadline {
            return Err(LocalnetError::Invalid(format!("airdrop to {to} did not land")));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

async fn balance(chain: &RpcChain, key: &Pubkey) -> Result<u64, LocalnetError> {
    #[derive(Deserialize)]
    struct V {
        value: u64,
    }
    let v: V = chain.call("getBalance", json!([key.to_string(), { "commitment": "confirmed" }])).await?;
    Ok(v.value)
}

/// What [`bootstrap`] deploys.
#[derive(Clone, Debug)]
pub struct BootstrapOptions {
    /// Where keypairs, the model, settings and `cluster.json` go.
    pub dir: PathBuf,
    /// Staked, registered verifiers (each with its own keypair and settings file).
    pub verifiers: usize,
    /// A local model directory; a small Qwen2-shaped model is generated from a fixed seed when absent.
    pub model_dir: Option<PathBuf>,
}

/// One wallet written by [`bootstrap`].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Wallet {
    pub pubkey: String,
    /// Solana CLI keypair file (JSON array of 64 bytes), mode 0600.
    pub keypair_path: PathBuf,
    /// Its token account for the market's mint.
    pub token_account: String,
}

/// `cluster.json`: everything a CLI, worker or test needs to use the bootstrapped cluster.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ClusterFile {
    pub rpc_url: String,
    pub ws_url: String,
    pub market: String,
    pub mint: String,
    pub pool: String,
    pub treasury_token: String,
    pub model_id: String,
    pub model_dir: PathBuf,
    pub admin: Wallet,
    pub client: Wallet,
    pub provider: Wallet,
    /// The provider's object endpoint (`GET`/`PUT /v1/objects/{sha256}`), registered on-chain.
    #[serde(default)]
    pub provider_endpoint: String,
    pub verifiers: Vec<Wallet>,
    /// A Solana CLI `config.yml` naming the RPC and websocket URLs and the client's keypair.
    pub solana_config: PathBuf,
    /// `cinder-worker` settings: the provider's, then one per verifier.
    pub provider_settings: PathBuf,
    pub verifier_settings: Vec<PathBuf>,
}

impl ClusterFile {
    pub fn read(path: &Path) -> Result<ClusterFile, LocalnetError> {
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        serde_json::from_str(&text).map_err(|e| LocalnetError::Invalid(format!("{}: {e}", path.display())))
    }
}

pub use cinder_sdk::bootstrap::demo_market_params as market_params;

/// Writes `data` to `path` readable by its owner only (keypairs, settings naming them).
fn write_private(path: &Path, data: &[u8]) -> Result<(), LocalnetError> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    o.mode(0o600);
    let mut f = o.open(path).map_err(io(path))?;
    f.write_all(data).map_err(io(path))
}

fn write_keypair(path: &Path, k: &Keypair) -> Result<(), LocalnetError> {
    let bytes: Vec<u8> = k.to_bytes().to_vec();
    write_private(path, serde_json::to_string(&bytes).unwrap_or_default().as_bytes())
}

/// Deploys a ready market on the cluster at `rpc_url` and writes keypairs, worker settings, a
/// Solana CLI config and `cluster.json` into `opts.dir`. The faucet is funded by `requestAirdrop`.
pub async fn bootstrap(rpc_url: &str, ws_url: &str, opts: &BootstrapOptions) -> Result<ClusterFile, LocalnetError> {
    let dir = &opts.dir;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let dir = dir.canonicalize().map_err(io(dir))?;
    let model_dir = match &opts.model_dir {
        Some(d) => d.clone(),
        None => {
            let d = dir.join("model");
            cinder_inference::make_test_model(
                cinder_inference::Architecture::Qwen2,
                7,
                cinder_inference::TestModelSize::Tiny,
                &d,
            )?;
            d
        }
    };
    let model_id = cinder_inference::model_id_of_dir(&model_dir)?;
    let chain = rpc_chain(rpc_url, ws_url);
    let faucet = Keypair::new();
    airdrop(&chain, &faucet.pubkey(), 100_000 * 1_000_000_000).await?;
    let spec = cinder_sdk::bootstrap::demo_spec(model_id, "cinder-localnet-qwen2", cinder_inference::ENGINE_VERSION);
    let d: Deployment = deploy(&chain, &faucet, &spec).await?;
    let wallet = |name: &str, kp: &Keypair, token: Pubkey| -> Result<Wallet, LocalnetError> {
        let path = dir.join(format!("{name}.json"));
        write_keypair(&path, kp)?;
        Ok(Wallet { pubkey: kp.pubkey().to_string(), keypair_path: path, token_account: token.to_string() })
    };
    let sol = 10_000_000_000;
    let provider = d.participant(&chain, &faucet, sol, 20 * TOKEN).await?;
    d.stake(&chain, &provider, 10 * TOKEN).await?;
    // The provider's object endpoint: a free loopback port, registered on-chain as its endpoint.
    let endpoint_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| LocalnetError::Invalid(format!("no free port for the provider's endpoint: {e}")))?
        .port();
    let provider_endpoint = format!("http://127.0.0.1:{endpoint_port}");
    d.register_provider(&chain, &provider, model_id, &provider_endpoint).await?;
    let mut verifiers = vec![];
    for _ in 0..opts.verifiers {
        let v = d.participant(&chain, &faucet, sol, 20 * TOKEN).await?;
        d.stake(&chain, &v, 10 * TOKEN).await?;
        d.register_verifier(&chain, &v).await?;
        verifiers.push(v);
    }
    let client = d.participant(&chain, &faucet, sol, 100 * TOKEN).await?;

    let admin_token = cinder_sdk::bootstrap::ata(&d.admin.pubkey(), &d.mint, &anchor_spl::token::ID);
    let admin = wallet("admin", &d.admin, admin_token)?;
    let client_w = wallet("client", &client.keypair, client.token)?;
    let provider_w = wallet("provider", &provider.keypair, provider.token)?;
    let mut verifier_ws = vec![];
    for (i, v) in verifiers.iter().enumerate() {
        verifier_ws.push(wallet(&format!("verifier{i}"), &v.keypair, v.token)?);
    }
    let settings = |name: &str, role: &str, keypair: &Path, extra: &str| -> Result<PathBuf, LocalnetError> {
        let path = dir.join(format!("{name}.toml"));
        let mut text = format!(
            "role = \"{role}\"\nrpc_url = \"{rpc_url}\"\nws_url = \"{ws_url}\"\nkeypair = {:?}\nmarket = \"{}\"\n\
             model_dir = {:?}\nstore_dir = {:?}\njournal = {:?}\npoll_interval_ms = 250\nthreads = 1\n\
             # a local cluster: the client serves its inputs on 127.0.0.1\nallow_private_addresses = true\n",
            keypair.display().to_string(),
            d.market.market,
            model_dir.display().to_string(),
            dir.join(format!("{name}-store")).display().to_string(),
            dir.join(format!("{name}.journal.sqlite")).display().to_string(),
        );
        text.push_str(extra);
        write_private(&path, text.as_bytes())?;
        Ok(path)
    };
    let endpoint_settings =
        format!("listen_addr = \"127.0.0.1:{endpoint_port}\"\npublic_url = \"{provider_endpoint}\"\n");
    let provider_settings = settings("provider", "provider", &provider_w.keypair_path, &endpoint_settings)?;
    let mut verifier_settings = vec![];
    for (i, w) in verifier_ws.iter().enumerate() {
        verifier_settings.push(settings(&format!("verifier{i}"), "verifier", &w.keypair_path, "")?);
    }
    let solana_config = dir.join("solana-config.yml");
    let yml = format!(
        "json_rpc_url: \"{rpc_url}\"\nwebsocket_url: \"{ws_url}\"\nkeypair_path: \"{}\"\ncommitment: confirmed\n",
        client_w.keypair_path.display()
    );
    write_private(&solana_config, yml.as_bytes())?;
    let file = ClusterFile {
        rpc_url: rpc_url.into(),
        ws_url: ws_url.into(),
        market: d.market.market.to_string(),
        mint: d.mint.to_string(),
        pool: d.pool.pool.to_string(),
        treasury_token: d.treasury_token.to_string(),
        model_id: model_id.iter().map(|b| format!("{b:02x}")).collect(),
        model_dir,
        admin,
        client: client_w,
        provider: provider_w,
        provider_endpoint,
        verifiers: verifier_ws,
        solana_config,
        provider_settings,
        verifier_settings,
    };
    let path = dir.join("cluster.json");
    // Written last and atomically: its presence means the cluster is ready.
    let tmp = dir.join("cluster.json.tmp");
    let text = serde_json::to_vec_pretty(&file).map_err(|e| LocalnetError::Invalid(e.to_string()))?;
    write_private(&tmp, &text)?;
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    Ok(file)
}
