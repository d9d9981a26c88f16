#![allow(ambiguous_glob_reexports)]
pub mod close_escrow;
pub mod open_escrow;
pub mod refund_escrow;
pub mod release_escrow;

pub use close_escrow::*;
pub use open_escrow::*;
pub use refund_escrow::*;
pub use release_escrow::*;
