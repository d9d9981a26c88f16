//! CPIs into escrow and staking, signed by a program PDA (`signer_seed` + `authority_bump`): the
//! jobs authority here, the verification authority when the verification program reuses them.
use anchor_lang::prelude::*;

/// The accounts every escrow CPI of a job needs.
pub struct EscrowCtx<'info> {
    pub authority: AccountInfo<'info>,
    pub authority_bump: u8,
    /// The PDA's seed (`JOBS_AUTHORITY_SEED` or `VERIFICATION_AUTHORITY_SEED`).
    pub signer_seed: &'static [u8],
    pub escrow_program: AccountInfo<'info>,
    pub escrow: AccountInfo<'info>,
    pub vault: AccountInfo<'info>,
    pub mint: AccountInfo<'info>,
    pub token_program: AccountInfo<'info>,
}

impl<'info> EscrowCtx<'info> {
    /// A job escrow's context: the jobs authority PDA signs.
    pub fn for_job(
        jobs_authority_bump: u8,
        jobs_authority: &impl ToAccountInfo<'info>,
        escrow_program: &impl ToAccountInfo<'info>,
        escrow: &impl ToAccountInfo<'info>,
        vault: &impl ToAccountInfo<'info>,
        mint: &impl ToAccountInfo<'info>,
        token_program: &impl ToAccountInfo<'info>,
    ) -> Self {
        EscrowCtx {
            authority: jobs_authority.to_account_info(),
            authority_bump: jobs_authority_bump,
            signer_seed: crate::JOBS_AUTHORITY_SEED,
            escrow_program: escrow_program.to_account_info(),
            escrow: escrow.to_account_info(),
            vault: vault.to_account_info(),
            mint: mint.to_account_info(),
            token_program: token_program.to_account_info(),
        }
    }

    fn with_signer<R>(&self, f: impl FnOnce(&[&[&[u8]]]) -> R) -> R {
        f(&[&[self.signer_seed, &[self.authority_bump]]])
    }

    /// Pays `parts` (token account, amount); zero amounts are left out.
    pub fn release(&self, parts: &[(&AccountInfo<'info>, u64)]) -> Result<()> {
        let parts: Vec<_> = parts.iter().filter(|(_, a)| *a > 0).collect();
        if parts.is_empty() {
            return Ok(());
        }
        self.with_signer(|s| {
            cinder_escrow::cpi::release_escrow(
                CpiContext::new_with_signer(
                    self.escrow_program.key(),
                    cinder_escrow::cpi::accounts::ReleaseEscrow {
                        controller: self.authority.clone(),
                        escrow: self.escrow.clone(),
                        vault: self.vault.clone(),
                        mint: self.mint.clone(),
                        token_program: self.token_program.clone(),
                    },
                    s,
                )
                .with_remaining_accounts(parts.iter().map(|(a, _)| (*a).clone()).collect()),
                cinder_escrow::instructions::ReleaseEscrowArgs { amounts: parts.iter().map(|(_, a)| *a).collect() },
            )
        })
    }

    pub fn refund(&self, depositor_token: &AccountInfo<'info>) -> Result<()> {
        self.with_signer(|s| {
            cinder_escrow::cpi::refund_escrow(CpiContext::new_with_signer(
                self.escrow_program.key(),
                cinder_escrow::cpi::accounts::RefundEscrow {
                    controller: self.authority.clone(),
                    escrow: self.escrow.clone(),
                    vault: self.vault.clone(),
                    mint: self.mint.clone(),
                    depositor_token: depositor_token.clone(),
                    token_program: self.token_program.clone(),
                },
                s,
            ))
        })
    }

    /// Closes the (empty) escrow; its rent goes to the recorded payer and any stray tokens (sent to
    /// the vault directly) to `sweep_to`, the party this path pays. Returns the lamports returned.
    pub fn close(&self, rent_payer: &AccountInfo<'info>, sweep_to: &AccountInfo<'info>) -> Result<u64> {
        let rent = self.escrow.lamports() + self.vault.lamports();
        self.with_signer(|s| {
            cinder_escrow::cpi::close_escrow(CpiContext::new_with_signer(
                self.escrow_program.key(),
                cinder_escrow::cpi::accounts::CloseEscrow {
                    caller: self.authority.clone(),
                    escrow: self.escrow.clone(),
                    vault: self.vault.clone(),
                    mint: self.mint.clone(),
                    rent_payer: rent_payer.clone(),
                    sweep_to: Some(sweep_to.clone()),
                    token_program: self.token_program.clone(),
                },
                s,
            ))
        })?;
        Ok(rent)
    }
}

/// The accounts every staking CPI for a provider needs.
pub struct StakeCtx<'info> {
    pub authority: AccountInfo<'info>,
    pub authority_bump: u8,
    /// The PDA's seed (`JOBS_AUTHORITY_SEED` or `VERIFICATION_AUTHORITY_SEED`).
    pub signer_seed: &'static [u8],
    pub staking_program: AccountInfo<'info>,
    pub pool: AccountInfo<'info>,
    pub stake: AccountInfo<'info>,
}

impl<'info> StakeCtx<'info> {
    fn accounts(&self) -> cinder_staking::cpi::accounts::AuthorityStake<'info> {
        cinder_staking::cpi::accounts::AuthorityStake {
            authority: self.authority.clone(),
            pool: self.pool.clone(),
            stake: self.stake.clone(),
        }
    }

    pub fn lock(&self, amount: u64) -> Result<()> {
        let seeds: &[&[u8]] = &[self.signer_seed, &[self.authority_bump]];
        cinder_staking::cpi::lock_stake(
            CpiContext::new_with_signer(self.staking_program.key(), self.accounts(), &[seeds]),
            amount,
        )
    }

    pub fn unlock(&self, amount: u64) -> Result<()> {
        let seeds: &[&[u8]] = &[self.signer_seed, &[self.authority_bump]];
        cinder_staking::cpi::unlock_stake(
            CpiContext::new_with_signer(self.staking_program.key(), self.accounts(), &[seeds]),
            amount,
        )
    }

    /// Slashes `amount` (saturating) with `reward_bps` to `reward_recipient`; returns
    /// (slashed, reward, to_treasury) read back from the stake account and the split rule.
    /// Without a reward (`None`, `reward_bps` must be 0) everything accrues to the treasury.
    pub fn slash(
        &self,
        amount: u64,
        reward_bps: u16,
        vault: &AccountInfo<'info>,
        mint: &AccountInfo<'info>,
        reward_recipient: Option<&AccountInfo<'info>>,
        token_program: &AccountInfo<'info>,
    ) -> Result<(u64, u64, u64)> {
        let before = stake_slashed_total(&self.stake)?;
        let seeds: &[&[u8]] = &[self.signer_seed, &[self.authority_bump]];
        let signer = [seeds];
        let ctx = CpiContext::new_with_signer(
            self.staking_program.key(),
            cinder_staking::cpi::accounts::SlashStake {
                authority: self.authority.clone(),
                pool: self.pool.clone(),
                stake: self.stake.clone(),
                vault: vault.clone(),
                mint: mint.clone(),
                reward_recipient: reward_recipient.cloned(),
                token_program: token_program.clone(),
            },
            &signer,
        );
        // The absent optional account travels as the callee's program id.
        let ctx = match reward_recipient {
            Some(_) => ctx,
            None => ctx.with_remaining_accounts(vec![self.staking_program.clone()]),
        };
        cinder_staking::cpi::slash_stake(ctx, cinder_staking::instructions::SlashStakeArgs { amount, reward_bps })?;
        let slashed = stake_slashed_total(&self.stake)? - before;
        let split = cinder_staking::split_slash(slashed, reward_bps)?;
        Ok((slashed, split.reward, split.to_treasury))
    }
}

fn stake_slashed_total(stake: &AccountInfo) -> Result<u64> {
    let data = stake.try_borrow_data()?;
    let s = cinder_staking::ProviderStake::try_deserialize(&mut &data[..])?;
    Ok(s.total_slashed)
}
