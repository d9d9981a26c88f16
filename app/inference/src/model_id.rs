//! Model id: SHA-256 over a canonical manifest of the files that define a model.
//!
//! The files are, in the model directory itself (subdirectories are ignored):
//! `config.json`, `tokenizer.json`, `generation_config.json` if present (it can change the EOS
//! set), and every regular file whose name ends in `.safetensors`. Other files
//! (`tokenizer_config.json`, `model.safetensors.index.json`, READMEs, ...) do not change what
//! this engine computes and are not part of the id.
//!
//! Manifest bytes (UTF-8, `\n` line ends, no trailing data):
//!
//! ```text
//! cinder.model.v1\n
//! <sha256 of file 1 as 64 lowercase hex>  <file name 1>\n      (two spaces, as sha256sum prints)
//! <sha256 of file 2 ...>  <file name 2>\n
//! ...
//! ```
//!
//! Files are sorted by the bytes of their UTF-8 names. `model_id = SHA-256(manifest)`.
//! The same value can be computed with the shell:
//! `(printf 'cinder.model.v1\n'; sha256sum config.json tokenizer.json *.safetensors | sort -k2) | sha256sum`
//! (with `LC_ALL=C`, adding `generation_config.json` when present).

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// First line of the manifest.
pub const MODEL_MANIFEST_TAG: &str = "cinder.model.v1";

/// The files of `dir` that define the model, sorted by name. Errors when `config.json`,
/// `tokenizer.json` or every weight file is missing.
pub fn model_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::MissingFile(dir.to_path_buf()),
        _ => Error::io(dir, e),
    })?;
    let mut names: Vec<String> = Vec::new();
    let mut weights = 0usize;
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue; // non-UTF-8 names can never be one of ours
        };
        let is_weight = name.ends_with(".safetensors");
        let wanted = is_weight || name == "config.json" || name == "tokenizer.json" || name == "generation_config.json";
        if !wanted {
            continue;
        }
        let meta = std::fs::metadata(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
        if !meta.is_file() {
            continue;
        }
        if name.contains('\n') {
            return Err(Error::BadWeights { path: entry.path(), msg: "file name contains a newline".into() });
        }
        weights += usize::from(is_weight);
        names.push(name);
    }
    for required in ["config.json", "tokenizer.json"] {
        if !names.iter().any(|n| n == required) {
            return Err(Error::MissingFile(dir.join(required)));
        }
    }
    if weights == 0 {
        return Err(Error::NoWeights(dir.to_path_buf()));
    }
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok(names.into_iter().map(|n| dir.join(n)).collect())
}

/// SHA-256 of a file's contents, streamed.
pub fn sha256_file(path: &Path) -> Result<[u8; 32]> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().into())
}

/// The manifest text described in the module docs.
pub fn model_manifest(dir: &Path) -> Result<String> {
    let mut manifest = format!("{MODEL_MANIFEST_TAG}\n");
    for path in model_files(dir)? {
        let digest = sha256_file(&path)?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        manifest.push_str(&crate::hex::encode(&digest));
        manifest.push_str("  ");
        manifest.push_str(name);
        manifest.push('\n');
    }
    Ok(manifest)
}

/// The 32-byte model id of the model in `dir` (the on-chain registry key).
pub fn model_id_of_dir(dir: &Path) -> Result<[u8; 32]> {
    let manifest = model_manifest(dir)?;
    Ok(Sha256::digest(manifest.as_bytes()).into())
}
