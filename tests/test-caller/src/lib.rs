//! Test-only program (never deployed): stands in for the jobs/verification programs so the
//! integration tests can exercise escrow and staking through real CPIs signed by a program PDA.
//!
//! Two PDAs of this program can sign: `[b"trusted"]` (listed as a pool authority and used as an
//! escrow controller) and `[b"rogue"]` (never trusted), selected by the `signer` argument.
use anchor_lang::prelude::*;
use cinder_escrow::program::CinderEscrow;
use cinder_staking::program::CinderStaking;

declare_id!("8bSq2rvu82ecQCJ2R6sx37PWSuXK1FKgYmiuUkA8ZY1Q");

pub const TRUSTED_SEED: &[u8] = b"trusted";
pub const ROGUE_SEED: &[u8] = b"rogue";

/// Which of this program's PDAs signs the CPI.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Trusted,
    Rogue,
}

impl Which {
    pub fn seed(self) -> &'static [u8] {
        match self {
            Which::Trusted => TRUSTED_SEED,
            Which::Rogue => ROGUE_SEED,
        }
    }
    pub fn address(self) -> Pubkey {
        Pubkey::find_program_address(&[self.seed()], &crate::ID).0
    }
}

fn with_seeds<R>(which: Which, f: impl FnOnce(&[&[&[u8]]]) -> R) -> R {
    let (_, bump) = Pubkey::find_program_address(&[which.seed()], &crate::ID);
    f(&[&[which.seed(), &[bump]]])
}

#[program]
pub mod cinder_test_caller {
    use super::*;

    pub fn open_escrow(ctx: Context<OpenEscrowCpi>, which: Which, seed: [u8; 32], amount: u64) -> Result<()> {
        let a = &ctx.accounts;
        with_seeds(which, |s| {
            cinder_escrow::cpi::open_escrow(
                CpiContext::new_with_signer(
                    a.escrow_program.key(),
                    cinder_escrow::cpi::accounts::OpenEscrow {
                        rent_payer: a.rent_payer.to_account_info(),
                        depositor: a.depositor.to_account_info(),
                        controller: a.controller.to_account_info(),
                        mint: a.mint.to_account_info(),
                        depositor_token: a.depositor_token.to_account_info(),
                        escrow: a.escrow.to_account_info(),
                        vault: a.vault.to_account_info(),
                        token_program: a.token_program.to_account_info(),
                        system_program: a.system_program.to_account_info(),
                    },
                    s,
                ),
                cinder_escrow::instructions::OpenEscrowArgs { seed, amount },
            )
        })
    }

    pub fn release_escrow<'info>(ctx: Context<'info, EscrowCpi<'info>>, which: Which, amounts: Vec<u64>) -> Result<()> {
        let a = &ctx.accounts;
        with_seeds(which, |s| {
            cinder_escrow::cpi::release_escrow(
                CpiContext::new_with_signer(
                    a.escrow_program.key(),
                    cinder_escrow::cpi::accounts::ReleaseEscrow {
                        controller: a.controller.to_account_info(),
                        escrow: a.escrow.to_account_info(),
                        vault: a.vault.to_account_info(),
                        mint: a.mint.to_account_info(),
                        token_program: a.token_program.to_account_info(),
                    },
                    s,
                )
                .with_remaining_accounts(ctx.remaining_accounts.to_vec()),
                cinder_escrow::instructions::ReleaseEscrowArgs { amounts },
            )
        })
    }

    pub fn refund_escrow<'info>(ctx: Context<'info, EscrowCpi<'info>>, which: Which) -> Result<()> {
        let a = &ctx.accounts;
        let depositor_token = ctx.remaining_accounts.first().ok_or(ErrorCode::AccountNotEnoughKeys)?;
        with_seeds(which, |s| {
            cinder_escrow::cpi::refund_escrow(CpiContext::new_with_signer(
                a.escrow_program.key(),
                cinder_escrow::cpi::accounts::RefundEscrow {
                    controller: a.controller.to_account_info(),
                    escrow: a.escrow.to_account_info(),
                    vault: a.vault.to_account_info(),
                    mint: a.mint.to_account_info(),
                    depositor_token: depositor_token.clone(),
                    token_program: a.token_program.to_account_info(),
                },
                s,
            ))
        })
    }

    pub fn lock_stake(ctx: Context<StakeCpi>, which: Which, amount: u64) -> Result<()> {
        let a = &ctx.accounts;
        with_seeds(which, |s| {
            cinder_staking::cpi::lock_stake(
                CpiContext::new_with_signer(a.staking_program.key(), a.accounts(), s),
                amount,
            )
        })
    }

    pub fn unlock_stake(ctx: Context<StakeCpi>, which: Which, amount: u64) -> Result<()> {
        let a = &ctx.accounts;
        with_seeds(which, |s| {
            cinder_staking::cpi::unlock_stake(
                CpiContext::new_with_signer(a.staking_program.key(), a.accounts(), s),
                amount,
            )
        })
    }

    pub fn slash_stake(ctx: Context<SlashCpi>, which: Which, amount: u64, reward_bps: u16) -> Result<()> {
        let a = &ctx.accounts;
        with_seeds(which, |s| {
            cinder_staking::cpi::slash_stake(
                CpiContext::new_with_signer(
                    a.staking_program.key(),
                    cinder_staking::cpi::accounts::SlashStake {
                        authority: a.authority.to_account_info(),
                        pool: a.pool.to_account_info(),
                        stake: a.stake.to_account_info(),
                        vault: a.vault.to_account_info(),
                        mint: a.mint.to_account_info(),
                        reward_recipient: a.reward_recipient.as_ref().map(|r| r.to_account_info()),
                        token_program: a.token_program.to_account_info(),
                    },
                    s,
                )
                // An absent optional account is passed as the callee's program id.
                .with_remaining_accounts(vec![a.staking_program.to_account_info()]),
                cinder_staking::instructions::SlashStakeArgs { amount, reward_bps },
            )
        })
    }
}

#[derive(Accounts)]
pub struct OpenEscrowCpi<'info> {
    /// CHECK: passed through to the escrow program, which checks it.
    #[account(mut, signer)]
    pub rent_payer: UncheckedAccount<'info>,
    /// CHECK: passed through.
    #[account(signer)]
    pub depositor: UncheckedAccount<'info>,
    /// CHECK: one of this program's PDAs; signs by seeds.
    pub controller: UncheckedAccount<'info>,
    /// CHECK: passed through.
    pub mint: UncheckedAccount<'info>,
    /// CHECK: passed through.
    #[account(mut)]
    pub depositor_token: UncheckedAccount<'info>,
    /// CHECK: passed through.
    #[account(mut)]
    pub escrow: UncheckedAccount<'info>,
    /// CHECK: passed through.
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: passed through.
    pub token_program: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
    pub escrow_program: Program<'info, CinderEscrow>,
}

#[derive(Accounts)]
pub struct EscrowCpi<'info> {
    /// CHECK: one of this program's PDAs; signs by seeds.
    pub controller: UncheckedAccount<'info>,
    /// CHECK: passed through.
    #[account(mut)]
    pub escrow: UncheckedAccount<'info>,
    /// CHECK: passed through.
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: passed through.
    pub mint: UncheckedAccount<'info>,
    /// CHECK: passed through.
    pub token_program: UncheckedAccount<'info>,
    pub escrow_program: Program<'info, CinderEscrow>,
}

#[derive(Accounts)]
pub struct StakeCpi<'info> {
    /// CHECK: one of this program's PDAs; signs by seeds.
    pub authority: UncheckedAccount<'info>,
    /// CHECK: passed through.
    #[account(mut)]
    pub pool: UncheckedAccount<'info>,
    /// CHECK: passed through.
    #[account(mut)]
    pub stake: UncheckedAccount<'info>,
    pub staking_program: Program<'info, CinderStaking>,
}

impl<'info> StakeCpi<'info> {
    fn accounts(&self) -> cinder_staking::cpi::accounts::AuthorityStake<'info> {
        cinder_staking::cpi::accounts::AuthorityStake {
            authority: self.authority.to_account_info(),
            pool: self.pool.to_account_info(),
            stake: self.stake.to_account_info(),
        }
    }
}

#[derive(Accounts)]
pub struct SlashCpi<'info> {
    /// CHECK: one of this program's PDAs; signs by seeds.
    pub authority: UncheckedAccount<'info>,
    /// CHECK: passed through.
    #[account(mut)]
    pub pool: UncheckedAccount<'info>,
    /// CHECK: passed through.
    #[account(mut)]
    pub stake: UncheckedAccount<'info>,
    /// CHECK: passed through.
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: passed through.
    pub mint: UncheckedAccount<'info>,
    /// CHECK: passed through.
    #[account(mut)]
    pub reward_recipient: Option<UncheckedAccount<'info>>,
    /// CHECK: passed through.
    pub token_program: UncheckedAccount<'info>,
    pub staking_program: Program<'info, CinderStaking>,
}
