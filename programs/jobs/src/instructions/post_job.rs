//! `post_job`: a client posts a job and pays into the job's own escrow.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use cinder_escrow::program::CinderEscrow;

use crate::{constants::*, error::JobsError, events::*, state::*};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct PostJobArgs {
    /// Tokens escrowed for the job (at least the market price).
    pub payment: u64,
    /// SHA-256 of the input (the prompt, or the FIM prefix/suffix document).
    pub input_hash: [u8; 32],
    /// Where the input can be fetched (`file://`, `https://`, `cas://<hex hash>`).
    pub input_uri: String,
    pub params: InferenceParams,
    /// A provider the client chooses; the job then skips the queue and only it may claim.
    pub designated: Option<Pubkey>,
    /// The market terms the client agreed to: `market.params.terms_hash(config.protocol_fee_bps)`
    /// as the client read them. A market or fee change before the post lands fails it
    /// (`MarketTermsChanged`) instead of binding the client to terms it never saw.
    pub expected_terms: [u8; 32],
}

#[derive(Accounts)]
pub struct PostJob<'info> {
    /// The client: pays the job and the rent, receives refunds. Signs.
    #[account(mut)]
    pub client: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, ProtocolConfig>>,
    #[account(
        mut,
        seeds = [MARKET_SEED, market.model.as_ref(), market.mint.as_ref(), market.creator.as_ref()],
        bump = market.bump,
        has_one = mint @ JobsError::WrongMint,
        has_one = token_program,
    )]
    pub market: Box<Account<'info, Market>>,
    /// The next job id is the market's counter: ids cannot be chosen, so cannot be squatted.
    #[account(
        init,
        payer = client,
        space = 8 + Job::INIT_SPACE,
        seeds = [JOB_SEED, market.key().as_ref(), &market.next_job_id.to_le_bytes()],
        bump,
    )]
    pub job: Box<Account<'info, Job>>,
    pub mint: InterfaceAccount<'info, Mint>,
    #[account(mut, token::mint = mint, token::authority = client, token::token_program = token_program)]
    pub client_token: InterfaceAccount<'info, TokenAccount>,
    /// CHECK: created by the escrow program at `[ESCROW_SEED, jobs_authority, job]` (it checks the seeds).
    #[account(mut)]
    pub escrow: UncheckedAccount<'info>,
    /// CHECK: created by the escrow program (it checks the seeds).
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: the jobs program's signing PDA; controller of the escrow.
    #[account(seeds = [JOBS_AUTHORITY_SEED], bump = config.jobs_authority_bump)]
    pub jobs_authority: UncheckedAccount<'info>,
    pub escrow_program: Program<'info, CinderEscrow>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl PostJob<'_> {
    pub fn validate(&self, args: &PostJobArgs) -> Result<()> {
        require!(!self.config.paused, JobsError::Paused);
        require!(
            args.expected_terms == self.market.params.terms_hash(self.config.protocol_fee_bps),
            JobsError::MarketTermsChanged
        );
        require!(args.payment >= self.market.params.price, JobsError::PaymentBelowPrice);
        require!(args.input_uri.len() <= MAX_URI_LEN as usize, JobsError::StringTooLong);
        require!(args.params.max_tokens > 0 && args.params.dtype <= 2, JobsError::InvalidParams);
        Ok(())
    }
}

#[access_control(ctx.accounts.validate(&args))]
pub fn post_job(ctx: Context<PostJob>, args: PostJobArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    let seed = Job::escrow_seed(&a.job.key());
    cinder_escrow::cpi::open_escrow(
        CpiContext::new_with_signer(
            a.escrow_program.key(),
            cinder_escrow::cpi::accounts::OpenEscrow {
                rent_payer: a.client.to_account_info(),
                depositor: a.client.to_account_info(),
                controller: a.jobs_authority.to_account_info(),
                mint: a.mint.to_account_info(),
                depositor_token: a.client_token.to_account_info(),
                escrow: a.escrow.to_account_info(),
                vault: a.vault.to_account_info(),
                token_program: a.token_program.to_account_info(),
                system_program: a.system_program.to_account_info(),
            },
            &[&[JOBS_AUTHORITY_SEED, &[a.config.jobs_authority_bump]]],
        ),
        cinder_escrow::instructions::OpenEscrowArgs { seed, amount: args.payment },
    )?;

    let market = &mut ctx.accounts.market;
    let job_id = market.next_job_id;
    market.next_job_id = job_id.checked_add(1).ok_or(JobsError::ArithmeticOverflow)?;
    let p = market.params;
    let job = &mut ctx.accounts.job;
    job.set_inner(Job {
        market: market.key(),
        job_id,
        client: ctx.accounts.client.key(),
        designated: args.designated,
        provider: Pubkey::default(),
        status: JobStatus::Open,
        payment: args.payment,
        fee_bps: ctx.accounts.config.protocol_fee_bps,
        collateral: p.collateral,
        job_timeout_secs: p.job_timeout_secs,
        challenge_window_secs: p.challenge_window_secs,
        challenger_reward_bps: p.challenger_reward_bps,
        timeout_client_bps: p.timeout_client_bps,
        challenge_bond: p.challenge_bond,
        quorum: p.quorum,
        voting_period_secs: p.voting_period_secs,
        vote_penalty: p.vote_penalty,
        input_hash: args.input_hash,
        input_uri: args.input_uri.clone(),
        params: args.params,
        posted_at: now,
        claimed_at: 0,
        deadline: 0,
        submitted_at: 0,
        window_end: 0,
        commitment: [0; 32],
        output_hash: [0; 32],
        output_uri: String::new(),
        bump: ctx.bumps.job,
    });
    job.invariant()?;
    cinder_common::emit_event!(JobPosted {
        job: job.key(),
        market: market.key(),
        job_id,
        client: job.client,
        designated: args.designated,
        payment: args.payment,
        fee_bps: job.fee_bps,
        input_hash: args.input_hash,
        input_uri: args.input_uri,
        params: args.params,
        timestamp: now,
    });
    Ok(())
}

/// `post_job` with the input in the transaction: checked against `input_hash` here, emitted in
/// `JobInputInline` right after `JobPosted`.
pub fn post_job_inline(ctx: Context<PostJob>, args: PostJobArgs, input: Vec<u8>) -> Result<()> {
    require!(
        !input.is_empty() && input.len() <= MAX_INLINE_INPUT as usize && args.input_uri == INLINE_INPUT_URI,
        JobsError::InvalidInlineInput
    );
    require!(solana_sha256_hasher::hash(&input).to_bytes() == args.input_hash, JobsError::InlineInputHashMismatch);
    let job = ctx.accounts.job.key();
    let input_hash = args.input_hash;
    post_job(ctx, args)?;
    cinder_common::emit_event!(JobInputInline { job, input_hash, input });
    Ok(())
}
