//! `register_model`: the protocol admin registers a model (what markets are opened for).
use anchor_lang::prelude::*;

use crate::{constants::*, error::JobsError, events::*, state::*};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct RegisterModelArgs {
    pub model_id: [u8; 32],
    pub name: String,
    pub architecture: String,
    pub engine_version: u32,
}

#[derive(Accounts)]
#[instruction(args: RegisterModelArgs)]
pub struct RegisterModel<'info> {
    /// The protocol admin (names are curated so that a model id cannot be registered under a
    /// misleading name). Signs and pays.
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump, has_one = admin @ JobsError::Unauthorized)]
    pub config: Account<'info, ProtocolConfig>,
    #[account(init, payer = admin, space = 8 + Model::INIT_SPACE, seeds = [MODEL_SEED, args.model_id.as_ref()], bump)]
    pub model: Account<'info, Model>,
    pub system_program: Program<'info, System>,
}

pub fn register_model(ctx: Context<RegisterModel>, args: RegisterModelArgs) -> Result<()> {
    require!(args.name.len() <= MAX_NAME_LEN as usize, JobsError::StringTooLong);
    require!(args.architecture.len() <= MAX_ARCH_LEN as usize, JobsError::StringTooLong);
    let model = &mut ctx.accounts.model;
    model.set_inner(Model {
        model_id: args.model_id,
        name: args.name.clone(),
        architecture: args.architecture.clone(),
        engine_version: args.engine_version,
        registered_by: ctx.accounts.admin.key(),
        bump: ctx.bumps.model,
    });
    cinder_common::emit_event!(ModelRegistered {
        model: model.key(),
        model_id: args.model_id,
        name: args.name,
        architecture: args.architecture,
        engine_version: args.engine_version,
    });
    Ok(())
}
