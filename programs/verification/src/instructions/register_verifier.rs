//! `register_verifier`: a staked verifier joins a market's verifier set.
use anchor_lang::prelude::*;
use cinder_jobs::{Market, MARKET_SEED};
use cinder_staking::{ProviderStake, STAKE_SEED};

use crate::{constants::*, error::VerificationError, events::*, state::*};

#[derive(Accounts)]
pub struct RegisterVerifier<'info> {
    /// The verifier (its stake key). Signs and pays.
    #[account(mut)]
    pub verifier: Signer<'info>,
    #[account(
        seeds = [MARKET_SEED, market.model.as_ref(), market.mint.as_ref(), market.creator.as_ref()],
        seeds::program = cinder_jobs::ID,
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(
        init_if_needed,
        payer = verifier,
        space = 8 + VerifierSet::INIT_SPACE,
        seeds = [VERIFIER_SET_SEED, market.key().as_ref()],
        bump,
    )]
    pub verifier_set: Box<Account<'info, VerifierSet>>,
    #[account(
        init,
        payer = verifier,
        space = 8 + VerifierEntry::INIT_SPACE,
        seeds = [VERIFIER_SEED, market.key().as_ref(), &verifier_set.count.to_le_bytes()],
        bump,
    )]
    pub entry: Box<Account<'info, VerifierEntry>>,
    /// Fails if the verifier is already registered in this market.
    #[account(
        init,
        payer = verifier,
        space = 8 + VerifierMarker::INIT_SPACE,
        seeds = [VERIFIER_MARKER_SEED, market.key().as_ref(), verifier.key().as_ref()],
        bump,
    )]
    pub marker: Box<Account<'info, VerifierMarker>>,
    #[account(
        seeds = [STAKE_SEED, market.pool.as_ref(), verifier.key().as_ref()],
        seeds::program = cinder_staking::ID,
        bump = stake.bump,
    )]
    pub stake: Box<Account<'info, ProviderStake>>,
    pub system_program: Program<'info, System>,
}

pub fn register_verifier(ctx: Context<RegisterVerifier>) -> Result<()> {
    let a = ctx.accounts;
    require!(a.stake.active >= a.market.params.min_stake, VerificationError::InsufficientStake);
    if a.verifier_set.market == Pubkey::default() {
        a.verifier_set.market = a.market.key();
        a.verifier_set.bump = ctx.bumps.verifier_set;
    }
    let index = a.verifier_set.count;
    a.verifier_set.count = index.checked_add(1).ok_or(VerificationError::ArithmeticOverflow)?;
    let clock = Clock::get()?;
    a.entry.set_inner(VerifierEntry {
        market: a.market.key(),
        verifier: a.verifier.key(),
        index,
        registered_at: clock.unix_timestamp,
        bump: ctx.bumps.entry,
        since_slot: clock.slot,
    });
    a.marker.set_inner(VerifierMarker { index, bump: ctx.bumps.marker });
    cinder_common::emit_event!(VerifierRegistered { market: a.market.key(), verifier: a.verifier.key(), index });
    Ok(())
}
