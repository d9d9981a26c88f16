use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::{constants::*, events::EscrowRefunded, state::Escrow};

#[derive(Accounts)]
pub struct RefundEscrow<'info> {
    /// The escrow's controller. Signs.
    pub controller: Signer<'info>,
    #[account(
        mut,
        seeds = [ESCROW_SEED, controller.key().as_ref(), escrow.seed.as_ref()],
        bump = escrow.bump,
        has_one = controller,
        has_one = mint,
        has_one = vault,
        has_one = token_program,
    )]
    pub escrow: Account<'info, Escrow>,
    #[account(mut)]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    pub mint: InterfaceAccount<'info, Mint>,
    /// A token account owned by the recorded depositor: refunds can go nowhere else.
    #[account(
        mut,
        token::mint = mint,
        token::authority = escrow.depositor,
        token::token_program = token_program,
    )]
    pub depositor_token: InterfaceAccount<'info, TokenAccount>,
    pub token_program: Interface<'info, TokenInterface>,
}

/// Returns everything the escrow still holds to the depositor.
pub fn handler(ctx: Context<RefundEscrow>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let amount = ctx.accounts.escrow.record_refund()?;
    let escrow = &ctx.accounts.escrow;
    let seeds: &[&[u8]] = &[ESCROW_SEED, escrow.controller.as_ref(), escrow.seed.as_ref(), &[escrow.bump]];
    token_interface::transfer_checked(
        CpiContext::new_with_signer(
            ctx.accounts.token_program.key(),
            TransferChecked {
                from: ctx.accounts.vault.to_account_info(),
                mint: ctx.accounts.mint.to_account_info(),
                to: ctx.accounts.depositor_token.to_account_info(),
                authority: ctx.accounts.escrow.to_account_info(),
            },
            &[seeds],
        ),
        amount,
        ctx.accounts.mint.decimals,
    )?;
    cinder_common::emit_event!(EscrowRefunded {
        escrow: escrow.key(),
        controller: escrow.controller,
        depositor_token: ctx.accounts.depositor_token.key(),
        amount,
        timestamp: now,
    });
    Ok(())
}
