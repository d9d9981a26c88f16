//! [`Chain`] over Solana JSON-RPC (HTTP), written by hand on top of `reqwest` so the SDK does not
//! pull in `solana-client`.
//!
//! * Reads: `getAccountInfo` / `getMultipleAccounts` (base64) at the configured commitment.
//! * Time: [`Chain::unix_timestamp`] reads the Clock sysvar account and decodes its
//!   `unix_timestamp` field (bytes 32..40). This is one round trip at the configured commitment
//!   and, unlike `getBlockTime(getSlot())`, never answers `null` for a skipped or pruned slot.
//! * Sending: fresh blockhash → priority fee (below) → simulation with a 1.4M compute-unit
//!   placeholder and that fee → compute-unit limit = simulated units × (100 + `cu_margin_pct`) / 100
//!   (capped at 1.4M) plus a `SetComputeUnitPrice` → sign → `sendTransaction` (base64,
//!   `skipPreflight`, since it was just simulated) → poll `getSignatureStatuses` until the
//!   commitment is reached. When `getBlockHeight` passes the blockhash's `lastValidBlockHeight`
//!   the transaction can no longer land, so it is re-signed with a fresh blockhash (and a fresh
//!   priority fee) and sent again, up to `max_send_attempts`. [`Chain::prepare`] does the same
//!   blockhash → fee → simulation → sign steps without sending.
//! * Priority fee (micro-lamports per compute unit), chosen before every signing. With
//!   `priority_fee_percentile = None` it is `priority_micro_lamports`. With `Some(p)` it is the
//!   p-th percentile (nearest rank) of the non-zero `prioritizationFee` values that
//!   `getRecentPrioritizationFees` reports for the transaction's writable accounts (at most 128,
//!   without the fee payer: its recent fees are our own, and would only echo them back), clamped
//!   to [`priority_micro_lamports`, `priority_fee_cap_micro_lamports`] (a cap below the floor
//!   means the floor). No non-zero values, or any error from that call (after the retries below),
//!   gives the floor; the error is logged at debug.
//! * Retries. Each JSON-RPC call makes at most `max_rpc_attempts` requests. Retried:
//!   transport errors (connect, timeout, a body cut short), HTTP 429 and 5xx, and these JSON-RPC
//!   error objects, which real nodes answer while they catch up or behind a load balancer whose
//!   backends differ ("reads" are the `get*` methods and `simulateTransaction`):
//!
//!   | code   | the node says                                              | retried for                 |
//!   |--------|------------------------------------------------------------|-----------------------------|
//!   | -32005 | node is unhealthy / behind by N slots                      | every method                |
//!   | -32016 | minimum context slot not reached yet                       | every method                |
//!   | -32603 | internal error                                             | reads and `sendTransaction` |
//!   | -32004 | block not available for slot (not yet)                     | reads                       |
//!   | -32014 | block status not yet available for slot                    | reads                       |
//!   | -32007 | slot skipped, or missing after a jump to a recent snapshot | reads                       |
//!   | -32009 | slot skipped, or missing in long-term storage              | reads                       |
//!   | -32019 | long-term storage unreachable, try again                   | reads                       |
//!
//!   Every other error object is returned at once as [`ChainError::Rpc`] with its message and
//!   code: among them -32600 invalid request, -32602 invalid params, -32700 parse error, -32001
//!   block cleaned up, -32003 signature verification failure, -32006 precompile verification
//!   failure, -32011 no transaction history on this node, -32015 unsupported transaction
//!   version. -32601 method not found and -32010 (a key excluded from the node's secondary
//!   indexes, as `getProgramAccounts` answers where the operator disabled them) become
//!   [`ChainError::Unsupported`], so discovery falls back to event history. The one exception is
//!   -32002 (`sendTransaction` preflight simulation failed): it becomes [`ChainError::Transaction`]
//!   with the custom program error code
//!   from `data.err` and the logs from `data.logs` when the data carries them, except when
//!   `data.err` is `"AlreadyProcessed"` (the same signature already landed) or
//!   `"BlockhashNotFound"` (this node does not know the blockhash yet), or the message says so
//!   without `data` (surfpool: "… has already been processed"): those say nothing about the
//!   transaction failing and stay [`ChainError::Rpc`], so a caller resolves the signature instead.
//!   Resending `sendTransaction` is safe: the request carries the same signed bytes, and one
//!   signature lands at most once. Other methods (for example `requestAirdrop` through
//!   [`RpcChain::call`]) are retried on -32603 only if they are reads, since an internal error
//!   may come after the work was done.
//! * Backoff: exponential with equal jitter. Before retry n (n = 1, 2, ...) the client sleeps
//!   d/2 + uniform(0, d/2), with d = min(`retry_backoff` × 2^(n-1), `retry_backoff_cap`). An HTTP
//!   429 or 503 with `Retry-After: <seconds>` makes it sleep at least that long (capped at
//!   `retry_after_cap`); the HTTP-date form and unparseable values are ignored (plain backoff).
//! * Account changes: [`RpcChain::wait_for_account_change`] uses websocket `accountSubscribe`
//!   when the crate is built with the `ws` feature and `ws_url` is set and reachable; otherwise
//!   (or when the socket fails) it polls `getAccountInfo` every `poll_interval`.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anchor_lang::prelude::Pubkey;
use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
use serde::{de::DeserializeOwned, Deserialize};
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::{Hash, Message, Transaction};
use tokio::time::{sleep, Instant};
use tracing::{debug, warn};

use super::{AccountFilter, BoxFuture, Chain, ChainAccount, ChainError, ChainResult, PreparedTx, TxReceipt, TxStatus};
use crate::{AccountMeta, Instruction};

/// Most keys one `getMultipleAccounts` request may carry (the node's limit).
pub const MAX_MULTIPLE_ACCOUNTS: usize = 100;
/// Most accounts one `getRecentPrioritizationFees` request may carry (the node's limit, the
/// number of accounts a transaction may lock).
pub const MAX_PRIORITIZATION_FEE_ACCOUNTS: usize = 128;
/// The compute budget program.
pub const COMPUTE_BUDGET_PROGRAM_ID: Pubkey = Pubkey::from_str_const("ComputeBudget111111111111111111111111111111");
/// The Clock sysvar.
pub const CLOCK_SYSVAR_ID: Pubkey = Pubkey::from_str_const("SysvarC1ock11111111111111111111111111111111");
/// The largest compute-unit limit a transaction may request.
pub const MAX_COMPUTE_UNIT_LIMIT: u32 = 1_400_000;

/// `SetComputeUnitLimit(units)`: tag 2 + u32 LE.
pub fn set_compute_unit_limit(units: u32) -> Instruction {
    let mut data = vec![2u8];
    data.extend_from_slice(&units.to_le_bytes());
    Instruction { program_id: COMPUTE_BUDGET_PROGRAM_ID, accounts: Vec::<AccountMeta>::new(), data }
}

/// `SetComputeUnitPrice(micro_lamports)`: tag 3 + u64 LE.
pub fn set_compute_unit_price(micro_lamports: u64) -> Instruction {
    let mut data = vec![3u8];
    data.extend_from_slice(&micro_lamports.to_le_bytes());
    Instruction { program_id: COMPUTE_BUDGET_PROGRAM_ID, accounts: Vec::<AccountMeta>::new(), data }
}

/// The custom program error code in a transaction error such as
/// `{"InstructionError":[0,{"Custom":6003}]}`.
pub fn custom_error_code(err: &Value) -> Option<u32> {
    err.get("InstructionError")?.get(1)?.get("Custom")?.as_u64().and_then(|c| u32::try_from(c).ok())
}

/// Commitment level for reads and for confirming transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Commitment {
    Processed,
    #[default]
    Confirmed,
    Finalized,
}

impl Commitment {
    pub fn as_str(self) -> &'static str {
        match self {
            Commitment::Processed => "processed",
            Commitment::Confirmed => "confirmed",
            Commitment::Finalized => "finalized",
        }
    }

    /// Whether a `confirmationStatus` from `getSignatureStatuses` satisfies this commitment.
    fn reached_by(self, status: Option<&str>) -> bool {
        let rank = |s: &str| match s {
            "processed" => 0,
            "confirmed" => 1,
            "finalized" => 2,
            _ => -1,
        };
        let need = rank(self.as_str());
        // A status without confirmationStatus (very old nodes) counts as processed.
        status.map(rank).unwrap_or(0) >= need
    }

    /// `getTransaction` does not accept `processed`.
    fn for_get_transaction(self) -> &'static str {
        match self {
            Commitment::Processed | Commitment::Confirmed => "confirmed",
            Commitment::Finalized => "finalized",
        }
    }
}

/// Settings of [`RpcChain`].
#[derive(Clone, Debug)]
pub struct RpcConfig {
    /// Commitment for reads and for confirmation.
    pub commitment: Commitment,
    /// Margin added to the simulated compute units, in percent.
    pub cu_margin_pct: u32,
    /// Priority fee floor (`SetComputeUnitPrice`), micro-lamports per compute unit: the fee when
    /// `priority_fee_percentile` is `None`, when the recent fees are all zero, or when they cannot
    /// be read; never less otherwise.
    pub priority_micro_lamports: u64,
    /// Priority fee cap, micro-lamports per compute unit: the most a recent-fee percentile may set
    /// (a cap below the floor means the floor). The default, 100_000, is at most 0.00014 SOL on
    /// top of the base fee even at the 1.4M compute-unit maximum.
    pub priority_fee_cap_micro_lamports: u64,
    /// `Some(p)`: before signing, set the priority fee to the p-th percentile (1..=100, nearest
    /// rank) of the non-zero `getRecentPrioritizationFees` values for the transaction's writable
    /// accounts, clamped to [floor, cap]. `None`: always the floor, no extra request.
    pub priority_fee_percentile: Option<u8>,
    /// How many times a transaction is signed with a fresh blockhash and sent before
    /// [`ChainError::BlockhashExpired`].
    pub max_send_attempts: u32,
    /// Upper bound on waiting for one confirmation (per send attempt) → [`ChainError::Timeout`].
    pub confirm_timeout: Duration,
    /// Interval for status and account polling.
    pub poll_interval: Duration,
    /// Websocket endpoint (`ws://` or, with the `tls` feature, `wss://`) for `accountSubscribe`.
    /// Used only with the `ws` feature; without it, or when unreachable, polling is used.
    pub ws_url: Option<String>,
    /// Requests per JSON-RPC call (at least 1) on transport errors, HTTP 429 and 5xx and the
    /// transient JSON-RPC errors listed in the module doc.
    pub max_rpc_attempts: u32,
    /// Backoff before the first retry of a call; doubles with each retry up to
    /// `retry_backoff_cap`. The sleep is half of it plus a uniform jitter of up to the other half.
    pub retry_backoff: Duration,
    /// The most the doubling backoff may grow to.
    pub retry_backoff_cap: Duration,
    /// The most a `Retry-After` header (HTTP 429 / 503) may make a retry wait.
    pub retry_after_cap: Duration,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            commitment: Commitment::Confirmed,
            cu_margin_pct: 20,
            priority_micro_lamports: 0,
            priority_fee_cap_micro_lamports: 100_000,
            priority_fee_percentile: Some(75),
            max_send_attempts: 3,
            confirm_timeout: Duration::from_secs(90),
            poll_interval: Duration::from_millis(500),
            ws_url: None,
            max_rpc_attempts: 5,
            retry_backoff: Duration::from_millis(250),
            retry_backoff_cap: Duration::from_secs(2),
            retry_after_cap: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// [`Chain`] over Solana JSON-RPC.
pub struct RpcChain {
    url: String,
    config: RpcConfig,
    http: reqwest::Client,
    next_id: AtomicU64,
    /// Backoff jitter: a splitmix64 counter, seeded from the clock.
    jitter_state: AtomicU64,
    /// The highest slot at which this client saw one of its transactions land: account reads
    /// carry it as `minContextSlot`, so a read after a write never sees the state before it (a
    /// lagging node answers -32016, which is retried).
    min_context_slot: AtomicU64,
}

#[derive(Deserialize)]
struct WithContext<T> {
    value: T,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UiAccount {
    lamports: u64,
    data: (String, String),
    owner: String,
    executable: bool,
}

impl UiAccount {
    fn decode(self) -> ChainResult<ChainAccount> {
        if self.data.1 != "base64" {
            return Err(ChainError::Decode(format!("account data encoding {:?}, expected base64", self.data.1)));
        }
        let data = B64.decode(self.data.0.as_bytes()).map_err(|e| ChainError::Decode(format!("account data: {e}")))?;
        let owner = parse_pubkey(&self.owner)?;
        Ok(ChainAccount { lamports: self.lamports, data, owner, executable: self.executable })
    }
}

#[derive(Deserialize)]
struct KeyedUiAccount {
    pubkey: String,
    account: UiAccount,
}

fn parse_pubkey(s: &str) -> ChainResult<Pubkey> {
    let bytes = bs58::decode(s).into_vec().map_err(|e| ChainError::Decode(format!("pubkey {s:?}: {e}")))?;
    let arr: [u8; 32] = bytes.try_into().map_err(|_| ChainError::Decode(format!("pubkey {s:?}: not 32 bytes")))?;
    Ok(Pubkey::new_from_array(arr))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LatestBlockhash {
    blockhash: String,
    last_valid_block_height: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SimulateResult {
    err: Option<Value>,
    logs: Option<Vec<String>>,
    units_consumed: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignatureStatus {
    slot: u64,
    err: Option<Value>,
    confirmation_status: Option<String>,
}

#[derive(Deserialize)]
struct SignatureInfo {
    signature: String,
    err: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetTransaction {
    slot: u64,
    meta: Option<TxMeta>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TxMeta {
    log_messages: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PrioritizationFee {
    prioritization_fee: u64,
}

/// Why one HTTP round trip failed.
enum CallError {
    /// Worth retrying: transport error, HTTP 429 or 5xx, a transient JSON-RPC error object.
    /// `retry_after`: the server's `Retry-After` (HTTP 429 / 503), uncapped.
    Retryable { message: String, retry_after: Option<Duration> },
    /// Final: any other JSON-RPC error object or HTTP status, bad JSON.
    Final(ChainError),
}

impl CallError {
    fn retryable(message: String) -> CallError {
        CallError::Retryable { message, retry_after: None }
    }
}

// JSON-RPC error codes: JSON-RPC 2.0 and Agave's `rpc-client-api/src/custom_error.rs`.
const INTERNAL_ERROR: i64 = -32603;
const SEND_TRANSACTION_PREFLIGHT_FAILURE: i64 = -32002;
const METHOD_NOT_FOUND: i64 = -32601;
const KEY_EXCLUDED_FROM_SECONDARY_INDEX: i64 = -32010;
const BLOCK_NOT_AVAILABLE: i64 = -32004;
const NODE_UNHEALTHY: i64 = -32005;
const SLOT_SKIPPED: i64 = -32007;
const LONG_TERM_STORAGE_SLOT_SKIPPED: i64 = -32009;
const BLOCK_STATUS_NOT_AVAILABLE_YET: i64 = -32014;
const MIN_CONTEXT_SLOT_NOT_REACHED: i64 = -32016;
const LONG_TERM_STORAGE_UNREACHABLE: i64 = -32019;

/// Methods without side effects: every `get*` method and `simulateTransaction`.
fn is_read(method: &str) -> bool {
    method.starts_with("get") || method == "simulateTransaction"
}

/// Whether a JSON-RPC error `code` from `method` is worth retrying (the table in the module doc).
fn is_transient(method: &str, code: i64) -> bool {
    match code {
        NODE_UNHEALTHY | MIN_CONTEXT_SLOT_NOT_REACHED => true,
        // The same signed bytes land at most once, so resending after an internal error is safe.
        INTERNAL_ERROR => is_read(method) || method == "sendTransaction",
        BLOCK_NOT_AVAILABLE
        | BLOCK_STATUS_NOT_AVAILABLE_YET
        | SLOT_SKIPPED
        | LONG_TERM_STORAGE_SLOT_SKIPPED
        | LONG_TERM_STORAGE_UNREACHABLE => is_read(method),
        _ => false,
    }
}

/// What a JSON-RPC error object from `method` means for the call.
fn classify_rpc_error(method: &str, err: &Value) -> CallError {
    let msg = err.get("message").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| err.to_string());
    let Some(code) = err.get("code").and_then(Value::as_i64) else {
        return CallError::Final(ChainError::Rpc(format!("{method}: {msg}")));
    };
    let message = format!("{method}: {msg} (code {code})");
    if is_transient(method, code) {
        return CallError::retryable(message);
    }
    if code == METHOD_NOT_FOUND || code == KEY_EXCLUDED_FROM_SECONDARY_INDEX {
        return CallError::Final(ChainError::Unsupported(message));
    }
    if code == SEND_TRANSACTION_PREFLIGHT_FAILURE {
        // `data` is the preflight simulation result: `err`, `logs`, `unitsConsumed`, ...
        let data = err.get("data");
        let tx_err = data.and_then(|d| d.get("err")).filter(|e| !e.is_null());
        // Neither says the transaction fails: it already landed, or this node is behind.
        // surfpool words the first as "... has already been processed" with no `data`.
        let lower = msg.to_ascii_lowercase();
        let not_a_failure = matches!(tx_err.and_then(Value::as_str), Some("AlreadyProcessed" | "BlockhashNotFound"))
            || lower.contains("already been processed")
            || lower.contains("blockhash not found");
        if !not_a_failure {
            let logs = data
                .and_then(|d| d.get("logs"))
                .and_then(Value::as_array)
                .map(|l| l.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default();
            return CallError::Final(ChainError::Transaction {
                message,
                code: tx_err.and_then(custom_error_code),
                logs,
            });
        }
    }
    CallError::Final(ChainError::Rpc(message))
}

/// `Retry-After` in its delay-seconds form (the HTTP-date form is not understood → `None`).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The un-jittered backoff before retry `retry` (1-based): `base` × 2^(retry-1), at most `cap`.
fn backoff(base: Duration, cap: Duration, retry: u32) -> Duration {
    let factor = 1u32.checked_shl(retry.saturating_sub(1)).unwrap_or(u32::MAX);
    base.saturating_mul(factor).min(cap)
}

/// Equal jitter: `d`/2 plus `random` mapped uniformly onto [0, `d` - `d`/2].
fn equal_jitter(d: Duration, random: u64) -> Duration {
    let half = d / 2;
    let span = u64::try_from((d - half).as_nanos()).unwrap_or(u64::MAX);
    half + Duration::from_nanos(random % span.saturating_add(1))
}

fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The priority fee from the recent per-slot fees: the `percentile`-th (nearest rank) of the
/// non-zero values, clamped to [`floor`, `cap`]; `floor` when there are none.
fn priority_fee_from_recent(recent: &[u64], percentile: u8, floor: u64, cap: u64) -> u64 {
    let mut fees: Vec<u64> = recent.iter().copied().filter(|f| *f > 0).collect();
    if fees.is_empty() {
        return floor;
    }
    fees.sort_unstable();
    let p = usize::from(percentile.min(100));
    let rank = (p * fees.len()).div_ceil(100).max(1);
    fees[rank - 1].min(cap).max(floor)
}

/// The accounts whose recent fees price a transaction: the instructions' writable accounts,
/// without the fee payer (its recent fees are our own), first occurrence kept, at most 128.
fn fee_accounts(instructions: &[Instruction], payer: &Pubkey) -> Vec<Pubkey> {
    let mut out: Vec<Pubkey> = Vec::new();
    for meta in instructions.iter().flat_map(|ix| &ix.accounts) {
        if meta.is_writable && meta.pubkey != *payer && !out.contains(&meta.pubkey) {
            out.push(meta.pubkey);
        }
    }
    out.truncate(MAX_PRIORITIZATION_FEE_ACCOUNTS);
    out
}

impl RpcChain {
    pub fn new(url: impl Into<String>, config: RpcConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        static CHAINS: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
        let seed = nanos ^ splitmix64(CHAINS.fetch_add(1, Ordering::Relaxed) ^ u64::from(std::process::id()));
        RpcChain {
            url: url.into(),
            config,
            http,
            next_id: AtomicU64::new(1),
            jitter_state: AtomicU64::new(seed),
            min_context_slot: AtomicU64::new(0),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn config(&self) -> &RpcConfig {
        &self.config
    }

    /// One JSON-RPC call with bounded retries on transport errors, HTTP 429 and 5xx and the
    /// transient JSON-RPC errors (see the module doc).
    pub async fn call<T: DeserializeOwned>(&self, method: &str, params: Value) -> ChainResult<T> {
        let value = self.call_value(method, params).await?;
        serde_json::from_value(value).map_err(|e| ChainError::Decode(format!("{method} result: {e}")))
    }

    async fn call_value(&self, method: &str, params: Value) -> ChainResult<Value> {
        let attempts = self.config.max_rpc_attempts.max(1);
        let mut last = String::new();
        for attempt in 1..=attempts {
            debug!(method, attempt, "rpc call");
            match self.call_once(method, &params).await {
                Ok(v) => return Ok(v),
                Err(CallError::Final(e)) => {
                    debug!(method, attempt, error = %e, "rpc call failed");
                    return Err(e);
                }
                Err(CallError::Retryable { message, retry_after }) => {
                    if attempt < attempts {
                        let delay = self.retry_delay(attempt, retry_after);
                        debug!(method, attempt, error = %message, ?retry_after, ?delay, "rpc call failed, retrying");
                        sleep(delay).await;
                    } else {
                        debug!(method, attempt, error = %message, "rpc call failed, no attempts left");
                    }
                    last = message;
                }
            }
        }
        Err(ChainError::Rpc(format!("{method} failed after {attempts} attempts: {last}")))
    }

    /// The sleep before retry `retry` (1-based): the jittered backoff, or the server's
    /// `Retry-After` (capped at `retry_after_cap`) when that is longer.
    fn retry_delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let d = backoff(self.config.retry_backoff, self.config.retry_backoff_cap, retry);
        let random = splitmix64(self.jitter_state.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed));
        let jittered = equal_jitter(d, random);
        match retry_after {
            Some(after) => after.min(self.config.retry_after_cap).max(jittered),
            None => jittered,
        }
    }

    async fn call_once(&self, method: &str, params: &Value) -> Result<Value, CallError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        let resp = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| CallError::retryable(format!("transport: {}", error_chain(e))))?;
        let status = resp.status();
        if status.as_u16() == 429 || status.is_server_error() {
            let retry_after = match status.as_u16() {
                429 | 503 => retry_after(resp.headers()),
                _ => None,
            };
            return Err(CallError::Retryable { message: format!("HTTP {status}"), retry_after });
        }
        let text = resp.text().await.map_err(|e| CallError::retryable(format!("reading body: {}", error_chain(e))))?;
        if !status.is_success() {
            return Err(CallError::Final(ChainError::Rpc(format!("{method}: HTTP {status}: {}", truncate(&text)))));
        }
        let mut v: Value = serde_json::from_str(&text)
            .map_err(|e| CallError::Final(ChainError::Decode(format!("{method}: invalid JSON: {e}"))))?;
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            return Err(classify_rpc_error(method, err));
        }
        match v.get_mut("result") {
            Some(r) => Ok(r.take()),
            None => Err(CallError::Final(ChainError::Decode(format!("{method}: answer has neither result nor error")))),
        }
    }

    fn commitment_cfg(&self) -> Value {
        json!({ "commitment": self.config.commitment.as_str() })
    }

    /// Records that one of our transactions landed at `slot` (see `min_context_slot`).
    fn saw_slot(&self, slot: u64) {
        self.min_context_slot.fetch_max(slot, Ordering::Relaxed);
    }

    /// The highest slot at which one of this client's transactions was seen landing.
    pub fn min_context_slot(&self) -> u64 {
        self.min_context_slot.load(Ordering::Relaxed)
    }

    /// Config of an account read: encoding, commitment and, once we wrote, `minContextSlot`.
    fn read_cfg(&self) -> Value {
        let mut cfg = json!({ "encoding": "base64", "commitment": self.config.commitment.as_str() });
        let slot = self.min_context_slot();
        if slot > 0 {
            cfg["minContextSlot"] = json!(slot);
        }
        cfg
    }

    pub async fn get_account_info(&self, key: &Pubkey) -> ChainResult<Option<ChainAccount>> {
        let params = json!([key.to_string(), self.read_cfg()]);
        let r: WithContext<Option<UiAccount>> = self.call("getAccountInfo", params).await?;
        r.value.map(UiAccount::decode).transpose()
    }

    pub async fn get_multiple_account_infos(&self, keys: &[Pubkey]) -> ChainResult<Vec<Option<ChainAccount>>> {
        if keys.len() > MAX_MULTIPLE_ACCOUNTS {
            // RPC nodes refuse more than 100 keys per request: split, keep the order.
            let mut out = Vec::with_capacity(keys.len());
            for chunk in keys.chunks(MAX_MULTIPLE_ACCOUNTS) {
                out.extend(Box::pin(self.get_multiple_account_infos(chunk)).await?);
            }
            return Ok(out);
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys_b58: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        let params = json!([keys_b58, self.read_cfg()]);
        let r: WithContext<Vec<Option<UiAccount>>> = self.call("getMultipleAccounts", params).await?;
        if r.value.len() != keys.len() {
            return Err(ChainError::Decode(format!(
                "getMultipleAccounts returned {} accounts for {} keys",
                r.value.len(),
                keys.len()
            )));
        }
        r.value.into_iter().map(|a| a.map(UiAccount::decode).transpose()).collect()
    }

    /// `getProgramAccounts` with `filters` (base64 data; memcmp bytes sent base58).
    pub async fn get_program_accounts(
        &self,
        program: &Pubkey,
        filters: &[AccountFilter],
    ) -> ChainResult<Vec<(Pubkey, ChainAccount)>> {
        let filters: Vec<Value> = filters
            .iter()
            .map(|f| match f {
                AccountFilter::DataSize(n) => json!({ "dataSize": n }),
                AccountFilter::Memcmp { offset, bytes } => {
                    json!({ "memcmp": { "offset": offset, "bytes": bs58::encode(bytes).into_string() } })
                }
            })
            .collect();
        let mut cfg = self.read_cfg();
        cfg["filters"] = json!(filters);
        let r: Vec<KeyedUiAccount> = self.call("getProgramAccounts", json!([program.to_string(), cfg])).await?;
        r.into_iter().map(|k| Ok((parse_pubkey(&k.pubkey)?, k.account.decode()?))).collect()
    }

    /// `getLatestBlockhash` → (blockhash, lastValidBlockHeight).
    pub async fn latest_blockhash(&self) -> ChainResult<(Hash, u64)> {
        let r: WithContext<LatestBlockhash> = self.call("getLatestBlockhash", json!([self.commitment_cfg()])).await?;
        let bytes =
            bs58::decode(&r.value.blockhash).into_vec().map_err(|e| ChainError::Decode(format!("blockhash: {e}")))?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| ChainError::Decode("blockhash: not 32 bytes".into()))?;
        Ok((Hash::new_from_array(arr), r.value.last_valid_block_height))
    }

    pub async fn block_height(&self) -> ChainResult<u64> {
        self.call("getBlockHeight", json!([self.commitment_cfg()])).await
    }

    pub async fn get_transaction_logs(&self, signature: &str) -> ChainResult<Option<(u64, Vec<String>)>> {
        let params = json!([signature, {
            "encoding": "json",
            "maxSupportedTransactionVersion": 0,
            "commitment": self.config.commitment.for_get_transaction(),
        }]);
        let r: Option<GetTransaction> = self.call("getTransaction", params).await?;
        Ok(r.map(|t| (t.slot, t.meta.and_then(|m| m.log_messages).unwrap_or_default())))
    }

    /// Signatures of the successful transactions that touched `key`, oldest first.
    /// `getSignaturesForAddress` answers newest first, at most 1000 per page; this pages back with
    /// `before` until the node has no more, then reverses. Failed transactions are left out (their
    /// logs may carry events of instructions that were rolled back).
    pub async fn get_signatures_for_address(&self, key: &Pubkey) -> ChainResult<Vec<String>> {
        const PAGE: usize = 1000;
        let mut out = Vec::new();
        let mut before: Option<String> = None;
        loop {
            let mut cfg = json!({ "limit": PAGE, "commitment": self.config.commitment.for_get_transaction() });
            if let Some(b) = &before {
                cfg["before"] = json!(b);
            }
            let page: Vec<SignatureInfo> = self.call("getSignaturesForAddress", json!([key.to_string(), cfg])).await?;
            let n = page.len();
            before = page.last().map(|s| s.signature.clone());
            out.extend(page.into_iter().filter(|s| s.err.is_none()).map(|s| s.signature));
            if n < PAGE {
                break;
            }
        }
        out.reverse();
        Ok(out)
    }

    /// Waits until `key`'s account differs from `previous` (`None`: did not exist) and returns
    /// the new state (`None`: the account was closed). [`ChainError::Timeout`] after `timeout`.
    ///
    /// With the `ws` feature and `ws_url` set, subscribes with `accountSubscribe` (then reads the
    /// account once over HTTP, so a change between `previous` and the subscription is not
    /// missed). If the socket cannot be opened, the subscription is refused, or the socket drops,
    /// it falls back to polling `getAccountInfo` every `poll_interval` until the same deadline.
    pub async fn wait_for_account_change(
        &self,
        key: &Pubkey,
        previous: Option<&ChainAccount>,
        timeout: Duration,
    ) -> ChainResult<Option<ChainAccount>> {
        let deadline = Instant::now() + timeout;
        if let Some(ws_url) = &self.config.ws_url {
            #[cfg(feature = "ws")]
            match ws::wait_for_change(self, ws_url, key, previous, deadline).await? {
                ws::Outcome::Changed(account) => return Ok(account),
                ws::Outcome::TimedOut => {
                    return Err(ChainError::Timeout(format!("account {key} did not change within {timeout:?}")))
                }
                ws::Outcome::Unavailable(why) => {
                    debug!(%why, "websocket subscription unavailable, polling getAccountInfo")
                }
            }
            #[cfg(not(feature = "ws"))]
            {
                let _ = ws_url;
                debug!("built without the `ws` feature, polling getAccountInfo");
            }
        }
        loop {
            let current = self.get_account_info(key).await?;
            if current.as_ref() != previous {
                return Ok(current);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(ChainError::Timeout(format!("account {key} did not change within {timeout:?}")));
            }
            sleep(self.config.poll_interval.min(deadline - now)).await;
        }
    }

    /// Builds and signs a legacy transaction. Every required signer must be among `signers`.
    fn sign_tx(
        instructions: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
        blockhash: Hash,
    ) -> ChainResult<Transaction> {
        let payer_key = payer.pubkey();
        let mut message = Message::new(instructions, Some(&payer_key));
        message.recent_blockhash = blockhash;
        let mut tx = Transaction::new_unsigned(message);
        let msg_bytes = tx.message_data();
        let required = tx.message.header.num_required_signatures as usize;
        let mut signed = vec![false; required];
        for kp in std::iter::once(payer).chain(signers.iter().copied()) {
            let pk = kp.pubkey();
            if let Some(pos) = tx.message.account_keys[..required].iter().position(|k| *k == pk) {
                if !signed[pos] {
                    tx.signatures[pos] = kp.sign_message(&msg_bytes);
                    signed[pos] = true;
                }
            }
        }
        if let Some(missing) = signed.iter().position(|s| !s) {
            return Err(ChainError::Rpc(format!(
                "missing signer {} for the transaction",
                tx.message.account_keys[missing]
            )));
        }
        Ok(tx)
    }

    fn encode_tx(tx: &Transaction) -> ChainResult<String> {
        let bytes = bincode::serialize(tx).map_err(|e| ChainError::Decode(format!("serialising transaction: {e}")))?;
        Ok(B64.encode(bytes))
    }

    fn with_budget(limit: u32, price: u64, instructions: &[Instruction]) -> Vec<Instruction> {
        let mut all = Vec::with_capacity(instructions.len() + 2);
        all.push(set_compute_unit_limit(limit));
        all.push(set_compute_unit_price(price));
        all.extend_from_slice(instructions);
        all
    }

    /// The priority fee (micro-lamports per compute unit) for a transaction of `instructions`
    /// paid by `payer`; see the module doc. Never fails: any error gives the floor.
    pub async fn priority_fee(&self, instructions: &[Instruction], payer: &Pubkey) -> u64 {
        let floor = self.config.priority_micro_lamports;
        let Some(percentile) = self.config.priority_fee_percentile else {
            return floor;
        };
        let accounts: Vec<String> = fee_accounts(instructions, payer).iter().map(Pubkey::to_string).collect();
        match self.call::<Vec<PrioritizationFee>>("getRecentPrioritizationFees", json!([accounts])).await {
            Ok(recent) => {
                let recent: Vec<u64> = recent.into_iter().map(|f| f.prioritization_fee).collect();
                let cap = self.config.priority_fee_cap_micro_lamports;
                let fee = priority_fee_from_recent(&recent, percentile, floor, cap);
                debug!(fee, percentile, floor, cap, slots = recent.len(), "priority fee from recent fees");
                fee
            }
            Err(e) => {
                debug!(error = %e, floor, "getRecentPrioritizationFees failed; priority fee at the floor");
                floor
            }
        }
    }

    /// Simulates with the 1.4M placeholder limit and `price` and returns the limit to request.
    async fn simulate_compute_limit(
        &self,
        instructions: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
        blockhash: Hash,
        price: u64,
    ) -> ChainResult<u32> {
        let sim_ixs = Self::with_budget(MAX_COMPUTE_UNIT_LIMIT, price, instructions);
        let tx = Self::sign_tx(&sim_ixs, payer, signers, blockhash)?;
        let params = json!([Self::encode_tx(&tx)?, {
            "encoding": "base64",
            "sigVerify": false,
            "replaceRecentBlockhash": true,
            "commitment": self.config.commitment.as_str(),
        }]);
        let r: WithContext<SimulateResult> = self.call("simulateTransaction", params).await?;
        let sim = r.value;
        if let Some(err) = sim.err.filter(|e| !e.is_null()) {
            return Err(ChainError::Transaction {
                message: format!("simulation failed: {err}"),
                code: custom_error_code(&err),
                logs: sim.logs.unwrap_or_default(),
            });
        }
        let limit = match sim.units_consumed {
            Some(units) => {
                let with_margin = units.saturating_mul(100 + u64::from(self.config.cu_margin_pct)) / 100;
                with_margin.clamp(1, u64::from(MAX_COMPUTE_UNIT_LIMIT)) as u32
            }
            None => {
                warn!("simulateTransaction did not report unitsConsumed; requesting the maximum");
                MAX_COMPUTE_UNIT_LIMIT
            }
        };
        debug!(units = ?sim.units_consumed, limit, "compute-unit limit from simulation");
        Ok(limit)
    }

    /// Polls the status of `signature` until the commitment is reached (→ `Some(slot)`), or the
    /// blockhash expired (→ `None`).
    async fn await_confirmation(&self, signature: &str, last_valid_block_height: u64) -> ChainResult<Option<u64>> {
        let deadline = Instant::now() + self.config.confirm_timeout;
        let mut expired = false;
        loop {
            let params = json!([[signature], { "searchTransactionHistory": false }]);
            let r: WithContext<Vec<Option<SignatureStatus>>> = self.call("getSignatureStatuses", params).await?;
            if let Some(status) = r.value.into_iter().next().flatten() {
                if let Some(err) = status.err.filter(|e| !e.is_null()) {
                    let logs = match self.get_transaction_logs(signature).await {
                        Ok(Some((_, logs))) => logs,
                        _ => Vec::new(),
                    };
                    return Err(ChainError::Transaction {
                        message: format!("transaction {signature} failed: {err}"),
                        code: custom_error_code(&err),
                        logs,
                    });
                }
                if self.config.commitment.reached_by(status.confirmation_status.as_deref()) {
                    self.saw_slot(status.slot);
                    return Ok(Some(status.slot));
                }
                // Landed but not yet at our commitment: it can no longer expire, keep waiting.
            } else if expired {
                // Checked once more after seeing the height pass: it did not land.
                return Ok(None);
            } else if self.block_height().await? > last_valid_block_height {
                expired = true;
                continue;
            }
            if Instant::now() >= deadline {
                return Err(ChainError::Timeout(format!(
                    "transaction {signature} not confirmed within {:?}",
                    self.config.confirm_timeout
                )));
            }
            sleep(self.config.poll_interval).await;
        }
    }

    async fn send_transaction(
        &self,
        instructions: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> ChainResult<TxReceipt> {
        let (mut blockhash, mut last_valid) = self.latest_blockhash().await?;
        let mut price = self.priority_fee(instructions, &payer.pubkey()).await;
        let limit = self.simulate_compute_limit(instructions, payer, signers, blockhash, price).await?;
        let attempts = self.config.max_send_attempts.max(1);
        for attempt in 1..=attempts {
            if attempt > 1 {
                (blockhash, last_valid) = self.latest_blockhash().await?;
                // It expired unlanded: the fee may have been too low for the traffic since.
                price = self.priority_fee(instructions, &payer.pubkey()).await;
            }
            let ixs = Self::with_budget(limit, price, instructions);
            let tx = Self::sign_tx(&ixs, payer, signers, blockhash)?;
            let signature = tx.signatures[0].to_string();
            debug!(attempt, %signature, last_valid, "sendTransaction");
            let params = json!([Self::encode_tx(&tx)?, { "encoding": "base64", "skipPreflight": true }]);
            let _: String = self.call("sendTransaction", params).await?;
            match self.await_confirmation(&signature, last_valid).await? {
                Some(slot) => {
                    let logs = self.receipt_logs(&signature).await?;
                    return Ok(TxReceipt { signature, slot, logs });
                }
                None => debug!(attempt, %signature, "blockhash expired before confirmation"),
            }
        }
        Err(ChainError::BlockhashExpired { attempts })
    }

    /// Blockhash, priority fee, compute budget (from a simulation) and signatures, without sending.
    async fn prepare_transaction(
        &self,
        instructions: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> ChainResult<PreparedTx> {
        let (blockhash, last_valid_block_height) = self.latest_blockhash().await?;
        let price = self.priority_fee(instructions, &payer.pubkey()).await;
        let limit = self.simulate_compute_limit(instructions, payer, signers, blockhash, price).await?;
        let ixs = Self::with_budget(limit, price, instructions);
        let tx = Self::sign_tx(&ixs, payer, signers, blockhash)?;
        let wire = bincode::serialize(&tx).map_err(|e| ChainError::Decode(format!("serialising transaction: {e}")))?;
        Ok(PreparedTx { signature: tx.signatures[0].to_string(), last_valid_block_height, wire })
    }

    /// `sendTransaction` of prepared bytes (`skipPreflight`: it was simulated when prepared).
    async fn submit_prepared(&self, tx: &PreparedTx) -> ChainResult<()> {
        let params = json!([B64.encode(&tx.wire), { "encoding": "base64", "skipPreflight": true }]);
        let _: String = self.call("sendTransaction", params).await?;
        Ok(())
    }

    /// `getSignatureStatuses` (recent statuses, then the node's history for those it lacks).
    async fn signature_statuses(&self, signatures: &[String]) -> ChainResult<Vec<TxStatus>> {
        let mut out = Vec::with_capacity(signatures.len());
        for chunk in signatures.chunks(256) {
            let params = json!([chunk, { "searchTransactionHistory": true }]);
            let r: WithContext<Vec<Option<SignatureStatus>>> = self.call("getSignatureStatuses", params).await?;
            if r.value.len() != chunk.len() {
                return Err(ChainError::Decode(format!(
                    "getSignatureStatuses answered {} statuses for {} signatures",
                    r.value.len(),
                    chunk.len()
                )));
            }
            for s in r.value {
                out.push(match s {
                    None => TxStatus::Unknown,
                    Some(s) => match s.err.filter(|e| !e.is_null()) {
                        Some(err) => {
                            TxStatus::Failed { slot: s.slot, code: custom_error_code(&err), message: err.to_string() }
                        }
                        None if self.config.commitment.reached_by(s.confirmation_status.as_deref()) => {
                            self.saw_slot(s.slot);
                            TxStatus::Confirmed { slot: s.slot }
                        }
                        None => TxStatus::Processing { slot: s.slot },
                    },
                });
            }
        }
        Ok(out)
    }

    /// Logs of a confirmed transaction. The node may index it slightly after the status, so
    /// this polls up to `confirm_timeout`; if it never appears the receipt has no logs (warned).
    async fn receipt_logs(&self, signature: &str) -> ChainResult<Vec<String>> {
        let deadline = Instant::now() + self.config.confirm_timeout;
        loop {
            if let Some((_, logs)) = self.get_transaction_logs(signature).await? {
                return Ok(logs);
            }
            if Instant::now() >= deadline {
                warn!(%signature, "getTransaction found no transaction; receipt without logs");
                return Ok(Vec::new());
            }
            sleep(self.config.poll_interval).await;
        }
    }
}

#[cfg(feature = "ws")]
mod ws {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::{connect_async, tungstenite::Message as WsMessage};

    use super::*;

    pub(super) enum Outcome {
        /// The account differs from `previous`: its new state.
        Changed(Option<ChainAccount>),
        /// The deadline passed without a change.
        TimedOut,
        /// No usable subscription (connect failed, refused, socket dropped): poll instead.
        Unavailable(String),
    }

    pub(super) async fn wait_for_change(
        chain: &RpcChain,
        ws_url: &str,
        key: &Pubkey,
        previous: Option<&ChainAccount>,
        deadline: Instant,
    ) -> ChainResult<Outcome> {
        debug!(method = "accountSubscribe", "websocket connect");
        let connect_deadline = deadline.min(Instant::now() + chain.config.request_timeout);
        let mut socket = match tokio::time::timeout_at(connect_deadline, connect_async(ws_url)).await {
            Ok(Ok((socket, _))) => socket,
            Ok(Err(e)) => return Ok(Outcome::Unavailable(format!("connect: {e}"))),
            Err(_) => return Ok(Outcome::Unavailable("connect timed out".into())),
        };
        let request = json!({
            "jsonrpc": "2.0",
            "id": 1,
            "method": "accountSubscribe",
            "params": [key.to_string(), {
                "encoding": "base64",
                "commitment": chain.config.commitment.as_str(),
            }],
        });
        if let Err(e) = socket.send(WsMessage::Text(request.to_string().into())).await {
            return Ok(Outcome::Unavailable(format!("send: {e}")));
        }
        let mut subscribed = false;
        let outcome = loop {
            let message = match tokio::time::timeout_at(deadline, socket.next()).await {
                Err(_) => break Outcome::TimedOut,
                Ok(None) => break Outcome::Unavailable("socket closed".into()),
                Ok(Some(Err(e))) => break Outcome::Unavailable(format!("socket: {e}")),
                Ok(Some(Ok(WsMessage::Text(text)))) => text,
                Ok(Some(Ok(WsMessage::Close(_)))) => break Outcome::Unavailable("socket closed".into()),
                Ok(Some(Ok(_))) => continue,
            };
            let Ok(v) = serde_json::from_str::<Value>(message.as_str()) else {
                continue;
            };
            if !subscribed && v.get("id") == Some(&json!(1)) {
                if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
                    break Outcome::Unavailable(format!("accountSubscribe refused: {err}"));
                }
                subscribed = true;
                // The account may have changed before the subscription existed.
                let current = chain.get_account_info(key).await?;
                if current.as_ref() != previous {
                    break Outcome::Changed(current);
                }
                continue;
            }
            if v.get("method").and_then(Value::as_str) == Some("accountNotification") {
                let value = v["params"]["result"]["value"].clone();
                let account: Option<UiAccount> = serde_json::from_value(value)
                    .map_err(|e| ChainError::Decode(format!("accountNotification: {e}")))?;
                let account = account.map(UiAccount::decode).transpose()?;
                if account.as_ref() != previous {
                    break Outcome::Changed(account);
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(None)).await;
        Ok(outcome)
    }
}

/// A reqwest error with its causes, without the URL (which may carry an API key).
fn error_chain(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut out = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(200) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

impl Chain for RpcChain {
    fn get_account<'a>(&'a self, key: &'a Pubkey) -> BoxFuture<'a, ChainResult<Option<ChainAccount>>> {
        Box::pin(self.get_account_info(key))
    }

    fn get_multiple_accounts<'a>(
        &'a self,
        keys: &'a [Pubkey],
    ) -> BoxFuture<'a, ChainResult<Vec<Option<ChainAccount>>>> {
        Box::pin(self.get_multiple_account_infos(keys))
    }

    fn send<'a>(
        &'a self,
        instructions: &'a [Instruction],
        payer: &'a Keypair,
        signers: &'a [&'a Keypair],
    ) -> BoxFuture<'a, ChainResult<TxReceipt>> {
        Box::pin(self.send_transaction(instructions, payer, signers))
    }

    fn prepare<'a>(
        &'a self,
        instructions: &'a [Instruction],
        payer: &'a Keypair,
        signers: &'a [&'a Keypair],
    ) -> BoxFuture<'a, ChainResult<PreparedTx>> {
        Box::pin(self.prepare_transaction(instructions, payer, signers))
    }

    fn submit<'a>(&'a self, tx: &'a PreparedTx) -> BoxFuture<'a, ChainResult<()>> {
        Box::pin(self.submit_prepared(tx))
    }

    fn program_accounts<'a>(
        &'a self,
        program: &'a Pubkey,
        filters: &'a [AccountFilter],
    ) -> BoxFuture<'a, ChainResult<Vec<(Pubkey, ChainAccount)>>> {
        Box::pin(self.get_program_accounts(program, filters))
    }

    fn statuses<'a>(&'a self, signatures: &'a [String]) -> BoxFuture<'a, ChainResult<Vec<TxStatus>>> {
        Box::pin(self.signature_statuses(signatures))
    }

    fn block_height(&self) -> BoxFuture<'_, ChainResult<u64>> {
        Box::pin(RpcChain::block_height(self))
    }

    fn unix_timestamp(&self) -> BoxFuture<'_, ChainResult<i64>> {
        Box::pin(async move {
            let clock = self
                .get_account_info(&CLOCK_SYSVAR_ID)
                .await?
                .ok_or_else(|| ChainError::Decode("Clock sysvar account not found".into()))?;
            let bytes: [u8; 8] = clock
                .data
                .get(32..40)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| ChainError::Decode(format!("Clock sysvar data is {} bytes", clock.data.len())))?;
            Ok(i64::from_le_bytes(bytes))
        })
    }

    fn transaction_logs<'a>(&'a self, signature: &'a str) -> BoxFuture<'a, ChainResult<Option<Vec<String>>>> {
        Box::pin(async move { Ok(self.get_transaction_logs(signature).await?.map(|(_, logs)| logs)) })
    }

    fn signatures_for_address<'a>(&'a self, key: &'a Pubkey) -> BoxFuture<'a, ChainResult<Vec<String>>> {
        Box::pin(self.get_signatures_for_address(key))
    }
}
