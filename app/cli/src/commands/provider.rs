//! `cinder provider register`: register (or update) your provider account.
use cinder_sdk::{chain::Chain, jobs as jsdk};
use serde_json::json;
use solana_signer::Signer;

use crate::{
    cli::{Ctx, Output, ProviderCmd},
    commands::sig_out,
    parse_hex32,
};

pub async fn run(c: &ProviderCmd, ctx: &Ctx, chain: &dyn Chain) -> anyhow::Result<Output> {
    let ProviderCmd::Register { endpoint, models, x25519 } = c;
    let me = ctx.signer()?;
    let models = models.iter().map(|m| parse_hex32(m)).collect::<anyhow::Result<Vec<_>>>()?;
    let x25519_pubkey = x25519.as_deref().map(parse_hex32).transpose()?.unwrap_or([0; 32]);
    let args = jsdk::ProviderArgs { endpoint: endpoint.clone(), x25519_pubkey, models };
    let key = jsdk::provider_pda(&me.pubkey());
    let exists = chain.get_account(&key).await?.is_some();
    let ix = if exists { jsdk::update_provider(me.pubkey(), args) } else { jsdk::register_provider(me.pubkey(), args) };
    let r = chain.send(&[ix], &me, &[]).await?;
    let verb = if exists { "updated" } else { "registered" };
    Ok(sig_out(&format!("provider {key} {verb}"), &r.signature, json!({"provider": key.to_string(), "action": verb})))
}
