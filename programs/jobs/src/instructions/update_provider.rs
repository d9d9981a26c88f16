//! `update_provider`: a provider changes what it announced.
use anchor_lang::prelude::*;

use super::register_provider::ProviderArgs;
use crate::{constants::*, events::*, state::*};

#[derive(Accounts)]
pub struct UpdateProvider<'info> {
    /// The provider's key. Signs.
    pub authority: Signer<'info>,
    #[account(mut, seeds = [PROVIDER_SEED, authority.key().as_ref()], bump = provider.bump, has_one = authority)]
    pub provider: Box<Account<'info, Provider>>,
}

pub fn update_provider(ctx: Context<UpdateProvider>, args: ProviderArgs) -> Result<()> {
    args.validate()?;
    let p = &mut ctx.accounts.provider;
    p.endpoint = args.endpoint.clone();
    p.x25519_pubkey = args.x25519_pubkey;
    p.models = args.models.clone();
    cinder_common::emit_event!(ProviderRegistered {
        provider: p.key(),
        authority: p.authority,
        endpoint: args.endpoint,
        models: args.models,
    });
    Ok(())
}
