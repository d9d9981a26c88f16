//! Escrow program: PDAs and instruction builders.
use anchor_lang::prelude::Pubkey;
use cinder_escrow::{accounts as acc, instruction as ix, ESCROW_SEED, ID, VAULT_SEED};

use crate::{anchor_ix, AccountMeta, Instruction};

pub fn escrow_pda(controller: &Pubkey, seed: &[u8; 32]) -> Pubkey {
    Pubkey::find_program_address(&[ESCROW_SEED, controller.as_ref(), seed], &ID).0
}

pub fn vault_pda(escrow: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[VAULT_SEED, escrow.as_ref()], &ID).0
}

/// Accounts of one escrow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EscrowKeys {
    pub controller: Pubkey,
    pub seed: [u8; 32],
    pub escrow: Pubkey,
    pub vault: Pubkey,
    pub mint: Pubkey,
    pub token_program: Pubkey,
}

impl EscrowKeys {
    pub fn new(controller: Pubkey, seed: [u8; 32], mint: Pubkey, token_program: Pubkey) -> Self {
        let escrow = escrow_pda(&controller, &seed);
        EscrowKeys { controller, seed, escrow, vault: vault_pda(&escrow), mint, token_program }
    }
}

pub fn open_escrow(
    k: &EscrowKeys,
    rent_payer: Pubkey,
    depositor: Pubkey,
    depositor_token: Pubkey,
    amount: u64,
) -> Instruction {
    anchor_ix(
        ID,
        acc::OpenEscrow {
            rent_payer,
            depositor,
            controller: k.controller,
            mint: k.mint,
            depositor_token,
            escrow: k.escrow,
            vault: k.vault,
            token_program: k.token_program,
            system_program: anchor_lang::system_program::ID,
        },
        ix::OpenEscrow { args: cinder_escrow::instructions::OpenEscrowArgs { seed: k.seed, amount } },
    )
}

/// `recipients[i]` receives `amounts[i]`.
pub fn release_escrow(k: &EscrowKeys, recipients: &[Pubkey], amounts: Vec<u64>) -> Instruction {
    let mut i = anchor_ix(
        ID,
        acc::ReleaseEscrow {
            controller: k.controller,
            escrow: k.escrow,
            vault: k.vault,
            mint: k.mint,
            token_program: k.token_program,
        },
        ix::ReleaseEscrow { args: cinder_escrow::instructions::ReleaseEscrowArgs { amounts } },
    );
    i.accounts.extend(recipients.iter().map(|r| AccountMeta::new(*r, false)));
    i
}

pub fn refund_escrow(k: &EscrowKeys, depositor_token: Pubkey) -> Instruction {
    anchor_ix(
        ID,
        acc::RefundEscrow {
            controller: k.controller,
            escrow: k.escrow,
            vault: k.vault,
            mint: k.mint,
            depositor_token,
            token_program: k.token_program,
        },
        ix::RefundEscrow {},
    )
}

pub fn close_escrow(k: &EscrowKeys, caller: Pubkey, rent_payer: Pubkey, sweep_to: Option<Pubkey>) -> Instruction {
    anchor_ix(
        ID,
        acc::CloseEscrow {
            caller,
            escrow: k.escrow,
            vault: k.vault,
            mint: k.mint,
            rent_payer,
            sweep_to,
            token_program: k.token_program,
        },
        ix::CloseEscrow {},
    )
}
