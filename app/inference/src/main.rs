//! `cinder-infer`: command-line front end of the Cinder inference engine.

use cinder_inference::{
    bench, commitment, hex, make_test_model, model_id_of_dir, output_hash, Architecture, CommitmentInput, DType,
    GenerationRequest, Model, Prompt, SamplingParams, TestModelSize, ENGINE_ID, ENGINE_VERSION,
};
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "cinder-infer", version, about = "Deterministic LLM inference for Cinder")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write a deterministic test model (seeded weights, trained BPE tokenizer).
    MakeTestModel {
        /// llama or qwen2
        #[arg(long)]
        arch: String,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        /// tiny (default, < 1 MB), small (~2M parameters) or 40m (~40M parameters, for benchmarks)
        #[arg(long, default_value = "tiny")]
        size: String,
    },
    /// Generate text and print the result commitment.
    Run(RunArgs),
    /// Print the model id (hex) of a model directory.
    ModelId {
        #[arg(long)]
        model: PathBuf,
        /// Also print the manifest that is hashed.
        #[arg(long)]
        manifest: bool,
    },
    /// Measure load time, prefill time, decode throughput and peak memory.
    Bench {
        #[arg(long)]
        model: PathBuf,
        #[arg(long, default_value = "f32")]
        dtype: String,
        #[arg(long)]
        threads: Option<usize>,
        #[arg(long, default_value_t = 128)]
        tokens: u32,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    #[arg(long)]
    model: PathBuf,
    /// Prompt text (omit when using --fim-prefix/--fim-suffix).
    #[arg(long)]
    prompt: Option<String>,
    /// Fill-in-the-middle: code before the hole.
    #[arg(long)]
    fim_prefix: Option<String>,
    /// Fill-in-the-middle: code after the hole.
    #[arg(long)]
    fim_suffix: Option<String>,
    #[arg(long, default_value_t = 64)]
    max_tokens: u32,
    /// 0 = greedy
    #[arg(long, default_value_t = 0.0)]
    temperature: f32,
    /// 0 = off
    #[arg(long, default_value_t = 0)]
    top_k: u32,
    /// 1 = off
    #[arg(long, default_value_t = 1.0)]
    top_p: f32,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value = "f32")]
    dtype: String,
    #[arg(long)]
    threads: Option<usize>,
    /// Job account (base58 or 64 hex digits); zero key when omitted.
    #[arg(long)]
    job: Option<String>,
    /// Provider key (base58 or 64 hex digits); zero key when omitted.
    #[arg(long)]
    provider: Option<String>,
    /// Print exactly one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

fn progress_line(msg: &str) {
    let mut e = std::io::stderr();
    let _ = write!(e, "\r\x1b[2K{msg}");
    let _ = e.flush();
}

fn run(args: RunArgs) -> cinder_inference::Result<()> {
    let dtype: DType = args.dtype.parse()?;
    let key = |k: &Option<String>| match k {
        Some(s) => hex::parse_key(s),
        None => Ok([0u8; 32]),
    };
    let job = key(&args.job)?;
    let provider = key(&args.provider)?;
    let prompt = match (args.prompt, args.fim_prefix, args.fim_suffix) {
        (Some(p), None, None) => Prompt::Text(p),
        (None, prefix, suffix) if prefix.is_some() || suffix.is_some() => {
            Prompt::Fim { prefix: prefix.unwrap_or_default(), suffix: suffix.unwrap_or_default() }
        }
        _ => {
            return Err(cinder_inference::Error::InvalidParams(
                "give either --prompt or --fim-prefix/--fim-suffix".into(),
            ))
        }
    };
    let params = SamplingParams {
        max_tokens: args.max_tokens,
        temperature: args.temperature,
        top_k: args.top_k,
        top_p: args.top_p,
        seed: args.seed,
    };
    params.validate()?;
    let tty = std::io::stderr().is_terminal();
    if tty {
        progress_line("loading model...");
    }
    let model = Model::load(&args.model, dtype, args.threads)?;
    let max = params.max_tokens;
    let mut progress = |n: usize, _tok: u32| {
        if tty {
            progress_line(&format!("generating {n}/{max} ({:.0}%)", 100.0 * n as f64 / max as f64));
        }
    };
    let out = model.generate_with_progress(&GenerationRequest { prompt, params }, &mut progress)?;
    if tty {
        progress_line("");
    }
    let c = commitment(&CommitmentInput::new(
        job,
        provider,
        model.model_id(),
        dtype,
        params,
        out.prompt_token_ids.clone(),
        out.output_token_ids.clone(),
        out.finish_reason,
    ));
    let oh = output_hash(&out.output_token_ids);
    if args.json {
        let v = serde_json::json!({
            "engine_id": ENGINE_ID,
            "engine_version": ENGINE_VERSION,
            "model_id": hex::encode(&model.model_id()),
            "dtype": dtype.as_str(),
            "params": params,
            "job": hex::encode(&job),
            "provider": hex::encode(&provider),
            "prompt_token_ids": out.prompt_token_ids,
            "output_token_ids": out.output_token_ids,
            "finish_reason": out.finish_reason.as_str(),
            "text": out.text,
            "output_hash": hex::encode(&oh),
            "commitment": hex::encode(&c),
        });
        println!("{v}");
    } else {
        println!("{}", out.text);
        println!("---");
        println!("model_id:      {}", hex::encode(&model.model_id()));
        println!("finish_reason: {}", out.finish_reason.as_str());
        println!("tokens:        {} prompt, {} output", out.prompt_token_ids.len(), out.output_token_ids.len());
        println!("output_hash:   {}", hex::encode(&oh));
        println!("commitment:    {}", hex::encode(&c));
    }
    Ok(())
}

fn real_main(cli: Cli) -> cinder_inference::Result<()> {
    match cli.cmd {
        Cmd::MakeTestModel { arch, seed, out, size } => {
            let arch: Architecture = arch.parse()?;
            let size: TestModelSize = size.parse()?;
            let id = make_test_model(arch, seed, size, &out)?;
            println!("{}", hex::encode(&id));
        }
        Cmd::Run(args) => run(args)?,
        Cmd::ModelId { model, manifest } => {
            if manifest {
                print!("{}", cinder_inference::model_manifest(&model)?);
            }
            println!("{}", hex::encode(&model_id_of_dir(&model)?));
        }
        Cmd::Bench { model, dtype, threads, tokens } => {
            let dtype: DType = dtype.parse()?;
            let r = bench::bench(&model, dtype, threads, tokens)?;
            print!("{}", r.table());
        }
    }
    Ok(())
}

/// candle splits each CPU matmul into `RAYON_NUM_THREADS` (default: physical cores) tasks that
/// run on the engine's pool; align the split with `--threads` before any thread exists.
fn align_candle_threads(cli: &Cli) {
    let threads = match &cli.cmd {
        Cmd::Run(a) => a.threads,
        Cmd::Bench { threads, .. } => *threads,
        _ => None,
    };
    if let Some(n) = threads {
        if n > 0 && std::env::var_os("RAYON_NUM_THREADS").is_none() {
            std::env::set_var("RAYON_NUM_THREADS", n.to_string());
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    align_candle_threads(&cli);
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    match real_main(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::debug!(error = ?e, "failed");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
