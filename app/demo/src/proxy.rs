//! A fault-injecting JSON-RPC proxy on 127.0.0.1, for the chaos test: it sits between the
//! workers and the validator's HTTP RPC port and, per request, a seeded xorshift generator picks
//! one of
//!
//! * **forward**: pass the request on and the answer back;
//! * **drop**: pass the request on, wait for the node's answer, then close the connection without
//!   answering (the request *did* reach the node: a `sendTransaction` may have landed);
//! * **delay**: wait 0.5–2 s, then forward;
//! * **throttle**: answer `HTTP 429` with `Retry-After: 1` without forwarding;
//! * **stale**: for `getAccountInfo`, `getMultipleAccounts` and `getSignatureStatuses`, answer
//!   with the previous answer the proxy saw for the same method and parameters (the JSON-RPC `id`
//!   aside, which differs per request), as a lagging backend behind a load balancer would; when
//!   it has none the request is forwarded.
//!
//! The draws come from one generator in arrival order, so the sequence of decisions is fixed by
//! the seed while which request meets which decision depends on timing. HTTP/1.1 is written by
//! hand (one request per connection, `connection: close`, like the demo's store server); the
//! upstream client is reqwest.
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use serde::Serialize;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// xorshift64* (Vigna): small, fast, and the same sequence for the same seed everywhere.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        // Zero is the one state xorshift never leaves.
        XorShift(if seed == 0 { 0x9e37_79b9_7f4a_7c15 } else { seed })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (`n > 0`; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `[lo, hi]`, at millisecond resolution.
    pub fn duration(&mut self, lo: Duration, hi: Duration) -> Duration {
        let (lo_ms, hi_ms) = (lo.as_millis() as u64, hi.as_millis() as u64);
        Duration::from_millis(lo_ms + self.below(hi_ms.saturating_sub(lo_ms) + 1))
    }
}

/// Per-mille chances of each fault for one class of request; the rest is forwarded.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Rates {
    pub drop: u32,
    pub delay: u32,
    pub throttle: u32,
    /// Only for the methods a stale answer makes sense for (see the module doc).
    pub stale: u32,
}

/// The proxy's fault rates: `sendTransaction` (where a lost answer matters most) and the rest.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct FaultRates {
    pub send: Rates,
    pub other: Rates,
}

impl Default for FaultRates {
    fn default() -> Self {
        FaultRates {
            send: Rates { drop: 400, delay: 100, throttle: 50, stale: 0 },
            other: Rates { drop: 15, delay: 25, throttle: 25, stale: 80 },
        }
    }
}

/// What the proxy did, request by request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FaultCounts {
    pub requests: u64,
    pub forwarded: u64,
    pub dropped: u64,
    /// Of `dropped`: `sendTransaction` requests whose answer was dropped.
    pub dropped_sends: u64,
    pub delayed: u64,
    pub throttled: u64,
    pub stale: u64,
    /// Requests the node itself could not be reached for (answered 502).
    pub upstream_errors: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    forwarded: AtomicU64,
    dropped: AtomicU64,
    dropped_sends: AtomicU64,
    delayed: AtomicU64,
    throttled: AtomicU64,
    stale: AtomicU64,
    upstream_errors: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> FaultCounts {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        FaultCounts {
            requests: l(&self.requests),
            forwarded: l(&self.forwarded),
            dropped: l(&self.dropped),
            dropped_sends: l(&self.dropped_sends),
            delayed: l(&self.delayed),
            throttled: l(&self.throttled),
            stale: l(&self.stale),
            upstream_errors: l(&self.upstream_errors),
        }
    }
}

fn inc(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Forward,
    Drop,
    Delay(Duration),
    Throttle,
    Stale,
}

struct Shared {
    upstream: String,
    http: reqwest::Client,
    rng: Mutex<XorShift>,
    rates: FaultRates,
    counters: Counters,
    /// The last answer seen per `method` + `params` (stale-eligible methods only).
    answers: Mutex<HashMap<String, Value>>,
    /// Signatures of the `sendTransaction` requests whose answer was dropped.
    dropped_sends: Mutex<Vec<String>>,
}

/// Methods a stale answer is given for.
const STALE_METHODS: [&str; 3] = ["getAccountInfo", "getMultipleAccounts", "getSignatureStatuses"];

impl Shared {
    fn choose(&self, method: &str) -> Fault {
        let r = if method == "sendTransaction" { self.rates.send } else { self.rates.other };
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let roll = rng.below(1000) as u32;
        let mut edge = r.drop;
        if roll < edge {
            return Fault::Drop;
        }
        edge += r.delay;
        if roll < edge {
            return Fault::Delay(rng.duration(Duration::from_millis(500), Duration::from_millis(2000)));
        }
        edge += r.throttle;
        if roll < edge {
            return Fault::Throttle;
        }
        edge += r.stale;
        if roll < edge && STALE_METHODS.contains(&method) {
            return Fault::Stale;
        }
        Fault::Forward
    }

    /// Forwards `body`; `(status, answer)`, or `None` when the node cannot be reached.
    async fn forward(&self, body: &[u8]) -> Option<(u16, Vec<u8>)> {
        let resp = self
            .http
            .post(&self.upstream)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .ok()?;
        let status = resp.status().as_u16();
        Some((status, resp.bytes().await.ok()?.to_vec()))
    }
}

/// A running proxy; dropping it stops accepting connections.
pub struct FaultProxy {
    /// `http://127.0.0.1:<port>`: what the workers' `rpc_url` is set to.
    pub url: String,
    pub seed: u64,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Binds 127.0.0.1 on a free port and proxies to `upstream` (the validator's HTTP RPC URL).
    pub async fn start(upstream: &str, seed: u64, rates: FaultRates) -> std::io::Result<FaultProxy> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let shared = Arc::new(Shared {
            upstream: upstream.to_string(),
            http,
            rng: Mutex::new(XorShift::new(seed)),
            rates,
            counters: Counters::default(),
            answers: Mutex::new(HashMap::new()),
            dropped_sends: Mutex::new(vec![]),
        });
        let s = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else { continue };
                tokio::spawn(serve(sock, s.clone()));
            }
        });
        Ok(FaultProxy { url, seed, shared, task })
    }

    pub fn counts(&self) -> FaultCounts {
        self.shared.counters.snapshot()
    }

    /// The signatures of the transactions whose `sendTransaction` answer was dropped (each reached
    /// the node), in order.
    pub fn dropped_sends(&self) -> Vec<String> {
        self.shared.dropped_sends.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one HTTP/1.1 request: `(head, body)`; `None` on a malformed or cut-off request.
async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let end = loop {
        match tokio::time::timeout(Duration::from_secs(30), sock.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())?;
    if length > 16 * 1024 * 1024 {
        return None;
    }
    let mut body = buf[end + 4..].to_vec();
    while body.len() < length {
        match tokio::time::timeout(Duration::from_secs(30), sock.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
            Ok(Ok(n)) => body.extend_from_slice(&chunk[..n]),
        }
    }
    body.truncate(length);
    Some((head, body))
}

async fn respond(sock: &mut tokio::net::TcpStream, status: &str, extra: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}connection: close\r\n\r\n",
        body.len()
    );
    let _ = sock.write_all(head.as_bytes()).await;
    let _ = sock.write_all(body).await;
    let _ = sock.shutdown().await;
}

/// The first (fee payer's) signature of a base64 wire transaction: a compact-u16 count (one byte
/// for fewer than 128 signatures), then 64-byte signatures.
fn wire_signature(b64: &str) -> Option<String> {
    use base64::Engine as _;
    let wire = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    Some(bs58::encode(wire.get(1..65)?).into_string())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

async fn serve(mut sock: tokio::net::TcpStream, s: Arc<Shared>) {
    let Some((_head, body)) = read_request(&mut sock).await else { return };
    let c = &s.counters;
    inc(&c.requests);
    let request: Option<Value> = serde_json::from_slice(&body).ok();
    let method = request.as_ref().and_then(|r| r.get("method")).and_then(Value::as_str).unwrap_or("").to_string();
    // The cache key: the method and its parameters, not the per-request id.
    let key = request
        .as_ref()
        .filter(|_| STALE_METHODS.contains(&method.as_str()))
        .map(|r| format!("{method} {}", r.get("params").cloned().unwrap_or(Value::Null)));
    let mut fault = s.choose(&method);
    if fault == Fault::Stale {
        let cached = key.as_ref().and_then(|k| s.answers.lock().unwrap_or_else(|p| p.into_inner()).get(k).cloned());
        if let Some(mut answer) = cached {
            answer["id"] = request.as_ref().and_then(|r| r.get("id")).cloned().unwrap_or(Value::Null);
            inc(&c.stale);
            tracing::debug!(%method, "proxy: stale answer");
            respond(&mut sock, "200 OK", "", answer.to_string().as_bytes()).await;
            return;
        }
        fault = Fault::Forward;
    }
    match fault {
        Fault::Throttle => {
            inc(&c.throttled);
            tracing::debug!(%method, "proxy: 429");
            let body = br#"{"jsonrpc":"2.0","error":{"code":429,"message":"Too many requests"},"id":null}"#;
            respond(&mut sock, "429 Too Many Requests", "retry-after: 1\r\n", body).await;
            return;
        }
        Fault::Delay(d) => {
            inc(&c.delayed);
            tracing::debug!(%method, ?d, "proxy: delay");
            tokio::time::sleep(d).await;
        }
        Fault::Drop => {}
        Fault::Forward | Fault::Stale => inc(&c.forwarded),
    }
    let Some((status, answer)) = s.forward(&body).await else {
        inc(&c.upstream_errors);
        respond(&mut sock, "502 Bad Gateway", "", b"{}").await;
        return;
    };
    if status == 200 {
        if let Some(k) = key {
            if let Ok(v) = serde_json::from_slice::<Value>(&answer) {
                if v.get("result").is_some() {
                    s.answers.lock().unwrap_or_else(|p| p.into_inner()).insert(k, v);
                }
            }
        }
    }
    if fault == Fault::Drop {
        inc(&c.dropped);
        if method == "sendTransaction" {
            inc(&c.dropped_sends);
            let sig = request.as_ref().and_then(|r| r["params"][0].as_str()).and_then(wire_signature);
            s.dropped_sends.lock().unwrap_or_else(|p| p.into_inner()).push(sig.unwrap_or_default());
        }
        tracing::debug!(%method, "proxy: answer dropped");
        // Closed without a byte of answer: the client sees the connection end mid-request.
        drop(sock);
        return;
    }
    respond(&mut sock, &format!("{status} {}", reason(status)), "", &answer).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xorshift_is_deterministic_and_spreads() {
        let (mut a, mut b) = (XorShift::new(7), XorShift::new(7));
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        let mut hits = [0u32; 4];
        let mut r = XorShift::new(1);
        for _ in 0..4000 {
            hits[r.below(4) as usize] += 1;
        }
        assert!(hits.iter().all(|h| (800..1200).contains(h)), "{hits:?}");
        let d = r.duration(Duration::from_millis(500), Duration::from_millis(2000));
        assert!((500..=2000).contains(&(d.as_millis() as u64)));
    }
}
