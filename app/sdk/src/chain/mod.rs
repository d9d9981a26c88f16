//! The chain behind a trait: everything off-chain (CLI, worker, demo, audit) talks to Solana only
//! through [`Chain`]. Two implementations: [`rpc::RpcChain`] (JSON-RPC + websocket, for real
//! clusters) and the in-process one (solana-program-test with the four programs loaded natively,
//! for tests and the local demo).

use std::{future::Future, pin::Pin};

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;

use crate::Instruction;

#[cfg(feature = "local")]
pub mod local;
pub mod rpc;

/// A boxed future, so the trait stays object-safe without extra dependencies.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An account as read from the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainAccount {
    pub lamports: u64,
    pub data: Vec<u8>,
    pub owner: Pubkey,
    pub executable: bool,
}

/// A confirmed transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxReceipt {
    /// Base58 signature.
    pub signature: String,
    pub slot: u64,
    /// Log messages (events are decoded from these with [`crate::events::decode`]).
    pub logs: Vec<String>,
}

/// A signed transaction that has not been sent yet: what a worker journals *before* submitting
/// it, so that after a crash, a restart or an ambiguous answer it can ask the cluster what became
/// of exactly this signature instead of guessing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedTx {
    /// Base58 signature (the first signature: the fee payer's).
    pub signature: String,
    /// The blockhash's last valid block height: once the cluster's block height is past it, this
    /// transaction can never land.
    pub last_valid_block_height: u64,
    /// The signed transaction in wire format (bincode), for [`Chain::submit`] and resubmission.
    pub wire: Vec<u8>,
}

/// What a node says about a signature (`getSignatureStatuses`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxStatus {
    /// Landed and succeeded, at the chain's commitment.
    Confirmed { slot: u64 },
    /// Landed and failed: definitive (it can never succeed; its fee was paid).
    Failed { slot: u64, message: String, code: Option<u32> },
    /// Landed, not yet at the chain's commitment: it can no longer expire.
    Processing { slot: u64 },
    /// Not known to the node (not sent, not arrived yet, or dropped).
    Unknown,
}

/// What became of a prepared transaction, as far as can be told now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    Landed {
        slot: u64,
    },
    /// Landed and failed (definitive).
    Failed {
        message: String,
        code: Option<u32>,
    },
    /// Unknown to the node and the cluster is past its last valid block height: it never landed
    /// and never will (definitive).
    Expired,
    /// Not decided yet: it may still land. Nothing may be concluded.
    Pending,
}

impl Resolution {
    /// The failure as a [`ChainError::Transaction`] (for callers that want an error).
    pub fn into_error(self) -> Option<ChainError> {
        match self {
            Resolution::Failed { message, code } => Some(ChainError::Transaction { message, code, logs: vec![] }),
            Resolution::Expired => Some(ChainError::BlockhashExpired { attempts: 1 }),
            _ => None,
        }
    }
}

/// Asks the cluster what became of `signature` (prepared with `last_valid_block_height`).
/// `Expired` only when the node does not know the signature *after* reporting a block height past
/// the deadline (the status is read again after the height, so a landing in between is seen).
pub async fn resolve(chain: &dyn Chain, signature: &str, last_valid_block_height: u64) -> ChainResult<Resolution> {
    let sig = [signature.to_string()];
    let first = chain.statuses(&sig).await?.into_iter().next().unwrap_or(TxStatus::Unknown);
    let status = match first {
        TxStatus::Unknown => {
            if chain.block_height().await? <= last_valid_block_height {
                return Ok(Resolution::Pending);
            }
            chain.statuses(&sig).await?.into_iter().next().unwrap_or(TxStatus::Unknown)
        }
        s => s,
    };
    Ok(match status {
        TxStatus::Confirmed { slot } => Resolution::Landed { slot },
        TxStatus::Failed { message, code, .. } => Resolution::Failed { message, code },
        TxStatus::Processing { .. } => Resolution::Pending,
        TxStatus::Unknown => Resolution::Expired,
    })
}

/// Submits `tx` and waits up to `timeout` for a definitive answer, polling every `poll`. A failed
/// or ambiguous `submit` (the request may have reached the node) is not a verdict: the status
/// decides. Returns `Pending` when nothing was decided in time (the caller keeps the signature
/// and resolves it later).
pub async fn submit_and_wait(
    chain: &dyn Chain,
    tx: &PreparedTx,
    timeout: std::time::Duration,
    poll: std::time::Duration,
) -> ChainResult<Resolution> {
    if let Err(e) = chain.submit(tx).await {
        match e {
            // The node executed it and it failed. A node may also answer so for bytes that
            // already landed (an earlier send of this same signature), so the status has the
            // last word: only when the node knows nothing of the signature is this the verdict.
            ChainError::Transaction { message, code, .. } => {
                for _ in 0..3 {
                    match chain.statuses(std::slice::from_ref(&tx.signature)).await {
                        Ok(s) => match s.into_iter().next() {
                            Some(TxStatus::Confirmed { slot }) => return Ok(Resolution::Landed { slot }),
                            Some(TxStatus::Failed { message, code, .. }) => {
                                return Ok(Resolution::Failed { message, code })
                            }
                            Some(TxStatus::Processing { .. }) => break,
                            Some(TxStatus::Unknown) | None => {
                                return Ok(Resolution::Failed { message, code });
                            }
                        },
                        Err(err) => {
                            tracing::debug!(signature = %tx.signature, error = %err, "status check after a failed submit")
                        }
                    }
                    tokio::time::sleep(poll).await;
                }
                tracing::warn!(signature = %tx.signature, "submit said failed but the status is not known; resolving by status");
            }
            e => {
                tracing::warn!(signature = %tx.signature, error = %e, "submit answered with an error; resolving by status")
            }
        }
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let mut resent = false;
    loop {
        match resolve(chain, &tx.signature, tx.last_valid_block_height).await {
            Ok(Resolution::Pending) => {}
            Ok(r) => return Ok(r),
            Err(e) => tracing::debug!(signature = %tx.signature, error = %e, "status check failed; retrying"),
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(Resolution::Pending);
        }
        tokio::time::sleep(poll).await;
        // Resending the same bytes is always safe (one signature lands at most once); once is
        // enough to cover a dropped first send.
        if !resent && tokio::time::Instant::now() + poll * 4 >= deadline {
            resent = true;
            let _ = chain.submit(tx).await;
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The node could not be reached or answered with an RPC error.
    #[error("RPC error: {0}")]
    Rpc(String),
    /// The transaction executed and failed. `code` is the custom program error code, if any.
    #[error("transaction failed: {message}{}", code.map(|c| format!(" ({})", crate::errors::describe_code(c))).unwrap_or_default())]
    Transaction { message: String, code: Option<u32>, logs: Vec<String> },
    /// The blockhash expired before the transaction landed, even after retries.
    #[error("blockhash expired before the transaction was confirmed (after {attempts} attempts)")]
    BlockhashExpired { attempts: u32 },
    /// Waiting for confirmation took too long.
    #[error("timed out: {0}")]
    Timeout(String),
    /// An answer could not be decoded.
    #[error("could not decode: {0}")]
    Decode(String),
    /// Signed and (possibly) sent, and not decided yet: it may still land. Nothing may be
    /// concluded until the signature is resolved ([`resolve`]).
    #[error("transaction {signature} is not decided yet: {reason}")]
    Undecided { signature: String, reason: String },
    /// The node (or this chain) does not offer the method: JSON-RPC -32601, or an index the
    /// operator disabled (-32010). Callers with another way to get the answer use it.
    #[error("not supported by this node: {0}")]
    Unsupported(String),
}

/// A `getProgramAccounts` filter; every filter must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountFilter {
    /// The account's data is exactly this many bytes.
    DataSize(u64),
    /// The data at `offset` equals `bytes`.
    Memcmp { offset: usize, bytes: Vec<u8> },
}

impl AccountFilter {
    pub fn matches(&self, data: &[u8]) -> bool {
        match self {
            AccountFilter::DataSize(n) => data.len() as u64 == *n,
            AccountFilter::Memcmp { offset, bytes } => {
                data.get(*offset..).is_some_and(|rest| rest.len() >= bytes.len() && rest[..bytes.len()] == bytes[..])
            }
        }
    }
}

impl ChainError {
    /// Whether this error proves the transaction did not and will not take effect (it failed
    /// on-chain or in simulation, or its blockhash expired unlanded). Anything else (transport
    /// errors, timeouts, [`ChainError::Undecided`]) may hide a landed transaction.
    pub fn is_definitive(&self) -> bool {
        matches!(self, ChainError::Transaction { .. } | ChainError::BlockhashExpired { .. })
    }

    /// The custom program error code of a failed transaction.
    pub fn program_error_code(&self) -> Option<u32> {
        match self {
            ChainError::Transaction { code, .. } => *code,
            _ => None,
        }
    }
}

pub type ChainResult<T> = Result<T, ChainError>;

/// What the off-chain code needs from a chain.
pub trait Chain: Send + Sync {
    /// One account, or `None` if it does not exist.
    fn get_account<'a>(&'a self, key: &'a Pubkey) -> BoxFuture<'a, ChainResult<Option<ChainAccount>>>;

    /// Several accounts in one round trip, in order.
    fn get_multiple_accounts<'a>(&'a self, keys: &'a [Pubkey])
        -> BoxFuture<'a, ChainResult<Vec<Option<ChainAccount>>>>;

    /// Signs with `payer` (fee payer) and `signers`, sends, and waits for confirmation.
    /// Implementations fetch a fresh blockhash and retry when it expires.
    fn send<'a>(
        &'a self,
        instructions: &'a [Instruction],
        payer: &'a Keypair,
        signers: &'a [&'a Keypair],
    ) -> BoxFuture<'a, ChainResult<TxReceipt>>;

    /// The cluster's current unix timestamp (the Clock sysvar).
    fn unix_timestamp(&self) -> BoxFuture<'_, ChainResult<i64>>;

    /// Log messages of a confirmed transaction (for event history), if the node still has it.
    fn transaction_logs<'a>(&'a self, signature: &'a str) -> BoxFuture<'a, ChainResult<Option<Vec<String>>>>;

    /// Fetches a fresh blockhash, sets the compute budget and signs, without sending. A
    /// simulation failure is returned as [`ChainError::Transaction`] (nothing was sent).
    fn prepare<'a>(
        &'a self,
        instructions: &'a [Instruction],
        payer: &'a Keypair,
        signers: &'a [&'a Keypair],
    ) -> BoxFuture<'a, ChainResult<PreparedTx>>;

    /// Sends a prepared transaction. Idempotent: the same bytes land at most once, so resending is
    /// safe. An error other than [`ChainError::Transaction`] is ambiguous (it may have been
    /// forwarded): resolve the signature with [`resolve`] before concluding anything.
    fn submit<'a>(&'a self, tx: &'a PreparedTx) -> BoxFuture<'a, ChainResult<()>>;

    /// Statuses of up to 256 signatures, in order.
    fn statuses<'a>(&'a self, signatures: &'a [String]) -> BoxFuture<'a, ChainResult<Vec<TxStatus>>>;

    /// The cluster's block height (what a blockhash's last valid block height is compared with).
    fn block_height(&self) -> BoxFuture<'_, ChainResult<u64>>;

    /// Every account owned by `program` that matches all `filters` (`getProgramAccounts`), in no
    /// particular order. [`ChainError::Unsupported`] where the node does not offer it (many
    /// public nodes disable it): discovery then falls back to event history.
    fn program_accounts<'a>(
        &'a self,
        program: &'a Pubkey,
        filters: &'a [AccountFilter],
    ) -> BoxFuture<'a, ChainResult<Vec<(Pubkey, ChainAccount)>>> {
        let _ = (program, filters);
        Box::pin(async { Err(ChainError::Unsupported("getProgramAccounts".into())) })
    }

    /// Signatures of transactions that touched `key`, oldest first (`getSignaturesForAddress`).
    fn signatures_for_address<'a>(&'a self, key: &'a Pubkey) -> BoxFuture<'a, ChainResult<Vec<String>>> {
        let _ = key;
        Box::pin(async { Err(ChainError::Rpc("signatures_for_address is not supported by this chain".into())) })
    }
}
