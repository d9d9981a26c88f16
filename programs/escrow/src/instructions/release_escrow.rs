use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::{constants::*, error::EscrowError, events::EscrowReleased, state::Escrow};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ReleaseEscrowArgs {
    /// One amount per recipient token account passed in `remaining_accounts`, same order.
    pub amounts: Vec<u64>,
}

#[derive(Accounts)]
pub struct ReleaseEscrow<'info> {
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
    pub token_program: Interface<'info, TokenInterface>,
    // remaining_accounts: the recipient token accounts (writable), one per amount.
}

impl ReleaseEscrow<'_> {
    pub fn validate(&self, args: &ReleaseEscrowArgs, recipients: usize) -> Result<()> {
        require!(!args.amounts.is_empty(), EscrowError::RecipientCountMismatch);
        require!(args.amounts.len() <= MAX_RECIPIENTS as usize, EscrowError::TooManyRecipients);
        require!(args.amounts.len() == recipients, EscrowError::RecipientCountMismatch);
        require!(args.amounts.iter().all(|a| *a > 0), EscrowError::ZeroAmount);
        Ok(())
    }
}

#[access_control(ctx.accounts.validate(&args, ctx.remaining_accounts.len()))]
pub fn handler<'info>(ctx: Context<'info, ReleaseEscrow<'info>>, args: ReleaseEscrowArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let total =
        args.amounts.iter().try_fold(0u64, |acc, a| acc.checked_add(*a)).ok_or(EscrowError::ArithmeticOverflow)?;
    ctx.accounts.escrow.record_release(total)?;

    let escrow = &ctx.accounts.escrow;
    let controller = escrow.controller;
    let seeds: &[&[u8]] = &[ESCROW_SEED, controller.as_ref(), escrow.seed.as_ref(), &[escrow.bump]];
    let mut recipients = Vec::with_capacity(args.amounts.len());
    for (info, amount) in ctx.remaining_accounts.iter().zip(&args.amounts) {
        // The recipient must be a live token account of this mint under this token program.
        require_keys_eq!(*info.owner, escrow.token_program, EscrowError::InvalidRecipient);
        require_keys_neq!(info.key(), escrow.vault, EscrowError::InvalidRecipient);
        let account =
            InterfaceAccount::<TokenAccount>::try_from(info).map_err(|_| error!(EscrowError::InvalidRecipient))?;
        require_keys_eq!(account.mint, escrow.mint, EscrowError::InvalidRecipient);
        token_interface::transfer_checked(
            CpiContext::new_with_signer(
                ctx.accounts.token_program.key(),
                TransferChecked {
                    from: ctx.accounts.vault.to_account_info(),
                    mint: ctx.accounts.mint.to_account_info(),
                    to: info.clone(),
                    authority: ctx.accounts.escrow.to_account_info(),
                },
                &[seeds],
            ),
            *amount,
            ctx.accounts.mint.decimals,
        )?;
        recipients.push(info.key());
    }

    let escrow = &ctx.accounts.escrow;
    cinder_common::emit_event!(EscrowReleased {
        escrow: escrow.key(),
        controller,
        recipients,
        amounts: args.amounts,
        remaining: escrow.balance(),
        timestamp: now,
    });
    Ok(())
}
