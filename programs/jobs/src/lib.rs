//! # Cinder jobs
//!
//! Protocol config, the model registry, markets (per model and mint), providers, job posting,
//! matching and timeouts. Money never sits here: each job's payment is in its own escrow (escrow
//! program, controller = this program's `[JOBS_AUTHORITY_SEED]` PDA) and collateral is locked in
//! the staking program (where the same PDA is a pool authority).
//!
//! ```text
//!   post_job ──▶ Open ──claim_job──▶ Claimed ──record_result*──▶ Submitted ──mark_challenged*──▶ Challenged
//!                 │                     │                            │                              │
//!             cancel_job            expire_job                  settle_job*                settle_job* | slash_job*
//!                 ▼                     ▼                            ▼                              ▼
//!             (closed)              (closed)                     (closed)                       (closed)
//!   * only the verification program (its `[VERIFICATION_AUTHORITY_SEED]` PDA) can call these.
//! ```
//!
//! ## Authorities
//! * **admin** (`config.admin`): pause (blocks `post_job` and `claim_job` only), protocol fee
//!   (≤ 10 %, future jobs only), treasury, admin, `register_model`. Cannot touch any escrow or stake.
//! * **market creator**: `update_market` (future jobs only).
//! * **client**: posts and pays; `cancel_job` only while the job is Open.
//! * **provider**: claims jobs it can collateralise; results go through the verification program.
//! * **anyone**: `expire_job` after the deadline (refund + slash are fixed by the market's rule).
//! * **verification program**: `record_result`, `mark_challenged`, `settle_job`, `slash_job`.

use anchor_lang::prelude::*;

pub mod calls;
pub mod constants;
pub mod error;
pub mod events;
pub mod instructions;
pub mod state;

pub use constants::*;
pub use error::JobsError;
pub use events::*;
use instructions::*;
pub use state::*;

declare_id!("ETshZNeWUruCAWbXKxn3wqjGhzm5kDkx9bNiVu67HMwM");

/// The jobs program's signing PDA.
pub fn jobs_authority() -> Pubkey {
    Pubkey::find_program_address(&[JOBS_AUTHORITY_SEED], &ID).0
}

/// The escrow of a job: `escrow::[ESCROW_SEED, jobs_authority, job]`.
pub fn job_escrow(job: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[cinder_escrow::ESCROW_SEED, jobs_authority().as_ref(), job.as_ref()],
        &cinder_escrow::ID,
    )
    .0
}

pub(crate) fn check_job_escrow(escrow: &Pubkey, job: &Pubkey) -> Result<()> {
    require_keys_eq!(*escrow, job_escrow(job), JobsError::WrongJobAccount);
    Ok(())
}

#[program]
pub mod cinder_jobs {
    use super::*;

    /// Creates the protocol config; the signer (the program's upgrade authority) becomes admin.
    pub fn init_config(ctx: Context<InitConfig>, args: InitConfigArgs) -> Result<()> {
        instructions::init_config::init_config(ctx, args)
    }

    /// Admin: fee, pause, treasury, admin.
    pub fn update_config(ctx: Context<AdminOnly>, args: UpdateConfigArgs) -> Result<()> {
        instructions::update_config::update_config(ctx, args)
    }

    /// Admin: registers a model id (hash of its files manifest) with its name and engine version.
    pub fn register_model(ctx: Context<RegisterModel>, args: RegisterModelArgs) -> Result<()> {
        instructions::register_model::register_model(ctx, args)
    }

    /// Creates a market for (model, mint) with its parameters.
    pub fn create_market(ctx: Context<CreateMarket>, params: MarketParams) -> Result<()> {
        instructions::create_market::create_market(ctx, params)
    }

    /// Market creator: new parameters for future jobs.
    pub fn update_market(ctx: Context<UpdateMarket>, params: MarketParams) -> Result<()> {
        instructions::update_market::update_market(ctx, params)
    }

    /// Registers a provider (endpoint, X25519 key, served models).
    pub fn register_provider(ctx: Context<RegisterProvider>, args: ProviderArgs) -> Result<()> {
        instructions::register_provider::register_provider(ctx, args)
    }

    /// Provider: updates endpoint, key and models.
    pub fn update_provider(ctx: Context<UpdateProvider>, args: ProviderArgs) -> Result<()> {
        instructions::update_provider::update_provider(ctx, args)
    }

    /// Client: posts a job and pays at least the market price into its escrow.
    pub fn post_job(ctx: Context<PostJob>, args: PostJobArgs) -> Result<()> {
        instructions::post_job::post_job(ctx, args)
    }

    /// Client: posts a job whose input (at most `MAX_INLINE_INPUT` bytes, hashing to
    /// `input_hash`; `input_uri` must be `"inline:"`) travels in this transaction and is emitted
    /// in `JobInputInline`, so no one has to host it. Inline inputs are public.
    pub fn post_job_inline(ctx: Context<PostJob>, args: PostJobArgs, input: Vec<u8>) -> Result<()> {
        instructions::post_job::post_job_inline(ctx, args, input)
    }

    /// Client: cancels a job no provider has taken; full refund, all rent back.
    pub fn cancel_job(ctx: Context<CancelJob>) -> Result<()> {
        instructions::cancel_job::cancel_job(ctx)
    }

    /// Provider: takes the queue head (skipping dead slots) or a job designated to it.
    pub fn claim_job<'info>(ctx: Context<'info, ClaimJob<'info>>) -> Result<()> {
        instructions::claim_job::claim_job(ctx)
    }

    /// Anyone: moves the queue head past dead slots (at most MAX_QUEUE_ADVANCE per call).
    pub fn advance_queue<'info>(ctx: Context<'info, AdvanceQueue<'info>>) -> Result<()> {
        instructions::advance_queue::advance_queue(ctx)
    }

    /// Anyone, once an Open job has waited `job_timeout_secs` unclaimed: full refund, no slash.
    pub fn expire_open_job(ctx: Context<ExpireOpenJob>) -> Result<()> {
        instructions::expire_open_job::expire_open_job(ctx)
    }

    /// Anyone, after the deadline with no result: refund the client, slash the provider.
    pub fn expire_job(ctx: Context<ExpireJob>) -> Result<()> {
        instructions::expire_job::expire_job(ctx)
    }

    /// Verification program: records the provider's result commitment.
    pub fn record_result(ctx: Context<VerificationGated>, args: RecordResultArgs) -> Result<()> {
        instructions::record_result::record_result(ctx, args)
    }

    /// Verification program: marks the job challenged.
    pub fn mark_challenged(ctx: Context<VerificationGated>, challenger: Pubkey) -> Result<()> {
        instructions::mark_challenged::mark_challenged(ctx, challenger)
    }

    /// Verification program: pays the provider (the result stood).
    pub fn settle_job(ctx: Context<SettleJob>) -> Result<()> {
        instructions::settle_job::settle_job(ctx)
    }

    /// Verification program: refunds the client and slashes the provider (the result was wrong).
    pub fn slash_job(ctx: Context<SlashJob>) -> Result<()> {
        instructions::slash_job::slash_job(ctx)
    }
}
