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
            assert!(j.output_text.is_some(), "job {}: output in the provider's store", j.job_id);
        }
        assert!(j.rent_returned > 0);
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
