//! Verifier registry, disputes, and the pure rules: quorum selection, vote commitments, tally.
use anchor_lang::prelude::*;
use cinder_jobs::MAX_QUORUM;

use crate::{constants::*, error::VerificationError};

#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct VerifierSet {
    pub market: Pubkey,
    /// Verifiers registered so far; entry indices are 0..count.
    pub count: u32,
    pub bump: u8,
    /// Disputes of the market whose quorum draw is in progress (challenged, not yet drawn or
    /// resolved). `remove_verifier` moves entries only when this is 0, so no draw in flight ever
    /// sees an index change.
    pub drawing: u32,
}

#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct VerifierEntry {
    pub market: Pubkey,
    pub verifier: Pubkey,
    /// Position in the market's verifier set (what quorum selection draws).
    pub index: u32,
    pub registered_at: i64,
    pub bump: u8,
    /// Slot in which this registration took its current index (registration, or a move by
    /// `remove_verifier`). A draw ignores an entry placed at or after its randomness slot: nobody
    /// can move a key onto an index the public randomness names.
    pub since_slot: u64,
}

#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct VerifierMarker {
    pub index: u32,
    pub bump: u8,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum DisputeOutcome {
    Pending,
    /// A majority of the quorum found the result correct: provider paid, bond to the provider.
    ProviderRight,
    /// A majority found it wrong: client refunded, provider slashed, bond back to the challenger.
    ProviderWrong,
    /// Fewer than a majority of the quorum revealed, or a tie: the result stands (provider paid),
    /// the challenger's bond is returned, collateral unlocked. Nothing stays locked.
    NoQuorum,
}

#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Dispute {
    pub job: Pubkey,
    pub market: Pubkey,
    pub challenger: Pubkey,
    pub provider: Pubkey,
    /// The market's stake pool (members' vote penalties are locked there at the draw).
    pub pool: Pubkey,
    pub bond: u64,
    pub opened_at: i64,
    /// Members to draw (the job's snapshot).
    pub quorum: u8,
    /// Least free stake a member must hold at the draw (the market's `min_stake` when the
    /// challenge landed).
    pub min_stake: u64,
    /// The slot whose hash seeds the draw: later than the challenge's slot, so nobody knew it when
    /// the challenge was sent. The hash used is that of the first produced slot `>= draw_slot`.
    pub draw_slot: u64,
    /// After this second, a dispute whose quorum is still incomplete resolves as `NoQuorum`.
    pub draw_deadline: i64,
    /// `selection_seed(slot hash, job, challenger)`, zero until `draw_quorum` fixes it.
    pub seed: [u8; 32],
    /// Verifiers registered when the challenge landed (indices `0..candidate_count` are drawn;
    /// later registrations never take part in this dispute).
    pub candidate_count: u32,
    /// Draw steps taken so far (each names one candidate index; see `draw_step_pick`).
    pub draw_step: u32,
    /// Last second of the commit phase (inclusive); 0 until the quorum is complete.
    pub commit_end: i64,
    /// Last second of the reveal phase (inclusive); 0 until the quorum is complete.
    pub reveal_end: i64,
    pub members: [Pubkey; MAX_QUORUM as usize],
    pub member_count: u8,
    pub commitments: [[u8; 32]; MAX_QUORUM as usize],
    /// 0 = none, VOTE_RESULT_CORRECT or VOTE_RESULT_WRONG once revealed.
    pub votes: [u8; MAX_QUORUM as usize],
    /// Bit i set: member i's vote has been settled (penalty applied or lock released).
    pub settled_mask: u16,
    pub outcome: DisputeOutcome,
    /// Stake a member loses for not revealing or not voting with the majority (the job's
    /// snapshot); it comes out of the member's `member_lock`.
    pub vote_penalty: u64,
    pub bump: u8,
}

/// `sha256(QUORUM_TAG ‖ slot_hash ‖ job ‖ challenger)`.
pub fn selection_seed(slot_hash: &[u8; 32], job: &Pubkey, challenger: &Pubkey) -> [u8; 32] {
    solana_sha256_hasher::hashv(&[QUORUM_TAG, slot_hash, job.as_ref(), challenger.as_ref()]).to_bytes()
}

/// One step of the stake-weighted draw: `h = sha256(seed ‖ step as u32 LE)`; the candidate is
/// `u64_le(h[0..8]) mod count` and the acceptance ticket `u64_le(h[8..16]) mod weight_cap`. The
/// candidate is accepted when `ticket < weight`, where `weight = min(free stake, weight_cap)` for
/// a candidate holding at least the minimum (else 0). So a key's chance per step is proportional
/// to its stake up to the cap, and splitting one stake over many keys gains nothing. The index of
/// every step is fixed by the seed alone, whatever earlier steps accepted.
pub fn draw_step_pick(seed: &[u8; 32], step: u32, count: u32, weight_cap: u64) -> (u32, u64) {
    let h = solana_sha256_hasher::hashv(&[seed, &step.to_le_bytes()]).to_bytes();
    let index = (u64::from_le_bytes(h[..8].try_into().unwrap()) % count.max(1) as u64) as u32;
    let ticket = u64::from_le_bytes(h[8..16].try_into().unwrap()) % weight_cap.max(1);
    (index, ticket)
}

/// Draw weight of a candidate with `free` unlocked active stake: 0 below `min_stake`, else
/// `min(free, weight_cap)`.
pub fn draw_weight(free: u64, min_stake: u64, weight_cap: u64) -> u64 {
    if free < min_stake.max(1) {
        0
    } else {
        free.min(weight_cap)
    }
}

/// Weight cap of a draw: `VERIFIER_WEIGHT_CAP_MULTIPLE × min_stake` (at least 1).
pub fn weight_cap(min_stake: u64) -> u64 {
    min_stake.saturating_mul(VERIFIER_WEIGHT_CAP_MULTIPLE as u64).max(1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrawRandomness {
    NotReady,
    Stale,
    Ready { slot: u64, hash: [u8; 32] },
}

/// The hash the draw uses: that of the oldest entry of the SlotHashes sysvar data with a slot
/// `>= draw_slot` (the first slot produced at or after it). `Stale` when that entry may already
/// have aged out of the sysvar (the sysvar is full and its oldest entry is newer than
/// `draw_slot`), `NotReady` when no such slot has been produced yet.
pub fn draw_slot_hash(data: &[u8], draw_slot: u64) -> DrawRandomness {
    let Some(n) = data.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes) else {
        return DrawRandomness::NotReady;
    };
    let mut best: Option<(u64, [u8; 32])> = None;
    let mut oldest = u64::MAX;
    for i in 0..n.min(SLOT_HASHES_MAX_ENTRIES as u64 * 2) as usize {
        let Some(e) = data.get(8 + i * 40..8 + (i + 1) * 40) else { break };
        let slot = u64::from_le_bytes(e[..8].try_into().unwrap());
        oldest = oldest.min(slot);
        if slot >= draw_slot && best.is_none_or(|(b, _)| slot < b) {
            best = Some((slot, e[8..].try_into().unwrap()));
        }
    }
    match best {
        None => DrawRandomness::NotReady,
        Some(_) if n as usize >= SLOT_HASHES_MAX_ENTRIES && oldest > draw_slot => DrawRandomness::Stale,
        Some((slot, hash)) => DrawRandomness::Ready { slot, hash },
    }
}

/// `sha256(VOTE_TAG ‖ dispute ‖ voter ‖ vote ‖ salt)`: what `commit_vote` stores.
pub fn vote_commitment(dispute: &Pubkey, voter: &Pubkey, vote: u8, salt: &[u8; 32]) -> [u8; 32] {
    solana_sha256_hasher::hashv(&[VOTE_TAG, dispute.as_ref(), voter.as_ref(), &[vote], salt]).to_bytes()
}

/// Looks up `slot`'s hash in the SlotHashes sysvar data (bincode: u64 count, then (u64 slot,
/// [u8; 32] hash) pairs, newest first).
pub fn slot_hash_of(data: &[u8], slot: u64) -> Option<[u8; 32]> {
    let n = u64::from_le_bytes(data.get(..8)?.try_into().ok()?) as usize;
    (0..n).find_map(|i| {
        let e = data.get(8 + i * 40..8 + (i + 1) * 40)?;
        (u64::from_le_bytes(e[..8].try_into().ok()?) == slot).then(|| e[8..].try_into().ok()).flatten()
    })
}

impl Dispute {
    /// Stake locked for each drawn member from its draw to `settle_vote`: the qualifying stake,
    /// `max(min_stake, vote_penalty)`. The penalty is paid out of it; the rest is unlocked.
    pub fn member_lock(&self) -> u64 {
        self.min_stake.max(self.vote_penalty)
    }

    /// Most draw steps this dispute may take (`MAX_DRAW_STEPS_PER_SEAT` per seat).
    pub fn max_draw_steps(&self) -> u32 {
        MAX_DRAW_STEPS_PER_SEAT.saturating_mul(self.quorum as u32)
    }

    /// The draw can take no more steps and the quorum is incomplete: only resolution (as
    /// NoQuorum, after the draw deadline) is left.
    pub fn draw_exhausted(&self) -> bool {
        !self.drawn() && self.draw_step >= self.max_draw_steps()
    }

    /// Whether the whole quorum has been drawn (voting can start).
    pub fn drawn(&self) -> bool {
        self.member_count == self.quorum
    }

    pub fn member_position(&self, key: &Pubkey) -> Option<usize> {
        self.members[..self.member_count as usize].iter().position(|m| m == key)
    }

    pub fn all_revealed(&self) -> bool {
        self.votes[..self.member_count as usize].iter().all(|v| *v != 0)
    }

    /// Majority rule: a side wins with more votes than the other side *and* at least a majority
    /// of the quorum cast a deciding vote (abstentions decide nothing); otherwise `NoQuorum`.
    pub fn tally(&self) -> DisputeOutcome {
        let n = self.member_count as usize;
        let correct = self.votes[..n].iter().filter(|v| **v == VOTE_RESULT_CORRECT).count();
        let wrong = self.votes[..n].iter().filter(|v| **v == VOTE_RESULT_WRONG).count();
        if correct + wrong < n / 2 + 1 || correct == wrong {
            DisputeOutcome::NoQuorum
        } else if wrong > correct {
            DisputeOutcome::ProviderWrong
        } else {
            DisputeOutcome::ProviderRight
        }
    }

    /// Whether member `i` loses its vote penalty under the final outcome: it never revealed, or
    /// it did not vote for the winning side (an abstention included). Under `NoQuorum` only
    /// members that never revealed lose it.
    /// Members of a quorum that was never completed could not vote and are never penalised.
    pub fn penalised(&self, i: usize) -> bool {
        if !self.drawn() {
            return false;
        }
        match (self.outcome, self.votes[i]) {
            (_, 0) => true,
            (DisputeOutcome::ProviderRight, v) => v != VOTE_RESULT_CORRECT,
            (DisputeOutcome::ProviderWrong, v) => v != VOTE_RESULT_WRONG,
            _ => false,
        }
    }

    pub fn all_settled(&self) -> bool {
        let all = (1u16 << self.member_count) - 1;
        self.settled_mask & all == all
    }

    /// The dispute's own consistency rules, checked after every change.
    pub fn invariant(&self) -> Result<()> {
        let ok = self.member_count <= self.quorum
            && self.quorum <= MAX_QUORUM
            && self.drawn() == (self.commit_end != 0)
            && self.commit_end <= self.reveal_end;
        require!(ok, VerificationError::DisputeInvariantViolated);
        let members = &self.members[..self.member_count as usize];
        for (i, m) in members.iter().enumerate() {
            require!(*m != self.provider && *m != self.challenger, VerificationError::DisputeInvariantViolated);
            require!(!members[..i].contains(m), VerificationError::DisputeInvariantViolated);
        }
        Ok(())
    }

    pub fn require_unresolved(&self) -> Result<()> {
        require!(self.outcome == DisputeOutcome::Pending, VerificationError::AlreadyResolved);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dispute(votes: &[u8]) -> Dispute {
        let mut v = [0u8; MAX_QUORUM as usize];
        v[..votes.len()].copy_from_slice(votes);
        Dispute {
            job: Pubkey::default(),
            market: Pubkey::default(),
            challenger: Pubkey::default(),
            provider: Pubkey::default(),
            pool: Pubkey::default(),
            bond: 0,
            opened_at: 0,
            quorum: votes.len() as u8,
            min_stake: 0,
            draw_slot: 0,
            draw_deadline: 0,
            seed: [0; 32],
            candidate_count: 0,
            draw_step: 0,
            commit_end: 1,
            reveal_end: 2,
            members: [Pubkey::default(); MAX_QUORUM as usize],
            member_count: votes.len() as u8,
            commitments: [[0; 32]; MAX_QUORUM as usize],
            votes: v,
            settled_mask: 0,
            outcome: DisputeOutcome::Pending,
            vote_penalty: 0,
            bump: 0,
        }
    }

    #[test]
    fn tally_needs_a_revealed_majority_and_breaks_ties_to_no_quorum() {
        use DisputeOutcome::*;
        let (c, w) = (VOTE_RESULT_CORRECT, VOTE_RESULT_WRONG);
        assert_eq!(dispute(&[w, w, c]).tally(), ProviderWrong);
        assert_eq!(dispute(&[c, c, w]).tally(), ProviderRight);
        assert_eq!(dispute(&[w, 0, 0]).tally(), NoQuorum, "1 of 3 revealed");
        assert_eq!(dispute(&[w, c, 0]).tally(), NoQuorum, "tie");
        assert_eq!(dispute(&[w, w, 0]).tally(), ProviderWrong, "2 of 3 revealed, both wrong");
        assert_eq!(dispute(&[c]).tally(), ProviderRight);
        let a = VOTE_ABSTAIN;
        assert_eq!(dispute(&[a, a, a]).tally(), NoQuorum, "nobody could verify");
        assert_eq!(dispute(&[w, a, a]).tally(), NoQuorum, "one deciding vote of three");
        assert_eq!(dispute(&[w, w, a]).tally(), ProviderWrong);
    }

    #[test]
    fn abstentions_are_penalised_only_when_the_others_decided() {
        let (w, a) = (VOTE_RESULT_WRONG, VOTE_ABSTAIN);
        let mut d = dispute(&[w, w, a]);
        d.outcome = DisputeOutcome::ProviderWrong;
        assert_eq!((d.penalised(0), d.penalised(2)), (false, true));
        let mut d = dispute(&[a, a, 0]);
        d.outcome = DisputeOutcome::NoQuorum;
        assert_eq!((d.penalised(0), d.penalised(1), d.penalised(2)), (false, false, true));
    }

    #[test]
    fn penalties_hit_non_revealers_and_the_losing_side() {
        let (c, w) = (VOTE_RESULT_CORRECT, VOTE_RESULT_WRONG);
        let mut d = dispute(&[w, c, 0]);
        d.votes[1] = c;
        d.outcome = DisputeOutcome::ProviderWrong;
        assert_eq!((d.penalised(0), d.penalised(1), d.penalised(2)), (false, true, true));
        d.outcome = DisputeOutcome::NoQuorum;
        assert_eq!((d.penalised(0), d.penalised(1), d.penalised(2)), (false, false, true));
    }

    #[test]
    fn draw_steps_are_fixed_by_the_seed_and_weighted_by_stake() {
        let seed = selection_seed(&[7; 32], &Pubkey::new_from_array([1; 32]), &Pubkey::new_from_array([2; 32]));
        let picks: Vec<_> = (0..64).map(|s| draw_step_pick(&seed, s, 17, 400)).collect();
        assert_eq!(picks, (0..64).map(|s| draw_step_pick(&seed, s, 17, 400)).collect::<Vec<_>>());
        assert!(picks.iter().all(|(i, t)| *i < 17 && *t < 400));
        let other = selection_seed(&[8; 32], &Pubkey::new_from_array([1; 32]), &Pubkey::new_from_array([2; 32]));
        assert_ne!(picks[..4], (0..4).map(|s| draw_step_pick(&other, s, 17, 400)).collect::<Vec<_>>()[..]);
        // Weight: none below the minimum, linear up to the cap, flat above it.
        assert_eq!(draw_weight(99, 100, 400), 0);
        assert_eq!(draw_weight(100, 100, 400), 100);
        assert_eq!(draw_weight(250, 100, 400), 250);
        assert_eq!(draw_weight(10_000, 100, 400), 400);
        // Acceptance frequency follows the weight (over many steps).
        let accepted = |w: u64| (0..20_000).filter(|s| draw_step_pick(&seed, *s, 1, 400).1 < w).count();
        let (a100, a400) = (accepted(100), accepted(400));
        assert_eq!(a400, 20_000);
        assert!((4_500..5_500).contains(&a100), "about a quarter: {a100}");
    }

    #[test]
    fn draw_randomness_uses_the_first_slot_at_or_after_the_target() {
        let table = |slots: &[u64]| {
            let mut d = (slots.len() as u64).to_le_bytes().to_vec();
            for s in slots {
                d.extend(s.to_le_bytes());
                d.extend([*s as u8; 32]);
            }
            d
        };
        // Newest first, as in the sysvar; slot 12 was skipped.
        let d = table(&[14, 13, 11, 10]);
        assert_eq!(draw_slot_hash(&d, 12), DrawRandomness::Ready { slot: 13, hash: [13; 32] });
        assert_eq!(draw_slot_hash(&d, 10), DrawRandomness::Ready { slot: 10, hash: [10; 32] });
        assert_eq!(draw_slot_hash(&d, 15), DrawRandomness::NotReady);
        let full: Vec<u64> = (0..SLOT_HASHES_MAX_ENTRIES as u64).map(|i| 1_000 - i).collect();
        assert_eq!(draw_slot_hash(&table(&full), 100), DrawRandomness::Stale, "may have aged out");
        assert_eq!(draw_slot_hash(&d[..20], 10), DrawRandomness::NotReady, "truncated data is not a panic");
    }

    #[test]
    fn slot_hash_lookup_parses_the_sysvar_layout() {
        let mut data = 2u64.to_le_bytes().to_vec();
        data.extend(10u64.to_le_bytes());
        data.extend([1u8; 32]);
        data.extend(9u64.to_le_bytes());
        data.extend([2u8; 32]);
        assert_eq!(slot_hash_of(&data, 9), Some([2; 32]));
        assert_eq!(slot_hash_of(&data, 8), None);
        assert_eq!(slot_hash_of(&data[..20], 9), None, "truncated data is not a panic");
    }
}
