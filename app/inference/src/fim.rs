//! Fill-in-the-middle prompt construction.
//!
//! FIM support is detected from the tokenizer's vocabulary. Two token families are recognised,
//! tried in this order:
//!
//! * Qwen2.5-Coder style: `<|fim_prefix|>`, `<|fim_suffix|>`, `<|fim_middle|>`;
//! * StarCoder style: `<fim_prefix>`, `<fim_suffix>`, `<fim_middle>`.
//!
//! The prompt is built in prefix-suffix-middle (PSM) order, token by token, so text in the prefix
//! or suffix can never inject a special token:
//!
//! ```text
//! [fim_prefix] ++ encode(prefix) ++ [fim_suffix] ++ encode(suffix) ++ [fim_middle]
//! ```
//!
//! where `encode` is the tokenizer without special tokens (no BOS). This is the string form
//! `<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>` used by Qwen2.5-Coder.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;

/// Ids of the three FIM control tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FimTokens {
    /// `<|fim_prefix|>`
    pub prefix: u32,
    /// `<|fim_suffix|>`
    pub suffix: u32,
    /// `<|fim_middle|>`
    pub middle: u32,
}

const FAMILIES: [[&str; 3]; 2] =
    [["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"], ["<fim_prefix>", "<fim_suffix>", "<fim_middle>"]];

/// The FIM tokens of `tokenizer`, if it defines a complete family.
pub fn detect_fim(tokenizer: &Tokenizer) -> Option<FimTokens> {
    FAMILIES.iter().find_map(|[p, s, m]| {
        Some(FimTokens {
            prefix: tokenizer.token_to_id(p)?,
            suffix: tokenizer.token_to_id(s)?,
            middle: tokenizer.token_to_id(m)?,
        })
    })
}

/// Encodes `text` without special tokens.
pub fn encode_plain(tokenizer: &Tokenizer, text: &str) -> Result<Vec<u32>> {
    tokenizer.encode(text, false).map(|e| e.get_ids().to_vec()).map_err(|e| Error::Tokenizer(e.to_string()))
}

/// PSM fill-in-the-middle prompt token ids (see the module docs).
/// [`Error::FimUnsupported`] when the tokenizer has no FIM tokens.
pub fn fim_prompt(tokenizer: &Tokenizer, prefix: &str, suffix: &str) -> Result<Vec<u32>> {
    let fim = detect_fim(tokenizer).ok_or(Error::FimUnsupported)?;
    let mut ids = vec![fim.prefix];
    ids.extend(encode_plain(tokenizer, prefix)?);
    ids.push(fim.suffix);
    ids.extend(encode_plain(tokenizer, suffix)?);
    ids.push(fim.middle);
    Ok(ids)
}
