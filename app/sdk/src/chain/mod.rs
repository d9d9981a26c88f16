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
}

impl ChainError {
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

    /// Signatures of transactions that touched `key`, oldest first (`getSignaturesForAddress`).
    fn signatures_for_address<'a>(&'a self, key: &'a Pubkey) -> BoxFuture<'a, ChainResult<Vec<String>>> {
        let _ = key;
        Box::pin(async { Err(ChainError::Rpc("signatures_for_address is not supported by this chain".into())) })
    }
}
