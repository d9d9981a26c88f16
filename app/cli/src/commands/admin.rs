//! `cinder admin …`: protocol config, models, markets.
use anyhow::{bail, Context as _};
use cinder_jobs::ProtocolConfig;
use cinder_sdk::{
    chain::Chain,
    fetch,
    jobs::{self as jsdk, MarketKeys},
    staking as ssdk,
};
use serde_json::json;
use solana_signer::Signer;

use crate::{
    cli::{AdminCmd, Ctx, Output},
    commands::{ata, model_id_of_dir, sig_out},
    hex, parse_hex32,
};

pub async fn run(c: &AdminCmd, ctx: &Ctx, chain: &dyn Chain) -> anyhow::Result<Output> {
    let me = ctx.signer()?;
    match c {
        AdminCmd::Init { treasury, fee_bps, pool_creator } => {
            if fetch::<ProtocolConfig>(chain, &jsdk::config_pda()).await?.is_some() {
                bail!("the protocol config {} already exists", jsdk::config_pda());
            }
            let ix = jsdk::init_config(
                me.pubkey(),
                jsdk::InitConfigArgs {
                    treasury: *treasury,
                    protocol_fee_bps: *fee_bps,
                    stake_pool_creator: *pool_creator,
                    verification_program: cinder_verification::ID,
                },
            );
            let r = chain.send(&[ix], &me, &[]).await?;
            Ok(sig_out(
                &format!("protocol config {} created", jsdk::config_pda()),
                &r.signature,
                json!({"config": jsdk::config_pda().to_string()}),
            ))
        }
        AdminCmd::RegisterModel { model_dir, model_id, name, arch, engine_version } => {
            let (id, default_name) = match (model_dir, model_id) {
                (Some(dir), _) => (model_id_of_dir(dir)?, dir.file_name().map(|n| n.to_string_lossy().into_owned())),
                (None, Some(h)) => (parse_hex32(h)?, None),
                (None, None) => bail!("give --model-dir DIR or --model-id HEX"),
            };
            let name = name.clone().or(default_name).context("give the model a --name")?;
            let ix = jsdk::register_model(
                me.pubkey(),
                jsdk::RegisterModelArgs {
                    model_id: id,
                    name: name.clone(),
                    architecture: arch.clone(),
                    engine_version: *engine_version,
                },
            );
            let r = chain.send(&[ix], &me, &[]).await?;
            let key = jsdk::model_pda(&id);
            Ok(sig_out(
                &format!("model {name} registered: {key}\nmodel id: {}", hex(&id)),
                &r.signature,
                json!({"model": key.to_string(), "model_id": hex(&id), "name": name}),
            ))
        }
        AdminCmd::CreateMarket { model_id, mint, treasury_token, params } => {
            let id = parse_hex32(model_id)?;
            let config = fetch::<ProtocolConfig>(chain, &jsdk::config_pda())
                .await?
                .context("the protocol is not initialised (run `cinder admin init` first)")?;
            let mint_acc = chain.get_account(mint).await?.with_context(|| format!("mint {mint} does not exist"))?;
            let tp = mint_acc.owner;
            let pool = ssdk::pool_pda(&config.stake_pool_creator, mint);
            if chain.get_account(&pool).await?.is_none() {
                bail!(
                    "mint {mint} has no stake pool ({pool}) yet; its creator {} must create it first",
                    config.stake_pool_creator
                );
            }
            let model = jsdk::model_pda(&id);
            let k = MarketKeys {
                market: jsdk::market_pda(&model, mint, &me.pubkey()),
                model,
                mint: *mint,
                token_program: tp,
                pool,
                pool_vault: ssdk::pool_vault_pda(&pool),
                treasury_token: treasury_token.unwrap_or_else(|| ata(&config.treasury, mint, &tp)),
            };
            let r = chain.send(&[jsdk::create_market(me.pubkey(), &k, params.params())], &me, &[]).await?;
            Ok(sig_out(
                &format!("market {} created", k.market),
                &r.signature,
                json!({"market": k.market.to_string(), "pool": pool.to_string()}),
            ))
        }
    }
}
