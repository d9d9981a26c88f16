//! Accounts of the jobs program, the job state machine and the money math.
//!
//! Rounding policy: every split is computed in u128 with floor rounding; the *named sink* of each
//! split takes the remainder so that the parts always sum exactly to the whole:
//! * payment P, fee bps f: `fee = floor(P·f / 10 000)` to the treasury, `P − fee` to the provider;
//! * a slash S with reward bps r: `reward = floor(S·r / 10 000)`, `S − reward` to the treasury
//!   (computed by the staking program).
use anchor_lang::prelude::*;

use crate::{constants::*, error::JobsError};

#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct ProtocolConfig {
    /// Can pause, change the fee (≤ MAX_FEE_BPS, future jobs only), the treasury and the admin,
    /// and register models. Cannot move escrowed or staked tokens.
    pub admin: Pubkey,
    /// Wallet that owns the treasury token accounts (one per mint) fees and slashes go to.
    pub treasury: Pubkey,
    pub protocol_fee_bps: u16,
    /// Blocks `post_job` and `claim_job` only; refunds, settlements and withdrawals always work.
    pub paused: bool,
    /// The stake pool of a mint is `staking::[POOL_SEED, stake_pool_creator, mint]`.
    pub stake_pool_creator: Pubkey,
    pub verification_program: Pubkey,
    /// `[VERIFICATION_AUTHORITY_SEED]` under `verification_program`: the only signer of the
    /// verification-gated instructions.
    pub verification_authority: Pubkey,
    pub jobs_authority_bump: u8,
    pub bump: u8,
    pub _reserved: [u8; 32],
}

#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Model {
    /// SHA-256 of the model's files manifest (docs/COMMITMENT.md §1).
    pub model_id: [u8; 32],
    #[max_len(MAX_NAME_LEN)]
    pub name: String,
    #[max_len(MAX_ARCH_LEN)]
    pub architecture: String,
    /// Inference engine version whose commitments this model's markets compare.
    pub engine_version: u32,
    pub registered_by: Pubkey,
    pub bump: u8,
}

/// Parameters of a market. Changing them affects only jobs posted afterwards: each job keeps a
/// snapshot of what it needs.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct MarketParams {
    /// Minimum payment per job (raw token units).
    pub price: u64,
    /// Seconds from claim to the result deadline.
    pub job_timeout_secs: i64,
    /// Seconds after a result during which it can be challenged.
    pub challenge_window_secs: i64,
    /// Stake a provider locks per job.
    pub collateral: u64,
    /// Stake a provider or verifier needs in the pool.
    pub min_stake: u64,
    /// Bond a challenger deposits.
    pub challenge_bond: u64,
    /// Share of a wrong provider's slash paid to the challenger (the rest: treasury).
    pub challenger_reward_bps: u16,
    /// Share of an expired provider's slash paid to the client (the rest: treasury).
    pub timeout_client_bps: u16,
    /// Verifiers drawn for a dispute.
    pub quorum: u8,
    /// Seconds of the commit phase; the reveal phase lasts as long again.
    pub voting_period_secs: i64,
    /// Stake slashed from a drawn verifier who votes with the minority or never reveals.
    pub vote_penalty: u64,
}

impl MarketParams {
    /// Every term within its documented range (docs/ARCHITECTURE.md, "Market terms"): durations
    /// are positive and at most their `MAX_*` constants (so no deadline arithmetic can overflow),
    /// the vote penalty is at most the verifier stake (`min_stake`), shares are below 100%.
    pub fn validate(&self) -> Result<()> {
        require!(self.price > 0, JobsError::InvalidMarketParams);
        require!((1..=MAX_JOB_TIMEOUT_SECS).contains(&self.job_timeout_secs), JobsError::MarketTermOutOfRange);
        require!(
            (1..=MAX_CHALLENGE_WINDOW_SECS).contains(&self.challenge_window_secs),
            JobsError::MarketTermOutOfRange
        );
        require!(
            (MIN_VOTING_PERIOD_SECS..=MAX_VOTING_PERIOD_SECS).contains(&self.voting_period_secs),
            JobsError::MarketTermOutOfRange
        );
        require!(self.vote_penalty <= self.min_stake, JobsError::MarketTermOutOfRange);
        require!(self.collateral > 0 && self.challenge_bond > 0, JobsError::InvalidMarketParams);
        require!(self.min_stake >= self.collateral, JobsError::InvalidMarketParams);
        // Strictly below 100%, so a reward is always smaller than the slash that pays it.
        require!(self.challenger_reward_bps < BPS_DENOMINATOR as u16, JobsError::InvalidMarketParams);
        require!(self.timeout_client_bps < BPS_DENOMINATOR as u16, JobsError::InvalidMarketParams);
        require!(self.quorum >= 1 && self.quorum <= MAX_QUORUM && self.quorum % 2 == 1, JobsError::InvalidMarketParams);
        Ok(())
    }

    /// What a client names in `post_job` (`expected_terms`): `sha256(TERMS_TAG ‖ borsh(params) ‖
    /// protocol_fee_bps as u16 LE)`. Any change of the market's terms or of the protocol fee
    /// between the client's read and its post makes the post fail with `MarketTermsChanged`.
    pub fn terms_hash(&self, protocol_fee_bps: u16) -> [u8; 32] {
        let params = anchor_lang::prelude::borsh::to_vec(self).expect("borsh of a fixed-size struct");
        solana_sha256_hasher::hashv(&[TERMS_TAG, &params, &protocol_fee_bps.to_le_bytes()]).to_bytes()
    }
}

#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Market {
    pub creator: Pubkey,
    pub model: Pubkey,
    pub model_id: [u8; 32],
    pub mint: Pubkey,
    pub token_program: Pubkey,
    /// Stake pool of the mint (staking program).
    pub pool: Pubkey,
    /// Treasury token account of the mint (owned by `config.treasury`).
    pub treasury_token: Pubkey,
    pub params: MarketParams,
    /// Id of the next job posted (the counter; job ids cannot be chosen, so cannot be squatted).
    pub next_job_id: u64,
    /// Lowest job id that may still be an open, undesignated job: the queue head.
    pub queue_head: u64,
    pub jobs_finalized: u64,
    pub jobs_slashed: u64,
    pub jobs_expired: u64,
    pub jobs_cancelled: u64,
    pub bump: u8,
    pub _reserved: [u8; 32],
}

#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Provider {
    pub authority: Pubkey,
    #[max_len(MAX_ENDPOINT_LEN)]
    pub endpoint: String,
    /// X25519 public key for encrypted prompts.
    pub x25519_pubkey: [u8; 32],
    #[max_len(MAX_PROVIDER_MODELS)]
    pub models: Vec<[u8; 32]>,
    pub jobs_claimed: u64,
    pub jobs_completed: u64,
    pub jobs_failed: u64,
    pub jobs_slashed: u64,
    pub registered_at: i64,
    pub bump: u8,
}

/// Decoding parameters of a job (they enter the result commitment).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace, Default)]
pub struct InferenceParams {
    pub max_tokens: u32,
    /// IEEE-754 binary32 bit pattern (0 = greedy).
    pub temperature_bits: u32,
    pub top_k: u32,
    /// IEEE-754 binary32 bit pattern.
    pub top_p_bits: u32,
    pub seed: u64,
    /// 0 = f32, 1 = f16, 2 = bf16.
    pub dtype: u8,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum JobStatus {
    Open,
    Claimed,
    Submitted,
    Challenged,
}

#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Job {
    pub market: Pubkey,
    pub job_id: u64,
    /// Posted and paid; receives refunds and the job's rent.
    pub client: Pubkey,
    /// A provider the client chose, if any (the job then bypasses the queue).
    pub designated: Option<Pubkey>,
    /// The provider who claimed it (default until claimed).
    pub provider: Pubkey,
    pub status: JobStatus,
    pub payment: u64,
    /// Snapshots taken when the job was posted.
    pub fee_bps: u16,
    pub collateral: u64,
    pub job_timeout_secs: i64,
    pub challenge_window_secs: i64,
    /// The market terms that decide this job's money, as they were when it was posted: a later
    /// `update_market` never changes them.
    pub challenger_reward_bps: u16,
    pub timeout_client_bps: u16,
    pub challenge_bond: u64,
    pub quorum: u8,
    pub voting_period_secs: i64,
    pub vote_penalty: u64,
    pub input_hash: [u8; 32],
    #[max_len(MAX_URI_LEN)]
    pub input_uri: String,
    pub params: InferenceParams,
    pub posted_at: i64,
    pub claimed_at: i64,
    /// Last second at which a result is accepted (inclusive).
    pub deadline: i64,
    pub submitted_at: i64,
    /// Last second at which the result can be challenged (inclusive).
    pub window_end: i64,
    pub commitment: [u8; 32],
    pub output_hash: [u8; 32],
    #[max_len(MAX_URI_LEN)]
    pub output_uri: String,
    pub bump: u8,
}

/// How a settled job's payment is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentSplit {
    pub to_provider: u64,
    pub fee: u64,
}

/// `fee = floor(amount · fee_bps / 10 000)`; the provider takes the remainder.
pub fn split_payment(amount: u64, fee_bps: u16) -> PaymentSplit {
    let fee = (amount as u128 * fee_bps as u128 / BPS_DENOMINATOR as u128) as u64;
    PaymentSplit { to_provider: amount - fee, fee }
}

impl Job {
    pub fn escrow_seed(job: &Pubkey) -> [u8; 32] {
        job.to_bytes()
    }

    pub fn claim(&mut self, provider: Pubkey, now: i64) -> Result<()> {
        require!(self.status == JobStatus::Open, JobsError::JobNotOpen);
        if let Some(d) = self.designated {
            require_keys_eq!(d, provider, JobsError::DesignatedToAnotherProvider);
        }
        self.status = JobStatus::Claimed;
        self.provider = provider;
        self.claimed_at = now;
        self.deadline = now.checked_add(self.job_timeout_secs).ok_or(JobsError::ArithmeticOverflow)?;
        self.invariant()
    }

    /// Submitted → Challenged, within the window (inclusive).
    pub fn mark_challenged(&mut self, now: i64) -> Result<()> {
        require!(self.status == JobStatus::Submitted, JobsError::JobNotSubmitted);
        require!(now <= self.window_end, JobsError::ChallengeWindowClosed);
        self.status = JobStatus::Challenged;
        self.invariant()
    }

    /// What must hold in every state: the timestamps of the phases reached are ordered, a
    /// designated job is only ever claimed by its provider, and a job without a provider is Open.
    pub fn invariant(&self) -> Result<()> {
        let ok = match self.status {
            JobStatus::Open => self.provider == Pubkey::default() && self.claimed_at == 0 && self.submitted_at == 0,
            JobStatus::Claimed => {
                self.claimed_at >= self.posted_at && self.deadline >= self.claimed_at && self.submitted_at == 0
            }
            JobStatus::Submitted | JobStatus::Challenged => {
                self.submitted_at >= self.claimed_at
                    && self.submitted_at <= self.deadline
                    && self.window_end >= self.submitted_at
            }
        };
        let designated_ok = match (self.status, self.designated) {
            (JobStatus::Open, _) | (_, None) => true,
            (_, Some(d)) => d == self.provider,
        };
        require!(ok && designated_ok && self.payment > 0, JobsError::JobInvariantViolated);
        Ok(())
    }

    /// Claimed → Submitted, by the assigned provider, at or before the deadline.
    pub fn record_result(&mut self, commitment: [u8; 32], output_hash: [u8; 32], uri: String, now: i64) -> Result<()> {
        require!(self.status == JobStatus::Claimed, JobsError::JobNotClaimed);
        require!(now <= self.deadline, JobsError::ResultDeadlinePassed);
        self.status = JobStatus::Submitted;
        self.commitment = commitment;
        self.output_hash = output_hash;
        self.output_uri = uri;
        self.submitted_at = now;
        self.window_end = now.checked_add(self.challenge_window_secs).ok_or(JobsError::ArithmeticOverflow)?;
        self.invariant()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_split_sums_exactly() {
        for amount in [0u64, 1, 999, 10_001, 123_456_789, u64::MAX] {
            for bps in [0u16, 1, 250, 999, MAX_FEE_BPS] {
                let s = split_payment(amount, bps);
                assert_eq!(s.to_provider + s.fee, amount);
                assert!(s.fee <= amount / 10 + 1);
            }
        }
        assert_eq!(split_payment(1_000, 250), PaymentSplit { to_provider: 975, fee: 25 });
        assert_eq!(
            split_payment(39, 250),
            PaymentSplit { to_provider: 39, fee: 0 },
            "floor: dust favours the provider"
        );
    }

    #[test]
    fn market_params_reject_reward_of_100_percent_and_even_quorum() {
        let ok = MarketParams {
            price: 1,
            job_timeout_secs: 1,
            challenge_window_secs: 1,
            collateral: 1,
            min_stake: 1,
            challenge_bond: 1,
            challenger_reward_bps: 9_999,
            timeout_client_bps: 0,
            quorum: 3,
            voting_period_secs: MIN_VOTING_PERIOD_SECS,
            vote_penalty: 0,
        };
        ok.validate().unwrap();
        assert!(MarketParams { challenger_reward_bps: 10_000, ..ok }.validate().is_err());
        assert!(MarketParams { quorum: 2, ..ok }.validate().is_err());
        assert!(MarketParams { min_stake: 0, ..ok }.validate().is_err());
        assert!(MarketParams { voting_period_secs: MIN_VOTING_PERIOD_SECS - 1, ..ok }.validate().is_err());
    }

    fn open_job(designated: Option<Pubkey>) -> Job {
        Job {
            market: Pubkey::new_unique(),
            job_id: 0,
            client: Pubkey::new_unique(),
            designated,
            provider: Pubkey::default(),
            status: JobStatus::Open,
            payment: 10,
            fee_bps: 0,
            collateral: 1,
            job_timeout_secs: 100,
            challenge_window_secs: 50,
            challenger_reward_bps: 0,
            timeout_client_bps: 0,
            challenge_bond: 1,
            quorum: 1,
            voting_period_secs: 1,
            vote_penalty: 0,
            input_hash: [0; 32],
            input_uri: String::new(),
            params: InferenceParams::default(),
            posted_at: 1_000,
            claimed_at: 0,
            deadline: 0,
            submitted_at: 0,
            window_end: 0,
            commitment: [0; 32],
            output_hash: [0; 32],
            output_uri: String::new(),
            bump: 0,
        }
    }

    #[test]
    fn job_transitions_follow_the_status_graph_and_keep_the_invariant() {
        let p = Pubkey::new_unique();
        let mut j = open_job(None);
        j.invariant().unwrap();
        assert!(j.mark_challenged(1_001).is_err(), "Open cannot be challenged");
        assert!(j.record_result([1; 32], [2; 32], String::new(), 1_001).is_err(), "Open has no result");
        j.claim(p, 1_010).unwrap();
        assert_eq!((j.status, j.deadline), (JobStatus::Claimed, 1_110));
        assert!(j.claim(p, 1_011).is_err(), "claimed twice");
        assert!(j.record_result([1; 32], [2; 32], String::new(), 1_111).is_err(), "after the deadline");
        j.record_result([1; 32], [2; 32], String::new(), 1_110).unwrap();
        assert_eq!((j.status, j.window_end), (JobStatus::Submitted, 1_160));
        assert!(j.mark_challenged(1_161).is_err(), "after the window");
        j.mark_challenged(1_160).unwrap();
        assert_eq!(j.status, JobStatus::Challenged);
        // A designated job is claimed by its provider only.
        let mut d = open_job(Some(p));
        assert!(d.claim(Pubkey::new_unique(), 1_010).is_err());
        d.claim(p, 1_010).unwrap();
        // A broken state is caught.
        let mut bad = open_job(None);
        bad.provider = p;
        assert!(bad.invariant().is_err(), "an Open job with a provider");
    }

    #[test]
    fn pinned_account_sizes() {
        // Job: 8 + market 32 + id 8 + client 32 + designated 33 + provider 32 + status 1 + payment 8
        // + fee 2 + collateral 8 + 2 timeouts 16 + term snapshots 29 + input hash 32 + input uri 4+200
        // + params 25 + 5 timestamps 40 + commitment 32 + output hash 32 + output uri 4+200 + bump 1.
        assert_eq!(8 + Job::INIT_SPACE, 779);
        // MarketParams: 8 × u64/i64 + 2 × u16 + u8 = 69.
        assert_eq!(MarketParams::INIT_SPACE, 69);
        assert_eq!(8 + Market::INIT_SPACE, 8 + 6 * 32 + 32 + 69 + 6 * 8 + 1 + 32);
    }
}
