//! The local end-to-end demo, every party a process of its own talking JSON-RPC:
//!
//! * `cinder-localnet` (surfpool) serves the four programs and bootstraps a market: mint, protocol
//!   config, a generated (or local) model registered on-chain, a staked provider, staked
//!   verifiers and a funded client, each with its own keypair file;
//! * one `cinder-worker run` process per provider and verifier, each with its own settings,
//!   journal and content store;
//! * this process is the client (a dApp): its own keypair, its own store, which it serves over
//!   HTTP on 127.0.0.1; it posts text-generation and code-completion jobs whose `input_uri` names
//!   that server, watches the accounts over RPC, and moves the cluster clock with surfpool's time
//!   travel whenever nothing happens (challenge windows are minutes long).
//!
//! The provider is dishonest for one job (a testing-build switch in its settings); a verifier
//! challenges, a drawn quorum votes, the provider is slashed and the client refunded. The other
//! jobs finalize. Then the audit, and every process is stopped with SIGTERM.
//!
//! One binary plays every part: `cinder-demo` started as `cinder-worker` or `cinder-localnet`
//! (its `argv[0]`) runs exactly those programs' command lines, so `cargo run -p cinder-demo`
//! builds everything the demo needs.
use std::{
    io::{BufRead, BufReader, Write},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anchor_lang::prelude::Pubkey;
use cinder_jobs::{InferenceParams, JobExpired, JobFinalized, JobSlashed, Market, ResultRecorded};
use cinder_localnet::ClusterFile;
use cinder_sdk::{
    chain::{rpc::RpcChain, Chain},
    events::decode,
    jobs::{self as jsdk, MarketKeys},
    staking::PoolKeys,
};
use cinder_staking::{ProviderStake, StakePool};
use cinder_worker::ContentStore;
use serde::Serialize;
use solana_signer::Signer;

/// The demo market's terms.
pub use cinder_sdk::bootstrap::demo_market_params as market_params;
/// One token = 10^6 raw units (the demo mint has 6 decimals).
pub use cinder_sdk::bootstrap::TOKEN;

pub struct DemoOptions {
    /// The multi-call binary started as `cinder-localnet` and `cinder-worker` (the demo binary
    /// itself: `std::env::current_exe()`, or `CARGO_BIN_EXE_cinder-demo` in tests).
    pub exe: PathBuf,
    /// A local Hugging Face-format model directory; a small Qwen2-shaped model is generated when absent.
    pub model_dir: Option<PathBuf>,
    /// Where the demo keeps the cluster files, stores, journals and logs.
    pub work_dir: PathBuf,
    /// The job (index) the provider lies about; `None` for an all-honest run.
    pub dishonest_job: Option<u64>,
    /// Print progress lines.
    pub progress: bool,
    /// Staked verifier processes (the quorum is 3).
    pub verifiers: usize,
    /// The validator's slot time.
    pub slot_ms: u64,
    /// Give up when the jobs have not all settled after this long.
    pub timeout: Duration,
}

impl DemoOptions {
    pub fn new(exe: PathBuf, work_dir: PathBuf) -> Self {
        DemoOptions {
            exe,
            model_dir: None,
            work_dir,
            dishonest_job: Some(1),
            progress: false,
            verifiers: 4,
            slot_ms: 100,
            timeout: Duration::from_secs(600),
        }
    }
}

/// One job's outcome, from its terminal event.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct JobSummary {
    pub job_id: u64,
    pub job: String,
    pub kind: String,
    pub outcome: String,
    pub payment: u64,
    pub paid_to_provider: u64,
    pub fee: u64,
    pub slashed: u64,
    pub challenger_reward: u64,
    pub refunded: u64,
    pub rent_returned: u64,
    pub output_text: Option<String>,
}

#[derive(Serialize, Debug, Clone)]
pub struct DemoSummary {
    pub market: String,
    pub mint: String,
    pub model_id: String,
    pub provider: String,
    pub rpc_url: String,
    pub jobs: Vec<JobSummary>,
    /// Client, provider and treasury token balances at the end (raw units).
    pub client_balance: u64,
    pub provider_balance: u64,
    pub treasury_balance: u64,
    pub provider_stake: u64,
    /// Times the demo moved the cluster clock forward.
    pub time_travels: u32,
    /// True when the demo generated its model (random weights) instead of loading one.
    pub generated_model: bool,
}

/// How one of the demo's processes ended.
#[derive(Serialize, Debug, Clone)]
pub struct ProcessExit {
    pub name: String,
    pub pid: u32,
    /// The exit status; `None` when it had to be killed (or died of a signal).
    pub code: Option<i32>,
    pub log: PathBuf,
}

/// The finished demo: the summary, the audit the client ran over RPC before the cluster stopped,
/// and how every process exited after SIGTERM.
pub struct DemoRun {
    pub summary: DemoSummary,
    pub audit: Result<cinder_cli::AuditReport, String>,
    pub processes: Vec<ProcessExit>,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error("chain: {0}")]
    Chain(#[from] cinder_sdk::chain::ChainError),
    #[error("{0}")]
    Localnet(#[from] cinder_localnet::LocalnetError),
    #[error("{0} (see {1})")]
    Process(String, PathBuf),
    #[error("{0}")]
    Setup(String),
    #[error("not every job settled within {0:?}; the logs are in {1}")]
    Stuck(Duration, PathBuf),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> DemoError {
    let what = what.into();
    move |source| DemoError::Io { what, source }
}

/// The demo's jobs: (kind, input document, max tokens).
pub fn demo_inputs() -> Vec<(&'static str, String, u32)> {
    vec![
        ("text", r#"{"prompt":"Write a short poem about GPUs sharing work."}"#.into(), 24),
        ("text", "Explain proof of stake in one sentence.".into(), 24),
        ("code", r#"{"fim_prefix":"fn add(a: i32, b: i32) -> i32 {\n    ","fim_suffix":"\n}\n"}"#.into(), 16),
        ("code", "// Rust\nfn fibonacci(n: u64) -> u64 {\n".into(), 16),
    ]
}

fn say(on: bool, line: impl AsRef<str>) {
    if on {
        eprintln!("{}", line.as_ref());
    }
}

/// A child process of the demo. Dropping it kills the process if it still runs, so an error
/// anywhere leaves nothing behind; the children also get SIGTERM if the demo itself dies.
struct Party {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Party {
    fn spawn(name: &str, exe: &Path, arg0: &str, args: &[&std::ffi::OsStr], logs: &Path) -> Result<Party, DemoError> {
        let log = logs.join(format!("{name}.log"));
        let err = std::fs::File::create(&log).map_err(io(format!("create {}", log.display())))?;
        let mut cmd = Command::new(exe);
        cmd.arg0(arg0).args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(err);
        // Each child logs to its own file at `info` (`CINDER_DEMO_LOG` overrides the filter).
        cmd.env("RUST_LOG", std::env::var("CINDER_DEMO_LOG").unwrap_or_else(|_| "info".into()));
        // SAFETY: prctl is async-signal-safe; it only sets this child's parent-death signal.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(io(format!("start {} ({arg0})", exe.display())))?;
        Ok(Party { name: name.into(), child, log })
    }

    /// SIGTERM, then up to `grace` for a clean exit, then SIGKILL.
    fn stop(mut self, grace: Duration) -> ProcessExit {
        let pid = self.child.id();
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: signalling our own child by pid.
            unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        }
        let deadline = Instant::now() + grace;
        let code = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status.code(),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
                _ => {
                    tracing::warn!(process = %self.name, "did not exit after SIGTERM; killing it");
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break None;
                }
            }
        };
        ProcessExit { name: self.name.clone(), pid, code, log: self.log.clone() }
    }
}

impl Drop for Party {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The last lines of a log, for error messages.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(8)..].join("\n")
}

/// Starts `cinder-localnet --bootstrap` and waits for its `ready` line. Its stdout is copied to
/// its log afterwards.
fn start_cluster(opts: &DemoOptions, dir: &Path, logs: &Path) -> Result<(Party, ClusterFile), DemoError> {
    let slot = opts.slot_ms.to_string();
    let verifiers = opts.verifiers.to_string();
    let cluster_dir = dir.join("cluster");
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "--rpc-port".as_ref(),
        "0".as_ref(),
        "--ws-port".as_ref(),
        "0".as_ref(),
        "--slot-ms".as_ref(),
        slot.as_ref(),
        "--verifiers".as_ref(),
        verifiers.as_ref(),
        "--bootstrap".as_ref(),
        cluster_dir.as_os_str(),
    ];
    if let Some(m) = &opts.model_dir {
        args.push("--model".as_ref());
        args.push(m.as_os_str());
    }
    let mut party = Party::spawn("localnet", &opts.exe, "cinder-localnet", &args, logs)?;
    let stdout = party.child.stdout.take().ok_or_else(|| DemoError::Setup("no stdout from cinder-localnet".into()))?;
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let out_log = logs.join("localnet.stdout.log");
    std::thread::spawn(move || {
        let mut copy = std::fs::File::create(&out_log).ok();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(f) = copy.as_mut() {
                let _ = writeln!(f, "{line}");
            }
            // The receiver goes away after `ready`; keep draining so the child never blocks.
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut cluster_file = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line == "ready" => break,
            Ok(line) => {
                if let Some(p) = line.strip_prefix("cluster_file: ") {
                    cluster_file = Some(PathBuf::from(p));
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                return Err(DemoError::Process("cinder-localnet was not ready after 300 s".into(), party.log.clone()))
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                let log = party.log.clone();
                return Err(DemoError::Process(format!("cinder-localnet exited early:\n{}", tail(&log)), log));
            }
        }
    }
    let path = cluster_file.ok_or_else(|| DemoError::Setup("cinder-localnet printed no cluster_file line".into()))?;
    Ok((party, ClusterFile::read(&path)?))
}

/// The client's content store served read-only over HTTP/1.1: `GET /v1/objects/<sha256 hex>`.
/// The workers fetch job inputs from it (and check the hash against the job).
async fn serve_store(listener: tokio::net::TcpListener, store: ContentStore) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    loop {
        let Ok((mut sock, peer)) = listener.accept().await else { continue };
        let store = store.clone();
        tokio::spawn(async move {
            let mut buf = Vec::with_capacity(1024);
            let mut chunk = [0u8; 1024];
            let head = loop {
                match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut chunk)).await {
                    Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
                    Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
                }
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break String::from_utf8_lossy(&buf[..end]).into_owned();
                }
                if buf.len() > 8 * 1024 {
                    return;
                }
            };
            let line = head.lines().next().unwrap_or("");
            let mut parts = line.split(' ');
            let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let (status, body): (&str, Vec<u8>) = if method != "GET" {
                ("405 Method Not Allowed", b"only GET\n".to_vec())
            } else {
                match target.strip_prefix("/v1/objects/").and_then(cinder_worker::store::parse_hex32) {
                    None => ("400 Bad Request", b"not /v1/objects/<sha256 hex>\n".to_vec()),
                    Some(h) => match store.get(&h) {
                        Some(b) => ("200 OK", b),
                        None => ("404 Not Found", b"no such object\n".to_vec()),
                    },
                }
            };
            tracing::debug!(%peer, %target, status, "client store request");
            let head = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/octet-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(&body).await;
            let _ = sock.shutdown().await;
        });
    }
}

/// What changes on-chain while the jobs progress: their accounts' bytes and their disputes'.
async fn fingerprint(chain: &RpcChain, jobs: &[(u64, String, Pubkey)]) -> Result<(usize, Vec<Vec<u8>>), DemoError> {
    let mut keys = vec![];
    for (_, _, job) in jobs {
        keys.push(*job);
        keys.push(cinder_sdk::verification::dispute_pda(job));
    }
    let accounts = chain.get_multiple_accounts(&keys).await?;
    let open = accounts.iter().filter(|a| a.is_some()).count();
    Ok((open, accounts.into_iter().map(|a| a.map(|a| a.data).unwrap_or_default()).collect()))
}

/// Runs the demo; the processes are stopped before it returns, whatever happened.
pub async fn run(opts: DemoOptions) -> Result<DemoRun, DemoError> {
    let p = opts.progress;
    let dir = &opts.work_dir;
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(io(format!("create {}", logs.display())))?;
    let dir = dir.canonicalize().map_err(io(format!("resolve {}", dir.display())))?;
    let logs = dir.join("logs");

    say(p, "• starting cinder-localnet (surfpool: escrow, staking, jobs, verification) and bootstrapping a market");
    let (cluster, cf) = tokio::task::block_in_place(|| start_cluster(&opts, &dir, &logs))?;
    say(p, format!("  RPC {}  websocket {}  market {}", cf.rpc_url, cf.ws_url, cf.market));

    if let Some(job) = opts.dishonest_job {
        // Job ids of a freshly bootstrapped market start at 0, so the index is the id.
        // A testing-build switch of the provider's settings (a release worker rejects the key).
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&cf.provider_settings)
            .map_err(io(format!("open {}", cf.provider_settings.display())))?;
        writeln!(f, "dishonest_job_ids = [{job}]").map_err(io("write the provider settings"))?;
    }
    let mut workers = vec![];
    let run_args = |settings: &Path| -> Vec<std::ffi::OsString> { vec!["run".into(), "-c".into(), settings.into()] };
    let a = run_args(&cf.provider_settings);
    let a: Vec<&std::ffi::OsStr> = a.iter().map(|s| s.as_os_str()).collect();
    workers.push(Party::spawn("provider", &opts.exe, "cinder-worker", &a, &logs)?);
    for (i, s) in cf.verifier_settings.iter().enumerate() {
        let a = run_args(s);
        let a: Vec<&std::ffi::OsStr> = a.iter().map(|s| s.as_os_str()).collect();
        workers.push(Party::spawn(&format!("verifier{i}"), &opts.exe, "cinder-worker", &a, &logs)?);
    }
    say(
        p,
        format!("• started the provider and {} verifier processes (logs in {})", cf.verifiers.len(), logs.display()),
    );

    let result = drive(&opts, &dir, &cf).await;
    // Stop the workers first (they talk to the cluster), then the cluster.
    let mut processes = vec![];
    let stopped = tokio::task::block_in_place(|| {
        for w in workers {
            processes.push(w.stop(Duration::from_secs(15)));
        }
        processes.push(cluster.stop(Duration::from_secs(15)));
        processes
    });
    say(p, "• stopped every process");
    let (summary, audit) = result?;
    Ok(DemoRun { summary, audit, processes: stopped })
}

/// The client's part, while the other processes run.
async fn drive(
    opts: &DemoOptions,
    dir: &Path,
    cf: &ClusterFile,
) -> Result<(DemoSummary, Result<cinder_cli::AuditReport, String>), DemoError> {
    let p = opts.progress;
    let chain = cinder_localnet::rpc_chain(&cf.rpc_url, &cf.ws_url);
    let parse = |s: &str, what: &str| {
        s.parse::<Pubkey>().map_err(|_| DemoError::Setup(format!("{what} `{s}` in cluster.json")))
    };
    let market_key = parse(&cf.market, "market")?;
    let client = cinder_sdk::util::read_keypair(&cf.client.keypair_path)
        .map_err(|e| DemoError::Setup(format!("client keypair: {e}")))?;
    let client_token = parse(&cf.client.token_account, "client token account")?;
    let market: Market = cinder_sdk::fetch(&chain, &market_key)
        .await?
        .ok_or_else(|| DemoError::Setup(format!("market {market_key} not found")))?;
    let keys = MarketKeys::from_market(market_key, &market);

    // The client's own store, served over HTTP for the workers.
    let store = ContentStore::open(dir.join("client-store")).map_err(io("open the client store"))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(io("bind the client's HTTP server"))?;
    let addr = listener.local_addr().map_err(io("client HTTP address"))?;
    let server = tokio::spawn(serve_store(listener, store.clone()));
    struct AbortOnDrop(tokio::task::JoinHandle<()>);
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let _server = AbortOnDrop(server);
    say(p, format!("• the client serves its inputs at http://{addr}/v1/objects/"));

    let terms = cinder_sdk::market_terms(&chain, &market_key)
        .await?
        .ok_or_else(|| DemoError::Setup("the market or the protocol config is missing".into()))?;
    let first_id = market.next_job_id;
    let mut jobs = vec![];
    for (i, (kind, doc, max_tokens)) in demo_inputs().iter().enumerate() {
        let hash = store.put(doc.as_bytes()).map_err(io("write the client store"))?;
        let job_id = first_id + i as u64;
        let args = jsdk::PostJobArgs {
            payment: TOKEN,
            input_hash: hash,
            input_uri: format!("http://{addr}/v1/objects/{}", cinder_worker::store::hex(&hash)),
            params: InferenceParams {
                max_tokens: *max_tokens,
                temperature_bits: 0,
                top_k: 0,
                top_p_bits: 1f32.to_bits(),
                seed: 42 + i as u64,
                dtype: 0,
            },
            designated: None,
            expected_terms: terms,
        };
        let ix = jsdk::post_job(client.pubkey(), client_token, &keys, job_id, args);
        let r = chain.send(&[ix], &client, &[]).await?;
        jobs.push((job_id, kind.to_string(), keys.job(job_id)));
        say(p, format!("• client posted job {job_id} ({kind}) paying 1 token  [{}]", &r.signature[..16]));
    }

    // Watch; when nothing has changed for a while, move the clock (challenge windows, voting
    // periods) with surfpool's time travel.
    let started = Instant::now();
    let quiet = Duration::from_secs(5);
    let mut last = fingerprint(&chain, &jobs).await?;
    let mut since = Instant::now();
    let mut time_travels = 0u32;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = fingerprint(&chain, &jobs).await?;
        if now.0 == 0 {
            say(p, format!("• every job settled after {:.0} s", started.elapsed().as_secs_f64()));
            break;
        }
        if now != last {
            last = now;
            since = Instant::now();
            continue;
        }
        if started.elapsed() > opts.timeout {
            return Err(DemoError::Stuck(opts.timeout, dir.join("logs")));
        }
        if since.elapsed() >= quiet {
            let t = chain.unix_timestamp().await?;
            cinder_localnet::time_travel(&chain, t + 61).await?;
            time_travels += 1;
            say(p, format!("  … {} account(s) open and nothing moving; cluster clock +61 s (time travel)", now.0));
            since = Instant::now();
        }
    }

    // The pool admin moves the treasury's share of slashes (kept in the stake vault) to the
    // treasury's token account.
    let pool: Option<StakePool> = cinder_sdk::fetch(&chain, &market.pool).await?;
    let admin = cinder_sdk::util::read_keypair(&cf.admin.keypair_path)
        .map_err(|e| DemoError::Setup(format!("admin keypair: {e}")))?;
    if let Some(pool) = pool.filter(|p| p.treasury_accrued > 0) {
        let pk = PoolKeys::new(pool.creator, pool.mint, pool.token_program);
        let ix = cinder_sdk::staking::withdraw_treasury(&pk, admin.pubkey(), pool.treasury);
        chain.send(&[ix], &admin, &[]).await?;
        say(p, "• the pool admin withdrew the treasury's share of the slash");
    }

    // The provider's store, for the output texts (the data plane of issue C serves them over HTTP).
    let provider_store =
        cinder_worker::Settings::load(&cf.provider_settings).ok().and_then(|s| ContentStore::open(s.store_dir).ok());
    let mut out = vec![];
    for (id, kind, key) in &jobs {
        let mut s = JobSummary {
            job_id: *id,
            job: key.to_string(),
            kind: kind.clone(),
            outcome: "unsettled".into(),
            payment: TOKEN,
            paid_to_provider: 0,
            fee: 0,
            slashed: 0,
            challenger_reward: 0,
            refunded: 0,
            rent_returned: 0,
            output_text: None,
        };
        for sig in chain.signatures_for_address(key).await? {
            let logs = chain.transaction_logs(&sig).await?.unwrap_or_default();
            for e in decode::<JobFinalized>(&logs).into_iter().filter(|e| e.job == *key) {
                (s.outcome, s.paid_to_provider, s.fee, s.rent_returned) =
                    ("finalized".into(), e.to_provider, e.fee, e.rent_returned);
            }
            for e in decode::<JobSlashed>(&logs).into_iter().filter(|e| e.job == *key) {
                s.outcome = "provider slashed (wrong result)".into();
                (s.slashed, s.challenger_reward, s.refunded, s.rent_returned) =
                    (e.slashed, e.challenger_reward, e.refunded, e.rent_returned);
            }
            for e in decode::<JobExpired>(&logs).into_iter().filter(|e| e.job == *key) {
                s.outcome = "expired".into();
                (s.slashed, s.refunded, s.rent_returned) = (e.slashed, e.refunded, e.rent_returned);
            }
            for e in decode::<ResultRecorded>(&logs).into_iter().filter(|e| e.job == *key) {
                let doc = e
                    .output_uri
                    .strip_prefix("cas://")
                    .and_then(cinder_worker::store::parse_hex32)
                    .and_then(|h| provider_store.as_ref().and_then(|st| st.get(&h)));
                s.output_text = doc
                    .and_then(|b| serde_json::from_slice::<cinder_worker::engine::OutputDoc>(&b).ok())
                    .map(|d| d.text);
            }
        }
        out.push(s);
    }
    let bal = |k: &str| {
        let chain = &chain;
        let k = k.parse::<Pubkey>();
        async move {
            let k = k.map_err(|_| DemoError::Setup("a token account in cluster.json is not a key".into()))?;
            let a = chain.get_account(&k).await?.map(|a| a.data).unwrap_or_default();
            Ok::<u64, DemoError>(cinder_sdk::util::token_amount(&a).unwrap_or(0))
        }
    };
    let provider_key = parse(&cf.provider.pubkey, "provider")?;
    let stake: Option<ProviderStake> = cinder_sdk::fetch(&chain, &keys.stake(&provider_key)).await?;
    let summary = DemoSummary {
        market: cf.market.clone(),
        mint: cf.mint.clone(),
        model_id: cf.model_id.clone(),
        provider: cf.provider.pubkey.clone(),
        rpc_url: cf.rpc_url.clone(),
        jobs: out,
        client_balance: bal(&cf.client.token_account).await?,
        provider_balance: bal(&cf.provider.token_account).await?,
        treasury_balance: bal(&cf.treasury_token).await?,
        provider_stake: stake.map(|s| s.active).unwrap_or(0),
        time_travels,
        generated_model: opts.model_dir.is_none(),
    };
    say(p, "• auditing the cluster over RPC");
    let audit = cinder_cli::audit(&chain).await.map_err(|e| format!("{e:#}"));
    Ok((summary, audit))
}

fn tokens(raw: u64) -> String {
    format!("{}.{:06}", raw / TOKEN, raw % TOKEN)
}

/// The summary as a table (amounts in tokens).
pub fn render_table(s: &DemoSummary) -> String {
    let mut out = String::new();
    out.push_str(&format!("market {}  model {}\n\n", s.market, &s.model_id[..16.min(s.model_id.len())]));
    out.push_str(&format!(
        "{:<4} {:<5} {:<32} {:>10} {:>10} {:>10} {:>10} {:>10} {:>12}\n",
        "job", "kind", "outcome", "payment", "payout", "fee", "slash", "refund", "rent back"
    ));
    for j in &s.jobs {
        out.push_str(&format!(
            "{:<4} {:<5} {:<32} {:>10} {:>10} {:>10} {:>10} {:>10} {:>12}\n",
            j.job_id,
            j.kind,
            j.outcome,
            tokens(j.payment),
            tokens(j.paid_to_provider),
            tokens(j.fee),
            tokens(j.slashed),
            tokens(j.refunded),
            format!("{} lamports", j.rent_returned),
        ));
    }
    out.push_str(&format!(
        "\nbalances: client {}  provider {} (stake {})  treasury {}\n",
        tokens(s.client_balance),
        tokens(s.provider_balance),
        tokens(s.provider_stake),
        tokens(s.treasury_balance)
    ));
    out.push_str(&format!("the cluster clock was moved forward {} time(s) (61 s each)\n", s.time_travels));
    if s.generated_model {
        out.push_str(
            "(the generated test model has random weights: its text is noise, but it is the same on every run)\n",
        );
    }
    for j in s.jobs.iter().filter(|j| j.output_text.is_some()) {
        let text: String = j.output_text.as_deref().unwrap_or("").chars().take(60).collect();
        out.push_str(&format!("output of job {}: {:?}\n", j.job_id, text));
    }
    out
}
