#![allow(ambiguous_glob_reexports)]
pub mod admin;
pub mod claim;
pub mod market;
pub mod post;
pub mod settle;

pub use admin::*;
pub use claim::*;
pub use market::*;
pub use post::*;
pub use settle::*;
