//! Small shared enums: compute dtype, finish reason, architecture.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The dtype weights are converted to and computed in. A job parameter: it changes the outputs
/// and is committed. `F32` is the CPU default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// IEEE binary32 (default).
    #[default]
    F32,
    /// IEEE binary16.
    F16,
    /// bfloat16 (no fast CPU kernel; exact logit ties are common, hence the tie rule).
    Bf16,
}

impl DType {
    /// Byte used in the commitment: 0 = f32, 1 = f16, 2 = bf16.
    pub fn code(self) -> u8 {
        match self {
            DType::F32 => 0,
            DType::F16 => 1,
            DType::Bf16 => 2,
        }
    }

    /// Lowercase name (`f32`, `f16`, `bf16`).
    pub fn as_str(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F16 => "f16",
            DType::Bf16 => "bf16",
        }
    }

    pub(crate) fn to_candle(self) -> candle_core::DType {
        match self {
            DType::F32 => candle_core::DType::F32,
            DType::F16 => candle_core::DType::F16,
            DType::Bf16 => candle_core::DType::BF16,
        }
    }
}

impl FromStr for DType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "f32" | "float32" => Ok(DType::F32),
            "f16" | "float16" => Ok(DType::F16),
            "bf16" | "bfloat16" => Ok(DType::Bf16),
            _ => Err(Error::UnsupportedDtype(s.to_string())),
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The last output token is one of the model's EOS tokens (it is kept in the output ids).
    Eos,
    /// `max_tokens` tokens were generated without an EOS.
    MaxTokens,
}

impl FinishReason {
    /// Byte used in the commitment: 0 = eos, 1 = max_tokens.
    pub fn code(self) -> u8 {
        match self {
            FinishReason::Eos => 0,
            FinishReason::MaxTokens => 1,
        }
    }

    /// `eos` or `max_tokens`.
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Eos => "eos",
            FinishReason::MaxTokens => "max_tokens",
        }
    }
}

/// Supported model families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    /// `LlamaForCausalLM` (Llama 2/3, TinyLlama, SmolLM, ...).
    Llama,
    /// `Qwen2ForCausalLM` (Qwen2, Qwen2.5, Qwen2.5-Coder).
    Qwen2,
}

impl Architecture {
    /// `llama` or `qwen2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::Llama => "llama",
            Architecture::Qwen2 => "qwen2",
        }
    }
}

impl FromStr for Architecture {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "llama" | "LlamaForCausalLM" => Ok(Architecture::Llama),
            "qwen2" | "Qwen2ForCausalLM" => Ok(Architecture::Qwen2),
            other => Err(Error::UnsupportedArchitecture(other.to_string())),
        }
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
