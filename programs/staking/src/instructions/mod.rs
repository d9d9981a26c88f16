#![allow(ambiguous_glob_reexports)]
pub mod authority_actions;
pub mod deposit_stake;
pub mod init_pool;
pub mod owner_actions;
pub mod update_pool;
pub mod withdraw_stake;
pub mod withdraw_treasury;

pub use authority_actions::*;
pub use deposit_stake::*;
pub use init_pool::*;
pub use owner_actions::*;
pub use update_pool::*;
pub use withdraw_stake::*;
pub use withdraw_treasury::*;
