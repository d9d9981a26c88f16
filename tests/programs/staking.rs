//! Staking program: deposit/unstake/withdraw under both token programs, lock/unlock/slash through
//! a program PDA, admin limits, and every rejection.
#![allow(deprecated)]
use anchor_lang::{error::ErrorCode as Anchor, prelude::Pubkey};
use cinder_sdk::staking::{self as sdk, InitPoolArgs, PoolKeys, SlashStakeArgs, UpdatePoolArgs};
use cinder_staking::{
    PoolInitialized, PoolUpdated, ProviderStake, StakeDeposited, StakeLocked, StakePool, StakeSlashed, StakeUnlocked,
    StakeWithdrawn, StakingError as E, TreasuryWithdrawn, UnstakeCancelled, UnstakeRequested,
};
use cinder_test_caller::Which;
use cinder_tests::{caller, one_event, ExtensionType, Fixture, TokenKind};
use solana_keypair::Keypair;
use solana_signer::Signer;

const MIN_STAKE: u64 = 100;
const COOLDOWN: i64 = 3_600;
const FUNDED: u64 = 100_000;

struct Setup {
    fx: Fixture,
    mint: Pubkey,
    admin: Keypair,
    treasury: Pubkey,
    pool: PoolKeys,
    staker: Keypair,
    staker_ta: Pubkey,
    stakers: Vec<Pubkey>,
}

fn pool_args() -> InitPoolArgs {
    InitPoolArgs {
        min_stake: MIN_STAKE,
        cooldown_secs: COOLDOWN,
        max_reward_bps: 4_000,
        authorities: vec![Which::Trusted.address()],
    }
}

async fn setup_uninit(token: TokenKind, extensions: &[ExtensionType]) -> Setup {
    let mut fx = Fixture::new(token).await;
    let mint = fx.create_mint(9, extensions).await;
    let admin = fx.wallet(1_000_000_000).await;
    let treasury = fx.create_token_account(mint, admin.pubkey()).await;
    let pool = PoolKeys::new(admin.pubkey(), mint, token.id());
    let (staker, staker_ta) = fx.funded_wallet(mint, FUNDED).await;
    fx.watch(pool.pool);
    fx.watch(pool.vault);
    fx.watch(pool.stake(&staker.pubkey()));
    Setup { fx, mint, admin, treasury, pool, stakers: vec![staker.pubkey()], staker, staker_ta }
}

async fn setup(token: TokenKind) -> Setup {
    let mut s = setup_uninit(token, &[]).await;
    let ix = sdk::init_pool(&s.pool, s.treasury, pool_args());
    let logs = s.fx.send_ok(&[ix], &[&s.admin.insecure_clone()]).await;
    let ev: PoolInitialized = one_event(&logs);
    assert_eq!(
        (ev.pool, ev.admin, ev.min_stake, ev.authorities),
        (s.pool.pool, s.admin.pubkey(), MIN_STAKE, vec![Which::Trusted.address()])
    );
    s
}

impl Setup {
    async fn deposit(&mut self, amount: u64) -> Vec<String> {
        let ix = sdk::deposit_stake(&self.pool, self.staker.pubkey(), self.staker_ta, amount);
        let kp = self.staker.insecure_clone();
        self.fx.send_ok(&[ix], &[&kp]).await
    }

    async fn stake(&mut self) -> ProviderStake {
        let k = self.pool.stake(&self.staker.pubkey());
        self.fx.anchor_account(k).await
    }

    async fn pool_state(&mut self) -> StakePool {
        let k = self.pool.pool;
        self.fx.anchor_account(k).await
    }

    /// Stake conservation: vault == Σ(active + pending); pool totals == Σ over stakers;
    /// locked <= active for everyone; supply all accounted for.
    async fn check_invariants(&mut self) {
        let p = self.pool_state().await;
        let (mut active, mut pending, mut locked) = (0, 0, 0);
        for owner in self.stakers.clone() {
            let k = self.pool.stake(&owner);
            if self.fx.exists(k).await {
                let st: ProviderStake = self.fx.anchor_account(k).await;
                assert!(st.locked <= st.active, "locked <= active");
                active += st.active;
                pending += st.pending;
                locked += st.locked;
            }
        }
        assert_eq!((p.total_active, p.total_pending, p.total_locked), (active, pending, locked));
        assert_eq!(
            self.fx.balance(self.pool.vault).await,
            active + pending + p.treasury_accrued,
            "stake vault == active + pending + treasury accrued"
        );
        let vault = self.pool.vault;
        self.fx.assert_supply_conserved(self.mint, &[vault]).await;
    }
}

async fn stake_round_trip(token: TokenKind) {
    let mut s = setup(token).await;
    let logs = s.deposit(1_000).await;
    let ev: StakeDeposited = one_event(&logs);
    assert_eq!((ev.owner, ev.amount, ev.active), (s.staker.pubkey(), 1_000, 1_000));
    assert_eq!(s.fx.balance(s.staker_ta).await, FUNDED - 1_000);
    s.check_invariants().await;
    s.deposit(500).await; // top-up reuses the account
    assert_eq!(s.stake().await.active, 1_500);
    assert_eq!(s.pool_state().await.staker_count, 1);

    let t0 = s.fx.now().await;
    let kp = s.staker.insecure_clone();
    let logs = s.fx.send_ok(&[sdk::request_unstake(&s.pool, kp.pubkey(), 1_500)], &[&kp]).await;
    let ev: UnstakeRequested = one_event(&logs);
    assert_eq!((ev.amount, ev.pending, ev.unlock_at), (1_500, 1_500, t0 + COOLDOWN));
    s.check_invariants().await;

    // One second before the end: refused. At the exact end: allowed (the boundary is inclusive).
    s.fx.warp_to_timestamp(t0 + COOLDOWN - 1).await;
    let ix = sdk::withdraw_stake(&s.pool, kp.pubkey(), s.staker_ta);
    s.fx.send_err(std::slice::from_ref(&ix), &[&kp], E::CooldownNotElapsed).await;
    s.fx.warp_to_timestamp(t0 + COOLDOWN).await;
    let logs = s.fx.send_ok(&[ix], &[&kp]).await;
    assert_eq!(one_event::<StakeWithdrawn>(&logs).amount, 1_500);
    assert_eq!(s.fx.balance(s.staker_ta).await, FUNDED);
    let st = s.stake().await;
    assert_eq!((st.active, st.pending, st.locked, st.total_withdrawn), (0, 0, 0, 1_500));
    s.check_invariants().await;
}

#[tokio::test]
async fn stake_unstake_withdraw_spl_token() {
    stake_round_trip(TokenKind::Spl).await;
}

#[tokio::test]
async fn stake_unstake_withdraw_token_2022() {
    stake_round_trip(TokenKind::Token2022).await;
}

#[tokio::test]
async fn cancel_unstake_returns_pending_to_active_and_new_requests_keep_the_cooldown() {
    let mut s = setup(TokenKind::Spl).await;
    s.deposit(1_000).await;
    let kp = s.staker.insecure_clone();
    let t0 = s.fx.now().await;
    s.fx.send_ok(&[sdk::request_unstake(&s.pool, kp.pubkey(), 300)], &[&kp]).await;
    // The admin shortens the cooldown; a second request must not pull the unlock time earlier.
    let a = s.admin.insecure_clone();
    let upd = UpdatePoolArgs { cooldown_secs: Some(10), ..Default::default() };
    s.fx.send_ok(&[sdk::update_pool(&s.pool, a.pubkey(), None, upd)], &[&a]).await;
    s.fx.warp_to_timestamp(t0 + 5).await;
    s.fx.send_ok(&[sdk::request_unstake(&s.pool, kp.pubkey(), 100)], &[&kp]).await;
    assert_eq!(s.stake().await.unlock_at, t0 + COOLDOWN);
    s.deposit(100).await;
    assert_eq!(s.stake().await.unlock_at, t0 + COOLDOWN, "a top-up keeps it too");
    let logs = s.fx.send_ok(&[sdk::cancel_unstake(&s.pool, kp.pubkey())], &[&kp]).await;
    let ev: UnstakeCancelled = one_event(&logs);
    assert_eq!((ev.amount, ev.active), (400, 1_100));
    let st = s.stake().await;
    assert_eq!((st.active, st.pending, st.unlock_at), (1_100, 0, 0));
    s.check_invariants().await;
}

async fn lock_unlock_slash(token: TokenKind) {
    let mut s = setup(token).await;
    s.deposit(1_000).await;
    let owner = s.staker.pubkey();
    let logs = s.fx.send_ok(&[caller::lock_stake(Which::Trusted, &s.pool, &owner, 400)], &[]).await;
    let ev: StakeLocked = one_event(&logs);
    assert_eq!((ev.authority, ev.amount, ev.locked), (Which::Trusted.address(), 400, 400));
    s.check_invariants().await;
    // Locked collateral can be neither unstaked nor withdrawn.
    let kp = s.staker.insecure_clone();
    s.fx.send_err(&[sdk::request_unstake(&s.pool, owner, 601)], &[&kp], E::InsufficientFreeStake).await;

    let logs = s.fx.send_ok(&[caller::unlock_stake(Which::Trusted, &s.pool, &owner, 150)], &[]).await;
    assert_eq!(one_event::<StakeUnlocked>(&logs).locked, 250);
    s.check_invariants().await;

    // Slash 250 (the remaining lock), 40% to a challenger, the rest accrues to the treasury.
    let (_c, challenger_ta) = s.fx.funded_wallet(s.mint, 0).await;
    let ix = caller::slash_stake(Which::Trusted, &s.pool, &owner, Some(challenger_ta), 250, 4_000);
    let logs = s.fx.send_ok(&[ix], &[]).await;
    let ev: StakeSlashed = one_event(&logs);
    assert_eq!((ev.requested, ev.slashed, ev.reward, ev.to_treasury), (250, 250, 100, 150));
    assert_eq!(ev.reward + ev.to_treasury, ev.slashed);
    assert_eq!((s.fx.balance(challenger_ta).await, s.fx.balance(s.treasury).await), (100, 0));
    assert_eq!((ev.treasury_accrued, s.pool_state().await.treasury_accrued), (150, 150));
    let st = s.stake().await;
    assert_eq!((st.active, st.locked, st.total_slashed), (750, 0, 250));
    s.check_invariants().await;

    // Slashing more than there is saturates at active + pending.
    s.fx.send_ok(&[sdk::request_unstake(&s.pool, owner, 250)], &[&kp]).await;
    let ix = caller::slash_stake(Which::Trusted, &s.pool, &owner, None, 10_000, 0);
    let ev: StakeSlashed = one_event(&s.fx.send_ok(&[ix], &[]).await);
    assert_eq!((ev.slashed, ev.reward, ev.to_treasury), (750, 0, 750));
    let st = s.stake().await;
    assert_eq!((st.active, st.pending, st.locked, st.total_slashed), (0, 0, 0, 1_000));
    assert_eq!(s.fx.balance(s.pool.vault).await, 900, "the treasury's part waits in the vault");
    s.check_invariants().await;
    // The admin pays the accrued part out to the pool treasury.
    let a = s.admin.insecure_clone();
    let logs = s.fx.send_ok(&[sdk::withdraw_treasury(&s.pool, a.pubkey(), s.treasury)], &[&a]).await;
    let ev: TreasuryWithdrawn = one_event(&logs);
    assert_eq!((ev.treasury, ev.amount), (s.treasury, 900));
    assert_eq!((s.fx.balance(s.treasury).await, s.fx.balance(s.pool.vault).await), (900, 0));
    assert_eq!(s.pool_state().await.treasury_accrued, 0);
    s.check_invariants().await;
}

#[tokio::test]
async fn lock_unlock_slash_through_program_pda_spl_token() {
    lock_unlock_slash(TokenKind::Spl).await;
}

#[tokio::test]
async fn lock_unlock_slash_through_program_pda_token_2022() {
    lock_unlock_slash(TokenKind::Token2022).await;
}

#[tokio::test]
async fn update_pool_changes_parameters_for_the_future_only() {
    let mut s = setup(TokenKind::Spl).await;
    let new_treasury = s.fx.create_token_account(s.mint, s.admin.pubkey()).await;
    let new_admin = Keypair::new();
    let a = s.admin.insecure_clone();
    let args = UpdatePoolArgs {
        new_admin: Some(new_admin.pubkey()),
        min_stake: Some(5),
        cooldown_secs: Some(60),
        max_reward_bps: Some(5_000),
    };
    let logs = s.fx.send_ok(&[sdk::update_pool(&s.pool, a.pubkey(), Some(new_treasury), args)], &[&a]).await;
    let ev: PoolUpdated = one_event(&logs);
    assert_eq!(
        (ev.old_admin, ev.new_admin, ev.old_treasury, ev.new_treasury),
        (a.pubkey(), new_admin.pubkey(), s.treasury, new_treasury)
    );
    let p = s.pool_state().await;
    assert_eq!(
        (p.admin, p.treasury, p.min_stake, p.cooldown_secs, p.max_reward_bps),
        (new_admin.pubkey(), new_treasury, 5, 60, 5_000)
    );
    assert_eq!(p.authorities[0], Which::Trusted.address(), "authorities cannot change");
    // The old admin is no longer admin.
    s.fx.send_err(&[sdk::update_pool(&s.pool, a.pubkey(), None, UpdatePoolArgs::default())], &[&a], E::Unauthorized)
        .await;
}

// ---------------------------------------------------------------- rejections: init / update

#[tokio::test]
async fn init_pool_rejects_invalid_parameters() {
    let mut s = setup_uninit(TokenKind::Spl, &[]).await;
    let a = s.admin.insecure_clone();
    let cases: Vec<(InitPoolArgs, E)> = vec![
        (InitPoolArgs { cooldown_secs: cinder_staking::MAX_COOLDOWN_SECS + 1, ..pool_args() }, E::InvalidCooldown),
        (InitPoolArgs { cooldown_secs: -1, ..pool_args() }, E::InvalidCooldown),
        (InitPoolArgs { max_reward_bps: cinder_staking::MAX_REWARD_BPS_CAP + 1, ..pool_args() }, E::RewardBpsTooHigh),
        (InitPoolArgs { authorities: vec![Which::Trusted.address(); 2], ..pool_args() }, E::InvalidAuthorities),
        (InitPoolArgs { authorities: vec![Pubkey::default()], ..pool_args() }, E::InvalidAuthorities),
        (
            InitPoolArgs { authorities: (0..5).map(|_| Pubkey::new_unique()).collect(), ..pool_args() },
            E::InvalidAuthorities,
        ),
    ];
    for (args, err) in cases {
        s.fx.send_err(&[sdk::init_pool(&s.pool, s.treasury, args)], &[&a], err).await;
    }
    assert!(!s.fx.exists(s.pool.pool).await);
}

#[tokio::test]
async fn init_pool_rejects_risky_token_2022_mint() {
    let mut s = setup_uninit(TokenKind::Token2022, &[ExtensionType::PermanentDelegate]).await;
    let a = s.admin.insecure_clone();
    s.fx.send_err(&[sdk::init_pool(&s.pool, s.treasury, pool_args())], &[&a], E::UnsupportedMintExtension).await;
}

/// A mint with a close authority could be closed at zero supply and re-created at the same
/// address with a permanent delegate; such mints are refused outright.
#[tokio::test]
async fn init_pool_rejects_a_mint_with_a_close_authority() {
    let mut s = setup_uninit(TokenKind::Token2022, &[ExtensionType::MintCloseAuthority]).await;
    let a = s.admin.insecure_clone();
    s.fx.send_err(&[sdk::init_pool(&s.pool, s.treasury, pool_args())], &[&a], E::UnsupportedMintExtension).await;
    assert!(!s.fx.exists(s.pool.pool).await);
}

/// The close-and-re-create attack, end to end as far as a chain allows: the pool's mint account is
/// replaced by one carrying `PermanentDelegate` (what a re-created mint would be); the next deposit
/// re-checks the policy and is refused, so nothing more enters a vault a delegate could drain.
#[tokio::test]
async fn deposit_stake_rejects_a_recreated_mint_with_a_permanent_delegate() {
    let mut s = setup(TokenKind::Token2022).await;
    s.deposit(1_000).await;
    let evil = s.fx.create_mint(9, &[ExtensionType::PermanentDelegate]).await;
    let data = s.fx.account_data(evil).await.expect("evil mint");
    s.fx.set_raw_account(s.mint, anchor_spl::token_2022::ID, data);
    let ix = sdk::deposit_stake(&s.pool, s.staker.pubkey(), s.staker_ta, 10);
    let kp = s.staker.insecure_clone();
    s.fx.send_err(&[ix], &[&kp], E::UnsupportedMintExtension).await;
    assert_eq!(s.stake().await.active, 1_000);
}

#[tokio::test]
async fn init_pool_rejects_reinitialisation() {
    let mut s = setup(TokenKind::Spl).await;
    let a = s.admin.insecure_clone();
    let before = s.pool_state().await;
    let args = InitPoolArgs { min_stake: 1, ..pool_args() };
    // `init` on an existing account is refused inside the system program (not a program error).
    assert_eq!(s.fx.send_err_code(&[sdk::init_pool(&s.pool, s.treasury, args)], &[&a]).await, None);
    assert_eq!(s.pool_state().await, before);
}

#[tokio::test]
async fn update_pool_rejects_non_admin_and_out_of_range_values() {
    let mut s = setup(TokenKind::Spl).await;
    let mallory = s.fx.wallet(10_000_000).await;
    s.fx.send_err(
        &[sdk::update_pool(
            &s.pool,
            mallory.pubkey(),
            None,
            UpdatePoolArgs { min_stake: Some(0), ..Default::default() },
        )],
        &[&mallory],
        E::Unauthorized,
    )
    .await;
    let a = s.admin.insecure_clone();
    let too_long = UpdatePoolArgs { cooldown_secs: Some(cinder_staking::MAX_COOLDOWN_SECS + 1), ..Default::default() };
    s.fx.send_err(&[sdk::update_pool(&s.pool, a.pubkey(), None, too_long)], &[&a], E::InvalidCooldown).await;
    let other_mint = s.fx.create_mint(9, &[]).await;
    let wrong_treasury = s.fx.create_token_account(other_mint, a.pubkey()).await;
    s.fx.send_err(
        &[sdk::update_pool(&s.pool, a.pubkey(), Some(wrong_treasury), UpdatePoolArgs::default())],
        &[&a],
        Anchor::ConstraintTokenMint,
    )
    .await;
}

// ---------------------------------------------------------------- rejections: staker actions

#[tokio::test]
async fn deposit_stake_rejects_zero_and_below_minimum() {
    let mut s = setup(TokenKind::Token2022).await;
    let kp = s.staker.insecure_clone();
    s.fx.send_err(&[sdk::deposit_stake(&s.pool, kp.pubkey(), s.staker_ta, 0)], &[&kp], E::ZeroAmount).await;
    s.fx.send_err(
        &[sdk::deposit_stake(&s.pool, kp.pubkey(), s.staker_ta, MIN_STAKE - 1)],
        &[&kp],
        E::BelowMinimumStake,
    )
    .await;
    assert!(!s.fx.exists(s.pool.stake(&kp.pubkey())).await);
    assert_eq!(s.fx.balance(s.staker_ta).await, FUNDED);
}

#[tokio::test]
async fn deposit_stake_rejects_someone_elses_token_account() {
    let mut s = setup(TokenKind::Spl).await;
    let (_victim, victim_ta) = s.fx.funded_wallet(s.mint, 5_000).await;
    let kp = s.staker.insecure_clone();
    s.fx.send_err(&[sdk::deposit_stake(&s.pool, kp.pubkey(), victim_ta, 1_000)], &[&kp], Anchor::ConstraintTokenOwner)
        .await;
    assert_eq!(s.fx.balance(victim_ta).await, 5_000);
}

#[tokio::test]
async fn request_unstake_rejects_partial_exit_below_minimum_and_other_owners() {
    let mut s = setup(TokenKind::Spl).await;
    s.deposit(150).await;
    let kp = s.staker.insecure_clone();
    s.fx.send_err(&[sdk::request_unstake(&s.pool, kp.pubkey(), 100)], &[&kp], E::BelowMinimumStake).await;
    s.fx.send_err(&[sdk::request_unstake(&s.pool, kp.pubkey(), 0)], &[&kp], E::ZeroAmount).await;
    // Mallory signs as herself but names the staker's account.
    let mallory = s.fx.wallet(10_000_000).await;
    let mut ix = sdk::request_unstake(&s.pool, mallory.pubkey(), 150);
    ix.accounts[2].pubkey = s.pool.stake(&kp.pubkey());
    s.fx.send_err(&[ix], &[&mallory], Anchor::ConstraintSeeds).await;
    s.check_invariants().await;
}

#[tokio::test]
async fn cancel_unstake_rejects_when_nothing_is_pending() {
    let mut s = setup(TokenKind::Spl).await;
    s.deposit(150).await;
    let kp = s.staker.insecure_clone();
    s.fx.send_err(&[sdk::cancel_unstake(&s.pool, kp.pubkey())], &[&kp], E::NoPendingWithdrawal).await;
}

#[tokio::test]
async fn withdraw_stake_rejects_without_request_and_to_foreign_accounts() {
    let mut s = setup(TokenKind::Token2022).await;
    s.deposit(1_000).await;
    let kp = s.staker.insecure_clone();
    s.fx.send_err(&[sdk::withdraw_stake(&s.pool, kp.pubkey(), s.staker_ta)], &[&kp], E::NoPendingWithdrawal).await;
    s.fx.send_ok(&[sdk::request_unstake(&s.pool, kp.pubkey(), 1_000)], &[&kp]).await;
    let t = s.fx.now().await;
    s.fx.warp_to_timestamp(t + COOLDOWN).await;
    let (_m, mallory_ta) = s.fx.funded_wallet(s.mint, 0).await;
    s.fx.send_err(&[sdk::withdraw_stake(&s.pool, kp.pubkey(), mallory_ta)], &[&kp], Anchor::ConstraintTokenOwner).await;
    s.check_invariants().await;
}

#[tokio::test]
async fn withdraw_stake_rejects_locked_collateral() {
    let mut s = setup(TokenKind::Spl).await;
    s.deposit(1_000).await;
    let owner = s.staker.pubkey();
    s.fx.send_ok(&[caller::lock_stake(Which::Trusted, &s.pool, &owner, 1_000)], &[]).await;
    let kp = s.staker.insecure_clone();
    s.fx.send_err(&[sdk::request_unstake(&s.pool, owner, 1)], &[&kp], E::InsufficientFreeStake).await;
    s.fx.send_err(&[sdk::withdraw_stake(&s.pool, owner, s.staker_ta)], &[&kp], E::NoPendingWithdrawal).await;
    s.check_invariants().await;
}

// ---------------------------------------------------------------- rejections: lock / unlock / slash

#[tokio::test]
async fn lock_stake_rejects_direct_calls_by_users_and_admin() {
    let mut s = setup(TokenKind::Spl).await;
    s.deposit(1_000).await;
    let owner = s.staker.pubkey();
    let kp = s.staker.insecure_clone();
    s.fx.send_err(&[sdk::lock_stake(&s.pool, owner, owner, 10)], &[&kp], E::UnauthorizedCaller).await;
    let a = s.admin.insecure_clone();
    s.fx.send_err(&[sdk::lock_stake(&s.pool, a.pubkey(), owner, 10)], &[&a], E::UnauthorizedCaller).await;
}

#[tokio::test]
async fn lock_stake_rejects_untrusted_program_pda_and_more_than_free() {
    let mut s = setup(TokenKind::Spl).await;
    s.deposit(1_000).await;
    let owner = s.staker.pubkey();
    s.fx.send_err(&[caller::lock_stake(Which::Rogue, &s.pool, &owner, 10)], &[], E::UnauthorizedCaller).await;
    s.fx.send_err(&[caller::lock_stake(Which::Trusted, &s.pool, &owner, 1_001)], &[], E::InsufficientFreeStake).await;
    s.fx.send_err(&[caller::lock_stake(Which::Trusted, &s.pool, &owner, 0)], &[], E::ZeroAmount).await;
}

#[tokio::test]
async fn unlock_stake_rejects_more_than_locked_and_untrusted_callers() {
    let mut s = setup(TokenKind::Spl).await;
    s.deposit(1_000).await;
    let owner = s.staker.pubkey();
    s.fx.send_ok(&[caller::lock_stake(Which::Trusted, &s.pool, &owner, 100)], &[]).await;
    s.fx.send_err(&[caller::unlock_stake(Which::Trusted, &s.pool, &owner, 101)], &[], E::InsufficientLockedStake).await;
    s.fx.send_err(&[caller::unlock_stake(Which::Rogue, &s.pool, &owner, 100)], &[], E::UnauthorizedCaller).await;
    let kp = s.staker.insecure_clone();
    s.fx.send_err(&[sdk::unlock_stake(&s.pool, owner, owner, 100)], &[&kp], E::UnauthorizedCaller).await;
    s.check_invariants().await;
}

#[tokio::test]
async fn slash_stake_rejects_untrusted_callers_including_the_admin() {
    let mut s = setup(TokenKind::Spl).await;
    s.deposit(1_000).await;
    let owner = s.staker.pubkey();
    s.fx.send_err(&[caller::slash_stake(Which::Rogue, &s.pool, &owner, None, 100, 0)], &[], E::UnauthorizedCaller)
        .await;
    let a = s.admin.insecure_clone();
    let args = SlashStakeArgs { amount: 100, reward_bps: 0 };
    s.fx.send_err(&[sdk::slash_stake(&s.pool, a.pubkey(), owner, None, args)], &[&a], E::UnauthorizedCaller).await;
    assert_eq!(s.stake().await.active, 1_000);
}

#[tokio::test]
async fn slash_stake_rejects_reward_above_cap_and_missing_recipient() {
    let mut s = setup(TokenKind::Token2022).await;
    s.deposit(1_000).await;
    let owner = s.staker.pubkey();
    let (_c, c_ta) = s.fx.funded_wallet(s.mint, 0).await;
    s.fx.send_err(
        &[caller::slash_stake(
            Which::Trusted,
            &s.pool,
            &owner,
            Some(c_ta),
            100,
            cinder_staking::MAX_REWARD_BPS_CAP + 1,
        )],
        &[],
        E::RewardBpsTooHigh,
    )
    .await;
    s.fx.send_err(
        &[caller::slash_stake(Which::Trusted, &s.pool, &owner, None, 100, 1)],
        &[],
        E::RewardRecipientRequired,
    )
    .await;
    s.check_invariants().await;
}

#[tokio::test]
async fn withdraw_treasury_rejects_a_stranger_a_wrong_treasury_and_an_empty_accrual() {
    let mut s = setup(TokenKind::Spl).await;
    s.deposit(1_000).await;
    let owner = s.staker.pubkey();
    let a = s.admin.insecure_clone();
    s.fx.send_err(&[sdk::withdraw_treasury(&s.pool, a.pubkey(), s.treasury)], &[&a], E::NothingToWithdraw).await;
    s.fx.send_ok(&[caller::slash_stake(Which::Trusted, &s.pool, &owner, None, 100, 0)], &[]).await;
    let (mallory, m_ta) = s.fx.funded_wallet(s.mint, 0).await;
    s.fx.send_err(&[sdk::withdraw_treasury(&s.pool, mallory.pubkey(), m_ta)], &[&mallory], E::Unauthorized).await;
    // The payout cannot be redirected to an account posing as the treasury, even by the admin.
    s.fx.send_err(&[sdk::withdraw_treasury(&s.pool, a.pubkey(), m_ta)], &[&a], E::InvalidTreasury).await;
    assert_eq!((s.pool_state().await.treasury_accrued, s.fx.balance(m_ta).await), (100, 0));
    s.check_invariants().await;
}

/// A pool admin lowering the reward cap, or closing and rotating the treasury, never makes a slash
/// (and so a job's exit) fail: the cap binds only when market terms are set, and the treasury's
/// part accrues in the vault.
#[tokio::test]
async fn slash_stake_succeeds_after_the_admin_lowers_the_cap_and_rotates_the_treasury() {
    let mut s = setup(TokenKind::Token2022).await;
    s.deposit(1_000).await;
    let owner = s.staker.pubkey();
    let a = s.admin.insecure_clone();
    let new_treasury = s.fx.create_token_account(s.mint, a.pubkey()).await;
    let args = UpdatePoolArgs { max_reward_bps: Some(0), ..Default::default() };
    s.fx.send_ok(&[sdk::update_pool(&s.pool, a.pubkey(), Some(new_treasury), args)], &[&a]).await;
    let (_c, c_ta) = s.fx.funded_wallet(s.mint, 0).await;
    let ix = caller::slash_stake(Which::Trusted, &s.pool, &owner, Some(c_ta), 100, 4_000);
    let ev: StakeSlashed = one_event(&s.fx.send_ok(&[ix], &[]).await);
    assert_eq!((ev.slashed, ev.reward, ev.to_treasury), (100, 40, 60));
    assert_eq!(s.fx.balance(c_ta).await, 40);
    s.fx.send_ok(&[sdk::withdraw_treasury(&s.pool, a.pubkey(), new_treasury)], &[&a]).await;
    assert_eq!(s.fx.balance(new_treasury).await, 60);
    s.check_invariants().await;
}
