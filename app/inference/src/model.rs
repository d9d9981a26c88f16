//! Loading a Hugging Face model directory and deterministic generation (engine version 1).
//!
//! ## Decoding procedure (part of engine version 1)
//!
//! * batch size 1; the whole prompt is prefilled in **one** forward pass from position 0;
//! * then one forward pass per generated token with the **KV cache** (position = prompt length +
//!   tokens generated so far - 1). Full recomputation would change the low bits of the logits,
//!   so this schedule is part of the spec;
//! * the logits of the last position are converted to f32 and handed to
//!   [`select_token`];
//! * generation stops after an EOS token (kept as the last output id, finish reason `eos`) or
//!   after `max_tokens` tokens (finish reason `max_tokens`);
//! * the text is the tokenizer's decoding of the output ids with special tokens skipped.
//!
//! Models run on candle-transformers 0.11.1 (`models::llama`, `models::qwen2`), on the CPU unless
//! the `cuda` feature is enabled. Work runs inside a dedicated rayon pool of the requested size.

use crate::error::{Error, Result};
use crate::fim::{detect_fim, encode_plain, FimTokens};
use crate::model_id::{model_files, model_id_of_dir};
use crate::rng::SplitMix64;
use crate::sampling::{select_token, SamplingParams};
use crate::types::{Architecture, DType, FinishReason};
use candle_core::{Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::{llama, qwen2};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokenizers::Tokenizer;

/// What to condition on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    /// Text, encoded with the tokenizer including its special tokens (e.g. a Llama BOS).
    Text(String),
    /// Token ids used exactly as given.
    TokenIds(Vec<u32>),
    /// Fill-in-the-middle: see [`crate::fim`].
    Fim {
        /// Code before the hole.
        prefix: String,
        /// Code after the hole.
        suffix: String,
    },
}

/// A generation job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationRequest {
    /// The prompt.
    pub prompt: Prompt,
    /// Decoding parameters.
    pub params: SamplingParams,
}

/// Wall-clock measurements (never part of a commitment).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct GenerationStats {
    /// Time of the prompt forward pass.
    pub prefill: Duration,
    /// Time of the remaining forward passes plus token selection.
    pub decode: Duration,
    /// Number of single-token forward passes.
    pub decode_steps: usize,
    /// `rayon::current_num_threads()` observed inside the generation (the pool size).
    pub threads: usize,
}

/// The result of a generation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GenerationOutput {
    /// Prompt token ids as fed to the model.
    pub prompt_token_ids: Vec<u32>,
    /// Generated ids; an EOS, if any, is the last.
    pub output_token_ids: Vec<u32>,
    /// Decoded output with special tokens skipped.
    pub text: String,
    /// Why generation stopped.
    pub finish_reason: FinishReason,
    /// Timings.
    pub stats: GenerationStats,
}

/// Wall-clock cost of [`Model::load`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LoadTimings {
    /// Hashing the model files (model id).
    pub hash: Duration,
    /// Parsing config and tokenizer, validating headers, mapping and building the network.
    pub build: Duration,
}

enum Net {
    Llama { model: llama::Llama, pristine_cache: llama::Cache },
    Qwen2(qwen2::ModelForCausalLM),
}

/// A loaded model, ready to generate. `Send + Sync`; generations are serialised internally.
pub struct Model {
    dir: PathBuf,
    arch: Architecture,
    dtype: DType,
    model_id: [u8; 32],
    tokenizer: Tokenizer,
    eos: Vec<u32>,
    vocab_size: usize,
    context: usize,
    fim: Option<FimTokens>,
    device: Device,
    pool: rayon::ThreadPool,
    net: Mutex<Net>,
    timings: LoadTimings,
}

// The worker shares one loaded model across threads.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Model>();
};

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("dir", &self.dir)
            .field("arch", &self.arch)
            .field("dtype", &self.dtype)
            .field("model_id", &crate::hex::encode(&self.model_id))
            .field("threads", &self.threads())
            .finish()
    }
}

/// Shape-relevant numbers from `config.json`.
#[derive(Debug, Clone, Copy)]
struct Dims {
    hidden: usize,
    intermediate: usize,
    vocab: usize,
    layers: usize,
    heads: usize,
    kv_heads: usize,
    context: usize,
}

impl Dims {
    fn validate(&self, path: &Path) -> Result<()> {
        let bad = |msg: String| Error::BadConfig { path: path.to_path_buf(), msg };
        let d = self;
        for (name, v) in [
            ("hidden_size", d.hidden),
            ("intermediate_size", d.intermediate),
            ("vocab_size", d.vocab),
            ("num_attention_heads", d.heads),
            ("num_key_value_heads", d.kv_heads),
            ("max_position_embeddings", d.context),
        ] {
            if v == 0 {
                return Err(bad(format!("{name} must be positive")));
            }
        }
        if !d.hidden.is_multiple_of(d.heads) || !(d.hidden / d.heads).is_multiple_of(2) {
            return Err(bad(format!(
                "hidden_size {} must split into an even head dimension over {} heads",
                d.hidden, d.heads
            )));
        }
        if !d.heads.is_multiple_of(d.kv_heads) {
            return Err(bad(format!(
                "num_attention_heads {} is not a multiple of num_key_value_heads {}",
                d.heads, d.kv_heads
            )));
        }
        if d.context > (1 << 22) || d.vocab > (1 << 24) || d.layers > 4096 {
            return Err(bad("implausibly large dimensions".into()));
        }
        Ok(())
    }

    /// Every tensor the architecture reads, with its shape; `false` marks an optional one.
    fn expected_tensors(&self, arch: Architecture, tied: bool) -> Vec<(String, Vec<usize>, bool)> {
        let (h, i, v) = (self.hidden, self.intermediate, self.vocab);
        let hd = h / self.heads;
        let (q, kv) = (self.heads * hd, self.kv_heads * hd);
        let mut t = vec![
            ("model.embed_tokens.weight".to_string(), vec![v, h], true),
            ("model.norm.weight".to_string(), vec![h], true),
        ];
        match arch {
            Architecture::Llama if !tied => t.push(("lm_head.weight".into(), vec![v, h], true)),
            Architecture::Llama => {}
            // candle's qwen2 uses lm_head.weight when present and ties otherwise.
            Architecture::Qwen2 => t.push(("lm_head.weight".into(), vec![v, h], false)),
        }
        for l in 0..self.layers {
            let p = format!("model.layers.{l}");
            let mut add = |n: &str, s: Vec<usize>| t.push((format!("{p}.{n}"), s, true));
            add("self_attn.q_proj.weight", vec![q, h]);
            add("self_attn.k_proj.weight", vec![kv, h]);
            add("self_attn.v_proj.weight", vec![kv, h]);
            add("self_attn.o_proj.weight", vec![h, q]);
            if arch == Architecture::Qwen2 {
                add("self_attn.q_proj.bias", vec![q]);
                add("self_attn.k_proj.bias", vec![kv]);
                add("self_attn.v_proj.bias", vec![kv]);
            }
            add("mlp.gate_proj.weight", vec![i, h]);
            add("mlp.up_proj.weight", vec![i, h]);
            add("mlp.down_proj.weight", vec![h, i]);
            add("input_layernorm.weight", vec![h]);
            add("post_attention_layernorm.weight", vec![h]);
        }
        t
    }
}

/// Reads the architecture from `model_type` (preferred) or `architectures[0]`.
fn detect_architecture(v: &serde_json::Value, path: &Path) -> Result<Architecture> {
    if let Some(mt) = v.get("model_type").and_then(|m| m.as_str()) {
        return mt.parse();
    }
    if let Some(a) = v.get("architectures").and_then(|a| a.as_array()).and_then(|a| a.first()).and_then(|a| a.as_str())
    {
        return a.parse();
    }
    Err(Error::BadConfig { path: path.to_path_buf(), msg: "neither model_type nor architectures is set".into() })
}

/// Token ids in a config's `eos_token_id` (a number or an array of numbers).
fn eos_ids(v: &serde_json::Value) -> Vec<u32> {
    match v.get("eos_token_id") {
        Some(serde_json::Value::Number(n)) => n.as_u64().map(|x| x as u32).into_iter().collect(),
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|x| x.as_u64()).map(|x| x as u32).collect(),
        _ => Vec::new(),
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::MissingFile(path.to_path_buf()),
        _ => Error::io(path, e),
    })?;
    serde_json::from_str(&text).map_err(|e| Error::BadConfig { path: path.to_path_buf(), msg: e.to_string() })
}

/// Tensor name -> (dtype, shape) from a safetensors header, with basic sanity checks.
fn read_safetensors_header(path: &Path) -> Result<BTreeMap<String, (String, Vec<usize>)>> {
    let bad = |msg: String| Error::BadWeights { path: path.to_path_buf(), msg };
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let file_len = f.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut len8 = [0u8; 8];
    f.read_exact(&mut len8).map_err(|_| bad("file shorter than the 8-byte header length".into()))?;
    let n = u64::from_le_bytes(len8);
    if n > 100 << 20 || 8 + n > file_len {
        return Err(bad(format!("header length {n} does not fit the file")));
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header).map_err(|e| Error::io(path, e))?;
    let v: serde_json::Value = serde_json::from_slice(&header).map_err(|e| bad(format!("header is not JSON: {e}")))?;
    let obj = v.as_object().ok_or_else(|| bad("header is not an object".into()))?;
    let data_len = file_len - 8 - n;
    let mut out = BTreeMap::new();
    for (name, info) in obj {
        if name == "__metadata__" {
            continue;
        }
        let dtype = info
            .get("dtype")
            .and_then(|d| d.as_str())
            .ok_or_else(|| bad(format!("tensor {name}: no dtype")))?
            .to_string();
        let shape: Vec<usize> = info
            .get("shape")
            .and_then(|s| s.as_array())
            .ok_or_else(|| bad(format!("tensor {name}: no shape")))?
            .iter()
            .map(|d| d.as_u64().map(|x| x as usize))
            .collect::<Option<_>>()
            .ok_or_else(|| bad(format!("tensor {name}: bad shape")))?;
        let offs: Vec<u64> = info
            .get("data_offsets")
            .and_then(|s| s.as_array())
            .and_then(|a| a.iter().map(|d| d.as_u64()).collect::<Option<Vec<_>>>())
            .filter(|o| o.len() == 2)
            .ok_or_else(|| bad(format!("tensor {name}: bad data_offsets")))?;
        let elem = match dtype.as_str() {
            "F32" | "I32" | "U32" => Some(4u64),
            "F16" | "BF16" | "I16" | "U16" => Some(2),
            "F64" | "I64" | "U64" => Some(8),
            "U8" | "I8" | "BOOL" | "F8_E4M3" | "F8_E5M2" => Some(1),
            _ => None,
        };
        let numel = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d as u64));
        if offs[0] > offs[1] || offs[1] > data_len {
            return Err(bad(format!("tensor {name}: data outside the file")));
        }
        if let (Some(e), Some(numel)) = (elem, numel) {
            if numel.checked_mul(e) != Some(offs[1] - offs[0]) {
                return Err(bad(format!("tensor {name}: byte size disagrees with its shape")));
            }
        }
        out.insert(name.clone(), (dtype, shape));
    }
    Ok(out)
}

fn select_device() -> Result<Device> {
    #[cfg(feature = "cuda")]
    {
        Device::new_cuda(0).map_err(|e| Error::Device(e.to_string()))
    }
    #[cfg(not(feature = "cuda"))]
    {
        Ok(Device::Cpu)
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

impl Model {
    /// Loads the model in `dir` (see [`crate::model_id`] for the files read), converting its
    /// weights to `dtype`. `threads` is the size of the compute pool (default: the number of
    /// available CPUs); it never changes the outputs.
    pub fn load(dir: impl AsRef<Path>, dtype: DType, threads: Option<usize>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let t0 = Instant::now();
        let model_id = model_id_of_dir(&dir)?;
        let hash = t0.elapsed();
        let t1 = Instant::now();

        let config_path = dir.join("config.json");
        let config = read_json(&config_path)?;
        let arch = detect_architecture(&config, &config_path)?;
        let bad_config = |e: serde_json::Error| Error::BadConfig { path: config_path.clone(), msg: e.to_string() };
        enum Parsed {
            Llama(llama::Config),
            Qwen2(qwen2::Config),
        }
        let (parsed, dims, tied) = match arch {
            Architecture::Llama => {
                let lc: llama::LlamaConfig = serde_json::from_value(config.clone()).map_err(bad_config)?;
                let cfg = lc.into_config(false);
                let dims = Dims {
                    hidden: cfg.hidden_size,
                    intermediate: cfg.intermediate_size,
                    vocab: cfg.vocab_size,
                    layers: cfg.num_hidden_layers,
                    heads: cfg.num_attention_heads,
                    kv_heads: cfg.num_key_value_heads,
                    context: cfg.max_position_embeddings,
                };
                let tied = cfg.tie_word_embeddings;
                (Parsed::Llama(cfg), dims, tied)
            }
            Architecture::Qwen2 => {
                let cfg: qwen2::Config = serde_json::from_value(config.clone()).map_err(bad_config)?;
                let dims = Dims {
                    hidden: cfg.hidden_size,
                    intermediate: cfg.intermediate_size,
                    vocab: cfg.vocab_size,
                    layers: cfg.num_hidden_layers,
                    heads: cfg.num_attention_heads,
                    kv_heads: cfg.num_key_value_heads,
                    context: cfg.max_position_embeddings,
                };
                let tied = cfg.tie_word_embeddings;
                (Parsed::Qwen2(cfg), dims, tied)
            }
        };
        dims.validate(&config_path)?;
        if let Some(hd) = config.get("head_dim").and_then(|h| h.as_u64()) {
            if hd as usize != dims.hidden / dims.heads {
                return Err(Error::BadConfig {
                    path: config_path,
                    msg: format!("head_dim {hd} != hidden_size / num_attention_heads is not supported"),
                });
            }
        }

        let mut eos = eos_ids(&config);
        let gen_path = dir.join("generation_config.json");
        if gen_path.is_file() {
            eos.extend(eos_ids(&read_json(&gen_path)?));
        }
        eos.sort_unstable();
        eos.dedup();

        let tok_path = dir.join("tokenizer.json");
        let tokenizer = Tokenizer::from_file(&tok_path)
            .map_err(|e| Error::BadTokenizer { path: tok_path.clone(), msg: e.to_string() })?;
        let fim = detect_fim(&tokenizer);

        // Validate every weight header against the config before candle sees the files
        // (candle's llama loader unwraps per-layer errors).
        let weight_files: Vec<PathBuf> =
            model_files(&dir)?.into_iter().filter(|p| p.extension().is_some_and(|e| e == "safetensors")).collect();
        let mut tensors: BTreeMap<String, (String, Vec<usize>)> = BTreeMap::new();
        for wf in &weight_files {
            for (name, info) in read_safetensors_header(wf)? {
                if tensors.insert(name.clone(), info).is_some() {
                    return Err(Error::BadWeights {
                        path: wf.clone(),
                        msg: format!("tensor {name} appears in more than one file"),
                    });
                }
            }
        }
        for (name, shape, required) in dims.expected_tensors(arch, tied) {
            match tensors.get(&name) {
                None if required => return Err(Error::MissingTensor(name)),
                None => {}
                Some((dt, found)) => {
                    if !matches!(dt.as_str(), "F32" | "F16" | "BF16") {
                        return Err(Error::UnsupportedDtype(format!("{dt} (weights of tensor {name})")));
                    }
                    if *found != shape {
                        return Err(Error::ShapeMismatch { name, expected: shape, found: found.clone() });
                    }
                }
            }
        }

        let threads = threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
        if threads == 0 {
            return Err(Error::InvalidParams("threads must be at least 1".into()));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("cinder-infer-{i}"))
            .build()
            .map_err(|e| Error::Internal(e.to_string()))?;
        let device = select_device()?;
        let cdtype = dtype.to_candle();
        let built = pool.install(|| {
            catch_unwind(AssertUnwindSafe(|| -> Result<Net> {
                // SAFETY: the files are memory-mapped read-only; like every mmap loader we
                // require that they are not modified while the model is alive.
                let vb = unsafe { VarBuilder::from_mmaped_safetensors(&weight_files, cdtype, &device)? };
                Ok(match parsed {
                    Parsed::Llama(cfg) => Net::Llama {
                        model: llama::Llama::load(vb, &cfg)?,
                        pristine_cache: llama::Cache::new(true, cdtype, &cfg, &device)?,
                    },
                    Parsed::Qwen2(cfg) => Net::Qwen2(qwen2::ModelForCausalLM::new(&cfg, vb)?),
                })
            }))
        });
        let net = built.map_err(|p| Error::Internal(panic_message(p)))??;
        let build = t1.elapsed();
        tracing::info!(
            dir = %dir.display(),
            model_id = %crate::hex::encode(&model_id),
            %arch,
            %dtype,
            threads,
            ?hash,
            ?build,
            "model loaded"
        );
        Ok(Self {
            dir,
            arch,
            dtype,
            model_id,
            tokenizer,
            eos,
            vocab_size: dims.vocab,
            context: dims.context,
            fim,
            device,
            pool,
            net: Mutex::new(net),
            timings: LoadTimings { hash, build },
        })
    }

    /// The 32-byte model id (see [`crate::model_id`]).
    pub fn model_id(&self) -> [u8; 32] {
        self.model_id
    }

    /// The model's architecture.
    pub fn architecture(&self) -> Architecture {
        self.arch
    }

    /// The compute dtype.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The model directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The model's tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// EOS token ids (from `config.json` and `generation_config.json`).
    pub fn eos_token_ids(&self) -> &[u32] {
        &self.eos
    }

    /// `vocab_size` of the network (may exceed the tokenizer's vocabulary).
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// Context window (`max_position_embeddings`).
    pub fn context_length(&self) -> usize {
        self.context
    }

    /// FIM tokens, when the tokenizer defines them.
    pub fn fim_tokens(&self) -> Option<FimTokens> {
        self.fim
    }

    /// Size of the compute thread pool.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Load timings.
    pub fn load_timings(&self) -> LoadTimings {
        self.timings
    }

    /// Whether the model runs on a CUDA device.
    pub fn on_gpu(&self) -> bool {
        self.device.is_cuda()
    }

    /// Prompt token ids for `prompt` (what [`Self::generate`] feeds the model).
    pub fn prompt_token_ids(&self, prompt: &Prompt) -> Result<Vec<u32>> {
        match prompt {
            Prompt::Text(t) => self
                .tokenizer
                .encode(t.as_str(), true)
                .map(|e| e.get_ids().to_vec())
                .map_err(|e| Error::Tokenizer(e.to_string())),
            Prompt::TokenIds(ids) => Ok(ids.clone()),
            Prompt::Fim { prefix, suffix } => self.fim_prompt(prefix, suffix),
        }
    }

    /// Fill-in-the-middle prompt ids (see [`crate::fim`]).
    pub fn fim_prompt(&self, prefix: &str, suffix: &str) -> Result<Vec<u32>> {
        let fim = self.fim.ok_or(Error::FimUnsupported)?;
        let mut ids = vec![fim.prefix];
        ids.extend(encode_plain(&self.tokenizer, prefix)?);
        ids.push(fim.suffix);
        ids.extend(encode_plain(&self.tokenizer, suffix)?);
        ids.push(fim.middle);
        Ok(ids)
    }

    /// Decodes ids to text, skipping special tokens.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.tokenizer.decode(ids, true).map_err(|e| Error::Tokenizer(e.to_string()))
    }

    /// Runs a generation (see the module docs for the exact procedure).
    pub fn generate(&self, req: &GenerationRequest) -> Result<GenerationOutput> {
        self.generate_with_progress(req, &mut |_, _| {})
    }

    /// [`Self::generate`], calling `progress(tokens_so_far, last_token)` after every token.
    pub fn generate_with_progress(
        &self,
        req: &GenerationRequest,
        progress: &mut (dyn FnMut(usize, u32) + Send),
    ) -> Result<GenerationOutput> {
        self.generate_inner(req, false, progress)
    }

    /// Generation that ignores EOS (benchmarks need a fixed token count).
    pub(crate) fn generate_inner(
        &self,
        req: &GenerationRequest,
        ignore_eos: bool,
        progress: &mut (dyn FnMut(usize, u32) + Send),
    ) -> Result<GenerationOutput> {
        let params = req.params;
        params.validate()?;
        let prompt_ids = self.prompt_token_ids(&req.prompt)?;
        if prompt_ids.is_empty() {
            return Err(Error::EmptyPrompt);
        }
        if let Some(&id) = prompt_ids.iter().find(|&&id| id as usize >= self.vocab_size) {
            return Err(Error::TokenOutOfRange { id, vocab: self.vocab_size });
        }
        if prompt_ids.len() + params.max_tokens as usize > self.context {
            return Err(Error::ContextTooLong {
                prompt: prompt_ids.len(),
                max_tokens: params.max_tokens,
                context: self.context,
            });
        }
        // A panic mid-generation leaves only a KV cache behind, which we reset anyway.
        let mut guard = self.net.lock().unwrap_or_else(|p| p.into_inner());
        let net: &mut Net = &mut guard;
        let ran = self.pool.install(|| {
            catch_unwind(AssertUnwindSafe(|| self.decode_loop(net, &prompt_ids, &params, ignore_eos, progress)))
        });
        let (output, finish_reason, stats) = ran.map_err(|p| Error::Internal(panic_message(p)))??;
        drop(guard);
        tracing::debug!(
            prompt_tokens = prompt_ids.len(),
            output_tokens = output.len(),
            finish = finish_reason.as_str(),
            ?stats.prefill,
            ?stats.decode,
            "generation finished"
        );
        let text = self.decode(&output)?;
        Ok(GenerationOutput { prompt_token_ids: prompt_ids, output_token_ids: output, text, finish_reason, stats })
    }

    fn decode_loop(
        &self,
        net: &mut Net,
        prompt: &[u32],
        params: &SamplingParams,
        ignore_eos: bool,
        progress: &mut (dyn FnMut(usize, u32) + Send),
    ) -> Result<(Vec<u32>, FinishReason, GenerationStats)> {
        enum Run<'a> {
            Llama(&'a llama::Llama, llama::Cache),
            Qwen2(&'a mut qwen2::ModelForCausalLM),
        }
        let mut run = match net {
            Net::Llama { model, pristine_cache } => Run::Llama(model, pristine_cache.clone()),
            Net::Qwen2(m) => {
                m.clear_kv_cache();
                Run::Qwen2(m)
            }
        };
        let mut forward = |ids: &[u32], pos: usize| -> Result<Vec<f32>> {
            let input = Tensor::new(ids, &self.device)?.unsqueeze(0)?;
            let logits = match &mut run {
                Run::Llama(model, cache) => model.forward(&input, pos, cache)?,
                Run::Qwen2(m) => m.forward(&input, pos)?,
            };
            Ok(logits.flatten_all()?.to_dtype(candle_core::DType::F32)?.to_vec1::<f32>()?)
        };
        let mut stats = GenerationStats { threads: rayon::current_num_threads(), ..Default::default() };
        let t0 = Instant::now();
        let mut logits = forward(prompt, 0)?;
        stats.prefill = t0.elapsed();
        let t1 = Instant::now();
        let mut rng = SplitMix64::new(params.seed);
        let mut out: Vec<u32> = Vec::with_capacity(params.max_tokens as usize);
        let finish = loop {
            let tok = select_token(&logits, params, &mut rng)?;
            out.push(tok);
            progress(out.len(), tok);
            if !ignore_eos && self.eos.contains(&tok) {
                break FinishReason::Eos;
            }
            if out.len() >= params.max_tokens as usize {
                break FinishReason::MaxTokens;
            }
            logits = forward(&[tok], prompt.len() + out.len() - 1)?;
            stats.decode_steps += 1;
        };
        stats.decode = t1.elapsed();
        Ok((out, finish, stats))
    }
}
