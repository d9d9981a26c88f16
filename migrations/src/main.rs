//! `cinder-migrations [FILE]`: creates what the cluster file describes and is missing, reports
//! drift for what exists. Exit status: 0 when everything matches (after creating what was
//! missing), 2 when drift was found, 1 on errors.
use std::path::PathBuf;

use anyhow::Context as _;
use cinder_migrations::{migrate, ClusterFile};
use cinder_sdk::chain::rpc::{RpcChain, RpcConfig};
use solana_keypair::Keypair;

fn expand(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(p),
    }
}

fn read_keypair(path: &std::path::Path) -> anyhow::Result<Keypair> {
    cinder_sdk::util::read_keypair(path).with_context(|| "the admin keypair (set admin_keypair in the file)")
}

async fn run() -> anyhow::Result<i32> {
    let mut args = std::env::args().skip(1);
    let path = match args.next().as_deref() {
        Some("-h") | Some("--help") => {
            println!("usage: cinder-migrations [CLUSTER.toml]   (default: migrations/cluster.toml)");
            return Ok(0);
        }
        Some(p) => PathBuf::from(p),
        None => PathBuf::from("migrations/cluster.toml"),
    };
    let file = ClusterFile::load(&path)?;
    let url = file.url.clone().unwrap_or_else(|| "http://127.0.0.1:8899".into());
    let admin = read_keypair(&expand(file.admin_keypair.as_deref().unwrap_or("~/.config/solana/id.json")))?;
    let chain = RpcChain::new(url.clone(), RpcConfig::default());
    let report = migrate(&chain, &admin, &file).await.with_context(|| format!("migrating {url}"))?;
    for c in &report.created {
        println!("created   {c}");
    }
    for u in &report.unchanged {
        println!("unchanged {u}");
    }
    for d in &report.drift {
        println!("DRIFT     {d}");
    }
    if report.created.is_empty() {
        println!("nothing to create: the cluster already has everything in {}", path.display());
    }
    Ok(if report.drift.is_empty() { 0 } else { 2 })
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match run().await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}
