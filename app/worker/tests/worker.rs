//! Worker tests against the in-process chain: the demo path end to end, crash/restart, bad input.
use cinder_worker::demo::{self, DemoOptions, TOKEN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_path_settles_every_job_and_slashes_the_dishonest_provider() {
    let dir = tempfile::tempdir().unwrap();
    let run = demo::run(DemoOptions {
        model_dir: None,
        work_dir: dir.path().into(),
        dishonest_job: Some(1),
        progress: false,
    })
    .await
    .expect("demo runs");
    let s = &run.summary;
    let fee = TOKEN * 250 / 10_000;
    let collateral = demo::market_params().collateral;
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
