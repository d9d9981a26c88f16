//! Program error codes → (program, error name, message). Each Cinder program numbers its errors
//! in its own range (escrow 7000–7999, staking 8000–8999, jobs 9000–9999, verification
//! 10000–10999), so a bare code says which program failed. The table is read from the committed
//! IDLs (`idl/*.json`, checked fresh in CI), so it can never disagree with the programs. Codes
//! below 6000 are Anchor's own (constraint failures and the like).
use std::sync::OnceLock;

/// A decoded program error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramErrorInfo {
    pub code: u32,
    /// `cinder_jobs`, `cinder_escrow`, …, or `anchor` for Anchor's own codes.
    pub program: &'static str,
    pub name: String,
    pub msg: String,
}

impl std::fmt::Display for ProgramErrorInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}::{} ({}): {}", self.program, self.name, self.code, self.msg)
    }
}

const IDLS: &[(&str, &str)] = &[
    ("cinder_escrow", include_str!("../../../idl/cinder_escrow.json")),
    ("cinder_staking", include_str!("../../../idl/cinder_staking.json")),
    ("cinder_jobs", include_str!("../../../idl/cinder_jobs.json")),
    ("cinder_verification", include_str!("../../../idl/cinder_verification.json")),
];

fn table() -> &'static Vec<ProgramErrorInfo> {
    static TABLE: OnceLock<Vec<ProgramErrorInfo>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut out = Vec::new();
        for (program, json) in IDLS {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(json) else { continue };
            for e in v.get("errors").and_then(|e| e.as_array()).into_iter().flatten() {
                let (Some(code), Some(name)) =
                    (e.get("code").and_then(|c| c.as_u64()), e.get("name").and_then(|n| n.as_str()))
                else {
                    continue;
                };
                out.push(ProgramErrorInfo {
                    code: code as u32,
                    program,
                    name: name.to_string(),
                    msg: e.get("msg").and_then(|m| m.as_str()).unwrap_or_default().to_string(),
                });
            }
        }
        out
    })
}

/// What a program error code means, if it is a Cinder or Anchor code.
pub fn describe(code: u32) -> Option<ProgramErrorInfo> {
    if let Some(e) = table().iter().find(|e| e.code == code) {
        return Some(e.clone());
    }
    if (100..6000).contains(&code) {
        let kind = match code {
            100..1000 => "an instruction error",
            1000..2000 => "an IDL error",
            2000..3000 => "a constraint violation (an account failed a seeds, has_one, owner or mut check)",
            3000..4000 => "an account error (wrong type, owner or data)",
            _ => "a framework error",
        };
        return Some(ProgramErrorInfo {
            code,
            program: "anchor",
            name: format!("AnchorError{code}"),
            msg: format!("{kind}; see anchor_lang::error::ErrorCode"),
        });
    }
    None
}

/// The code a program error enum variant is reported with (its program's offset included).
pub fn code_of(e: impl Into<anchor_lang::error::Error>) -> u32 {
    match e.into() {
        anchor_lang::error::Error::AnchorError(a) => a.error_code_number,
        anchor_lang::error::Error::ProgramError(_) => 0,
    }
}

/// `describe(code)` as one line, or the bare code.
pub fn describe_code(code: u32) -> String {
    describe(code).map(|e| e.to_string()).unwrap_or_else(|| format!("program error {code}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_name_their_program_and_no_two_programs_share_a_code() {
        let t = table();
        assert!(t.len() > 60, "every program's errors are in the table");
        let mut codes: Vec<u32> = t.iter().map(|e| e.code).collect();
        codes.sort();
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n, "no code appears twice");
        for e in t {
            let range = match e.program {
                "cinder_escrow" => 7000..8000,
                "cinder_staking" => 8000..9000,
                "cinder_jobs" => 9000..10000,
                _ => 10000..11000,
            };
            assert!(range.contains(&e.code), "{e}");
        }
        let jobs = cinder_jobs::JobsError::MarketTermsChanged as u32 + 9000;
        assert_eq!(describe(jobs).unwrap().to_string().split(" (").next(), Some("cinder_jobs::MarketTermsChanged"));
        let esc = code_of(cinder_escrow::EscrowError::EscrowNotEmpty);
        assert_eq!(describe(esc).unwrap().name, "EscrowNotEmpty");
        assert_eq!(describe(2006).unwrap().program, "anchor");
        assert_eq!(describe_code(123_456), "program error 123456");
    }
}
