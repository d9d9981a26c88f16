//! Small helpers every off-chain crate needs: hex, keypair files, token amounts.
use std::path::Path;

use solana_keypair::Keypair;

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses 64 hex characters (an optional `0x` prefix and surrounding spaces are allowed) into 32
/// bytes.
pub fn parse_hex32(s: &str) -> Result<[u8; 32], String> {
    let s = s.trim().trim_start_matches("0x");
    if s.len() != 64 {
        return Err(format!("expected 64 hex characters (32 bytes), got {} characters", s.len()));
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = s
            .get(2 * i..2 * i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .ok_or_else(|| format!("invalid hex in {s:?}"))?;
    }
    Ok(out)
}

/// The object path of an endpoint (a provider's, the demo client's): `<base>/v1/objects/`.
pub fn objects_prefix(base: &str) -> String {
    format!("{}/v1/objects/", base.trim_end_matches('/'))
}

/// Where an endpoint at `base` serves the object with this hash: `<base>/v1/objects/<hex>`.
pub fn object_url(base: &str, hash: &[u8; 32]) -> String {
    format!("{}{}", objects_prefix(base), hex(hash))
}

/// The hash an object URL (`…/v1/objects/<hex>`) names, if it is one.
pub fn object_url_hash(url: &str) -> Option<[u8; 32]> {
    url.rsplit_once("/v1/objects/").and_then(|(_, h)| parse_hex32(h).ok())
}

/// Whether two endpoint base URLs are the same (a trailing `/` aside).
pub fn same_endpoint(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// The amount of an SPL Token / Token-2022 token account (bytes 64..72 of its data).
pub fn token_amount(data: &[u8]) -> Option<u64> {
    data.get(64..72).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
}

#[derive(Debug, thiserror::Error)]
pub enum KeypairError {
    #[error("cannot read keypair file {path}: {source} (create one with `solana-keygen new -o {path}`)")]
    Read { path: String, source: std::io::Error },
    #[error("keypair file {path} is not a JSON array of 64 bytes: {message}")]
    Format { path: String, message: String },
}

/// Reads a keypair file in the Solana CLI format (a JSON array of 64 bytes).
pub fn read_keypair(path: &Path) -> Result<Keypair, KeypairError> {
    let p = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| KeypairError::Read { path: p.clone(), source })?;
    let bytes: Vec<u8> =
        serde_json::from_str(&text).map_err(|e| KeypairError::Format { path: p.clone(), message: e.to_string() })?;
    if bytes.len() != 64 {
        return Err(KeypairError::Format { path: p, message: format!("it holds {} bytes, expected 64", bytes.len()) });
    }
    Keypair::try_from(bytes.as_slice()).map_err(|e| KeypairError::Format { path: p, message: e.to_string() })
}

/// SHA-256 of `bytes` (what input and output hashes are).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    solana_sha256_hasher::hash(bytes).to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_errors() {
        let b = [0xabu8; 32];
        assert_eq!(parse_hex32(&format!("0x{}", hex(&b))), Ok(b));
        assert!(parse_hex32("abc").unwrap_err().contains("64 hex characters"));
        assert!(parse_hex32(&"zz".repeat(32)).unwrap_err().contains("invalid hex"));
    }

    #[test]
    fn keypair_files() {
        let dir = std::env::temp_dir().join(format!("cinder-sdk-kp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let k = Keypair::new();
        let path = dir.join("id.json");
        std::fs::write(&path, serde_json::to_string(&k.to_bytes().to_vec()).unwrap()).unwrap();
        assert_eq!(read_keypair(&path).unwrap().to_bytes(), k.to_bytes());
        std::fs::write(&path, "[1,2,3]").unwrap();
        assert!(matches!(read_keypair(&path), Err(KeypairError::Format { .. })));
        assert!(read_keypair(&dir.join("missing.json")).unwrap_err().to_string().contains("solana-keygen new"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
