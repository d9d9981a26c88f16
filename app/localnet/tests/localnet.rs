//! `cinder-localnet` as a separate process: a real RPC client (the SDK's `RpcChain`, and `curl`),
//! websocket account and logs notifications for a Cinder transaction, time travel, and a clean
//! exit on SIGTERM.
use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use cinder_jobs::{InferenceParams, JobPosted, Market};
use cinder_localnet::{rpc_chain, time_travel, ClusterFile, TOKEN};
use cinder_sdk::{chain::Chain, jobs as jsdk, util::token_amount, Pubkey};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::{connect_async, tungstenite::Message};

fn keys_of<T>(v: &[(Pubkey, T)]) -> Vec<Pubkey> {
    v.iter().map(|(k, _)| *k).collect()
}

/// Kills the validator if the test fails before stopping it.
struct Guard(Option<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn start(dir: &std::path::Path) -> (Guard, ClusterFile) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cinder-localnet"))
        .args(["--rpc-port", "0", "--ws-port", "0", "--slot-ms", "100", "--verifiers", "2", "--bootstrap"])
        .arg(dir)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn cinder-localnet");
    let stdout = child.stdout.take().unwrap();
    let guard = Guard(Some(child));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut lines = vec![];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) if l == "ready" => break,
            Ok(l) => lines.push(l),
            Err(e) => panic!("cinder-localnet not ready ({e}); it printed {lines:?}"),
        }
    }
    assert!(lines.iter().any(|l| l.starts_with("rpc_url: http://127.0.0.1:")), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("websocket_url: ws://127.0.0.1:")), "{lines:?}");
    let file = ClusterFile::read(&dir.join("cluster.json")).expect("cluster.json");
    (guard, file)
}

fn curl(url: &str, body: Value) -> Value {
    let out = Command::new("curl")
        .args(["-sS", "-X", "POST", "-H", "content-type: application/json", "-d"])
        .arg(body.to_string())
        .arg(url)
        .output()
        .expect("curl is installed");
    assert!(out.status.success(), "curl failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("curl got JSON")
}

/// Opens a websocket, sends `request`, and returns the socket once the subscription is confirmed.
async fn subscribe(
    ws_url: &str,
    request: Value,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let (mut socket, _) = connect_async(ws_url).await.expect("websocket connect");
    socket.send(Message::Text(request.to_string().into())).await.unwrap();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), socket.next()).await.expect("subscribe reply").unwrap();
        let Message::Text(text) = msg.unwrap() else { continue };
        let v: Value = serde_json::from_str(text.as_str()).unwrap();
        assert!(v.get("error").is_none(), "subscription refused: {v}");
        if v.get("id").is_some() {
            return socket;
        }
    }
}

/// The first notification of `method` on `socket` that satisfies `accept`.
async fn next_notification(
    socket: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    method: &str,
    accept: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let msg = tokio::time::timeout_at(deadline, socket.next())
            .await
            .unwrap_or_else(|_| panic!("no {method} within 60 s"))
            .expect("socket open")
            .unwrap();
        let Message::Text(text) = msg else { continue };
        let v: Value = serde_json::from_str(text.as_str()).unwrap();
        if v["method"] == json!(method) && accept(&v["params"]["result"]) {
            return v["params"]["result"].clone();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_cluster_serves_rpc_websocket_and_time_travel() {
    let dir = tempfile::tempdir().unwrap();
    let (mut guard, c) = start(dir.path());
    let chain = rpc_chain(&c.rpc_url, &c.ws_url);

    // Plain HTTP clients: getHealth and getAccountInfo of the bootstrapped market.
    assert_eq!(curl(&c.rpc_url, json!({"jsonrpc":"2.0","id":1,"method":"getHealth"}))["result"], json!("ok"));
    let info = curl(
        &c.rpc_url,
        json!({"jsonrpc":"2.0","id":2,"method":"getAccountInfo","params":[c.market, {"encoding":"base64"}]}),
    );
    assert_eq!(info["result"]["value"]["owner"], json!(cinder_jobs::ID.to_string()), "{info}");

    // The SDK's RpcChain: the market decodes (owner checked), with the bootstrapped terms.
    let market_key: Pubkey = c.market.parse().unwrap();
    let market: Market = cinder_sdk::fetch(&chain, &market_key).await.unwrap().expect("market account");
    assert_eq!(market.params, cinder_localnet::market_params());
    assert_eq!(market.mint.to_string(), c.mint);
    // The SPL programs the protocol uses are deployed.
    for program in [anchor_spl::token::ID, anchor_spl::token_2022::ID, anchor_spl::associated_token::ID] {
        let a = chain.get_account(&program).await.unwrap().unwrap_or_else(|| panic!("{program} missing"));
        assert!(a.executable, "{program} is not executable");
    }
    // Funded wallets as keypair files; the client holds its 100 tokens.
    let client = cinder_sdk::util::read_keypair(&c.client.keypair_path).unwrap();
    let client_token: Pubkey = c.client.token_account.parse().unwrap();
    let bal = |a: Option<cinder_sdk::chain::ChainAccount>| token_amount(&a.unwrap().data).unwrap();
    assert_eq!(bal(chain.get_account(&client_token).await.unwrap()), 100 * TOKEN);
    assert_eq!(c.verifiers.len(), 2);
    let yml = std::fs::read_to_string(&c.solana_config).unwrap();
    assert!(yml.contains(&format!("json_rpc_url: \"{}\"", c.rpc_url)) && yml.contains("websocket_url"), "{yml}");

    // Websocket: logs of the jobs program and the client's token account, then a post_job.
    let mut logs = subscribe(
        &c.ws_url,
        json!({"jsonrpc":"2.0","id":1,"method":"logsSubscribe",
               "params":[{"mentions":[cinder_jobs::ID.to_string()]},{"commitment":"confirmed"}]}),
    )
    .await;
    let mut account = subscribe(
        &c.ws_url,
        json!({"jsonrpc":"2.0","id":1,"method":"accountSubscribe",
               "params":[c.client.token_account, {"encoding":"base64","commitment":"confirmed"}]}),
    )
    .await;
    let keys = jsdk::MarketKeys::from_market(market_key, &market);
    let terms = cinder_sdk::market_terms(&chain, &market_key).await.unwrap().unwrap();
    let job_id = market.next_job_id;
    let args = jsdk::PostJobArgs {
        payment: TOKEN,
        input_hash: [7; 32],
        input_uri: "https://example.invalid/input".into(),
        params: InferenceParams {
            max_tokens: 8,
            temperature_bits: 0,
            top_k: 0,
            top_p_bits: 1f32.to_bits(),
            seed: 1,
            dtype: 0,
        },
        designated: None,
        expected_terms: terms,
    };
    let ix = jsdk::post_job(solana_signer::Signer::pubkey(&client), client_token, &keys, job_id, args);
    let receipt = chain.send(&[ix], &client, &[]).await.expect("post_job over RPC");
    let posted: Vec<JobPosted> = cinder_sdk::events::decode(&receipt.logs);
    assert_eq!(posted.len(), 1, "{:?}", receipt.logs);
    assert_eq!((posted[0].job, posted[0].job_id), (keys.job(job_id), job_id));

    let note =
        next_notification(&mut logs, "logsNotification", |r| r["value"]["signature"] == json!(receipt.signature)).await;
    let note_logs: Vec<String> = serde_json::from_value(note["value"]["logs"].clone()).unwrap();
    let from_ws: Vec<JobPosted> = cinder_sdk::events::decode(&note_logs);
    assert_eq!(from_ws.len(), 1, "the notification carries the program's event: {note_logs:?}");
    assert_eq!(from_ws[0].job, posted[0].job);
    let note = next_notification(&mut account, "accountNotification", |_| true).await;
    let data = note["value"]["data"][0].as_str().unwrap();
    use base64::Engine as _;
    let data = base64::engine::general_purpose::STANDARD.decode(data).unwrap();
    assert_eq!(token_amount(&data).unwrap(), 99 * TOKEN, "the payment left the client's account");

    // Discovery over getProgramAccounts gives what the event history gives: the bootstrapped
    // market, model, provider, pool and stakers, and the open job.
    let by_index = cinder_cli::discover::<Market>(&chain, &[]).await.unwrap().expect("surfpool has getProgramAccounts");
    assert_eq!(keys_of(&by_index), vec![market_key]);
    assert_eq!(keys_of(&cinder_cli::markets_by_history(&chain).await.unwrap()), vec![market_key]);
    let models = cinder_cli::discover::<cinder_jobs::Model>(&chain, &[]).await.unwrap().unwrap();
    assert_eq!(keys_of(&models), keys_of(&cinder_cli::models_by_history(&chain).await.unwrap()));
    assert_eq!(keys_of(&models), vec![market.model]);
    let providers = cinder_cli::discover::<cinder_jobs::Provider>(&chain, &[]).await.unwrap().unwrap();
    assert_eq!(keys_of(&providers), keys_of(&cinder_cli::providers_by_history(&chain).await.unwrap()));
    assert_eq!(providers.len(), 1);
    let pools = cinder_cli::discover::<cinder_staking::StakePool>(&chain, &[]).await.unwrap().unwrap();
    assert_eq!(keys_of(&pools), keys_of(&cinder_cli::pools_by_history(&chain).await.unwrap()));
    assert_eq!(keys_of(&pools), vec![market.pool]);
    let stakers = cinder_cli::stakers(&chain).await.unwrap();
    assert_eq!(stakers, cinder_cli::stakers_by_history(&chain).await.unwrap());
    assert_eq!(stakers.len(), 1 + c.verifiers.len(), "the provider and every verifier staked: {stakers:?}");
    let (_, slots) = cinder_cli::market_jobs(&chain, &market_key).await.unwrap();
    let (_, derived) = cinder_cli::market_jobs_by_derivation(&chain, &market_key).await.unwrap();
    let open = |s: &[cinder_cli::JobSlot]| {
        s.iter().map(|j| (j.id, j.key, j.job.as_ref().map(|j| (j.job_id, j.client, j.payment)))).collect::<Vec<_>>()
    };
    assert_eq!(open(&slots), open(&derived));
    assert_eq!(slots.len() as u64, job_id + 1);
    assert_eq!(open(&slots).last().unwrap().2, Some((job_id, solana_signer::Signer::pubkey(&client), TOKEN)));
    // A filter that matches nothing finds nothing (the node applies the market filter).
    let other_market = [cinder_sdk::chain::AccountFilter::Memcmp { offset: 8, bytes: vec![0xab; 32] }];
    assert_eq!(cinder_cli::discover::<cinder_jobs::Job>(&chain, &other_market).await.unwrap().unwrap().len(), 0);

    // Time travel moves the clock the programs see.
    let now = chain.unix_timestamp().await.unwrap();
    time_travel(&chain, now + 3_600).await.unwrap();
    assert!(chain.unix_timestamp().await.unwrap() >= now + 3_600);

    // SIGTERM: a clean exit, soon.
    let mut child = guard.0.take().unwrap();
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "cinder-localnet ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
}
