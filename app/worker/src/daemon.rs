//! The `cinder-worker` command line: `run` (the daemon loop) and `check`. A library module so that
//! the binary is one line and other programs (the demo) can run exactly this code in a process of
//! their own.
//!
//! Shutdown: the first SIGINT/SIGTERM stops taking new work; the step in flight gets
//! [`SHUTDOWN_GRACE`] to finish (everything it sends is journaled first, so abandoning it is as
//! safe as a crash and the next start resumes it); a second signal exits at once (status 130).
use std::{ffi::OsString, path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context as _;
use cinder_sdk::{
    chain::{
        rpc::{RpcChain, RpcConfig},
        Chain,
    },
    Pubkey,
};
use clap::{Parser, Subcommand};

use crate::{settings::read_keypair, ContentStore, Engine, Journal, Metrics, Node, Provider, Role, Settings, Verifier};

/// How long the step in flight may run on after the first shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Parser)]
#[command(name = "cinder-worker", version, about = "Cinder provider and verifier daemon")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the worker until SIGINT/SIGTERM.
    Run {
        /// Settings file (see worker.example.toml).
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Check the settings, the keypair, the model and the connection, then exit.
    Check {
        #[arg(long, short)]
        config: PathBuf,
    },
}

fn init_logs() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if std::io::stderr().is_terminal() {
        builder.with_writer(std::io::stderr).try_init()
    } else {
        builder.json().with_writer(std::io::stderr).try_init()
    };
}

/// Connects a worker as `s` describes: keypair, model, RPC, store and journal.
pub async fn connect(s: &Settings) -> anyhow::Result<Node> {
    let keypair = read_keypair(&s.keypair)?;
    let dtype = s.dtype.parse().map_err(|e| anyhow::anyhow!("dtype: {e}"))?;
    let engine = Engine::load(&s.model_dir, dtype, s.threads)
        .map_err(|e| anyhow::anyhow!("cannot load the model in {}: {e}", s.model_dir.display()))?;
    let chain = RpcChain::new(s.rpc_url.clone(), RpcConfig { ws_url: s.ws_url.clone(), ..Default::default() });
    let market = match &s.market {
        Some(m) => m.parse().map_err(|_| anyhow::anyhow!("market `{m}` is not a public key"))?,
        None => market_for_model(&chain, &engine.model_id()).await?,
    };
    let store =
        ContentStore::open(&s.store_dir).map_err(|e| anyhow::anyhow!("store {}: {e}", s.store_dir.display()))?;
    let journal = Journal::open(&s.journal)?;
    let mut node =
        Node::connect(Arc::new(chain), keypair, market, Arc::new(engine), store, journal, Arc::new(Metrics::default()))
            .await?;
    if node.model_id != node.engine.model_id() {
        anyhow::bail!(
            "the model in {} (model id {}) is not the model of market {market} (model id {})",
            s.model_dir.display(),
            cinder_sdk::util::hex(&node.engine.model_id()),
            cinder_sdk::util::hex(&node.model_id)
        );
    }
    if s.role == Role::Provider {
        // Clients upload to, and fetch from, the endpoint registered on-chain: it should be this
        // worker's public_url, or uploads land elsewhere and outputs are published under a name
        // clients do not know.
        let registered: Option<cinder_jobs::Provider> =
            cinder_sdk::fetch(node.chain.as_ref(), &cinder_sdk::jobs::provider_pda(&node.me())).await?;
        match (registered, &s.public_url) {
            (None, _) => {
                tracing::warn!(worker = %node.me(), "not registered as a provider (`cinder provider register`)")
            }
            (Some(p), Some(u)) if !cinder_sdk::util::same_endpoint(&p.endpoint, u) => tracing::warn!(
                registered = %p.endpoint,
                public_url = %u,
                "public_url is not the endpoint registered on-chain; clients use the registered one"
            ),
            _ => {}
        }
    }
    node.max_input_bytes = s.max_input_bytes;
    node.fetch_timeout = Duration::from_secs(s.fetch_timeout_secs);
    node.max_parallel_verifications = s.max_parallel_verifications;
    node.public_url = s.public_url.clone();
    node.fetch_policy = crate::fetch_input::FetchPolicy {
        allow_private_addresses: s.allow_private_addresses,
        allow_file_uris: s.allow_file_uris,
    };
    Ok(node)
}

/// The one market whose model is `model_id` (settings without `market`), found with
/// `getProgramAccounts`; an error that lists them when there are several, and one that asks
/// for `market` when there are none or the node has no index.
pub async fn market_for_model(chain: &dyn Chain, model_id: &[u8; 32]) -> anyhow::Result<Pubkey> {
    let Some(markets) =
        cinder_sdk::fetch_all_of::<cinder_jobs::Market>(chain, &[]).await.context("listing the markets")?
    else {
        anyhow::bail!("`market` is not set and this RPC node cannot list markets (no getProgramAccounts): set it")
    };
    let matching: Vec<Pubkey> = markets.into_iter().filter(|(_, m)| m.model_id == *model_id).map(|(k, _)| k).collect();
    match matching.as_slice() {
        [one] => {
            tracing::info!(market = %one, "serving the only market of this model");
            Ok(*one)
        }
        [] => anyhow::bail!(
            "`market` is not set and no market on this cluster serves model id {}",
            cinder_sdk::util::hex(model_id)
        ),
        many => anyhow::bail!(
            "`market` is not set and {} markets serve this model: {}; set one",
            many.len(),
            many.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// The whole command line: parses `args` (the first is the program name), runs, and returns the
/// exit status.
pub fn main(args: impl IntoIterator<Item = OsString>) -> std::process::ExitCode {
    init_logs();
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { std::process::ExitCode::from(2) } else { std::process::ExitCode::SUCCESS };
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let (config, check_only) = match cli.cmd {
        Cmd::Run { config } => (config, false),
        Cmd::Check { config } => (config, true),
    };
    let settings = Settings::load(&config)?;
    if !check_only && settings.market.is_none() {
        // Anyone can create a market for a model; a worker must not pick its market by itself.
        anyhow::bail!(
            "`market` is not set in {}: `cinder-worker check --config {}` names the market(s) of your model",
            config.display(),
            config.display()
        );
    }
    // Signals are handled from here on, so a SIGTERM while connecting or loading the model is a
    // clean stop, not death by signal.
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!(
            grace_secs = SHUTDOWN_GRACE.as_secs(),
            "shutdown requested: no new work; a second signal exits at once"
        );
        let _ = tx.send(true);
        shutdown_signal().await;
        tracing::warn!("second signal: exiting now (the journal resumes the step in flight on the next start)");
        std::process::exit(130);
    });
    let mut starting = rx.clone();
    let node = tokio::select! {
        node = connect(&settings) => node?,
        _ = starting.changed() => {
            tracing::info!("stopped before the worker started");
            return Ok(());
        }
    };
    tracing::info!(role = ?settings.role, market = %node.market_key, worker = %node.me(), "connected");
    if check_only {
        println!("ok: {:?} {} on market {}", settings.role, node.me(), node.market_key);
        return Ok(());
    }
    if let Some(addr) = settings.metrics_addr.clone() {
        tokio::spawn(crate::metrics::serve(addr, node.metrics.clone(), rx.clone()));
    }
    let mut endpoint = None;
    if let Some(addr) = settings.listen_addr.clone() {
        let listener =
            tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("listen_addr {addr}: cannot listen"))?;
        let ep = crate::http::Endpoint {
            store: node.store.clone(),
            chain: node.chain.clone(),
            market: node.market_key,
            worker: node.me(),
            public_url: settings.public_url.clone(),
            role: match settings.role {
                Role::Provider => "provider",
                Role::Verifier => "verifier",
            },
            limits: crate::http::HttpLimits {
                max_upload_bytes: settings.max_input_bytes,
                max_concurrency: settings.http_max_concurrency,
                request_timeout: Duration::from_secs(settings.http_request_timeout_secs),
            },
        };
        endpoint = Some(tokio::spawn(crate::http::serve(listener, ep, rx.clone())));
    }
    let poll = Duration::from_millis(settings.poll_interval_ms);
    let mut role = match settings.role {
        Role::Provider => {
            #[allow(unused_mut)]
            let mut p = Provider::new(node);
            #[cfg(feature = "testing")]
            if !settings.dishonest_job_ids.is_empty() {
                tracing::warn!(jobs = ?settings.dishonest_job_ids, "TESTING BUILD: this provider will commit wrong results");
                p.dishonest_job_ids = settings.dishonest_job_ids.clone();
            }
            Either::P(p)
        }
        Role::Verifier => Either::V(Verifier::new(node)),
    };
    let mut stop = rx;
    loop {
        let step = async {
            match &mut role {
                Either::P(p) => p.tick().await,
                Either::V(v) => v.tick().await,
            }
        };
        tokio::pin!(step);
        let r = tokio::select! {
            r = &mut step => Some(r),
            _ = stop.changed() => {
                // Shutdown during a step: let it finish within the grace period, then stop.
                match tokio::time::timeout(SHUTDOWN_GRACE, &mut step).await {
                    Ok(r) => {
                        if let Err(e) = r {
                            tracing::warn!(error = %e, "the last step failed");
                        }
                    }
                    Err(_) => tracing::warn!("the step in flight did not finish within the grace period; it resumes on the next start"),
                }
                None
            }
        };
        let Some(r) = r else { break };
        if let Err(e) = r {
            tracing::warn!(error = %e, "step failed; retrying after the poll interval");
        }
        if *stop.borrow() {
            break;
        }
        tokio::select! {
            _ = stop.changed() => break,
            _ = tokio::time::sleep(poll) => {}
        }
    }
    if let Some(ep) = endpoint {
        // The endpoint saw the same signal; give its requests in flight a moment to finish.
        match tokio::time::timeout(Duration::from_secs(5), ep).await {
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "the object endpoint failed"),
            Err(_) => tracing::warn!("the object endpoint did not stop within 5 s"),
            _ => {}
        }
    }
    tracing::info!("stopped");
    Ok(())
}

enum Either {
    P(Provider),
    V(Verifier),
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return tokio::signal::ctrl_c().await.unwrap_or(()),
        };
        tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.unwrap_or(());
}
