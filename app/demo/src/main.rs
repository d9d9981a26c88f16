//! `cinder-demo`: the local end-to-end demo (see the `cinder_demo` library): a local cluster, a
//! provider and verifiers, each its own process, and this process as the client; then the audit.
//! Exits 0 only if every job settled as expected, the books balance and every process stopped
//! cleanly.
//!
//! Multi-call: started as `cinder-worker` or `cinder-localnet` (argv[0]) it is exactly that program.
use std::{ffi::OsString, path::PathBuf, process::ExitCode};

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
    /// Where the demo keeps the cluster files, stores, journals and logs. Default: a fresh temp directory.
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Run without the dishonest provider (every job then finalizes).
    #[arg(long)]
    pub all_honest: bool,
    /// Verifier processes to run (the quorum is 3).
    #[arg(long, default_value_t = 4)]
    pub verifiers: usize,
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let name = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_string();
    match name.as_str() {
        "cinder-worker" => return cinder_worker::daemon::main(args),
        "cinder-localnet" => return cinder_localnet::cli::main(args),
        _ => {}
    }
    let args = DemoArgs::parse_from(args);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if rt.block_on(run(&args, args.output)) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn run(args: &DemoArgs, format: OutputFormat) -> bool {
    let text = matches!(format, OutputFormat::Text);
    let work_dir = args
        .work_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("cinder-demo-{}", std::process::id())));
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot find this program's own path: {e}");
            return false;
        }
    };
    let dishonest = if args.all_honest { None } else { Some(1) };
    let mut opts = cinder_demo::DemoOptions::new(exe, work_dir);
    opts.model_dir = args.model.clone();
    opts.dishonest_job = dishonest;
    opts.progress = text;
    opts.verifiers = args.verifiers;
    let run = match cinder_demo::run(opts).await {
        Ok(r) => r,
        Err(e) => {
            match format {
                OutputFormat::Json => println!("{}", json!({"error": e.to_string(), "ok": false})),
                OutputFormat::Text => eprintln!("error: the demo failed: {e}"),
            }
            return false;
        }
    };
    let s = &run.summary;
    let mut problems = vec![];
    for j in &s.jobs {
        let first = s.jobs.first().map(|j| j.job_id).unwrap_or(0);
        let expected =
            if Some(j.job_id - first) == dishonest { "provider slashed (wrong result)" } else { "finalized" };
        // With a real model a job can also be refused (e.g. FIM on a model without FIM tokens):
        // it then expires open and the client is refunded, which is a correct outcome too.
        if j.outcome != expected && j.outcome != "expired" {
            problems.push(format!("job {} ended as `{}`, expected `{}`", j.job_id, j.outcome, expected));
        }
    }
    let (audit_ok, audit_json) = match &run.audit {
        Ok(r) => (r.ok, serde_json::to_value(r).unwrap_or_default()),
        Err(e) => (false, json!({"error": e})),
    };
    if !audit_ok {
        problems.push("the audit found a mismatch".into());
    }
    for p in &run.processes {
        if p.code != Some(0) {
            problems.push(format!(
                "{} (pid {}) did not exit cleanly: {:?}; see {}",
                p.name,
                p.pid,
                p.code,
                p.log.display()
            ));
        }
    }
    let ok = problems.is_empty();
    match format {
        OutputFormat::Json => println!(
            "{}",
            json!({
                "ok": ok,
                "summary": serde_json::to_value(s).unwrap_or_default(),
                "audit": audit_json,
                "processes": serde_json::to_value(&run.processes).unwrap_or_default(),
                "problems": problems,
            })
        ),
        OutputFormat::Text => {
            println!("\n{}", cinder_demo::render_table(s));
            match &run.audit {
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
            for p in &run.processes {
                println!("process {:<10} pid {:<7} exit {:?}", p.name, p.pid, p.code);
            }
            if ok {
                println!("\ndemo OK: every job settled as expected, the books balance, every process stopped cleanly");
            } else {
                for p in &problems {
                    println!("problem: {p}");
                }
            }
        }
    }
    ok
}
