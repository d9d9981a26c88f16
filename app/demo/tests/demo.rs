//! The demo end to end: outcomes and balances through the library, and the binary's JSON output.
use cinder_demo::{DemoOptions, TOKEN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_path_settles_every_job_and_slashes_the_dishonest_provider() {
    let dir = tempfile::tempdir().unwrap();
    let run = cinder_demo::run(DemoOptions {
        model_dir: None,
        work_dir: dir.path().into(),
        dishonest_job: Some(1),
        progress: false,
    })
    .await
    .expect("demo runs");
    let s = &run.summary;
    let fee = TOKEN * 250 / 10_000;
    let collateral = cinder_demo::market_params().collateral;
    let reward = collateral * 4_000 / 10_000;
    for j in &s.jobs {
        if j.job_id == 1 {
            assert_eq!(j.outcome, "provider slashed (wrong result)");
            assert_eq!((j.refunded, j.slashed, j.challenger_reward), (TOKEN, collateral, reward));
        } else {
            assert_eq!(j.outcome, "finalized", "job {}", j.job_id);
            assert_eq!((j.paid_to_provider, j.fee), (TOKEN - fee, fee));
            assert!(j.output_text.is_some(), "output stored and findable");
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
}

/// The demo through the library: every job settled as expected and the audit balances.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_command_settles_every_job_and_the_audit_balances() {
    let dir = tempfile::tempdir().unwrap();
    // Through the library: the audit of the demo's chain is clean and every job settled.
    let run = cinder_demo::run(cinder_demo::DemoOptions {
        model_dir: None,
        work_dir: dir.path().join("again"),
        dishonest_job: Some(1),
        progress: false,
    })
    .await
    .unwrap();
    let report = cinder_cli::audit(&run.chain).await.unwrap();
    assert!(report.ok, "{:?}", report.findings);
    assert_eq!(report.live_jobs, 0, "nothing left open");
    let outcomes: Vec<&str> = run.summary.jobs.iter().map(|j| j.outcome.as_str()).collect();
    assert_eq!(outcomes, ["finalized", "provider slashed (wrong result)", "finalized", "finalized"]);
}

/// The binary itself: `cinder-demo -o json` prints exactly one JSON value on stdout (the programs'
/// native logs must not leak into it) and exits 0.
#[test]
fn demo_binary_prints_one_json_value() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cinder-demo"))
        .args(["-o", "json", "--work-dir"])
        .arg(dir.path())
        .output()
        .expect("run cinder-demo");
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON value");
    assert_eq!(v["ok"], true);
    assert_eq!(v["audit"]["ok"], true);
    assert_eq!(v["summary"]["jobs"].as_array().unwrap().len(), 4);
}
