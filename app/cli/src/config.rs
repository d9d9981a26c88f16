//! The Solana CLI config (`~/.config/solana/cli/config.yml`) and keypair files.
//!
//! Only two keys are read, `json_rpc_url` and `keypair_path`, with a small line parser (the file
//! is flat `key: value` YAML written by `solana config set`), so no YAML dependency is needed.
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use solana_keypair::Keypair;

pub const DEFAULT_URL: &str = "http://127.0.0.1:8899";

/// What the CLI takes from the Solana config.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SolanaConfig {
    pub json_rpc_url: Option<String>,
    pub keypair_path: Option<PathBuf>,
}

/// `~` (or `$HOME`), if known.
pub fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

/// Expands a leading `~/`.
pub fn expand_tilde(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(p),
    }
}

/// `~/.config/solana/cli/config.yml`.
pub fn default_config_path() -> Option<PathBuf> {
    home_dir().map(|h| h.join(".config/solana/cli/config.yml"))
}

/// Parses the two keys out of the config's text. Unknown keys are ignored; values may be quoted.
pub fn parse_solana_config(text: &str) -> SolanaConfig {
    let mut c = SolanaConfig::default();
    for line in text.lines() {
        // Top-level keys only (no indentation).
        if line.starts_with(' ') || line.starts_with('\t') || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        if value.is_empty() {
            continue;
        }
        match key.trim() {
            "json_rpc_url" => c.json_rpc_url = Some(value.to_owned()),
            "keypair_path" => c.keypair_path = Some(expand_tilde(value)),
            _ => {}
        }
    }
    c
}

/// Reads the config at `path`; a missing file is an empty config, an unreadable one an error.
pub fn load_solana_config(path: &Path) -> anyhow::Result<SolanaConfig> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(parse_solana_config(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SolanaConfig::default()),
        Err(e) => Err(e).with_context(|| format!("reading the Solana CLI config {}", path.display())),
    }
}

/// The settings in effect: flags win over the config, the config over the defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub url: String,
    pub keypair_path: PathBuf,
}

pub fn resolve(url: Option<&str>, keypair: Option<&Path>, config: &SolanaConfig) -> Resolved {
    let url = url.map(str::to_owned).or_else(|| config.json_rpc_url.clone()).unwrap_or_else(|| DEFAULT_URL.into());
    let keypair_path = keypair
        .map(Path::to_path_buf)
        .or_else(|| config.keypair_path.clone())
        .unwrap_or_else(|| expand_tilde("~/.config/solana/id.json"));
    Resolved { url: url_alias(&url), keypair_path }
}

/// The Solana CLI's monikers (`localhost`, `devnet`, …) as URLs.
pub fn url_alias(url: &str) -> String {
    match url {
        "l" | "localhost" => DEFAULT_URL.into(),
        "d" | "devnet" => "https://api.devnet.solana.com".into(),
        "t" | "testnet" => "https://api.testnet.solana.com".into(),
        "m" | "mainnet-beta" => "https://api.mainnet-beta.solana.com".into(),
        other => other.into(),
    }
}

/// Reads a keypair file: a JSON array of 64 bytes (what `solana-keygen new` writes).
pub fn read_keypair(path: &Path) -> anyhow::Result<Keypair> {
    cinder_sdk::util::read_keypair(path).map_err(|e| anyhow::anyhow!("{e}; or pass --keypair PATH"))
}

/// Writes a keypair file in the same format.
pub fn write_keypair(path: &Path, k: &Keypair) -> anyhow::Result<()> {
    let bytes: Vec<u8> = k.to_bytes().to_vec();
    std::fs::write(path, serde_json::to_string(&bytes)?).with_context(|| format!("writing {}", path.display()))
}
