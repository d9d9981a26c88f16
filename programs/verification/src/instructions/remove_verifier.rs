//! `remove_verifier`: a registration leaves the market's verifier set.
//!
//! The verifier may always remove its own registration; anyone may remove one whose active stake
//! is below the market's minimum (or no longer exists), so registrations that withdrew their stake
//! cannot pile up and exhaust a draw's step budget. The set stays dense: the last registration
//! moves into the freed index. Removal waits while any draw of the market is in progress
//! (`VerifierSet::drawing`), so no draw ever sees its indices change; the moved entry's
//! `since_slot` becomes now as a second guard. Both closed accounts' rent goes back
//! to the removed verifier, who paid for its registration. Disputes the verifier sits on are not
//! affected: membership and vote locks live in the dispute and the stake.
use anchor_lang::prelude::*;
use cinder_jobs::{Market, MARKET_SEED};
use cinder_staking::{ProviderStake, STAKE_SEED};

use crate::{constants::*, error::VerificationError, events::*, state::*};

#[derive(Accounts)]
pub struct RemoveVerifier<'info> {
    /// The verifier itself, or anyone when the registration is below the minimum. Signs.
    pub caller: Signer<'info>,
    #[account(
        seeds = [MARKET_SEED, market.model.as_ref(), market.mint.as_ref(), market.creator.as_ref()],
        seeds::program = cinder_jobs::ID,
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(mut, seeds = [VERIFIER_SET_SEED, market.key().as_ref()], bump = verifier_set.bump)]
    pub verifier_set: Box<Account<'info, VerifierSet>>,
    /// CHECK: the registration removed, `[VERIFIER_SEED, market, index]` (checked in the handler;
    /// rewritten with the moved registration, or closed when it is the last).
    #[account(mut)]
    pub entry: UncheckedAccount<'info>,
    /// The removed verifier's marker; closed (rent to the verifier).
    #[account(
        mut,
        close = verifier,
        seeds = [VERIFIER_MARKER_SEED, market.key().as_ref(), verifier.key().as_ref()],
        bump = marker.bump,
    )]
    pub marker: Box<Account<'info, VerifierMarker>>,
    /// CHECK: the removed verifier's stake PDA in the market's pool; it may no longer exist.
    #[account(
        seeds = [STAKE_SEED, market.pool.as_ref(), verifier.key().as_ref()],
        seeds::program = cinder_staking::ID,
        bump,
    )]
    pub stake: UncheckedAccount<'info>,
    /// CHECK: the removed verifier (checked against the entry); receives the rent.
    #[account(mut)]
    pub verifier: UncheckedAccount<'info>,
    /// CHECK: the registration at index `count - 1` (moved into the freed index; closed). When the
    /// removed registration is the last, pass it again.
    #[account(mut)]
    pub last_entry: UncheckedAccount<'info>,
    /// CHECK: the marker of `last_entry`'s verifier (its index is rewritten). When the removed
    /// registration is the last, pass `marker` again (not written).
    #[account(mut)]
    pub last_marker: UncheckedAccount<'info>,
}

fn entry_address(market: &Pubkey, index: u32, bump: u8) -> Result<Pubkey> {
    Pubkey::create_program_address(&[VERIFIER_SEED, market.as_ref(), &index.to_le_bytes(), &[bump]], &crate::ID)
        .map_err(|_| error!(VerificationError::WrongVerifierEntry))
}

/// Reads the registration at `info`, checking it is the market's entry at its own index.
fn load_entry(info: &AccountInfo, market: &Pubkey) -> Result<VerifierEntry> {
    require_keys_eq!(*info.owner, crate::ID, VerificationError::WrongVerifierEntry);
    let e = VerifierEntry::try_deserialize(&mut &info.try_borrow_data()?[..])
        .map_err(|_| error!(VerificationError::WrongVerifierEntry))?;
    require_keys_eq!(e.market, *market, VerificationError::WrongVerifierEntry);
    require_keys_eq!(info.key(), entry_address(market, e.index, e.bump)?, VerificationError::WrongVerifierEntry);
    Ok(e)
}

fn store<T: AccountSerialize>(value: &T, info: &AccountInfo) -> Result<()> {
    let mut data = info.try_borrow_mut_data()?;
    let mut w: &mut [u8] = &mut data;
    value.try_serialize(&mut w)
}

/// Closes a program-owned account: lamports to `to`, data cleared, owner the system program.
fn close_to(info: &AccountInfo, to: &AccountInfo) -> Result<()> {
    let lamports = info.lamports();
    **to.try_borrow_mut_lamports()? =
        to.lamports().checked_add(lamports).ok_or(VerificationError::ArithmeticOverflow)?;
    **info.try_borrow_mut_lamports()? = 0;
    info.assign(&anchor_lang::system_program::ID);
    info.resize(0)?;
    Ok(())
}

/// The removed verifier's active stake in the market's pool (0 when its stake account is gone):
/// stake locked for its jobs or votes still counts, so a busy verifier cannot be removed.
fn active_stake(stake: &AccountInfo) -> u64 {
    if stake.owner != &cinder_staking::ID {
        return 0;
    }
    let Ok(data) = stake.try_borrow_data() else { return 0 };
    ProviderStake::try_deserialize(&mut &data[..]).map(|s| s.active).unwrap_or(0)
}

pub fn remove_verifier(ctx: Context<RemoveVerifier>) -> Result<()> {
    let a = &ctx.accounts;
    let market = a.market.key();
    let mut entry = load_entry(&a.entry, &market)?;
    require_keys_eq!(entry.verifier, a.verifier.key(), VerificationError::WrongVerifierEntry);
    let by = a.caller.key();
    if by != entry.verifier {
        require!(active_stake(&a.stake) < a.market.params.min_stake, VerificationError::VerifierStillStaked);
    }
    // Entries never move under a draw in flight (its steps name indices).
    require!(a.verifier_set.drawing == 0, VerificationError::DrawInProgress);
    let count = a.verifier_set.count;
    let last_index = count.checked_sub(1).ok_or(VerificationError::ArithmeticOverflow)?;
    let removed = entry.index;
    let mut moved = None;
    if removed == last_index {
        close_to(&a.entry, &a.verifier)?;
    } else {
        let last = load_entry(&a.last_entry, &market)?;
        require!(last.index == last_index, VerificationError::WrongVerifierEntry);
        require_keys_eq!(*a.last_marker.owner, crate::ID, VerificationError::WrongVerifierEntry);
        let mut last_marker = VerifierMarker::try_deserialize(&mut &a.last_marker.try_borrow_data()?[..])
            .map_err(|_| error!(VerificationError::WrongVerifierEntry))?;
        let marker_address = Pubkey::create_program_address(
            &[VERIFIER_MARKER_SEED, market.as_ref(), last.verifier.as_ref(), &[last_marker.bump]],
            &crate::ID,
        )
        .map_err(|_| error!(VerificationError::WrongVerifierEntry))?;
        require_keys_eq!(a.last_marker.key(), marker_address, VerificationError::WrongVerifierEntry);
        entry.verifier = last.verifier;
        entry.registered_at = last.registered_at;
        entry.since_slot = Clock::get()?.slot;
        last_marker.index = removed;
        store(&entry, &a.entry)?;
        store(&last_marker, &a.last_marker)?;
        close_to(&a.last_entry, &a.verifier)?;
        moved = Some(last.verifier);
    }
    let verifier = a.verifier.key();
    ctx.accounts.verifier_set.count = last_index;
    cinder_common::emit_event!(VerifierRemoved { market, verifier, index: removed, moved, by });
    Ok(())
}
