//! `register_provider`: a provider announces its endpoint, encryption key and models.
use anchor_lang::prelude::*;

use crate::{constants::*, error::JobsError, events::*, state::*};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProviderArgs {
    pub endpoint: String,
    pub x25519_pubkey: [u8; 32],
    pub models: Vec<[u8; 32]>,
}

impl ProviderArgs {
    pub(crate) fn validate(&self) -> Result<()> {
        require!(self.endpoint.len() <= MAX_ENDPOINT_LEN as usize, JobsError::StringTooLong);
        require!(self.models.len() <= MAX_PROVIDER_MODELS as usize, JobsError::TooManyModels);
        Ok(())
    }
}

#[derive(Accounts)]
pub struct RegisterProvider<'info> {
    /// The provider's key (also its staking key). Signs and pays.
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(
        init,
        payer = authority,
        space = 8 + Provider::INIT_SPACE,
        seeds = [PROVIDER_SEED, authority.key().as_ref()],
        bump,
    )]
    pub provider: Box<Account<'info, Provider>>,
    pub system_program: Program<'info, System>,
}

pub fn register_provider(ctx: Context<RegisterProvider>, args: ProviderArgs) -> Result<()> {
    args.validate()?;
    let now = Clock::get()?.unix_timestamp;
    let p = &mut ctx.accounts.provider;
    p.set_inner(Provider {
        authority: ctx.accounts.authority.key(),
        endpoint: args.endpoint.clone(),
        x25519_pubkey: args.x25519_pubkey,
        models: args.models.clone(),
        jobs_claimed: 0,
        jobs_completed: 0,
        jobs_failed: 0,
        jobs_slashed: 0,
        registered_at: now,
        bump: ctx.bumps.provider,
    });
    cinder_common::emit_event!(ProviderRegistered {
        provider: p.key(),
        authority: p.authority,
        endpoint: args.endpoint,
        models: args.models,
    });
    Ok(())
}
