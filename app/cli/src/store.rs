//! The local content-addressed store: a directory of files named by the SHA-256 (hex) of their
//! bytes. Inputs are referenced on chain as `cas://<hex>`.
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sha2::{Digest, Sha256};

pub const SCHEME: &str = "cas://";

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub struct Store {
    pub dir: PathBuf,
}

impl Store {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Store { dir: dir.into() }
    }

    /// Stores `bytes`; returns (sha256, `cas://<hex>`).
    pub fn put(&self, bytes: &[u8]) -> anyhow::Result<([u8; 32], String)> {
        std::fs::create_dir_all(&self.dir).with_context(|| format!("creating the store {}", self.dir.display()))?;
        let h = sha256(bytes);
        let hx = crate::hex(&h);
        let path = self.dir.join(&hx);
        if !path.exists() {
            let tmp = self.dir.join(format!(".{hx}.tmp"));
            std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
            std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
        }
        Ok((h, format!("{SCHEME}{hx}")))
    }

    /// The path a `cas://<hex>` URI (or a bare hex) refers to.
    pub fn path_of(&self, uri: &str) -> anyhow::Result<PathBuf> {
        let hx = uri.strip_prefix(SCHEME).unwrap_or(uri);
        crate::parse_hex32(hx).with_context(|| format!("{uri:?} is not a cas://<sha256 hex> URI"))?;
        Ok(self.dir.join(hx.to_ascii_lowercase()))
    }

    pub fn get(&self, uri: &str) -> anyhow::Result<Vec<u8>> {
        let p = self.path_of(uri)?;
        std::fs::read(&p).with_context(|| {
            format!("{uri} is not in the store {} (pass --store DIR where the provider wrote it)", self.dir.display())
        })
    }
}

/// `~/.cinder/store`.
pub fn default_store_dir() -> PathBuf {
    crate::config::home_dir().unwrap_or_else(|| Path::new(".").to_path_buf()).join(".cinder/store")
}
