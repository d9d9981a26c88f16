//! Event decoding from transaction logs.
use anchor_lang::{AnchorDeserialize, Discriminator};

/// Decodes every event of type `E` in `logs`: both the on-chain form ("Program data: <base64>")
/// and the native form the programs also write when they run natively ("Program log: EVENT <base64>").
pub fn decode<E: AnchorDeserialize + Discriminator>(logs: &[String]) -> Vec<E> {
    raw_events(logs)
        .into_iter()
        .filter(|d| d.starts_with(E::DISCRIMINATOR))
        .filter_map(|d| E::deserialize(&mut &d[E::DISCRIMINATOR.len()..]).ok())
        .collect()
}

/// The raw event payloads (discriminator ++ borsh) found in `logs`, in order.
pub fn raw_events(logs: &[String]) -> Vec<Vec<u8>> {
    use anchor_lang::__private::base64::{engine::general_purpose::STANDARD, Engine};
    logs.iter()
        .filter_map(|l| {
            l.strip_prefix("Program log: ")
                .and_then(|l| l.strip_prefix(cinder_common::NATIVE_EVENT_LOG_PREFIX))
                .or_else(|| l.strip_prefix("Program data: "))
        })
        .filter_map(|b| STANDARD.decode(b.trim()).ok())
        .collect()
}
