//! `advance_queue`: anyone moves a market's queue head past dead slots (bounded work per call).
use anchor_lang::prelude::*;

use super::claim_job::slot_is_dead;
use crate::{constants::*, error::JobsError, events::*, state::*};

#[derive(Accounts)]
pub struct AdvanceQueue<'info> {
    /// Anyone. Signs (pays the fee only).
    pub caller: Signer<'info>,
    #[account(
        mut,
        seeds = [MARKET_SEED, market.model.as_ref(), market.mint.as_ref(), market.creator.as_ref()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,
    // remaining_accounts: the dead queue slots head, head+1, … (job PDAs, possibly closed), at
    // most MAX_QUEUE_ADVANCE.
}

/// Moves the queue head past dead slots (closed, taken or designated jobs): permissionless and
/// repeatable, so no number of dead slots can wedge a market's queue. Works while paused (it
/// moves no money and only helps exits).
pub fn advance_queue<'info>(ctx: Context<'info, AdvanceQueue<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let n = ctx.remaining_accounts.len();
    require!(n > 0, JobsError::NothingToAdvance);
    require!(n <= MAX_QUEUE_ADVANCE as usize, JobsError::InvalidQueueSkip);
    let market_key = ctx.accounts.market.key();
    let market = &mut ctx.accounts.market;
    let from = market.queue_head;
    for info in ctx.remaining_accounts {
        require!(slot_is_dead(info, market, &market_key, market.queue_head)?, JobsError::InvalidQueueSkip);
        market.queue_head += 1;
    }
    cinder_common::emit_event!(QueueAdvanced {
        market: market_key,
        caller: ctx.accounts.caller.key(),
        from,
        to: market.queue_head,
        timestamp: now,
    });
    Ok(())
}
