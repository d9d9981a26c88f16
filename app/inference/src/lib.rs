//! # cinder-inference
//!
//! Deterministic LLM inference for the Cinder GPU-inference market: load a Hugging Face model
//! directory (Llama family, Qwen2 family), generate with a fully specified decoding procedure,
//! and produce the model id, output hash and result commitment the chain stores.
//!
//! ```no_run
//! use cinder_inference::{Model, DType, GenerationRequest, Prompt, SamplingParams, CommitmentInput, commitment};
//! let model = Model::load("models/qwen2.5-coder-0.5b", DType::F32, Some(1))?;
//! let out = model.generate(&GenerationRequest {
//!     prompt: Prompt::Text("fn main() {".into()),
//!     params: SamplingParams::greedy(32),
//! })?;
//! let c = commitment(&CommitmentInput::new([1; 32], [2; 32], model.model_id(), model.dtype(),
//!     SamplingParams::greedy(32), out.prompt_token_ids, out.output_token_ids, out.finish_reason));
//! # Ok::<(), cinder_inference::Error>(())
//! ```

pub mod bench;
pub mod commitment;
pub mod error;
pub mod fim;
pub mod hex;
pub mod model;
pub mod model_id;
pub mod rng;
pub mod sampling;
pub mod testmodel;
pub mod types;

pub use commitment::{commitment, commitment_preimage, output_hash, CommitmentInput, COMMITMENT_TAG, OUTPUT_HASH_TAG};
pub use error::{Error, Result};
pub use fim::{detect_fim, fim_prompt, FimTokens};
pub use model::{GenerationOutput, GenerationRequest, GenerationStats, LoadTimings, Model, Prompt};
pub use model_id::{model_id_of_dir, model_manifest, MODEL_MANIFEST_TAG};
pub use rng::SplitMix64;
pub use sampling::{select_token, SamplingParams};
pub use testmodel::{make_test_model, TestModelSize};
pub use types::{Architecture, DType, FinishReason};

/// Engine identifier committed in every result.
pub const ENGINE_ID: &str = "cinder-inference";

/// Version of the decoding procedure (model execution schedule, sampling, tie-break, RNG,
/// stop rule). Any change that can change an output token bumps it.
pub const ENGINE_VERSION: u32 = 1;
