//! Worker settings: one struct, read from a TOML file and overridden by `CINDER_WORKER_*`
//! environment variables. Secrets are never stored here: `keypair` is a path, and `Debug` prints
//! only that path.
use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Provider,
    Verifier,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub role: Role,
    /// JSON-RPC endpoint of the cluster.
    pub rpc_url: String,
    /// Optional websocket endpoint (account subscriptions; polling otherwise).
    #[serde(default)]
    pub ws_url: Option<String>,
    /// Path of the worker's keypair file (a JSON array of 64 bytes, Solana CLI format).
    pub keypair: PathBuf,
    /// The market to serve (base58). When absent, the one market on the cluster whose model is
    /// `model_dir`'s (found with `getProgramAccounts`; an error if there are none or several).
    #[serde(default)]
    pub market: Option<String>,
    /// Local Hugging Face-format model directory (config.json, tokenizer.json, *.safetensors).
    pub model_dir: PathBuf,
    /// Compute dtype: f32 (default), f16 or bf16. Jobs that ask for another dtype are refused.
    #[serde(default = "default_dtype")]
    pub dtype: String,
    /// Inference threads (default: all cores).
    #[serde(default)]
    pub threads: Option<usize>,
    /// Content-addressed store for inputs and outputs.
    pub store_dir: PathBuf,
    /// SQLite journal (written before every transaction; a restart resumes from it).
    pub journal: PathBuf,
    #[serde(default = "default_poll")]
    pub poll_interval_ms: u64,
    /// Address for the Prometheus `/metrics` endpoint, e.g. "127.0.0.1:9464". Off when absent.
    #[serde(default)]
    pub metrics_addr: Option<String>,
    /// Largest input accepted, in bytes.
    #[serde(default = "default_max_input")]
    pub max_input_bytes: usize,
    /// Seconds to wait for an http(s) input.
    #[serde(default = "default_fetch_timeout")]
    pub fetch_timeout_secs: u64,
    /// Fetch inputs from loopback, private and link-local addresses too (local clusters, tests).
    /// Off by default: workers fetch what strangers post.
    #[serde(default)]
    pub allow_private_addresses: bool,
    /// Accept `file://` input URIs (paths on this machine). Off by default.
    #[serde(default)]
    pub allow_file_uris: bool,
    /// Where the worker's HTTP endpoint listens (e.g. "0.0.0.0:8080"): `GET /v1/objects/{sha256}`
    /// for its outputs, `PUT` for the inputs of open jobs, `GET /v1/health`. Off when absent.
    #[serde(default)]
    pub listen_addr: Option<String>,
    /// The endpoint's public base URL as clients reach it (the one registered on-chain, e.g.
    /// "https://gpu1.example.com"); outputs are then published as `<public_url>/v1/objects/<sha256>`
    /// instead of `cas://<sha256>`.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Requests the endpoint serves at once (the next get 503 + Retry-After).
    #[serde(default = "default_http_concurrency")]
    pub http_max_concurrency: usize,
    /// Seconds one request to the endpoint may take.
    #[serde(default = "default_http_timeout")]
    pub http_request_timeout_secs: u64,
    /// Verifier: how many results it re-executes at once (at least 1; default 2).
    #[serde(default = "default_parallel")]
    pub max_parallel_verifications: usize,
    /// TESTING ONLY (cargo feature `testing`, used by the demo and the tests): jobs for which a
    /// provider commits to a wrong result. A release build rejects the key as unknown.
    #[cfg(feature = "testing")]
    #[serde(default)]
    pub dishonest_job_ids: Vec<u64>,
}

fn default_dtype() -> String {
    "f32".into()
}
fn default_poll() -> u64 {
    1_000
}
fn default_max_input() -> usize {
    64 * 1024
}
fn default_fetch_timeout() -> u64 {
    10
}
fn default_parallel() -> usize {
    2
}
fn default_http_concurrency() -> usize {
    64
}
fn default_http_timeout() -> u64 {
    30
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read the settings file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid settings in {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Settings {
    /// Reads `path`, then applies `CINDER_WORKER_<FIELD>` overrides (RPC_URL, WS_URL, KEYPAIR,
    /// MARKET, MODEL_DIR, STORE_DIR, JOURNAL, METRICS_ADDR, LISTEN_ADDR, PUBLIC_URL).
    pub fn load(path: &std::path::Path) -> Result<Settings, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read { path: path.into(), source })?;
        Self::parse(&text, |k| std::env::var(k).ok())
            .map_err(|message| SettingsError::Invalid { path: path.into(), message })
    }

    pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let mut s: Settings = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Some(v) = env("CINDER_WORKER_RPC_URL") {
            s.rpc_url = v;
        }
        if let Some(v) = env("CINDER_WORKER_WS_URL") {
            s.ws_url = Some(v);
        }
        if let Some(v) = env("CINDER_WORKER_KEYPAIR") {
            s.keypair = v.into();
        }
        if let Some(v) = env("CINDER_WORKER_MARKET") {
            s.market = Some(v);
        }
        if let Some(v) = env("CINDER_WORKER_MODEL_DIR") {
            s.model_dir = v.into();
        }
        if let Some(v) = env("CINDER_WORKER_STORE_DIR") {
            s.store_dir = v.into();
        }
        if let Some(v) = env("CINDER_WORKER_JOURNAL") {
            s.journal = v.into();
        }
        if let Some(v) = env("CINDER_WORKER_METRICS_ADDR") {
            s.metrics_addr = Some(v);
        }
        if let Some(v) = env("CINDER_WORKER_LISTEN_ADDR") {
            s.listen_addr = Some(v);
        }
        if let Some(v) = env("CINDER_WORKER_PUBLIC_URL") {
            s.public_url = Some(v);
        }
        let home = env("HOME");
        for path in [&mut s.keypair, &mut s.model_dir, &mut s.store_dir, &mut s.journal] {
            *path = expand_home(path, home.as_deref())?;
        }
        if let Some(m) = &s.market {
            m.parse::<anchor_lang::prelude::Pubkey>()
                .map_err(|_| format!("market `{m}` is not a base58 public key"))?;
        }
        s.dtype.parse::<cinder_inference::DType>().map_err(|e| format!("dtype: {e}"))?;
        if let Some(u) = &s.public_url {
            let base = u.trim_end_matches('/');
            if !(base.starts_with("http://") || base.starts_with("https://")) {
                return Err(format!("public_url `{u}` must be an http:// or https:// URL"));
            }
            // Output URIs are <base>/v1/objects/<64 hex>, and the program takes at most MAX_URI_LEN.
            let longest = cinder_sdk::util::object_url(base, &[0; 32]).len();
            if longest > cinder_jobs::MAX_URI_LEN as usize {
                return Err(format!(
                    "public_url `{u}` is too long: output URIs would be {longest} bytes, the limit is {}",
                    cinder_jobs::MAX_URI_LEN
                ));
            }
        }
        if s.http_max_concurrency == 0 {
            return Err("http_max_concurrency must be at least 1".into());
        }
        if s.max_parallel_verifications == 0 {
            return Err("max_parallel_verifications must be at least 1".into());
        }
        Ok(s)
    }
}

/// `~` or `~/…` at the start of `path` becomes `home` (as a shell would); other paths are kept.
pub fn expand_home(path: &std::path::Path, home: Option<&str>) -> Result<PathBuf, String> {
    let Some(text) = path.to_str() else { return Ok(path.into()) };
    let rest = match text.strip_prefix('~') {
        Some("") => "",
        Some(r) if r.starts_with('/') => &r[1..],
        _ => return Ok(path.into()),
    };
    let home = home.filter(|h| !h.is_empty()).ok_or_else(|| format!("`{text}`: `~` needs HOME to be set"))?;
    Ok(std::path::Path::new(home).join(rest))
}

pub use cinder_sdk::util::read_keypair;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leading_tilde_is_the_home_directory() {
        let p = |s: &str| std::path::PathBuf::from(s);
        assert_eq!(expand_home(&p("~/w/j.sqlite"), Some("/home/a")).unwrap(), p("/home/a/w/j.sqlite"));
        assert_eq!(expand_home(&p("~"), Some("/home/a")).unwrap(), p("/home/a"));
        assert_eq!(expand_home(&p("/abs/~x"), Some("/home/a")).unwrap(), p("/abs/~x"));
        assert_eq!(
            expand_home(&p("~bob/x"), Some("/home/a")).unwrap(),
            p("~bob/x"),
            "other users' homes are not guessed"
        );
        assert!(expand_home(&p("~/x"), None).unwrap_err().contains("HOME"));
    }

    const SAMPLE: &str = r#"
role = "provider"
rpc_url = "http://127.0.0.1:8899"
keypair = "/tmp/id.json"
market = "ETshZNeWUruCAWbXKxn3wqjGhzm5kDkx9bNiVu67HMwM"
model_dir = "/models/m"
store_dir = "/tmp/store"
journal = "/tmp/j.sqlite"
"#;

    #[test]
    fn file_then_environment() {
        let s =
            Settings::parse(SAMPLE, |k| (k == "CINDER_WORKER_RPC_URL").then(|| "http://10.0.0.1:8899".into())).unwrap();
        assert_eq!(
            (s.role, s.rpc_url.as_str(), s.dtype.as_str(), s.poll_interval_ms),
            (Role::Provider, "http://10.0.0.1:8899", "f32", 1_000)
        );
    }

    #[test]
    fn bad_market_and_dtype_are_named() {
        let bad = SAMPLE.replace("ETshZNeWUruCAWbXKxn3wqjGhzm5kDkx9bNiVu67HMwM", "not-a-key");
        assert!(Settings::parse(&bad, |_| None).unwrap_err().contains("not a base58 public key"));
        let bad = format!("{SAMPLE}\ndtype = \"int4\"\n");
        assert!(Settings::parse(&bad, |_| None).unwrap_err().contains("dtype"));
        let bad = format!("{SAMPLE}\nmax_parallel_verifications = 0\n");
        assert!(Settings::parse(&bad, |_| None).unwrap_err().contains("max_parallel_verifications"));
    }

    /// The shipped example parses with no environment at all: no placeholder, every key known;
    /// the market is left to discovery and re-execution runs two at a time.
    #[test]
    fn the_shipped_example_parses() {
        let text = include_str!("../worker.example.toml");
        let s = Settings::parse(text, |k| (k == "HOME").then(|| "/home/op".into())).unwrap();
        assert_eq!((s.market.as_deref(), s.max_parallel_verifications), (None, 2));
        assert_eq!(s.keypair, std::path::PathBuf::from("/home/op/.config/solana/id.json"));
    }

    #[test]
    fn an_unknown_or_misspelt_key_is_an_error() {
        let bad = format!(
            "{SAMPLE}
poll_interval = 5
"
        );
        let e = Settings::parse(&bad, |_| None).unwrap_err();
        assert!(e.contains("unknown field `poll_interval`"), "{e}");
    }

    /// The testing switch parses only in testing builds; a release build rejects it by name.
    #[test]
    fn the_dishonest_switch_exists_only_in_testing_builds() {
        let text = format!(
            "{SAMPLE}
dishonest_job_ids = [3]
"
        );
        let r = Settings::parse(&text, |_| None);
        #[cfg(feature = "testing")]
        assert_eq!(r.unwrap().dishonest_job_ids, vec![3]);
        #[cfg(not(feature = "testing"))]
        assert!(r.unwrap_err().contains("unknown field `dishonest_job_ids`"));
    }
}
