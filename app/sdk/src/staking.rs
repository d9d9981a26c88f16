//! Staking program: PDAs and instruction builders.
use anchor_lang::prelude::Pubkey;
use cinder_staking::{
    accounts as acc, instruction as ix, instructions as args, ID, POOL_SEED, POOL_VAULT_SEED, STAKE_SEED,
};

use crate::{anchor_ix, Instruction};

pub fn pool_pda(creator: &Pubkey, mint: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[POOL_SEED, creator.as_ref(), mint.as_ref()], &ID).0
}

pub fn pool_vault_pda(pool: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[POOL_VAULT_SEED, pool.as_ref()], &ID).0
}

pub fn stake_pda(pool: &Pubkey, owner: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[STAKE_SEED, pool.as_ref(), owner.as_ref()], &ID).0
}

/// Accounts of one pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolKeys {
    pub creator: Pubkey,
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub pool: Pubkey,
    pub vault: Pubkey,
}

impl PoolKeys {
    pub fn new(creator: Pubkey, mint: Pubkey, token_program: Pubkey) -> Self {
        let pool = pool_pda(&creator, &mint);
        PoolKeys { creator, mint, token_program, pool, vault: pool_vault_pda(&pool) }
    }
    pub fn stake(&self, owner: &Pubkey) -> Pubkey {
        stake_pda(&self.pool, owner)
    }
}

pub use args::{InitPoolArgs, SlashStakeArgs, UpdatePoolArgs};

pub fn init_pool(k: &PoolKeys, treasury: Pubkey, a: InitPoolArgs) -> Instruction {
    anchor_ix(
        ID,
        acc::InitPool {
            creator: k.creator,
            mint: k.mint,
            pool: k.pool,
            vault: k.vault,
            treasury,
            token_program: k.token_program,
            system_program: anchor_lang::system_program::ID,
        },
        ix::InitPool { args: a },
    )
}

pub fn update_pool(k: &PoolKeys, admin: Pubkey, new_treasury: Option<Pubkey>, a: UpdatePoolArgs) -> Instruction {
    anchor_ix(ID, acc::UpdatePool { admin, pool: k.pool, new_treasury }, ix::UpdatePool { args: a })
}

pub fn deposit_stake(k: &PoolKeys, owner: Pubkey, owner_token: Pubkey, amount: u64) -> Instruction {
    anchor_ix(
        ID,
        acc::DepositStake {
            owner,
            pool: k.pool,
            stake: k.stake(&owner),
            vault: k.vault,
            mint: k.mint,
            owner_token,
            token_program: k.token_program,
            system_program: anchor_lang::system_program::ID,
        },
        ix::DepositStake { amount },
    )
}

fn owner_accounts(k: &PoolKeys, owner: Pubkey) -> acc::OwnerStake {
    acc::OwnerStake { owner, pool: k.pool, stake: k.stake(&owner) }
}

pub fn request_unstake(k: &PoolKeys, owner: Pubkey, amount: u64) -> Instruction {
    anchor_ix(ID, owner_accounts(k, owner), ix::RequestUnstake { amount })
}

pub fn cancel_unstake(k: &PoolKeys, owner: Pubkey) -> Instruction {
    anchor_ix(ID, owner_accounts(k, owner), ix::CancelUnstake {})
}

pub fn withdraw_stake(k: &PoolKeys, owner: Pubkey, owner_token: Pubkey) -> Instruction {
    anchor_ix(
        ID,
        acc::WithdrawStake {
            owner,
            pool: k.pool,
            stake: k.stake(&owner),
            vault: k.vault,
            mint: k.mint,
            owner_token,
            token_program: k.token_program,
        },
        ix::WithdrawStake {},
    )
}

/// `lock_stake` as a direct instruction (only succeeds inside a CPI signed by a pool authority).
pub fn lock_stake(k: &PoolKeys, authority: Pubkey, owner: Pubkey, amount: u64) -> Instruction {
    anchor_ix(ID, acc::AuthorityStake { authority, pool: k.pool, stake: k.stake(&owner) }, ix::LockStake { amount })
}

pub fn unlock_stake(k: &PoolKeys, authority: Pubkey, owner: Pubkey, amount: u64) -> Instruction {
    anchor_ix(ID, acc::AuthorityStake { authority, pool: k.pool, stake: k.stake(&owner) }, ix::UnlockStake { amount })
}

pub fn slash_stake(
    k: &PoolKeys,
    authority: Pubkey,
    owner: Pubkey,
    reward_recipient: Option<Pubkey>,
    a: SlashStakeArgs,
) -> Instruction {
    anchor_ix(
        ID,
        acc::SlashStake {
            authority,
            pool: k.pool,
            stake: k.stake(&owner),
            vault: k.vault,
            mint: k.mint,
            reward_recipient,
            token_program: k.token_program,
        },
        ix::SlashStake { args: a },
    )
}

/// Pool admin: pays the treasury's accrued part of slashes to the pool treasury `treasury`.
pub fn withdraw_treasury(k: &PoolKeys, admin: Pubkey, treasury: Pubkey) -> Instruction {
    anchor_ix(
        ID,
        acc::WithdrawTreasury {
            admin,
            pool: k.pool,
            vault: k.vault,
            mint: k.mint,
            treasury,
            token_program: k.token_program,
        },
        ix::WithdrawTreasury {},
    )
}
