//! Result commitments and output hashes (layout v1, see `docs/COMMITMENT.md`).
//!
//! Integers are little-endian. Variable-length fields carry a `u32` length (or count) prefix.
//! Floats are encoded as the IEEE-754 binary32 bit pattern of the parameter (`f32::to_bits`).
//!
//! ```text
//! commitment = SHA-256(
//!     u32 len || "cinder.commitment.v1"
//!     job_key        [32]
//!     provider_key   [32]
//!     model_id       [32]
//!     u32 len || engine_id (UTF-8)
//!     engine_version u32
//!     dtype          u8     0 f32, 1 f16, 2 bf16
//!     max_tokens     u32
//!     temperature    u32    f32 bits
//!     top_k          u32
//!     top_p          u32    f32 bits
//!     seed           u64
//!     u32 count || prompt token ids (u32 each)
//!     u32 count || output token ids (u32 each)
//!     finish_reason  u8     0 eos, 1 max_tokens
//! )
//! output_hash = SHA-256( u32 len || "cinder.output.v1" || u32 count || output token ids (u32 each) )
//! ```

use crate::sampling::SamplingParams;
use crate::types::{DType, FinishReason};
use crate::{ENGINE_ID, ENGINE_VERSION};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Domain tag of commitment layout v1.
pub const COMMITMENT_TAG: &str = "cinder.commitment.v1";
/// Domain tag of output hash layout v1.
pub const OUTPUT_HASH_TAG: &str = "cinder.output.v1";

/// Everything a commitment binds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitmentInput {
    /// The on-chain job account (32-byte Solana pubkey).
    pub job_key: [u8; 32],
    /// The provider's public key (32-byte Solana pubkey).
    pub provider_key: [u8; 32],
    /// [`crate::model_id_of_dir`] of the model.
    pub model_id: [u8; 32],
    /// Engine id, normally [`ENGINE_ID`].
    pub engine_id: String,
    /// Engine version, normally [`ENGINE_VERSION`].
    pub engine_version: u32,
    /// Compute dtype.
    pub dtype: DType,
    /// Decoding parameters, including the seed.
    pub params: SamplingParams,
    /// Prompt token ids as fed to the model.
    pub prompt_token_ids: Vec<u32>,
    /// Generated token ids (an EOS, if any, is the last one).
    pub output_token_ids: Vec<u32>,
    /// Why generation stopped.
    pub finish_reason: FinishReason,
}

impl CommitmentInput {
    /// Input for this engine build ([`ENGINE_ID`], [`ENGINE_VERSION`]).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        job_key: [u8; 32],
        provider_key: [u8; 32],
        model_id: [u8; 32],
        dtype: DType,
        params: SamplingParams,
        prompt_token_ids: Vec<u32>,
        output_token_ids: Vec<u32>,
        finish_reason: FinishReason,
    ) -> Self {
        Self {
            job_key,
            provider_key,
            model_id,
            engine_id: ENGINE_ID.to_string(),
            engine_version: ENGINE_VERSION,
            dtype,
            params,
            prompt_token_ids,
            output_token_ids,
            finish_reason,
        }
    }
}

impl CommitmentInput {
    /// Input for a finished generation of `model` with `params` (the usual worker path).
    pub fn from_output(
        job_key: [u8; 32],
        provider_key: [u8; 32],
        model: &crate::Model,
        params: SamplingParams,
        output: &crate::GenerationOutput,
    ) -> Self {
        Self::new(
            job_key,
            provider_key,
            model.model_id(),
            model.dtype(),
            params,
            output.prompt_token_ids.clone(),
            output.output_token_ids.clone(),
            output.finish_reason,
        )
    }

    /// [`commitment`] of this input.
    pub fn commitment(&self) -> [u8; 32] {
        commitment(self)
    }
}

fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    buf.extend_from_slice(&(b.len() as u32).to_le_bytes());
    buf.extend_from_slice(b);
}

fn put_ids(buf: &mut Vec<u8>, ids: &[u32]) {
    buf.extend_from_slice(&(ids.len() as u32).to_le_bytes());
    for id in ids {
        buf.extend_from_slice(&id.to_le_bytes());
    }
}

/// The exact bytes hashed by [`commitment`].
pub fn commitment_preimage(c: &CommitmentInput) -> Vec<u8> {
    let mut b = Vec::with_capacity(256 + 4 * (c.prompt_token_ids.len() + c.output_token_ids.len()) + c.engine_id.len());
    put_bytes(&mut b, COMMITMENT_TAG.as_bytes());
    b.extend_from_slice(&c.job_key);
    b.extend_from_slice(&c.provider_key);
    b.extend_from_slice(&c.model_id);
    put_bytes(&mut b, c.engine_id.as_bytes());
    b.extend_from_slice(&c.engine_version.to_le_bytes());
    b.push(c.dtype.code());
    b.extend_from_slice(&c.params.max_tokens.to_le_bytes());
    b.extend_from_slice(&c.params.temperature.to_bits().to_le_bytes());
    b.extend_from_slice(&c.params.top_k.to_le_bytes());
    b.extend_from_slice(&c.params.top_p.to_bits().to_le_bytes());
    b.extend_from_slice(&c.params.seed.to_le_bytes());
    put_ids(&mut b, &c.prompt_token_ids);
    put_ids(&mut b, &c.output_token_ids);
    b.push(c.finish_reason.code());
    b
}

/// SHA-256 of [`commitment_preimage`]: the value a provider commits on chain.
pub fn commitment(c: &CommitmentInput) -> [u8; 32] {
    Sha256::digest(commitment_preimage(c)).into()
}

/// Content hash of an output: SHA-256 over the tag and the output token ids (not the text,
/// which is derived from the ids by the model's tokenizer).
pub fn output_hash(output_token_ids: &[u32]) -> [u8; 32] {
    let mut b = Vec::with_capacity(24 + 4 * output_token_ids.len());
    put_bytes(&mut b, OUTPUT_HASH_TAG.as_bytes());
    put_ids(&mut b, output_token_ids);
    Sha256::digest(b).into()
}
