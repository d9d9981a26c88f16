//! The inference engine as the worker uses it: parse a job's input, check it can be served, run
//! it off the async runtime, and produce the commitment (docs/COMMITMENT.md).
use std::{path::Path, sync::Arc, time::Instant};

use cinder_inference::{
    output_hash, CommitmentInput, DType, GenerationRequest, Model, Prompt, SamplingParams, ENGINE_VERSION,
};
use cinder_jobs::Job;
use serde::Deserialize;

use crate::{fetch_input::FetchError, store::hex};

/// Why a worker will not serve (provider) or cannot judge (verifier) a job. Each is logged with
/// the job; a refused job is never claimed, so it expires open and the client is refunded.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    Fetch(#[from] FetchError),
    #[error("the market's model {market} is not the model this worker loaded ({ours})")]
    WrongModel { market: String, ours: String },
    #[error("the job asks for dtype code {asked}, this worker computes in {ours}")]
    DtypeMismatch { asked: u8, ours: &'static str },
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("prompt of {tokens} tokens plus {max_tokens} new tokens exceeds the model's context of {context}")]
    TooLong { tokens: usize, max_tokens: u32, context: usize },
    #[error("inference failed: {0}")]
    Inference(String),
}

impl Refusal {
    /// Whether the job may be served later (the input's source is temporarily unreachable).
    pub fn is_transient(&self) -> bool {
        matches!(self, Refusal::Fetch(e) if e.is_transient())
    }
}

/// What a job's input may be: `{"prompt": "..."}`, `{"fim_prefix": "...", "fim_suffix": "..."}`
/// (code completion), or plain UTF-8 text (a prompt).
#[derive(Deserialize)]
#[serde(untagged)]
enum InputDoc {
    Fim { fim_prefix: String, fim_suffix: String },
    Prompt { prompt: String },
}

pub fn prompt_of(input: &[u8]) -> Result<Prompt, Refusal> {
    if let Ok(doc) = serde_json::from_slice::<InputDoc>(input) {
        return Ok(match doc {
            InputDoc::Fim { fim_prefix, fim_suffix } => Prompt::Fim { prefix: fim_prefix, suffix: fim_suffix },
            InputDoc::Prompt { prompt } => Prompt::Text(prompt),
        });
    }
    let text =
        std::str::from_utf8(input).map_err(|_| Refusal::InvalidInput("input is neither JSON nor UTF-8 text".into()))?;
    if text.trim().is_empty() {
        return Err(Refusal::InvalidInput("empty prompt".into()));
    }
    Ok(Prompt::Text(text.to_string()))
}

pub fn sampling_params(job: &Job) -> SamplingParams {
    SamplingParams {
        max_tokens: job.params.max_tokens,
        temperature: f32::from_bits(job.params.temperature_bits),
        top_k: job.params.top_k,
        top_p: f32::from_bits(job.params.top_p_bits),
        seed: job.params.seed,
    }
}

/// The output document stored in the content-addressed store (its SHA-256 is in the output URI;
/// the on-chain output hash is `cinder_inference::output_hash` of `output_token_ids`).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct OutputDoc {
    pub job: String,
    pub model_id: String,
    pub text: String,
    pub prompt_token_ids: Vec<u32>,
    pub output_token_ids: Vec<u32>,
    pub finish_reason: String,
    pub output_hash: String,
}

pub struct RunOutput {
    pub commitment: [u8; 32],
    pub output_hash: [u8; 32],
    pub doc: OutputDoc,
    pub millis: u64,
}

pub struct Engine {
    model: Arc<Model>,
    model_id: [u8; 32],
}

impl Engine {
    pub fn load(dir: &Path, dtype: DType, threads: Option<usize>) -> Result<Engine, cinder_inference::Error> {
        let model = Model::load(dir, dtype, threads)?;
        Ok(Engine { model_id: model.model_id(), model: Arc::new(model) })
    }

    pub fn model_id(&self) -> [u8; 32] {
        self.model_id
    }

    /// Checks that this worker can serve `job` for `market_model_id` with `input`, and builds the
    /// request.
    pub fn request(&self, market_model_id: &[u8; 32], job: &Job, input: &[u8]) -> Result<GenerationRequest, Refusal> {
        if *market_model_id != self.model_id {
            return Err(Refusal::WrongModel { market: hex(market_model_id), ours: hex(&self.model_id) });
        }
        if job.params.dtype != self.model.dtype().code() {
            return Err(Refusal::DtypeMismatch { asked: job.params.dtype, ours: self.model.dtype().as_str() });
        }
        let prompt = prompt_of(input)?;
        let ids = self.model.prompt_token_ids(&prompt).map_err(|e| Refusal::InvalidInput(e.to_string()))?;
        let context = self.model.context_length();
        if ids.len() + job.params.max_tokens as usize > context {
            return Err(Refusal::TooLong { tokens: ids.len(), max_tokens: job.params.max_tokens, context });
        }
        Ok(GenerationRequest { prompt, params: sampling_params(job) })
    }

    /// Runs `req` on a blocking thread and commits to the result for (`job_key`, `provider_key`).
    pub async fn run(
        &self,
        req: GenerationRequest,
        job_key: [u8; 32],
        provider_key: [u8; 32],
    ) -> Result<RunOutput, Refusal> {
        let model = self.model.clone();
        let started = Instant::now();
        let params = req.params;
        let out = tokio::task::spawn_blocking(move || model.generate(&req).map(|o| (o, model)))
            .await
            .map_err(|e| Refusal::Inference(format!("inference task failed: {e}")))?
            .map_err(|e| Refusal::Inference(e.to_string()))?;
        let (out, model) = out;
        let commitment = CommitmentInput::from_output(job_key, provider_key, &model, params, &out).commitment();
        let oh = output_hash(&out.output_token_ids);
        debug_assert_eq!(ENGINE_VERSION, 1);
        Ok(RunOutput {
            commitment,
            output_hash: oh,
            doc: OutputDoc {
                job: anchor_lang::prelude::Pubkey::new_from_array(job_key).to_string(),
                model_id: hex(&self.model_id),
                text: out.text,
                prompt_token_ids: out.prompt_token_ids,
                output_token_ids: out.output_token_ids,
                finish_reason: out.finish_reason.as_str().to_string(),
                output_hash: hex(&oh),
            },
            millis: started.elapsed().as_millis() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_documents() {
        assert_eq!(prompt_of(br#"{"prompt":"hi"}"#).unwrap(), Prompt::Text("hi".into()));
        assert_eq!(
            prompt_of(br#"{"fim_prefix":"a","fim_suffix":"b"}"#).unwrap(),
            Prompt::Fim { prefix: "a".into(), suffix: "b".into() }
        );
        assert_eq!(prompt_of(b"plain text").unwrap(), Prompt::Text("plain text".into()));
        assert!(matches!(prompt_of(&[0xff, 0xfe]), Err(Refusal::InvalidInput(_))));
        assert!(matches!(prompt_of(b"   "), Err(Refusal::InvalidInput(_))));
    }
}
