//! The in-process chain: a solana-program-test bank with the four Cinder programs loaded natively
//! (as builtins) next to the real SPL Token and Token-2022 programs. Used by the tests and by
//! `cinder-demo`. Everything else about it behaves like a cluster behind [`Chain`].
#![allow(deprecated)] // program-test 3.x marks its API "unstable"; it is the harness we pin.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use anchor_lang::prelude::{Clock, Pubkey};
use solana_keypair::Keypair;
use solana_program_test::{processor, BanksClient, ProgramTest, ProgramTestContext};
use solana_signer::Signer;
use solana_transaction::Transaction;

use super::{BoxFuture, Chain, ChainAccount, ChainError, ChainResult, PreparedTx, TxReceipt, TxStatus};
use crate::Instruction;

/// Anchor's generated `entry<'info>` ties its three lifetimes together, so it does not coerce to
/// program-test's higher-ranked function pointer. This re-borrows the arguments under one lifetime.
#[macro_export]
macro_rules! native_entry {
    ($name:ident, $krate:ident) => {
        pub fn $name<'a, 'b, 'c, 'd>(
            program_id: &'a anchor_lang::prelude::Pubkey,
            accounts: &'b [anchor_lang::prelude::AccountInfo<'c>],
            data: &'d [u8],
        ) -> anchor_lang::solana_program::entrypoint::ProgramResult {
            // SAFETY: program-test keeps the serialized parameter buffer that all three borrow
            // from alive for the whole call, and Anchor does not keep the references.
            let accounts: &'c [anchor_lang::prelude::AccountInfo<'c>] = unsafe { std::mem::transmute(accounts) };
            let program_id: &'c anchor_lang::prelude::Pubkey = unsafe { std::mem::transmute(program_id) };
            let data: &'c [u8] = unsafe { std::mem::transmute(data) };
            $krate::entry(program_id, accounts, data)
        }
    };
}
native_entry!(escrow_entry, cinder_escrow);
native_entry!(staking_entry, cinder_staking);
native_entry!(jobs_entry, cinder_jobs);
native_entry!(verification_entry, cinder_verification);

/// A ProgramTest with the four Cinder programs loaded natively, and a ProgramData account for the
/// jobs program naming [`crate::bootstrap::local_upgrade_authority`] (native builtins have none;
/// `init_config` checks it, as on a real cluster).
pub fn program_test() -> ProgramTest {
    let mut pt = ProgramTest::default();
    pt.prefer_bpf(false);
    pt.add_program("cinder_escrow", cinder_escrow::ID, processor!(escrow_entry));
    pt.add_program("cinder_staking", cinder_staking::ID, processor!(staking_entry));
    pt.add_program("cinder_jobs", cinder_jobs::ID, processor!(jobs_entry));
    pt.add_program("cinder_verification", cinder_verification::ID, processor!(verification_entry));
    let authority = crate::bootstrap::local_upgrade_authority().pubkey();
    pt.add_account(
        crate::jobs::program_data_address(&cinder_jobs::ID),
        solana_account::Account {
            lamports: 1_000_000_000,
            data: crate::jobs::program_data_account_data(&authority),
            owner: solana_sdk_ids::bpf_loader_upgradeable::ID,
            executable: false,
            rent_epoch: 0,
        },
    );
    pt
}

/// The in-process chain. Cheap to clone (all clones share one bank).
#[derive(Clone)]
pub struct LocalChain {
    banks: BanksClient,
    ctx: Arc<tokio::sync::Mutex<ProgramTestContext>>,
    payer: Arc<Keypair>,
    /// Logs of every transaction sent through this chain, by signature (the bank keeps no history).
    logs: Arc<Mutex<HashMap<String, Vec<String>>>>,
    /// Signatures by account key, oldest first (for event history).
    by_address: Arc<Mutex<HashMap<Pubkey, Vec<String>>>>,
    /// The outcome of every signature submitted through this chain.
    statuses: Arc<Mutex<HashMap<String, TxStatus>>>,
}

/// Blocks (slots, here) a prepared transaction stays valid, as for a cluster's blockhash.
pub const BLOCKHASH_VALIDITY: u64 = 150;

impl LocalChain {
    /// Starts a bank with the four programs loaded.
    pub async fn start() -> Self {
        Self::from_context(program_test().start_with_context().await)
    }

    pub fn from_context(ctx: ProgramTestContext) -> Self {
        LocalChain {
            banks: ctx.banks_client.clone(),
            payer: Arc::new(ctx.payer.insecure_clone()),
            ctx: Arc::new(tokio::sync::Mutex::new(ctx)),
            logs: Arc::default(),
            by_address: Arc::default(),
            statuses: Arc::default(),
        }
    }

    /// The genesis payer: holds plenty of SOL; used to fund demo wallets.
    pub fn faucet(&self) -> Keypair {
        self.payer.insecure_clone()
    }

    pub fn banks(&self) -> BanksClient {
        self.banks.clone()
    }

    /// Moves the clock to `unix_timestamp` (and a couple of slots forward, so blockhashes change).
    pub async fn warp_to_timestamp(&self, unix_timestamp: i64) -> ChainResult<()> {
        let mut ctx = self.ctx.lock().await;
        let clock: Clock = ctx.banks_client.get_sysvar().await.map_err(rpc)?;
        ctx.warp_to_slot(clock.slot + 2).map_err(|e| ChainError::Rpc(format!("warp: {e:?}")))?;
        let mut clock: Clock = ctx.banks_client.get_sysvar().await.map_err(rpc)?;
        clock.unix_timestamp = unix_timestamp;
        ctx.set_sysvar(&clock);
        Ok(())
    }

    /// Overwrites an account's data in place (same owner and lamports): forged state, for tests of
    /// what auditors and workers do when the books do not balance. Nothing a real node allows.
    pub async fn overwrite_account_data(&self, key: &Pubkey, data: Vec<u8>) -> ChainResult<()> {
        let mut ctx = self.ctx.lock().await;
        let mut a = ctx
            .banks_client
            .get_account(*key)
            .await
            .map_err(rpc)?
            .ok_or_else(|| ChainError::Rpc(format!("no account {key}")))?;
        a.data = data;
        ctx.set_account(key, &a.into());
        Ok(())
    }

    /// Produces `n` more slots at the same unix time, so their hashes enter the SlotHashes sysvar
    /// (what a dispute's quorum draw waits for).
    pub async fn advance_slots(&self, n: u64) -> ChainResult<()> {
        let mut ctx = self.ctx.lock().await;
        for _ in 0..n {
            let clock: Clock = ctx.banks_client.get_sysvar().await.map_err(rpc)?;
            ctx.warp_to_slot(clock.slot + 1).map_err(|e| ChainError::Rpc(format!("warp: {e:?}")))?;
            let mut next: Clock = ctx.banks_client.get_sysvar().await.map_err(rpc)?;
            next.unix_timestamp = clock.unix_timestamp;
            ctx.set_sysvar(&next);
        }
        Ok(())
    }

    /// Signatures of the transactions this chain sent that touched `key`, oldest first.
    pub fn signatures_for(&self, key: &Pubkey) -> Vec<String> {
        self.by_address.lock().map(|m| m.get(key).cloned().unwrap_or_default()).unwrap_or_default()
    }

    async fn send_once(&self, tx: Transaction) -> ChainResult<TxReceipt> {
        let signature = tx.signatures[0].to_string();
        let keys = tx.message.account_keys.clone();
        let r = self.banks.process_transaction_with_metadata(tx).await.map_err(rpc)?;
        let logs = r.metadata.map(|m| m.log_messages).unwrap_or_default();
        let slot = self.banks.get_root_slot().await.map_err(rpc)?;
        if let Err(e) = r.result {
            let message = format!("{e:?}");
            // A duplicate of a processed transaction leaves the first outcome in place.
            if !message.contains("AlreadyProcessed") {
                if let Ok(mut m) = self.statuses.lock() {
                    m.insert(
                        signature.clone(),
                        TxStatus::Failed { slot, message: message.clone(), code: custom_code(&message) },
                    );
                }
            }
            return Err(ChainError::Transaction { code: custom_code(&message), message, logs });
        }
        if let Ok(mut m) = self.statuses.lock() {
            m.insert(signature.clone(), TxStatus::Confirmed { slot });
        }
        if let Ok(mut m) = self.logs.lock() {
            m.insert(signature.clone(), logs.clone());
        }
        if let Ok(mut m) = self.by_address.lock() {
            for k in keys {
                m.entry(k).or_default().push(signature.clone());
            }
        }
        Ok(TxReceipt { signature, slot, logs })
    }
}

fn rpc(e: impl std::fmt::Debug) -> ChainError {
    ChainError::Rpc(format!("{e:?}"))
}

/// The custom program error code in a transaction error's debug form, if any.
pub fn custom_code(err: &str) -> Option<u32> {
    let rest = err.split("Custom(").nth(1)?;
    rest.split(')').next()?.parse().ok()
}

impl Chain for LocalChain {
    fn get_account<'a>(&'a self, key: &'a Pubkey) -> BoxFuture<'a, ChainResult<Option<ChainAccount>>> {
        Box::pin(async move {
            let a = self.banks.get_account(*key).await.map_err(rpc)?;
            Ok(a.map(|a| ChainAccount { lamports: a.lamports, data: a.data, owner: a.owner, executable: a.executable }))
        })
    }

    fn get_multiple_accounts<'a>(
        &'a self,
        keys: &'a [Pubkey],
    ) -> BoxFuture<'a, ChainResult<Vec<Option<ChainAccount>>>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(keys.len());
            for k in keys {
                out.push(self.get_account(k).await?);
            }
            Ok(out)
        })
    }

    fn send<'a>(
        &'a self,
        instructions: &'a [Instruction],
        payer: &'a Keypair,
        signers: &'a [&'a Keypair],
    ) -> BoxFuture<'a, ChainResult<TxReceipt>> {
        Box::pin(async move {
            let mut all: Vec<&Keypair> = vec![payer];
            all.extend(signers.iter().copied().filter(|k| k.pubkey() != payer.pubkey()));
            let mut blockhash = self.banks.get_latest_blockhash().await.map_err(rpc)?;
            for attempt in 0..3 {
                let tx = Transaction::new_signed_with_payer(instructions, Some(&payer.pubkey()), &all, blockhash);
                match self.send_once(tx).await {
                    // The same transaction under the same blockhash: wait for a new blockhash.
                    Err(ChainError::Transaction { message, .. })
                        if message.contains("AlreadyProcessed") && attempt < 2 =>
                    {
                        blockhash = self.ctx.lock().await.get_new_latest_blockhash().await.map_err(rpc)?;
                    }
                    other => return other,
                }
            }
            Err(ChainError::Rpc("transaction kept colliding with an identical one".into()))
        })
    }

    fn prepare<'a>(
        &'a self,
        instructions: &'a [Instruction],
        payer: &'a Keypair,
        signers: &'a [&'a Keypair],
    ) -> BoxFuture<'a, ChainResult<PreparedTx>> {
        Box::pin(async move {
            let mut all: Vec<&Keypair> = vec![payer];
            all.extend(signers.iter().copied().filter(|k| k.pubkey() != payer.pubkey()));
            let blockhash = self.banks.get_latest_blockhash().await.map_err(rpc)?;
            let height = self.banks.get_root_slot().await.map_err(rpc)?;
            let tx = Transaction::new_signed_with_payer(instructions, Some(&payer.pubkey()), &all, blockhash);
            let wire = bincode::serialize(&tx).map_err(|e| ChainError::Decode(format!("serialising: {e}")))?;
            Ok(PreparedTx {
                signature: tx.signatures[0].to_string(),
                last_valid_block_height: height + BLOCKHASH_VALIDITY,
                wire,
            })
        })
    }

    fn submit<'a>(&'a self, tx: &'a PreparedTx) -> BoxFuture<'a, ChainResult<()>> {
        Box::pin(async move {
            let t: Transaction =
                bincode::deserialize(&tx.wire).map_err(|e| ChainError::Decode(format!("transaction bytes: {e}")))?;
            if self.statuses.lock().map(|m| m.contains_key(&tx.signature)).unwrap_or(false) {
                return Ok(()); // already processed: a resend is a no-op, as on a cluster
            }
            if self.banks.get_root_slot().await.map_err(rpc)? > tx.last_valid_block_height {
                return Err(ChainError::Rpc("blockhash not found".into()));
            }
            self.send_once(t).await.map(|_| ())
        })
    }

    fn statuses<'a>(&'a self, signatures: &'a [String]) -> BoxFuture<'a, ChainResult<Vec<TxStatus>>> {
        Box::pin(async move {
            let m = self.statuses.lock().map_err(|_| ChainError::Rpc("status map poisoned".into()))?;
            Ok(signatures.iter().map(|s| m.get(s).cloned().unwrap_or(TxStatus::Unknown)).collect())
        })
    }

    fn block_height(&self) -> BoxFuture<'_, ChainResult<u64>> {
        Box::pin(async move { self.banks.get_root_slot().await.map_err(rpc) })
    }

    fn unix_timestamp(&self) -> BoxFuture<'_, ChainResult<i64>> {
        Box::pin(async move { Ok(self.banks.get_sysvar::<Clock>().await.map_err(rpc)?.unix_timestamp) })
    }

    fn transaction_logs<'a>(&'a self, signature: &'a str) -> BoxFuture<'a, ChainResult<Option<Vec<String>>>> {
        Box::pin(async move { Ok(self.logs.lock().ok().and_then(|m| m.get(signature).cloned())) })
    }

    fn signatures_for_address<'a>(&'a self, key: &'a Pubkey) -> BoxFuture<'a, ChainResult<Vec<String>>> {
        Box::pin(async move { Ok(self.signatures_for(key)) })
    }
}
