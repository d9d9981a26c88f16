//! The `cinder-localnet` command line: starts the local cluster, optionally bootstraps a ready
//! market, prints the URLs, and runs until SIGINT/SIGTERM. A library module so the binary is one
//! line and the demo can run exactly this code in a process of its own.
use std::{ffi::OsString, path::PathBuf};

use crate::{bootstrap, BootstrapOptions, Localnet, LocalnetOptions};
use clap::Parser;

/// A local Solana cluster (surfpool) serving the four Cinder programs over JSON-RPC and websocket.
#[derive(Debug, Parser)]
#[command(name = "cinder-localnet", version)]
struct Args {
    /// HTTP JSON-RPC port (0: any free port).
    #[arg(long, default_value_t = 8899)]
    rpc_port: u16,
    /// Websocket port (0: any free port).
    #[arg(long, default_value_t = 8900)]
    ws_port: u16,
    /// Slot time in milliseconds.
    #[arg(long, default_value_t = 400)]
    slot_ms: u64,
    /// Deploy a ready market and write keypairs, worker settings, a Solana CLI config and
    /// cluster.json into this directory.
    #[arg(long)]
    bootstrap: Option<PathBuf>,
    /// Verifiers to stake and register when bootstrapping.
    #[arg(long, default_value_t = 4)]
    verifiers: usize,
    /// A local model directory for the bootstrapped market (default: a generated test model).
    #[arg(long)]
    model: Option<PathBuf>,
}

/// The whole command line: parses `args` (the first is the program name), runs until a signal,
/// and returns the exit status.
pub fn main(args: impl IntoIterator<Item = OsString>) -> std::process::ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
    let args = match Args::try_parse_from(args) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { std::process::ExitCode::from(2) } else { std::process::ExitCode::SUCCESS };
        }
    };
    match run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), crate::LocalnetError> {
    let net =
        Localnet::start(&LocalnetOptions { rpc_port: args.rpc_port, ws_port: args.ws_port, slot_ms: args.slot_ms })?;
    println!("rpc_url: {}", net.rpc_url);
    println!("websocket_url: {}", net.ws_url);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| crate::LocalnetError::Start(e.to_string()))?;
    rt.block_on(async {
        if let Some(dir) = &args.bootstrap {
            let opts = BootstrapOptions { dir: dir.clone(), verifiers: args.verifiers, model_dir: args.model.clone() };
            let file = bootstrap(&net.rpc_url, &net.ws_url, &opts).await?;
            println!("market: {}", file.market);
            println!("cluster_file: {}", dir.join("cluster.json").display());
            println!("solana_config: {}", file.solana_config.display());
        }
        println!("ready");
        use std::io::Write;
        let _ = std::io::stdout().flush();
        shutdown_signal().await;
        Ok::<(), crate::LocalnetError>(())
    })?;
    eprintln!("stopping the validator");
    net.stop();
    Ok(())
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return tokio::signal::ctrl_c().await.unwrap_or(()),
    };
    tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term.recv() => {} }
}
