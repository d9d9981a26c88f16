//! Jobs program: the rejections of every instruction (authority, state, boundary seconds, swapped
//! accounts, type cosplay). Each asserts the *named* error and, through the fixture's watch list,
//! that no watched account changed; the conservation invariants are checked afterwards where the
//! world holds only the stakers it knows about.
#![allow(deprecated)]
use anchor_lang::{error::ErrorCode as Anchor, prelude::Pubkey, InstructionData, ToAccountMetas};
use cinder_jobs::{
    JobStatus, JobsError as E, MarketParams, MAX_CHALLENGE_WINDOW_SECS, MAX_FEE_BPS, MAX_JOB_TIMEOUT_SECS,
    MAX_VOTING_PERIOD_SECS,
};
use cinder_sdk::{
    jobs::{self as jsdk, MarketKeys},
    staking::{self as ssdk, PoolKeys},
    verification as vsdk, Instruction,
};
use cinder_staking::StakingError;
use cinder_tests::{
    world::{market_params, Party, World, FEE_BPS, MODEL_ID, PRICE},
    Fixture, NamedError, TokenKind,
};
use solana_signer::Signer;

const COLLATERAL: u64 = 2_000;

/// Sends an `init` of an account that already exists: the system program refuses it (not a
/// program error, so there is no custom code), and every watched account is unchanged.
pub(crate) async fn send_init_refused(w: &mut World, ix: Instruction, signer: &solana_keypair::Keypair) {
    let code = w.fx.send_err_code(&[ix], &[signer]).await;
    assert_eq!(code, None, "init on a live account is refused by the system program");
}

/// Replaces every occurrence of `old` in the instruction's accounts by `new`.
pub(crate) fn replace_key(ix: &mut Instruction, old: Pubkey, new: Pubkey) {
    let mut n = 0;
    for m in ix.accounts.iter_mut().filter(|m| m.pubkey == old) {
        m.pubkey = new;
        n += 1;
    }
    assert!(n > 0, "{old} is not in the instruction");
}

/// A wallet with `amount` staked in the world's pool (and 5 000 tokens spare). Not one of the
/// world's stakers, so tests that use it do not check the stake invariants.
pub(crate) async fn extra_staker(w: &mut World, amount: u64) -> Party {
    let (kp, token) = w.fx.funded_wallet(w.mint, amount + 5_000).await;
    w.fx.send_ok(&[ssdk::deposit_stake(&w.pool, kp.pubkey(), token, amount)], &[&kp]).await;
    w.fx.watch(w.pool.stake(&kp.pubkey()));
    w.fx.watch(kp.pubkey());
    Party { kp, token }
}

async fn register_provider(w: &mut World, p: &Party, models: Vec<[u8; 32]>) {
    let ix = jsdk::register_provider(
        p.kp.pubkey(),
        jsdk::ProviderArgs { endpoint: "http://127.0.0.1:1".into(), x25519_pubkey: [5; 32], models },
    );
    w.fx.send_ok(&[ix], &[&p.kp]).await;
    w.fx.watch(jsdk::provider_pda(&p.kp.pubkey()));
}

/// A funded wallet with a token account of the world's mint, both watched.
pub(crate) async fn attacker(w: &mut World) -> Party {
    let (kp, token) = w.fx.funded_wallet(w.mint, 10_000).await;
    w.fx.watch(kp.pubkey());
    Party { kp, token }
}

/// Posts and claims a job; returns its id.
pub(crate) async fn claimed_job(w: &mut World) -> u64 {
    let (id, _) = w.post(w.post_args(PRICE)).await;
    w.claim(id, &[]).await;
    id
}

/// Sends `post_job` from the client for the market's next id and expects `err`.
async fn post_err(w: &mut World, args: jsdk::PostJobArgs, err: impl NamedError) {
    let id = w.market().await.next_job_id;
    let ix = jsdk::post_job(w.client.key(), w.client.token, &w.mk, id, args);
    w.fx.watch(w.mk.job(id));
    let kp = w.client.kp.insecure_clone();
    w.fx.send_err(&[ix], &[&kp], err).await;
}

fn gated(authority: Pubkey, job: Pubkey) -> cinder_jobs::accounts::VerificationGated {
    cinder_jobs::accounts::VerificationGated { verification_authority: authority, config: jsdk::config_pda(), job }
}

pub(crate) fn record_result_ix(authority: Pubkey, job: Pubkey, provider: Pubkey) -> Instruction {
    Instruction {
        program_id: cinder_jobs::ID,
        accounts: gated(authority, job).to_account_metas(None),
        data: cinder_jobs::instruction::RecordResult {
            args: cinder_jobs::instructions::RecordResultArgs {
                provider,
                commitment: [6; 32],
                output_hash: [6; 32],
                output_uri: "cas://0606".into(),
            },
        }
        .data(),
    }
}

pub(crate) fn mark_challenged_ix(authority: Pubkey, job: Pubkey, challenger: Pubkey) -> Instruction {
    Instruction {
        program_id: cinder_jobs::ID,
        accounts: gated(authority, job).to_account_metas(None),
        data: cinder_jobs::instruction::MarkChallenged { challenger }.data(),
    }
}

pub(crate) fn settle_job_ix(w: &World, authority: Pubkey, id: u64, provider_token: Pubkey) -> Instruction {
    let close = jsdk::close_job_accounts(&w.mk, &w.mk.job(id), w.client.key(), w.provider.key());
    Instruction {
        program_id: cinder_jobs::ID,
        accounts: cinder_jobs::accounts::SettleJob { verification_authority: authority, close, provider_token }
            .to_account_metas(None),
        data: cinder_jobs::instruction::SettleJob {}.data(),
    }
}

// ---------------------------------------------------------------------------------------------
// Protocol config and the model registry

#[tokio::test]
async fn init_config_rejects_a_second_init() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    w.fx.watch(jsdk::config_pda());
    let atk = attacker(&mut w).await;
    let ix = jsdk::init_config(
        atk.kp.pubkey(),
        jsdk::InitConfigArgs {
            treasury: atk.kp.pubkey(),
            protocol_fee_bps: 0,
            stake_pool_creator: atk.kp.pubkey(),
            verification_program: atk.kp.pubkey(),
        },
    );
    send_init_refused(&mut w, ix, &atk.kp).await;
    let c: jsdk::ProtocolConfig = w.fx.anchor_account(jsdk::config_pda()).await;
    assert_eq!((c.admin, c.protocol_fee_bps), (w.admin.pubkey(), FEE_BPS), "original config unchanged");
}

#[tokio::test]
async fn init_config_rejects_a_fee_above_max_fee_bps() {
    let mut fx = Fixture::new(TokenKind::Spl).await;
    let admin = fx.upgrade_authority(1_000_000_000).await;
    fx.watch(jsdk::config_pda());
    fx.watch(admin.pubkey());
    let ix = jsdk::init_config(
        admin.pubkey(),
        jsdk::InitConfigArgs {
            treasury: admin.pubkey(),
            protocol_fee_bps: MAX_FEE_BPS + 1,
            stake_pool_creator: admin.pubkey(),
            verification_program: cinder_verification::ID,
        },
    );
    fx.send_err(&[ix], &[&admin], E::FeeTooHigh).await;
    assert!(!fx.exists(jsdk::config_pda()).await);
}

/// The config is a singleton: whoever created it first would be admin. Only the jobs program's
/// upgrade authority (recorded in its ProgramData account) may, so a stranger racing the deployer
/// is refused, and so is a forged ProgramData account.
#[tokio::test]
async fn init_config_rejects_a_stranger_front_running_the_deployer() {
    let mut fx = Fixture::new(TokenKind::Spl).await;
    let stranger = fx.wallet(1_000_000_000).await;
    fx.watch(jsdk::config_pda());
    let args = jsdk::InitConfigArgs {
        treasury: stranger.pubkey(),
        protocol_fee_bps: 0,
        stake_pool_creator: stranger.pubkey(),
        verification_program: cinder_verification::ID,
    };
    fx.send_err(&[jsdk::init_config(stranger.pubkey(), args.clone())], &[&stranger], E::NotUpgradeAuthority).await;
    // A ProgramData look-alike at another address, naming the stranger, is not the program's.
    let fake = Pubkey::new_unique();
    fx.set_raw_account(
        fake,
        solana_sdk_ids::bpf_loader_upgradeable::ID,
        jsdk::program_data_account_data(&stranger.pubkey()),
    );
    let mut ix = jsdk::init_config(stranger.pubkey(), args.clone());
    ix.accounts[2].pubkey = fake;
    fx.send_err(&[ix], &[&stranger], E::NotUpgradeAuthority).await;
    assert!(!fx.exists(jsdk::config_pda()).await);
    // The upgrade authority succeeds and becomes admin.
    let deployer = fx.upgrade_authority(1_000_000_000).await;
    let args = jsdk::InitConfigArgs { treasury: deployer.pubkey(), stake_pool_creator: deployer.pubkey(), ..args };
    fx.send_ok(&[jsdk::init_config(deployer.pubkey(), args)], &[&deployer]).await;
    let c: jsdk::ProtocolConfig = fx.anchor_account(jsdk::config_pda()).await;
    assert_eq!(c.admin, deployer.pubkey());
}

#[tokio::test]
async fn update_config_rejects_a_non_admin_and_a_fee_above_max() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    w.fx.watch(jsdk::config_pda());
    let atk = attacker(&mut w).await;
    let ix = jsdk::update_config(
        atk.kp.pubkey(),
        jsdk::UpdateConfigArgs { new_admin: Some(atk.kp.pubkey()), paused: Some(true), ..Default::default() },
    );
    w.fx.send_err(&[ix], &[&atk.kp], E::Unauthorized).await;
    let ix = jsdk::update_config(
        w.admin.pubkey(),
        jsdk::UpdateConfigArgs { protocol_fee_bps: Some(MAX_FEE_BPS + 1), ..Default::default() },
    );
    w.fx.send_err(&[ix], &[&w.admin], E::FeeTooHigh).await;
}

#[tokio::test]
async fn register_model_rejects_a_non_admin_and_names_too_long() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let atk = attacker(&mut w).await;
    let args = |name: &str, arch: &str| jsdk::RegisterModelArgs {
        model_id: [0x77; 32],
        name: name.into(),
        architecture: arch.into(),
        engine_version: 1,
    };
    w.fx.watch(jsdk::model_pda(&[0x77; 32]));
    let ix = jsdk::register_model(atk.kp.pubkey(), args("misleading", "llama"));
    w.fx.send_err(&[ix], &[&atk.kp], E::Unauthorized).await;
    let ix = jsdk::register_model(w.admin.pubkey(), args(&"n".repeat(33), "llama"));
    w.fx.send_err(&[ix], &[&w.admin], E::StringTooLong).await;
    let ix = jsdk::register_model(w.admin.pubkey(), args("ok", &"a".repeat(17)));
    w.fx.send_err(&[ix], &[&w.admin], E::StringTooLong).await;
    w.check_invariants().await;
}

// ---------------------------------------------------------------------------------------------
// Markets and providers

/// The keys of a new market of the world's model and mint created by `creator`.
fn new_market_keys(w: &World, creator: &Pubkey) -> MarketKeys {
    MarketKeys { market: jsdk::market_pda(&w.mk.model, &w.mint, creator), ..w.mk }
}

#[tokio::test]
async fn create_market_rejects_invalid_params() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let creator = attacker(&mut w).await;
    let mk = new_market_keys(&w, &creator.kp.pubkey());
    w.fx.watch(mk.market);
    let ok = market_params();
    let (invalid, range, cap) = (E::InvalidMarketParams, E::MarketTermOutOfRange, E::RewardAbovePoolCap);
    for (why, bad, err) in [
        ("a 100% challenger reward", MarketParams { challenger_reward_bps: 10_000, ..ok }, invalid),
        ("a reward above the pool cap", MarketParams { challenger_reward_bps: 5_001, ..ok }, cap),
        ("a 100% timeout compensation", MarketParams { timeout_client_bps: 10_000, ..ok }, invalid),
        ("an even quorum", MarketParams { quorum: 2, ..ok }, invalid),
        ("a quorum above MAX_QUORUM", MarketParams { quorum: 11, ..ok }, invalid),
        ("min_stake below the collateral", MarketParams { min_stake: ok.collateral - 1, ..ok }, invalid),
        ("min_stake below the pool minimum", MarketParams { min_stake: 999, collateral: 999, ..ok }, invalid),
        ("a zero price", MarketParams { price: 0, ..ok }, invalid),
        ("a zero bond", MarketParams { challenge_bond: 0, ..ok }, invalid),
        ("a zero timeout", MarketParams { job_timeout_secs: 0, ..ok }, range),
        ("a 10^12 s timeout", MarketParams { job_timeout_secs: 1_000_000_000_000, ..ok }, range),
        (
            "a timeout one second above the maximum",
            MarketParams { job_timeout_secs: MAX_JOB_TIMEOUT_SECS + 1, ..ok },
            range,
        ),
        ("an i64::MAX challenge window", MarketParams { challenge_window_secs: i64::MAX, ..ok }, range),
        ("a negative challenge window", MarketParams { challenge_window_secs: -1, ..ok }, range),
        (
            "a voting period below the minimum",
            MarketParams { voting_period_secs: cinder_jobs::MIN_VOTING_PERIOD_SECS - 1, ..ok },
            range,
        ),
        (
            "a voting period above the maximum",
            MarketParams { voting_period_secs: MAX_VOTING_PERIOD_SECS + 1, ..ok },
            range,
        ),
        ("a u64::MAX vote penalty", MarketParams { vote_penalty: u64::MAX, ..ok }, range),
        ("a vote penalty above min_stake", MarketParams { vote_penalty: ok.min_stake + 1, ..ok }, range),
    ] {
        eprintln!("create_market with {why}");
        let ix = jsdk::create_market(creator.kp.pubkey(), &mk, bad);
        w.fx.send_err(&[ix], &[&creator.kp], err).await;
    }
    // Each maximum itself is accepted (documented inclusive bounds).
    let edge = MarketParams {
        job_timeout_secs: MAX_JOB_TIMEOUT_SECS,
        challenge_window_secs: MAX_CHALLENGE_WINDOW_SECS,
        voting_period_secs: MAX_VOTING_PERIOD_SECS,
        vote_penalty: ok.min_stake,
        ..ok
    };
    edge.validate().expect("the maxima are inclusive");
    // The same keys with valid parameters succeed: the rejections were about the parameters.
    w.fx.send_ok(&[jsdk::create_market(creator.kp.pubkey(), &mk, ok)], &[&creator.kp]).await;
}

#[tokio::test]
async fn create_market_rejects_a_treasury_not_owned_by_the_protocol_treasury() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let creator = attacker(&mut w).await;
    let mk = MarketKeys { treasury_token: creator.token, ..new_market_keys(&w, &creator.kp.pubkey()) };
    w.fx.watch(mk.market);
    let ix = jsdk::create_market(creator.kp.pubkey(), &mk, market_params());
    w.fx.send_err(&[ix], &[&creator.kp], E::InvalidTreasury).await;
}

#[tokio::test]
async fn create_market_rejects_a_pool_that_does_not_trust_both_program_authorities() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    // Without the jobs PDA no collateral could be locked; without the verification PDA no vote
    // penalty could be locked, so every quorum draw would fail.
    for only in [vsdk::verification_authority(), jsdk::jobs_authority()] {
        // A second mint whose protocol pool (same creator, so the same seeds) lists only the
        // verification PDA: the jobs program could never lock collateral there.
        let mint2 = w.fx.create_mint(6, &[]).await;
        let treasury2 = w.fx.create_token_account(mint2, w.treasury.key()).await;
        let pool2 = PoolKeys::new(w.admin.pubkey(), mint2, TokenKind::Spl.id());
        let ix = ssdk::init_pool(
            &pool2,
            treasury2,
            ssdk::InitPoolArgs {
                min_stake: 1_000,
                cooldown_secs: 86_400,
                max_reward_bps: 5_000,
                authorities: vec![only],
            },
        );
        w.fx.send_ok(&[ix], &[&w.admin]).await;
        let mk = MarketKeys {
            market: jsdk::market_pda(&w.mk.model, &mint2, &w.admin.pubkey()),
            model: w.mk.model,
            mint: mint2,
            token_program: TokenKind::Spl.id(),
            pool: pool2.pool,
            pool_vault: pool2.vault,
            treasury_token: treasury2,
        };
        w.fx.watch(mk.market);
        w.fx.watch(pool2.pool);
        let ix = jsdk::create_market(w.admin.pubkey(), &mk, market_params());
        w.fx.send_err(&[ix], &[&w.admin], E::InvalidPool).await;
    }
}

#[tokio::test]
async fn update_market_rejects_a_non_creator_and_invalid_params() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let atk = attacker(&mut w).await;
    let cheap = MarketParams { price: 1, ..market_params() };
    let ix = jsdk::update_market(atk.kp.pubkey(), &w.mk, cheap);
    w.fx.send_err(&[ix], &[&atk.kp], E::NotMarketCreator).await;
    let ix = jsdk::update_market(w.admin.pubkey(), &w.mk, MarketParams { quorum: 4, ..market_params() });
    w.fx.send_err(&[ix], &[&w.admin], E::InvalidMarketParams).await;
    let ix =
        jsdk::update_market(w.admin.pubkey(), &w.mk, MarketParams { challenger_reward_bps: 5_001, ..market_params() });
    w.fx.send_err(&[ix], &[&w.admin], E::RewardAbovePoolCap).await;
    let ix = jsdk::update_market(
        w.admin.pubkey(),
        &w.mk,
        MarketParams { challenge_window_secs: i64::MAX, ..market_params() },
    );
    w.fx.send_err(&[ix], &[&w.admin], E::MarketTermOutOfRange).await;
}

/// `create_market` requires `min_stake >= pool.min_stake`; `update_market` must not be a way
/// around it (a market whose minimum is below the pool's would admit verifiers and providers the
/// pool considers unstaked).
#[tokio::test]
async fn update_market_rejects_min_stake_below_the_pool_minimum() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let bad = MarketParams { min_stake: 999, collateral: 999, ..market_params() };
    let ix = jsdk::update_market(w.admin.pubkey(), &w.mk, bad);
    w.fx.send_err(&[ix], &[&w.admin], E::InvalidMarketParams).await;
    assert_eq!(w.market().await.params, market_params());
}

#[tokio::test]
async fn register_provider_rejects_a_second_registration() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    w.fx.watch(jsdk::provider_pda(&w.provider.key()));
    let ix = jsdk::register_provider(
        w.provider.key(),
        jsdk::ProviderArgs { endpoint: "http://evil".into(), x25519_pubkey: [0; 32], models: vec![] },
    );
    let kp = w.provider.kp.insecure_clone();
    send_init_refused(&mut w, ix, &kp).await;
    let p: jsdk::Provider = w.fx.anchor_account(jsdk::provider_pda(&w.provider.key())).await;
    assert_eq!(p.models, vec![MODEL_ID], "original registration unchanged");
}

#[tokio::test]
async fn register_provider_rejects_too_many_models_and_a_long_endpoint() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let p = attacker(&mut w).await;
    w.fx.watch(jsdk::provider_pda(&p.kp.pubkey()));
    let ix = jsdk::register_provider(
        p.kp.pubkey(),
        jsdk::ProviderArgs { endpoint: "http://x".into(), x25519_pubkey: [0; 32], models: vec![[1; 32]; 5] },
    );
    w.fx.send_err(&[ix], &[&p.kp], E::TooManyModels).await;
    let ix = jsdk::register_provider(
        p.kp.pubkey(),
        jsdk::ProviderArgs { endpoint: "h".repeat(65), x25519_pubkey: [0; 32], models: vec![MODEL_ID] },
    );
    w.fx.send_err(&[ix], &[&p.kp], E::StringTooLong).await;
}

#[tokio::test]
async fn update_provider_rejects_another_key_and_too_many_models() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let atk = attacker(&mut w).await;
    let args = |models: Vec<[u8; 32]>| jsdk::ProviderArgs {
        endpoint: "http://evil".into(),
        x25519_pubkey: [0xee; 32],
        models,
    };
    // The attacker names the provider's account: its seeds are the signer's key.
    let mut ix = jsdk::update_provider(atk.kp.pubkey(), args(vec![MODEL_ID]));
    replace_key(&mut ix, jsdk::provider_pda(&atk.kp.pubkey()), jsdk::provider_pda(&w.provider.key()));
    w.fx.send_err(&[ix], &[&atk.kp], Anchor::ConstraintSeeds).await;
    let ix = jsdk::update_provider(w.provider.key(), args(vec![MODEL_ID; 5]));
    w.fx.send_err(&[ix], &[&w.provider.kp], E::TooManyModels).await;
    let p: jsdk::Provider = w.fx.anchor_account(jsdk::provider_pda(&w.provider.key())).await;
    assert_eq!((p.models, p.x25519_pubkey), (vec![MODEL_ID], [9; 32]), "registration unchanged");
}

// ---------------------------------------------------------------------------------------------
// post_job and cancel_job

#[tokio::test]
async fn post_job_rejects_a_payment_below_the_price() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let args = w.post_args(PRICE - 1);
    post_err(&mut w, args, E::PaymentBelowPrice).await;
    let args = w.post_args(0);
    post_err(&mut w, args, E::PaymentBelowPrice).await;
    assert_eq!(w.market().await.next_job_id, 0);
    w.check_invariants().await;
}

#[tokio::test]
async fn post_job_rejects_invalid_inference_params() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let mut args = w.post_args(PRICE);
    args.params.max_tokens = 0;
    post_err(&mut w, args, E::InvalidParams).await;
    let mut args = w.post_args(PRICE);
    args.params.dtype = 3;
    post_err(&mut w, args, E::InvalidParams).await;
    w.check_invariants().await;
}

#[tokio::test]
async fn post_job_rejects_an_input_uri_too_long() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let mut args = w.post_args(PRICE);
    args.input_uri = "u".repeat(cinder_jobs::MAX_URI_LEN as usize + 1);
    post_err(&mut w, args, E::StringTooLong).await;
    w.check_invariants().await;
}

/// `post_job_inline`: the input travels in the transaction, is checked against `input_hash`, and
/// comes back in `JobInputInline`; the job names `inline:`. The largest input, with a designated
/// provider and the compute-budget instructions every sender adds, fits one packet.
#[tokio::test]
async fn post_job_inline_carries_the_input_in_its_event() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let input = b"an inline prompt".to_vec();
    let id = w.market().await.next_job_id;
    let ix = jsdk::post_job_inline(w.client.key(), w.client.token, &w.mk, id, w.post_args(PRICE), input.clone());
    let kp = w.client.kp.insecure_clone();
    let logs = w.fx.send_ok(&[ix], &[&kp]).await;
    let job: cinder_jobs::Job = w.fx.anchor_account(w.mk.job(id)).await;
    assert_eq!(
        (job.input_uri.as_str(), job.input_hash),
        (cinder_jobs::INLINE_INPUT_URI, cinder_sdk::util::sha256(&input))
    );
    let ev: Vec<cinder_jobs::JobInputInline> = cinder_sdk::events::decode(&logs);
    assert_eq!(ev.len(), 1, "{logs:?}");
    assert_eq!((ev[0].job, ev[0].input_hash, ev[0].input.clone()), (w.mk.job(id), job.input_hash, input));
    assert_eq!(cinder_sdk::events::decode::<cinder_jobs::JobPosted>(&logs).len(), 1);
    // Cancel it: an inline job is an ordinary job otherwise.
    let ix = jsdk::cancel_job(w.client.key(), w.client.token, &w.mk, id);
    w.fx.send_ok(&[ix], &[&kp]).await;
    w.check_invariants().await;

    // Size: the largest inline input with every optional byte in use.
    let mut args = w.post_args(PRICE);
    args.designated = Some(Pubkey::new_unique());
    let big = vec![b'x'; cinder_jobs::MAX_INLINE_INPUT as usize];
    let ixs = [
        cinder_sdk::chain::rpc::set_compute_unit_limit(200_000),
        cinder_sdk::chain::rpc::set_compute_unit_price(1_000),
        jsdk::post_job_inline(w.client.key(), w.client.token, &w.mk, 99, args, big),
    ];
    let msg = solana_transaction::Message::new(&ixs, Some(&w.client.key()));
    let tx = solana_transaction::Transaction::new_unsigned(msg);
    let size = bincode::serialize(&tx).unwrap().len();
    assert!(size <= 1_232, "a post_job_inline of {} bytes is a {size}-byte transaction", cinder_jobs::MAX_INLINE_INPUT);
    println!("post_job_inline with {} input bytes: {size}-byte transaction", cinder_jobs::MAX_INLINE_INPUT);
}

#[tokio::test]
async fn post_job_inline_rejects_a_wrong_hash_an_oversized_or_empty_input_and_another_uri() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let kp = w.client.kp.insecure_clone();
    w.fx.watch(w.mk.job(0));
    // The builder sets input_uri and input_hash; break each after it.
    let build = |w: &World, input: Vec<u8>| {
        jsdk::post_job_inline(w.client.key(), w.client.token, &w.mk, 0, w.post_args(PRICE), input)
    };
    let mut ix = build(&w, b"prompt".to_vec());
    let mut data = ix.data.clone();
    // The hash sits after the discriminator and the payment: flip one of its bytes.
    data[8 + 8] ^= 1;
    ix.data = data;
    w.fx.send_err(&[ix], &[&kp], E::InlineInputHashMismatch).await;
    let ix = build(&w, vec![b'x'; cinder_jobs::MAX_INLINE_INPUT as usize + 1]);
    w.fx.send_err(&[ix], &[&kp], E::InvalidInlineInput).await;
    let ix = build(&w, vec![]);
    w.fx.send_err(&[ix], &[&kp], E::InvalidInlineInput).await;
    // Another input URI with the inline instruction.
    let mut args = w.post_args(PRICE);
    let input = b"prompt".to_vec();
    args.input_hash = cinder_sdk::util::sha256(&input);
    args.input_uri = "https://elsewhere.example/x".into();
    let mut ix = jsdk::post_job(w.client.key(), w.client.token, &w.mk, 0, args.clone());
    ix.data = anchor_lang::InstructionData::data(&cinder_jobs::instruction::PostJobInline { args, input });
    w.fx.send_err(&[ix], &[&kp], E::InvalidInlineInput).await;
    assert_eq!(w.market().await.next_job_id, 0);
    w.check_invariants().await;
}

#[tokio::test]
async fn post_job_rejects_a_token_account_of_another_mint() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let mint2 = w.fx.create_mint(6, &[]).await;
    let other = w.fx.create_token_account(mint2, w.client.key()).await;
    w.fx.mint_to(mint2, other, 10 * PRICE).await;
    let ix = jsdk::post_job(w.client.key(), other, &w.mk, 0, w.post_args(PRICE));
    w.fx.watch(w.mk.job(0));
    w.fx.send_err(&[ix], &[&w.client.kp], Anchor::ConstraintTokenMint).await;
}

#[tokio::test]
async fn post_job_rejects_paying_from_someone_elses_token_account() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let atk = attacker(&mut w).await;
    // The attacker signs as the client but names the victim's token account as the source.
    let ix = jsdk::post_job(atk.kp.pubkey(), w.client.token, &w.mk, 0, w.post_args(PRICE));
    w.fx.watch(w.mk.job(0));
    w.fx.send_err(&[ix], &[&atk.kp], Anchor::ConstraintTokenOwner).await;
    w.check_invariants().await;
}

#[tokio::test]
async fn post_job_rejects_an_id_that_is_not_the_markets_counter() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let (id, _) = w.post(w.post_args(PRICE)).await;
    // Squatting a future id, and re-using a taken one: the job PDA must be the counter's.
    for squat in [id + 2, id] {
        let ix = jsdk::post_job(w.client.key(), w.client.token, &w.mk, squat, w.post_args(PRICE));
        w.fx.watch(w.mk.job(squat));
        w.fx.send_err(&[ix], &[&w.client.kp], Anchor::ConstraintSeeds).await;
    }
    w.check_invariants().await;
}

/// Pause blocks `post_job` and `claim_job` only: cancel, expire and finalize all still work.
#[tokio::test]
async fn post_job_and_claim_job_reject_while_paused_but_every_exit_still_works() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let to_expire = claimed_job(&mut w).await;
    let to_finalize = claimed_job(&mut w).await;
    w.submit(to_finalize).await;
    let (to_cancel, _) = w.post(w.post_args(PRICE)).await;
    w.fx.send_ok(
        &[jsdk::update_config(w.admin.pubkey(), jsdk::UpdateConfigArgs { paused: Some(true), ..Default::default() })],
        &[&w.admin],
    )
    .await;

    let args = w.post_args(PRICE);
    post_err(&mut w, args, E::Paused).await;
    let ix = jsdk::claim_job(w.provider.key(), &w.mk, to_cancel, &[]);
    w.fx.send_err(&[ix], &[&w.provider.kp], E::Paused).await;
    w.check_invariants().await;

    let deadline = w.job(to_expire).await.unwrap().deadline;
    let window_end = w.job(to_finalize).await.unwrap().window_end;
    w.fx.warp_to_timestamp(deadline.max(window_end) + 1).await;
    let ix = w.expire_ix(to_expire);
    w.fx.send_ok(&[ix], &[]).await;
    let ix = w.finalize_ix(to_finalize);
    w.fx.send_ok(&[ix], &[]).await;
    let ix = jsdk::cancel_job(w.client.key(), w.client.token, &w.mk, to_cancel);
    w.fx.send_ok(&[ix], &[&w.client.kp]).await;
    for id in [to_expire, to_finalize, to_cancel] {
        assert!(w.job(id).await.is_none(), "job {id} closed while paused");
    }
    w.check_invariants().await;
}

#[tokio::test]
async fn cancel_job_rejects_a_non_client() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let (id, _) = w.post(w.post_args(PRICE)).await;
    let atk = attacker(&mut w).await;
    let ix = jsdk::cancel_job(atk.kp.pubkey(), atk.token, &w.mk, id);
    w.fx.send_err(&[ix], &[&atk.kp], E::NotClient).await;
    w.check_invariants().await;
}

#[tokio::test]
async fn cancel_job_rejects_a_claimed_job() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let id = claimed_job(&mut w).await;
    let ix = jsdk::cancel_job(w.client.key(), w.client.token, &w.mk, id);
    w.fx.send_err(&[ix], &[&w.client.kp], E::JobNotOpen).await;
    assert_eq!(w.job(id).await.unwrap().status, JobStatus::Claimed);
    w.check_invariants().await;
}

/// Refund after settle: once finalized, the job account is gone and nothing can be refunded.
#[tokio::test]
async fn cancel_job_rejects_a_finalized_job() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let id = claimed_job(&mut w).await;
    w.submit(id).await;
    let window_end = w.job(id).await.unwrap().window_end;
    w.fx.warp_to_timestamp(window_end + 1).await;
    let ix = w.finalize_ix(id);
    w.fx.send_ok(&[ix], &[]).await;
    let before = w.balances().await;
    let ix = jsdk::cancel_job(w.client.key(), w.client.token, &w.mk, id);
    w.fx.send_err(&[ix], &[&w.client.kp], Anchor::AccountNotInitialized).await;
    let ix = w.expire_ix(id);
    w.fx.send_err(&[ix], &[], Anchor::AccountNotInitialized).await;
    assert_eq!(w.balances().await, before);
    w.check_invariants().await;
}

/// Type cosplay: another account type of the same program (the market) in the job's place.
#[tokio::test]
async fn cancel_job_rejects_a_market_account_passed_as_the_job() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let (id, _) = w.post(w.post_args(PRICE)).await;
    let mut ix = jsdk::cancel_job(w.client.key(), w.client.token, &w.mk, id);
    replace_key(&mut ix, w.mk.job(id), w.mk.market);
    w.fx.send_err(&[ix], &[&w.client.kp], Anchor::AccountDiscriminatorMismatch).await;
    w.check_invariants().await;
}

/// A job's exact bytes copied into an account owned by another program.
#[tokio::test]
async fn cancel_job_rejects_copied_job_bytes_owned_by_another_program() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let (id, _) = w.post(w.post_args(PRICE)).await;
    let bytes = w.fx.account_data(w.mk.job(id)).await.unwrap();
    let fake = Pubkey::new_unique();
    w.fx.set_raw_account(fake, cinder_staking::ID, bytes);
    w.fx.watch(fake);
    let mut ix = jsdk::cancel_job(w.client.key(), w.client.token, &w.mk, id);
    replace_key(&mut ix, w.mk.job(id), fake);
    w.fx.send_err(&[ix], &[&w.client.kp], Anchor::AccountOwnedByWrongProgram).await;
    w.check_invariants().await;
}

// ---------------------------------------------------------------------------------------------
// claim_job

#[tokio::test]
async fn claim_job_rejects_an_unregistered_provider() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let (id, _) = w.post(w.post_args(PRICE)).await;
    let p = extra_staker(&mut w, 10_000).await;
    let ix = jsdk::claim_job(p.kp.pubkey(), &w.mk, id, &[]);
    w.fx.send_err(&[ix], &[&p.kp], Anchor::AccountNotInitialized).await;
}

#[tokio::test]
async fn claim_job_rejects_a_provider_not_serving_the_model() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let (id, _) = w.post(w.post_args(PRICE)).await;
    let p = extra_staker(&mut w, 10_000).await;
    register_provider(&mut w, &p, vec![[0x11; 32]]).await;
    let ix = jsdk::claim_job(p.kp.pubkey(), &w.mk, id, &[]);
    w.fx.send_err(&[ix], &[&p.kp], E::ModelNotServed).await;
}

#[tokio::test]
async fn claim_job_rejects_stake_below_the_market_minimum() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let (id, _) = w.post(w.post_args(PRICE)).await;
    // 1 000 satisfies the pool's minimum but not the market's 5 000.
    let p = extra_staker(&mut w, 1_000).await;
    register_provider(&mut w, &p, vec![MODEL_ID]).await;
    let ix = jsdk::claim_job(p.kp.pubkey(), &w.mk, id, &[]);
    w.fx.send_err(&[ix], &[&p.kp], E::InsufficientStake).await;
}

#[tokio::test]
async fn claim_job_rejects_a_job_behind_the_queue_head() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let (_head, _) = w.post(w.post_args(PRICE)).await;
    let (next, _) = w.post(w.post_args(PRICE)).await;
    let ix = jsdk::claim_job(w.provider.key(), &w.mk, next, &[]);
    w.fx.send_err(&[ix], &[&w.provider.kp], E::NotQueueHead).await;
    w.check_invariants().await;
}

#[tokio::test]
async fn claim_job_rejects_skipping_a_live_open_job_or_a_wrong_slot() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let (head, _) = w.post(w.post_args(PRICE)).await;
    let (next, _) = w.post(w.post_args(PRICE)).await;
    let (third, _) = w.post(w.post_args(PRICE)).await;
    // The head is open and undesignated: it cannot be skipped.
    let ix = jsdk::claim_job(w.provider.key(), &w.mk, next, &[head]);
    w.fx.send_err(&[ix], &[&w.provider.kp], E::InvalidQueueSkip).await;
    // A slot that is not the head cannot stand in for it.
    let ix = jsdk::claim_job(w.provider.key(), &w.mk, third, &[next]);
    w.fx.send_err(&[ix], &[&w.provider.kp], E::InvalidQueueSkip).await;
    w.check_invariants().await;
}

#[tokio::test]
async fn claim_job_rejects_a_job_designated_to_another_provider() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let mut args = w.post_args(PRICE);
    args.designated = Some(Pubkey::new_unique());
    let (id, _) = w.post(args).await;
    let ix = jsdk::claim_job(w.provider.key(), &w.mk, id, &[]);
    w.fx.send_err(&[ix], &[&w.provider.kp], E::DesignatedToAnotherProvider).await;
    w.check_invariants().await;
}

#[tokio::test]
async fn claim_job_rejects_an_already_claimed_job() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let id = claimed_job(&mut w).await;
    let ix = jsdk::claim_job(w.provider.key(), &w.mk, id, &[]);
    w.fx.send_err(&[ix], &[&w.provider.kp], E::JobNotOpen).await;
    assert_eq!(w.stake_of(&w.provider.key()).await.locked, COLLATERAL, "locked once");
    w.check_invariants().await;
}

#[tokio::test]
async fn claim_job_rejects_collateral_above_the_free_stake() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    // Collateral 6 000 of a 10 000 stake: one claim fits, a second does not.
    let p = MarketParams { collateral: 6_000, min_stake: 6_000, ..market_params() };
    w.fx.send_ok(&[jsdk::update_market(w.admin.pubkey(), &w.mk, p)], &[&w.admin]).await;
    w.refresh_terms().await;
    let first = claimed_job(&mut w).await;
    let (second, _) = w.post(w.post_args(PRICE)).await;
    let ix = jsdk::claim_job(w.provider.key(), &w.mk, second, &[]);
    w.fx.send_err(&[ix], &[&w.provider.kp], StakingError::InsufficientFreeStake).await;
    assert_eq!(w.job(first).await.unwrap().status, JobStatus::Claimed);
    assert_eq!(w.job(second).await.unwrap().status, JobStatus::Open);
    assert_eq!(w.market().await.queue_head, second, "the failed claim did not move the head");
    w.check_invariants().await;
}

// ---------------------------------------------------------------------------------------------
// expire_job

/// The deadline second still belongs to the provider; the next second anyone may expire.
#[tokio::test]
async fn expire_job_rejects_at_the_deadline_and_accepts_one_second_later() {
    let mut w = World::new(TokenKind::Token2022, 0).await;
    let id = claimed_job(&mut w).await;
    let before = w.balances().await;
    let deadline = w.job(id).await.unwrap().deadline;
    w.fx.warp_to_timestamp(deadline).await;
    let ix = w.expire_ix(id);
    w.fx.send_err(&[ix], &[], E::DeadlineNotReached).await;
    w.check_invariants().await;
    w.fx.warp_to_timestamp(deadline + 1).await;
    let ix = w.expire_ix(id);
    w.fx.send_ok(&[ix], &[]).await;
    let after = w.balances().await;
    let comp = COLLATERAL * 2_000 / 10_000;
    assert_eq!(after.0, before.0 + PRICE + comp, "refund plus compensation");
    assert_eq!((after.3, after.4), (before.3 - COLLATERAL, 0), "collateral slashed, nothing locked");
    w.check_invariants().await;
}

#[tokio::test]
async fn expire_job_rejects_a_second_expiry() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let id = claimed_job(&mut w).await;
    let deadline = w.job(id).await.unwrap().deadline;
    w.fx.warp_to_timestamp(deadline + 1).await;
    let ix = w.expire_ix(id);
    w.fx.send_ok(std::slice::from_ref(&ix), &[]).await;
    let before = w.balances().await;
    w.fx.send_err(&[ix], &[], Anchor::AccountNotInitialized).await;
    assert_eq!(w.balances().await, before);
    w.check_invariants().await;
}

#[tokio::test]
async fn expire_job_rejects_a_submitted_job() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let id = claimed_job(&mut w).await;
    w.submit(id).await;
    let deadline = w.job(id).await.unwrap().deadline;
    w.fx.warp_to_timestamp(deadline + 1).await;
    let ix = w.expire_ix(id);
    w.fx.send_err(&[ix], &[], E::JobNotClaimed).await;
    w.check_invariants().await;
}

#[tokio::test]
async fn expire_job_rejects_an_attackers_token_account_as_client_token() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let id = claimed_job(&mut w).await;
    let atk = attacker(&mut w).await;
    let deadline = w.job(id).await.unwrap().deadline;
    w.fx.warp_to_timestamp(deadline + 1).await;
    let mut ix = jsdk::expire_job(atk.kp.pubkey(), &w.mk, &w.mk.job(id), w.client.key(), w.provider.key(), atk.token);
    w.fx.send_err(std::slice::from_ref(&ix), &[&atk.kp], Anchor::ConstraintTokenOwner).await;
    // Nor can the rent be redirected: the client account is checked against the job.
    replace_key(&mut ix, atk.token, w.client.token);
    replace_key(&mut ix, w.client.key(), atk.kp.pubkey());
    w.fx.send_err(&[ix], &[&atk.kp], Anchor::ConstraintHasOne).await;
    w.check_invariants().await;
}

// ---------------------------------------------------------------------------------------------
// The verification-gated instructions, called directly

#[tokio::test]
async fn record_result_rejects_a_direct_call_by_a_user() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let id = claimed_job(&mut w).await;
    let ix = record_result_ix(w.provider.key(), w.mk.job(id), w.provider.key());
    w.fx.send_err(&[ix], &[&w.provider.kp], E::NotVerificationProgram).await;
    // The real PDA, unsigned (a user cannot sign for it).
    let mut ix = record_result_ix(vsdk::verification_authority(), w.mk.job(id), w.provider.key());
    ix.accounts[0].is_signer = false;
    w.fx.send_err(&[ix], &[], Anchor::AccountNotSigner).await;
    assert_eq!(w.job(id).await.unwrap().status, JobStatus::Claimed);
    w.check_invariants().await;
}

#[tokio::test]
async fn mark_challenged_rejects_a_direct_call_by_a_user() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let id = claimed_job(&mut w).await;
    w.submit(id).await;
    let atk = attacker(&mut w).await;
    let ix = mark_challenged_ix(atk.kp.pubkey(), w.mk.job(id), atk.kp.pubkey());
    w.fx.send_err(&[ix], &[&atk.kp], E::NotVerificationProgram).await;
    assert_eq!(w.job(id).await.unwrap().status, JobStatus::Submitted);
    w.check_invariants().await;
}

#[tokio::test]
async fn settle_job_rejects_a_direct_call_by_a_user() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let id = claimed_job(&mut w).await;
    w.submit(id).await;
    let window_end = w.job(id).await.unwrap().window_end;
    w.fx.warp_to_timestamp(window_end + 1).await;
    // Even the provider, paying itself the right amount, must go through the verification program.
    let ix = settle_job_ix(&w, w.provider.key(), id, w.provider.token);
    w.fx.send_err(&[ix], &[&w.provider.kp], E::NotVerificationProgram).await;
    let mut ix = settle_job_ix(&w, vsdk::verification_authority(), id, w.provider.token);
    ix.accounts[0].is_signer = false;
    w.fx.send_err(&[ix], &[], Anchor::AccountNotSigner).await;
    w.check_invariants().await;
}

// ---------------------------------------------------------------------------------------------
// Fake programs, wrong parents, unbounded remaining accounts

#[tokio::test]
async fn post_job_rejects_a_fake_escrow_program() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let mut ix = jsdk::post_job(w.client.key(), w.client.token, &w.mk, 0, w.post_args(PRICE));
    replace_key(&mut ix, cinder_escrow::ID, cinder_test_caller::ID);
    w.fx.watch(w.mk.job(0));
    w.fx.send_err(&[ix], &[&w.client.kp], Anchor::InvalidProgramId).await;
    w.check_invariants().await;
}

#[tokio::test]
async fn claim_job_rejects_a_fake_staking_program() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let (id, _) = w.post(w.post_args(PRICE)).await;
    let mut ix = jsdk::claim_job(w.provider.key(), &w.mk, id, &[]);
    replace_key(&mut ix, cinder_staking::ID, cinder_test_caller::ID);
    w.fx.send_err(&[ix], &[&w.provider.kp], Anchor::InvalidProgramId).await;
    w.check_invariants().await;
}

#[tokio::test]
async fn claim_job_rejects_more_skips_than_max_queue_skip() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let (id, _) = w.post(w.post_args(PRICE)).await;
    let skips: Vec<u64> = (1..=cinder_jobs::MAX_QUEUE_SKIP as u64 + 1).collect();
    let ix = jsdk::claim_job(w.provider.key(), &w.mk, id, &skips);
    w.fx.send_err(&[ix], &[&w.provider.kp], E::InvalidQueueSkip).await;
    w.check_invariants().await;
}

/// A second market of the same model and mint (another creator) with one job posted by the
/// world's client; returns the market's keys.
pub(crate) async fn second_market_with_a_job(w: &mut World) -> MarketKeys {
    let creator = attacker(w).await;
    let mk2 = new_market_keys(w, &creator.kp.pubkey());
    w.fx.send_ok(&[jsdk::create_market(creator.kp.pubkey(), &mk2, market_params())], &[&creator.kp]).await;
    let ix = jsdk::post_job(w.client.key(), w.client.token, &mk2, 0, w.post_args(PRICE));
    w.fx.send_ok(&[ix], &[&w.client.kp]).await;
    w.fx.watch(mk2.market);
    w.fx.watch(mk2.job(0));
    mk2
}

/// The right account type with the wrong parent: another market's job.
#[tokio::test]
async fn cancel_job_and_claim_job_reject_a_job_of_another_market() {
    let mut w = World::new(TokenKind::Spl, 0).await;
    let (id, _) = w.post(w.post_args(PRICE)).await;
    let mk2 = second_market_with_a_job(&mut w).await;
    let mut ix = jsdk::cancel_job(w.client.key(), w.client.token, &w.mk, id);
    replace_key(&mut ix, w.mk.job(id), mk2.job(0));
    w.fx.send_err(&[ix], &[&w.client.kp], Anchor::ConstraintSeeds).await;
    let mut ix = jsdk::claim_job(w.provider.key(), &w.mk, id, &[]);
    replace_key(&mut ix, w.mk.job(id), mk2.job(0));
    w.fx.send_err(&[ix], &[&w.provider.kp], Anchor::ConstraintSeeds).await;
    assert_eq!(w.fx.anchor_account::<jsdk::Job>(mk2.job(0)).await.status, JobStatus::Open);
}
