//! One integration-test binary: every program runs natively under solana-program-test.
mod bootstrap;
mod escrow;
mod jobs_rejections;
mod lifecycle;
mod queue;
mod staking;
mod verification_rejections;
