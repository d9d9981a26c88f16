//! `cinder-worker`: the provider / verifier daemon.
use std::{path::PathBuf, sync::Arc, time::Duration};

use cinder_sdk::chain::rpc::{RpcChain, RpcConfig};
use cinder_worker::{
    settings::read_keypair, ContentStore, Engine, Journal, Metrics, Node, Provider, Role, Settings, Verifier,
};
use clap::{Parser, Subcommand};

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
    if std::io::stderr().is_terminal() {
        builder.with_writer(std::io::stderr).init();
    } else {
        builder.json().with_writer(std::io::stderr).init();
    }
}

async fn connect(s: &Settings) -> anyhow::Result<Node> {
    let keypair = read_keypair(&s.keypair)?;
    let market = s.market.parse().map_err(|_| anyhow::anyhow!("market `{}` is not a public key", s.market))?;
    let dtype = s.dtype.parse().map_err(|e| anyhow::anyhow!("dtype: {e}"))?;
    let engine = Engine::load(&s.model_dir, dtype, s.threads)
        .map_err(|e| anyhow::anyhow!("cannot load the model in {}: {e}", s.model_dir.display()))?;
    let chain = RpcChain::new(s.rpc_url.clone(), RpcConfig { ws_url: s.ws_url.clone(), ..Default::default() });
    let store =
        ContentStore::open(&s.store_dir).map_err(|e| anyhow::anyhow!("store {}: {e}", s.store_dir.display()))?;
    let journal = Journal::open(&s.journal)?;
    let mut node =
        Node::connect(Arc::new(chain), keypair, market, Arc::new(engine), store, journal, Arc::new(Metrics::default()))
            .await?;
    node.max_input_bytes = s.max_input_bytes;
    node.fetch_timeout = Duration::from_secs(s.fetch_timeout_secs);
    Ok(node)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    init_logs();
    let cli = Cli::parse();
    match run(cli).await {
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
    let node = connect(&settings).await?;
    tracing::info!(role = ?settings.role, market = %settings.market, worker = %node.me(), "connected");
    if check_only {
        println!("ok: {:?} {} on market {}", settings.role, node.me(), settings.market);
        return Ok(());
    }
    let (tx, rx) = tokio::sync::watch::channel(false);
    if let Some(addr) = settings.metrics_addr.clone() {
        tokio::spawn(cinder_worker::metrics::serve(addr, node.metrics.clone(), rx.clone()));
    }
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutdown requested: finishing the current step");
        let _ = tx.send(true);
    });
    let poll = Duration::from_millis(settings.poll_interval_ms);
    let mut role = match settings.role {
        Role::Provider => Either::P(Provider::new(node)),
        Role::Verifier => Either::V(Verifier::new(node)),
    };
    let mut rx = rx;
    loop {
        // A step is never interrupted: shutdown is only observed between steps, and everything a
        // step sends is journaled first, so the next start resumes cleanly.
        let r = match &mut role {
            Either::P(p) => p.tick().await,
            Either::V(v) => v.tick().await,
        };
        if let Err(e) = r {
            tracing::warn!(error = %e, "step failed; retrying after the poll interval");
        }
        tokio::select! {
            _ = rx.changed() => break,
            _ = tokio::time::sleep(poll) => {}
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
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return ctrl_c.await.unwrap_or(()),
        };
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    ctrl_c.await.unwrap_or(());
}
