//! # cinder-worker
//!
//! The provider and verifier daemon. Each role is a [`Provider`] or [`Verifier`] whose `tick()`
//! does one round of work against a [`Chain`]: the daemon (`cinder-worker run`) calls it on a
//! timer; `cinder-demo` and the tests call it directly against the in-process chain.
//!
//! * Provider: claim the market's queue head (after fetching and checking the input: a job it
//!   cannot serve is refused and left to expire open, so the client is refunded), run inference on
//!   a blocking thread, store the output in the content-addressed store, submit the commitment,
//!   and finalize after the challenge window.
//! * Verifier: re-execute submitted results, challenge wrong ones, vote when drawn (commit then
//!   reveal), resolve disputes and settle votes, and expire jobs whose provider vanished.
//!
//! Every transaction is preceded by a journal write (SQLite), and every step first reconciles the
//! journal with the chain, so a crash or restart at any point finishes each job exactly once.

use std::{sync::Arc, time::Duration};

use anchor_lang::prelude::Pubkey;
use cinder_jobs::{Job, Market};
use cinder_sdk::{
    bootstrap::ata,
    chain::{Chain, ChainError, Resolution, TxReceipt},
    fetch,
    jobs::MarketKeys,
    Instruction,
};
use solana_keypair::Keypair;
use solana_signer::Signer;

pub mod daemon;
pub mod engine;
pub mod fetch_input;
pub mod http;
pub mod journal;
pub mod metrics;
pub mod provider;
pub mod settings;
pub mod store;
pub mod verifier;

pub use engine::{Engine, Refusal};
pub use journal::Journal;
pub use metrics::Metrics;
pub use provider::Provider;
pub use settings::{Role, Settings};
pub use store::ContentStore;
pub use verifier::Verifier;

/// Where a test asks the worker to stop as if it had crashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashPoint {
    /// After inference, before the commitment is journaled.
    AfterInference,
    /// After the commitment is journaled, before the transaction is sent.
    BeforeSubmit,
    /// After the transaction landed, before the journal records it.
    AfterSubmit,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    #[error("the market account {0} does not exist")]
    NoMarket(Pubkey),
    #[error("simulated crash at {0:?}")]
    Crashed(CrashPoint),
    #[error("store: {0}")]
    Store(#[from] std::io::Error),
}

/// What both roles share.
pub struct Node {
    pub chain: Arc<dyn Chain>,
    pub keypair: Keypair,
    pub market_key: Pubkey,
    pub market: MarketKeys,
    pub model_id: [u8; 32],
    pub engine: Arc<Engine>,
    pub store: ContentStore,
    pub journal: Journal,
    pub metrics: Arc<Metrics>,
    pub max_input_bytes: usize,
    pub fetch_timeout: Duration,
    /// How long one send waits for a verdict before leaving the signature journaled as undecided.
    pub confirm_timeout: Duration,
    /// How many results a verifier re-executes at once (at least 1).
    pub max_parallel_verifications: usize,
    /// The public base URL of this worker's HTTP endpoint, if it runs one: outputs are published
    /// under it, and inputs posted to it are awaited (uploaded by the client) rather than fetched.
    pub public_url: Option<String>,
    /// What inputs may be fetched from ([`fetch_input::FetchPolicy::PUBLIC`] unless set).
    pub fetch_policy: fetch_input::FetchPolicy,
    /// Interval of signature-status polls while waiting.
    pub status_poll: Duration,
}

impl Node {
    pub async fn connect(
        chain: Arc<dyn Chain>,
        keypair: Keypair,
        market_key: Pubkey,
        engine: Arc<Engine>,
        store: ContentStore,
        journal: Journal,
        metrics: Arc<Metrics>,
    ) -> Result<Node, WorkerError> {
        let m: Market = fetch(chain.as_ref(), &market_key).await?.ok_or(WorkerError::NoMarket(market_key))?;
        Ok(Node {
            market: MarketKeys::from_market(market_key, &m),
            model_id: m.model_id,
            chain,
            keypair,
            market_key,
            engine,
            store,
            journal,
            metrics,
            max_input_bytes: 64 * 1024,
            fetch_timeout: Duration::from_secs(10),
            confirm_timeout: Duration::from_secs(30),
            max_parallel_verifications: 2,
            public_url: None,
            fetch_policy: fetch_input::FetchPolicy::PUBLIC,
            status_poll: Duration::from_millis(400),
        })
    }

    pub fn me(&self) -> Pubkey {
        self.keypair.pubkey()
    }

    pub fn my_token(&self) -> Pubkey {
        ata(&self.me(), &self.market.mint, &self.market.token_program)
    }

    pub fn token_of(&self, owner: &Pubkey) -> Pubkey {
        ata(owner, &self.market.mint, &self.market.token_program)
    }

    pub async fn market_state(&self) -> Result<Market, WorkerError> {
        fetch(self.chain.as_ref(), &self.market_key).await?.ok_or(WorkerError::NoMarket(self.market_key))
    }

    pub async fn job(&self, id: u64) -> Result<Option<Job>, WorkerError> {
        Ok(fetch(self.chain.as_ref(), &self.market.job(id)).await?)
    }

    /// The jobs `ids` in one round trip (`getMultipleAccounts`); `None` for closed ones.
    pub async fn jobs(&self, ids: std::ops::Range<u64>) -> Result<Vec<(u64, Option<Job>)>, WorkerError> {
        let keys: Vec<Pubkey> = ids.clone().map(|id| self.market.job(id)).collect();
        let accounts = self.chain.get_multiple_accounts(&keys).await?;
        Ok(ids.zip(accounts).map(|(id, a)| (id, a.and_then(|a| cinder_sdk::decode::<Job>(&a.data)))).collect())
    }

    /// Sends `ixs` signed by this worker, with a journaled lifecycle: sign (prepare), journal the
    /// signature and its last valid block height, submit, wait for a verdict. An earlier attempt of
    /// the same action for the same job that is still in the journal is resolved first: if it
    /// landed, that is the answer (nothing is sent twice); if it may still land, nothing new is
    /// sent and [`ChainError::Undecided`] is returned. Errors that are not
    /// [`ChainError::is_definitive`] leave the signature journaled for the next attempt.
    pub async fn send(&self, what: &str, job_id: u64, ixs: &[Instruction]) -> Result<TxReceipt, ChainError> {
        let r = self.send_tracked(what, job_id, ixs).await;
        match &r {
            Ok(r) => tracing::info!(action = what, job_id, signature = %r.signature, "transaction confirmed"),
            Err(e) => {
                Metrics::inc(&self.metrics.tx_errors);
                if e.is_definitive() {
                    tracing::warn!(action = what, job_id, error = %e, "transaction failed");
                } else {
                    tracing::warn!(action = what, job_id, error = %e, "transaction not decided; resolved on the next attempt");
                }
            }
        }
        r
    }

    async fn send_tracked(&self, what: &str, job_id: u64, ixs: &[Instruction]) -> Result<TxReceipt, ChainError> {
        let key = format!("{what}:{job_id}");
        let journal = |e: journal::JournalError| ChainError::Rpc(format!("not sent: {e}"));
        if let Some(p) = self.journal.pending(&key).map_err(journal)? {
            match self.resolve_pending(&p).await? {
                Resolution::Landed { slot } => return Ok(TxReceipt { signature: p.signature, slot, logs: vec![] }),
                Resolution::Pending => {
                    return Err(ChainError::Undecided {
                        signature: p.signature,
                        reason: "an earlier attempt may still land".into(),
                    })
                }
                Resolution::Failed { .. } | Resolution::Expired => {} // cleared: a fresh attempt
            }
        }
        let tx = self.chain.prepare(ixs, &self.keypair, &[]).await?;
        let p = journal::Pending {
            key: key.clone(),
            job_id,
            action: what.into(),
            signature: tx.signature.clone(),
            last_valid_block_height: tx.last_valid_block_height,
        };
        self.journal.set_pending(&p).map_err(journal)?;
        let r = cinder_sdk::chain::submit_and_wait(self.chain.as_ref(), &tx, self.confirm_timeout, self.status_poll)
            .await?;
        if r != Resolution::Pending {
            self.journal.clear_pending(&key, &tx.signature).map_err(journal)?;
        }
        match r {
            Resolution::Landed { slot } => Ok(TxReceipt { signature: tx.signature, slot, logs: vec![] }),
            Resolution::Pending => Err(ChainError::Undecided {
                signature: tx.signature,
                reason: format!("no verdict within {:?}", self.confirm_timeout),
            }),
            other => Err(other.into_error().unwrap_or(ChainError::BlockhashExpired { attempts: 1 })),
        }
    }

    /// What became of a journaled transaction; clears it from the journal once decided.
    pub async fn resolve_pending(&self, p: &journal::Pending) -> Result<Resolution, ChainError> {
        let r = cinder_sdk::chain::resolve(self.chain.as_ref(), &p.signature, p.last_valid_block_height).await?;
        if r != Resolution::Pending {
            tracing::info!(action = %p.action, job_id = p.job_id, signature = %p.signature, outcome = ?r, "resolved a journaled transaction");
            self.journal.clear_pending(&p.key, &p.signature).map_err(|e| ChainError::Rpc(format!("journal: {e}")))?;
        }
        Ok(r)
    }

    /// Resolves every journaled transaction (at the start of each tick: after a restart or an
    /// ambiguous answer nothing is decided before this); returns those that may still land.
    pub async fn settle_pending(&self) -> Result<Vec<journal::Pending>, WorkerError> {
        let mut undecided = vec![];
        for p in self.journal.all_pending()? {
            if self.resolve_pending(&p).await? == Resolution::Pending {
                undecided.push(p);
            }
        }
        Ok(undecided)
    }

    /// Whether a journaled `what` transaction for `job_id` may still land (resolving it first).
    pub async fn undecided(&self, what: &str, job_id: u64) -> Result<bool, WorkerError> {
        match self.journal.pending(&format!("{what}:{job_id}"))? {
            None => Ok(false),
            Some(p) => Ok(self.resolve_pending(&p).await? == Resolution::Pending),
        }
    }

    /// Where an object of this worker's store is published: under its endpoint, else `cas://`.
    pub fn object_uri(&self, hash: &[u8; 32]) -> String {
        match &self.public_url {
            Some(base) => cinder_sdk::util::object_url(base, hash),
            None => ContentStore::uri(hash),
        }
    }

    /// The input of a `post_job_inline` job, from its `JobInputInline` event (emitted by the jobs
    /// program in the posting transaction), checked against the job's hash and cached.
    async fn inline_input(&self, job: &Job) -> Result<Vec<u8>, fetch_input::FetchError> {
        use fetch_input::FetchError;
        if let Some(b) = self.store.get(&job.input_hash) {
            return Ok(b);
        }
        let key = self.market.job(job.job_id);
        let transient = |reason: String| FetchError::Transient { uri: job.input_uri.clone(), reason };
        let sigs = self.chain.signatures_for_address(&key).await.map_err(|e| transient(e.to_string()))?;
        for sig in sigs {
            let logs = self.chain.transaction_logs(&sig).await.map_err(|e| transient(e.to_string()))?;
            let events: Vec<cinder_jobs::JobInputInline> = cinder_sdk::events::decode(&logs.unwrap_or_default());
            for e in events.into_iter().filter(|e| e.job == key && e.input_hash == job.input_hash) {
                if e.input.len() > self.max_input_bytes {
                    return Err(FetchError::TooLarge { size: e.input.len(), limit: self.max_input_bytes });
                }
                if store::sha256(&e.input) != job.input_hash {
                    continue;
                }
                let _ = self.store.put(&e.input);
                return Ok(e.input);
            }
        }
        // The job exists, so its posting transaction landed; a node whose history lags may not
        // show it yet.
        Err(transient("no JobInputInline event for this job in its transactions yet".into()))
    }

    /// Fetches and checks the job's input, then builds the generation request.
    pub async fn prepare(&self, job: &Job) -> Result<cinder_inference::GenerationRequest, Refusal> {
        if job.input_uri == cinder_jobs::INLINE_INPUT_URI {
            let input = self.inline_input(job).await?;
            return self.engine.request(&self.model_id, job, &input);
        }
        if let Some(base) = &self.public_url {
            // The job names our own endpoint: the client uploads the input to us (PUT). Until it
            // has, the job waits; asking ourselves over HTTP would only find the same store.
            if job.input_uri.starts_with(&cinder_sdk::util::objects_prefix(base))
                && self.store.get(&job.input_hash).is_none()
            {
                return Err(Refusal::Fetch(fetch_input::FetchError::Transient {
                    uri: job.input_uri.clone(),
                    reason: "not uploaded to this endpoint yet".into(),
                }));
            }
        }
        let input = fetch_input::fetch_input(
            &job.input_uri,
            &job.input_hash,
            &self.store,
            self.max_input_bytes,
            self.fetch_timeout,
            self.fetch_policy,
        )
        .await?;
        self.engine.request(&self.model_id, job, &input)
    }
}
