//! Fetching a job's input by URI and checking it against the on-chain hash.
use std::time::Duration;

use crate::store::{hex, parse_hex32, sha256, ContentStore};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FetchError {
    #[error("unsupported input URI scheme in `{0}` (use cas://, file:// or http(s)://)")]
    UnsupportedScheme(String),
    /// Definitive: the source answered that the input is not there (HTTP 404/410 and other 4xx
    /// after the retries, a missing file, a hash that is in no store).
    #[error("input unreachable at `{uri}`: {reason}")]
    Unreachable { uri: String, reason: String },
    /// Transient: connection refused or reset, a timeout, HTTP 5xx or 429. Worth retrying later;
    /// never a reason to give a job up for good.
    #[error("input temporarily unreachable at `{uri}`: {reason}")]
    Transient { uri: String, reason: String },
    #[error("input is {size} bytes, more than the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    #[error("input hash mismatch: the job says {expected}, the bytes hash to {actual}")]
    HashMismatch { expected: String, actual: String },
}

/// Fetches the input at `uri` (at most `limit` bytes), checks its SHA-256 against `expected`, and
/// caches it in `store`.
pub async fn fetch_input(
    uri: &str,
    expected: &[u8; 32],
    store: &ContentStore,
    limit: usize,
    timeout: Duration,
) -> Result<Vec<u8>, FetchError> {
    let unreachable = |reason: String| FetchError::Unreachable { uri: uri.to_string(), reason };
    // Already in the local store? (Any URI: the store is keyed by the expected hash.)
    if let Some(bytes) = store.get(expected) {
        return check(bytes, expected, limit);
    }
    let bytes = if let Some(h) = uri.strip_prefix("cas://") {
        let h = parse_hex32(h).ok_or_else(|| unreachable("not a 64-hex-digit content hash".into()))?;
        store.get(&h).ok_or_else(|| unreachable("not in the local content store".into()))?
    } else if let Some(path) = uri.strip_prefix("file://") {
        let meta = tokio::fs::metadata(path).await.map_err(|e| unreachable(e.to_string()))?;
        if meta.len() as usize > limit {
            return Err(FetchError::TooLarge { size: meta.len() as usize, limit });
        }
        tokio::fs::read(path).await.map_err(|e| unreachable(e.to_string()))?
    } else if uri.starts_with("http://") || uri.starts_with("https://") {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match fetch_http(uri, limit, timeout).await {
                Err(FetchError::Transient { reason, .. }) if attempt < HTTP_ATTEMPTS => {
                    let wait = RETRY_BACKOFF * 2u32.pow(attempt - 1);
                    tracing::debug!(uri, attempt, reason, ?wait, "transient input fetch error; retrying");
                    tokio::time::sleep(wait).await;
                }
                r => break r?,
            }
        }
    } else {
        return Err(FetchError::UnsupportedScheme(uri.to_string()));
    };
    let bytes = check(bytes, expected, limit)?;
    let _ = store.put(&bytes);
    Ok(bytes)
}

/// Attempts per http(s) fetch while the errors are transient.
pub const HTTP_ATTEMPTS: u32 = 3;
/// Backoff before the first retry; doubles with each retry.
pub const RETRY_BACKOFF: Duration = Duration::from_millis(250);

async fn fetch_http(uri: &str, limit: usize, timeout: Duration) -> Result<Vec<u8>, FetchError> {
    let transient = |reason: String| FetchError::Transient { uri: uri.to_string(), reason };
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| FetchError::Unreachable { uri: uri.to_string(), reason: e.to_string() })?;
    // Connection refused or reset, DNS, timeouts: all worth another try later.
    let resp = client.get(uri).send().await.map_err(|e| transient(e.without_url().to_string()))?;
    let status = resp.status();
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(transient(format!("HTTP {status}")));
    }
    if !status.is_success() {
        return Err(FetchError::Unreachable { uri: uri.to_string(), reason: format!("HTTP {status}") });
    }
    if let Some(len) = resp.content_length() {
        if len as usize > limit {
            return Err(FetchError::TooLarge { size: len as usize, limit });
        }
    }
    // Stream with a hard cap: a server that lies about (or omits) its length cannot make us buffer more.
    let mut resp = resp;
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| transient(e.without_url().to_string()))? {
        if body.len() + chunk.len() > limit {
            return Err(FetchError::TooLarge { size: body.len() + chunk.len(), limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl FetchError {
    /// Whether a later attempt may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, FetchError::Transient { .. })
    }
}

fn check(bytes: Vec<u8>, expected: &[u8; 32], limit: usize) -> Result<Vec<u8>, FetchError> {
    if bytes.len() > limit {
        return Err(FetchError::TooLarge { size: bytes.len(), limit });
    }
    let actual = sha256(&bytes);
    if actual != *expected {
        return Err(FetchError::HashMismatch { expected: hex(expected), actual: hex(&actual) });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn schemes_hash_check_limits_and_unreachable() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::open(dir.path().join("store")).unwrap();
        let t = Duration::from_secs(2);
        let file = dir.path().join("input.txt");
        std::fs::write(&file, b"prompt").unwrap();
        let h = sha256(b"prompt");
        let uri = format!("file://{}", file.display());
        assert_eq!(fetch_input(&uri, &h, &store, 100, t).await.unwrap(), b"prompt");
        assert_eq!(fetch_input(&ContentStore::uri(&h), &h, &store, 100, t).await.unwrap(), b"prompt", "cached");
        let other = sha256(b"other");
        assert!(matches!(fetch_input(&uri, &other, &store, 100, t).await, Err(FetchError::HashMismatch { .. })));
        assert!(matches!(fetch_input(&uri, &other, &store, 3, t).await, Err(FetchError::TooLarge { .. })));
        assert!(matches!(fetch_input("ftp://x", &other, &store, 100, t).await, Err(FetchError::UnsupportedScheme(_))));
        assert!(matches!(
            fetch_input("file:///nonexistent/x", &other, &store, 100, t).await,
            Err(FetchError::Unreachable { .. })
        ));
        // A closed local port: transient (the server may come back), after the retries.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let e = fetch_input(&format!("http://127.0.0.1:{port}/x"), &other, &store, 100, t).await.unwrap_err();
        assert!(e.is_transient(), "{e}");
    }

    /// A tiny HTTP server answering each connection with the next canned response.
    async fn serve(responses: Vec<String>) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let h = hits.clone();
        tokio::spawn(async move {
            for r in responses {
                let (mut sock, _) = l.accept().await.unwrap();
                h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = [0u8; 2048];
                let _ = sock.read(&mut buf).await;
                let _ = sock.write_all(r.as_bytes()).await;
                let _ = sock.shutdown().await;
            }
        });
        (port, hits)
    }

    fn http(status: &str, body: &str) -> String {
        format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
    }

    #[tokio::test]
    async fn transient_http_errors_are_retried_and_definitive_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::open(dir.path().join("store")).unwrap();
        let t = Duration::from_secs(2);
        let h = sha256(b"prompt");
        // 503, then 429, then the bytes: fetched on the third attempt.
        let (port, hits) = serve(vec![
            http("503 Service Unavailable", ""),
            http("429 Too Many Requests", ""),
            http("200 OK", "prompt"),
        ])
        .await;
        let uri = format!("http://127.0.0.1:{port}/o");
        assert_eq!(fetch_input(&uri, &h, &store, 100, t).await.unwrap(), b"prompt");
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 3);
        // 404: definitive at once, one request.
        let other = sha256(b"other");
        let (port, hits) = serve(vec![http("404 Not Found", ""), http("200 OK", "other")]).await;
        let e = fetch_input(&format!("http://127.0.0.1:{port}/o"), &other, &store, 100, t).await.unwrap_err();
        assert!(matches!(e, FetchError::Unreachable { .. }) && !e.is_transient(), "{e}");
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
        // 5xx every time: transient after HTTP_ATTEMPTS requests.
        let (port, hits) = serve(vec![http("500 Internal Server Error", ""); 5]).await;
        let e = fetch_input(&format!("http://127.0.0.1:{port}/o"), &other, &store, 100, t).await.unwrap_err();
        assert!(e.is_transient(), "{e}");
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), HTTP_ATTEMPTS as usize);
        // A body longer than the cap is refused while streaming, even without a content-length.
        let (port, _) = serve(vec![format!("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{}", "x".repeat(500))]).await;
        let e = fetch_input(&format!("http://127.0.0.1:{port}/o"), &other, &store, 100, t).await.unwrap_err();
        assert!(matches!(e, FetchError::TooLarge { .. }), "{e}");
    }
}
