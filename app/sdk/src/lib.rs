//! Cinder SDK: PDA derivation from the programs' own seed constants, instruction builders, and
//! account and event decoding. Everything here is pure (no network); chain access lives behind
//! the `Chain` trait (see the CLI and worker crates).

pub mod bootstrap;
pub mod chain;
pub mod errors;
pub mod escrow;
pub mod events;
pub mod jobs;
pub mod staking;
pub mod util;
pub mod verification;

pub use anchor_lang::prelude::Pubkey;
pub use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};

/// Program ids.
pub mod ids {
    pub use cinder_escrow::ID as ESCROW;
    pub use cinder_jobs::ID as JOBS;
    pub use cinder_staking::ID as STAKING;
    pub use cinder_verification::ID as VERIFICATION;
}

/// Builds an Anchor instruction from its accounts struct and data struct.
pub(crate) fn anchor_ix(
    program_id: anchor_lang::prelude::Pubkey,
    accounts: impl anchor_lang::ToAccountMetas,
    data: impl anchor_lang::InstructionData,
) -> Instruction {
    Instruction { program_id, accounts: accounts.to_account_metas(None), data: data.data() }
}

/// Decodes an Anchor account (checks the discriminator).
pub fn decode<T: anchor_lang::AccountDeserialize>(data: &[u8]) -> Option<T> {
    T::try_deserialize(&mut &data[..]).ok()
}

/// Fetches and decodes an Anchor account; `Ok(None)` if it does not exist, is not owned by `T`'s
/// program (bytes copied into another program's account are not a `T`), or is not a `T`.
pub async fn fetch<T: anchor_lang::AccountDeserialize + anchor_lang::Owner>(
    chain: &dyn chain::Chain,
    key: &anchor_lang::prelude::Pubkey,
) -> chain::ChainResult<Option<T>> {
    Ok(chain.get_account(key).await?.filter(|a| a.owner == T::owner()).and_then(|a| decode::<T>(&a.data)))
}

/// Every account of type `T` the node's index holds (`getProgramAccounts`: owner `T::owner()`,
/// data starting with `T::DISCRIMINATOR`, and `extra` filters), sorted by key; `Ok(None)` where
/// the node has no index ([`chain::ChainError::Unsupported`]). The answer is filtered and
/// owner-checked again here, so a node that ignores filters cannot slip anything in.
pub async fn fetch_all_of<T>(
    chain: &dyn chain::Chain,
    extra: &[chain::AccountFilter],
) -> chain::ChainResult<Option<Vec<(anchor_lang::prelude::Pubkey, T)>>>
where
    T: anchor_lang::AccountDeserialize + anchor_lang::Owner + anchor_lang::Discriminator,
{
    let mut filters = vec![chain::AccountFilter::Memcmp { offset: 0, bytes: T::DISCRIMINATOR.to_vec() }];
    filters.extend_from_slice(extra);
    let accounts = match chain.program_accounts(&T::owner(), &filters).await {
        Ok(a) => a,
        Err(chain::ChainError::Unsupported(why)) => {
            tracing::debug!(%why, "no getProgramAccounts on this node");
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let mut out: Vec<_> = accounts
        .into_iter()
        .filter(|(_, a)| a.owner == T::owner() && filters.iter().all(|f| f.matches(&a.data)))
        .filter_map(|(k, a)| decode::<T>(&a.data).map(|v| (k, v)))
        .collect();
    out.sort_by_key(|(k, _)| *k);
    Ok(Some(out))
}

/// The terms hash a client names in `post_job` (`PostJobArgs::expected_terms`), read from the
/// market and the protocol config; `Ok(None)` if either account is missing.
pub async fn market_terms(
    chain: &dyn chain::Chain,
    market: &anchor_lang::prelude::Pubkey,
) -> chain::ChainResult<Option<[u8; 32]>> {
    let m: Option<cinder_jobs::Market> = fetch(chain, market).await?;
    let c: Option<cinder_jobs::ProtocolConfig> = fetch(chain, &jobs::config_pda()).await?;
    Ok(m.zip(c).map(|(m, c)| jobs::terms_hash(&m, &c)))
}
