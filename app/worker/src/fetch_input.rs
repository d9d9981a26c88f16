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

/// What a worker may fetch. Workers fetch what strangers post, so by default only public
/// addresses over http(s), and no redirects at all (a redirect could lead anywhere).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Loopback, private, link-local (cloud metadata at 169.254.169.254), shared, reserved and
    /// unique-local addresses. Off by default; local clusters and tests turn it on.
    pub allow_private_addresses: bool,
    /// `file://` URIs (a path on the worker's machine). Off by default.
    pub allow_file_uris: bool,
}

impl FetchPolicy {
    /// A worker on the internet: public addresses only, no `file://`.
    pub const PUBLIC: FetchPolicy = FetchPolicy { allow_private_addresses: false, allow_file_uris: false };
    /// A local cluster or a test: loopback and private addresses and `file://` too.
    pub const LOCAL: FetchPolicy = FetchPolicy { allow_private_addresses: true, allow_file_uris: true };
}

/// Whether `ip` is a public unicast address (what [`FetchPolicy::PUBLIC`] may connect to).
pub fn is_public_ip(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            !(a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || a.is_multicast()
                || a.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64.0.0/10, shared (CGNAT)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0.0/24, protocol assignments
                || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18.0.0/15, benchmarking
                || o[0] >= 240) // 240.0.0.0/4, reserved
        }
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return is_public_ip(IpAddr::V4(v4));
            }
            let s = a.segments();
            let last_v4 = || std::net::Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
            // Forms that embed an IPv4 address: that address decides. NAT64 (64:ff9b::/96),
            // IPv4-compatible (::a.b.c.d), SIIT (::ffff:0:a.b.c.d).
            if (s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0])
                || (s[..6] == [0, 0, 0, 0, 0, 0] && (s[6] != 0 || s[7] > 1))
                || s[..6] == [0, 0, 0, 0, 0xffff, 0]
            {
                return is_public_ip(IpAddr::V4(last_v4()));
            }
            if s[0] == 0x2002 {
                // 6to4 (2002::/16) embeds an IPv4 address in bits 16..48.
                let v4 = std::net::Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
                return is_public_ip(IpAddr::V4(v4));
            }
            !(a.is_loopback()
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // 64:ff9b:1::/48, local NAT64
                || (s[0] & 0xffc0) == 0xfec0 // fec0::/10, deprecated site-local
                || a.is_unspecified()
                || a.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // fc00::/7, unique local
                || (s[0] & 0xffc0) == 0xfe80 // fe80::/10, link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8)) // 2001:db8::/32, documentation
        }
    }
}

/// A resolver that hands the HTTP client only public addresses, so what was checked is what is
/// connected to (no DNS rebinding between the check and the connection).
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.filter(|a| is_public_ip(a.ip())).collect();
            if addrs.is_empty() {
                let e = std::io::Error::new(std::io::ErrorKind::PermissionDenied, format!("{host}: no public address"));
                return Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Refuses (definitively) a URL whose host is not public under `policy`.
async fn check_host(uri: &str, policy: FetchPolicy) -> Result<(), FetchError> {
    let refused = |reason: String| FetchError::Unreachable { uri: uri.to_string(), reason };
    if policy.allow_private_addresses {
        return Ok(());
    }
    let url = reqwest::Url::parse(uri).map_err(|e| refused(format!("not a URL: {e}")))?;
    let host = url.host_str().ok_or_else(|| refused("no host".into()))?;
    let port = url.port_or_known_default().unwrap_or(80);
    let literal = host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>();
    let ips: Vec<std::net::IpAddr> = match literal {
        Ok(ip) => vec![ip],
        Err(_) => match tokio::net::lookup_host((host, port)).await {
            Ok(addrs) => addrs.map(|a| a.ip()).collect(),
            // DNS may come back: transient.
            Err(e) => {
                return Err(FetchError::Transient { uri: uri.to_string(), reason: format!("resolving {host}: {e}") })
            }
        },
    };
    if !ips.iter().any(|ip| is_public_ip(*ip)) {
        return Err(refused(format!(
            "{host} is not a public address ({}); workers fetch only public addresses unless allow_private_addresses is set",
            ips.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(())
}

/// Fetches the input at `uri` (at most `limit` bytes) as `policy` allows, checks its SHA-256
/// against `expected`, and caches it in `store`.
pub async fn fetch_input(
    uri: &str,
    expected: &[u8; 32],
    store: &ContentStore,
    limit: usize,
    timeout: Duration,
    policy: FetchPolicy,
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
        if !policy.allow_file_uris {
            return Err(unreachable("file:// inputs are off on this worker (allow_file_uris)".into()));
        }
        let meta = tokio::fs::metadata(path).await.map_err(|e| unreachable(e.to_string()))?;
        if !meta.is_file() {
            return Err(unreachable("not a regular file".into()));
        }
        if meta.len() as usize > limit {
            return Err(FetchError::TooLarge { size: meta.len() as usize, limit });
        }
        // Read at most one byte past the cap, whatever the metadata said.
        use tokio::io::AsyncReadExt as _;
        let f = tokio::fs::File::open(path).await.map_err(|e| unreachable(e.to_string()))?;
        let mut buf = Vec::new();
        f.take(limit as u64 + 1).read_to_end(&mut buf).await.map_err(|e| unreachable(e.to_string()))?;
        if buf.len() > limit {
            return Err(FetchError::TooLarge { size: buf.len(), limit });
        }
        buf
    } else if uri.starts_with("http://") || uri.starts_with("https://") {
        check_host(uri, policy).await?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match fetch_http(uri, limit, timeout, policy).await {
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

async fn fetch_http(uri: &str, limit: usize, timeout: Duration, policy: FetchPolicy) -> Result<Vec<u8>, FetchError> {
    let transient = |reason: String| FetchError::Transient { uri: uri.to_string(), reason };
    let mut builder = reqwest::Client::builder()
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none());
    if !policy.allow_private_addresses {
        // No proxy from the environment either: a proxy would resolve and connect for us, past
        // the address check.
        builder = builder.dns_resolver(std::sync::Arc::new(PublicOnly)).no_proxy();
    }
    let client =
        builder.build().map_err(|e| FetchError::Unreachable { uri: uri.to_string(), reason: e.to_string() })?;
    // Connection refused or reset, DNS, timeouts: all worth another try later.
    let resp = client.get(uri).send().await.map_err(|e| transient(e.without_url().to_string()))?;
    let status = resp.status();
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(transient(format!("HTTP {status}")));
    }
    if status.is_redirection() {
        return Err(FetchError::Unreachable {
            uri: uri.to_string(),
            reason: format!("HTTP {status}: redirects are not followed (post the final URL)"),
        });
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
        assert_eq!(fetch_input(&uri, &h, &store, 100, t, FetchPolicy::LOCAL).await.unwrap(), b"prompt");
        assert_eq!(
            fetch_input(&ContentStore::uri(&h), &h, &store, 100, t, FetchPolicy::LOCAL).await.unwrap(),
            b"prompt",
            "cached"
        );
        let other = sha256(b"other");
        assert!(matches!(
            fetch_input(&uri, &other, &store, 100, t, FetchPolicy::LOCAL).await,
            Err(FetchError::HashMismatch { .. })
        ));
        assert!(matches!(
            fetch_input(&uri, &other, &store, 3, t, FetchPolicy::LOCAL).await,
            Err(FetchError::TooLarge { .. })
        ));
        assert!(matches!(
            fetch_input("ftp://x", &other, &store, 100, t, FetchPolicy::LOCAL).await,
            Err(FetchError::UnsupportedScheme(_))
        ));
        assert!(matches!(
            fetch_input("file:///nonexistent/x", &other, &store, 100, t, FetchPolicy::LOCAL).await,
            Err(FetchError::Unreachable { .. })
        ));
        // A closed local port: transient (the server may come back), after the retries.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let e = fetch_input(&format!("http://127.0.0.1:{port}/x"), &other, &store, 100, t, FetchPolicy::LOCAL)
            .await
            .unwrap_err();
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
        assert_eq!(fetch_input(&uri, &h, &store, 100, t, FetchPolicy::LOCAL).await.unwrap(), b"prompt");
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 3);
        // 404: definitive at once, one request.
        let other = sha256(b"other");
        let (port, hits) = serve(vec![http("404 Not Found", ""), http("200 OK", "other")]).await;
        let e = fetch_input(&format!("http://127.0.0.1:{port}/o"), &other, &store, 100, t, FetchPolicy::LOCAL)
            .await
            .unwrap_err();
        assert!(matches!(e, FetchError::Unreachable { .. }) && !e.is_transient(), "{e}");
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
        // 5xx every time: transient after HTTP_ATTEMPTS requests.
        let (port, hits) = serve(vec![http("500 Internal Server Error", ""); 5]).await;
        let e = fetch_input(&format!("http://127.0.0.1:{port}/o"), &other, &store, 100, t, FetchPolicy::LOCAL)
            .await
            .unwrap_err();
        assert!(e.is_transient(), "{e}");
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), HTTP_ATTEMPTS as usize);
        // A body longer than the cap is refused while streaming, even without a content-length.
        let (port, _) = serve(vec![format!("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{}", "x".repeat(500))]).await;
        let e = fetch_input(&format!("http://127.0.0.1:{port}/o"), &other, &store, 100, t, FetchPolicy::LOCAL)
            .await
            .unwrap_err();
        assert!(matches!(e, FetchError::TooLarge { .. }), "{e}");
    }

    /// The public policy: loopback, private, link-local (cloud metadata) and names resolving to
    /// them are refused before any connection, for good; `file://` is off; a redirect is not
    /// followed; the same server is fine under the local policy.
    #[tokio::test]
    async fn the_public_policy_refuses_private_addresses_file_uris_and_redirects() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::open(dir.path().join("store")).unwrap();
        let t = Duration::from_secs(2);
        let h = sha256(b"prompt");
        let (port, hits) = serve(vec![http("200 OK", "prompt")]).await;
        for uri in [
            format!("http://127.0.0.1:{port}/o"),
            format!("http://localhost:{port}/o"),
            format!("http://[::1]:{port}/o"),
            "http://169.254.169.254/latest/meta-data/".to_string(),
            "http://10.0.0.1/o".to_string(),
            "http://[fd00::1]/o".to_string(),
            "http://[::ffff:192.168.1.1]/o".to_string(),
        ] {
            let e = fetch_input(&uri, &h, &store, 100, t, FetchPolicy::PUBLIC).await.unwrap_err();
            assert!(
                matches!(&e, FetchError::Unreachable { reason, .. } if reason.contains("not a public address")),
                "{uri}: {e}"
            );
        }
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "no connection was made");
        let file = dir.path().join("input.txt");
        std::fs::write(&file, b"prompt").unwrap();
        let e = fetch_input(&format!("file://{}", file.display()), &h, &store, 100, t, FetchPolicy::PUBLIC)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("allow_file_uris"), "{e}");
        assert_eq!(
            fetch_input(&format!("http://127.0.0.1:{port}/o"), &h, &store, 100, t, FetchPolicy::LOCAL).await.unwrap(),
            b"prompt"
        );
        // A redirect (even to a fine place) is a definitive refusal.
        let other = sha256(b"other");
        let (port, hits) = serve(vec![
            "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:1/x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                .into(),
        ])
        .await;
        let e = fetch_input(&format!("http://127.0.0.1:{port}/o"), &other, &store, 100, t, FetchPolicy::LOCAL)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, FetchError::Unreachable { reason, .. } if reason.contains("redirects are not followed")),
            "{e}"
        );
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(is_public_ip("8.8.8.8".parse().unwrap()) && is_public_ip("2606:4700::1111".parse().unwrap()));
        assert!(!is_public_ip("100.64.0.1".parse().unwrap()) && !is_public_ip("64:ff9b::a00:1".parse().unwrap()));
        for private in ["::127.0.0.1", "::ffff:0:10.0.0.1", "2002:c0a8:0101::1", "64:ff9b:1::1", "fec0::1"] {
            assert!(!is_public_ip(private.parse().unwrap()), "{private}");
        }
        assert!(is_public_ip("2002:0808:0808::1".parse().unwrap()), "6to4 of a public address");
        // /dev/zero reports no length: still refused at the cap, not read forever.
        let e = fetch_input("file:///dev/zero", &other, &store, 100, t, FetchPolicy::LOCAL).await.unwrap_err();
        assert!(matches!(e, FetchError::Unreachable { .. } | FetchError::TooLarge { .. }), "{e}");
    }

    /// A body that trickles (one byte a second, slowloris-style) runs into the fetch deadline:
    /// transient, so the job waits and is retried, never held open by the sender forever.
    #[tokio::test]
    async fn a_trickling_body_hits_the_deadline() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::open(dir.path().join("store")).unwrap();
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = l.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 2048];
                    let _ = sock.read(&mut buf).await;
                    let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n").await;
                    for _ in 0..50 {
                        if sock.write_all(b"x").await.is_err() {
                            return;
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                });
            }
        });
        let started = std::time::Instant::now();
        let e = fetch_input(
            &format!("http://127.0.0.1:{port}/o"),
            &sha256(b"x"),
            &store,
            100,
            Duration::from_millis(400),
            FetchPolicy::LOCAL,
        )
        .await
        .unwrap_err();
        assert!(e.is_transient(), "{e}");
        assert!(started.elapsed() < Duration::from_secs(20), "bounded by the deadline and the attempts");
    }
}
