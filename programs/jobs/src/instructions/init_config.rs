//! `init_config`: the protocol config, created once, by the jobs program's upgrade authority.
use anchor_lang::prelude::*;

use crate::{constants::*, error::JobsError, events::*, state::*};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct InitConfigArgs {
    pub treasury: Pubkey,
    pub protocol_fee_bps: u16,
    pub stake_pool_creator: Pubkey,
    pub verification_program: Pubkey,
}

#[derive(Accounts)]
pub struct InitConfig<'info> {
    /// Becomes the protocol admin; pays the rent. Signs. Must be the jobs program's upgrade
    /// authority, so nobody can take the (singleton) config by sending `init_config` first.
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(init, payer = admin, space = 8 + ProtocolConfig::INIT_SPACE, seeds = [CONFIG_SEED], bump)]
    pub config: Account<'info, ProtocolConfig>,
    /// CHECK: the jobs program's ProgramData account (BPF upgradeable loader), which records the
    /// upgrade authority; its address and owner are checked in `validate`.
    pub program_data: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

/// The ProgramData address of a program deployed with the upgradeable loader.
pub fn program_data_address(program: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[program.as_ref()], &solana_sdk_ids::bpf_loader_upgradeable::ID).0
}

/// The upgrade authority recorded in a ProgramData account (bincode of
/// `UpgradeableLoaderState::ProgramData { slot: u64, upgrade_authority_address: Option<Pubkey> }`:
/// u32 tag 3, u64 slot, an option byte, the key). `None` when the data is not such an account or
/// the program is immutable.
pub fn upgrade_authority_of(data: &[u8]) -> Option<Pubkey> {
    let tag = u32::from_le_bytes(data.get(..4)?.try_into().ok()?);
    if tag != 3 || *data.get(12)? != 1 {
        return None;
    }
    Some(Pubkey::new_from_array(data.get(13..45)?.try_into().ok()?))
}

impl InitConfig<'_> {
    pub fn validate(&self, args: &InitConfigArgs) -> Result<()> {
        require!(args.protocol_fee_bps <= MAX_FEE_BPS, JobsError::FeeTooHigh);
        let pd = &self.program_data;
        require_keys_eq!(pd.key(), program_data_address(&crate::ID), JobsError::NotUpgradeAuthority);
        require_keys_eq!(*pd.owner, solana_sdk_ids::bpf_loader_upgradeable::ID, JobsError::NotUpgradeAuthority);
        let authority = upgrade_authority_of(&pd.try_borrow_data()?).ok_or(JobsError::NotUpgradeAuthority)?;
        require_keys_eq!(authority, self.admin.key(), JobsError::NotUpgradeAuthority);
        Ok(())
    }
}

#[access_control(ctx.accounts.validate(&args))]
pub fn init_config(ctx: Context<InitConfig>, args: InitConfigArgs) -> Result<()> {
    let (_, jobs_authority_bump) = Pubkey::find_program_address(&[JOBS_AUTHORITY_SEED], &crate::ID);
    let (verification_authority, _) =
        Pubkey::find_program_address(&[VERIFICATION_AUTHORITY_SEED], &args.verification_program);
    let config = &mut ctx.accounts.config;
    config.set_inner(ProtocolConfig {
        admin: ctx.accounts.admin.key(),
        treasury: args.treasury,
        protocol_fee_bps: args.protocol_fee_bps,
        paused: false,
        stake_pool_creator: args.stake_pool_creator,
        verification_program: args.verification_program,
        verification_authority,
        jobs_authority_bump,
        bump: ctx.bumps.config,
        _reserved: [0; 32],
    });
    cinder_common::emit_event!(ConfigInitialized {
        admin: config.admin,
        treasury: config.treasury,
        protocol_fee_bps: config.protocol_fee_bps,
        stake_pool_creator: config.stake_pool_creator,
        verification_program: config.verification_program,
    });
    Ok(())
}
