//! Pool and stake accounts, with their transitions as pure methods (unit-tested without a VM).
//!
//! Per stake account: `active` (includes `locked`), `locked <= active`, `pending` (requested for
//! withdrawal, still slashable, not lockable). Per pool: `total_active = Σ active`,
//! `total_pending = Σ pending`, `total_locked = Σ locked`, and the vault holds
//! `total_active + total_pending + treasury_accrued` (tokens sent to the vault directly are not
//! owed to anyone).
use anchor_lang::prelude::*;

use crate::{constants::*, error::StakingError};

#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct StakePool {
    /// Who created the pool (part of the PDA seeds; never changes).
    pub creator: Pubkey,
    /// Can change min stake, cooldown, reward cap, treasury and admin. Can never move stake.
    pub admin: Pubkey,
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub vault: Pubkey,
    /// Token account that receives the non-reward part of every slash.
    pub treasury: Pubkey,
    pub min_stake: u64,
    pub cooldown_secs: i64,
    /// Cap on the share of a slash the slashing program may direct to a reward recipient.
    pub max_reward_bps: u16,
    /// Program PDAs allowed to lock, unlock and slash (fixed at init).
    pub authorities: [Pubkey; MAX_AUTHORITIES as usize],
    pub authority_count: u8,
    pub total_active: u64,
    pub total_pending: u64,
    pub total_locked: u64,
    pub total_slashed: u64,
    pub staker_count: u64,
    pub bump: u8,
    pub vault_bump: u8,
    /// The treasury's part of slashes, kept in the vault until the admin withdraws it to
    /// `treasury`: a slash never depends on a token account an admin could close or change.
    pub treasury_accrued: u64,
    pub _reserved: [u8; 56],
}

#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct ProviderStake {
    pub pool: Pubkey,
    pub owner: Pubkey,
    /// Staked and not requested for withdrawal; includes `locked`.
    pub active: u64,
    /// Collateral held for jobs in progress (part of `active`).
    pub locked: u64,
    /// Requested for withdrawal; still slashable until withdrawn.
    pub pending: u64,
    /// When `pending` can be withdrawn (inclusive).
    pub unlock_at: i64,
    pub total_deposited: u64,
    pub total_withdrawn: u64,
    pub total_slashed: u64,
    pub bump: u8,
    /// Last slot in which the owner raised `active` (a deposit or a cancelled unstake). A quorum
    /// draw ignores a stake raised at or after its randomness slot: stake added once the draw's
    /// randomness is public cannot buy a seat.
    pub raised_slot: u64,
    pub _reserved: [u8; 24],
}

/// How one slash was split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlashOutcome {
    pub slashed: u64,
    pub reward: u64,
    pub to_treasury: u64,
}

fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b).ok_or_else(|| error!(StakingError::ArithmeticOverflow))
}
fn sub(a: u64, b: u64) -> Result<u64> {
    a.checked_sub(b).ok_or_else(|| error!(StakingError::ArithmeticOverflow))
}

/// Reward part of a slash: `floor(slashed * reward_bps / 10_000)`, computed in u128. The treasury
/// receives the remainder, so the two parts always sum to `slashed` and rounding favours the treasury.
pub fn split_slash(slashed: u64, reward_bps: u16) -> Result<SlashOutcome> {
    require!(reward_bps as u64 <= BPS_DENOMINATOR, StakingError::RewardBpsTooHigh);
    let reward = (slashed as u128 * reward_bps as u128 / BPS_DENOMINATOR as u128) as u64;
    Ok(SlashOutcome { slashed, reward, to_treasury: slashed - reward })
}

impl StakePool {
    pub fn is_authority(&self, key: &Pubkey) -> bool {
        self.authorities[..self.authority_count as usize].contains(key)
    }

    pub fn validate_params(min_stake: u64, cooldown_secs: i64, max_reward_bps: u16) -> Result<()> {
        let _ = min_stake;
        require!((0..=MAX_COOLDOWN_SECS).contains(&cooldown_secs), StakingError::InvalidCooldown);
        require!(max_reward_bps <= MAX_REWARD_BPS_CAP, StakingError::RewardBpsTooHigh);
        Ok(())
    }

    pub fn invariant(&self) -> Result<()> {
        require!(self.total_locked <= self.total_active, StakingError::InsufficientLockedStake);
        require!(self.authority_count <= MAX_AUTHORITIES, StakingError::InvalidAuthorities);
        Ok(())
    }
}

impl ProviderStake {
    /// Stake that can be locked or requested for withdrawal.
    pub fn free(&self) -> u64 {
        self.active - self.locked
    }

    pub fn deposit(&mut self, pool: &mut StakePool, amount: u64) -> Result<()> {
        require!(amount > 0, StakingError::ZeroAmount);
        let active = add(self.active, amount)?;
        require!(active >= pool.min_stake, StakingError::BelowMinimumStake);
        self.active = active;
        self.total_deposited = add(self.total_deposited, amount)?;
        pool.total_active = add(pool.total_active, amount)?;
        self.invariant()
    }

    /// Moves `amount` of free stake to pending. The unlock time becomes
    /// `max(existing unlock time, now + cooldown)`: a new request never shortens a cooldown.
    pub fn request_unstake(&mut self, pool: &mut StakePool, amount: u64, now: i64) -> Result<()> {
        require!(amount > 0, StakingError::ZeroAmount);
        require!(amount <= self.free(), StakingError::InsufficientFreeStake);
        let active = self.active - amount;
        require!(active == 0 || active >= pool.min_stake, StakingError::BelowMinimumStake);
        self.active = active;
        self.pending = add(self.pending, amount)?;
        let unlock = now.checked_add(pool.cooldown_secs).ok_or(StakingError::ArithmeticOverflow)?;
        self.unlock_at = self.unlock_at.max(unlock);
        pool.total_active = sub(pool.total_active, amount)?;
        pool.total_pending = add(pool.total_pending, amount)?;
        self.invariant()
    }

    /// Returns all pending stake to active. Returns the amount.
    pub fn cancel_unstake(&mut self, pool: &mut StakePool) -> Result<u64> {
        let amount = self.pending;
        require!(amount > 0, StakingError::NoPendingWithdrawal);
        self.pending = 0;
        self.unlock_at = 0;
        self.active = add(self.active, amount)?;
        pool.total_pending = sub(pool.total_pending, amount)?;
        pool.total_active = add(pool.total_active, amount)?;
        self.invariant()?;
        Ok(amount)
    }

    /// Takes all pending stake out, if `now >= unlock_at` (the boundary second is allowed).
    pub fn withdraw(&mut self, pool: &mut StakePool, now: i64) -> Result<u64> {
        let amount = self.pending;
        require!(amount > 0, StakingError::NoPendingWithdrawal);
        require!(now >= self.unlock_at, StakingError::CooldownNotElapsed);
        self.pending = 0;
        self.unlock_at = 0;
        self.total_withdrawn = add(self.total_withdrawn, amount)?;
        pool.total_pending = sub(pool.total_pending, amount)?;
        self.invariant()?;
        Ok(amount)
    }

    pub fn lock(&mut self, pool: &mut StakePool, amount: u64) -> Result<()> {
        require!(amount > 0, StakingError::ZeroAmount);
        require!(amount <= self.free(), StakingError::InsufficientFreeStake);
        self.locked += amount;
        pool.total_locked = add(pool.total_locked, amount)?;
        self.invariant()
    }

    pub fn unlock(&mut self, pool: &mut StakePool, amount: u64) -> Result<()> {
        require!(amount > 0, StakingError::ZeroAmount);
        require!(amount <= self.locked, StakingError::InsufficientLockedStake);
        self.locked -= amount;
        pool.total_locked = sub(pool.total_locked, amount)?;
        self.invariant()
    }

    /// Slashes up to `amount`: the same amount of lock is released, then tokens are taken from
    /// `active` first and `pending` second. Saturates at `active + pending`.
    ///
    /// The reward share is bounded by the protocol-wide `MAX_REWARD_BPS_CAP`, not by the pool's
    /// current `max_reward_bps`: the pool's cap is checked when a market's terms are set (by the
    /// jobs program), so an admin lowering it can never make a posted job's slash fail. The
    /// treasury's part accrues in `pool.treasury_accrued`.
    pub fn slash(&mut self, pool: &mut StakePool, amount: u64, reward_bps: u16) -> Result<SlashOutcome> {
        require!(amount > 0, StakingError::ZeroAmount);
        require!(reward_bps <= MAX_REWARD_BPS_CAP, StakingError::RewardBpsTooHigh);
        let unlocked = amount.min(self.locked);
        let from_active = amount.min(self.active);
        let from_pending = (amount - from_active).min(self.pending);
        self.locked -= unlocked;
        self.active -= from_active;
        self.pending -= from_pending;
        if self.pending == 0 {
            self.unlock_at = 0;
        }
        let slashed = from_active + from_pending;
        self.total_slashed = add(self.total_slashed, slashed)?;
        pool.total_locked = sub(pool.total_locked, unlocked)?;
        pool.total_active = sub(pool.total_active, from_active)?;
        pool.total_pending = sub(pool.total_pending, from_pending)?;
        pool.total_slashed = add(pool.total_slashed, slashed)?;
        self.invariant()?;
        let outcome = split_slash(slashed, reward_bps)?;
        pool.treasury_accrued = add(pool.treasury_accrued, outcome.to_treasury)?;
        Ok(outcome)
    }

    pub fn invariant(&self) -> Result<()> {
        require!(self.locked <= self.active, StakingError::InsufficientLockedStake);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> StakePool {
        StakePool {
            creator: Pubkey::default(),
            admin: Pubkey::default(),
            mint: Pubkey::default(),
            token_program: Pubkey::default(),
            vault: Pubkey::default(),
            treasury: Pubkey::default(),
            min_stake: 100,
            cooldown_secs: 50,
            max_reward_bps: 4_000,
            authorities: [Pubkey::default(); MAX_AUTHORITIES as usize],
            authority_count: 0,
            total_active: 0,
            total_pending: 0,
            total_locked: 0,
            total_slashed: 0,
            staker_count: 0,
            bump: 0,
            vault_bump: 0,
            treasury_accrued: 0,
            _reserved: [0; 56],
        }
    }
    fn stake() -> ProviderStake {
        ProviderStake {
            pool: Pubkey::default(),
            owner: Pubkey::default(),
            active: 0,
            locked: 0,
            pending: 0,
            unlock_at: 0,
            total_deposited: 0,
            total_withdrawn: 0,
            total_slashed: 0,
            bump: 0,
            raised_slot: 0,
            _reserved: [0; 24],
        }
    }

    #[test]
    fn split_always_sums_to_the_slash() {
        for slashed in [0u64, 1, 7, 999, 10_001, u64::MAX] {
            for bps in [0u16, 1, 3_333, 5_000, 10_000] {
                let o = split_slash(slashed, bps).unwrap();
                assert_eq!(o.reward + o.to_treasury, slashed);
                if bps < 10_000 && slashed > 0 {
                    assert!(o.reward < slashed);
                }
            }
        }
    }

    #[test]
    fn new_request_never_shortens_cooldown() {
        let (mut p, mut s) = (pool(), stake());
        s.deposit(&mut p, 1_000).unwrap();
        s.request_unstake(&mut p, 100, 1_000).unwrap();
        assert_eq!(s.unlock_at, 1_050);
        p.cooldown_secs = 10; // admin shortens the cooldown for future requests
        s.request_unstake(&mut p, 100, 1_001).unwrap();
        assert_eq!(s.unlock_at, 1_050, "existing cooldown kept");
        s.deposit(&mut p, 5).unwrap();
        assert_eq!(s.unlock_at, 1_050, "a top-up does not touch it");
        assert!(s.withdraw(&mut p, 1_049).is_err());
        assert_eq!(s.withdraw(&mut p, 1_050).unwrap(), 200);
    }

    #[test]
    fn locked_stake_is_neither_unstakable_nor_withdrawable() {
        let (mut p, mut s) = (pool(), stake());
        s.deposit(&mut p, 500).unwrap();
        s.lock(&mut p, 450).unwrap();
        assert!(s.request_unstake(&mut p, 51, 0).is_err());
        assert!(s.lock(&mut p, 51).is_err());
        s.unlock(&mut p, 450).unwrap();
        assert!(s.unlock(&mut p, 1).is_err());
    }

    #[test]
    fn slash_saturates_and_keeps_locked_le_active() {
        let (mut p, mut s) = (pool(), stake());
        s.deposit(&mut p, 300).unwrap();
        s.lock(&mut p, 200).unwrap();
        s.request_unstake(&mut p, 100, 0).unwrap();
        let o = s.slash(&mut p, 1_000, 4_000).unwrap();
        assert_eq!(o.slashed, 300);
        assert_eq!((o.reward, o.to_treasury), (120, 180));
        assert_eq!((s.active, s.locked, s.pending), (0, 0, 0));
        assert_eq!((p.total_active, p.total_locked, p.total_pending, p.total_slashed), (0, 0, 0, 300));
        assert_eq!(p.treasury_accrued, 180);
    }

    #[test]
    fn slash_of_one_job_leaves_other_locks() {
        let (mut p, mut s) = (pool(), stake());
        s.deposit(&mut p, 1_000).unwrap();
        s.lock(&mut p, 100).unwrap();
        s.lock(&mut p, 100).unwrap();
        let o = s.slash(&mut p, 100, 0).unwrap();
        assert_eq!(o, SlashOutcome { slashed: 100, reward: 0, to_treasury: 100 });
        assert_eq!((s.active, s.locked), (900, 100));
        assert!(s.slash(&mut p, 1, MAX_REWARD_BPS_CAP + 1).is_err(), "above the protocol cap");
        p.max_reward_bps = 0; // an admin lowering the pool cap never blocks a slash already promised
        assert_eq!(s.slash(&mut p, 10, 4_000).unwrap(), SlashOutcome { slashed: 10, reward: 4, to_treasury: 6 });
        assert_eq!(p.treasury_accrued, 106);
    }

    #[test]
    fn partial_unstake_below_minimum_is_refused_but_full_exit_is_allowed() {
        let (mut p, mut s) = (pool(), stake());
        assert!(s.deposit(&mut p, 50).is_err(), "first deposit below minimum");
        assert_eq!((s.active, p.total_active), (0, 0), "nothing changed");
        s.deposit(&mut p, 150).unwrap();
        assert!(s.request_unstake(&mut p, 100, 0).is_err());
        s.request_unstake(&mut p, 150, 0).unwrap();
        assert_eq!(s.active, 0);
    }

    #[test]
    fn pinned_account_sizes() {
        assert_eq!(8 + StakePool::INIT_SPACE, 8 + 6 * 32 + 8 + 8 + 2 + 4 * 32 + 1 + 5 * 8 + 2 + 8 + 56);
        assert_eq!(8 + ProviderStake::INIT_SPACE, 8 + 2 * 32 + 3 * 8 + 8 + 3 * 8 + 1 + 32);
    }
}
