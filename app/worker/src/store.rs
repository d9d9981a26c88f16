//! Content-addressed store: a directory of files named by the SHA-256 of their bytes. Writes go
//! through a temporary file and a rename, so a crash never leaves a partial object under its name.
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

#[derive(Clone, Debug)]
pub struct ContentStore {
    dir: PathBuf,
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub use cinder_sdk::util::hex;

/// [`cinder_sdk::util::parse_hex32`] for the worker's optional lookups.
pub fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    cinder_sdk::util::parse_hex32(s).ok()
}

impl ContentStore {
    pub fn open(dir: impl AsRef<Path>) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir.as_ref())?;
        Ok(ContentStore { dir: dir.as_ref().to_path_buf() })
    }

    pub fn path(&self, hash: &[u8; 32]) -> PathBuf {
        self.dir.join(hex(hash))
    }

    /// Stores `bytes`; returns their SHA-256. A file already there that does not hash to its
    /// name (a crash mid-copy by another tool, a disk error) is replaced. Each write goes through
    /// its own temporary file, so concurrent puts of the same object do not collide.
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<[u8; 32]> {
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let hash = sha256(bytes);
        let path = self.path(&hash);
        if self.get(&hash).is_none() {
            let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let tmp = self.dir.join(format!(".{}.{}.{n}.tmp", hex(&hash), std::process::id()));
            std::fs::write(&tmp, bytes)?;
            std::fs::rename(&tmp, &path)?;
        }
        Ok(hash)
    }

    /// The object with this hash, if present and intact.
    pub fn get(&self, hash: &[u8; 32]) -> Option<Vec<u8>> {
        let bytes = std::fs::read(self.path(hash)).ok()?;
        (sha256(&bytes) == *hash).then_some(bytes)
    }

    pub fn uri(hash: &[u8; 32]) -> String {
        format!("cas://{}", hex(hash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_and_corruption_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let s = ContentStore::open(dir.path()).unwrap();
        let h = s.put(b"hello").unwrap();
        assert_eq!(s.get(&h).unwrap(), b"hello");
        assert_eq!(parse_hex32(&hex(&h)), Some(h));
        std::fs::write(s.path(&h), b"tampered").unwrap();
        assert_eq!(s.get(&h), None);
        // Putting it again repairs it.
        s.put(b"hello").unwrap();
        assert_eq!(s.get(&h).unwrap(), b"hello");
        assert_eq!(parse_hex32("zz"), None);
    }
}
