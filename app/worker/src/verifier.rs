//! The verifier role.
use anchor_lang::prelude::Pubkey;
use cinder_jobs::{Job, JobStatus};
use cinder_sdk::{
    fetch, jobs as jsdk,
    verification::{
        self as vsdk, Dispute, DisputeOutcome, VerifierEntry, VerifierSet, VOTE_ABSTAIN, VOTE_RESULT_CORRECT,
        VOTE_RESULT_WRONG,
    },
};

use crate::{
    journal::Entry,
    store::{hex, parse_hex32},
    Metrics, Node, WorkerError,
};

/// The salt of `keypair`'s vote in `dispute`: `sha256(tag ‖ ed25519 signature of (tag ‖
/// dispute))`. Ed25519 signatures are deterministic, so the salt needs no storage and is the same
/// after a restart; nobody without the worker's key can compute it.
pub fn vote_salt(keypair: &solana_keypair::Keypair, dispute: &Pubkey) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    use solana_signer::Signer;
    const TAG: &[u8] = b"cinder.vote-salt.v1";
    let sig = keypair.sign_message(&[TAG, dispute.as_ref()].concat());
    Sha256::new().chain_update(TAG).chain_update(sig.as_ref()).finalize().into()
}

/// Jobs read per `getMultipleAccounts` while scanning (every tick scans from the cursor up to the
/// market's job counter, window by window).
const SCAN: u64 = 64;

pub struct Verifier {
    pub node: Node,
    /// Lowest job id that may still need attention (everything below is closed and settled).
    /// Persisted in the journal, so a restart does not rescan the market's history.
    scan_from: u64,
    /// Registrations this verifier's draws named; checked (and removed when below the minimum)
    /// once no draw of the market is in progress.
    seen_candidates: std::sync::Mutex<std::collections::BTreeSet<Pubkey>>,
}

impl Verifier {
    pub fn new(node: Node) -> Self {
        let scan_from =
            node.journal.meta(&Self::cursor_key(&node)).ok().flatten().and_then(|v| v.parse().ok()).unwrap_or(0);
        Verifier { node, scan_from, seen_candidates: Default::default() }
    }

    fn cursor_key(node: &Node) -> String {
        format!("verifier.scan_from.{}", node.market_key)
    }

    /// The persisted scan cursor: every job below it is closed and its votes settled.
    pub fn scan_from(&self) -> u64 {
        self.scan_from
    }

    pub async fn tick(&mut self) -> Result<usize, WorkerError> {
        // Journaled transactions first: a vote or challenge that landed is not sent again.
        self.node.settle_pending().await?;
        let now = self.node.chain.unix_timestamp().await?;
        let market = self.node.market_state().await?;
        let mut actions = 0;
        let mut all_closed_so_far = true;
        let before = self.scan_from;
        let mut from = self.scan_from;
        let mut to_verify = vec![];
        while from < market.next_job_id {
            let to = market.next_job_id.min(from + SCAN);
            for (id, job) in self.node.jobs(from..to).await? {
                let key = self.node.market.job(id);
                match job {
                    None => {
                        actions += self.settle_votes(&key, id).await?;
                        if all_closed_so_far && self.dispute(&key).await?.is_none() {
                            self.scan_from = id + 1;
                        } else {
                            all_closed_so_far = false;
                        }
                    }
                    Some(job) => {
                        all_closed_so_far = false;
                        if self.needs_verdict(&key, &job, now)? {
                            to_verify.push((key, job));
                        } else {
                            actions += self.attend(key, &job, now).await?;
                        }
                    }
                }
            }
            from = to;
        }
        actions += self.verify_all(to_verify).await?;
        if self.scan_from != before {
            self.node.journal.set_meta(&Self::cursor_key(&self.node), &self.scan_from.to_string())?;
        }
        actions += self.prune_seen().await?;
        Ok(actions)
    }

    /// A submitted result of another provider, in its window, that this verifier has not judged.
    fn needs_verdict(&self, key: &Pubkey, job: &Job, now: i64) -> Result<bool, WorkerError> {
        if job.status != JobStatus::Submitted || job.provider == self.node.me() || now > job.window_end {
            return Ok(false);
        }
        Ok(self.node.journal.get(&key.to_string())?.is_none_or(|e| e.vote.is_none() && e.state != "failed"))
    }

    /// Re-executes `jobs` at most `max_parallel_verifications` at a time, the windows that close
    /// first first, and challenges a wrong result as soon as its verdict is in, against the
    /// chain's clock then. Every verdict is journaled as it comes, so a crash loses none.
    async fn verify_all(&self, mut jobs: Vec<(Pubkey, Job)>) -> Result<usize, WorkerError> {
        use futures_util::StreamExt as _;
        if jobs.is_empty() {
            return Ok(0);
        }
        let limit = self.node.max_parallel_verifications.max(1);
        jobs.sort_by_key(|(_, job)| (job.window_end, job.job_id));
        let mut verdicts = futures_util::stream::iter(jobs)
            .map(|(key, job)| async move {
                let v = self.verdict(&key, &job).await;
                (key, job, v)
            })
            .buffer_unordered(limit);
        let mut actions = 0;
        let mut first_error = None;
        while let Some((key, job, v)) = verdicts.next().await {
            match v {
                Ok(Some(VOTE_RESULT_WRONG)) => {
                    let now = self.node.chain.unix_timestamp().await?;
                    if now <= job.window_end {
                        actions += self.challenge(&key, &job).await?;
                    } else {
                        tracing::warn!(job_id = job.job_id, "a wrong result found after its window closed");
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(job_id = job.job_id, error = %e, "re-execution step failed");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(actions),
        }
    }

    async fn dispute(&self, job: &Pubkey) -> Result<Option<Dispute>, WorkerError> {
        Ok(fetch(self.node.chain.as_ref(), &vsdk::dispute_pda(job)).await?)
    }

    async fn attend(&mut self, key: Pubkey, job: &Job, now: i64) -> Result<usize, WorkerError> {
        let n = &self.node;
        match job.status {
            JobStatus::Claimed if now > job.deadline => {
                let ix = jsdk::expire_job(n.me(), &n.market, &key, job.client, job.provider, n.token_of(&job.client));
                Ok(n.send("expire_job", job.job_id, &[ix]).await.map(|_| 1).unwrap_or(0))
            }
            // A provider that vanished after submitting: anyone may finalize once the window is
            // over, and the payment still goes to the recorded provider.
            JobStatus::Submitted if now > job.window_end => {
                let ix = cinder_sdk::verification::finalize_job(
                    n.me(),
                    &n.market,
                    &key,
                    job.client,
                    job.provider,
                    n.token_of(&job.provider),
                );
                Ok(n.send("finalize_job", job.job_id, &[ix]).await.map(|_| 1).unwrap_or(0))
            }
            JobStatus::Submitted if job.provider != n.me() => {
                let verdict = self.verdict(&key, job).await?;
                if verdict == Some(VOTE_RESULT_WRONG) && now <= job.window_end {
                    return self.challenge(&key, job).await;
                }
                Ok(0)
            }
            JobStatus::Challenged => self.vote_or_resolve(&key, job, now).await,
            _ => Ok(0),
        }
    }

    /// Re-executes the job (once; the verdict is journaled) and compares commitments.
    async fn verdict(&self, key: &Pubkey, job: &Job) -> Result<Option<u8>, WorkerError> {
        let n = &self.node;
        if let Some(e) = n.journal.get(&key.to_string())? {
            if e.vote.is_some() {
                return Ok(e.vote);
            }
            if e.state == "failed" {
                return Ok(None);
            }
        }
        let req = match n.prepare(job).await {
            Ok(r) => r,
            Err(refusal) if refusal.is_transient() => {
                // Not a verdict: try again on the next tick (the window is minutes long).
                tracing::info!(job_id = job.job_id, reason = %refusal, "input temporarily unreachable; retrying later");
                return Ok(None);
            }
            Err(refusal) => {
                tracing::warn!(job_id = job.job_id, reason = %refusal, "cannot re-execute; abstaining");
                let mut e = Entry::new(key.to_string(), job.job_id, "failed");
                e.note = Some(refusal.to_string());
                n.journal.put(&e)?;
                return Ok(None);
            }
        };
        let in_flight = n.metrics.verification_started();
        let out = n.engine.run(req, key.to_bytes(), job.provider.to_bytes()).await;
        drop(in_flight);
        let out = match out {
            Ok(o) => o,
            Err(refusal) => {
                tracing::warn!(job_id = job.job_id, reason = %refusal, "re-execution failed; abstaining");
                return Ok(None);
            }
        };
        Metrics::inc(&n.metrics.results_verified);
        let vote = if out.commitment == job.commitment { VOTE_RESULT_CORRECT } else { VOTE_RESULT_WRONG };
        if vote == VOTE_RESULT_WRONG {
            tracing::warn!(job_id = job.job_id, ours = %hex(&out.commitment), theirs = %hex(&job.commitment), "commitment mismatch");
        } else {
            tracing::info!(job_id = job.job_id, "result verified");
        }
        let mut e = Entry::new(key.to_string(), job.job_id, "verified");
        e.vote = Some(vote);
        e.commitment = Some(hex(&out.commitment));
        n.journal.put(&e)?;
        Ok(Some(vote))
    }

    async fn challenge(&self, key: &Pubkey, job: &Job) -> Result<usize, WorkerError> {
        let n = &self.node;
        let chain = n.chain.as_ref();
        if self.dispute(key).await?.is_some() {
            return Ok(0);
        }
        let set: Option<VerifierSet> = fetch(chain, &vsdk::verifier_set_pda(&n.market_key)).await?;
        if set.map(|s| s.count).unwrap_or(0) as usize <= job.quorum as usize {
            tracing::warn!(job_id = job.job_id, "not enough verifiers for a quorum; cannot challenge");
            return Ok(0);
        }
        n.journal.set_state(&key.to_string(), "challenging", None)?;
        let ix = vsdk::challenge_result(n.me(), n.my_token(), &n.market, key);
        match n.send("challenge_result", job.job_id, &[ix]).await {
            Ok(_) => {
                Metrics::inc(&n.metrics.challenges);
                n.journal.set_state(&key.to_string(), "challenged", None)?;
                Ok(1)
            }
            Err(_) => Ok(0),
        }
    }

    /// Takes the next steps of a dispute's quorum draw (anyone may; every verifier does, so a
    /// challenger that stays silent cannot stall it): first fixes the seed once the draw slot's
    /// hash exists, then passes the (entry, stake) pairs of the next steps.
    async fn draw(&self, key: &Pubkey, job: &Job, d: &Dispute) -> Result<usize, WorkerError> {
        let n = &self.node;
        let chain = n.chain.as_ref();
        let pairs = if d.seed == [0; 32] {
            // Only once the draw slot's hash exists (or has aged out, which retargets): a
            // transaction before that would just fail.
            let Some(sh) = chain.get_account(&vsdk::SLOT_HASHES_SYSVAR).await? else { return Ok(0) };
            if vsdk::draw_slot_hash(&sh.data, d.draw_slot) == vsdk::DrawRandomness::NotReady {
                return Ok(0);
            }
            vec![]
        } else {
            let idx = vsdk::next_draw_indices(d, cinder_verification::MAX_DRAW_PAIRS as usize);
            let keys: Vec<Pubkey> = idx.iter().map(|i| vsdk::verifier_entry_pda(&n.market_key, *i)).collect();
            let entries = chain.get_multiple_accounts(&keys).await?;
            let mut pairs = Vec::with_capacity(idx.len());
            for (i, e) in idx.iter().zip(entries) {
                // A removed registration's index draws nobody: its empty address is passed.
                let verifier = e
                    .filter(|a| a.owner == cinder_verification::ID)
                    .and_then(|a| cinder_sdk::decode::<VerifierEntry>(&a.data))
                    .map(|e| e.verifier)
                    .unwrap_or_default();
                pairs.push((*i, verifier));
            }
            if let Ok(mut seen) = self.seen_candidates.lock() {
                seen.extend(pairs.iter().map(|p| p.1).filter(|v| *v != Pubkey::default()));
            }
            pairs
        };
        let ix = vsdk::draw_quorum(n.me(), &n.market, key, &pairs);
        Ok(n.send("draw_quorum", job.job_id, &[ix]).await.map(|_| 1).unwrap_or(0))
    }

    fn vote_salt(&self, dispute: &Pubkey) -> [u8; 32] {
        vote_salt(&self.node.keypair, dispute)
    }

    /// Removes the registrations its draws named whose active stake fell below the market
    /// minimum (anyone may): they draw nobody and would only use up later draws' step budgets.
    /// Waits until no draw of the market is in progress (removals are refused during one).
    async fn prune_seen(&self) -> Result<usize, WorkerError> {
        let n = &self.node;
        let chain = n.chain.as_ref();
        if self.seen_candidates.lock().map(|s| s.is_empty()).unwrap_or(true) {
            return Ok(0);
        }
        match fetch::<VerifierSet>(chain, &vsdk::verifier_set_pda(&n.market_key)).await? {
            Some(set) if set.drawing == 0 => {}
            _ => return Ok(0),
        }
        let dead: Vec<Pubkey> = match self.seen_candidates.lock() {
            Ok(mut seen) => std::mem::take(&mut *seen).into_iter().filter(|v| *v != n.me()).collect(),
            Err(_) => return Ok(0),
        };
        let min_stake = n.market_state().await?.params.min_stake;
        let stakes = chain.get_multiple_accounts(&dead.iter().map(|v| n.market.stake(v)).collect::<Vec<_>>()).await?;
        let mut removed = 0;
        for (v, s) in dead.iter().zip(stakes) {
            let active = s
                .filter(|a| a.owner == cinder_staking::ID)
                .and_then(|a| cinder_sdk::decode::<cinder_staking::ProviderStake>(&a.data))
                .map(|s| s.active)
                .unwrap_or(0);
            if active >= min_stake {
                continue;
            }
            let Some(set) = fetch::<VerifierSet>(chain, &vsdk::verifier_set_pda(&n.market_key)).await? else { break };
            let Some(marker) =
                fetch::<vsdk::VerifierMarker>(chain, &vsdk::verifier_marker_pda(&n.market_key, v)).await?
            else {
                continue;
            };
            let last_key = vsdk::verifier_entry_pda(&n.market_key, set.count.saturating_sub(1));
            let Some(last) = fetch::<VerifierEntry>(chain, &last_key).await? else { break };
            let ix = vsdk::remove_verifier(n.me(), &n.market, *v, marker.index, set.count, last.verifier);
            if n.send("remove_verifier", 0, &[ix]).await.is_ok() {
                tracing::info!(verifier = %v, active, min_stake, "removed a registration below the minimum stake");
                removed += 1;
            }
        }
        Ok(removed)
    }

    async fn vote_or_resolve(&self, key: &Pubkey, job: &Job, now: i64) -> Result<usize, WorkerError> {
        let n = &self.node;
        let Some(d) = self.dispute(key).await? else { return Ok(0) };
        if d.outcome == DisputeOutcome::Pending && !d.drawn() && !d.draw_exhausted() && now <= d.draw_deadline {
            return self.draw(key, job, &d).await;
        }
        if let (true, Some(i)) = (d.drawn(), d.member_position(&n.me())) {
            if now <= d.commit_end && d.commitments[i] == [0; 32] {
                // A job this verifier cannot serve at all (its input cannot be fetched or is
                // invalid; journaled as failed) gets an abstention: revealed, deciding nothing.
                let vote = match self.verdict(key, job).await? {
                    Some(v) => v,
                    None if n.journal.get(&key.to_string())?.is_some_and(|e| e.state == "failed") => {
                        tracing::warn!(job_id = job.job_id, "cannot verify this job; abstaining");
                        VOTE_ABSTAIN
                    }
                    None => return Ok(0),
                };
                // The salt is derived from the worker's key and the dispute: the same after any
                // restart or lagging read, so a resent commit and the reveal always agree.
                let salt = self.vote_salt(&vsdk::dispute_pda(key));
                // The vote is journaled before the commitment is sent (the reveal also recovers
                // it from the commitment if the journal is lost).
                let mut e = n
                    .journal
                    .get(&key.to_string())?
                    .unwrap_or_else(|| Entry::new(key.to_string(), job.job_id, "verified"));
                e.state = "committing".into();
                e.vote = Some(vote);
                e.salt = Some(hex(&salt));
                n.journal.put(&e)?;
                let c = vsdk::vote_commitment(&vsdk::dispute_pda(key), &n.me(), vote, &salt);
                if n.send("commit_vote", job.job_id, &[vsdk::commit_vote(n.me(), key, c)]).await.is_ok() {
                    Metrics::inc(&n.metrics.votes);
                    n.journal.set_state(&key.to_string(), "committed", None)?;
                    return Ok(1);
                }
                return Ok(0);
            }
            if now > d.commit_end && now <= d.reveal_end && d.commitments[i] != [0; 32] && d.votes[i] == 0 {
                let e = n.journal.get(&key.to_string())?;
                let dispute = vsdk::dispute_pda(key);
                let journaled = e.as_ref().and_then(|e| e.salt.as_deref()).and_then(parse_hex32);
                let salts = journaled.into_iter().chain([self.vote_salt(&dispute)]);
                let votes = [VOTE_RESULT_CORRECT, VOTE_RESULT_WRONG, VOTE_ABSTAIN];
                let found = salts
                    .flat_map(|salt| votes.map(|v| (v, salt)))
                    .find(|(v, salt)| vsdk::vote_commitment(&dispute, &n.me(), *v, salt) == d.commitments[i]);
                let Some((vote, salt)) = found else {
                    tracing::error!(
                        job_id = job.job_id,
                        "the committed vote is not one this worker's key made; cannot reveal"
                    );
                    return Ok(0);
                };
                if n.send("reveal_vote", job.job_id, &[vsdk::reveal_vote(n.me(), key, vote, salt)]).await.is_ok() {
                    Metrics::inc(&n.metrics.votes);
                    n.journal.set_state(&key.to_string(), "revealed", None)?;
                    return Ok(1);
                }
                return Ok(0);
            }
        }
        let over = if d.drawn() { now > d.reveal_end || d.all_revealed() } else { now > d.draw_deadline };
        if d.outcome == DisputeOutcome::Pending && over {
            let parties = vsdk::DisputeParties {
                client: job.client,
                client_token: n.token_of(&job.client),
                provider: job.provider,
                provider_token: n.token_of(&job.provider),
                challenger: d.challenger,
                challenger_token: n.token_of(&d.challenger),
            };
            let ix = vsdk::resolve_dispute(n.me(), &n.market, key, &parties);
            return Ok(n.send("resolve_dispute", job.job_id, &[ix]).await.map(|_| 1).unwrap_or(0));
        }
        Ok(0)
    }

    /// After a dispute is resolved (its job closed), settles every member's vote; the last one
    /// closes the dispute.
    async fn settle_votes(&self, key: &Pubkey, id: u64) -> Result<usize, WorkerError> {
        let n = &self.node;
        let Some(d) = self.dispute(key).await? else { return Ok(0) };
        if d.outcome == DisputeOutcome::Pending {
            return Ok(0);
        }
        let mut actions = 0;
        for (i, m) in d.members[..d.member_count as usize].iter().enumerate() {
            if d.settled_mask & (1 << i) == 0 {
                let ix = vsdk::settle_vote(n.me(), &n.market, key, m, d.challenger);
                if n.send("settle_vote", id, &[ix]).await.is_ok() {
                    actions += 1;
                }
            }
        }
        if actions > 0 {
            let _ = n.journal.set_state(&key.to_string(), "done", Some("dispute settled"));
        }
        Ok(actions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vote_salts_are_deterministic_per_key_and_dispute() {
        let (k1, k2) =
            (solana_keypair::Keypair::new_from_array([1; 32]), solana_keypair::Keypair::new_from_array([2; 32]));
        let (d1, d2) = (Pubkey::new_from_array([1; 32]), Pubkey::new_from_array([2; 32]));
        let again = solana_keypair::Keypair::new_from_array([1; 32]);
        assert_eq!(vote_salt(&k1, &d1), vote_salt(&again, &d1), "the same after a restart");
        assert_ne!(vote_salt(&k1, &d1), vote_salt(&k1, &d2), "per dispute");
        assert_ne!(vote_salt(&k1, &d1), vote_salt(&k2, &d1), "per worker key");
    }
}
