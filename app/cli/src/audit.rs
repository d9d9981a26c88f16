//! The conservation audit: what the protocol owes, per mint, against what its vaults hold.
//!
//! Checks (each failure is a finding):
//! * every live job: escrow vault balance ≥ escrow balance (`deposited − released − refunded`)
//!   == `job.payment` (anything above is a stray sent straight to the vault: counted as `stray`,
//!   not a finding; the job's exit pays it out);
//! * every challenged job: its bond escrow holds exactly the bond (the dispute's, else the
//!   market's `challenge_bond`), vault == escrow balance;
//! * every closed (terminal) job: no job escrow, vault or bond escrow left behind;
//! * every pool: vault balance ≥ `total_active + total_pending + treasury_accrued`, with
//!   `total_active + total_pending` == Σ over the discovered stakers of `active + pending`, and
//!   Σ locked == `total_locked`;
//! * every stake: `locked` == Σ collateral of its owner's claimed / submitted / challenged jobs
//!   in markets of that pool + Σ vote penalties it holds locked as an unsettled quorum member,
//!   and `locked ≤ active`.
//!
//! Per mint, `owed` sums the escrow balances and the pools' `total_active + total_pending +
//! treasury_accrued`;
//! `held` sums the token balances of the corresponding vaults.
use std::collections::{BTreeMap, BTreeSet};

use cinder_escrow::Escrow;
use cinder_jobs::JobStatus;
use cinder_sdk::{chain::Chain, fetch, Pubkey};
use cinder_staking::ProviderStake;
use cinder_verification::Dispute;
use serde::Serialize;

use crate::{market_jobs, pools, stakers, token_amount};

#[derive(Clone, Debug, Serialize)]
pub struct MintAudit {
    #[serde(serialize_with = "crate::ser_pubkey")]
    pub mint: Pubkey,
    /// What escrows and pools owe in this mint.
    pub owed: u64,
    /// What their vaults hold.
    pub held: u64,
    /// Tokens sent straight into vaults, beyond what is owed (they go to the party a job's exit
    /// pays; they are not a shortfall).
    pub stray: u64,
    /// No finding concerns this mint.
    pub ok: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct AuditReport {
    pub mints: Vec<MintAudit>,
    pub findings: Vec<String>,
    pub ok: bool,
    /// What was audited (for the report).
    pub markets: usize,
    pub pools: usize,
    pub live_jobs: usize,
    pub stakes: usize,
}

#[derive(Default)]
struct Tally {
    owed: u128,
    held: u128,
    stray: u128,
    findings: Vec<String>,
}

async fn account(chain: &dyn Chain, key: &Pubkey) -> anyhow::Result<Option<cinder_sdk::chain::ChainAccount>> {
    Ok(chain.get_account(key).await?)
}

/// Checks one escrow that must exist and hold `expected`; returns nothing, records into `t`.
async fn check_escrow(
    chain: &dyn Chain,
    t: &mut Tally,
    what: &str,
    escrow: &Pubkey,
    expected: u64,
) -> anyhow::Result<()> {
    let Some(e) = fetch::<Escrow>(chain, escrow).await? else {
        t.findings.push(format!("{what}: escrow {escrow} is missing"));
        return Ok(());
    };
    let balance = e.balance();
    let vault = cinder_sdk::escrow::vault_pda(escrow);
    let held = match account(chain, &vault).await?.and_then(|a| token_amount(&a.data)) {
        Some(h) => h,
        None => {
            t.findings.push(format!("{what}: escrow vault {vault} is missing"));
            0
        }
    };
    t.owed += balance as u128;
    t.held += held as u128;
    if held < balance {
        t.findings.push(format!("{what}: vault {vault} holds {held} but escrow {escrow} balance is {balance}"));
    } else {
        t.stray += (held - balance) as u128;
    }
    if balance != expected {
        t.findings.push(format!("{what}: escrow {escrow} balance is {balance}, expected {expected}"));
    }
    Ok(())
}

async fn check_absent(chain: &dyn Chain, t: &mut Tally, what: &str, keys: &[(&str, Pubkey)]) -> anyhow::Result<()> {
    for (name, k) in keys {
        if let Some(a) = account(chain, k).await? {
            t.findings.push(format!("{what}: {name} {k} still exists ({} lamports)", a.lamports));
        }
    }
    Ok(())
}

/// Runs the audit over everything discoverable on `chain`.
pub async fn audit(chain: &dyn Chain) -> anyhow::Result<AuditReport> {
    let mut per_mint: BTreeMap<Pubkey, Tally> = BTreeMap::new();
    let pools = pools(chain).await?;
    let markets = crate::markets(chain).await?;
    let stakers = stakers(chain).await?;
    // (pool, staker) → Σ collateral of its live claimed jobs + Σ vote penalties it has locked as
    // a member of an open dispute whose vote is not settled yet.
    let mut expected_locked: BTreeMap<(Pubkey, Pubkey), u64> = BTreeMap::new();
    let mut live_jobs = 0;

    for (mkey, _) in &markets {
        let (market, slots) = market_jobs(chain, mkey).await?;
        let t = per_mint.entry(market.mint).or_default();
        // Every slot's dispute in one batched read (a closed job's dispute can outlive it until
        // its votes are settled).
        let dispute_keys: Vec<Pubkey> = slots.iter().map(|s| cinder_sdk::verification::dispute_pda(&s.key)).collect();
        let disputes: Vec<Option<Dispute>> = chain
            .get_multiple_accounts(&dispute_keys)
            .await?
            .into_iter()
            .map(|a| {
                a.filter(|a| a.owner == cinder_verification::ID).and_then(|a| cinder_sdk::decode::<Dispute>(&a.data))
            })
            .collect();
        for (slot, dispute) in slots.iter().zip(disputes) {
            let what = format!("market {mkey} job {} ({})", slot.id, slot.key);
            if let Some(d) = &dispute {
                for (i, m) in d.members[..d.member_count as usize].iter().enumerate() {
                    if d.settled_mask & (1 << i) == 0 {
                        *expected_locked.entry((market.pool, *m)).or_default() += d.member_lock();
                    }
                }
            }
            let escrow = cinder_jobs::job_escrow(&slot.key);
            let bond = cinder_verification::bond_escrow(&slot.key);
            match &slot.job {
                None => {
                    check_absent(
                        chain,
                        t,
                        &format!("{what}, closed"),
                        &[
                            ("job escrow", escrow),
                            ("job escrow vault", cinder_sdk::escrow::vault_pda(&escrow)),
                            ("bond escrow", bond),
                            ("bond escrow vault", cinder_sdk::escrow::vault_pda(&bond)),
                        ],
                    )
                    .await?;
                }
                Some(job) => {
                    live_jobs += 1;
                    check_escrow(chain, t, &what, &escrow, job.payment).await?;
                    if job.status == JobStatus::Challenged {
                        let bond_amount = match &dispute {
                            Some(d) => d.bond,
                            None => market.params.challenge_bond,
                        };
                        check_escrow(chain, t, &format!("{what}, challenge bond"), &bond, bond_amount).await?;
                    } else {
                        check_absent(chain, t, &what, &[("bond escrow of an unchallenged job", bond)]).await?;
                    }
                    if job.status != JobStatus::Open {
                        *expected_locked.entry((market.pool, job.provider)).or_default() += job.collateral;
                    }
                }
            }
        }
    }

    let mut stakes = 0;
    for (pkey, pool) in &pools {
        let t = per_mint.entry(pool.mint).or_default();
        let what = format!("pool {pkey}");
        let staked = pool.total_active as u128 + pool.total_pending as u128;
        let owed = staked + pool.treasury_accrued as u128;
        let held = account(chain, &pool.vault).await?.and_then(|a| token_amount(&a.data)).unwrap_or_else(|| {
            t.findings.push(format!("{what}: vault {} is missing", pool.vault));
            0
        });
        t.owed += owed;
        t.held += held as u128;
        if (held as u128) < owed {
            t.findings.push(format!(
                "{what}: vault {} holds {held} but total_active + total_pending + treasury_accrued = {owed}",
                pool.vault
            ));
        } else {
            t.stray += held as u128 - owed;
        }
        let owners: BTreeSet<Pubkey> = stakers.iter().filter(|(p, _)| p == pkey).map(|(_, o)| *o).collect();
        let (mut sum, mut locked_sum) = (0u128, 0u128);
        for owner in owners {
            let skey = cinder_sdk::staking::stake_pda(pkey, &owner);
            let Some(s) = fetch::<ProviderStake>(chain, &skey).await? else { continue };
            stakes += 1;
            sum += s.active as u128 + s.pending as u128;
            locked_sum += s.locked as u128;
            let want = expected_locked.remove(&(*pkey, owner)).unwrap_or(0);
            if s.locked != want {
                t.findings.push(format!(
                    "{what}: stake of {owner} has {} locked but its live jobs' collateral and vote locks are {want}",
                    s.locked
                ));
            }
            if s.locked > s.active {
                t.findings.push(format!("{what}: stake of {owner} has locked {} > active {}", s.locked, s.active));
            }
        }
        if sum != staked {
            t.findings
                .push(format!("{what}: stakers' active + pending sum to {sum} but the pool's totals say {staked}"));
        }
        if locked_sum != pool.total_locked as u128 {
            t.findings.push(format!(
                "{what}: stakers' locked sums to {locked_sum} but the pool's total_locked is {}",
                pool.total_locked
            ));
        }
    }
    for ((pool, provider), amount) in expected_locked {
        let mint = pools.iter().find(|(k, _)| *k == pool).map(|(_, p)| p.mint).unwrap_or_default();
        per_mint.entry(mint).or_default().findings.push(format!(
            "pool {pool}: provider {provider} has {amount} collateral in live jobs but no discovered stake"
        ));
    }

    let mut mints = Vec::new();
    let mut findings = Vec::new();
    for (mint, t) in per_mint {
        if t.owed + t.stray != t.held {
            findings.push(format!("mint {mint}: owed {} (+ {} stray) but held {}", t.owed, t.stray, t.held));
        }
        let ok = t.findings.is_empty() && t.owed + t.stray == t.held;
        findings.extend(t.findings);
        mints.push(MintAudit { mint, owed: clamp(t.owed), held: clamp(t.held), stray: clamp(t.stray), ok });
    }
    let ok = findings.is_empty();
    Ok(AuditReport { mints, findings, ok, markets: markets.len(), pools: pools.len(), live_jobs, stakes })
}

fn clamp(v: u128) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}
