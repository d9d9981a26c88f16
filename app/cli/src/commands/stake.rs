//! `cinder stake …`: deposit, unstake, withdraw, status.
use anyhow::{bail, Context as _};
use cinder_sdk::{chain::Chain, fetch, staking as ssdk};
use cinder_staking::ProviderStake;
use serde_json::json;
use solana_signer::Signer;

use crate::{
    cli::{Ctx, Output, StakeCmd},
    commands::{pool_keys, pretty_fields, sig_out, token_account_or_ata},
};

pub async fn run(c: &StakeCmd, ctx: &Ctx, chain: &dyn Chain) -> anyhow::Result<Output> {
    match c {
        StakeCmd::Deposit { pool, amount, token_account } => {
            let me = ctx.signer()?;
            let (k, _) = pool_keys(chain, pool).await?;
            let from = token_account_or_ata(chain, *token_account, &me.pubkey(), &k.mint, &k.token_program).await?;
            let r = chain.send(&[ssdk::deposit_stake(&k, me.pubkey(), from, *amount)], &me, &[]).await?;
            Ok(sig_out(
                &format!("deposited {amount} into pool {pool}"),
                &r.signature,
                json!({"pool": pool.to_string(), "amount": amount}),
            ))
        }
        StakeCmd::Unstake { pool, amount } => {
            let me = ctx.signer()?;
            let (k, p) = pool_keys(chain, pool).await?;
            let r = chain.send(&[ssdk::request_unstake(&k, me.pubkey(), *amount)], &me, &[]).await?;
            Ok(sig_out(
                &format!(
                    "requested to unstake {amount} from pool {pool}; withdrawable after the {} s cooldown",
                    p.cooldown_secs
                ),
                &r.signature,
                json!({"pool": pool.to_string(), "amount": amount, "cooldown_secs": p.cooldown_secs}),
            ))
        }
        StakeCmd::Withdraw { pool, token_account } => {
            let me = ctx.signer()?;
            let (k, _) = pool_keys(chain, pool).await?;
            let s = fetch::<ProviderStake>(chain, &k.stake(&me.pubkey()))
                .await?
                .with_context(|| format!("you ({}) have no stake in pool {pool}", me.pubkey()))?;
            if s.pending == 0 {
                bail!("nothing pending to withdraw; request it first with `cinder stake unstake --pool {pool} --amount N`");
            }
            let now = chain.unix_timestamp().await?;
            if now < s.unlock_at {
                bail!("the cooldown ends at {} ({} s from now); withdraw then", s.unlock_at, s.unlock_at - now);
            }
            let to = token_account_or_ata(chain, *token_account, &me.pubkey(), &k.mint, &k.token_program).await?;
            let r = chain.send(&[ssdk::withdraw_stake(&k, me.pubkey(), to)], &me, &[]).await?;
            Ok(sig_out(
                &format!("withdrew {} from pool {pool}", s.pending),
                &r.signature,
                json!({"pool": pool.to_string(), "amount": s.pending}),
            ))
        }
        StakeCmd::Status { pool, owner } => {
            let owner = match owner {
                Some(o) => *o,
                None => ctx.signer()?.pubkey(),
            };
            let key = ssdk::stake_pda(pool, &owner);
            let s = fetch::<ProviderStake>(chain, &key)
                .await?
                .with_context(|| format!("{owner} has no stake in pool {pool}"))?;
            let v = crate::stake_json(&key, &s);
            Ok(Output::ok(pretty_fields(&v), v))
        }
    }
}
