#![allow(ambiguous_glob_reexports)]
pub mod accounts;
pub mod challenge_result;
pub mod commit_vote;
pub mod draw_quorum;
pub mod finalize_job;
pub mod register_verifier;
pub mod remove_verifier;
pub mod resolve_dispute;
pub mod reveal_vote;
pub mod settle_vote;
pub mod submit_result;

pub use accounts::*;
pub use challenge_result::*;
pub use commit_vote::*;
pub use draw_quorum::*;
pub use finalize_job::*;
pub use register_verifier::*;
pub use remove_verifier::*;
pub use resolve_dispute::*;
pub use reveal_vote::*;
pub use settle_vote::*;
pub use submit_result::*;
