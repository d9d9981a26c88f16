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
//!
//! The pieces are public so that tests can put them together differently: the chaos test
//! (`tests/demo.rs`) puts a fault-injecting RPC proxy ([`proxy`]) between the workers and the
//! validator and kills and restarts workers at random ([`chaos`]).
pub mod chaos;
pub mod proxy;

use std::{
    io::{BufRead, BufReader, Write},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anchor_lang::prelude::Pubkey;
use cinder_jobs::{JobClaimed, JobExpired, JobFinalized, JobSlashed, Market, ResultRecorded};
use cinder_localnet::ClusterFile;
use cinder_sdk::{
    chain::{rpc::RpcChain, Chain},
    events::decode,
    jobs::MarketKeys,
    staking::PoolKeys,
};
use cinder_staking::{ProviderStake, StakePool};
use cinder_verification::{
    Dispute, DisputeOpened, DisputeOutcome, DisputeResolved, QuorumDrawn, VoteCommitted, VoteRevealed, VoteSettled,
};
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
    /// Where the workers fetched its input (the client's server, or the provider's endpoint).
    pub input_uri: String,
    /// The output, as `cinder job result` fetched it (finalized jobs).
    pub output_text: Option<String>,
    /// Where it came from (the provider's endpoint URL).
    pub output_source: Option<String>,
    /// Whether its hash and its recomputed commitment match the chain.
    pub output_verified: bool,
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
/// anywhere leaves nothing behind; the children also get SIGTERM if the thread that started them
/// ends (`PR_SET_PDEATHSIG` follows the spawning thread, not the process: start children from a
/// thread that outlives them).
pub struct Party {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Party {
    /// Starts `exe` as `arg0` with `args`; stderr is appended to `logs/<name>.log` (a restarted
    /// process keeps one log), stdout is piped.
    pub fn spawn(
        name: &str,
        exe: &Path,
        arg0: &str,
        args: &[&std::ffi::OsStr],
        logs: &Path,
    ) -> Result<Party, DemoError> {
        let log = logs.join(format!("{name}.log"));
        let err = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(io(format!("open {}", log.display())))?;
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

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    /// `Some(status code)` (`None` inside: died of a signal) once the process has exited.
    pub fn exited(&mut self) -> Option<Option<i32>> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.code()),
            _ => None,
        }
    }

    /// SIGKILL (no chance to clean up: a crash), and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then up to `grace` for a clean exit, then SIGKILL.
    pub fn stop(mut self, grace: Duration) -> ProcessExit {
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

/// Creates `work_dir/logs` and returns the canonical work directory and its `logs`.
pub fn prepare_work_dir(work_dir: &Path) -> Result<(PathBuf, PathBuf), DemoError> {
    let logs = work_dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(io(format!("create {}", logs.display())))?;
    let dir = work_dir.canonicalize().map_err(io(format!("resolve {}", work_dir.display())))?;
    let logs = dir.join("logs");
    Ok((dir, logs))
}

/// Starts `cinder-localnet --bootstrap dir/cluster` and waits for its `ready` line (blocking; from
/// async code call it in `block_in_place`). Its stdout is copied to `logs/localnet.stdout.log`.
pub fn start_cluster(opts: &DemoOptions, dir: &Path, logs: &Path) -> Result<(Party, ClusterFile), DemoError> {
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

/// Makes the provider dishonest for job `job_id`: the testing-build switch of its settings (a
/// release worker rejects the key).
pub fn set_dishonest(cf: &ClusterFile, job_ids: &[u64]) -> Result<(), DemoError> {
    let ids: Vec<String> = job_ids.iter().map(u64::to_string).collect();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&cf.provider_settings)
        .map_err(io(format!("open {}", cf.provider_settings.display())))?;
    writeln!(f, "dishonest_job_ids = [{}]", ids.join(", ")).map_err(io("write the provider settings"))
}

/// Points every worker's settings at `rpc_url` (e.g. a proxy) and removes `ws_url`: the workers
/// poll over HTTP, so every byte they exchange with the cluster goes through `rpc_url`.
pub fn point_workers_at(cf: &ClusterFile, rpc_url: &str) -> Result<(), DemoError> {
    for path in std::iter::once(&cf.provider_settings).chain(&cf.verifier_settings) {
        let text = std::fs::read_to_string(path).map_err(io(format!("read {}", path.display())))?;
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            let key = line.split('=').next().unwrap_or("").trim();
            match key {
                "ws_url" => continue,
                "rpc_url" => out.push_str(&format!("rpc_url = {rpc_url:?}\n")),
                _ => {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        std::fs::write(path, out).map_err(io(format!("write {}", path.display())))?;
    }
    Ok(())
}

/// The line written into a worker's log before each restart.
const RESTART_MARKER: &str = "--- cinder-demo: start";

/// A `cinder-worker run -c <settings>` process that can be killed and started again with the same
/// settings (the same keypair, journal and store).
pub struct WorkerProcess {
    pub name: String,
    pub settings: PathBuf,
    exe: PathBuf,
    logs: PathBuf,
    party: Option<Party>,
    /// Times it was started (1 + restarts).
    pub starts: u32,
}

impl WorkerProcess {
    pub fn start(name: &str, exe: &Path, settings: &Path, logs: &Path) -> Result<WorkerProcess, DemoError> {
        let mut w = WorkerProcess {
            name: name.into(),
            settings: settings.into(),
            exe: exe.into(),
            logs: logs.into(),
            party: None,
            starts: 0,
        };
        w.spawn()?;
        Ok(w)
    }

    fn spawn(&mut self) -> Result<(), DemoError> {
        let args: [&std::ffi::OsStr; 3] = ["run".as_ref(), "-c".as_ref(), self.settings.as_os_str()];
        self.party = Some(Party::spawn(&self.name, &self.exe, "cinder-worker", &args, &self.logs)?);
        self.starts += 1;
        Ok(())
    }

    pub fn log(&self) -> PathBuf {
        self.logs.join(format!("{}.log", self.name))
    }

    /// `Some(code)` when the current process has exited on its own.
    pub fn exited(&mut self) -> Option<Option<i32>> {
        self.party.as_mut().and_then(Party::exited)
    }

    /// SIGKILL, as a crash would: no shutdown path runs.
    pub fn kill(&mut self) {
        if let Some(p) = self.party.as_mut() {
            p.kill();
        }
    }

    /// Starts it again with the same settings (after [`WorkerProcess::kill`] or an exit).
    pub fn restart(&mut self) -> Result<(), DemoError> {
        if let Some(mut p) = self.party.take() {
            p.kill();
        }
        // A marker in the log between two lives of the process.
        if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(self.log()) {
            let _ = writeln!(
                f,
                "{RESTART_MARKER} {} of {} (same settings, journal and store) ---",
                self.starts + 1,
                self.name
            );
        }
        self.spawn()
    }

    /// Waits (up to `limit`) until the current life of the process has logged `connected`: its
    /// signal handlers are installed from then on, and a SIGTERM before that ends it by the
    /// signal's default action rather than a clean exit. `false` if it did not within `limit`.
    pub fn wait_started(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            let text = std::fs::read_to_string(self.log()).unwrap_or_default();
            let life = text.rfind(RESTART_MARKER).map(|i| &text[i..]).unwrap_or(&text);
            if life.contains("\"connected\"") || life.contains(" connected") {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then up to `grace` for a clean exit.
    pub fn stop(mut self, grace: Duration) -> ProcessExit {
        match self.party.take() {
            Some(p) => p.stop(grace),
            None => ProcessExit { name: self.name.clone(), pid: 0, code: None, log: self.log() },
        }
    }
}

/// Starts the provider and one worker per verifier settings file.
pub fn start_workers(exe: &Path, cf: &ClusterFile, logs: &Path) -> Result<Vec<WorkerProcess>, DemoError> {
    let mut workers = vec![WorkerProcess::start("provider", exe, &cf.provider_settings, logs)?];
    for (i, s) in cf.verifier_settings.iter().enumerate() {
        workers.push(WorkerProcess::start(&format!("verifier{i}"), exe, s, logs)?);
    }
    Ok(workers)
}

/// A job the client posted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostedJob {
    pub job_id: u64,
    pub kind: String,
    pub key: Pubkey,
    /// Where the workers fetch its input.
    pub input_uri: String,
}

/// When the client moves the cluster clock (surfpool time travel) while it waits for the jobs.
#[derive(Clone, Copy, Debug)]
pub struct ClockPolicy {
    /// Move it once nothing has changed on-chain for this long.
    pub quiet: Duration,
    /// Seconds added per move.
    pub step_secs: i64,
    /// A job or dispute whose account changed less than this long ago (wall time) keeps the clock
    /// at or before its next deadline (open timeout, result deadline, challenge window end, draw
    /// deadline, commit or reveal end): every phase lasts at least this long in real time, so a
    /// worker that was down gets to act before time travel makes it too late. Zero: no limit.
    pub min_phase: Duration,
}

impl Default for ClockPolicy {
    fn default() -> Self {
        ClockPolicy { quiet: Duration::from_secs(5), step_secs: 61, min_phase: Duration::ZERO }
    }
}

/// The next second after which the job's current phase is over (`None`: no deadline of its own).
fn job_deadline(job: &cinder_jobs::Job) -> Option<i64> {
    use cinder_jobs::JobStatus;
    match job.status {
        JobStatus::Open => Some(job.posted_at.saturating_add(job.job_timeout_secs)),
        JobStatus::Claimed => Some(job.deadline),
        JobStatus::Submitted => Some(job.window_end),
        JobStatus::Challenged => None,
    }
}

fn dispute_deadline(d: &Dispute, now: i64) -> Option<i64> {
    if d.outcome != DisputeOutcome::Pending {
        return None;
    }
    if !d.drawn() {
        Some(d.draw_deadline)
    } else if now <= d.commit_end {
        Some(d.commit_end)
    } else {
        Some(d.reveal_end)
    }
}

/// The client (a dApp): its keypair, its content store served over HTTP for the workers, and an
/// RPC connection straight to the validator.
/// How a demo job's input reaches the workers.
#[derive(Clone, Copy, Debug)]
pub enum Delivery {
    /// The client serves it from its own HTTP server (`--input-uri http://…/{sha256}`).
    ClientServer,
    /// In the posting transaction (`post_job_inline`; public).
    Inline,
    /// A job only this provider may take, its input uploaded to the provider's endpoint.
    UploadTo(Pubkey),
}

/// What `cinder job result` told the client.
pub struct JobResult {
    pub text: String,
    pub source: String,
    pub verified: bool,
}

pub struct Client {
    pub chain: RpcChain,
    pub market_key: Pubkey,
    pub market: Market,
    pub keys: MarketKeys,
    token: Pubkey,
    pub store: ContentStore,
    /// `127.0.0.1:<port>` of the store's HTTP server.
    pub addr: std::net::SocketAddr,
    server: tokio::task::JoinHandle<()>,
    keypair_path: PathBuf,
    store_dir: PathBuf,
    progress: bool,
}

impl Drop for Client {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn parse_key(s: &str, what: &str) -> Result<Pubkey, DemoError> {
    s.parse::<Pubkey>().map_err(|_| DemoError::Setup(format!("{what} `{s}` in cluster.json")))
}

impl Client {
    /// Connects to the cluster `cf` describes and serves `dir/client-store` on 127.0.0.1.
    pub async fn connect(cf: &ClusterFile, dir: &Path, progress: bool) -> Result<Client, DemoError> {
        let chain = cinder_localnet::rpc_chain(&cf.rpc_url, &cf.ws_url);
        let market_key = parse_key(&cf.market, "market")?;
        // Read once here so a bad keypair file fails before anything is posted.
        cinder_sdk::util::read_keypair(&cf.client.keypair_path)
            .map_err(|e| DemoError::Setup(format!("client keypair: {e}")))?;
        let token = parse_key(&cf.client.token_account, "client token account")?;
        let market: Market = cinder_sdk::fetch(&chain, &market_key)
            .await?
            .ok_or_else(|| DemoError::Setup(format!("market {market_key} not found")))?;
        let keys = MarketKeys::from_market(market_key, &market);
        let store_dir = dir.join("client-store");
        let store = ContentStore::open(&store_dir).map_err(io("open the client store"))?;
        let listener =
            tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(io("bind the client's HTTP server"))?;
        let addr = listener.local_addr().map_err(io("client HTTP address"))?;
        let server_store = store.clone();
        let server = tokio::spawn(async move {
            if let Err(e) = cinder_worker::http::serve_read_only(listener, server_store).await {
                tracing::warn!(error = %e, "the client's object server stopped");
            }
        });
        say(progress, format!("• the client serves its inputs at http://{addr}/v1/objects/"));
        let keypair_path = cf.client.keypair_path.clone();
        Ok(Client { chain, market_key, market, keys, token, store, addr, server, keypair_path, store_dir, progress })
    }

    /// The `cinder` settings of this client: its keypair, its own store, the cluster's RPC.
    fn cli_ctx(&self) -> cinder_cli::cli::Ctx {
        cinder_cli::cli::Ctx {
            url: self.chain.url().to_owned(),
            ws_url: String::new(),
            commitment: cinder_sdk::chain::rpc::Commitment::Confirmed,
            keypair_path: self.keypair_path.clone(),
            store: cinder_cli::store::Store::new(self.store_dir.clone()),
            output: cinder_cli::cli::OutputFormat::Json,
        }
    }

    /// `cinder job result JOB`: the output fetched from where the provider published it (its
    /// endpoint), checked against the on-chain output hash and commitment.
    pub async fn result(&self, job: &Pubkey) -> Result<JobResult, DemoError> {
        use cinder_cli::commands::job::result::{self, ResultArgs};
        let out = result::run(&ResultArgs { job: *job }, &self.cli_ctx(), &self.chain)
            .await
            .map_err(|e| DemoError::Setup(format!("job result {job}: {e:#}")))?;
        Ok(JobResult {
            text: out.json["output"].as_str().unwrap_or_default().to_owned(),
            source: out.json["source"].as_str().unwrap_or_default().to_owned(),
            verified: out.json["match"] == serde_json::json!(true),
        })
    }

    /// Posts a job (paying 1 token) whose input `doc` the client serves; `seed` is the sampling
    /// seed. Returns it with its id (read from the market's counter).
    pub async fn post(&self, kind: &str, doc: &str, max_tokens: u32, seed: u64) -> Result<PostedJob, DemoError> {
        self.post_to(kind, doc, max_tokens, seed, Delivery::ClientServer).await
    }

    /// [`Client::post`] with the input delivered as `delivery` says.
    pub async fn post_to(
        &self,
        kind: &str,
        doc: &str,
        max_tokens: u32,
        seed: u64,
        delivery: Delivery,
    ) -> Result<PostedJob, DemoError> {
        let designated = match delivery {
            Delivery::UploadTo(p) => Some(p),
            _ => None,
        };
        use cinder_cli::{
            cli::InferenceArgs,
            commands::job::post::{self, PostArgs},
        };
        // The same code path as `cinder job post --input-uri http://…/{sha256}`.
        let ctx = self.cli_ctx();
        let args = PostArgs {
            market: self.market_key,
            prompt: Some(doc.to_owned()),
            file: None,
            payment: Some(TOKEN),
            inference: InferenceArgs { max_tokens, temperature: 0.0, top_k: 0, top_p: 1.0, seed, dtype: 0 },
            provider: designated,
            token_account: Some(self.token),
            input_uri: match delivery {
                Delivery::ClientServer => Some(format!("http://{}/v1/objects/{{sha256}}", self.addr)),
                _ => None,
            },
            no_upload: false,
            no_inline: matches!(delivery, Delivery::UploadTo(_)),
        };
        let out =
            post::run(&args, &ctx, &self.chain).await.map_err(|e| DemoError::Setup(format!("job post: {e:#}")))?;
        let job_id =
            out.json["job_id"].as_u64().ok_or_else(|| DemoError::Setup(format!("job post said {}", out.json)))?;
        let sig = out.json["signature"].as_str().unwrap_or_default();
        say(
            self.progress,
            format!("• client posted job {job_id} ({kind}) paying 1 token  [{}]", &sig[..16.min(sig.len())]),
        );
        let input_uri = out.json["input_uri"].as_str().unwrap_or_default().to_owned();
        if let Some(to) = out.json["uploaded_to"].as_str() {
            say(self.progress, format!("  … its input was uploaded to the provider: {to}"));
        }
        Ok(PostedJob { job_id, kind: kind.into(), key: self.keys.job(job_id), input_uri })
    }

    /// The jobs' and their disputes' accounts (job, dispute, job, dispute, ...).
    async fn snapshot(&self, jobs: &[PostedJob]) -> Result<Vec<Option<Vec<u8>>>, DemoError> {
        let mut keys = vec![];
        for j in jobs {
            keys.push(j.key);
            keys.push(cinder_sdk::verification::dispute_pda(&j.key));
        }
        let accounts = self.chain.get_multiple_accounts(&keys).await?;
        Ok(accounts.into_iter().map(|a| a.map(|a| a.data)).collect())
    }

    /// Waits until every job account and dispute account is closed, moving the cluster clock as
    /// `clock` says whenever nothing happens (challenge windows are minutes long). Returns the
    /// number of clock moves; [`DemoError::Stuck`] after `timeout`.
    pub async fn settle(
        &self,
        jobs: &[PostedJob],
        clock: ClockPolicy,
        timeout: Duration,
        logs: &Path,
    ) -> Result<u32, DemoError> {
        let started = Instant::now();
        let mut last = self.snapshot(jobs).await?;
        let mut changed_at = vec![Instant::now(); last.len()];
        let mut since = Instant::now();
        let mut time_travels = 0u32;
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = self.snapshot(jobs).await?;
            let open = now.iter().filter(|a| a.is_some()).count();
            if open == 0 {
                say(self.progress, format!("• every job settled after {:.0} s", started.elapsed().as_secs_f64()));
                return Ok(time_travels);
            }
            if now != last {
                for (i, (a, b)) in now.iter().zip(&last).enumerate() {
                    if a != b {
                        changed_at[i] = Instant::now();
                    }
                }
                last = now;
                since = Instant::now();
                continue;
            }
            if started.elapsed() > timeout {
                return Err(DemoError::Stuck(timeout, logs.into()));
            }
            if since.elapsed() < clock.quiet {
                continue;
            }
            let t = self.chain.unix_timestamp().await?;
            let mut target = t + clock.step_secs;
            for (i, data) in now.iter().enumerate() {
                let Some(data) = data.as_deref() else { continue };
                if changed_at[i].elapsed() >= clock.min_phase {
                    continue;
                }
                let deadline = if i % 2 == 0 {
                    cinder_sdk::decode::<cinder_jobs::Job>(data).and_then(|j| job_deadline(&j))
                } else {
                    cinder_sdk::decode::<Dispute>(data).and_then(|d| dispute_deadline(&d, t))
                };
                if let Some(d) = deadline.filter(|d| *d >= t) {
                    target = target.min(d);
                }
            }
            if target <= t {
                // A young phase ends now: let it age before the clock passes it.
                continue;
            }
            cinder_localnet::time_travel(&self.chain, target).await?;
            time_travels += 1;
            say(
                self.progress,
                format!("  … {open} account(s) open and nothing moving; cluster clock +{} s (time travel)", target - t),
            );
            since = Instant::now();
        }
    }

    /// The pool admin moves the treasury's share of slashes (kept in the stake vault) to the
    /// treasury's token account; `true` if there was any.
    pub async fn withdraw_treasury(&self, cf: &ClusterFile) -> Result<bool, DemoError> {
        let pool: Option<StakePool> = cinder_sdk::fetch(&self.chain, &self.market.pool).await?;
        let admin = cinder_sdk::util::read_keypair(&cf.admin.keypair_path)
            .map_err(|e| DemoError::Setup(format!("admin keypair: {e}")))?;
        let Some(pool) = pool.filter(|p| p.treasury_accrued > 0) else { return Ok(false) };
        let pk = PoolKeys::new(pool.creator, pool.mint, pool.token_program);
        let ix = cinder_sdk::staking::withdraw_treasury(&pk, admin.pubkey(), pool.treasury);
        self.chain.send(&[ix], &admin, &[]).await?;
        say(self.progress, "• the pool admin withdrew the treasury's share of the slash");
        Ok(true)
    }

    /// A token account's balance (raw units; 0 when it does not exist).
    pub async fn token_balance(&self, account: &str) -> Result<u64, DemoError> {
        let k = parse_key(account, "token account")?;
        let a = self.chain.get_account(&k).await?.map(|a| a.data).unwrap_or_default();
        Ok(cinder_sdk::util::token_amount(&a).unwrap_or(0))
    }

    /// `owner`'s stake account in the market's pool.
    pub async fn stake(&self, owner: &Pubkey) -> Result<Option<ProviderStake>, DemoError> {
        Ok(cinder_sdk::fetch(&self.chain, &self.keys.stake(owner)).await?)
    }

    /// The summary of the finished jobs, from their events, and the balances.
    pub async fn summary(
        &self,
        cf: &ClusterFile,
        jobs: &[PostedJob],
        time_travels: u32,
        generated_model: bool,
    ) -> Result<DemoSummary, DemoError> {
        let chain = &self.chain;
        let mut out = vec![];
        for j in jobs {
            let key = &j.key;
            let mut s = JobSummary {
                job_id: j.job_id,
                job: key.to_string(),
                kind: j.kind.clone(),
                outcome: "unsettled".into(),
                payment: TOKEN,
                paid_to_provider: 0,
                fee: 0,
                slashed: 0,
                challenger_reward: 0,
                refunded: 0,
                rent_returned: 0,
                input_uri: j.input_uri.clone(),
                output_text: None,
                output_source: None,
                output_verified: false,
            };
            let mut has_result = false;
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
                has_result |= decode::<ResultRecorded>(&logs).iter().any(|e| e.job == *key);
            }
            if has_result && s.outcome == "finalized" {
                // Fetched over HTTP from the provider's endpoint and checked, as a dApp would.
                let r = self.result(key).await?;
                (s.output_text, s.output_source, s.output_verified) = (Some(r.text), Some(r.source), r.verified);
            }
            out.push(s);
        }
        let provider_key = parse_key(&cf.provider.pubkey, "provider")?;
        let stake = self.stake(&provider_key).await?;
        Ok(DemoSummary {
            market: cf.market.clone(),
            mint: cf.mint.clone(),
            model_id: cf.model_id.clone(),
            provider: cf.provider.pubkey.clone(),
            rpc_url: cf.rpc_url.clone(),
            jobs: out,
            client_balance: self.token_balance(&cf.client.token_account).await?,
            provider_balance: self.token_balance(&cf.provider.token_account).await?,
            treasury_balance: self.token_balance(&cf.treasury_token).await?,
            provider_stake: stake.map(|s| s.active).unwrap_or(0),
            time_travels,
            generated_model,
        })
    }

    /// `cinder audit`, over RPC.
    pub async fn audit(&self) -> Result<cinder_cli::AuditReport, String> {
        say(self.progress, "• auditing the cluster over RPC");
        cinder_cli::audit(&self.chain).await.map_err(|e| format!("{e:#}"))
    }
}

/// Every Cinder event of one job and of its dispute, from `getSignaturesForAddress` of both
/// accounts and the transactions' logs (successful transactions only).
#[derive(Default)]
pub struct JobEvents {
    pub claimed: Vec<JobClaimed>,
    pub results: Vec<ResultRecorded>,
    pub finalized: Vec<JobFinalized>,
    pub slashed: Vec<JobSlashed>,
    pub expired: Vec<JobExpired>,
    pub disputes_opened: Vec<DisputeOpened>,
    pub drawn: Vec<QuorumDrawn>,
    pub commits: Vec<VoteCommitted>,
    pub reveals: Vec<VoteRevealed>,
    pub resolved: Vec<DisputeResolved>,
    pub votes_settled: Vec<VoteSettled>,
}

impl std::fmt::Debug for JobEvents {
    /// The counts (the event types have no `Debug`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobEvents")
            .field("claimed", &self.claimed.len())
            .field("results", &self.results.len())
            .field("finalized", &self.finalized.len())
            .field("slashed", &self.slashed.len())
            .field("expired", &self.expired.len())
            .field("disputes_opened", &self.disputes_opened.len())
            .field("drawn", &self.drawn.len())
            .field("commits", &self.commits.len())
            .field("reveals", &self.reveals.len())
            .field("resolved", &self.resolved.len())
            .field("votes_settled", &self.votes_settled.len())
            .finish()
    }
}

impl JobEvents {
    /// JobFinalized + JobSlashed + JobExpired: exactly one for a settled job.
    pub fn terminal(&self) -> usize {
        self.finalized.len() + self.slashed.len() + self.expired.len()
    }
}

/// Collects [`JobEvents`] for `job`. A transaction appears in both address histories at most
/// once per address; the job's events are taken from the job's history and the dispute's from the
/// dispute's, each filtered by its key, so nothing is counted twice.
pub async fn job_events(chain: &RpcChain, job: &Pubkey) -> Result<JobEvents, DemoError> {
    let dispute = cinder_sdk::verification::dispute_pda(job);
    let mut ev = JobEvents::default();
    for sig in chain.signatures_for_address(job).await? {
        let logs = chain.transaction_logs(&sig).await?.unwrap_or_default();
        ev.claimed.extend(decode::<JobClaimed>(&logs).into_iter().filter(|e| e.job == *job));
        ev.results.extend(decode::<ResultRecorded>(&logs).into_iter().filter(|e| e.job == *job));
        ev.finalized.extend(decode::<JobFinalized>(&logs).into_iter().filter(|e| e.job == *job));
        ev.slashed.extend(decode::<JobSlashed>(&logs).into_iter().filter(|e| e.job == *job));
        ev.expired.extend(decode::<JobExpired>(&logs).into_iter().filter(|e| e.job == *job));
    }
    for sig in chain.signatures_for_address(&dispute).await? {
        let logs = chain.transaction_logs(&sig).await?.unwrap_or_default();
        ev.disputes_opened.extend(decode::<DisputeOpened>(&logs).into_iter().filter(|e| e.dispute == dispute));
        ev.drawn.extend(decode::<QuorumDrawn>(&logs).into_iter().filter(|e| e.dispute == dispute));
        ev.commits.extend(decode::<VoteCommitted>(&logs).into_iter().filter(|e| e.dispute == dispute));
        ev.reveals.extend(decode::<VoteRevealed>(&logs).into_iter().filter(|e| e.dispute == dispute));
        ev.resolved.extend(decode::<DisputeResolved>(&logs).into_iter().filter(|e| e.dispute == dispute));
        ev.votes_settled.extend(decode::<VoteSettled>(&logs).into_iter().filter(|e| e.dispute == dispute));
    }
    Ok(ev)
}

/// Runs the demo; the processes are stopped before it returns, whatever happened.
pub async fn run(opts: DemoOptions) -> Result<DemoRun, DemoError> {
    let p = opts.progress;
    let (dir, logs) = prepare_work_dir(&opts.work_dir)?;

    say(p, "• starting cinder-localnet (surfpool: escrow, staking, jobs, verification) and bootstrapping a market");
    let (cluster, cf) = tokio::task::block_in_place(|| start_cluster(&opts, &dir, &logs))?;
    say(p, format!("  RPC {}  websocket {}  market {}", cf.rpc_url, cf.ws_url, cf.market));

    if let Some(job) = opts.dishonest_job {
        // Job ids of a freshly bootstrapped market start at 0, so the index is the id.
        set_dishonest(&cf, &[job])?;
    }
    let workers = start_workers(&opts.exe, &cf, &logs)?;
    say(
        p,
        format!("• started the provider and {} verifier processes (logs in {})", cf.verifiers.len(), logs.display()),
    );

    let result = drive(&opts, &dir, &logs, &cf).await;
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
    logs: &Path,
    cf: &ClusterFile,
) -> Result<(DemoSummary, Result<cinder_cli::AuditReport, String>), DemoError> {
    let client = Client::connect(cf, dir, opts.progress).await?;
    let mut jobs = vec![];
    for (i, (kind, doc, max_tokens)) in demo_inputs().iter().enumerate() {
        // Jobs 0 and 1 are served by the client; job 2 travels inline; job 3 names the provider
        // and its input is uploaded to the provider's endpoint (PUT).
        let delivery = match i {
            2 => Delivery::Inline,
            3 => Delivery::UploadTo(parse_key(&cf.provider.pubkey, "provider")?),
            _ => Delivery::ClientServer,
        };
        jobs.push(client.post_to(kind, doc, *max_tokens, 42 + i as u64, delivery).await?);
    }
    // Watch; when nothing has changed for a while, move the clock (challenge windows, voting
    // periods) with surfpool's time travel.
    let time_travels = client.settle(&jobs, ClockPolicy::default(), opts.timeout, logs).await?;
    client.withdraw_treasury(cf).await?;
    let summary = client.summary(cf, &jobs, time_travels, opts.model_dir.is_none()).await?;
    let audit = client.audit().await;
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
        let check = if j.output_verified { "hash and commitment match" } else { "MISMATCH" };
        out.push_str(&format!("output of job {}: {:?}\n", j.job_id, text));
        out.push_str(&format!("  from {} ({check})\n", j.output_source.as_deref().unwrap_or("?")));
    }
    out
}
