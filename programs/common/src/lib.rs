//! Helpers shared by the Cinder programs. This is a plain library, not a program: it holds no
//! accounts and makes no CPI. Two things live here so that every program applies them the same way:
//!
//! * [`mint_policy`]: which mints an escrow or a stake pool may hold (the Token-2022 extension policy);
//! * [`emit_event!`]: emits an Anchor event, and, when the program runs natively (tests, the local
//!   demo), also writes it to the transaction log so that tests and off-chain code can decode it.

pub mod mint_policy;

/// Emit an Anchor event.
///
/// On SBF this is exactly `emit!` ("Program data: <base64>" in the logs). Natively (the program runs
/// as a builtin under solana-program-test) `emit!` is a no-op and `msg!` only prints to stdout, so the
/// event bytes (discriminator ++ borsh) are additionally logged as "Program log: EVENT <base64>" through
/// the syscall stubs, which program-test routes to the transaction's log collector. Off-chain decoders
/// accept both forms.
#[macro_export]
macro_rules! emit_event {
    ($event:expr) => {{
        let event = $event;
        #[cfg(not(target_os = "solana"))]
        {
            use anchor_lang::__private::base64::Engine as _;
            use anchor_lang::Event as _;
            let encoded = anchor_lang::__private::base64::engine::general_purpose::STANDARD.encode(event.data());
            anchor_lang::compat::solana_sysvar::program_stubs::sol_log(&format!(
                "{}{}",
                $crate::NATIVE_EVENT_LOG_PREFIX,
                encoded
            ));
        }
        anchor_lang::prelude::emit!(event);
    }};
}

/// Prefix of the native event log line (after the runtime's "Program log: ").
pub const NATIVE_EVENT_LOG_PREFIX: &str = "EVENT ";
