use anchor_lang::prelude::*;

#[event]
pub struct PoolInitialized {
    pub pool: Pubkey,
    pub admin: Pubkey,
    pub mint: Pubkey,
    pub treasury: Pubkey,
    pub min_stake: u64,
    pub cooldown_secs: i64,
    pub max_reward_bps: u16,
    pub authorities: Vec<Pubkey>,
}

/// The admin changed pool parameters (old and new values).
#[event]
pub struct PoolUpdated {
    pub pool: Pubkey,
    pub old_admin: Pubkey,
    pub new_admin: Pubkey,
    pub old_treasury: Pubkey,
    pub new_treasury: Pubkey,
    pub old_min_stake: u64,
    pub new_min_stake: u64,
    pub old_cooldown_secs: i64,
    pub new_cooldown_secs: i64,
    pub old_max_reward_bps: u16,
    pub new_max_reward_bps: u16,
}

#[event]
pub struct StakeDeposited {
    pub pool: Pubkey,
    pub stake: Pubkey,
    pub owner: Pubkey,
    pub amount: u64,
    pub active: u64,
}

#[event]
pub struct UnstakeRequested {
    pub pool: Pubkey,
    pub stake: Pubkey,
    pub owner: Pubkey,
    pub amount: u64,
    pub pending: u64,
    pub unlock_at: i64,
}

#[event]
pub struct UnstakeCancelled {
    pub pool: Pubkey,
    pub stake: Pubkey,
    pub owner: Pubkey,
    pub amount: u64,
    pub active: u64,
}

#[event]
pub struct StakeWithdrawn {
    pub pool: Pubkey,
    pub stake: Pubkey,
    pub owner: Pubkey,
    pub amount: u64,
}

#[event]
pub struct StakeLocked {
    pub pool: Pubkey,
    pub stake: Pubkey,
    pub authority: Pubkey,
    pub amount: u64,
    pub locked: u64,
}

#[event]
pub struct StakeUnlocked {
    pub pool: Pubkey,
    pub stake: Pubkey,
    pub authority: Pubkey,
    pub amount: u64,
    pub locked: u64,
}

/// Stake was slashed: `slashed == reward + to_treasury`.
#[event]
pub struct StakeSlashed {
    pub pool: Pubkey,
    pub stake: Pubkey,
    pub authority: Pubkey,
    /// What the caller asked for.
    pub requested: u64,
    /// What was actually taken (saturates at active + pending).
    pub slashed: u64,
    pub reward: u64,
    pub reward_recipient: Option<Pubkey>,
    /// The treasury's part (kept in the vault, see `TreasuryWithdrawn`).
    pub to_treasury: u64,
    /// The pool's accrued treasury balance after this slash.
    pub treasury_accrued: u64,
}

/// The admin moved the treasury's accrued slashes out of the vault to the pool treasury.
#[event]
pub struct TreasuryWithdrawn {
    pub pool: Pubkey,
    pub treasury: Pubkey,
    pub amount: u64,
}
