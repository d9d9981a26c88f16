//! A job's history, rebuilt from the events of the transactions that touched the job or its
//! dispute: jobs, verification and escrow events whose `job`, `escrow` (the job's or its bond
//! escrow) or `dispute` is this job's.
use std::collections::HashSet;

use cinder_sdk::{chain::Chain, Pubkey};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::{hex, logs_touching};

#[derive(Clone, Debug, Serialize)]
pub struct HistoryEntry {
    /// The transaction that emitted it.
    pub signature: String,
    /// The event's name, e.g. `JobPosted`.
    pub name: String,
    /// Its fields (keys base58, hashes hex).
    pub fields: Value,
}

/// A field value as JSON.
pub trait ToJson {
    fn to_json(&self) -> Value;
}
macro_rules! to_json_num {
    ($($t:ty),*) => { $(impl ToJson for $t { fn to_json(&self) -> Value { Value::from(*self) } })* };
}
to_json_num!(u8, u16, u32, u64, i64, bool);
impl ToJson for Pubkey {
    fn to_json(&self) -> Value {
        Value::String(self.to_string())
    }
}
impl ToJson for [u8; 32] {
    fn to_json(&self) -> Value {
        Value::String(hex(self))
    }
}
impl ToJson for String {
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
}
impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self) -> Value {
        Value::Array(self.iter().map(ToJson::to_json).collect())
    }
}
impl<T: ToJson> ToJson for Option<T> {
    fn to_json(&self) -> Value {
        self.as_ref().map(ToJson::to_json).unwrap_or(Value::Null)
    }
}
impl ToJson for cinder_jobs::InferenceParams {
    fn to_json(&self) -> Value {
        crate::params_json(self)
    }
}
impl ToJson for cinder_jobs::MarketParams {
    fn to_json(&self) -> Value {
        crate::market_params_json(self)
    }
}
impl ToJson for cinder_verification::DisputeOutcome {
    fn to_json(&self) -> Value {
        Value::String(format!("{self:?}"))
    }
}

/// `raw` as an `E`, when `program` (the program that emitted it) is `E`'s own.
fn try_decode<E: cinder_sdk::events::ProgramEvent>(program: &Pubkey, raw: &[u8]) -> Option<E> {
    if *program != E::PROGRAM {
        return None;
    }
    raw.strip_prefix(E::DISCRIMINATOR).and_then(|mut d| E::deserialize(&mut d).ok())
}

macro_rules! decoders {
    ($program:ident, $raw:ident; $($name:literal => $ty:path { $($f:ident),* $(,)? }),* $(,)?) => {{
        $(
            if let Some(e) = try_decode::<$ty>($program, $raw) {
                let mut m = Map::new();
                $( m.insert(stringify!($f).to_owned(), e.$f.to_json()); )*
                return Some(($name, Value::Object(m)));
            }
        )*
        None
    }};
}

/// Decodes one raw event (discriminator ++ borsh) of any of the four programs to (name, fields).
pub fn decode_event(program: &Pubkey, raw: &[u8]) -> Option<(&'static str, Value)> {
    use cinder_escrow as e;
    use cinder_jobs as j;
    use cinder_staking as s;
    use cinder_verification as v;
    decoders!(program, raw;
        "ConfigInitialized" => j::ConfigInitialized { admin, treasury, protocol_fee_bps, stake_pool_creator, verification_program },
        "ConfigUpdated" => j::ConfigUpdated { admin, treasury, protocol_fee_bps, paused },
        "ModelRegistered" => j::ModelRegistered { model, model_id, name, architecture, engine_version },
        "MarketCreated" => j::MarketCreated { market, creator, model_id, mint, params },
        "MarketUpdated" => j::MarketUpdated { market, old_params, new_params },
        "ProviderRegistered" => j::ProviderRegistered { provider, authority, endpoint, models },
        "JobPosted" => j::JobPosted { job, market, job_id, client, designated, payment, fee_bps, input_hash, input_uri, params, timestamp },
        "JobInputInline" => j::JobInputInline { job, input_hash, input },
        "JobCancelled" => j::JobCancelled { job, market, job_id, client, refunded, timestamp },
        "JobClaimed" => j::JobClaimed { job, market, job_id, provider, collateral, deadline, skipped, queue_head, timestamp },
        "ResultRecorded" => j::ResultRecorded { job, provider, commitment, output_hash, output_uri, window_end, timestamp },
        "JobChallenged" => j::JobChallenged { job, challenger, timestamp },
        "JobFinalized" => j::JobFinalized { job, market, job_id, provider, payment, to_provider, fee, collateral_unlocked, rent_returned, timestamp },
        "JobSlashed" => j::JobSlashed { job, market, job_id, provider, refunded, slashed, challenger_reward, to_treasury, rent_returned, timestamp },
        "JobExpired" => j::JobExpired { job, market, job_id, provider, refunded, slashed, client_compensation, to_treasury, rent_returned, timestamp },
        "EscrowOpened" => e::EscrowOpened { escrow, controller, depositor, rent_payer, mint, seed, amount, timestamp },
        "EscrowReleased" => e::EscrowReleased { escrow, controller, recipients, amounts, remaining, timestamp },
        "EscrowRefunded" => e::EscrowRefunded { escrow, controller, depositor_token, amount, timestamp },
        "EscrowClosed" => e::EscrowClosed { escrow, rent_payer, rent_returned, stray_swept, timestamp },
        "VerifierRegistered" => v::VerifierRegistered { market, verifier, index },
        "DisputeOpened" => v::DisputeOpened { dispute, job, challenger, provider, bond, quorum, draw_slot, draw_deadline },
        "QuorumDrawn" => v::QuorumDrawn { dispute, randomness_slot, retargeted, new_members, member_count, draw_step, commit_end, reveal_end },
        "VoteCommitted" => v::VoteCommitted { dispute, voter },
        "VoteRevealed" => v::VoteRevealed { dispute, voter, vote },
        "DisputeResolved" => v::DisputeResolved { dispute, job, outcome, votes_correct, votes_wrong, bond_to_provider, bond_fee, bond_refunded },
        "VoteSettled" => v::VoteSettled { dispute, voter, penalised, penalty, dispute_closed },
        "PoolInitialized" => s::PoolInitialized { pool, admin, mint, treasury, min_stake, cooldown_secs, max_reward_bps, authorities },
        "StakeDeposited" => s::StakeDeposited { pool, stake, owner, amount, active },
        "UnstakeRequested" => s::UnstakeRequested { pool, stake, owner, amount, pending, unlock_at },
        "UnstakeCancelled" => s::UnstakeCancelled { pool, stake, owner, amount, active },
        "StakeWithdrawn" => s::StakeWithdrawn { pool, stake, owner, amount },
        "StakeLocked" => s::StakeLocked { pool, stake, authority, amount, locked },
        "StakeUnlocked" => s::StakeUnlocked { pool, stake, authority, amount, locked },
        "StakeSlashed" => s::StakeSlashed { pool, stake, authority, requested, slashed, reward, reward_recipient, to_treasury, treasury_accrued },
        "TreasuryWithdrawn" => s::TreasuryWithdrawn { pool, treasury, amount },
        "QueueAdvanced" => j::QueueAdvanced { market, caller, from, to, timestamp },
    )
}

/// Merges two oldest-first signature lists that share some entries, keeping both orders.
fn merge(primary: Vec<String>, secondary: Vec<String>) -> Vec<String> {
    let in_primary: HashSet<&String> = primary.iter().collect();
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut rest = secondary.iter().peekable();
    for p in &primary {
        if secondary.contains(p) {
            // Everything the secondary list had before this shared transaction comes first.
            for s in rest.by_ref() {
                if s == p {
                    break;
                }
                if !in_primary.contains(s) && seen.insert(s.clone()) {
                    out.push(s.clone());
                }
            }
        }
        if seen.insert(p.clone()) {
            out.push(p.clone());
        }
    }
    for s in rest {
        if seen.insert(s.clone()) {
            out.push(s.clone());
        }
    }
    out
}

/// Every event concerning `job`, oldest first.
pub async fn job_history(chain: &dyn Chain, job: &Pubkey) -> anyhow::Result<Vec<HistoryEntry>> {
    let dispute = cinder_sdk::verification::dispute_pda(job);
    let mine: HashSet<String> = [
        job.to_string(),
        dispute.to_string(),
        cinder_jobs::job_escrow(job).to_string(),
        cinder_verification::bond_escrow(job).to_string(),
    ]
    .into_iter()
    .collect();
    let by_job = logs_touching(chain, job).await?;
    let by_dispute = logs_touching(chain, &dispute).await?;
    let order =
        merge(by_job.iter().map(|(s, _)| s.clone()).collect(), by_dispute.iter().map(|(s, _)| s.clone()).collect());
    let logs: std::collections::HashMap<String, Vec<String>> = by_job.into_iter().chain(by_dispute).collect();
    let mut out = Vec::new();
    for sig in order {
        let Some(l) = logs.get(&sig) else { continue };
        for (program, raw) in cinder_sdk::events::cinder_events(l) {
            let Some((name, fields)) = decode_event(&program, &raw) else { continue };
            let touches = ["job", "escrow", "dispute"]
                .iter()
                .any(|k| fields.get(*k).and_then(Value::as_str).is_some_and(|v| mine.contains(v)));
            if touches {
                out.push(HistoryEntry { signature: sig.clone(), name: name.to_owned(), fields });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::merge;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn merge_keeps_both_orders_around_shared_entries() {
        let job = v(&["post", "claim", "submit", "challenge", "resolve"]);
        let dispute = v(&["challenge", "commit", "reveal", "resolve", "settle"]);
        assert_eq!(
            merge(job, dispute),
            v(&["post", "claim", "submit", "challenge", "commit", "reveal", "resolve", "settle"])
        );
        assert_eq!(merge(v(&["a", "b"]), vec![]), v(&["a", "b"]));
    }
}
