//! The SDK's deployment helpers work through the `Chain` trait on the in-process chain.
use cinder_jobs::Market;
use cinder_sdk::{
    bootstrap::{deploy, DeploymentSpec},
    chain::{local::LocalChain, Chain},
    fetch,
};
use cinder_tests::world::{market_params, MODEL_ID};

#[tokio::test]
async fn deploy_and_register_participants_on_the_local_chain() {
    let chain = LocalChain::start().await;
    let faucet = chain.faucet();
    let spec = DeploymentSpec {
        token_program: anchor_spl::token::ID,
        decimals: 6,
        protocol_fee_bps: 250,
        pool_min_stake: 1_000,
        pool_cooldown_secs: 3_600,
        pool_max_reward_bps: 5_000,
        model_id: MODEL_ID,
        model_name: "test".into(),
        architecture: "llama".into(),
        engine_version: 1,
        market: market_params(),
    };
    let d = deploy(&chain, &faucet, &spec).await.expect("deploy");
    let m: Market = fetch(&chain, &d.market.market).await.unwrap().expect("market");
    assert_eq!((m.mint, m.pool, m.model_id), (d.mint, d.pool.pool, MODEL_ID));
    let p = d.participant(&chain, &faucet, 1_000_000_000, 20_000).await.unwrap();
    d.stake(&chain, &p, 10_000).await.unwrap();
    d.register_provider(&chain, &p, MODEL_ID, "local").await.unwrap();
    assert_eq!(d.register_verifier(&chain, &p).await.unwrap(), 0);
    let q = d.participant(&chain, &faucet, 1_000_000_000, 20_000).await.unwrap();
    d.stake(&chain, &q, 10_000).await.unwrap();
    assert_eq!(d.register_verifier(&chain, &q).await.unwrap(), 1);
    let err = d.register_verifier(&chain, &q).await.expect_err("registered twice");
    assert!(err.to_string().contains("transaction failed"), "{err}");
    assert!(chain.unix_timestamp().await.unwrap() > 0);
    assert!(!chain.signatures_for(&d.market.market).is_empty(), "history index");
}
