//! Hex and base58 helpers (tiny, dependency-free).

use crate::error::{Error, Result};

/// Lowercase hex.
pub fn encode(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(D[(b >> 4) as usize] as char);
        s.push(D[(b & 15) as usize] as char);
    }
    s
}

/// Decodes hex (either case). `None` on odd length or a non-hex digit.
pub fn decode(s: &str) -> Option<Vec<u8>> {
    let s = s.as_bytes();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let nib = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    s.chunks(2).map(|p| Some((nib(p[0])? << 4) | nib(p[1])?)).collect()
}

const B58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Bitcoin-alphabet base58 (the encoding of Solana public keys).
pub fn base58_encode(bytes: &[u8]) -> String {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    let mut digits: Vec<u8> = Vec::new(); // little-endian base-58 digits
    for &b in bytes {
        let mut carry = b as u32;
        for d in digits.iter_mut() {
            carry += (*d as u32) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let mut s = String::with_capacity(zeros + digits.len());
    s.extend(std::iter::repeat_n('1', zeros));
    s.extend(digits.iter().rev().map(|&d| B58[d as usize] as char));
    s
}

/// Decodes bitcoin-alphabet base58. `None` on a character outside the alphabet.
pub fn base58_decode(s: &str) -> Option<Vec<u8>> {
    let ones = s.bytes().take_while(|&c| c == b'1').count();
    let mut bytes: Vec<u8> = Vec::new(); // little-endian base-256
    for c in s.bytes() {
        let mut carry = B58.iter().position(|&a| a == c)? as u32;
        for b in bytes.iter_mut() {
            carry += (*b as u32) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0u8; ones];
    out.extend(bytes.iter().rev());
    Some(out)
}

/// Parses a 32-byte key written as 64 hex digits or as base58 (a Solana pubkey).
pub fn parse_key(s: &str) -> Result<[u8; 32]> {
    let s = s.trim();
    let bytes = if s.len() == 64 { decode(s) } else { None }.or_else(|| base58_decode(s));
    bytes.and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok()).ok_or_else(|| Error::InvalidKey(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base58_round_trip_and_known_value() {
        // The system program id is 32 zero bytes.
        assert_eq!(base58_encode(&[0u8; 32]), "11111111111111111111111111111111");
        assert_eq!(parse_key("11111111111111111111111111111111").unwrap(), [0u8; 32]);
        let k = parse_key("BQjcHqsMcAqWurefJvJazUsUZxSVFveaMrDkDctFM8Tx").unwrap();
        assert_eq!(base58_encode(&k), "BQjcHqsMcAqWurefJvJazUsUZxSVFveaMrDkDctFM8Tx");
        assert_eq!(parse_key(&encode(&k)).unwrap(), k);
        assert!(parse_key("not a key!").is_err());
        assert!(parse_key("abcd").is_err());
    }
}
