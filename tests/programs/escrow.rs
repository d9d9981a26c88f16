//! Escrow program: round trips under both token programs, the mint policy, and every rejection.
#![allow(deprecated)]
use anchor_lang::{error::ErrorCode as Anchor, prelude::Pubkey};
use cinder_escrow::{Escrow, EscrowClosed, EscrowError as E, EscrowOpened, EscrowRefunded, EscrowReleased};
use cinder_sdk::escrow::{self as sdk, EscrowKeys};
use cinder_test_caller::Which;
use cinder_tests::{caller, one_event, ExtensionType, Fixture, TokenKind};
use solana_keypair::Keypair;
use solana_signer::Signer;

struct Setup {
    fx: Fixture,
    mint: Pubkey,
    depositor: Keypair,
    depositor_ta: Pubkey,
    keys: EscrowKeys,
}

const FUNDED: u64 = 1_000_000;

async fn setup_with(token: TokenKind, extensions: &[ExtensionType]) -> Setup {
    let mut fx = Fixture::new(token).await;
    let mint = fx.create_mint(6, extensions).await;
    let (depositor, depositor_ta) = fx.funded_wallet(mint, FUNDED).await;
    let keys = caller::escrow_keys(Which::Trusted, [7; 32], mint, token.id());
    fx.watch(keys.escrow);
    fx.watch(keys.vault);
    fx.watch(depositor.pubkey());
    Setup { fx, mint, depositor, depositor_ta, keys }
}

async fn setup(token: TokenKind) -> Setup {
    setup_with(token, &[]).await
}

impl Setup {
    async fn open(&mut self, amount: u64) -> Vec<String> {
        let d = self.depositor.pubkey();
        let ix = caller::open_escrow(Which::Trusted, &self.keys, d, d, self.depositor_ta, amount);
        let kp = self.depositor.insecure_clone();
        self.fx.send_ok(&[ix], &[&kp]).await
    }

    /// Escrow conservation: the vault holds exactly what the escrow account says it owes (plus any
    /// stray tokens the test sent to it), and the mint's supply is all accounted for.
    async fn check_invariants(&mut self, stray: u64) {
        if self.fx.exists(self.keys.escrow).await {
            let e: Escrow = self.fx.anchor_account(self.keys.escrow).await;
            assert_eq!(e.released + e.refunded + e.balance(), e.deposited);
            assert_eq!(self.fx.balance(self.keys.vault).await, e.balance() + stray, "vault == escrow balance");
        } else {
            assert!(!self.fx.exists(self.keys.vault).await, "no vault without its escrow");
        }
        let vault = self.keys.vault;
        self.fx.assert_supply_conserved(self.mint, &[vault]).await;
    }
}

async fn round_trip(token: TokenKind) {
    let mut s = setup(token).await;
    let (_alice, alice_ta) = s.fx.funded_wallet(s.mint, 0).await;
    let (_bob, bob_ta) = s.fx.funded_wallet(s.mint, 0).await;
    let payer_lamports = s.fx.lamports(s.depositor.pubkey()).await;

    let logs = s.open(1_000).await;
    let ev: EscrowOpened = one_event(&logs);
    assert_eq!(
        (ev.escrow, ev.controller, ev.depositor, ev.amount),
        (s.keys.escrow, Which::Trusted.address(), s.depositor.pubkey(), 1_000)
    );
    let e: Escrow = s.fx.anchor_account(s.keys.escrow).await;
    assert_eq!((e.deposited, e.released, e.refunded, e.mint, e.token_program), (1_000, 0, 0, s.mint, token.id()));
    assert_eq!(e.rent_payer, s.depositor.pubkey());
    assert_eq!(s.fx.balance(s.depositor_ta).await, FUNDED - 1_000);
    s.check_invariants(0).await;
    let rent_locked = payer_lamports - s.fx.lamports(s.depositor.pubkey()).await;
    assert!(rent_locked > 0);

    let ix = caller::release_escrow(Which::Trusted, &s.keys, &[alice_ta, bob_ta], vec![300, 200]);
    let logs = s.fx.send_ok(&[ix], &[]).await;
    let ev: EscrowReleased = one_event(&logs);
    assert_eq!((ev.recipients, ev.amounts, ev.remaining), (vec![alice_ta, bob_ta], vec![300, 200], 500));
    assert_eq!((s.fx.balance(alice_ta).await, s.fx.balance(bob_ta).await), (300, 200));
    s.check_invariants(0).await;

    let ix = caller::refund_escrow(Which::Trusted, &s.keys, s.depositor_ta);
    let logs = s.fx.send_ok(&[ix], &[]).await;
    let ev: EscrowRefunded = one_event(&logs);
    assert_eq!((ev.amount, ev.depositor_token), (500, s.depositor_ta));
    assert_eq!(s.fx.balance(s.depositor_ta).await, FUNDED - 500);
    s.check_invariants(0).await;

    // Anyone may close; the rent goes to the recorded payer, not to the caller.
    let stranger = s.fx.wallet(10_000_000).await;
    let ix = sdk::close_escrow(&s.keys, stranger.pubkey(), s.depositor.pubkey(), None);
    let logs = s.fx.send_ok(&[ix], &[&stranger]).await;
    let ev: EscrowClosed = one_event(&logs);
    assert_eq!((ev.rent_returned, ev.stray_swept), (rent_locked, 0));
    assert_eq!(s.fx.lamports(s.depositor.pubkey()).await, payer_lamports, "all rent back to the payer");
    assert!(!s.fx.exists(s.keys.escrow).await && !s.fx.exists(s.keys.vault).await);
    s.check_invariants(0).await;
}

#[tokio::test]
async fn escrow_round_trip_spl_token() {
    round_trip(TokenKind::Spl).await;
}

#[tokio::test]
async fn escrow_round_trip_token_2022() {
    round_trip(TokenKind::Token2022).await;
}

#[tokio::test]
async fn escrow_accepts_token_2022_mint_with_allowed_extensions() {
    let mut s = setup_with(TokenKind::Token2022, &[ExtensionType::InterestBearingConfig]).await;
    s.open(10).await;
    assert_eq!(s.fx.balance(s.keys.vault).await, 10);
    s.check_invariants(0).await;
}

#[tokio::test]
async fn close_escrow_sweeps_stray_tokens_to_the_depositor() {
    let mut s = setup(TokenKind::Spl).await;
    s.open(100).await;
    // Someone sends 5 tokens straight into the vault.
    let vault = s.keys.vault;
    s.fx.mint_to(s.mint, vault, 5).await;
    s.check_invariants(5).await;
    let ix = caller::refund_escrow(Which::Trusted, &s.keys, s.depositor_ta);
    s.fx.send_ok(&[ix], &[]).await;
    let d = s.depositor.pubkey();
    // Without the depositor's token account the sweep has nowhere to go.
    s.fx.send_err(
        &[sdk::close_escrow(&s.keys, d, d, None)],
        &[&s.depositor.insecure_clone()],
        E::DepositorTokenAccountRequired,
    )
    .await;
    let logs =
        s.fx.send_ok(&[sdk::close_escrow(&s.keys, d, d, Some(s.depositor_ta))], &[&s.depositor.insecure_clone()]).await;
    assert_eq!(one_event::<EscrowClosed>(&logs).stray_swept, 5);
    assert_eq!(s.fx.balance(s.depositor_ta).await, FUNDED + 5);
    s.check_invariants(0).await;
}

// ---------------------------------------------------------------- rejections: open_escrow

#[tokio::test]
async fn open_escrow_rejects_zero_amount() {
    let mut s = setup(TokenKind::Spl).await;
    let d = s.depositor.pubkey();
    let ix = caller::open_escrow(Which::Trusted, &s.keys, d, d, s.depositor_ta, 0);
    s.fx.send_err(&[ix], &[&s.depositor.insecure_clone()], E::ZeroAmount).await;
    assert!(!s.fx.exists(s.keys.escrow).await);
    assert_eq!(s.fx.balance(s.depositor_ta).await, FUNDED);
}

async fn rejects_mint_extension(ext: ExtensionType) {
    let mut s = setup_with(TokenKind::Token2022, &[ext]).await;
    let d = s.depositor.pubkey();
    let ix = caller::open_escrow(Which::Trusted, &s.keys, d, d, s.depositor_ta, 10);
    s.fx.send_err(&[ix], &[&s.depositor.insecure_clone()], E::UnsupportedMintExtension).await;
    assert_eq!(s.fx.balance(s.depositor_ta).await, FUNDED);
    assert!(!s.fx.exists(s.keys.escrow).await);
}

#[tokio::test]
async fn open_escrow_rejects_transfer_fee_mint() {
    rejects_mint_extension(ExtensionType::TransferFeeConfig).await;
}

#[tokio::test]
async fn open_escrow_rejects_permanent_delegate_mint() {
    rejects_mint_extension(ExtensionType::PermanentDelegate).await;
}

#[tokio::test]
async fn open_escrow_rejects_transfer_hook_mint() {
    rejects_mint_extension(ExtensionType::TransferHook).await;
}

#[tokio::test]
async fn open_escrow_rejects_squatting_without_controller_signature() {
    // Mallory tries to open the escrow a program would use, naming its PDA as controller
    // without its signature.
    let mut s = setup(TokenKind::Spl).await;
    let d = s.depositor.pubkey();
    let mut ix = sdk::open_escrow(&s.keys, d, d, s.depositor_ta, 10);
    for m in ix.accounts.iter_mut().filter(|m| m.pubkey == s.keys.controller) {
        m.is_signer = false;
    }
    s.fx.send_err(&[ix], &[&s.depositor.insecure_clone()], Anchor::AccountNotSigner).await;
    assert!(!s.fx.exists(s.keys.escrow).await);
}

#[tokio::test]
async fn open_escrow_rejects_reinitialisation() {
    let mut s = setup(TokenKind::Spl).await;
    s.open(10).await;
    let before: Escrow = s.fx.anchor_account(s.keys.escrow).await;
    let d = s.depositor.pubkey();
    let ix = caller::open_escrow(Which::Trusted, &s.keys, d, d, s.depositor_ta, 99);
    // `init` on an existing account is refused inside the system program (not a program error).
    let code = s.fx.send_err_code(&[ix], &[&s.depositor.insecure_clone()]).await;
    assert_eq!(code, None);
    assert_eq!(s.fx.anchor_account::<Escrow>(s.keys.escrow).await, before);
}

#[tokio::test]
async fn open_escrow_rejects_token_account_of_another_owner() {
    let mut s = setup(TokenKind::Spl).await;
    let (_victim, victim_ta) = s.fx.funded_wallet(s.mint, 500).await;
    let d = s.depositor.pubkey();
    let ix = caller::open_escrow(Which::Trusted, &s.keys, d, d, victim_ta, 10);
    s.fx.send_err(&[ix], &[&s.depositor.insecure_clone()], Anchor::ConstraintTokenOwner).await;
    assert_eq!(s.fx.balance(victim_ta).await, 500);
}

#[tokio::test]
async fn open_escrow_rejects_token_account_of_another_mint() {
    let mut s = setup(TokenKind::Spl).await;
    let other_mint = s.fx.create_mint(6, &[]).await;
    let other_ta = s.fx.create_token_account(other_mint, s.depositor.pubkey()).await;
    s.fx.mint_to(other_mint, other_ta, 50).await;
    let d = s.depositor.pubkey();
    let ix = caller::open_escrow(Which::Trusted, &s.keys, d, d, other_ta, 10);
    s.fx.send_err(&[ix], &[&s.depositor.insecure_clone()], Anchor::ConstraintTokenMint).await;
}

#[tokio::test]
async fn open_escrow_rejects_fake_token_program() {
    let mut s = setup(TokenKind::Spl).await;
    let mut keys = s.keys;
    keys.token_program = cinder_test_caller::ID; // an executable program that is not a token program
    let d = s.depositor.pubkey();
    let ix = caller::open_escrow(Which::Trusted, &keys, d, d, s.depositor_ta, 10);
    s.fx.send_err(&[ix], &[&s.depositor.insecure_clone()], Anchor::InvalidProgramId).await;
    s.open(100).await;
    let mut ix = sdk::close_escrow(&s.keys, d, d, None);
    ix.accounts.last_mut().unwrap().pubkey = cinder_test_caller::ID;
    s.fx.send_err(&[ix], &[&s.depositor.insecure_clone()], Anchor::InvalidProgramId).await;
}

// ---------------------------------------------------------------- rejections: release_escrow

#[tokio::test]
async fn release_escrow_rejects_random_signer_as_controller() {
    let mut s = setup(TokenKind::Spl).await;
    s.open(100).await;
    let (mallory, mallory_ta) = s.fx.funded_wallet(s.mint, 0).await;
    let mut keys = s.keys;
    keys.controller = mallory.pubkey();
    let ix = sdk::release_escrow(&keys, &[mallory_ta], vec![100]);
    s.fx.send_err(&[ix], &[&mallory], Anchor::ConstraintSeeds).await;
    assert_eq!(s.fx.balance(s.keys.vault).await, 100);
}

#[tokio::test]
async fn release_escrow_rejects_untrusted_program_pda() {
    let mut s = setup(TokenKind::Spl).await;
    s.open(100).await;
    let (_m, mallory_ta) = s.fx.funded_wallet(s.mint, 0).await;
    let ix = caller::release_escrow(Which::Rogue, &s.keys, &[mallory_ta], vec![100]);
    s.fx.send_err(&[ix], &[], Anchor::ConstraintSeeds).await;
    s.check_invariants(0).await;
}

#[tokio::test]
async fn release_escrow_rejects_more_than_the_balance() {
    let mut s = setup(TokenKind::Token2022).await;
    s.open(100).await;
    let (_a, a_ta) = s.fx.funded_wallet(s.mint, 0).await;
    let ix = caller::release_escrow(Which::Trusted, &s.keys, &[a_ta, a_ta], vec![60, 41]);
    s.fx.send_err(&[ix], &[], E::InsufficientEscrowBalance).await;
    s.check_invariants(0).await;
}

#[tokio::test]
async fn release_escrow_rejects_recipient_of_another_mint() {
    let mut s = setup(TokenKind::Spl).await;
    s.open(100).await;
    let other_mint = s.fx.create_mint(6, &[]).await;
    let other_ta = s.fx.create_token_account(other_mint, s.depositor.pubkey()).await;
    let ix = caller::release_escrow(Which::Trusted, &s.keys, &[other_ta], vec![10]);
    s.fx.send_err(&[ix], &[], E::InvalidRecipient).await;
}

#[tokio::test]
async fn release_escrow_rejects_amount_and_recipient_count_mismatch() {
    let mut s = setup(TokenKind::Spl).await;
    s.open(100).await;
    let (_a, a_ta) = s.fx.funded_wallet(s.mint, 0).await;
    let ix = caller::release_escrow(Which::Trusted, &s.keys, &[a_ta], vec![10, 10]);
    s.fx.send_err(&[ix], &[], E::RecipientCountMismatch).await;
    let ix = caller::release_escrow(Which::Trusted, &s.keys, &[a_ta; 9], vec![1; 9]);
    s.fx.send_err(&[ix], &[], E::TooManyRecipients).await;
}

#[tokio::test]
async fn release_escrow_rejects_vault_of_another_escrow() {
    let mut s = setup(TokenKind::Spl).await;
    s.open(100).await;
    // A second escrow of the same controller.
    let other = caller::escrow_keys(Which::Trusted, [8; 32], s.mint, TokenKind::Spl.id());
    let d = s.depositor.pubkey();
    let ix = caller::open_escrow(Which::Trusted, &other, d, d, s.depositor_ta, 50);
    s.fx.send_ok(&[ix], &[&s.depositor.insecure_clone()]).await;
    s.fx.watch(other.vault);
    let (_a, a_ta) = s.fx.funded_wallet(s.mint, 0).await;
    let mut crossed = s.keys;
    crossed.vault = other.vault;
    let ix = caller::release_escrow(Which::Trusted, &crossed, &[a_ta], vec![100]);
    s.fx.send_err(&[ix], &[], Anchor::ConstraintHasOne).await;
}

#[tokio::test]
async fn release_escrow_rejects_type_cosplay_and_foreign_owned_copies() {
    let mut s = setup(TokenKind::Spl).await;
    s.open(100).await;
    let (_a, a_ta) = s.fx.funded_wallet(s.mint, 0).await;
    // 1. An account owned by another program holding the escrow's exact bytes.
    let data = s.fx.account_data(s.keys.escrow).await.unwrap();
    let fake = Pubkey::new_unique();
    s.fx.set_raw_account(fake, cinder_test_caller::ID, data.clone());
    let mut k = s.keys;
    k.escrow = fake;
    s.fx.send_err(
        &[caller::release_escrow(Which::Trusted, &k, &[a_ta], vec![100])],
        &[],
        Anchor::AccountOwnedByWrongProgram,
    )
    .await;
    // 2. An escrow-program account of another type (a different discriminator) in its place.
    let mut cosplay = data;
    cosplay[..8].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    let fake2 = Pubkey::new_unique();
    s.fx.set_raw_account(fake2, cinder_escrow::ID, cosplay);
    k.escrow = fake2;
    s.fx.send_err(
        &[caller::release_escrow(Which::Trusted, &k, &[a_ta], vec![100])],
        &[],
        Anchor::AccountDiscriminatorMismatch,
    )
    .await;
    assert_eq!(s.fx.balance(s.keys.vault).await, 100);
}

// ---------------------------------------------------------------- rejections: refund / close

#[tokio::test]
async fn refund_escrow_rejects_token_account_not_owned_by_depositor() {
    let mut s = setup(TokenKind::Token2022).await;
    s.open(100).await;
    let (_m, mallory_ta) = s.fx.funded_wallet(s.mint, 0).await;
    let ix = caller::refund_escrow(Which::Trusted, &s.keys, mallory_ta);
    s.fx.send_err(&[ix], &[], Anchor::ConstraintTokenOwner).await;
    s.check_invariants(0).await;
}

#[tokio::test]
async fn refund_escrow_rejects_second_refund_and_release_after_refund() {
    let mut s = setup(TokenKind::Spl).await;
    s.open(100).await;
    s.fx.send_ok(&[caller::refund_escrow(Which::Trusted, &s.keys, s.depositor_ta)], &[]).await;
    s.fx.send_err(&[caller::refund_escrow(Which::Trusted, &s.keys, s.depositor_ta)], &[], E::NothingToRefund).await;
    let (_a, a_ta) = s.fx.funded_wallet(s.mint, 0).await;
    s.fx.send_err(
        &[caller::release_escrow(Which::Trusted, &s.keys, &[a_ta], vec![1])],
        &[],
        E::InsufficientEscrowBalance,
    )
    .await;
    s.check_invariants(0).await;
}

#[tokio::test]
async fn refund_escrow_rejects_non_controller() {
    let mut s = setup(TokenKind::Spl).await;
    s.open(100).await;
    let ix = caller::refund_escrow(Which::Rogue, &s.keys, s.depositor_ta);
    s.fx.send_err(&[ix], &[], Anchor::ConstraintSeeds).await;
}

#[tokio::test]
async fn close_escrow_rejects_non_empty_escrow() {
    let mut s = setup(TokenKind::Spl).await;
    s.open(100).await;
    let d = s.depositor.pubkey();
    s.fx.send_err(
        &[sdk::close_escrow(&s.keys, d, d, Some(s.depositor_ta))],
        &[&s.depositor.insecure_clone()],
        E::EscrowNotEmpty,
    )
    .await;
}

#[tokio::test]
async fn close_escrow_rejects_rent_destination_other_than_payer() {
    let mut s = setup(TokenKind::Spl).await;
    s.open(100).await;
    s.fx.send_ok(&[caller::refund_escrow(Which::Trusted, &s.keys, s.depositor_ta)], &[]).await;
    let mallory = s.fx.wallet(10_000_000).await;
    s.fx.watch(mallory.pubkey());
    let ix = sdk::close_escrow(&s.keys, mallory.pubkey(), mallory.pubkey(), None);
    s.fx.send_err(&[ix], &[&mallory], Anchor::ConstraintHasOne).await;
}
