//! The worker's HTTP endpoint (axum on tokio), the one a provider registers on-chain:
//!
//! * `GET /v1/health`: `{"ok": true, "worker", "market", "role"}`.
//! * `GET /v1/objects/{sha256}`: an object of the content store (outputs, and inputs it holds),
//!   streamed from disk with its length; 404 when absent; the bytes hash to the name (a corrupt
//!   file is not served).
//! * `PUT /v1/objects/{sha256}`: a job input. Accepted (201) only when an **open job of this
//!   worker's market, designated to it or naming an input URI under its `public_url`,** names
//!   that input hash, the body is at most `max_upload_bytes`, and it
//!   hashes to the name; an object already held answers 200. Anything else is refused with a
//!   reason (400 bad name, 403 no open job names it, 413 too large, 422 hash mismatch), so the
//!   endpoint is not a free file host: what it keeps is what a paid job asked it to serve.
//!
//! At most `max_concurrency` requests run at once (the next gets 503 with `Retry-After: 1`), each
//! within `request_timeout` (then 408). There is no TLS: put a reverse proxy in front of it
//! (docs/ARCHITECTURE.md).
use std::{sync::Arc, time::Duration};

use anchor_lang::prelude::Pubkey;
use axum::{
    body::Body,
    extract::{Path, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use cinder_jobs::{Job, JobStatus};
use cinder_sdk::{
    chain::{AccountFilter, Chain, ChainError},
    jobs::JOB_MARKET_OFFSET,
};
use serde_json::json;
use tokio::sync::Semaphore;

use crate::store::{hex, parse_hex32, sha256, ContentStore};

/// Limits of the endpoint.
#[derive(Clone, Debug)]
pub struct HttpLimits {
    pub max_upload_bytes: usize,
    pub max_concurrency: usize,
    pub request_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits { max_upload_bytes: 64 * 1024, max_concurrency: 64, request_timeout: Duration::from_secs(30) }
    }
}

/// What the endpoint serves and checks against.
#[derive(Clone)]
pub struct Endpoint {
    pub store: ContentStore,
    pub chain: Arc<dyn Chain>,
    pub market: Pubkey,
    pub worker: Pubkey,
    /// The endpoint's public base URL (`public_url`), if set.
    pub public_url: Option<String>,
    pub role: &'static str,
    pub limits: HttpLimits,
}

#[derive(Clone)]
struct AppState {
    ep: Arc<Endpoint>,
    permits: Arc<Semaphore>,
}

/// The router (exposed for tests that drive it without a socket).
pub fn router(ep: Endpoint) -> Router {
    let permits = Arc::new(Semaphore::new(ep.limits.max_concurrency.max(1)));
    let state = AppState { ep: Arc::new(ep), permits };
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/objects/{sha}", get(get_object).put(put_object))
        .layer(middleware::from_fn_with_state(state.clone(), limit))
        .with_state(state)
}

/// Serves `ep` on `listener` until `shutdown` turns true; requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    ep: Endpoint,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "object endpoint listening");
    axum::serve(listener, router(ep))
        .with_graceful_shutdown(async move {
            while !*shutdown.borrow() {
                if shutdown.changed().await.is_err() {
                    break;
                }
            }
        })
        .await
}

fn refuse(status: StatusCode, why: impl Into<String>) -> Response {
    let why = why.into();
    tracing::debug!(%status, %why, "object request refused");
    (status, Json(json!({ "error": why }))).into_response()
}

/// Bounded concurrency and a per-request deadline.
async fn limit(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let Ok(_permit) = s.permits.clone().try_acquire_owned() else {
        let mut r = refuse(StatusCode::SERVICE_UNAVAILABLE, "too many requests in flight; retry");
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    };
    match tokio::time::timeout(s.ep.limits.request_timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => refuse(StatusCode::REQUEST_TIMEOUT, "request took too long"),
    }
}

async fn health(State(s): State<AppState>) -> Response {
    Json(json!({
        "ok": true,
        "worker": s.ep.worker.to_string(),
        "market": s.ep.market.to_string(),
        "role": s.ep.role,
    }))
    .into_response()
}

async fn get_object(State(s): State<AppState>, Path(sha): Path<String>) -> Response {
    object_response(&s.ep.store, &sha).await
}

/// Serves `store` read-only (`GET /v1/objects/{sha256}`, nothing else) on `listener` until the
/// task is dropped: what a client uses to hand its inputs to providers from its own machine.
pub async fn serve_read_only(listener: tokio::net::TcpListener, store: ContentStore) -> std::io::Result<()> {
    let app =
        Router::new().route(
            "/v1/objects/{sha}",
            get(|State(store): State<ContentStore>, Path(sha): Path<String>| async move {
                object_response(&store, &sha).await
            }),
        );
    axum::serve(listener, app.with_state(store)).await
}

/// The object named `sha` from `store`, or why not.
async fn object_response(store: &ContentStore, sha: &str) -> Response {
    let Some(hash) = parse_hex32(sha) else {
        return refuse(StatusCode::BAD_REQUEST, "the name must be a SHA-256 in 64 hex digits");
    };
    let path = store.path(&hash);
    // Objects are small (inputs within the worker's cap, output records); the hash is checked
    // before anything is sent, so a corrupted file is never served under its name. The body is
    // streamed to the socket in chunks.
    let bytes = match tokio::fs::read(&path).await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return refuse(StatusCode::NOT_FOUND, "no such object");
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read an object");
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the object");
        }
    };
    if sha256(&bytes) != hash {
        tracing::error!(path = %path.display(), "stored object does not hash to its name; not serving it");
        return refuse(StatusCode::NOT_FOUND, "no such object");
    }
    let len = bytes.len();
    let chunks = bytes.chunks(16 * 1024).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>();
    let mut r = Response::new(Body::from_stream(futures_util::stream::iter(chunks)));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    r
}

/// Whether an open job of `market` names `hash` as its input and is meant for this endpoint:
/// designated to `worker`, or naming an input URI under `public_url`.
pub async fn open_job_wants(
    chain: &dyn Chain,
    market: &Pubkey,
    worker: &Pubkey,
    public_url: Option<&str>,
    hash: &[u8; 32],
) -> Result<bool, ChainError> {
    let ours = |j: &Job| {
        j.designated == Some(*worker)
            || public_url.is_some_and(|u| j.input_uri.starts_with(&cinder_sdk::util::objects_prefix(u)))
    };
    let wants = |j: &Job| j.market == *market && j.status == JobStatus::Open && j.input_hash == *hash && ours(j);
    let by_market = [AccountFilter::Memcmp { offset: JOB_MARKET_OFFSET, bytes: market.to_bytes().to_vec() }];
    match cinder_sdk::fetch_all_of::<Job>(chain, &by_market).await {
        Ok(Some(jobs)) => Ok(jobs.iter().any(|(_, j)| wants(j))),
        not_indexed => {
            // No index (or the node refuses the method some other way): the open jobs lie between
            // the queue head and the counter (designated ones anywhere below it: the last 1 000).
            if let Err(e) = not_indexed {
                tracing::debug!(error = %e, "getProgramAccounts failed; scanning the market's recent jobs");
            }
            let m: cinder_jobs::Market = cinder_sdk::fetch(chain, market)
                .await?
                .ok_or_else(|| ChainError::Rpc(format!("market {market} not found")))?;
            let from = m.queue_head.min(m.next_job_id.saturating_sub(1_000));
            let keys: Vec<Pubkey> = (from..m.next_job_id).map(|id| cinder_sdk::jobs::job_pda(market, id)).collect();
            for chunk in keys.chunks(100) {
                for a in chain.get_multiple_accounts(chunk).await?.into_iter().flatten() {
                    if a.owner == cinder_jobs::ID && cinder_sdk::decode::<Job>(&a.data).is_some_and(|j| wants(&j)) {
                        return Ok(true);
                    }
                }
            }
            Ok(false)
        }
    }
}

async fn put_object(State(s): State<AppState>, Path(sha): Path<String>, body: Body) -> Response {
    let Some(hash) = parse_hex32(&sha) else {
        return refuse(StatusCode::BAD_REQUEST, "the name must be a SHA-256 in 64 hex digits");
    };
    if s.ep.store.get(&hash).is_some() {
        return (StatusCode::OK, Json(json!({ "stored": hex(&hash), "new": false }))).into_response();
    }
    match open_job_wants(s.ep.chain.as_ref(), &s.ep.market, &s.ep.worker, s.ep.public_url.as_deref(), &hash).await {
        Ok(true) => {}
        Ok(false) => {
            let (market, worker, h) = (s.ep.market, s.ep.worker, hex(&hash));
            let why = format!(
                "no open job of market {market} designated to {worker} (or naming this endpoint) has input {h}: post the job first"
            );
            return refuse(StatusCode::FORBIDDEN, why);
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot check the market's open jobs");
            let mut r = refuse(StatusCode::SERVICE_UNAVAILABLE, "cannot read the chain now; retry");
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            return r;
        }
    }
    let cap = s.ep.limits.max_upload_bytes;
    let bytes = match axum::body::to_bytes(body, cap).await {
        Ok(b) => b,
        Err(_) => return refuse(StatusCode::PAYLOAD_TOO_LARGE, format!("inputs are at most {cap} bytes here")),
    };
    let actual = sha256(&bytes);
    if actual != hash {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the body hashes to {}, not to its name {}", hex(&actual), hex(&hash)),
        );
    }
    match s.ep.store.put(&bytes) {
        Ok(_) => {
            tracing::info!(hash = %hex(&hash), bytes = bytes.len(), "input uploaded");
            (StatusCode::CREATED, Json(json!({ "stored": hex(&hash), "new": true }))).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot store an upload");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "cannot store the object")
        }
    }
}
