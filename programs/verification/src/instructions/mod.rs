#![allow(ambiguous_glob_reexports)]
pub mod accounts;
pub mod challenge;
pub mod resolve;
pub mod result;
pub mod vote;

pub use accounts::*;
pub use challenge::*;
pub use resolve::*;
pub use result::*;
pub use vote::*;
