//! `update_config`: the protocol admin changes the treasury, the fee or the pause flag.
use anchor_lang::prelude::*;

use crate::{constants::*, error::JobsError, events::*, state::*};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateConfigArgs {
    pub new_admin: Option<Pubkey>,
    pub treasury: Option<Pubkey>,
    /// Applies to jobs posted afterwards (each job keeps the fee it was posted with).
    pub protocol_fee_bps: Option<u16>,
    pub paused: Option<bool>,
}

#[derive(Accounts)]
pub struct AdminOnly<'info> {
    /// The protocol admin. Signs.
    pub admin: Signer<'info>,
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump, has_one = admin @ JobsError::Unauthorized)]
    pub config: Account<'info, ProtocolConfig>,
}

pub fn update_config(ctx: Context<AdminOnly>, args: UpdateConfigArgs) -> Result<()> {
    if let Some(fee) = args.protocol_fee_bps {
        require!(fee <= MAX_FEE_BPS, JobsError::FeeTooHigh);
    }
    let c = &mut ctx.accounts.config;
    c.admin = args.new_admin.unwrap_or(c.admin);
    c.treasury = args.treasury.unwrap_or(c.treasury);
    c.protocol_fee_bps = args.protocol_fee_bps.unwrap_or(c.protocol_fee_bps);
    c.paused = args.paused.unwrap_or(c.paused);
    cinder_common::emit_event!(ConfigUpdated {
        admin: c.admin,
        treasury: c.treasury,
        protocol_fee_bps: c.protocol_fee_bps,
        paused: c.paused,
    });
    Ok(())
}
