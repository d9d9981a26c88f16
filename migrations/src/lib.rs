//! Initialises Cinder protocol state on a cluster from a TOML file, idempotently.
//!
//! [`migrate`] walks the file in dependency order (protocol config → stake pools → models →
//! markets). Whatever does not exist yet is created with the programs' own instructions, signed
//! by the admin keypair; whatever exists is compared with the file and every difference is
//! reported as drift (never changed silently: fix the file, or change the account with the
//! matching `update_*` instruction). Re-running on an up-to-date cluster sends nothing.
//!
//! The admin is the config admin, the pools' creator (so `stake_pool_creator` in the config is the
//! admin) and the markets' creator.
use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context as _};
use cinder_jobs::{Market, MarketParams, Model, ProtocolConfig};
use cinder_sdk::{
    chain::Chain,
    fetch,
    jobs::{self as jsdk, MarketKeys},
    staking::{self as ssdk, PoolKeys},
    verification as vsdk,
};
use cinder_staking::StakePool;
use serde::{Deserialize, Serialize};
use solana_keypair::Keypair;
use solana_signer::Signer;

/// The whole file (see `migrations/cluster.example.toml`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFile {
    /// JSON-RPC URL of the cluster.
    pub url: Option<String>,
    /// Path of the admin keypair (JSON array of 64 bytes); `~/` is expanded.
    pub admin_keypair: Option<String>,
    pub protocol: Protocol,
    #[serde(default)]
    pub pools: Vec<Pool>,
    #[serde(default)]
    pub models: Vec<ModelSpec>,
    #[serde(default)]
    pub markets: Vec<MarketSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    /// Wallet that owns the treasury token accounts.
    pub treasury: String,
    pub protocol_fee_bps: u16,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pool {
    pub mint: String,
    /// Token account of `mint` (owned by the treasury wallet) receiving the slashes.
    pub treasury_token: String,
    pub min_stake: u64,
    pub cooldown_secs: i64,
    pub max_reward_bps: u16,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// 64 hex characters (`cinder-infer model-id DIR`).
    pub model_id: String,
    pub name: String,
    pub architecture: String,
    pub engine_version: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketSpec {
    pub model_id: String,
    pub mint: String,
    /// Defaults to the pool's `treasury_token` of this mint.
    pub treasury_token: Option<String>,
    pub price: u64,
    pub job_timeout_secs: i64,
    pub challenge_window_secs: i64,
    pub collateral: u64,
    pub min_stake: u64,
    pub challenge_bond: u64,
    pub challenger_reward_bps: u16,
    pub timeout_client_bps: u16,
    pub quorum: u8,
    pub voting_period_secs: i64,
    pub vote_penalty: u64,
}

impl MarketSpec {
    pub fn params(&self) -> MarketParams {
        MarketParams {
            price: self.price,
            job_timeout_secs: self.job_timeout_secs,
            challenge_window_secs: self.challenge_window_secs,
            collateral: self.collateral,
            min_stake: self.min_stake,
            challenge_bond: self.challenge_bond,
            challenger_reward_bps: self.challenger_reward_bps,
            timeout_client_bps: self.timeout_client_bps,
            quorum: self.quorum,
            voting_period_secs: self.voting_period_secs,
            vote_penalty: self.vote_penalty,
        }
    }
}

impl ClusterFile {
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        toml::from_str(text).context("parsing the cluster file")
    }

    pub fn load(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }
}

/// What a run did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Accounts created by this run.
    pub created: Vec<String>,
    /// Accounts that already existed and match the file.
    pub unchanged: Vec<String>,
    /// Differences between existing accounts and the file (nothing is changed).
    pub drift: Vec<String>,
}

impl Report {
    pub fn is_noop(&self) -> bool {
        self.created.is_empty()
    }
}

fn pk(s: &str, what: &str) -> anyhow::Result<Pubkey> {
    s.trim().parse().map_err(|e| anyhow::anyhow!("{what}: {s:?} is not a base58 public key: {e:?}"))
}

pub fn parse_hex32(s: &str) -> anyhow::Result<[u8; 32]> {
    cinder_sdk::util::parse_hex32(s).map_err(|e| anyhow::anyhow!("model id: {e}"))
}

fn diff<T: PartialEq + std::fmt::Debug>(drift: &mut Vec<String>, what: &str, field: &str, chain: T, file: T) {
    if chain != file {
        drift.push(format!("{what}: {field} is {chain:?} on chain, {file:?} in the file"));
    }
}

async fn token_program_of(chain: &dyn Chain, mint: &Pubkey) -> anyhow::Result<Pubkey> {
    let a = chain.get_account(mint).await?.with_context(|| format!("mint {mint} does not exist on this cluster"))?;
    if a.owner != anchor_spl::token::ID && a.owner != anchor_spl::token_2022::ID {
        bail!("{mint} is not a token mint (owner {})", a.owner);
    }
    Ok(a.owner)
}

/// Applies `file` with `admin` (who pays and signs). See the module docs.
pub async fn migrate(chain: &dyn Chain, admin: &Keypair, file: &ClusterFile) -> anyhow::Result<Report> {
    let mut r = Report::default();
    let a = admin.pubkey();
    let treasury = pk(&file.protocol.treasury, "protocol.treasury")?;

    // Protocol config.
    let config_key = jsdk::config_pda();
    match fetch::<ProtocolConfig>(chain, &config_key).await? {
        None => {
            let ix = jsdk::init_config(
                a,
                jsdk::InitConfigArgs {
                    treasury,
                    protocol_fee_bps: file.protocol.protocol_fee_bps,
                    stake_pool_creator: a,
                    verification_program: cinder_verification::ID,
                },
            );
            chain.send(&[ix], admin, &[]).await.context("init_config")?;
            r.created.push(format!("protocol config {config_key}"));
        }
        Some(c) => {
            let before = r.drift.len();
            let what = format!("protocol config {config_key}");
            diff(&mut r.drift, &what, "admin", c.admin, a);
            diff(&mut r.drift, &what, "treasury", c.treasury, treasury);
            diff(&mut r.drift, &what, "protocol_fee_bps", c.protocol_fee_bps, file.protocol.protocol_fee_bps);
            diff(&mut r.drift, &what, "stake_pool_creator", c.stake_pool_creator, a);
            if r.drift.len() == before {
                r.unchanged.push(what);
            }
        }
    }

    // Stake pools (creator: the admin).
    let mut pool_treasury = std::collections::HashMap::new();
    for (i, p) in file.pools.iter().enumerate() {
        let mint = pk(&p.mint, &format!("pools[{i}].mint"))?;
        let treasury_token = pk(&p.treasury_token, &format!("pools[{i}].treasury_token"))?;
        pool_treasury.insert(mint, treasury_token);
        let tp = token_program_of(chain, &mint).await?;
        let keys = PoolKeys::new(a, mint, tp);
        let what = format!("stake pool {} (mint {mint})", keys.pool);
        match fetch::<StakePool>(chain, &keys.pool).await? {
            None => {
                let ix = ssdk::init_pool(
                    &keys,
                    treasury_token,
                    ssdk::InitPoolArgs {
                        min_stake: p.min_stake,
                        cooldown_secs: p.cooldown_secs,
                        max_reward_bps: p.max_reward_bps,
                        authorities: vec![jsdk::jobs_authority(), vsdk::verification_authority()],
                    },
                );
                chain.send(&[ix], admin, &[]).await.with_context(|| format!("init_pool for mint {mint}"))?;
                r.created.push(what);
            }
            Some(s) => {
                let before = r.drift.len();
                diff(&mut r.drift, &what, "treasury", s.treasury, treasury_token);
                diff(&mut r.drift, &what, "min_stake", s.min_stake, p.min_stake);
                diff(&mut r.drift, &what, "cooldown_secs", s.cooldown_secs, p.cooldown_secs);
                diff(&mut r.drift, &what, "max_reward_bps", s.max_reward_bps, p.max_reward_bps);
                if r.drift.len() == before {
                    r.unchanged.push(what);
                }
            }
        }
    }

    // Models.
    for (i, m) in file.models.iter().enumerate() {
        let model_id = parse_hex32(&m.model_id).with_context(|| format!("models[{i}].model_id"))?;
        let key = jsdk::model_pda(&model_id);
        let what = format!("model {key} ({})", m.name);
        match fetch::<Model>(chain, &key).await? {
            None => {
                let ix = jsdk::register_model(
                    a,
                    jsdk::RegisterModelArgs {
                        model_id,
                        name: m.name.clone(),
                        architecture: m.architecture.clone(),
                        engine_version: m.engine_version,
                    },
                );
                chain.send(&[ix], admin, &[]).await.with_context(|| format!("register_model {}", m.name))?;
                r.created.push(what);
            }
            Some(on) => {
                let before = r.drift.len();
                diff(&mut r.drift, &what, "name", on.name.as_str(), m.name.as_str());
                diff(&mut r.drift, &what, "architecture", on.architecture.as_str(), m.architecture.as_str());
                diff(&mut r.drift, &what, "engine_version", on.engine_version, m.engine_version);
                if r.drift.len() == before {
                    r.unchanged.push(what);
                }
            }
        }
    }

    // Markets (creator: the admin; pool: the admin's pool of the mint).
    for (i, m) in file.markets.iter().enumerate() {
        let model_id = parse_hex32(&m.model_id).with_context(|| format!("markets[{i}].model_id"))?;
        let mint = pk(&m.mint, &format!("markets[{i}].mint"))?;
        let treasury_token = match &m.treasury_token {
            Some(t) => pk(t, &format!("markets[{i}].treasury_token"))?,
            None => *pool_treasury.get(&mint).with_context(|| {
                format!("markets[{i}]: no treasury_token and no [[pools]] entry for mint {mint} to take it from")
            })?,
        };
        let tp = token_program_of(chain, &mint).await?;
        let model = jsdk::model_pda(&model_id);
        let pool = ssdk::pool_pda(&a, &mint);
        let keys = MarketKeys {
            market: jsdk::market_pda(&model, &mint, &a),
            model,
            mint,
            token_program: tp,
            pool,
            pool_vault: ssdk::pool_vault_pda(&pool),
            treasury_token,
        };
        let what = format!("market {} (model {}, mint {mint})", keys.market, &m.model_id[..8.min(m.model_id.len())]);
        let params = m.params();
        match fetch::<Market>(chain, &keys.market).await? {
            None => {
                let ix = jsdk::create_market(a, &keys, params);
                chain.send(&[ix], admin, &[]).await.with_context(|| format!("create_market markets[{i}]"))?;
                r.created.push(what);
            }
            Some(on) => {
                let before = r.drift.len();
                diff(&mut r.drift, &what, "treasury_token", on.treasury_token, treasury_token);
                diff(&mut r.drift, &what, "params", on.params, params);
                if r.drift.len() == before {
                    r.unchanged.push(what);
                }
            }
        }
    }
    Ok(r)
}
