//! CPU benchmark: load time, prefill time, decode throughput and peak memory.

use crate::error::Result;
use crate::model::{GenerationRequest, Model, Prompt};
use crate::sampling::SamplingParams;
use crate::types::DType;
use std::path::Path;
use std::time::{Duration, Instant};

/// Fixed benchmark prompt (English and code).
pub const BENCH_PROMPT: &str = "The provider runs the model, commits to the result, and the chain \
holds the payment in escrow until the challenge window closes.\nfn fibonacci(n: u64) -> u64 {\n    \
if n < 2 {\n        return n;\n    }\n";

/// One benchmark run.
#[derive(Debug, Clone)]
pub struct BenchReport {
    /// Model id (hex).
    pub model_id: String,
    /// Compute dtype.
    pub dtype: DType,
    /// Pool size.
    pub threads: usize,
    /// Total [`Model::load`] wall time.
    pub load: Duration,
    /// Of which hashing the files.
    pub load_hash: Duration,
    /// Prompt length in tokens.
    pub prompt_tokens: usize,
    /// Prompt forward pass.
    pub prefill: Duration,
    /// Generated tokens (EOS ignored).
    pub decode_tokens: usize,
    /// Time for the decode steps.
    pub decode: Duration,
    /// VmHWM from /proc/self/status, KiB.
    pub peak_rss_kib: Option<u64>,
    /// Process CPU time (all threads) divided by wall time during generation; above 1 means
    /// the kernels really ran on several threads.
    pub cpu_per_wall: Option<f64>,
    /// Output hash of the generated ids (compare across thread counts).
    pub output_hash: String,
}

/// Peak resident set size (VmHWM) of this process in KiB, on Linux.
pub fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU time of this process (all threads), from /proc/self/stat (USER_HZ = 100).
pub fn process_cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Loads `dir` and greedily generates `tokens` tokens from [`BENCH_PROMPT`], ignoring EOS.
pub fn bench(dir: &Path, dtype: DType, threads: Option<usize>, tokens: u32) -> Result<BenchReport> {
    let t0 = Instant::now();
    let model = Model::load(dir, dtype, threads)?;
    let load = t0.elapsed();
    let req = GenerationRequest { prompt: Prompt::Text(BENCH_PROMPT.into()), params: SamplingParams::greedy(tokens) };
    let cpu0 = process_cpu_time();
    let t1 = Instant::now();
    let out = model.generate_inner(&req, true, &mut |_, _| {})?;
    let wall = t1.elapsed();
    let cpu_per_wall = match (cpu0, process_cpu_time()) {
        (Some(a), Some(b)) => Some((b - a).as_secs_f64() / wall.as_secs_f64().max(1e-9)),
        _ => None,
    };
    Ok(BenchReport {
        model_id: crate::hex::encode(&model.model_id()),
        dtype,
        threads: model.threads(),
        load,
        load_hash: model.load_timings().hash,
        prompt_tokens: out.prompt_token_ids.len(),
        prefill: out.stats.prefill,
        decode_tokens: out.output_token_ids.len(),
        decode: out.stats.decode,
        peak_rss_kib: peak_rss_kib(),
        cpu_per_wall,
        output_hash: crate::hex::encode(&crate::output_hash(&out.output_token_ids)),
    })
}

impl BenchReport {
    /// Decode throughput: decode steps (tokens after the first) per second.
    pub fn decode_tokens_per_sec(&self) -> f64 {
        let steps = self.decode_tokens.saturating_sub(1) as f64;
        steps / self.decode.as_secs_f64().max(1e-9)
    }

    /// Human-readable table.
    pub fn table(&self) -> String {
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
        let rows = [
            ("model id", self.model_id.clone()),
            ("dtype", self.dtype.to_string()),
            ("threads", self.threads.to_string()),
            ("load (total)", ms(self.load)),
            ("load (hashing files)", ms(self.load_hash)),
            ("prompt tokens", self.prompt_tokens.to_string()),
            ("prefill", ms(self.prefill)),
            ("prefill tok/s", format!("{:.1}", self.prompt_tokens as f64 / self.prefill.as_secs_f64().max(1e-9))),
            ("generated tokens", self.decode_tokens.to_string()),
            ("decode tok/s", format!("{:.1}", self.decode_tokens_per_sec())),
            (
                "peak memory (VmHWM)",
                self.peak_rss_kib.map(|k| format!("{:.1} MiB", k as f64 / 1024.0)).unwrap_or_else(|| "n/a".into()),
            ),
            ("CPU time / wall time", self.cpu_per_wall.map(|r| format!("{r:.2}")).unwrap_or_else(|| "n/a".into())),
            ("output hash", self.output_hash.clone()),
        ];
        let mut s = String::new();
        for (k, v) in rows {
            s.push_str(&format!("| {k:<22} | {v} |\n"));
        }
        s
    }
}
