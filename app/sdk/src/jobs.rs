//! Jobs program: PDAs and instruction builders.
use ::cinder_jobs::{
    accounts as acc, instruction as ix, instructions as args, CONFIG_SEED, ID, JOB_SEED, MARKET_SEED, MODEL_SEED,
    PROVIDER_SEED,
};
use anchor_lang::prelude::Pubkey;

use crate::{anchor_ix, escrow::EscrowKeys, AccountMeta, Instruction};

pub use args::{InitConfigArgs, PostJobArgs, ProviderArgs, RegisterModelArgs, UpdateConfigArgs};
pub use cinder_jobs::{InferenceParams, Job, JobStatus, Market, MarketParams, Model, ProtocolConfig, Provider};

pub fn config_pda() -> Pubkey {
    Pubkey::find_program_address(&[CONFIG_SEED], &ID).0
}
pub fn model_pda(model_id: &[u8; 32]) -> Pubkey {
    Pubkey::find_program_address(&[MODEL_SEED, model_id], &ID).0
}
pub fn market_pda(model: &Pubkey, mint: &Pubkey, creator: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[MARKET_SEED, model.as_ref(), mint.as_ref(), creator.as_ref()], &ID).0
}
pub fn provider_pda(authority: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[PROVIDER_SEED, authority.as_ref()], &ID).0
}
pub fn job_pda(market: &Pubkey, job_id: u64) -> Pubkey {
    Pubkey::find_program_address(&[JOB_SEED, market.as_ref(), &job_id.to_le_bytes()], &ID).0
}
pub use cinder_jobs::{job_escrow, jobs_authority};

/// The escrow of a job (controller: the jobs authority PDA, seed: the job key).
pub fn job_escrow_keys(job: &Pubkey, mint: Pubkey, token_program: Pubkey) -> EscrowKeys {
    EscrowKeys::new(jobs_authority(), job.to_bytes(), mint, token_program)
}

/// Everything about a market that instructions need (read it from the Market account).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketKeys {
    pub market: Pubkey,
    pub model: Pubkey,
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub pool: Pubkey,
    pub pool_vault: Pubkey,
    pub treasury_token: Pubkey,
}

impl MarketKeys {
    pub fn from_market(market: Pubkey, m: &Market) -> Self {
        MarketKeys {
            market,
            model: m.model,
            mint: m.mint,
            token_program: m.token_program,
            pool: m.pool,
            pool_vault: crate::staking::pool_vault_pda(&m.pool),
            treasury_token: m.treasury_token,
        }
    }
    pub fn job(&self, job_id: u64) -> Pubkey {
        job_pda(&self.market, job_id)
    }
    pub fn stake(&self, owner: &Pubkey) -> Pubkey {
        crate::staking::stake_pda(&self.pool, owner)
    }
}

pub use cinder_jobs::instructions::{program_data_address, upgrade_authority_of};

/// `admin` must be the jobs program's upgrade authority (recorded in its ProgramData account).
pub fn init_config(admin: Pubkey, a: InitConfigArgs) -> Instruction {
    anchor_ix(
        ID,
        acc::InitConfig {
            admin,
            config: config_pda(),
            program_data: program_data_address(&ID),
            system_program: anchor_lang::system_program::ID,
        },
        ix::InitConfig { args: a },
    )
}

/// The bytes of a BPF-upgradeable ProgramData account header naming `authority` (what a real
/// deployment holds; local chains that run the programs natively install it at genesis).
pub fn program_data_account_data(authority: &Pubkey) -> Vec<u8> {
    let mut d = 3u32.to_le_bytes().to_vec();
    d.extend(0u64.to_le_bytes());
    d.push(1);
    d.extend(authority.to_bytes());
    d
}

/// The hash a client passes as `PostJobArgs::expected_terms`: the market's terms and the protocol
/// fee as read from the chain.
pub fn terms_hash(market: &Market, config: &ProtocolConfig) -> [u8; 32] {
    market.params.terms_hash(config.protocol_fee_bps)
}

pub fn update_config(admin: Pubkey, a: UpdateConfigArgs) -> Instruction {
    anchor_ix(ID, acc::AdminOnly { admin, config: config_pda() }, ix::UpdateConfig { args: a })
}

pub fn register_model(admin: Pubkey, a: RegisterModelArgs) -> Instruction {
    anchor_ix(
        ID,
        acc::RegisterModel {
            admin,
            config: config_pda(),
            model: model_pda(&a.model_id),
            system_program: anchor_lang::system_program::ID,
        },
        ix::RegisterModel { args: a },
    )
}

pub fn create_market(creator: Pubkey, k: &MarketKeys, params: MarketParams) -> Instruction {
    anchor_ix(
        ID,
        acc::CreateMarket {
            creator,
            config: config_pda(),
            model: k.model,
            mint: k.mint,
            market: k.market,
            pool: k.pool,
            treasury_token: k.treasury_token,
            jobs_authority: jobs_authority(),
            token_program: k.token_program,
            system_program: anchor_lang::system_program::ID,
        },
        ix::CreateMarket { params },
    )
}

pub fn update_market(creator: Pubkey, k: &MarketKeys, params: MarketParams) -> Instruction {
    anchor_ix(ID, acc::UpdateMarket { creator, market: k.market, pool: k.pool }, ix::UpdateMarket { params })
}

pub fn register_provider(authority: Pubkey, a: ProviderArgs) -> Instruction {
    anchor_ix(
        ID,
        acc::RegisterProvider {
            authority,
            provider: provider_pda(&authority),
            system_program: anchor_lang::system_program::ID,
        },
        ix::RegisterProvider { args: a },
    )
}

pub fn update_provider(authority: Pubkey, a: ProviderArgs) -> Instruction {
    anchor_ix(ID, acc::UpdateProvider { authority, provider: provider_pda(&authority) }, ix::UpdateProvider { args: a })
}

/// `job_id` must be the market's `next_job_id`.
pub fn post_job(client: Pubkey, client_token: Pubkey, k: &MarketKeys, job_id: u64, a: PostJobArgs) -> Instruction {
    let job = k.job(job_id);
    let e = job_escrow_keys(&job, k.mint, k.token_program);
    anchor_ix(
        ID,
        acc::PostJob {
            client,
            config: config_pda(),
            market: k.market,
            job,
            mint: k.mint,
            client_token,
            escrow: e.escrow,
            vault: e.vault,
            jobs_authority: jobs_authority(),
            escrow_program: cinder_escrow::ID,
            token_program: k.token_program,
            system_program: anchor_lang::system_program::ID,
        },
        ix::PostJob { args: a },
    )
}

/// Byte offset of `Job::market` in a job account (right after the 8-byte discriminator): the
/// `getProgramAccounts` filter for one market's jobs.
pub const JOB_MARKET_OFFSET: usize = 8;

/// `post_job_inline`: the input itself goes in the transaction (`a.input_uri` is set to
/// [`cinder_jobs::INLINE_INPUT_URI`] and `a.input_hash` to its SHA-256 here). At most
/// [`cinder_jobs::MAX_INLINE_INPUT`] bytes; inline inputs are public.
pub fn post_job_inline(
    client: Pubkey,
    client_token: Pubkey,
    k: &MarketKeys,
    job_id: u64,
    mut a: PostJobArgs,
    input: Vec<u8>,
) -> Instruction {
    a.input_uri = cinder_jobs::INLINE_INPUT_URI.to_owned();
    a.input_hash = crate::util::sha256(&input);
    let mut ix = post_job(client, client_token, k, job_id, a.clone());
    ix.data = anchor_lang::InstructionData::data(&ix::PostJobInline { args: a, input });
    ix
}

pub fn cancel_job(client: Pubkey, client_token: Pubkey, k: &MarketKeys, job_id: u64) -> Instruction {
    let job = k.job(job_id);
    let e = job_escrow_keys(&job, k.mint, k.token_program);
    anchor_ix(
        ID,
        acc::CancelJob {
            client,
            config: config_pda(),
            market: k.market,
            job,
            client_token,
            escrow: e.escrow,
            vault: e.vault,
            mint: k.mint,
            jobs_authority: jobs_authority(),
            escrow_program: cinder_escrow::ID,
            token_program: k.token_program,
        },
        ix::CancelJob {},
    )
}

/// `skip` lists the dead queue slots (job ids) between the head and `job_id`.
pub fn claim_job(authority: Pubkey, k: &MarketKeys, job_id: u64, skip: &[u64]) -> Instruction {
    let mut i = anchor_ix(
        ID,
        acc::ClaimJob {
            authority,
            config: config_pda(),
            market: k.market,
            job: k.job(job_id),
            provider: provider_pda(&authority),
            pool: k.pool,
            stake: k.stake(&authority),
            jobs_authority: jobs_authority(),
            staking_program: cinder_staking::ID,
        },
        ix::ClaimJob {},
    );
    i.accounts.extend(skip.iter().map(|id| AccountMeta::new_readonly(k.job(*id), false)));
    i
}

/// Anyone: moves the market's queue head past the dead slots `dead` (consecutive job ids from the
/// head, at most `MAX_QUEUE_ADVANCE`).
pub fn advance_queue(caller: Pubkey, k: &MarketKeys, dead: &[u64]) -> Instruction {
    let mut i = anchor_ix(ID, acc::AdvanceQueue { caller, market: k.market }, ix::AdvanceQueue {});
    i.accounts.extend(dead.iter().map(|id| AccountMeta::new_readonly(k.job(*id), false)));
    i
}

/// The accounts every path that ends a claimed job passes to the jobs program.
pub fn close_job_accounts(k: &MarketKeys, job: &Pubkey, client: Pubkey, provider: Pubkey) -> acc::CloseJob {
    let e = job_escrow_keys(job, k.mint, k.token_program);
    acc::CloseJob {
        config: config_pda(),
        market: k.market,
        job: *job,
        client,
        provider: provider_pda(&provider),
        escrow: e.escrow,
        vault: e.vault,
        mint: k.mint,
        treasury_token: k.treasury_token,
        pool: k.pool,
        pool_vault: k.pool_vault,
        stake: k.stake(&provider),
        jobs_authority: jobs_authority(),
        escrow_program: cinder_escrow::ID,
        staking_program: cinder_staking::ID,
        token_program: k.token_program,
    }
}

pub fn expire_job(
    caller: Pubkey,
    k: &MarketKeys,
    job: &Pubkey,
    client: Pubkey,
    provider: Pubkey,
    client_token: Pubkey,
) -> Instruction {
    anchor_ix(
        ID,
        acc::ExpireJob { caller, close: close_job_accounts(k, job, client, provider), client_token },
        ix::ExpireJob {},
    )
}

/// Anyone: expires an Open job nobody took after its timeout (full refund to the client).
pub fn expire_open_job(
    caller: Pubkey,
    client: Pubkey,
    client_token: Pubkey,
    k: &MarketKeys,
    job_id: u64,
) -> Instruction {
    let job = k.job(job_id);
    let e = job_escrow_keys(&job, k.mint, k.token_program);
    anchor_ix(
        ID,
        acc::ExpireOpenJob {
            caller,
            config: config_pda(),
            market: k.market,
            job,
            client,
            client_token,
            escrow: e.escrow,
            vault: e.vault,
            mint: k.mint,
            jobs_authority: jobs_authority(),
            escrow_program: cinder_escrow::ID,
            token_program: k.token_program,
        },
        ix::ExpireOpenJob {},
    )
}
