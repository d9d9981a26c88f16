//! The provider role.
use cinder_jobs::{Job, JobStatus};
use cinder_sdk::{jobs as jsdk, verification as vsdk};

use crate::{
    journal::Entry,
    store::{hex, parse_hex32},
    CrashPoint, Metrics, Node, WorkerError,
};

/// How far past the queue head a provider looks for work in one tick.
const SCAN: u64 = cinder_jobs::MAX_QUEUE_ADVANCE as u64;
/// Journal state of a job whose input could not be fetched for a transient reason: retried every
/// tick, expired (client refunded) once its open timeout passes, like a refused one.
pub const WAITING_INPUT: &str = "waiting_input";
/// Jobs read per `getMultipleAccounts` when looking past the head for designated jobs.
const DESIGNATED_SCAN: u64 = 100;

pub struct Provider {
    pub node: Node,
    /// TESTING ONLY (cargo feature `testing`): jobs for which this provider commits to a wrong
    /// result. Release builds of `cinder-worker` do not have it.
    #[cfg(feature = "testing")]
    pub dishonest_job_ids: Vec<u64>,
    /// TESTING ONLY: stop as if crashed at this point (once).
    pub crash_at: Option<CrashPoint>,
}

impl Provider {
    pub fn new(node: Node) -> Self {
        Provider {
            node,
            #[cfg(feature = "testing")]
            dishonest_job_ids: vec![],
            crash_at: None,
        }
    }

    fn crash(&mut self, at: CrashPoint) -> Result<(), WorkerError> {
        if self.crash_at == Some(at) {
            self.crash_at = None;
            return Err(WorkerError::Crashed(at));
        }
        Ok(())
    }

    /// One round: reconcile and advance every journaled job, then try to claim one new job.
    /// Returns how many actions were taken.
    pub async fn tick(&mut self) -> Result<usize, WorkerError> {
        let undecided = self.node.settle_pending().await?;
        let now = self.node.chain.unix_timestamp().await?;
        let mut actions = 0;
        for e in self.node.journal.open_entries()? {
            actions += self.advance(e, now).await?;
        }
        // One claim at a time: while an earlier claim may still land, claim nothing new.
        if !undecided.iter().any(|p| p.action == "claim_job") {
            actions += self.try_claim(now).await?;
        }
        Ok(actions)
    }

    async fn advance(&mut self, e: Entry, now: i64) -> Result<usize, WorkerError> {
        let n = &self.node;
        let Some(job) = n.job(e.job_id).await? else {
            n.journal.set_state(&e.job, "done", Some("job closed"))?;
            return Ok(0);
        };
        if job.provider != n.me() {
            if e.state == "claiming" && job.status == JobStatus::Open {
                // A journaled claim that may still land decides nothing yet: wait for its verdict.
                if n.undecided("claim_job", e.job_id).await? {
                    return Ok(0);
                }
                n.journal.set_state(&e.job, "failed", Some("claim did not land"))?;
            } else {
                n.journal.set_state(&e.job, "failed", Some("another provider holds the job"))?;
            }
            return Ok(0);
        }
        match job.status {
            JobStatus::Claimed if now > job.deadline => {
                n.journal.set_state(&e.job, "failed", Some("deadline passed before the result was sent"))?;
                Ok(0)
            }
            JobStatus::Claimed => self.submit(e, &job).await,
            JobStatus::Submitted => {
                let ours = e.commitment.as_deref().and_then(parse_hex32);
                if e.state == "submitting" && ours == Some(job.commitment) {
                    n.journal.set_state(&e.job, "submitted", Some("found on chain after restart"))?;
                }
                if now > job.window_end {
                    return self.finalize(&e, &job).await;
                }
                Ok(0)
            }
            JobStatus::Challenged => {
                if e.state != "challenged" {
                    n.journal.set_state(&e.job, "challenged", None)?;
                    tracing::warn!(job_id = job.job_id, "our result was challenged; the quorum decides");
                }
                Ok(0)
            }
            JobStatus::Open => Ok(0),
        }
    }

    /// Runs the job (unless its commitment is already journaled) and submits the commitment.
    async fn submit(&mut self, mut e: Entry, job: &Job) -> Result<usize, WorkerError> {
        let job_key = self.node.market.job(job.job_id);
        if e.state != "submitting" {
            let req = match self.node.prepare(job).await {
                Ok(r) => r,
                Err(refusal) => {
                    // The input changed or vanished after the claim: the job will expire; say why.
                    tracing::error!(job_id = job.job_id, reason = %refusal, "cannot run a claimed job");
                    self.node.journal.set_state(&e.job, "failed", Some(&refusal.to_string()))?;
                    return Ok(0);
                }
            };
            let out = match self.node.engine.run(req, job_key.to_bytes(), self.node.me().to_bytes()).await {
                Ok(o) => o,
                Err(refusal) => {
                    tracing::error!(job_id = job.job_id, reason = %refusal, "inference failed");
                    self.node.journal.set_state(&e.job, "failed", Some(&refusal.to_string()))?;
                    return Ok(0);
                }
            };
            Metrics::inc(&self.node.metrics.inferences);
            self.node.metrics.inference_ms_total.fetch_add(out.millis, std::sync::atomic::Ordering::Relaxed);
            self.crash(CrashPoint::AfterInference)?;
            let doc = serde_json::to_vec(&out.doc).expect("output document serialises");
            let doc_hash = self.node.store.put(&doc)?;
            #[allow(unused_mut)]
            let mut commitment = out.commitment;
            #[cfg(feature = "testing")]
            if self.dishonest_job_ids.contains(&job.job_id) {
                commitment[0] ^= 0xff;
                tracing::warn!(job_id = job.job_id, "DISHONEST (testing flag): committing to a wrong result");
            }
            e.state = "submitting".into();
            e.commitment = Some(hex(&commitment));
            e.output_hash = Some(hex(&out.output_hash));
            e.output_uri = Some(self.node.object_uri(&doc_hash));
            self.node.journal.put(&e)?;
            tracing::info!(
                job_id = job.job_id,
                tokens = out.doc.output_token_ids.len(),
                ms = out.millis,
                "inference done"
            );
        }
        self.crash(CrashPoint::BeforeSubmit)?;
        let commitment = e.commitment.as_deref().and_then(parse_hex32).expect("journaled commitment is hex");
        let output_hash = e.output_hash.as_deref().and_then(parse_hex32).expect("journaled output hash is hex");
        let ix = vsdk::submit_result(
            self.node.me(),
            job_key,
            vsdk::SubmitResultArgs { commitment, output_hash, output_uri: e.output_uri.clone().unwrap_or_default() },
        );
        match self.node.send("submit_result", job.job_id, &[ix]).await {
            Ok(_) => {
                Metrics::inc(&self.node.metrics.results_submitted);
                self.crash(CrashPoint::AfterSubmit)?;
                self.node.journal.set_state(&e.job, "submitted", None)?;
                Ok(1)
            }
            // Left as "submitting": the next tick reconciles with the chain.
            Err(_) => Ok(0),
        }
    }

    async fn finalize(&self, e: &Entry, job: &Job) -> Result<usize, WorkerError> {
        let n = &self.node;
        n.journal.set_state(&e.job, "finalizing", None)?;
        let ix = vsdk::finalize_job(n.me(), &n.market, &n.market.job(job.job_id), job.client, n.me(), n.my_token());
        if n.send("finalize_job", job.job_id, &[ix]).await.is_ok() {
            Metrics::inc(&n.metrics.jobs_finalized);
            n.journal.set_state(&e.job, "done", Some("finalized"))?;
            return Ok(1);
        }
        Ok(0)
    }

    /// Claims the first job this provider may take: the queue head (skipping dead slots) or a job
    /// designated to it. The input is fetched and checked *before* claiming; a job that cannot be
    /// served is refused (journaled with the reason) and, once its open timeout passes, expired so
    /// the client is refunded.
    async fn try_claim(&mut self, now: i64) -> Result<usize, WorkerError> {
        let n = &self.node;
        let market = n.market_state().await?;
        let me = n.me();
        let mut skips = vec![];
        let mut at_head = true;
        // Dead slots from the head up to the first live job: too many for a claim to skip, or a
        // window with nothing else, and the worker moves the head on (`advance_queue`).
        let (mut prefix, mut in_prefix) = (vec![], true);
        let window = market.queue_head..market.next_job_id.min(market.queue_head + SCAN);
        let window_len = window.end - window.start;
        // Past the head window only jobs designated to this provider can be claimed; they are
        // looked for up to the market's counter, window by window.
        let mut all = vec![];
        let mut from = market.queue_head;
        while from < market.next_job_id {
            let to = market.next_job_id.min(from + DESIGNATED_SCAN);
            all.extend(n.jobs(from..to).await?);
            from = to;
        }
        for (id, job) in all {
            if id >= window.end {
                at_head = false;
                in_prefix = false;
                if !job.as_ref().is_some_and(|j| j.designated == Some(me) && j.status == JobStatus::Open) {
                    continue;
                }
            }
            let Some(job) = job else {
                skips.push(id);
                if in_prefix {
                    prefix.push(id);
                }
                continue;
            };
            let mine = job.designated == Some(me);
            let dead = job.status != JobStatus::Open || job.designated.is_some();
            if dead && in_prefix {
                prefix.push(id);
            }
            in_prefix &= dead;
            let dead = job.status != JobStatus::Open || (job.designated.is_some() && !mine);
            if dead {
                skips.push(id);
                continue;
            }
            if !(mine || at_head) {
                continue;
            }
            let key = n.market.job(id).to_string();
            let earlier = n.journal.get(&key)?.filter(|e| e.state == "refused" || e.state == WAITING_INPUT);
            if let Some(r) = earlier.clone() {
                if now > job.posted_at + job.job_timeout_secs {
                    let ix = jsdk::expire_open_job(me, job.client, n.token_of(&job.client), &n.market, id);
                    if n.send("expire_open_job", id, &[ix]).await.is_ok() {
                        let note = format!("{}; expired open, client refunded", r.note.as_deref().unwrap_or("refused"));
                        n.journal.set_state(&key, "done", Some(&note))?;
                        return Ok(1);
                    }
                }
                if r.state == "refused" {
                    tracing::debug!(job_id = id, reason = r.note.as_deref().unwrap_or(""), "refused job at the head");
                    at_head = false;
                    continue;
                }
            }
            if let Err(refusal) = n.prepare(&job).await {
                if refusal.is_transient() {
                    // Not a refusal: the input's source may come back before the job times out.
                    tracing::info!(job_id = id, reason = %refusal, "input temporarily unreachable; retrying next tick");
                    let mut e = Entry::new(key, id, WAITING_INPUT);
                    e.note = Some(refusal.to_string());
                    n.journal.put(&e)?;
                    at_head = false;
                    continue;
                }
                tracing::warn!(job_id = id, reason = %refusal, "refusing job: it will expire and the client will be refunded");
                let mut e = Entry::new(key, id, "refused");
                e.note = Some(refusal.to_string());
                n.journal.put(&e)?;
                Metrics::inc(&n.metrics.jobs_refused);
                at_head = false;
                continue;
            }
            let skip = if mine { vec![] } else { skips.clone() };
            if skip.len() > cinder_jobs::MAX_QUEUE_SKIP as usize {
                return self.advance_queue(&prefix).await;
            }
            n.journal.put(&Entry::new(key.clone(), id, "claiming"))?;
            let ix = jsdk::claim_job(me, &n.market, id, &skip);
            return match n.send("claim_job", id, &[ix]).await {
                Ok(_) => {
                    Metrics::inc(&n.metrics.jobs_claimed);
                    n.journal.set_state(&key, "claimed", None)?;
                    Ok(1)
                }
                Err(e) if e.is_definitive() => {
                    // The chain is the judge, not the answer: if the job is ours after all (a
                    // node that calls a resent, landed claim a failure), serve it.
                    if n.job(id).await?.is_some_and(|j| j.provider == me && j.status != JobStatus::Open) {
                        tracing::warn!(job_id = id, error = %e, "claim reported failed but the job is ours; serving it");
                        Metrics::inc(&n.metrics.jobs_claimed);
                        n.journal.set_state(&key, "claimed", Some("claim reported failed, found ours on chain"))?;
                        return Ok(1);
                    }
                    n.journal.set_state(&key, "failed", Some(&format!("claim failed: {e}")))?;
                    Ok(0)
                }
                // Ambiguous (a timeout, a dropped answer): the claim may have landed. The entry
                // stays "claiming" and the next tick resolves the journaled signature.
                Err(_) => Ok(0),
            };
        }
        if !prefix.is_empty()
            && (prefix.len() > cinder_jobs::MAX_QUEUE_SKIP as usize || prefix.len() as u64 == window_len)
        {
            return self.advance_queue(&prefix).await;
        }
        Ok(0)
    }

    /// Moves the market's queue head past `dead` (consecutive dead slots from the head), at most
    /// `MAX_QUEUE_ADVANCE` per transaction.
    async fn advance_queue(&self, dead: &[u64]) -> Result<usize, WorkerError> {
        let n = &self.node;
        let dead = &dead[..dead.len().min(cinder_jobs::MAX_QUEUE_ADVANCE as usize)];
        let ix = jsdk::advance_queue(n.me(), &n.market, dead);
        match n.send("advance_queue", dead[0], &[ix]).await {
            Ok(_) => {
                tracing::info!(from = dead[0], to = dead[dead.len() - 1] + 1, "moved the queue head past dead slots");
                Ok(1)
            }
            Err(_) => Ok(0),
        }
    }
}
