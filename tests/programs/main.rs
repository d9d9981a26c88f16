//! One integration-test binary: every program runs natively under solana-program-test.
mod escrow;
mod jobs_rejections;
mod lifecycle;
mod staking;
mod verification_rejections;
