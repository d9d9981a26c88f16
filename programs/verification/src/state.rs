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
    pub bond: u64,
    pub opened_at: i64,
    /// Last second of the commit phase (inclusive).
    pub commit_end: i64,
    /// Last second of the reveal phase (inclusive).
    pub reveal_end: i64,
    pub members: [Pubkey; MAX_QUORUM as usize],
    pub member_count: u8,
    pub commitments: [[u8; 32]; MAX_QUORUM as usize],
    /// 0 = none, VOTE_RESULT_CORRECT or VOTE_RESULT_WRONG once revealed.
    pub votes: [u8; MAX_QUORUM as usize],
    /// Bit i set: member i's vote has been settled (penalty applied or not).
    pub settled_mask: u16,
    pub outcome: DisputeOutcome,
    /// Stake a member loses for not revealing or voting with the minority (the job's snapshot).
    pub vote_penalty: u64,
    pub bump: u8,
}

/// `sha256(QUORUM_TAG ‖ slot_hash ‖ job ‖ challenger)`.
pub fn selection_seed(slot_hash: &[u8; 32], job: &Pubkey, challenger: &Pubkey) -> [u8; 32] {
    solana_sha256_hasher::hashv(&[QUORUM_TAG, slot_hash, job.as_ref(), challenger.as_ref()]).to_bytes()
}

/// Draws verifier indices without replacement: a partial Fisher–Yates shuffle of `0..count`
/// driven by `sha256(seed ‖ step_le)`, keeping only the swapped positions (at most one per step),
/// so its memory is bounded by the number of draws, not by `count`.
///
/// Step `i` picks `r = i + (first 8 bytes of sha256(seed ‖ i) as u64 LE) mod (count − i)`, swaps
/// positions `i` and `r` of the virtual array, and yields the value now at position `i`.
#[derive(Clone, Debug)]
pub struct QuorumDraw {
    seed: [u8; 32],
    count: u32,
    step: u32,
    swapped: Vec<(u32, u32)>,
}

impl QuorumDraw {
    pub fn new(seed: [u8; 32], count: u32) -> Self {
        QuorumDraw { seed, count, step: 0, swapped: Vec::new() }
    }

    fn get(&self, pos: u32) -> u32 {
        self.swapped.iter().rev().find(|(p, _)| *p == pos).map(|(_, v)| *v).unwrap_or(pos)
    }

    fn set(&mut self, pos: u32, value: u32) {
        self.swapped.push((pos, value));
    }
}

impl Iterator for QuorumDraw {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        let i = self.step;
        if i >= self.count {
            return None;
        }
        let h = solana_sha256_hasher::hashv(&[&self.seed, &i.to_le_bytes()]).to_bytes();
        let r = i + (u64::from_le_bytes(h[..8].try_into().unwrap()) % (self.count - i) as u64) as u32;
        let (vi, vr) = (self.get(i), self.get(r));
        self.set(r, vi);
        self.set(i, vr);
        self.step += 1;
        Some(vr)
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
    pub fn member_position(&self, key: &Pubkey) -> Option<usize> {
        self.members[..self.member_count as usize].iter().position(|m| m == key)
    }

    pub fn all_revealed(&self) -> bool {
        self.votes[..self.member_count as usize].iter().all(|v| *v != 0)
    }

    /// Majority rule: a side wins with more votes than the other side *and* at least a majority
    /// of the quorum revealed; otherwise `NoQuorum`.
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
    /// it voted against the winning side.
    pub fn penalised(&self, i: usize) -> bool {
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
            bond: 0,
            opened_at: 0,
            commit_end: 0,
            reveal_end: 0,
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
    fn draw_is_a_deterministic_permutation_without_replacement() {
        let seed = selection_seed(&[7; 32], &Pubkey::new_from_array([1; 32]), &Pubkey::new_from_array([2; 32]));
        for count in [1u32, 2, 5, 17] {
            let mut all: Vec<u32> = QuorumDraw::new(seed, count).collect();
            assert_eq!(all, QuorumDraw::new(seed, count).collect::<Vec<_>>(), "deterministic");
            all.sort();
            assert_eq!(all, (0..count).collect::<Vec<_>>(), "every index exactly once");
        }
        let other = selection_seed(&[8; 32], &Pubkey::new_from_array([1; 32]), &Pubkey::new_from_array([2; 32]));
        let first: Vec<u32> = QuorumDraw::new(seed, 17).take(3).collect();
        assert_ne!(first, QuorumDraw::new(other, 17).take(3).collect::<Vec<_>>());
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
