//! # Cinder escrow
//!
//! One escrow account plus one vault (a token account owned by the escrow PDA) per escrow, holding a
//! single mint (SPL Token or Token-2022, see `cinder_common::mint_policy`).
//!
//! ```text
//!  open_escrow ──▶ Open(balance = deposited) ──release_escrow*──▶ …
//!                      │                         (balance decreases; never below 0)
//!                      └──refund_escrow──▶ balance 0 ──close_escrow──▶ closed (rent → rent_payer)
//! ```
//!
//! ## Authorities
//! * `depositor` signs `open_escrow` and funds it; it can never take the tokens back by itself.
//! * `controller` (recorded at open, signs it, so escrows cannot be squatted) is the only key that
//!   can `release_escrow` (to any token accounts of the mint, at most the balance) or
//!   `refund_escrow` (only to a token account owned by the depositor). In Cinder it is a PDA of the
//!   jobs or verification program, so only that program's rules move the money.
//! * `close_escrow` is permissionless once the balance is zero: the rent goes only to the recorded
//!   `rent_payer`, stray tokens only to the depositor.
//! * There is no admin.

use anchor_lang::prelude::*;

pub mod constants;
pub mod error;
pub mod events;
pub mod instructions;
pub mod state;

pub use constants::*;
pub use error::EscrowError;
pub use events::*;
use instructions::*;
pub use state::*;

declare_id!("BQjcHqsMcAqWurefJvJazUsUZxSVFveaMrDkDctFM8Tx");

#[program]
pub mod cinder_escrow {
    use super::*;

    /// Creates an escrow and its vault and moves `amount` from the depositor into the vault.
    pub fn open_escrow(ctx: Context<OpenEscrow>, args: OpenEscrowArgs) -> Result<()> {
        instructions::open_escrow::handler(ctx, args)
    }

    /// Controller pays `amounts[i]` to the i-th remaining account (a token account of the mint).
    pub fn release_escrow<'info>(ctx: Context<'info, ReleaseEscrow<'info>>, args: ReleaseEscrowArgs) -> Result<()> {
        instructions::release_escrow::handler(ctx, args)
    }

    /// Controller returns everything the escrow still holds to the depositor.
    pub fn refund_escrow(ctx: Context<RefundEscrow>) -> Result<()> {
        instructions::refund_escrow::handler(ctx)
    }

    /// Closes an empty escrow and its vault; rent goes back to the recorded payer.
    pub fn close_escrow(ctx: Context<CloseEscrow>) -> Result<()> {
        instructions::close_escrow::handler(ctx)
    }
}
