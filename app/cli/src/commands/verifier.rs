//! `cinder verifier register`: register as a verifier of a market (needs stake in its pool).
use cinder_sdk::{chain::Chain, fetch, verification as vsdk};
use serde_json::json;
use solana_signer::Signer;

use crate::{
    cli::{Ctx, Output, VerifierCmd},
    commands::{market_keys, sig_out},
};

pub async fn run(c: &VerifierCmd, ctx: &Ctx, chain: &dyn Chain) -> anyhow::Result<Output> {
    let VerifierCmd::Register { market } = c;
    let me = ctx.signer()?;
    let (k, _) = market_keys(chain, market).await?;
    let set = vsdk::verifier_set_pda(market);
    let index = fetch::<vsdk::VerifierSet>(chain, &set).await?.map(|s| s.count).unwrap_or(0);
    let r = chain.send(&[vsdk::register_verifier(me.pubkey(), &k, index)], &me, &[]).await?;
    Ok(sig_out(
        &format!("registered as verifier #{index} of market {market}"),
        &r.signature,
        json!({"market": market.to_string(), "index": index}),
    ))
}
