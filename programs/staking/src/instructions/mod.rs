#![allow(ambiguous_glob_reexports)]
pub mod authority_actions;
pub mod deposit_stake;
pub mod init_pool;
pub mod owner_actions;
pub mod update_pool;
pub mod withdraw_stake;
pub mod withdraw_treasury;

pub use authority_actions::*;
pub use deposit_stake::*;
pub use init_pool::*;
pub use owner_actions::*;
pub use update_pool::*;
pub use withdraw_stake::*;
pub use withdraw_treasury::*;

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

/// Pays `amount` out of the pool's vault (the pool PDA signs) to the token account `to`. Zero is
/// a no-op. The one place stake, rewards and the treasury share leave a vault.
pub(crate) fn pay_from_vault<'info>(
    pool: &Account<'info, crate::state::StakePool>,
    vault: &InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    token_program: &Interface<'info, TokenInterface>,
    to: AccountInfo<'info>,
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let seeds: &[&[u8]] = &[crate::POOL_SEED, pool.creator.as_ref(), pool.mint.as_ref(), &[pool.bump]];
    token_interface::transfer_checked(
        CpiContext::new_with_signer(
            token_program.key(),
            TransferChecked {
                from: vault.to_account_info(),
                mint: mint.to_account_info(),
                to,
                authority: pool.to_account_info(),
            },
            &[seeds],
        ),
        amount,
        mint.decimals,
    )
}
