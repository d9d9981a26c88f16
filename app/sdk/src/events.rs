//! Event decoding from transaction logs.
//!
//! Only events a given program emitted count: a log line is attributed to the program on top of
//! the invoke stack the runtime logs (`Program <id> invoke [depth]` pushes, `Program <id>
//! success` / `failed` pops), so another program (or a transaction that merely touches an account) cannot forge
//! a Cinder event by logging the same bytes.
use anchor_lang::{prelude::Pubkey, AnchorDeserialize, Discriminator};

/// An event of one of the four programs, with the program that emits it.
pub trait ProgramEvent: AnchorDeserialize + Discriminator {
    const PROGRAM: Pubkey;
}

macro_rules! program_events {
    ($($krate:ident: [$($ev:ident),* $(,)?]),* $(,)?) => {
        $($(impl ProgramEvent for $krate::$ev { const PROGRAM: Pubkey = $krate::ID; })*)*
    };
}

/// The four programs (whose events [`cinder_events`] returns).
pub const PROGRAMS: [Pubkey; 4] = [cinder_escrow::ID, cinder_staking::ID, cinder_jobs::ID, cinder_verification::ID];

/// Decodes every event of type `E` its program emitted in `logs`: both the on-chain form
/// ("Program data: <base64>") and the native form the programs also write when they run natively
/// ("Program log: EVENT <base64>"). The same bytes logged by any other program are ignored.
pub fn decode<E: ProgramEvent>(logs: &[String]) -> Vec<E> {
    raw_events(logs, &E::PROGRAM)
        .into_iter()
        .filter(|d| d.starts_with(E::DISCRIMINATOR))
        .filter_map(|d| E::deserialize(&mut &d[E::DISCRIMINATOR.len()..]).ok())
        .collect()
}

/// The raw event payloads (discriminator ++ borsh) `program` emitted in `logs`, in order.
pub fn raw_events(logs: &[String], program: &Pubkey) -> Vec<Vec<u8>> {
    raw_events_at(logs, program).into_iter().map(|(_, d)| d).collect()
}

/// `raw_events` with the index of each payload's log line.
fn raw_events_at(logs: &[String], program: &Pubkey) -> Vec<(usize, Vec<u8>)> {
    use anchor_lang::__private::base64::{engine::general_purpose::STANDARD, Engine};
    let me = program.to_string();
    let mut stack: Vec<&str> = vec![];
    let mut out = vec![];
    for (i, l) in logs.iter().enumerate() {
        if let Some(rest) = l.strip_prefix("Program ") {
            let mut words = rest.split_whitespace();
            let (id, verb) = (words.next(), words.next());
            match (id, verb) {
                (Some(id), Some("invoke")) => {
                    // Natively (program-test, the local validators' builtins) every invocation is
                    // logged twice, and so is its end: pushing and popping per line keeps the top
                    // of the stack right either way.
                    stack.push(id);
                    continue;
                }
                (Some(id), Some("success" | "failed:" | "failed")) if stack.last() == Some(&id) => {
                    stack.pop();
                    continue;
                }
                _ => {}
            }
        }
        let payload = l
            .strip_prefix("Program log: ")
            .and_then(|l| l.strip_prefix(cinder_common::NATIVE_EVENT_LOG_PREFIX))
            .or_else(|| l.strip_prefix("Program data: "));
        if let Some(b) = payload {
            if stack.last() == Some(&me.as_str()) {
                if let Ok(d) = STANDARD.decode(b.trim()) {
                    out.push((i, d));
                }
            }
        }
    }
    out
}

/// Every raw event payload one of the four programs emitted in `logs`, with its program, in order.
pub fn cinder_events(logs: &[String]) -> Vec<(Pubkey, Vec<u8>)> {
    let mut all: Vec<(usize, Pubkey, Vec<u8>)> = vec![];
    for p in PROGRAMS {
        for (i, d) in raw_events_at(logs, &p) {
            all.push((i, p, d));
        }
    }
    all.sort_by_key(|e| e.0);
    all.into_iter().map(|(_, p, d)| (p, d)).collect()
}

program_events! {
    cinder_escrow: [EscrowOpened, EscrowReleased, EscrowRefunded, EscrowClosed],
    cinder_staking: [PoolInitialized, PoolUpdated, StakeDeposited, UnstakeRequested, UnstakeCancelled, StakeWithdrawn, StakeLocked, StakeUnlocked, StakeSlashed, TreasuryWithdrawn],
    cinder_jobs: [ConfigInitialized, ConfigUpdated, ModelRegistered, MarketCreated, MarketUpdated, ProviderRegistered, JobPosted, JobInputInline, JobCancelled, JobClaimed, ResultRecorded, JobChallenged, JobFinalized, JobSlashed, JobExpired, QueueAdvanced],
    cinder_verification: [VerifierRegistered, VerifierRemoved, DisputeOpened, QuorumDrawn, VoteCommitted, VoteRevealed, DisputeResolved, VoteSettled],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_named_programs_lines_count() {
        use anchor_lang::__private::base64::{engine::general_purpose::STANDARD, Engine};
        let (a, b) = (Pubkey::new_from_array([1; 32]), Pubkey::new_from_array([2; 32]));
        let data = |x: u8| format!("Program data: {}", STANDARD.encode([x; 4]));
        let logs: Vec<String> = vec![
            format!("Program {b} invoke [1]"),
            data(9), // b's line, forged to look like a's event
            format!("Program {a} invoke [2]"),
            data(1),
            format!("Program {a} success"),
            data(8), // b again after the CPI returned
            format!("Program {b} success"),
            format!("Program {a} invoke [1]"),
            format!("Program {a} invoke [1]"), // native programs log it twice, and the CPIs too
            format!("Program {b} invoke [1]"),
            format!("Program {b} invoke [2]"),
            data(6),
            format!("Program {b} success"),
            format!("Program {b} success"),
            format!("Program log: {}{}", cinder_common::NATIVE_EVENT_LOG_PREFIX, STANDARD.encode([2u8; 4])),
            format!("Program {a} success"),
            format!("Program {a} success"),
            data(7), // outside any invocation
        ];
        assert_eq!(raw_events(&logs, &a), vec![vec![1u8; 4], vec![2u8; 4]]);
        assert_eq!(raw_events(&logs, &b), vec![vec![9u8; 4], vec![8u8; 4], vec![6u8; 4]]);
    }
}
