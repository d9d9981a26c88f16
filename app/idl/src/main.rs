//! `cinder-idl`: writes the IDL JSON of every Cinder program to `idl/<program>.json` without the
//! anchor CLI, or, with `--check`, fails when a committed IDL is stale.
//!
//! ```text
//! cargo run -p cinder-idl            # regenerate idl/*.json
//! cargo run -p cinder-idl -- --check # exit 1 if any idl/*.json differs from the programs
//! ```
//!
//! The builder compiles each program's `idl-build` test with `RUSTFLAGS="-A warnings"`; to keep
//! those artifacts from invalidating the main build, it uses `<target dir>/idl` as its target dir.
use std::{path::PathBuf, process::ExitCode};

/// (crate directory under programs/, IDL file name).
const PROGRAMS: &[(&str, &str)] = &[
    ("escrow", "cinder_escrow"),
    ("staking", "cinder_staking"),
    ("jobs", "cinder_jobs"),
    ("verification", "cinder_verification"),
];

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    // The repository root is found from the working directory (the nearest ancestor holding
    // Anchor.toml), not from the path this binary was compiled in: a target directory shared
    // between clones (as CI reuses one) may hold a binary built in another checkout.
    let Some(root) = std::env::current_dir().ok().and_then(|d| {
        d.ancestors().find(|a| a.join("Anchor.toml").is_file() && a.join("programs").is_dir()).map(PathBuf::from)
    }) else {
        eprintln!(
            "error: run cinder-idl inside the Cinder repository (no Anchor.toml found above the current directory)"
        );
        return ExitCode::FAILURE;
    };
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    // SAFETY: single-threaded at this point; the variables are read by the child cargo processes.
    unsafe {
        std::env::set_var("CARGO_TARGET_DIR", target.join("idl"));
        // anchor-lang-idl 0.1.4 turns a set RUSTUP_TOOLCHAIN into `cargo +{toolchain}` (a literal
        // placeholder), decides the toolchain is missing and runs `rustup toolchain install`, which
        // can replace the machine's toolchain. Build with whatever cargo is running us instead.
        std::env::remove_var("RUSTUP_TOOLCHAIN");
    }

    let mut stale = vec![];
    for (dir, name) in PROGRAMS {
        let path = root.join("programs").join(dir);
        eprintln!("building IDL of {name} …");
        let idl = match anchor_lang_idl::build::IdlBuilder::new().program_path(path).skip_lint(true).build() {
            Ok(idl) => idl,
            Err(e) => {
                eprintln!("error: building the IDL of {name} failed: {e:#}");
                return ExitCode::FAILURE;
            }
        };
        let json = match serde_json::to_string_pretty(&idl) {
            Ok(j) => j + "\n",
            Err(e) => {
                eprintln!("error: serialising the IDL of {name}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let file = root.join("idl").join(format!("{name}.json"));
        let current = std::fs::read_to_string(&file).unwrap_or_default();
        if check {
            if current != json {
                stale.push(file.display().to_string());
            }
        } else if current != json {
            if let Err(e) = std::fs::create_dir_all(root.join("idl")).and_then(|_| std::fs::write(&file, json)) {
                eprintln!("error: writing {}: {e}", file.display());
                return ExitCode::FAILURE;
            }
            eprintln!("wrote {}", file.display());
        } else {
            eprintln!("{} is up to date", file.display());
        }
    }
    if !stale.is_empty() {
        eprintln!("error: stale IDL (run `cargo run -p cinder-idl` and commit): {}", stale.join(", "));
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
