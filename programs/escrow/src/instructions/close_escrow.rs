use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, CloseAccount, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::{constants::*, error::EscrowError, events::EscrowClosed, state::Escrow};

#[derive(Accounts)]
pub struct CloseEscrow<'info> {
    /// Anyone may close an empty escrow: the rent can only go to the recorded payer. Tokens sent
    /// to the vault outside `open_escrow` (strays) go to `sweep_to`: any token account of the mint
    /// when the controller closes (it names the party its rules pay), else one the depositor owns.
    pub caller: Signer<'info>,
    #[account(
        mut,
        seeds = [ESCROW_SEED, escrow.controller.as_ref(), escrow.seed.as_ref()],
        bump = escrow.bump,
        has_one = rent_payer,
        has_one = mint,
        has_one = vault,
        has_one = token_program,
        close = rent_payer,
    )]
    pub escrow: Account<'info, Escrow>,
    #[account(mut)]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    pub mint: InterfaceAccount<'info, Mint>,
    /// The recorded rent payer; receives the rent of both accounts.
    /// CHECK: only receives lamports; its key is checked against `escrow.rent_payer`.
    #[account(mut)]
    pub rent_payer: UncheckedAccount<'info>,
    /// Needed only when the vault holds stray tokens (sent to it directly): they are swept here.
    /// May be the same account as another one of the caller's (`dup`): it is only written by the
    /// token program.
    #[account(mut, dup, token::mint = mint, token::token_program = token_program)]
    pub sweep_to: Option<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl CloseEscrow<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(self.escrow.balance() == 0, EscrowError::EscrowNotEmpty);
        if self.vault.amount > 0 {
            let to = self.sweep_to.as_ref().ok_or(EscrowError::DepositorTokenAccountRequired)?;
            // A stranger may only sweep strays back to the depositor; the controller (whose
            // program rules decide who is paid) may name any token account of the mint.
            if self.caller.key() != self.escrow.controller {
                require_keys_eq!(to.owner, self.escrow.depositor, EscrowError::InvalidSweepAccount);
            }
            require_keys_neq!(to.key(), self.vault.key(), EscrowError::InvalidSweepAccount);
        }
        Ok(())
    }
}

#[access_control(ctx.accounts.validate())]
pub fn handler(ctx: Context<CloseEscrow>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    let escrow = &a.escrow;
    let seeds: &[&[u8]] = &[ESCROW_SEED, escrow.controller.as_ref(), escrow.seed.as_ref(), &[escrow.bump]];
    let stray = a.vault.amount;
    if let (true, Some(sweep_to)) = (stray > 0, a.sweep_to.as_ref()) {
        token_interface::transfer_checked(
            CpiContext::new_with_signer(
                a.token_program.key(),
                TransferChecked {
                    from: a.vault.to_account_info(),
                    mint: a.mint.to_account_info(),
                    to: sweep_to.to_account_info(),
                    authority: escrow.to_account_info(),
                },
                &[seeds],
            ),
            stray,
            a.mint.decimals,
        )?;
    }
    let rent_returned = a
        .vault
        .to_account_info()
        .lamports()
        .checked_add(escrow.to_account_info().lamports())
        .ok_or(EscrowError::ArithmeticOverflow)?;
    token_interface::close_account(CpiContext::new_with_signer(
        a.token_program.key(),
        CloseAccount {
            account: a.vault.to_account_info(),
            destination: a.rent_payer.to_account_info(),
            authority: escrow.to_account_info(),
        },
        &[seeds],
    ))?;
    cinder_common::emit_event!(EscrowClosed {
        escrow: escrow.key(),
        rent_payer: escrow.rent_payer,
        rent_returned,
        stray_swept: stray,
        timestamp: now,
    });
    Ok(())
}
