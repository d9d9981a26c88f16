use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::{constants::*, error::EscrowError, events::EscrowOpened, state::Escrow};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct OpenEscrowArgs {
    /// Controller-chosen id of this escrow (for example the job's key); part of the PDA seeds.
    pub seed: [u8; 32],
    /// Tokens (raw units) moved from the depositor into the vault.
    pub amount: u64,
}

#[derive(Accounts)]
#[instruction(args: OpenEscrowArgs)]
pub struct OpenEscrow<'info> {
    /// Pays the rent of the escrow and vault accounts; gets it back on close. Signs.
    #[account(mut)]
    pub rent_payer: Signer<'info>,
    /// Owner of the tokens being escrowed; refunds go back to it. Signs.
    pub depositor: Signer<'info>,
    /// The key that alone may release or refund. Signs, so nobody can open (squat) an escrow in a
    /// controller's name; in practice a PDA of the jobs or verification program signing by CPI.
    pub controller: Signer<'info>,
    #[account(mint::token_program = token_program)]
    pub mint: InterfaceAccount<'info, Mint>,
    /// The depositor's token account the tokens come from.
    #[account(
        mut,
        token::mint = mint,
        token::authority = depositor,
        token::token_program = token_program,
    )]
    pub depositor_token: InterfaceAccount<'info, TokenAccount>,
    #[account(
        init,
        payer = rent_payer,
        space = 8 + Escrow::INIT_SPACE,
        seeds = [ESCROW_SEED, controller.key().as_ref(), args.seed.as_ref()],
        bump,
    )]
    pub escrow: Account<'info, Escrow>,
    /// The vault: a token account owned by the escrow PDA.
    #[account(
        init,
        payer = rent_payer,
        seeds = [VAULT_SEED, escrow.key().as_ref()],
        bump,
        token::mint = mint,
        token::authority = escrow,
        token::token_program = token_program,
    )]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl OpenEscrow<'_> {
    pub fn validate(&self, args: &OpenEscrowArgs) -> Result<()> {
        require!(args.amount > 0, EscrowError::ZeroAmount);
        cinder_common::mint_policy::check_mint(&self.mint.to_account_info()).map_err(|v| match v {
            cinder_common::mint_policy::MintPolicyViolation::Extension(_) => {
                error!(EscrowError::UnsupportedMintExtension)
            }
            cinder_common::mint_policy::MintPolicyViolation::NotAMint => {
                error!(EscrowError::InvalidMint)
            }
        })
    }
}

#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<OpenEscrow>, args: OpenEscrowArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    token_interface::transfer_checked(
        CpiContext::new(
            a.token_program.key(),
            TransferChecked {
                from: a.depositor_token.to_account_info(),
                mint: a.mint.to_account_info(),
                to: a.vault.to_account_info(),
                authority: a.depositor.to_account_info(),
            },
        ),
        args.amount,
        a.mint.decimals,
    )?;

    let escrow = &mut ctx.accounts.escrow;
    escrow.set_inner(Escrow {
        controller: ctx.accounts.controller.key(),
        depositor: ctx.accounts.depositor.key(),
        rent_payer: ctx.accounts.rent_payer.key(),
        mint: ctx.accounts.mint.key(),
        token_program: ctx.accounts.token_program.key(),
        vault: ctx.accounts.vault.key(),
        seed: args.seed,
        deposited: args.amount,
        released: 0,
        refunded: 0,
        opened_at: now,
        bump: ctx.bumps.escrow,
        vault_bump: ctx.bumps.vault,
        _reserved: [0; 32],
    });
    escrow.invariant()?;

    cinder_common::emit_event!(EscrowOpened {
        escrow: escrow.key(),
        controller: escrow.controller,
        depositor: escrow.depositor,
        rent_payer: escrow.rent_payer,
        mint: escrow.mint,
        seed: args.seed,
        amount: args.amount,
        timestamp: now,
    });
    Ok(())
}
