//! Mint policy: which mints may be held in a Cinder escrow vault or stake vault.
//!
//! * SPL Token mints: always accepted.
//! * Token-2022 mints: accepted only if every extension on the mint is in [`ALLOWED_EXTENSIONS`]
//!   (an allow-list, so that an extension added to Token-2022 later is rejected until reviewed).
//!
//! Rejected, because each can break the "what was deposited can always be paid out" promise:
//! `TransferFeeConfig` (vault receives less than was recorded), `TransferHook` (an arbitrary program
//! can veto transfers out of the vault), `PermanentDelegate` (a third party can drain the vault),
//! `NonTransferable` (nothing can leave the vault), `DefaultAccountState` (vaults may be created
//! frozen), `ConfidentialTransferMint` / `ConfidentialTransferFeeConfig` / `ConfidentialMintBurn`
//! (balances the program cannot see), `Pausable` (a pause authority can stop all transfers), and any
//! type this list does not name.
//!
//! `MintCloseAuthority` is rejected too: at zero supply the issuer could close the mint and
//! re-create it at the same address with `PermanentDelegate`, then drain any vault of that address
//! (stake vaults and escrows outlive a zero-supply moment). Every deposit re-checks the policy as
//! well, so a mint whose account changed after a pool or escrow was created is refused then.
//!
//! Accepted: `InterestBearingConfig` and `ScaledUiAmount` (change only the UI amount, never the
//! raw amount the programs account in), `MetadataPointer`, `TokenMetadata`, `GroupPointer`,
//! `TokenGroup`, `GroupMemberPointer`, `TokenGroupMember` (descriptive data only).
//!
//! Known residual risk, documented rather than rejected: a mint's *freeze authority* (SPL Token or
//! Token-2022) can freeze a vault. Most regulated stablecoins have one, so refusing them would make
//! the protocol unusable; markets should be created only for mints whose freeze authority they trust.

use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::{
    self,
    extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions},
};

/// Token-2022 mint extensions a Cinder vault accepts.
pub const ALLOWED_EXTENSIONS: &[ExtensionType] = &[
    ExtensionType::InterestBearingConfig,
    ExtensionType::ScaledUiAmount,
    ExtensionType::MetadataPointer,
    ExtensionType::TokenMetadata,
    ExtensionType::GroupPointer,
    ExtensionType::TokenGroup,
    ExtensionType::GroupMemberPointer,
    ExtensionType::TokenGroupMember,
];

/// Why a mint was refused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MintPolicyViolation {
    /// The mint carries an extension that is not on the allow-list.
    Extension(ExtensionType),
    /// The account is not a mint of either token program, or its data does not parse.
    NotAMint,
}

/// Checks `mint` against the policy above.
pub fn check_mint(mint: &AccountInfo) -> core::result::Result<(), MintPolicyViolation> {
    if *mint.owner == anchor_spl::token::ID {
        return Ok(());
    }
    if *mint.owner != spl_token_2022::ID {
        return Err(MintPolicyViolation::NotAMint);
    }
    let data = mint.try_borrow_data().map_err(|_| MintPolicyViolation::NotAMint)?;
    let state =
        StateWithExtensions::<spl_token_2022::state::Mint>::unpack(&data).map_err(|_| MintPolicyViolation::NotAMint)?;
    let extensions = state.get_extension_types().map_err(|_| MintPolicyViolation::NotAMint)?;
    match extensions.into_iter().find(|e| !ALLOWED_EXTENSIONS.contains(e)) {
        Some(bad) => {
            msg!("mint policy: extension {:?} is not allowed", bad);
            Err(MintPolicyViolation::Extension(bad))
        }
        None => Ok(()),
    }
}
