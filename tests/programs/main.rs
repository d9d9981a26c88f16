//! One integration-test binary: every program runs natively under solana-program-test.
mod bootstrap;
mod escrow;
mod fuzz;
mod jobs_rejections;
mod lifecycle;
mod money_safety;
mod queue;
mod registry;
mod staking;
mod verification_rejections;
