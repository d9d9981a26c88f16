//! `RpcChain` against a scripted JSON-RPC server on 127.0.0.1 that the tests start themselves.
//! The server is a minimal HTTP/1.1 responder (one request per connection, `Connection: close`)
//! that records every request body and answers from a per-test handler.

use std::{
    future::Future,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
use cinder_sdk::{
    chain::{
        rpc::{Commitment, RpcChain, RpcConfig, COMPUTE_BUDGET_PROGRAM_ID},
        submit_and_wait, AccountFilter, Chain, ChainAccount, ChainError, Resolution,
    },
    AccountMeta, Instruction, Pubkey,
};
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::{Hash, Transaction};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

enum Reply {
    Result(Value),
    RpcError(i64, &'static str),
    /// An error object with a `data` member.
    RpcErrorData(i64, &'static str, Value),
    Http(u16),
    /// An HTTP status with a `Retry-After: <seconds>` header.
    HttpRetryAfter(u16, u64),
}

type Handler = Arc<dyn Fn(&Value) -> Reply + Send + Sync>;

struct Server {
    url: String,
    requests: Arc<Mutex<Vec<Value>>>,
}

impl Server {
    async fn start(handler: impl Fn(&Value) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let reqs = requests.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve_one(stream, handler.clone(), reqs.clone()));
            }
        });
        Server { url, requests }
    }

    fn requests(&self) -> Vec<Value> {
        self.requests.lock().unwrap().clone()
    }

    fn calls(&self, method: &str) -> Vec<Value> {
        self.requests().into_iter().filter(|r| r["method"] == method).collect()
    }

    fn methods(&self) -> Vec<String> {
        self.requests().iter().map(|r| r["method"].as_str().unwrap().to_owned()).collect()
    }
}

async fn serve_one(mut stream: TcpStream, handler: Handler, requests: Arc<Mutex<Vec<Value>>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Headers.
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let headers = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let len: usize =
        headers.lines().find_map(|l| l.strip_prefix("content-length:")).map(|v| v.trim().parse().unwrap()).unwrap_or(0);
    while buf.len() < header_end + len {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let request: Value = serde_json::from_slice(&buf[header_end..header_end + len]).unwrap();
    requests.lock().unwrap().push(request.clone());
    let mut extra = String::new();
    let (status, body) = match handler(&request) {
        Reply::Result(result) => (200, json!({"jsonrpc": "2.0", "id": request["id"], "result": result}).to_string()),
        Reply::RpcError(code, message) => (
            200,
            json!({"jsonrpc": "2.0", "id": request["id"], "error": {"code": code, "message": message}}).to_string(),
        ),
        Reply::RpcErrorData(code, message, data) => (
            200,
            json!({"jsonrpc": "2.0", "id": request["id"], "error": {"code": code, "message": message, "data": data}})
                .to_string(),
        ),
        Reply::Http(code) => (code, "busy".to_owned()),
        Reply::HttpRetryAfter(code, secs) => {
            extra = format!("Retry-After: {secs}\r\n");
            (code, "slow down".to_owned())
        }
    };
    let response = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Every test runs under a hard bound.
async fn bounded<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f).await.expect("test timed out")
}

fn fast_config() -> RpcConfig {
    RpcConfig {
        commitment: Commitment::Confirmed,
        cu_margin_pct: 20,
        priority_micro_lamports: 777,
        priority_fee_cap_micro_lamports: 100_000,
        priority_fee_percentile: None,
        max_send_attempts: 3,
        confirm_timeout: Duration::from_secs(10),
        poll_interval: Duration::from_millis(2),
        ws_url: None,
        max_rpc_attempts: 4,
        retry_backoff: Duration::from_millis(1),
        retry_backoff_cap: Duration::from_millis(8),
        retry_after_cap: Duration::from_secs(5),
        request_timeout: Duration::from_secs(5),
    }
}

fn ctx(value: Value) -> Value {
    json!({"context": {"slot": 42}, "value": value})
}

fn ui_account(lamports: u64, data: &[u8], owner: &Pubkey) -> Value {
    json!({
        "lamports": lamports,
        "data": [B64.encode(data), "base64"],
        "owner": owner.to_string(),
        "executable": false,
        "rentEpoch": 18446744073709551615u64,
        "space": data.len(),
    })
}

fn decode_tx(encoded: &Value) -> Transaction {
    let bytes = B64.decode(encoded.as_str().unwrap()).unwrap();
    bincode::deserialize(&bytes).unwrap()
}

/// (limit, price) from the transaction's compute budget instructions.
fn compute_budget(tx: &Transaction) -> (Option<u32>, Option<u64>) {
    let (mut limit, mut price) = (None, None);
    for ix in &tx.message.instructions {
        if tx.message.account_keys[ix.program_id_index as usize] != COMPUTE_BUDGET_PROGRAM_ID {
            continue;
        }
        match ix.data[0] {
            2 => limit = Some(u32::from_le_bytes(ix.data[1..5].try_into().unwrap())),
            3 => price = Some(u64::from_le_bytes(ix.data[1..9].try_into().unwrap())),
            t => panic!("unexpected compute budget instruction {t}"),
        }
    }
    (limit, price)
}

fn test_ix(payer: &Keypair, other: &Keypair) -> Instruction {
    Instruction {
        program_id: Pubkey::new_from_array([9; 32]),
        accounts: vec![AccountMeta::new(payer.pubkey(), true), AccountMeta::new_readonly(other.pubkey(), true)],
        data: vec![1, 2, 3],
    }
}

fn blockhash(n: u8) -> Hash {
    Hash::new_from_array([n; 32])
}

fn latest_blockhash_reply(n: u8, last_valid: u64) -> Reply {
    Reply::Result(ctx(json!({"blockhash": blockhash(n).to_string(), "lastValidBlockHeight": last_valid})))
}

fn sim_ok(units: u64) -> Reply {
    Reply::Result(ctx(json!({"err": null, "logs": ["Program log: sim"], "unitsConsumed": units, "accounts": null})))
}

fn signature_of(req: &Value) -> Value {
    json!(decode_tx(&req["params"][0]).signatures[0].to_string())
}

fn status(err: Value, confirmation: &str) -> Reply {
    Reply::Result(ctx(
        json!([{"slot": 77, "confirmations": 0, "err": err, "status": {"Ok": null}, "confirmationStatus": confirmation}]),
    ))
}

fn tx_with_logs(logs: &[&str]) -> Reply {
    Reply::Result(json!({"slot": 77, "blockTime": null, "meta": {"err": null, "logMessages": logs}, "transaction": {}}))
}

#[tokio::test]
async fn account_reads_request_shapes_and_decoding() {
    bounded(async {
        let owner = Pubkey::new_from_array([3; 32]);
        let present = Pubkey::new_from_array([1; 32]);
        let absent = Pubkey::new_from_array([2; 32]);
        let mut clock = vec![0u8; 40];
        clock[32..40].copy_from_slice(&1_700_000_123i64.to_le_bytes());
        let present_s = present.to_string();
        let server = Server::start(move |req| match req["method"].as_str().unwrap() {
            "getAccountInfo" if req["params"][0] == present_s.as_str() => {
                Reply::Result(ctx(ui_account(5_000, b"hello", &owner)))
            }
            "getAccountInfo" if req["params"][0] == "SysvarC1ock11111111111111111111111111111111" => {
                Reply::Result(ctx(ui_account(1, &clock, &Pubkey::new_from_array([0; 32]))))
            }
            "getAccountInfo" => Reply::Result(ctx(Value::Null)),
            "getMultipleAccounts" => Reply::Result(ctx(json!([ui_account(7, &[0xde, 0xad], &owner), null]))),
            "getTransaction" if req["params"][0] == "known" => tx_with_logs(&["Program log: a", "Program log: b"]),
            "getTransaction" => Reply::Result(Value::Null),
            m => panic!("unexpected {m}"),
        })
        .await;
        let chain = RpcChain::new(&server.url, fast_config());

        let acc = chain.get_account(&present).await.unwrap().unwrap();
        assert_eq!(acc, ChainAccount { lamports: 5_000, data: b"hello".to_vec(), owner, executable: false });
        assert_eq!(chain.get_account(&absent).await.unwrap(), None);
        let many = chain.get_multiple_accounts(&[present, absent]).await.unwrap();
        assert_eq!(
            many,
            vec![Some(ChainAccount { lamports: 7, data: vec![0xde, 0xad], owner, executable: false }), None]
        );
        assert_eq!(chain.unix_timestamp().await.unwrap(), 1_700_000_123);
        assert_eq!(
            chain.transaction_logs("known").await.unwrap(),
            Some(vec!["Program log: a".to_owned(), "Program log: b".to_owned()])
        );
        assert_eq!(chain.transaction_logs("unknown").await.unwrap(), None);

        let reqs = server.requests();
        assert!(reqs.iter().all(|r| r["jsonrpc"] == "2.0" && r["id"].is_u64()));
        assert_eq!(reqs[0]["method"], "getAccountInfo");
        assert_eq!(reqs[0]["params"], json!([present.to_string(), {"encoding": "base64", "commitment": "confirmed"}]));
        assert_eq!(reqs[2]["method"], "getMultipleAccounts");
        assert_eq!(
            reqs[2]["params"],
            json!([[present.to_string(), absent.to_string()], {"encoding": "base64", "commitment": "confirmed"}])
        );
        assert_eq!(reqs[3]["params"][0], "SysvarC1ock11111111111111111111111111111111");
        assert_eq!(reqs[4]["method"], "getTransaction");
        assert_eq!(
            reqs[4]["params"],
            json!(["known", {"encoding": "json", "maxSupportedTransactionVersion": 0, "commitment": "confirmed"}])
        );
    })
    .await;
}

#[tokio::test]
async fn send_sets_compute_limit_from_simulation_and_price() {
    bounded(async {
        let server = Server::start(|req| match req["method"].as_str().unwrap() {
            "getLatestBlockhash" => latest_blockhash_reply(1, 1_000),
            "simulateTransaction" => sim_ok(10_000),
            "sendTransaction" => Reply::Result(signature_of(req)),
            "getSignatureStatuses" => status(Value::Null, "confirmed"),
            "getBlockHeight" => Reply::Result(json!(900)),
            "getTransaction" => tx_with_logs(&["Program log: done"]),
            m => panic!("unexpected {m}"),
        })
        .await;
        let chain = RpcChain::new(&server.url, fast_config());
        let (payer, other) = (Keypair::new(), Keypair::new());
        let ixs = [test_ix(&payer, &other)];
        let receipt = chain.send(&ixs, &payer, &[&other]).await.unwrap();

        assert_eq!(
            server.methods(),
            ["getLatestBlockhash", "simulateTransaction", "sendTransaction", "getSignatureStatuses", "getTransaction"]
        );
        let reqs = server.requests();
        assert_eq!(reqs[0]["params"], json!([{"commitment": "confirmed"}]));

        let sim = &reqs[1];
        assert_eq!(
            sim["params"][1],
            json!({"encoding": "base64", "sigVerify": false, "replaceRecentBlockhash": true, "commitment": "confirmed"})
        );
        let sim_tx = decode_tx(&sim["params"][0]);
        assert_eq!(compute_budget(&sim_tx), (Some(1_400_000), Some(777)));

        let send = &reqs[2];
        assert_eq!(send["params"][1], json!({"encoding": "base64", "skipPreflight": true}));
        let tx = decode_tx(&send["params"][0]);
        // 10_000 simulated units × (100 + 20) / 100.
        assert_eq!(compute_budget(&tx), (Some(12_000), Some(777)));
        assert_eq!(tx.message.recent_blockhash, blockhash(1));
        assert_eq!(tx.message.account_keys[0], payer.pubkey());
        assert_eq!(tx.signatures.len(), 2);
        tx.verify().expect("signatures verify");
        // The caller's instruction follows the two compute budget instructions, unchanged.
        let ix = &tx.message.instructions[2];
        assert_eq!(tx.message.account_keys[ix.program_id_index as usize], ixs[0].program_id);
        assert_eq!(ix.data, vec![1, 2, 3]);

        assert_eq!(reqs[3]["params"], json!([[tx.signatures[0].to_string()], {"searchTransactionHistory": false}]));
        assert_eq!(receipt.signature, tx.signatures[0].to_string());
        assert_eq!(receipt.slot, 77);
        assert_eq!(receipt.logs, vec!["Program log: done".to_owned()]);
    })
    .await;
}

#[tokio::test]
async fn compute_limit_is_capped() {
    bounded(async {
        let server = Server::start(|req| match req["method"].as_str().unwrap() {
            "getLatestBlockhash" => latest_blockhash_reply(1, 1_000),
            "simulateTransaction" => sim_ok(1_300_000),
            "sendTransaction" => Reply::Result(signature_of(req)),
            "getSignatureStatuses" => status(Value::Null, "finalized"),
            "getTransaction" => tx_with_logs(&[]),
            m => panic!("unexpected {m}"),
        })
        .await;
        let chain = RpcChain::new(&server.url, fast_config());
        let (payer, other) = (Keypair::new(), Keypair::new());
        chain.send(&[test_ix(&payer, &other)], &payer, &[&other]).await.unwrap();
        let tx = decode_tx(&server.calls("sendTransaction")[0]["params"][0]);
        assert_eq!(compute_budget(&tx), (Some(1_400_000), Some(777)));
    })
    .await;
}

#[tokio::test]
async fn http_503_and_429_are_retried_then_succeed() {
    bounded(async {
        let n = AtomicUsize::new(0);
        let server = Server::start(move |_| match n.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::Http(503),
            1 => Reply::Http(429),
            2 => Reply::Http(500),
            _ => Reply::Result(ctx(Value::Null)),
        })
        .await;
        let chain = RpcChain::new(&server.url, fast_config());
        assert_eq!(chain.get_account(&Pubkey::new_from_array([1; 32])).await.unwrap(), None);
        assert_eq!(server.calls("getAccountInfo").len(), 4);
    })
    .await;
}

#[tokio::test]
async fn persistent_failures_give_up_after_bounded_attempts() {
    bounded(async {
        let server = Server::start(|_| Reply::Http(503)).await;
        let chain = RpcChain::new(&server.url, fast_config());
        let err = chain.get_account(&Pubkey::new_from_array([1; 32])).await.unwrap_err();
        assert!(matches!(&err, ChainError::Rpc(m) if m.contains("503")), "{err:?}");
        assert_eq!(server.requests().len(), 4, "max_rpc_attempts");

        // Nothing listening at all (transport error): also bounded, also Rpc.
        let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let dead_url = format!("http://{}/?api-key=SECRET", dead.local_addr().unwrap());
        drop(dead);
        let chain = RpcChain::new(dead_url, fast_config());
        let err = chain.get_account(&Pubkey::new_from_array([1; 32])).await.unwrap_err();
        assert!(matches!(err, ChainError::Rpc(_)), "{err:?}");
        // The URL (which may carry an API key) is not in the error.
        assert!(!err.to_string().contains("SECRET"), "{err}");
        assert!(err.to_string().contains("after 4 attempts"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn json_rpc_error_is_reported_without_retry() {
    bounded(async {
        let server = Server::start(|_| Reply::RpcError(-32602, "Invalid param: WrongSize")).await;
        let chain = RpcChain::new(&server.url, fast_config());
        let err = chain.get_account(&Pubkey::new_from_array([1; 32])).await.unwrap_err();
        assert!(matches!(&err, ChainError::Rpc(m) if m.contains("Invalid param: WrongSize")), "{err:?}");
        assert_eq!(server.requests().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn expired_blockhash_is_refreshed_and_resent() {
    bounded(async {
        let blockhashes = AtomicUsize::new(0);
        let sends = Arc::new(AtomicUsize::new(0));
        let sends2 = sends.clone();
        let server = Server::start(move |req| match req["method"].as_str().unwrap() {
            "getLatestBlockhash" => match blockhashes.fetch_add(1, Ordering::SeqCst) {
                // Used for the simulation and the first send.
                0 => latest_blockhash_reply(1, 100),
                _ => latest_blockhash_reply(2, 200),
            },
            "simulateTransaction" => sim_ok(5_000),
            "sendTransaction" => {
                sends2.fetch_add(1, Ordering::SeqCst);
                Reply::Result(signature_of(req))
            }
            // The first transaction never lands; the second one does.
            "getSignatureStatuses" if sends2.load(Ordering::SeqCst) < 2 => Reply::Result(ctx(json!([null]))),
            "getSignatureStatuses" => status(Value::Null, "confirmed"),
            "getBlockHeight" => Reply::Result(json!(150)),
            "getTransaction" => tx_with_logs(&[]),
            m => panic!("unexpected {m}"),
        })
        .await;
        let chain = RpcChain::new(&server.url, fast_config());
        let (payer, other) = (Keypair::new(), Keypair::new());
        let receipt = chain.send(&[test_ix(&payer, &other)], &payer, &[&other]).await.unwrap();

        let sent: Vec<Transaction> =
            server.calls("sendTransaction").iter().map(|r| decode_tx(&r["params"][0])).collect();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].message.recent_blockhash, blockhash(1));
        assert_eq!(sent[1].message.recent_blockhash, blockhash(2));
        assert_ne!(sent[0].signatures[0], sent[1].signatures[0]);
        sent[1].verify().unwrap();
        assert_eq!(compute_budget(&sent[1]), (Some(6_000), Some(777)));
        assert_eq!(receipt.signature, sent[1].signatures[0].to_string());
        assert_eq!(server.calls("getLatestBlockhash").len(), 2);
        assert_eq!(server.calls("simulateTransaction").len(), 1);
        assert_eq!(server.calls("getBlockHeight")[0]["params"], json!([{"commitment": "confirmed"}]));
    })
    .await;
}

#[tokio::test]
async fn blockhash_expiry_exhausts_attempts() {
    bounded(async {
        let n = AtomicUsize::new(0);
        let server = Server::start(move |req| match req["method"].as_str().unwrap() {
            "getLatestBlockhash" => latest_blockhash_reply(1 + n.fetch_add(1, Ordering::SeqCst) as u8, 100),
            "simulateTransaction" => sim_ok(5_000),
            "sendTransaction" => Reply::Result(signature_of(req)),
            "getSignatureStatuses" => Reply::Result(ctx(json!([null]))),
            "getBlockHeight" => Reply::Result(json!(10_000)),
            m => panic!("unexpected {m}"),
        })
        .await;
        let chain = RpcChain::new(&server.url, fast_config());
        let (payer, other) = (Keypair::new(), Keypair::new());
        let err = chain.send(&[test_ix(&payer, &other)], &payer, &[&other]).await.unwrap_err();
        assert!(matches!(err, ChainError::BlockhashExpired { attempts: 3 }), "{err:?}");
        let sent: Vec<Transaction> =
            server.calls("sendTransaction").iter().map(|r| decode_tx(&r["params"][0])).collect();
        assert_eq!(sent.len(), 3);
        let hashes: Vec<Hash> = sent.iter().map(|t| t.message.recent_blockhash).collect();
        assert_eq!(hashes, vec![blockhash(1), blockhash(2), blockhash(3)]);
    })
    .await;
}

#[tokio::test]
async fn program_error_in_status_is_a_transaction_error() {
    bounded(async {
        let server = Server::start(|req| match req["method"].as_str().unwrap() {
            "getLatestBlockhash" => latest_blockhash_reply(1, 1_000),
            "simulateTransaction" => sim_ok(5_000),
            "sendTransaction" => Reply::Result(signature_of(req)),
            "getSignatureStatuses" => status(json!({"InstructionError": [0, {"Custom": 6003}]}), "confirmed"),
            "getTransaction" => tx_with_logs(&["Program log: AnchorError ... Error Number: 6003."]),
            m => panic!("unexpected {m}"),
        })
        .await;
        let chain = RpcChain::new(&server.url, fast_config());
        let (payer, other) = (Keypair::new(), Keypair::new());
        let err = chain.send(&[test_ix(&payer, &other)], &payer, &[&other]).await.unwrap_err();
        assert_eq!(err.program_error_code(), Some(6003));
        match err {
            ChainError::Transaction { code: Some(6003), logs, .. } => {
                assert_eq!(logs, vec!["Program log: AnchorError ... Error Number: 6003.".to_owned()])
            }
            e => panic!("{e:?}"),
        }
        assert_eq!(server.calls("sendTransaction").len(), 1);
    })
    .await;
}

#[tokio::test]
async fn simulation_failure_is_not_sent() {
    bounded(async {
        let server = Server::start(|req| match req["method"].as_str().unwrap() {
            "getLatestBlockhash" => latest_blockhash_reply(1, 1_000),
            "simulateTransaction" => Reply::Result(ctx(json!({
                "err": {"InstructionError": [2, {"Custom": 6001}]},
                "logs": ["Program log: Error Number: 6001."],
                "unitsConsumed": 4_000,
            }))),
            m => panic!("unexpected {m} ({req})"),
        })
        .await;
        let chain = RpcChain::new(&server.url, fast_config());
        let (payer, other) = (Keypair::new(), Keypair::new());
        let err = chain.send(&[test_ix(&payer, &other)], &payer, &[&other]).await.unwrap_err();
        match err {
            ChainError::Transaction { code: Some(6001), logs, .. } => {
                assert_eq!(logs, vec!["Program log: Error Number: 6001.".to_owned()])
            }
            e => panic!("{e:?}"),
        }
        assert_eq!(server.methods(), ["getLatestBlockhash", "simulateTransaction"]);
        assert!(server.calls("sendTransaction").is_empty());
    })
    .await;
}

#[tokio::test]
async fn missing_signer_is_an_error_before_anything_is_sent() {
    bounded(async {
        let server = Server::start(|req| match req["method"].as_str().unwrap() {
            "getLatestBlockhash" => latest_blockhash_reply(1, 1_000),
            m => panic!("unexpected {m}"),
        })
        .await;
        let chain = RpcChain::new(&server.url, fast_config());
        let (payer, other) = (Keypair::new(), Keypair::new());
        let err = chain.send(&[test_ix(&payer, &other)], &payer, &[]).await.unwrap_err();
        assert!(err.to_string().contains(&other.pubkey().to_string()), "{err}");
        assert_eq!(server.methods(), ["getLatestBlockhash"]);
    })
    .await;
}

#[tokio::test]
async fn wait_for_account_change_polls_until_changed() {
    bounded(async {
        let owner = Pubkey::new_from_array([3; 32]);
        let n = AtomicUsize::new(0);
        let server = Server::start(move |req| {
            assert_eq!(req["method"], "getAccountInfo");
            match n.fetch_add(1, Ordering::SeqCst) {
                0..=2 => Reply::Result(ctx(ui_account(10, b"old", &owner))),
                _ => Reply::Result(ctx(ui_account(20, b"new", &owner))),
            }
        })
        .await;
        let chain = RpcChain::new(&server.url, fast_config());
        let key = Pubkey::new_from_array([1; 32]);
        let old = chain.get_account(&key).await.unwrap().unwrap();
        let new = chain.wait_for_account_change(&key, Some(&old), Duration::from_secs(10)).await.unwrap();
        assert_eq!(new, Some(ChainAccount { lamports: 20, data: b"new".to_vec(), owner, executable: false }));
        assert_eq!(server.requests().len(), 4);

        // No change at all → Timeout.
        let server = Server::start(|_| Reply::Result(ctx(Value::Null))).await;
        let chain = RpcChain::new(&server.url, fast_config());
        let err = chain.wait_for_account_change(&key, None, Duration::from_millis(20)).await.unwrap_err();
        assert!(matches!(err, ChainError::Timeout(_)), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn wait_for_account_change_falls_back_to_polling_when_ws_unreachable() {
    bounded(async {
        let owner = Pubkey::new_from_array([3; 32]);
        let n = AtomicUsize::new(0);
        let server = Server::start(move |_| match n.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::Result(ctx(Value::Null)),
            _ => Reply::Result(ctx(ui_account(1, b"created", &owner))),
        })
        .await;
        let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ws_url = format!("ws://{}", dead.local_addr().unwrap());
        drop(dead);
        let chain = RpcChain::new(&server.url, RpcConfig { ws_url: Some(ws_url), ..fast_config() });
        let key = Pubkey::new_from_array([1; 32]);
        let new = chain.wait_for_account_change(&key, None, Duration::from_secs(10)).await.unwrap();
        assert_eq!(new.map(|a| a.data), Some(b"created".to_vec()));
        assert_eq!(server.calls("getAccountInfo").len(), 2);
    })
    .await;
}

/// A websocket server that answers one `accountSubscribe` and then pushes `notifications`.
#[cfg(feature = "ws")]
async fn ws_server(notifications: Vec<Value>) -> (String, Arc<Mutex<Vec<Value>>>) {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let rec = received.clone();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(stream).await.unwrap();
        let Some(Ok(Message::Text(text))) = ws.next().await else { panic!("no subscribe request") };
        let request: Value = serde_json::from_str(text.as_str()).unwrap();
        rec.lock().unwrap().push(request.clone());
        let reply = json!({"jsonrpc": "2.0", "result": 23, "id": request["id"]});
        ws.send(Message::Text(reply.to_string().into())).await.unwrap();
        for value in notifications {
            let note = json!({
                "jsonrpc": "2.0",
                "method": "accountNotification",
                "params": {"result": {"context": {"slot": 5}, "value": value}, "subscription": 23},
            });
            if ws.send(Message::Text(note.to_string().into())).await.is_err() {
                return;
            }
        }
        // Keep the socket open until the client closes it.
        while let Some(Ok(_)) = ws.next().await {}
    });
    (url, received)
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn wait_for_account_change_uses_account_subscribe() {
    bounded(async {
        let owner = Pubkey::new_from_array([3; 32]);
        let old = ChainAccount { lamports: 10, data: b"old".to_vec(), owner, executable: false };
        // HTTP always shows the old state: the change can only come through the websocket.
        let server = Server::start(move |req| {
            assert_eq!(req["method"], "getAccountInfo");
            Reply::Result(ctx(ui_account(10, b"old", &owner)))
        })
        .await;
        let (ws_url, received) = ws_server(vec![ui_account(10, b"old", &owner), ui_account(20, b"new", &owner)]).await;
        let chain = RpcChain::new(&server.url, RpcConfig { ws_url: Some(ws_url), ..fast_config() });
        let key = Pubkey::new_from_array([1; 32]);
        let new = chain.wait_for_account_change(&key, Some(&old), Duration::from_secs(10)).await.unwrap();
        assert_eq!(new, Some(ChainAccount { lamports: 20, data: b"new".to_vec(), owner, executable: false }));

        let received = received.lock().unwrap().clone();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0]["method"], "accountSubscribe");
        assert_eq!(received[0]["params"], json!([key.to_string(), {"encoding": "base64", "commitment": "confirmed"}]));
        // Exactly one HTTP read: the check right after subscribing.
        assert_eq!(server.calls("getAccountInfo").len(), 1);
    })
    .await;
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn account_subscribe_closed_account_and_race_check() {
    bounded(async {
        let owner = Pubkey::new_from_array([3; 32]);
        let old = ChainAccount { lamports: 10, data: b"old".to_vec(), owner, executable: false };
        let key = Pubkey::new_from_array([1; 32]);

        // A notification with `null` value: the account was closed.
        let server = Server::start(move |_| Reply::Result(ctx(ui_account(10, b"old", &owner)))).await;
        let (ws_url, _) = ws_server(vec![Value::Null]).await;
        let chain = RpcChain::new(&server.url, RpcConfig { ws_url: Some(ws_url), ..fast_config() });
        assert_eq!(chain.wait_for_account_change(&key, Some(&old), Duration::from_secs(10)).await.unwrap(), None);

        // The change happened before the subscription: the HTTP read right after subscribing
        // returns it even though no notification ever comes.
        let server = Server::start(move |_| Reply::Result(ctx(ui_account(30, b"raced", &owner)))).await;
        let (ws_url, _) = ws_server(vec![]).await;
        let chain = RpcChain::new(&server.url, RpcConfig { ws_url: Some(ws_url), ..fast_config() });
        let new = chain.wait_for_account_change(&key, Some(&old), Duration::from_secs(10)).await.unwrap();
        assert_eq!(new.map(|a| a.lamports), Some(30));
    })
    .await;
}

#[tokio::test]
async fn finalized_commitment_waits_for_finalized_status() {
    bounded(async {
        let polls = AtomicUsize::new(0);
        let server = Server::start(move |req| match req["method"].as_str().unwrap() {
            "getLatestBlockhash" => latest_blockhash_reply(1, 1_000),
            "simulateTransaction" => sim_ok(1_000),
            "sendTransaction" => Reply::Result(signature_of(req)),
            "getSignatureStatuses" => match polls.fetch_add(1, Ordering::SeqCst) {
                0 => Reply::Result(ctx(json!([null]))),
                1 => status(Value::Null, "processed"),
                2 => status(Value::Null, "confirmed"),
                _ => status(Value::Null, "finalized"),
            },
            "getBlockHeight" => Reply::Result(json!(10)),
            "getTransaction" => tx_with_logs(&[]),
            m => panic!("unexpected {m}"),
        })
        .await;
        let config = RpcConfig { commitment: Commitment::Finalized, ..fast_config() };
        let chain = RpcChain::new(&server.url, config);
        let (payer, other) = (Keypair::new(), Keypair::new());
        chain.send(&[test_ix(&payer, &other)], &payer, &[&other]).await.unwrap();
        assert_eq!(server.calls("getSignatureStatuses").len(), 4);
        // Only the poll that saw no status asked for the block height.
        assert_eq!(server.calls("getBlockHeight").len(), 1);
        assert_eq!(server.calls("getLatestBlockhash")[0]["params"], json!([{"commitment": "finalized"}]));
        assert_eq!(server.calls("getTransaction")[0]["params"][1]["commitment"], "finalized");
    })
    .await;
}

#[tokio::test]
async fn signatures_for_address_pages_back_and_returns_oldest_first() {
    bounded(async {
        // 1003 transactions s0 (oldest) .. s1002 (newest); s5 failed. The node answers newest
        // first, 1000 per page, continuing `before` the last signature of the previous page.
        let server = Server::start(|req| {
            assert_eq!(req["method"], "getSignaturesForAddress");
            let cfg = &req["params"][1];
            let start: i64 = match cfg["before"].as_str() {
                None => 1002,
                Some(b) => b[1..].parse::<i64>().unwrap() - 1,
            };
            let limit = cfg["limit"].as_i64().unwrap();
            let page: Vec<Value> = (0..limit)
                .map(|i| start - i)
                .take_while(|n| *n >= 0)
                .map(|n| {
                    let err = if n == 5 { json!({"InstructionError": [0, {"Custom": 1}]}) } else { Value::Null };
                    json!({"signature": format!("s{n}"), "slot": n, "err": err, "memo": null, "blockTime": null})
                })
                .collect();
            Reply::Result(json!(page))
        })
        .await;
        let chain = RpcChain::new(&server.url, fast_config());
        let key = Pubkey::new_from_array([4; 32]);
        let sigs = chain.signatures_for_address(&key).await.unwrap();
        let expected: Vec<String> = (0..1003).filter(|n| *n != 5).map(|n| format!("s{n}")).collect();
        assert_eq!(sigs, expected);
        let calls = server.calls("getSignaturesForAddress");
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0]["params"], json!([key.to_string(), {"limit": 1000, "commitment": "confirmed"}]));
        assert_eq!(calls[1]["params"][1]["before"], "s3");
    })
    .await
}

#[tokio::test]
async fn get_multiple_accounts_splits_requests_at_the_node_limit() {
    bounded(async {
        let owner = Pubkey::new_from_array([3; 32]);
        // Each account's lamports encode its position, so the order can be checked.
        let server = Server::start(move |req| match req["method"].as_str().unwrap() {
            "getMultipleAccounts" => {
                let keys = req["params"][0].as_array().unwrap();
                assert!(keys.len() <= 100, "a request carried {} keys", keys.len());
                let accounts: Vec<Value> = keys
                    .iter()
                    .map(|k| {
                        let pk: Pubkey = k.as_str().unwrap().parse().unwrap();
                        ui_account(u64::from(pk.to_bytes()[0]) + 256 * u64::from(pk.to_bytes()[1]), b"", &owner)
                    })
                    .collect();
                Reply::Result(ctx(json!(accounts)))
            }
            m => panic!("unexpected {m}"),
        })
        .await;
        let chain = RpcChain::new(&server.url, fast_config());
        let keys: Vec<Pubkey> = (0u16..250)
            .map(|i| {
                let mut b = [9u8; 32];
                b[..2].copy_from_slice(&i.to_le_bytes());
                Pubkey::new_from_array(b)
            })
            .collect();
        let got = chain.get_multiple_accounts(&keys).await.unwrap();
        assert_eq!(got.len(), 250);
        assert!(got.iter().enumerate().all(|(i, a)| a.as_ref().unwrap().lamports == i as u64), "order kept");
        assert_eq!(server.methods().len(), 3, "100 + 100 + 50");
    })
    .await;
}

/// A node that is behind (-32005) is asked again; the call succeeds once it caught up.
#[tokio::test]
async fn a_node_behind_is_retried_then_answers() {
    bounded(async {
        let n = AtomicUsize::new(0);
        let server = Server::start(move |_| match n.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::RpcError(-32005, "Node is behind by 42 slots"),
            1 => Reply::RpcError(-32016, "Minimum context slot has not been reached"),
            _ => Reply::Result(ctx(Value::Null)),
        })
        .await;
        let chain = RpcChain::new(&server.url, fast_config());
        assert_eq!(chain.get_account(&Pubkey::new_from_array([1; 32])).await.unwrap(), None);
        assert_eq!(server.calls("getAccountInfo").len(), 3);
        // A definitive error object is not retried.
        let server = Server::start(|_| Reply::RpcError(-32602, "Invalid params")).await;
        let chain = RpcChain::new(&server.url, fast_config());
        let err = chain.get_account(&Pubkey::new_from_array([1; 32])).await.unwrap_err();
        assert!(matches!(&err, ChainError::Rpc(m) if m.contains("-32602")), "{err:?}");
        assert_eq!(server.requests().len(), 1);
        // Nor is a missing method; it says so, for callers with another way.
        let server = Server::start(|_| Reply::RpcError(-32601, "Method not found")).await;
        let chain = RpcChain::new(&server.url, fast_config());
        let err = chain.get_account(&Pubkey::new_from_array([1; 32])).await.unwrap_err();
        assert!(matches!(&err, ChainError::Unsupported(m) if m.contains("-32601")), "{err:?}");
        assert_eq!(server.requests().len(), 1);
    })
    .await;
}

/// HTTP 429 with `Retry-After: 1`: the retry waits at least that long (a correctness property of
/// the client, not a performance number).
#[tokio::test]
async fn retry_after_is_honoured() {
    bounded(async {
        let n = AtomicUsize::new(0);
        let server = Server::start(move |_| match n.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::HttpRetryAfter(429, 1),
            _ => Reply::Result(ctx(Value::Null)),
        })
        .await;
        let chain = RpcChain::new(&server.url, fast_config());
        let t = std::time::Instant::now();
        assert_eq!(chain.get_account(&Pubkey::new_from_array([1; 32])).await.unwrap(), None);
        assert!(t.elapsed() >= Duration::from_millis(950), "waited {:?}", t.elapsed());
        assert_eq!(server.requests().len(), 2);
    })
    .await;
}

/// The priority fee is the 75th percentile of the recent non-zero fees of the transaction's
/// writable accounts, clamped to [floor, cap]; an error reading them gives the floor.
#[tokio::test]
async fn priority_fee_follows_recent_fees_within_floor_and_cap() {
    async fn sent_price(fees: Option<Vec<u64>>, floor: u64, cap: u64) -> (u64, Vec<Value>) {
        let server = Server::start(move |req| match req["method"].as_str().unwrap() {
            "getLatestBlockhash" => latest_blockhash_reply(1, 1_000),
            "getRecentPrioritizationFees" => match &fees {
                Some(f) => Reply::Result(json!(f
                    .iter()
                    .enumerate()
                    .map(|(i, f)| json!({"slot": i, "prioritizationFee": f}))
                    .collect::<Vec<_>>())),
                None => Reply::RpcError(-32601, "Method not found"),
            },
            "simulateTransaction" => sim_ok(10_000),
            "sendTransaction" => Reply::Result(signature_of(req)),
            "getSignatureStatuses" => status(Value::Null, "confirmed"),
            "getBlockHeight" => Reply::Result(json!(900)),
            "getTransaction" => tx_with_logs(&[]),
            m => panic!("unexpected {m}"),
        })
        .await;
        let config = RpcConfig {
            priority_micro_lamports: floor,
            priority_fee_cap_micro_lamports: cap,
            priority_fee_percentile: Some(75),
            ..fast_config()
        };
        let chain = RpcChain::new(&server.url, config);
        let (payer, other) = (Keypair::new(), Keypair::new());
        let writable = Keypair::new().pubkey();
        let ix = Instruction {
            program_id: Pubkey::new_from_array([9; 32]),
            accounts: vec![AccountMeta::new(payer.pubkey(), true), AccountMeta::new(writable, false)],
            data: vec![1],
        };
        chain.send(&[ix], &payer, &[&other]).await.unwrap();
        let send = server.calls("sendTransaction");
        let price = compute_budget(&decode_tx(&send[0]["params"][0])).1.unwrap();
        (price, server.calls("getRecentPrioritizationFees"))
    }
    bounded(async {
        // Non-zero fees 10, 20, 30, 40 (zeros ignored): the 75th percentile (nearest rank) is 30.
        let (price, calls) = sent_price(Some(vec![0, 40, 10, 0, 30, 20]), 5, 1_000).await;
        assert_eq!(price, 30);
        // Priced on the writable accounts other than the fee payer.
        assert_eq!(calls[0]["params"][0].as_array().unwrap().len(), 1);
        // Above the cap: the cap. Below the floor: the floor.
        assert_eq!(sent_price(Some(vec![5_000, 9_000]), 5, 1_000).await.0, 1_000);
        assert_eq!(sent_price(Some(vec![1, 2]), 5, 1_000).await.0, 5);
        // No data, or an error: the floor.
        assert_eq!(sent_price(Some(vec![]), 5, 1_000).await.0, 5);
        assert_eq!(sent_price(None, 5, 1_000).await.0, 5);
    })
    .await;
}

/// A preflight failure (-32002) carrying a custom program error becomes a transaction error with
/// that code and the logs; "AlreadyProcessed" does not (the signature landed: resolve it).
#[tokio::test]
async fn preflight_failure_is_a_transaction_error_with_its_code() {
    bounded(async {
        let data = json!({"err": {"InstructionError": [0, {"Custom": 9003}]}, "logs": ["Program log: too long"]});
        let server =
            Server::start(move |_| Reply::RpcErrorData(-32002, "Transaction simulation failed", data.clone())).await;
        let chain = RpcChain::new(&server.url, fast_config());
        let err = chain.call::<Value>("sendTransaction", json!(["AA=="])).await.unwrap_err();
        match &err {
            ChainError::Transaction { code, logs, .. } => {
                assert_eq!(*code, Some(9003));
                assert_eq!(logs, &vec!["Program log: too long".to_owned()]);
            }
            e => panic!("{e:?}"),
        }
        assert!(err.is_definitive());
        assert_eq!(server.requests().len(), 1);
        let server = Server::start(|_| {
            Reply::RpcErrorData(-32002, "Transaction simulation failed", json!({"err": "AlreadyProcessed", "logs": []}))
        })
        .await;
        let chain = RpcChain::new(&server.url, fast_config());
        let err = chain.call::<Value>("sendTransaction", json!(["AA=="])).await.unwrap_err();
        assert!(matches!(err, ChainError::Rpc(_)) && !err.is_definitive(), "{err:?}");
        // surfpool's wording for a resent, landed transaction: no `data`, only the message.
        let server = Server::start(|_| {
            Reply::RpcError(-32002, "Transaction verification failed: This transaction has already been processed")
        })
        .await;
        let chain = RpcChain::new(&server.url, fast_config());
        let err = chain.call::<Value>("sendTransaction", json!(["AA=="])).await.unwrap_err();
        assert!(matches!(err, ChainError::Rpc(_)) && !err.is_definitive(), "{err:?}");
    })
    .await;
}

/// After one of its transactions landed at slot 77, the client's account reads carry
/// `minContextSlot: 77`, so a lagging node cannot show the state before its own write.
#[tokio::test]
async fn reads_after_a_write_carry_min_context_slot() {
    bounded(async {
        let server = Server::start(|req| match req["method"].as_str().unwrap() {
            "getLatestBlockhash" => latest_blockhash_reply(1, 1_000),
            "simulateTransaction" => sim_ok(10_000),
            "sendTransaction" => Reply::Result(signature_of(req)),
            "getSignatureStatuses" => status(Value::Null, "confirmed"),
            "getBlockHeight" => Reply::Result(json!(900)),
            "getTransaction" => tx_with_logs(&[]),
            "getAccountInfo" | "getMultipleAccounts" => Reply::Result(ctx(Value::Null)),
            m => panic!("unexpected {m}"),
        })
        .await;
        let chain = RpcChain::new(&server.url, fast_config());
        let key = Pubkey::new_from_array([1; 32]);
        chain.get_account(&key).await.unwrap();
        assert!(server.calls("getAccountInfo")[0]["params"][1].get("minContextSlot").is_none());
        let (payer, other) = (Keypair::new(), Keypair::new());
        chain.send(&[test_ix(&payer, &other)], &payer, &[&other]).await.unwrap();
        chain.get_account(&key).await.unwrap();
        assert_eq!(server.calls("getAccountInfo")[1]["params"][1]["minContextSlot"], 77);
        assert_eq!(chain.min_context_slot(), 77);
    })
    .await;
}

/// A node that rejects every `sendTransaction` with a custom program error and answers
/// `getSignatureStatuses` with `known` (landed) or with nothing.
async fn failing_send_node(known: bool) -> Server {
    Server::start(move |req| match req["method"].as_str().unwrap() {
        "getLatestBlockhash" => latest_blockhash_reply(1, 1_000),
        "simulateTransaction" => sim_ok(10_000),
        "getRecentPrioritizationFees" => Reply::Result(json!([])),
        "sendTransaction" => Reply::RpcErrorData(
            -32002,
            "Transaction simulation failed",
            json!({"err": {"InstructionError": [0, {"Custom": 6000}]}, "logs": []}),
        ),
        "getSignatureStatuses" if known => status(Value::Null, "confirmed"),
        "getSignatureStatuses" => Reply::Result(ctx(json!([null]))),
        "getBlockHeight" => Reply::Result(json!(900)),
        m => panic!("unexpected {m}"),
    })
    .await
}

/// A node that calls a resend of landed bytes a failed transaction (a custom code, even) does not
/// get the last word: `submit_and_wait` asks for the signature's status, and it landed.
#[tokio::test]
async fn submit_failure_answer_for_landed_bytes_resolves_as_landed() {
    bounded(async {
        let (payer, other) = (Keypair::new(), Keypair::new());
        let ix = [test_ix(&payer, &other)];
        let server = failing_send_node(true).await;
        let chain = RpcChain::new(&server.url, fast_config());
        let tx = chain.prepare(&ix, &payer, &[&other]).await.unwrap();
        let r = submit_and_wait(&chain, &tx, Duration::from_secs(5), Duration::from_millis(10)).await.unwrap();
        assert_eq!(r, Resolution::Landed { slot: 77 });
        assert_eq!(server.calls("sendTransaction").len(), 1);
        // And when the node knows nothing of the signature, the failure is the verdict.
        let server = failing_send_node(false).await;
        let chain = RpcChain::new(&server.url, fast_config());
        let tx = chain.prepare(&ix, &payer, &[&other]).await.unwrap();
        let r = submit_and_wait(&chain, &tx, Duration::from_secs(5), Duration::from_millis(10)).await.unwrap();
        assert!(matches!(r, Resolution::Failed { code: Some(6000), .. }), "{r:?}");
    })
    .await;
}

/// `getProgramAccounts`: the filters go out as `dataSize` and base58 `memcmp`, the keyed accounts
/// decode; a node that disabled its index (-32010) or lacks the method (-32601) answers
/// `Unsupported`, which discovery takes as "use the history".
#[tokio::test]
async fn program_accounts_request_shape_and_unsupported_nodes() {
    bounded(async {
        let owner = Pubkey::new_from_array([5; 32]);
        let key = Pubkey::new_from_array([6; 32]);
        let account = json!({"lamports": 9, "data": [B64.encode([1u8, 2, 3]), "base64"], "owner": owner.to_string(),
                             "executable": false, "rentEpoch": 0, "space": 3});
        let server =
            Server::start(move |_| Reply::Result(json!([{"pubkey": key.to_string(), "account": account}]))).await;
        let chain = RpcChain::new(&server.url, fast_config());
        let filters = [AccountFilter::DataSize(3), AccountFilter::Memcmp { offset: 1, bytes: vec![2, 3] }];
        let got = chain.program_accounts(&owner, &filters).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].0, got[0].1.lamports, got[0].1.data.clone(), got[0].1.owner),
            (key, 9, vec![1, 2, 3], owner)
        );
        let req = &server.calls("getProgramAccounts")[0]["params"];
        assert_eq!(req[0], json!(owner.to_string()));
        assert_eq!(req[1]["encoding"], "base64");
        assert_eq!(
            req[1]["filters"],
            json!([{"dataSize": 3}, {"memcmp": {"offset": 1, "bytes": bs58::encode([2u8, 3]).into_string()}}])
        );
        assert!(filters.iter().all(|f| f.matches(&[1, 2, 3])));
        assert!(!AccountFilter::Memcmp { offset: 2, bytes: vec![3, 4] }.matches(&[1, 2, 3]));
        for code in [-32010, -32601] {
            let server = Server::start(move |_| Reply::RpcError(code, "getProgramAccounts is disabled")).await;
            let chain = RpcChain::new(&server.url, fast_config());
            let err = chain.program_accounts(&owner, &filters).await.unwrap_err();
            assert!(matches!(err, ChainError::Unsupported(_)), "{code}: {err:?}");
            assert_eq!(server.requests().len(), 1, "not retried");
        }
    })
    .await;
}
