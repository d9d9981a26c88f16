//! The engine's one error type. Every failure on bad input (files, configs, parameters) maps to a
//! named variant; nothing in the engine panics on user input.

use std::path::PathBuf;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while loading a model, generating or hashing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file the model directory must contain is absent.
    #[error("missing model file: {0}")]
    MissingFile(PathBuf),

    /// The model directory holds no `*.safetensors` weight file.
    #[error("no *.safetensors weight files in {0}")]
    NoWeights(PathBuf),

    /// Reading or writing a file failed.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// `config.json` is not valid JSON or lacks / mistypes a required field, or holds values
    /// the model cannot be built from (zero heads, heads not dividing the hidden size, ...).
    #[error("bad config {path}: {msg}")]
    BadConfig {
        /// The config file.
        path: PathBuf,
        /// What was wrong.
        msg: String,
    },

    /// The config names an architecture this engine does not implement.
    #[error("unsupported architecture {0:?} (supported: llama, qwen2)")]
    UnsupportedArchitecture(String),

    /// A dtype name or a weight dtype the engine does not support.
    #[error("unsupported dtype {0:?} (supported: f32, f16, bf16)")]
    UnsupportedDtype(String),

    /// `tokenizer.json` could not be loaded.
    #[error("bad tokenizer {path}: {msg}")]
    BadTokenizer {
        /// The tokenizer file.
        path: PathBuf,
        /// What the tokenizer library reported.
        msg: String,
    },

    /// A weight file is not a readable safetensors file.
    #[error("bad weight file {path}: {msg}")]
    BadWeights {
        /// The safetensors file.
        path: PathBuf,
        /// What was wrong.
        msg: String,
    },

    /// A tensor the architecture needs is not in any weight file.
    #[error("missing tensor {0:?}")]
    MissingTensor(String),

    /// A tensor's shape disagrees with what `config.json` implies.
    #[error("shape mismatch for tensor {name:?}: expected {expected:?}, found {found:?}")]
    ShapeMismatch {
        /// Tensor name.
        name: String,
        /// Shape implied by the config.
        expected: Vec<usize>,
        /// Shape stored in the file.
        found: Vec<usize>,
    },

    /// A decoding parameter is out of range (NaN temperature, `top_p` outside (0, 1], ...).
    #[error("invalid generation parameter: {0}")]
    InvalidParams(String),

    /// The request has no prompt tokens to condition on.
    #[error("empty prompt")]
    EmptyPrompt,

    /// Prompt plus `max_tokens` does not fit the model's context window.
    #[error("prompt ({prompt} tokens) + max_tokens ({max_tokens}) exceeds the context window ({context})")]
    ContextTooLong {
        /// Prompt length in tokens.
        prompt: usize,
        /// Requested new tokens.
        max_tokens: u32,
        /// `max_position_embeddings`.
        context: usize,
    },

    /// A prompt token id is outside the model's vocabulary.
    #[error("token id {id} is outside the vocabulary (size {vocab})")]
    TokenOutOfRange {
        /// The offending id.
        id: u32,
        /// The model's vocabulary size.
        vocab: usize,
    },

    /// Fill-in-the-middle was requested but the tokenizer defines no FIM tokens.
    #[error("the model's tokenizer defines no fill-in-the-middle tokens")]
    FimUnsupported,

    /// Tokenising or detokenising failed.
    #[error("tokenizer error: {0}")]
    Tokenizer(String),

    /// Every logit was NaN, so no token can be chosen.
    #[error("the model produced no finite logit")]
    NoFiniteLogit,

    /// A 32-byte key (job / provider) could not be parsed.
    #[error("invalid key {0:?}: expected 32 bytes as base58 or 64 hex digits")]
    InvalidKey(String),

    /// The CUDA device was requested but is unavailable.
    #[error("device error: {0}")]
    Device(String),

    /// An error from the tensor library that has no more specific variant.
    #[error("tensor backend error: {0}")]
    Candle(String),

    /// A panic inside the tensor library, caught at the engine boundary.
    #[error("internal error (caught panic): {0}")]
    Internal(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Candle(e.to_string())
    }
}
