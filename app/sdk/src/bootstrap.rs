//! Deploying protocol state through any [`Chain`]: mints and token accounts, the stake pool, the
//! protocol config, a model, a market, and staked participants. Used by `cinder-demo`, the worker
//! tests and the migrations program. Every step is a plain transaction; nothing here bypasses the
//! programs.
use anchor_lang::prelude::Pubkey;
use anchor_spl::token_2022::spl_token_2022;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::{
    chain::{Chain, ChainResult},
    jobs::{self as jsdk, MarketKeys, MarketParams},
    staking::{self as ssdk, PoolKeys},
    verification as vsdk,
};

/// SPL Token account size (no extensions).
pub const TOKEN_ACCOUNT_LEN: u64 = 165;
/// SPL Token mint size (no extensions).
pub const MINT_LEN: u64 = 82;

/// Rent-exempt minimum for `len` bytes at the default rent (what every cluster uses today).
pub fn rent_exempt(len: u64) -> u64 {
    anchor_lang::prelude::Rent::default().minimum_balance(len as usize)
}

pub async fn transfer_sol(chain: &dyn Chain, from: &Keypair, to: &Pubkey, lamports: u64) -> ChainResult<()> {
    let ix = anchor_lang::solana_program::system_instruction::transfer(&from.pubkey(), to, lamports);
    chain.send(&[ix], from, &[]).await.map(|_| ())
}

/// A new mint (no extensions) with `authority` as mint authority.
pub async fn create_mint(
    chain: &dyn Chain,
    payer: &Keypair,
    authority: &Pubkey,
    decimals: u8,
    token_program: &Pubkey,
) -> ChainResult<Pubkey> {
    let mint = Keypair::new();
    let ixs = [
        anchor_lang::solana_program::system_instruction::create_account(
            &payer.pubkey(),
            &mint.pubkey(),
            rent_exempt(MINT_LEN),
            MINT_LEN,
            token_program,
        ),
        spl_token_2022::instruction::initialize_mint2(token_program, &mint.pubkey(), authority, None, decimals)
            .expect("valid mint instruction"),
    ];
    chain.send(&ixs, payer, &[&mint]).await?;
    Ok(mint.pubkey())
}

/// A new token account of `mint` owned by `owner`.
pub async fn create_token_account(
    chain: &dyn Chain,
    payer: &Keypair,
    mint: &Pubkey,
    owner: &Pubkey,
    token_program: &Pubkey,
) -> ChainResult<Pubkey> {
    let account = Keypair::new();
    let ixs = [
        anchor_lang::solana_program::system_instruction::create_account(
            &payer.pubkey(),
            &account.pubkey(),
            rent_exempt(TOKEN_ACCOUNT_LEN),
            TOKEN_ACCOUNT_LEN,
            token_program,
        ),
        spl_token_2022::instruction::initialize_account3(token_program, &account.pubkey(), mint, owner)
            .expect("valid account instruction"),
    ];
    chain.send(&ixs, payer, &[&account]).await?;
    Ok(account.pubkey())
}

/// The associated token account of `owner` for `mint` (the convention for payouts: refunds,
/// payments and rewards that anyone may trigger go to the party's associated token account).
pub fn ata(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    anchor_spl::associated_token::get_associated_token_address_with_program_id(owner, mint, token_program)
}

/// Creates `owner`'s associated token account for `mint` if it does not exist (idempotent).
pub async fn create_ata(
    chain: &dyn Chain,
    payer: &Keypair,
    owner: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
) -> ChainResult<Pubkey> {
    let ix = anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent(
        &payer.pubkey(),
        owner,
        mint,
        token_program,
    );
    chain.send(&[ix], payer, &[]).await?;
    Ok(ata(owner, mint, token_program))
}

pub async fn mint_to(
    chain: &dyn Chain,
    authority: &Keypair,
    mint: &Pubkey,
    to: &Pubkey,
    amount: u64,
    token_program: &Pubkey,
) -> ChainResult<()> {
    let ix = spl_token_2022::instruction::mint_to(token_program, mint, to, &authority.pubkey(), &[], amount)
        .expect("valid mint_to instruction");
    chain.send(&[ix], authority, &[]).await.map(|_| ())
}

/// What to deploy.
#[derive(Clone, Debug)]
pub struct DeploymentSpec {
    pub token_program: Pubkey,
    pub decimals: u8,
    pub protocol_fee_bps: u16,
    pub pool_min_stake: u64,
    pub pool_cooldown_secs: i64,
    pub pool_max_reward_bps: u16,
    pub model_id: [u8; 32],
    pub model_name: String,
    pub architecture: String,
    pub engine_version: u32,
    pub market: MarketParams,
}

/// One token of the demo and local-cluster mint (6 decimals).
pub const TOKEN: u64 = 1_000_000;

/// The terms of the demo and local-cluster market (tokens of 6 decimals).
pub fn demo_market_params() -> MarketParams {
    MarketParams {
        price: TOKEN,
        job_timeout_secs: 600,
        challenge_window_secs: 300,
        collateral: 2 * TOKEN,
        min_stake: 5 * TOKEN,
        challenge_bond: TOKEN / 2,
        challenger_reward_bps: 4_000,
        timeout_client_bps: 2_000,
        quorum: 3,
        voting_period_secs: 120,
        vote_penalty: TOKEN / 10,
    }
}

/// The demo and local-cluster deployment: SPL Token mint of 6 decimals, 2.5 % protocol fee, a pool
/// with a 1-day cooldown, one Qwen2 model and [`demo_market_params`].
pub fn demo_spec(model_id: [u8; 32], model_name: &str, engine_version: u32) -> DeploymentSpec {
    DeploymentSpec {
        token_program: anchor_spl::token::ID,
        decimals: 6,
        protocol_fee_bps: 250,
        pool_min_stake: TOKEN,
        pool_cooldown_secs: 86_400,
        pool_max_reward_bps: 5_000,
        model_id,
        model_name: model_name.into(),
        architecture: "qwen2".into(),
        engine_version,
        market: demo_market_params(),
    }
}

/// A deployed protocol (one mint, one pool, one model, one market).
pub struct Deployment {
    pub admin: Keypair,
    pub treasury: Keypair,
    pub treasury_token: Pubkey,
    pub mint: Pubkey,
    pub pool: PoolKeys,
    pub market: MarketKeys,
}

/// A funded participant: a wallet with SOL and its associated token account.
pub struct Participant {
    pub keypair: Keypair,
    pub token: Pubkey,
}

impl Participant {
    pub fn key(&self) -> Pubkey {
        self.keypair.pubkey()
    }
}

/// The upgrade authority local chains (the in-process bank, the local cluster) record for the jobs
/// program: a fixed, publicly known key, for local use only. On a real cluster the deployer's key
/// is the upgrade authority and the only key that can create the protocol config.
pub fn local_upgrade_authority() -> Keypair {
    Keypair::new_from_array(*b"cinder-local-upgrade-authority!!")
}

/// Deploys everything on a local chain from a funded `faucet`. The admin is
/// [`local_upgrade_authority`] (the only key `init_config` accepts there); it is also the mint
/// authority so the demo can mint test tokens.
pub async fn deploy(chain: &dyn Chain, faucet: &Keypair, spec: &DeploymentSpec) -> ChainResult<Deployment> {
    let admin = local_upgrade_authority();
    let treasury = Keypair::new();
    transfer_sol(chain, faucet, &admin.pubkey(), 100_000_000_000).await?;
    let tp = spec.token_program;
    let mint = create_mint(chain, &admin, &admin.pubkey(), spec.decimals, &tp).await?;
    let treasury_token = create_ata(chain, &admin, &treasury.pubkey(), &mint, &tp).await?;
    let pool = PoolKeys::new(admin.pubkey(), mint, tp);
    let init_pool = ssdk::init_pool(
        &pool,
        treasury_token,
        ssdk::InitPoolArgs {
            min_stake: spec.pool_min_stake,
            cooldown_secs: spec.pool_cooldown_secs,
            max_reward_bps: spec.pool_max_reward_bps,
            authorities: vec![jsdk::jobs_authority(), vsdk::verification_authority()],
        },
    );
    let init_config = jsdk::init_config(
        admin.pubkey(),
        jsdk::InitConfigArgs {
            treasury: treasury.pubkey(),
            protocol_fee_bps: spec.protocol_fee_bps,
            stake_pool_creator: admin.pubkey(),
            verification_program: cinder_verification::ID,
        },
    );
    let model = jsdk::register_model(
        admin.pubkey(),
        jsdk::RegisterModelArgs {
            model_id: spec.model_id,
            name: spec.model_name.clone(),
            architecture: spec.architecture.clone(),
            engine_version: spec.engine_version,
        },
    );
    chain.send(&[init_pool, init_config, model], &admin, &[]).await?;
    let model_key = jsdk::model_pda(&spec.model_id);
    let market = MarketKeys {
        market: jsdk::market_pda(&model_key, &mint, &admin.pubkey()),
        model: model_key,
        mint,
        token_program: tp,
        pool: pool.pool,
        pool_vault: pool.vault,
        treasury_token,
    };
    chain.send(&[jsdk::create_market(admin.pubkey(), &market, spec.market)], &admin, &[]).await?;
    Ok(Deployment { admin, treasury, treasury_token, mint, pool, market })
}

impl Deployment {
    /// A new wallet with `sol` lamports and a token account holding `tokens`.
    pub async fn participant(
        &self,
        chain: &dyn Chain,
        faucet: &Keypair,
        sol: u64,
        tokens: u64,
    ) -> ChainResult<Participant> {
        let keypair = Keypair::new();
        transfer_sol(chain, faucet, &keypair.pubkey(), sol).await?;
        let tp = self.market.token_program;
        let token = create_ata(chain, &keypair, &keypair.pubkey(), &self.mint, &tp).await?;
        if tokens > 0 {
            mint_to(chain, &self.admin, &self.mint, &token, tokens, &tp).await?;
        }
        Ok(Participant { keypair, token })
    }

    /// Stakes `amount` of the participant's tokens in the pool.
    pub async fn stake(&self, chain: &dyn Chain, p: &Participant, amount: u64) -> ChainResult<()> {
        let ix = ssdk::deposit_stake(&self.pool, p.key(), p.token, amount);
        chain.send(&[ix], &p.keypair, &[]).await.map(|_| ())
    }

    /// Registers the participant as a provider serving this market's model.
    pub async fn register_provider(
        &self,
        chain: &dyn Chain,
        p: &Participant,
        model_id: [u8; 32],
        endpoint: &str,
    ) -> ChainResult<()> {
        let ix = jsdk::register_provider(
            p.key(),
            jsdk::ProviderArgs { endpoint: endpoint.into(), x25519_pubkey: [0; 32], models: vec![model_id] },
        );
        chain.send(&[ix], &p.keypair, &[]).await.map(|_| ())
    }

    /// Registers the participant as a verifier of this market (needs its stake first).
    pub async fn register_verifier(&self, chain: &dyn Chain, p: &Participant) -> ChainResult<u32> {
        let set = vsdk::verifier_set_pda(&self.market.market);
        let index = match chain.get_account(&set).await? {
            Some(a) => crate::decode::<vsdk::VerifierSet>(&a.data).map(|s| s.count).unwrap_or(0),
            None => 0,
        };
        let ix = vsdk::register_verifier(p.key(), &self.market, index);
        chain.send(&[ix], &p.keypair, &[]).await?;
        Ok(index)
    }
}
