//! `update_market`: the market creator changes the terms of jobs posted afterwards.
use anchor_lang::prelude::*;
use cinder_staking::StakePool;

use super::create_market::validate_against_pool;
use crate::{constants::*, error::JobsError, events::*, state::*};

#[derive(Accounts)]
pub struct UpdateMarket<'info> {
    /// The market creator. Signs.
    pub creator: Signer<'info>,
    #[account(
        mut,
        seeds = [MARKET_SEED, market.model.as_ref(), market.mint.as_ref(), market.creator.as_ref()],
        bump = market.bump,
        has_one = creator @ JobsError::NotMarketCreator,
        has_one = pool,
    )]
    pub market: Box<Account<'info, Market>>,
    pub pool: Box<Account<'info, StakePool>>,
}

/// New parameters apply to jobs posted afterwards; every job keeps its own snapshot.
pub fn update_market(ctx: Context<UpdateMarket>, params: MarketParams) -> Result<()> {
    let pool = &ctx.accounts.pool;
    validate_against_pool(&params, pool)?;
    let market = &mut ctx.accounts.market;
    let old = market.params;
    market.params = params;
    cinder_common::emit_event!(MarketUpdated { market: market.key(), old_params: old, new_params: params });
    Ok(())
}
