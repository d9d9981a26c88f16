//! The Solana CLI config (`~/.config/solana/cli/config.yml`) and keypair files.
//!
//! Four keys are read, `json_rpc_url`, `websocket_url`, `keypair_path` and `commitment`, with a
//! small line parser (the file is flat `key: value` YAML written by `solana config set`), so no
//! YAML dependency is needed. Precedence for each: the command-line flag, then the config file,
//! then the default (`http://127.0.0.1:8899`; the websocket URL derived from the RPC URL as the
//! Solana CLI does — `ws`/`wss`, port + 1; `~/.config/solana/id.json`; `confirmed`).
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use solana_keypair::Keypair;

pub const DEFAULT_URL: &str = "http://127.0.0.1:8899";

/// What the CLI takes from the Solana config.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SolanaConfig {
    pub json_rpc_url: Option<String>,
    /// Empty in the file (what `solana config set` writes by default) means "derive it".
    pub websocket_url: Option<String>,
    pub keypair_path: Option<PathBuf>,
    /// `processed`, `confirmed` or `finalized` (checked by [`load_solana_config`]).
    pub commitment: Option<String>,
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
            "websocket_url" => c.websocket_url = Some(value.to_owned()),
            "keypair_path" => c.keypair_path = Some(expand_tilde(value)),
            "commitment" => c.commitment = Some(value.to_owned()),
            _ => {}
        }
    }
    c
}

/// Reads the config at `path`; a missing file is an empty config, an unreadable one or a bad
/// `commitment` an error naming the file and the key.
pub fn load_solana_config(path: &Path) -> anyhow::Result<SolanaConfig> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let c = parse_solana_config(&text);
            if let Some(v) = &c.commitment {
                parse_commitment(v).with_context(|| format!("key `commitment` in {}", path.display()))?;
            }
            Ok(c)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SolanaConfig::default()),
        Err(e) => Err(e).with_context(|| format!("reading the Solana CLI config {}", path.display())),
    }
}

/// A commitment level by name.
pub fn parse_commitment(v: &str) -> anyhow::Result<cinder_sdk::chain::rpc::Commitment> {
    use cinder_sdk::chain::rpc::Commitment;
    match v {
        "processed" => Ok(Commitment::Processed),
        "confirmed" => Ok(Commitment::Confirmed),
        "finalized" => Ok(Commitment::Finalized),
        other => anyhow::bail!("`{other}` is not a commitment (processed, confirmed or finalized)"),
    }
}

/// The settings in effect: flags win over the config, the config over the defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub url: String,
    pub ws_url: String,
    pub keypair_path: PathBuf,
    pub commitment: cinder_sdk::chain::rpc::Commitment,
}

/// Flags (`None` when not given) over the config over the defaults. A `--url` flag also decides
/// the websocket URL (derived from it), so a flag never pairs with another cluster's websocket.
pub fn resolve(url: Option<&str>, keypair: Option<&Path>, config: &SolanaConfig) -> Resolved {
    resolve_all(url, None, keypair, None, config)
}

pub fn resolve_all(
    url: Option<&str>,
    ws_url: Option<&str>,
    keypair: Option<&Path>,
    commitment: Option<cinder_sdk::chain::rpc::Commitment>,
    config: &SolanaConfig,
) -> Resolved {
    let from_flag = url.is_some();
    let url = url_alias(
        &url.map(str::to_owned).or_else(|| config.json_rpc_url.clone()).unwrap_or_else(|| DEFAULT_URL.into()),
    );
    let configured_ws = if from_flag { None } else { config.websocket_url.clone().filter(|w| !w.is_empty()) };
    let ws_url = ws_url.map(str::to_owned).or(configured_ws).unwrap_or_else(|| websocket_url_for(&url));
    let keypair_path = keypair
        .map(Path::to_path_buf)
        .or_else(|| config.keypair_path.clone())
        .unwrap_or_else(|| expand_tilde("~/.config/solana/id.json"));
    let commitment = commitment
        .or_else(|| config.commitment.as_deref().and_then(|c| parse_commitment(c).ok()))
        .unwrap_or(cinder_sdk::chain::rpc::Commitment::Confirmed);
    Resolved { url, ws_url, keypair_path, commitment }
}

/// The websocket URL of an RPC URL, as the Solana CLI computes it: `http` → `ws`, `https` →
/// `wss`, and an explicit port + 1.
pub fn websocket_url_for(rpc_url: &str) -> String {
    let (scheme, rest) = match rpc_url.split_once("://") {
        Some(("https", rest)) => ("wss", rest),
        Some((_, rest)) => ("ws", rest),
        None => ("ws", rpc_url),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    // `host:port` and `[v6]:port` end in a numeric port; `[v6]` alone does not.
    let authority = match authority.rsplit_once(':').map(|(h, p)| (h, p.parse::<u16>())) {
        Some((host, Ok(port))) => format!("{host}:{}", port.saturating_add(1)),
        _ => authority.to_owned(),
    };
    format!("{scheme}://{authority}{path}")
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
