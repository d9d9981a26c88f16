//! The demo end to end, every party its own process: outcomes, balances, the audit over RPC and
//! clean exits through the library, and the binary's JSON output.
use cinder_demo::{DemoOptions, TOKEN};

fn exe() -> std::path::PathBuf {
    env!("CARGO_BIN_EXE_cinder-demo").into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_processes_settle_every_job_slash_the_dishonest_provider_and_balance() {
    let dir = tempfile::tempdir().unwrap();
    let run = cinder_demo::run(DemoOptions::new(exe(), dir.path().into())).await.expect("demo runs");
    let s = &run.summary;
    let fee = TOKEN * 250 / 10_000;
    let collateral = cinder_demo::market_params().collateral;
    let reward = collateral * 4_000 / 10_000;
    let outcomes: Vec<&str> = s.jobs.iter().map(|j| j.outcome.as_str()).collect();
    assert_eq!(outcomes, ["finalized", "provider slashed (wrong result)", "finalized", "finalized"]);
    for (i, j) in s.jobs.iter().enumerate() {
        if i == 1 {
            assert_eq!((j.refunded, j.slashed, j.challenger_reward), (TOKEN, collateral, reward));
            assert_eq!(j.paid_to_provider, 0);
        } else {
            assert_eq!((j.paid_to_provider, j.fee), (TOKEN - fee, fee), "job {}", j.job_id);
            assert!(j.output_text.as_deref().is_some_and(|t| !t.is_empty()), "job {}: an output", j.job_id);
            // Fetched by `cinder job result` from the provider's endpoint over HTTP, and checked.
            let src = j.output_source.as_deref().unwrap_or_default();
            assert!(src.starts_with("http://127.0.0.1:") && src.contains("/v1/objects/"), "job {}: {src}", j.job_id);
            assert!(j.output_verified, "job {}: hash and commitment match", j.job_id);
        }
        assert!(j.rent_returned > 0);
    }
    // Jobs 0-2 name the client's own server; job 3 was designated and uploaded to the provider.
    for j in &s.jobs[..2] {
        assert!(j.input_uri.starts_with("http://127.0.0.1:"), "{}", j.input_uri);
    }
    assert_eq!(s.jobs[2].input_uri, cinder_jobs::INLINE_INPUT_URI, "job 2 travelled inline");
    let out_src = s.jobs[0].output_source.as_deref().unwrap();
    let endpoint = &out_src[..out_src.find("/v1/objects/").unwrap()];
    assert!(
        s.jobs[3].input_uri.starts_with(&format!("{endpoint}/v1/objects/")),
        "{} vs {endpoint}",
        s.jobs[3].input_uri
    );
    for j in &s.jobs[..2] {
        assert!(!j.input_uri.starts_with(endpoint), "job {}: the client's server, not the provider's", j.job_id);
    }
    // Client: 100 tokens, paid 3 jobs, refunded one.
    assert_eq!(s.client_balance, 100 * TOKEN - 3 * TOKEN);
    // Provider: 10 tokens outside its stake + 3 payouts; stake lost one collateral.
    assert_eq!(s.provider_balance, 10 * TOKEN + 3 * (TOKEN - fee));
    assert_eq!(s.provider_stake, 10 * TOKEN - collateral);
    // Treasury: 3 fees + the treasury share of the slash (no voter was penalised: all honest).
    assert_eq!(s.treasury_balance, 3 * fee + collateral - reward);
    assert!(s.time_travels > 0, "the challenge window passed by time travel");
    // The audit, over RPC, before the cluster stopped.
    let audit = run.audit.as_ref().expect("audit ran");
    assert!(audit.ok, "{:?}", audit.findings);
    assert_eq!(audit.live_jobs, 0, "nothing left open");
    // Six processes (cluster, provider, four verifiers), each stopped by SIGTERM with status 0.
    let names: Vec<&str> = run.processes.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["provider", "verifier0", "verifier1", "verifier2", "verifier3", "localnet"]);
    for p in &run.processes {
        assert_eq!(p.code, Some(0), "{} exited badly; log {}", p.name, p.log.display());
        assert!(std::fs::metadata(&p.log).unwrap().len() > 0, "{} wrote a log", p.name);
    }
    // The inline job (2) was re-executed by a verifier that read its input from the transaction.
    let verified_inline = (0..4).any(|i| {
        std::fs::read_to_string(dir.path().join(format!("logs/verifier{i}.log")))
            .unwrap_or_default()
            .lines()
            .any(|l| l.contains("result verified") && l.contains("\"job_id\":2"))
    });
    assert!(verified_inline, "a verifier verified the inline job");
    // The workers fetched the inputs from the client's HTTP server, not from a shared store.
    let provider_log = std::fs::read_to_string(dir.path().join("logs/provider.log")).unwrap();
    assert!(provider_log.contains("dishonest") || provider_log.contains("wrong results"), "testing switch logged");
    let client_store = dir.path().join("client-store");
    let provider_store = dir.path().join("cluster/provider-store");
    assert!(client_store.exists() && provider_store.exists());
    assert_ne!(client_store.canonicalize().unwrap(), provider_store.canonicalize().unwrap());
}

/// The binary itself: `cinder-demo -o json --all-honest` prints exactly one JSON value on stdout
/// and exits 0; its children are gone.
#[test]
fn demo_binary_prints_one_json_value() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(exe())
        .args(["-o", "json", "--all-honest", "--verifiers", "3", "--work-dir"])
        .arg(dir.path())
        .output()
        .expect("run cinder-demo");
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON value");
    assert_eq!(v["ok"], true);
    assert_eq!(v["audit"]["ok"], true);
    let jobs = v["summary"]["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 4);
    assert!(jobs.iter().all(|j| j["outcome"] == "finalized"), "{jobs:?}");
    let procs = v["processes"].as_array().unwrap();
    assert_eq!(procs.len(), 5);
    for p in procs {
        assert_eq!(p["code"], 0, "{p}");
        let pid = p["pid"].as_i64().unwrap() as i32;
        // SAFETY: signal 0 only checks whether the pid exists.
        assert_ne!(unsafe { libc::kill(pid, 0) }, 0, "{} is still running", p["name"]);
    }
}

/// Issue B's chaos test: ten jobs (one of them dishonest) through the local cluster while the
/// workers talk to it through a fault-injecting JSON-RPC proxy (dropped answers of forwarded
/// requests, delays, HTTP 429, stale reads) and a seeded monkey SIGKILLs the provider or a
/// verifier every few seconds and starts it again with the same settings, journal and store.
/// Every job must still settle exactly once, the dishonest one slashed, no honest party (nor a
/// verifier that was down) loses anything, the books balance and every process exits 0 on the
/// final SIGTERM. `CINDER_CHAOS_SEED` replays another seed; `CINDER_CHAOS_DIR` keeps the work
/// directory (logs, journals) for inspection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_kills_and_a_faulty_rpc_proxy_still_settle_every_job_exactly_once() {
    use cinder_demo::{
        chaos::{Monkey, MonkeyOptions},
        proxy::{FaultProxy, FaultRates, XorShift},
        Client, ClockPolicy,
    };
    use cinder_sdk::verification::DisputeOutcome;
    use solana_signer::Signer;
    use std::time::{Duration, Instant};

    const JOBS: u64 = 10;
    let seed: u64 =
        std::env::var("CINDER_CHAOS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x00c1_4de7_2026_0b0b);
    println!("chaos seed {seed} (CINDER_CHAOS_SEED={seed} replays the same sequences of draws; which request or moment meets which draw depends on timing)");
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let work = std::env::var_os("CINDER_CHAOS_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| tmp.path().into());
    let opts = DemoOptions::new(exe(), work.clone());
    let (dir, logs) = cinder_demo::prepare_work_dir(&work).unwrap();
    println!("work directory {} (logs in {})", dir.display(), logs.display());
    let (cluster, cf) = tokio::task::block_in_place(|| cinder_demo::start_cluster(&opts, &dir, &logs)).unwrap();

    // A fresh market numbers its jobs from 0.
    let mut rng = XorShift::new(seed);
    let dishonest = rng.below(JOBS);
    cinder_demo::set_dishonest(&cf, &[dishonest]).unwrap();
    let proxy = FaultProxy::start(&cf.rpc_url, seed ^ 0x9e37, FaultRates::default()).await.unwrap();
    // Every worker request goes through the proxy; without `ws_url` the workers poll over HTTP.
    cinder_demo::point_workers_at(&cf, &proxy.url).unwrap();

    let client = Client::connect(&cf, &dir, true).await.unwrap();
    // The provider stakes its other 10 tokens too, so the collateral of all ten jobs (2 tokens
    // each) fits at once and no job waits for another's window.
    let provider = cinder_sdk::util::read_keypair(&cf.provider.keypair_path).unwrap();
    let pool: cinder_staking::StakePool = cinder_sdk::fetch(&client.chain, &client.market.pool).await.unwrap().unwrap();
    let pool_keys = cinder_sdk::staking::PoolKeys::new(pool.creator, pool.mint, pool.token_program);
    let provider_token: anchor_lang::prelude::Pubkey = cf.provider.token_account.parse().unwrap();
    let top_up = 10 * TOKEN;
    let ix = cinder_sdk::staking::deposit_stake(&pool_keys, provider.pubkey(), provider_token, top_up);
    cinder_sdk::chain::Chain::send(&client.chain, &[ix], &provider, &[]).await.unwrap();
    let verifier_keys: Vec<anchor_lang::prelude::Pubkey> =
        cf.verifiers.iter().map(|v| v.pubkey.parse().unwrap()).collect();
    let provider_before = client.stake(&provider.pubkey()).await.unwrap().unwrap();
    let mut verifiers_before = vec![];
    for v in &verifier_keys {
        verifiers_before.push(client.stake(v).await.unwrap().unwrap());
    }

    let workers = cinder_demo::start_workers(&opts.exe, &cf, &logs).unwrap();
    let monkey = Monkey::start(workers, MonkeyOptions::new(seed ^ 0x7f4a));
    let inputs = cinder_demo::demo_inputs();
    let mut jobs = vec![];
    for i in 0..JOBS {
        let (kind, doc, max_tokens) = &inputs[i as usize % inputs.len()];
        jobs.push(client.post(kind, doc, *max_tokens, 1_000 + i).await.unwrap());
    }
    assert_eq!(jobs.iter().map(|j| j.job_id).collect::<Vec<_>>(), (0..JOBS).collect::<Vec<_>>());
    println!("dishonest job {dishonest}");

    // Every phase lasts at least 20 s of real time before time travel may end it: a worker that
    // was killed gets back in time to act, as it would on a cluster whose clock moves by itself.
    let clock = ClockPolicy { min_phase: Duration::from_secs(20), ..ClockPolicy::default() };
    let settled = client.settle(&jobs, clock, Duration::from_secs(270), &logs).await;
    let settle_secs = started.elapsed().as_secs_f64();
    let report = tokio::task::block_in_place(|| monkey.finish());
    let faults = proxy.counts();
    // For post-mortems: which transactions' answers were lost (grep the worker logs for them).
    let dropped_file = dir.join("dropped-sends.txt");
    std::fs::write(&dropped_file, proxy.dropped_sends().join("\n")).unwrap();
    println!(
        "chaos: {} jobs, {} kills ({:?}), {} restarts, faults {:?}, settled after {settle_secs:.0} s",
        JOBS, report.kills, report.kills_of, report.restarts, faults
    );
    let time_travels = settled.unwrap_or_else(|e| panic!("{e}; unexpected exits {:?}", report.unexpected_exits));

    // Exactly once, from the events: one claim, one result, one terminal event per job; the
    // dishonest job's quorum voted completely (each member committed and revealed once), nobody
    // was penalised.
    let fee = TOKEN * 250 / 10_000;
    let collateral = cinder_demo::market_params().collateral;
    let reward = collateral * 4_000 / 10_000;
    let mut problems = vec![];
    for j in &jobs {
        let ev = cinder_demo::job_events(&client.chain, &j.key).await.unwrap();
        let id = j.job_id;
        let counts = (ev.claimed.len(), ev.results.len(), ev.terminal());
        if counts != (1, 1, 1) {
            problems.push(format!("job {id}: {} claims, {} results, {} terminal events", counts.0, counts.1, counts.2));
        }
        if id == dishonest {
            if ev.slashed.len() != 1 {
                problems.push(format!("dishonest job {id} was not slashed: {ev:?}"));
            }
            let outcome: Vec<DisputeOutcome> = ev.resolved.iter().map(|r| r.outcome).collect();
            if outcome != [DisputeOutcome::ProviderWrong] {
                problems.push(format!("dispute of job {id} resolved as {outcome:?}"));
            }
            let members: Vec<_> = ev.drawn.iter().flat_map(|d| d.new_members.clone()).collect();
            if members.len() != 3 {
                problems.push(format!("dispute of job {id}: {} members drawn", members.len()));
            }
            for m in &members {
                let commits = ev.commits.iter().filter(|c| c.voter == *m).count();
                let reveals = ev.reveals.iter().filter(|r| r.voter == *m).count();
                let settled: Vec<_> = ev.votes_settled.iter().filter(|s| s.voter == *m).collect();
                if (commits, reveals, settled.len()) != (1, 1, 1) {
                    problems.push(format!(
                        "member {m}: {commits} commits, {reveals} reveals, {} settlements (a vote lost)",
                        settled.len()
                    ));
                }
                for s in settled.iter().filter(|s| s.penalised) {
                    problems.push(format!("member {m} was penalised {} (a vote lost)", s.penalty));
                }
            }
        } else {
            if ev.finalized.len() != 1 {
                problems.push(format!("honest job {id} did not finalize: {ev:?}"));
            }
            if !ev.disputes_opened.is_empty() {
                problems.push(format!("honest job {id} was challenged"));
            }
        }
    }
    // Nothing left open.
    let mut keys = vec![];
    for j in &jobs {
        keys.push(j.key);
        keys.push(cinder_sdk::verification::dispute_pda(&j.key));
    }
    let open = cinder_sdk::chain::Chain::get_multiple_accounts(&client.chain, &keys).await.unwrap();
    assert!(open.iter().all(Option::is_none), "job or dispute accounts still open");

    // Stakes: the provider lost exactly one collateral, no verifier lost anything, nothing locked.
    let p = client.stake(&provider.pubkey()).await.unwrap().unwrap();
    if (p.active, p.locked, p.total_slashed)
        != (provider_before.active - collateral, 0, provider_before.total_slashed + collateral)
    {
        problems.push(format!(
            "provider stake: active {} locked {} slashed {} (before: active {} slashed {})",
            p.active, p.locked, p.total_slashed, provider_before.active, provider_before.total_slashed
        ));
    }
    for (i, (v, before)) in verifier_keys.iter().zip(&verifiers_before).enumerate() {
        let s = client.stake(v).await.unwrap().unwrap();
        if (s.active, s.locked, s.total_slashed) != (before.active, 0, before.total_slashed) {
            problems.push(format!(
                "verifier{i} stake: active {} locked {} slashed {} (before: active {} slashed {})",
                s.active, s.locked, s.total_slashed, before.active, before.total_slashed
            ));
        }
    }
    // Balances: the client paid nine jobs and was refunded one; the provider was paid nine; the
    // treasury has nine fees and its share of the slash.
    client.withdraw_treasury(&cf).await.unwrap();
    let (c, pb, t) = (
        client.token_balance(&cf.client.token_account).await.unwrap(),
        client.token_balance(&cf.provider.token_account).await.unwrap(),
        client.token_balance(&cf.treasury_token).await.unwrap(),
    );
    let honest = JOBS - 1;
    let expected = (
        100 * TOKEN - honest * TOKEN,
        10 * TOKEN - top_up + honest * (TOKEN - fee),
        honest * fee + collateral - reward,
    );
    if (c, pb, t) != expected {
        problems.push(format!("balances (client, provider, treasury) {:?}, expected {expected:?}", (c, pb, t)));
    }
    let audit = client.audit().await;
    match &audit {
        Ok(a) if a.ok && a.live_jobs == 0 => {}
        other => problems.push(format!("audit: {other:?}")),
    }
    drop(client);
    let cluster_exit = tokio::task::block_in_place(|| cluster.stop(Duration::from_secs(15)));

    let wall = started.elapsed().as_secs_f64();
    println!(
        "chaos numbers: seed {seed}, jobs {JOBS} (dishonest {dishonest}), kills {} {:?}, restarts {}, \
         requests {}, forwarded {}, dropped {} (sendTransaction {}), delayed {}, throttled {}, stale {}, \
         time travels {time_travels}, settled after {settle_secs:.0} s, wall {wall:.0} s",
        report.kills,
        report.kills_of,
        report.restarts,
        faults.requests,
        faults.forwarded,
        faults.dropped,
        faults.dropped_sends,
        faults.delayed,
        faults.throttled,
        faults.stale,
    );
    for e in report.exits.iter().chain([&cluster_exit]) {
        println!("process {:<10} exit {:?}", e.name, e.code);
        if e.code != Some(0) {
            problems.push(format!("{} exited {:?} on the final SIGTERM; log {}", e.name, e.code, e.log.display()));
        }
    }
    problems.extend(report.unexpected_exits.iter().cloned());
    problems.extend(report.errors.iter().cloned());
    if report.kills < 20 || report.restarts != report.kills {
        problems.push(format!("{} kills and {} restarts: the chaos was too mild", report.kills, report.restarts));
    }
    for (what, n) in [
        ("dropped answers", faults.dropped),
        ("dropped sendTransaction answers", faults.dropped_sends),
        ("delays", faults.delayed),
        ("429s", faults.throttled),
        ("stale reads", faults.stale),
    ] {
        if n == 0 {
            problems.push(format!("the proxy injected no {what}"));
        }
    }
    assert!(
        problems.is_empty(),
        "chaos test found problems (logs in {}; signatures whose sendTransaction answer the proxy dropped in {}):\n{}",
        logs.display(),
        dropped_file.display(),
        problems.join("\n")
    );
}

/// `app/worker/worker.example.toml` as shipped passes `cinder-worker check` against a real
/// cluster: only the machine-specific values its header names come from `CINDER_WORKER_*`, and
/// the market (left out in the example) is found from the model over `getProgramAccounts`. A
/// model that is not the market's fails the check with both model ids, and `run` without a market
/// refuses to start.
#[test]
fn the_example_worker_settings_pass_check_as_shipped() {
    use std::os::unix::process::CommandExt as _;
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut opts = DemoOptions::new(exe(), dir.path().into());
    opts.verifiers = 1;
    let (cluster, c) = cinder_demo::start_cluster(&opts, dir.path(), &logs).expect("cluster");
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../worker/worker.example.toml");
    let worker = |cmd: &str, model_dir: &std::path::Path, market: Option<&str>| {
        let mut w = std::process::Command::new(exe());
        w.arg0("cinder-worker")
            .args([cmd, "--config"])
            .arg(&example)
            .env("RUST_LOG", "error")
            .env("CINDER_WORKER_RPC_URL", &c.rpc_url)
            .env("CINDER_WORKER_KEYPAIR", &c.provider.keypair_path)
            .env("CINDER_WORKER_MODEL_DIR", model_dir)
            .env("CINDER_WORKER_STORE_DIR", dir.path().join("store"))
            .env("CINDER_WORKER_JOURNAL", dir.path().join("journal.sqlite"))
            .env_remove("CINDER_WORKER_MARKET");
        if let Some(m) = market {
            w.env("CINDER_WORKER_MARKET", m);
        }
        w.output().expect("run cinder-worker")
    };
    let check = |model_dir: &std::path::Path| worker("check", model_dir, None);
    let out = check(&c.model_dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "stdout {stdout}\nstderr {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.trim(), format!("ok: Provider {} on market {}", c.provider.pubkey, c.market));

    let other = dir.path().join("other-model");
    cinder_inference::make_test_model(
        cinder_inference::Architecture::Qwen2,
        8,
        cinder_inference::TestModelSize::Tiny,
        &other,
    )
    .expect("another model");
    let out = check(&other);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no market on this cluster serves model id"), "{stderr}");
    // Naming the market with the wrong model: refused, with both ids.
    let out = worker("check", &other, Some(&c.market));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is not the model of market") && stderr.contains(&c.model_id), "{stderr}");
    // `run` never picks a market by itself: it asks for one, and `check` names it.
    let out = worker("run", &c.model_dir, None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("`market` is not set"), "{stderr}");
    drop(cluster);
}
