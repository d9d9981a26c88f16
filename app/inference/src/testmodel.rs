//! Deterministic test models: small Llama- and Qwen2-shaped networks with seeded weights and a
//! byte-level BPE tokenizer trained here, written in the Hugging Face directory format.
//!
//! Everything written is a pure function of `(arch, seed, size)`: same inputs give the same
//! bytes on every machine (and hence the same model id).
//!
//! * **Tokenizer**: byte-level BPE trained on [`CORPUS`], one per architecture. The corpus is
//!   split with the family's real pre-tokenizer (Llama 3 / Qwen2 regex split with look-ahead,
//!   then the byte-level mapping), run through the `tokenizers` crate. The base vocabulary is
//!   the 256 byte symbols in byte order (ids 0..=255). Each round counts adjacent symbol pairs
//!   over all words weighted by word frequency and merges the most frequent pair, ties going to
//!   the smallest `(left id, right id)`; the merged symbol gets the next id. Training stops after
//!   [`MERGES`] merges or when no pair occurs twice. Special tokens follow the merges.
//! * **Weights**: tensors in name order, one [`SplitMix64`] stream seeded with `seed`; each
//!   value is `(2 * next_f32() - 1) * a` with `a = sqrt(3 / fan_in)` (`fan_in` = last dimension)
//!   for matrices and `a = 0.02` for biases; norm weights are 1.0 and draw nothing. Stored as F32.
//! * **Files**: `config.json`, `tokenizer.json` (canonical JSON: sorted keys, no whitespace,
//!   trailing newline), `model.safetensors` (header with sorted keys padded with spaces to a
//!   multiple of 8, tensors in name order).

use crate::error::{Error, Result};
use crate::rng::SplitMix64;
use crate::types::Architecture;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::str::FromStr;
use std::sync::OnceLock;

/// Number of BPE merges the test tokenizer learns at most.
pub const MERGES: usize = 400;

/// Built-in training corpus: English prose plus Rust and Python code.
pub const CORPUS: &str = r#"The quick brown fox jumps over the lazy dog. A decentralized market for inference lets
anyone with a graphics card sell computation to anyone who needs a model to answer a question.
The provider runs the model, commits to the result, and the chain holds the payment in escrow
until the challenge window closes. If a verifier re-runs the same job and finds a different
answer, the provider loses part of the stake. Determinism is therefore the heart of the design:
the same model, the same prompt and the same parameters must give the same tokens every time.
Once upon a time there was a little model that wanted to write poems. It read the whole
library, one book after another, and every night it dreamed of words that rhymed with the moon.
The weather today is sunny with a light breeze from the west, and the temperature will rise
to twenty degrees in the afternoon. Tomorrow there is a chance of rain in the evening.
fn main() {
    let numbers = vec![1, 2, 3, 4, 5];
    let total: i32 = numbers.iter().map(|x| x * 2).sum();
    println!("total = {}", total);
}

pub fn fibonacci(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let mut a = 0;
    let mut b = 1;
    for _ in 1..n {
        let c = a + b;
        a = b;
        b = c;
    }
    b
}

impl Iterator for Counter {
    type Item = u32;
    fn next(&mut self) -> Option<Self::Item> {
        if self.count < 5 {
            self.count += 1;
            Some(self.count)
        } else {
            None
        }
    }
}

def quick_sort(items):
    if len(items) <= 1:
        return items
    pivot = items[len(items) // 2]
    left = [x for x in items if x < pivot]
    middle = [x for x in items if x == pivot]
    right = [x for x in items if x > pivot]
    return quick_sort(left) + middle + quick_sort(right)

class Account:
    def __init__(self, owner, balance=0):
        self.owner = owner
        self.balance = balance

    def deposit(self, amount):
        if amount <= 0:
            raise ValueError("amount must be positive")
        self.balance += amount
        return self.balance

for i in range(10):
    print(f"value {i} squared is {i * i}")
"#;

/// Size presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestModelSize {
    /// About 0.2M parameters (under 1 MB): for tests.
    Tiny,
    /// About 2.2M parameters (9 MB): large enough that prefill matmuls exceed gemm's
    /// threading threshold, so thread-count tests really run multi-threaded kernels.
    Small,
    /// About 40M parameters: for benchmarks.
    M40,
}

impl FromStr for TestModelSize {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "tiny" => Ok(TestModelSize::Tiny),
            "small" => Ok(TestModelSize::Small),
            "40m" | "40M" => Ok(TestModelSize::M40),
            _ => Err(Error::InvalidParams(format!("unknown test model size {s:?} (tiny, small, 40m)"))),
        }
    }
}

struct Shape {
    hidden: usize,
    intermediate: usize,
    layers: usize,
    heads: usize,
    kv_heads: usize,
    context: usize,
    vocab: usize,
}

/// GPT-2 byte-to-unicode table used by byte-level BPE.
fn byte_symbols() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut n = 0u32;
    for b in 0..256u32 {
        let printable = (33..=126).contains(&b) || (161..=172).contains(&b) || (174..=255).contains(&b);
        let c = if printable {
            b
        } else {
            n += 1;
            255 + n
        };
        table[b as usize] = char::from_u32(c).unwrap_or('\u{FFFD}');
    }
    table
}

/// The trained base vocabulary (symbol strings by id) and merges (pairs of ids), computed once.
struct Bpe {
    symbols: Vec<String>,
    merges: Vec<(u32, u32)>,
}

/// Llama 3 pre-tokenizer split pattern.
const LLAMA3_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Qwen2 pre-tokenizer split pattern (single digits).
const QWEN2_PATTERN: &str =
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The pre-tokenizer of the real model families: a regex split (with look-ahead, so it needs
/// fancy-regex) followed by the byte-level mapping.
fn pre_tokenizer_json(arch: Architecture) -> Value {
    let pattern = match arch {
        Architecture::Llama => LLAMA3_PATTERN,
        Architecture::Qwen2 => QWEN2_PATTERN,
    };
    json!({"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": false},
        {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}
    ]})
}

fn train_bpe(arch: Architecture) -> Result<&'static Bpe> {
    static LLAMA: OnceLock<Bpe> = OnceLock::new();
    static QWEN2: OnceLock<Bpe> = OnceLock::new();
    let cell = match arch {
        Architecture::Llama => &LLAMA,
        Architecture::Qwen2 => &QWEN2,
    };
    if let Some(b) = cell.get() {
        return Ok(b);
    }
    use tokenizers::{OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer, PreTokenizerWrapper};
    let pre: PreTokenizerWrapper =
        serde_json::from_value(pre_tokenizer_json(arch)).map_err(|e| Error::Tokenizer(e.to_string()))?;
    let mut pts = PreTokenizedString::from(CORPUS);
    pre.pre_tokenize(&mut pts).map_err(|e| Error::Tokenizer(e.to_string()))?;
    let table = byte_symbols();
    let mut symbols: Vec<String> = table.iter().map(|c| c.to_string()).collect();
    let index: HashMap<char, u32> = table.iter().enumerate().map(|(i, &c)| (c, i as u32)).collect();
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    let splits = pts.get_splits(OffsetReferential::Original, OffsetType::Byte);
    for (piece, _, _) in &splits {
        *counts.entry(piece).or_default() += 1;
    }
    let mut words: Vec<(Vec<u32>, u64)> = counts
        .into_iter()
        .map(|(w, n)| (w.chars().map(|c| index.get(&c).copied().unwrap_or(0)).collect(), n))
        .collect();
    let mut merges = Vec::new();
    let mut existing: HashMap<String, u32> = symbols.iter().enumerate().map(|(i, s)| (s.clone(), i as u32)).collect();
    while merges.len() < MERGES {
        let mut pairs: HashMap<(u32, u32), u64> = HashMap::new();
        for (w, n) in &words {
            for p in w.windows(2) {
                *pairs.entry((p[0], p[1])).or_default() += n;
            }
        }
        // Most frequent; ties to the smallest (left, right).
        let Some((&best, &count)) = pairs.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))) else {
            break;
        };
        if count < 2 {
            break;
        }
        let merged = format!("{}{}", symbols[best.0 as usize], symbols[best.1 as usize]);
        let id = *existing.entry(merged.clone()).or_insert_with(|| {
            symbols.push(merged);
            (symbols.len() - 1) as u32
        });
        merges.push(best);
        for (w, _) in words.iter_mut() {
            let mut out = Vec::with_capacity(w.len());
            let mut i = 0;
            while i < w.len() {
                if i + 1 < w.len() && (w[i], w[i + 1]) == best {
                    out.push(id);
                    i += 2;
                } else {
                    out.push(w[i]);
                    i += 1;
                }
            }
            *w = out;
        }
    }
    Ok(cell.get_or_init(|| Bpe { symbols, merges }))
}

/// Special tokens per architecture; the first EOS listed is the config's `eos_token_id`.
fn special_tokens(arch: Architecture) -> &'static [&'static str] {
    match arch {
        Architecture::Llama => &["<|begin_of_text|>", "<|end_of_text|>"],
        Architecture::Qwen2 => &[
            "<|endoftext|>",
            "<|im_start|>",
            "<|im_end|>",
            "<|fim_prefix|>",
            "<|fim_middle|>",
            "<|fim_suffix|>",
            "<|fim_pad|>",
        ],
    }
}

/// Writes `v` as canonical JSON (object keys sorted by their bytes, no whitespace), independent
/// of serde_json's map features.
pub fn canonical_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                canonical_json(&m[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(x, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn canonical(v: &Value) -> String {
    let mut s = String::new();
    canonical_json(v, &mut s);
    s.push('\n');
    s
}

/// tokenizer.json text and the ids of the special tokens (in [`special_tokens`] order).
fn tokenizer_json(arch: Architecture) -> Result<(String, Vec<u32>, usize)> {
    let bpe = train_bpe(arch)?;
    let mut vocab = serde_json::Map::new();
    for (i, s) in bpe.symbols.iter().enumerate() {
        vocab.insert(s.clone(), json!(i));
    }
    let merges: Vec<Value> = bpe
        .merges
        .iter()
        .map(|&(a, b)| json!(format!("{} {}", bpe.symbols[a as usize], bpe.symbols[b as usize])))
        .collect();
    let base = bpe.symbols.len() as u32;
    let specials = special_tokens(arch);
    let ids: Vec<u32> = (0..specials.len() as u32).map(|i| base + i).collect();
    let added: Vec<Value> = specials
        .iter()
        .zip(&ids)
        .map(|(s, id)| {
            json!({"id": id, "content": s, "single_word": false, "lstrip": false,
                   "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    let byte_level = json!({"type": "ByteLevel", "add_prefix_space": true,
                            "trim_offsets": true, "use_regex": true});
    let post = match arch {
        Architecture::Llama => {
            let bos = specials[0];
            json!({
                "type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": bos, "type_id": 0}},
                           {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": bos, "type_id": 0}},
                         {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": bos, "type_id": 1}},
                         {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {bos: {"id": bos, "ids": [ids[0]], "tokens": [bos]}}
            })
        }
        Architecture::Qwen2 => Value::Null,
    };
    let tok = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        // Qwen2 normalises to NFC (the identity on the ASCII training corpus).
        "normalizer": match arch {
            Architecture::Llama => Value::Null,
            Architecture::Qwen2 => json!({"type": "NFC"}),
        },
        "pre_tokenizer": pre_tokenizer_json(arch),
        "post_processor": post,
        "decoder": byte_level,
        "model": {
            "type": "BPE", "dropout": null, "unk_token": null,
            "continuing_subword_prefix": null, "end_of_word_suffix": null,
            "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
            "vocab": vocab, "merges": merges
        }
    });
    Ok((canonical(&tok), ids, base as usize + specials.len()))
}

fn shape(size: TestModelSize, tokenizer_vocab: usize) -> Shape {
    match size {
        TestModelSize::Tiny => Shape {
            hidden: 64,
            intermediate: 128,
            layers: 2,
            heads: 4,
            kv_heads: 2,
            context: 512,
            vocab: tokenizer_vocab,
        },
        TestModelSize::Small => Shape {
            hidden: 256,
            intermediate: 1024,
            layers: 2,
            heads: 4,
            kv_heads: 2,
            context: 512,
            vocab: tokenizer_vocab,
        },
        TestModelSize::M40 => {
            Shape { hidden: 512, intermediate: 1536, layers: 10, heads: 8, kv_heads: 4, context: 2048, vocab: 8192 }
        }
    }
}

fn config_json(arch: Architecture, s: &Shape, special_ids: &[u32]) -> String {
    let mut c = json!({
        "hidden_size": s.hidden,
        "intermediate_size": s.intermediate,
        "num_hidden_layers": s.layers,
        "num_attention_heads": s.heads,
        "num_key_value_heads": s.kv_heads,
        "max_position_embeddings": s.context,
        "vocab_size": s.vocab,
        "hidden_act": "silu",
        "torch_dtype": "float32",
    });
    let extra = match arch {
        Architecture::Llama => json!({
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "rms_norm_eps": 1e-5,
            "rope_theta": 10000.0,
            "bos_token_id": special_ids[0],
            "eos_token_id": special_ids[1],
            "tie_word_embeddings": false,
        }),
        Architecture::Qwen2 => json!({
            "architectures": ["Qwen2ForCausalLM"],
            "model_type": "qwen2",
            "rms_norm_eps": 1e-6,
            "rope_theta": 1000000.0,
            "bos_token_id": special_ids[0],
            "eos_token_id": special_ids[0],
            "tie_word_embeddings": true,
            "sliding_window": s.context,
            "max_window_layers": s.layers,
            "use_sliding_window": false,
        }),
    };
    if let (Value::Object(c), Value::Object(e)) = (&mut c, extra) {
        c.extend(e);
    }
    canonical(&c)
}

/// Tensor names and shapes of a test model, sorted by name.
fn tensor_shapes(arch: Architecture, s: &Shape) -> BTreeMap<String, Vec<usize>> {
    let hd = s.hidden / s.heads;
    let (q, kv) = (s.heads * hd, s.kv_heads * hd);
    let mut t = BTreeMap::new();
    t.insert("model.embed_tokens.weight".into(), vec![s.vocab, s.hidden]);
    t.insert("model.norm.weight".into(), vec![s.hidden]);
    if arch == Architecture::Llama {
        t.insert("lm_head.weight".into(), vec![s.vocab, s.hidden]);
    }
    for l in 0..s.layers {
        let p = format!("model.layers.{l}");
        t.insert(format!("{p}.self_attn.q_proj.weight"), vec![q, s.hidden]);
        t.insert(format!("{p}.self_attn.k_proj.weight"), vec![kv, s.hidden]);
        t.insert(format!("{p}.self_attn.v_proj.weight"), vec![kv, s.hidden]);
        t.insert(format!("{p}.self_attn.o_proj.weight"), vec![s.hidden, q]);
        if arch == Architecture::Qwen2 {
            t.insert(format!("{p}.self_attn.q_proj.bias"), vec![q]);
            t.insert(format!("{p}.self_attn.k_proj.bias"), vec![kv]);
            t.insert(format!("{p}.self_attn.v_proj.bias"), vec![kv]);
        }
        t.insert(format!("{p}.mlp.gate_proj.weight"), vec![s.intermediate, s.hidden]);
        t.insert(format!("{p}.mlp.up_proj.weight"), vec![s.intermediate, s.hidden]);
        t.insert(format!("{p}.mlp.down_proj.weight"), vec![s.hidden, s.intermediate]);
        t.insert(format!("{p}.input_layernorm.weight"), vec![s.hidden]);
        t.insert(format!("{p}.post_attention_layernorm.weight"), vec![s.hidden]);
    }
    t
}

/// Writes a safetensors file of F32 tensors given in name order.
pub fn write_safetensors(path: &Path, tensors: &BTreeMap<String, (Vec<usize>, Vec<f32>)>) -> Result<()> {
    let mut header = serde_json::Map::new();
    header.insert("__metadata__".into(), json!({"format": "pt"}));
    let mut offset = 0usize;
    for (name, (shape, data)) in tensors {
        let end = offset + data.len() * 4;
        header.insert(name.clone(), json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, end]}));
        offset = end;
    }
    let mut h = String::new();
    canonical_json(&Value::Object(header), &mut h);
    while !h.len().is_multiple_of(8) {
        h.push(' ');
    }
    let f = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut w = std::io::BufWriter::new(f);
    let io = |e| Error::io(path, e);
    w.write_all(&(h.len() as u64).to_le_bytes()).map_err(io)?;
    w.write_all(h.as_bytes()).map_err(io)?;
    for (_, data) in tensors.values() {
        let mut bytes = Vec::with_capacity(data.len() * 4);
        for v in data {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        w.write_all(&bytes).map_err(io)?;
    }
    w.flush().map_err(io)
}

/// Writes a test model into `out` (created if needed) and returns its model id.
pub fn make_test_model(arch: Architecture, seed: u64, size: TestModelSize, out: &Path) -> Result<[u8; 32]> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let (tok_json, special_ids, tok_vocab) = tokenizer_json(arch)?;
    let s = shape(size, tok_vocab);
    let write = |name: &str, text: &str| {
        let p = out.join(name);
        std::fs::write(&p, text).map_err(|e| Error::io(&p, e))
    };
    write("tokenizer.json", &tok_json)?;
    write("config.json", &config_json(arch, &s, &special_ids))?;

    let mut rng = SplitMix64::new(seed);
    let mut tensors = BTreeMap::new();
    for (name, shape) in tensor_shapes(arch, &s) {
        let n: usize = shape.iter().product();
        let data: Vec<f32> = if name.ends_with("norm.weight") {
            vec![1.0; n]
        } else {
            let a = if name.ends_with(".bias") { 0.02f32 } else { (3.0f32 / shape[shape.len() - 1] as f32).sqrt() };
            (0..n).map(|_| (2.0 * rng.next_f32() - 1.0) * a).collect()
        };
        tensors.insert(name, (shape, data));
    }
    write_safetensors(&out.join("model.safetensors"), &tensors)?;
    crate::model_id::model_id_of_dir(out)
}
