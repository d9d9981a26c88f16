//! `cinder-demo`: the whole protocol in one process (see the `cinder_demo` library), then the
//! audit. Exits 0 only if every job settled as expected and the books balance.
use std::path::PathBuf;

use cinder_cli::cli::OutputFormat;
use clap::Parser;
use serde_json::json;

/// The local end-to-end demo of Cinder.
#[derive(Debug, Parser)]
#[command(name = "cinder-demo", version)]
pub struct DemoArgs {
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t)]
    pub output: OutputFormat,
    /// A local Hugging Face-format model directory (config.json, tokenizer.json, *.safetensors).
    /// Default: a small Qwen2-shaped model generated from a fixed seed.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Where the demo keeps its model, content store and journals. Default: a fresh temp directory.
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Run without the dishonest provider (every job then finalizes).
    #[arg(long)]
    pub all_honest: bool,
}

/// Runs the demo and the audit; returns the exit code (0 only if every job settled as expected
/// and the books balance).
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = DemoArgs::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn,tarpc=off".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    std::process::exit(run(&args, args.output).await);
}

async fn run(args: &DemoArgs, format: OutputFormat) -> i32 {
    let text = matches!(format, OutputFormat::Text);
    let work_dir = args
        .work_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("cinder-demo-{}", std::process::id())));
    let dishonest = if args.all_honest { None } else { Some(1) };
    let opts =
        cinder_demo::DemoOptions { model_dir: args.model.clone(), work_dir, dishonest_job: dishonest, progress: text };
    // The programs run natively in-process, where `msg!` prints to stdout: keep stdout for our
    // own output (one JSON value with -o json) by pointing it at stderr while the demo runs.
    let guard = StdoutToStderr::new();
    let run = cinder_demo::run(opts).await;
    let audit = match &run {
        Ok(r) => Some(cinder_cli::audit(&r.chain).await),
        Err(_) => None,
    };
    drop(guard);
    let run = match run {
        Ok(r) => r,
        Err(e) => {
            match format {
                OutputFormat::Json => println!("{}", json!({"error": e.to_string(), "ok": false})),
                OutputFormat::Text => eprintln!("error: the demo failed: {e}"),
            }
            return 1;
        }
    };
    let audit = audit.expect("audited when the demo ran");
    let s = &run.summary;
    let mut problems = vec![];
    for j in &s.jobs {
        let expected = if Some(j.job_id) == dishonest { "provider slashed (wrong result)" } else { "finalized" };
        // With a real model a job can also be refused (e.g. FIM on a model without FIM tokens):
        // it then expires open and the client is refunded, which is a correct outcome too.
        if j.outcome != expected && j.outcome != "expired" {
            problems.push(format!("job {} ended as `{}`, expected `{}`", j.job_id, j.outcome, expected));
        }
    }
    let (audit_ok, audit_json) = match &audit {
        Ok(r) => (r.ok, serde_json::to_value(r).unwrap_or_default()),
        Err(e) => (false, json!({"error": e.to_string()})),
    };
    if !audit_ok {
        problems.push("the audit found a mismatch".into());
    }
    let ok = problems.is_empty();
    match format {
        OutputFormat::Json => println!(
            "{}",
            json!({"ok": ok, "summary": serde_json::to_value(s).unwrap_or_default(), "audit": audit_json, "problems": problems})
        ),
        OutputFormat::Text => {
            println!("\n{}", cinder_demo::render_table(s));
            match &audit {
                Ok(r) => {
                    for m in &r.mints {
                        println!(
                            "audit {}: owed {} held {} {}",
                            m.mint,
                            m.owed,
                            m.held,
                            if m.ok { "OK" } else { "MISMATCH" }
                        );
                    }
                    for f in &r.findings {
                        println!("audit finding: {f}");
                    }
                }
                Err(e) => println!("audit failed: {e}"),
            }
            if ok {
                println!("\ndemo OK: every job settled as expected and the books balance");
            } else {
                for p in &problems {
                    println!("problem: {p}");
                }
            }
        }
    }
    if ok {
        0
    } else {
        1
    }
}

/// Points file descriptor 1 at stderr until dropped (then restores it).
struct StdoutToStderr {
    saved: i32,
}

impl StdoutToStderr {
    fn new() -> Option<Self> {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SAFETY: plain descriptor duplication; on failure nothing is redirected.
        let saved = unsafe { libc::dup(1) };
        if saved < 0 || unsafe { libc::dup2(2, 1) } < 0 {
            return None;
        }
        Some(StdoutToStderr { saved })
    }
}

impl Drop for StdoutToStderr {
    fn drop(&mut self) {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SAFETY: restores the descriptor saved in `new`.
        unsafe {
            libc::dup2(self.saved, 1);
            libc::close(self.saved);
        }
    }
}
