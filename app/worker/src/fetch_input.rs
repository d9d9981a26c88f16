//! Fetching a job's input by URI and checking it against the on-chain hash.
use std::time::Duration;

use crate::store::{hex, parse_hex32, sha256, ContentStore};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FetchError {
    #[error("unsupported input URI scheme in `{0}` (use cas://, file:// or http(s)://)")]
    UnsupportedScheme(String),
    #[error("input unreachable at `{uri}`: {reason}")]
    Unreachable { uri: String, reason: String },
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
        let client = reqwest::Client::builder().timeout(timeout).build().map_err(|e| unreachable(e.to_string()))?;
        let resp = client.get(uri).send().await.map_err(|e| unreachable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(unreachable(format!("HTTP {}", resp.status())));
        }
        if let Some(len) = resp.content_length() {
            if len as usize > limit {
                return Err(FetchError::TooLarge { size: len as usize, limit });
            }
        }
        resp.bytes().await.map_err(|e| unreachable(e.to_string()))?.to_vec()
    } else {
        return Err(FetchError::UnsupportedScheme(uri.to_string()));
    };
    let bytes = check(bytes, expected, limit)?;
    let _ = store.put(&bytes);
    Ok(bytes)
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
        // A closed local port: unreachable, quickly, with the reason in the error.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let e = fetch_input(&format!("http://127.0.0.1:{port}/x"), &other, &store, 100, t).await.unwrap_err();
        assert!(matches!(e, FetchError::Unreachable { .. }), "{e}");
    }
}
