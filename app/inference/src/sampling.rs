//! Decoding parameters and the specified token-selection procedure (engine version 1).
//!
//! Selection takes the f32 logits of the last position and returns one token id:
//!
//! 1. Every non-finite logit (NaN, +inf, -inf) is excluded. If none is left:
//!    [`Error::NoFiniteLogit`].
//! 2. **Greedy** (`temperature == 0`): the largest logit wins; ties go to the lowest token id.
//!    No random number is drawn.
//! 3. **Sampling** (`temperature > 0`), all arithmetic in IEEE-754 binary64:
//!    1. `x_i = f64(logit_i) / f64(temperature)`.
//!    2. Order candidates by `x` descending, ties by token id ascending.
//!    3. If `top_k > 0`, keep the first `top_k`.
//!    4. `w_i = exp(x_i - x_0)` (`x_0` the largest), with `exp` = musl's `exp` (the `libm` crate),
//!       so every platform gets the same bits.
//!    5. If `top_p < 1`: `Z = w_0 + w_1 + ...` summed left to right; keep the shortest prefix
//!       whose left-to-right running sum `S_j` satisfies `S_j >= f64(top_p) * Z`.
//!    6. `Z' =` left-to-right sum of the kept `w_i`; `r = next_f64() * Z'` (one draw of the
//!       request's [`SplitMix64`], exactly one per sampled token);
//!       pick the first kept candidate whose running sum exceeds `r` (`r < S_j`); if rounding
//!       leaves none, the last kept candidate.

use crate::error::{Error, Result};
use crate::rng::SplitMix64;
use serde::{Deserialize, Serialize};

/// Decoding parameters. All of them enter the commitment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SamplingParams {
    /// Maximum number of generated tokens (at least 1). An EOS token counts.
    pub max_tokens: u32,
    /// 0 means greedy decoding; otherwise the softmax temperature (finite, > 0).
    pub temperature: f32,
    /// Keep only the `top_k` most likely tokens; 0 disables the filter.
    pub top_k: u32,
    /// Nucleus filter in (0, 1]; 1 disables it.
    pub top_p: f32,
    /// Seed of the request's [`SplitMix64`]; unused (but still committed) when greedy.
    pub seed: u64,
}

impl Default for SamplingParams {
    fn default() -> Self {
        Self { max_tokens: 64, temperature: 0.0, top_k: 0, top_p: 1.0, seed: 0 }
    }
}

impl SamplingParams {
    /// Greedy decoding of at most `max_tokens` tokens.
    pub fn greedy(max_tokens: u32) -> Self {
        Self { max_tokens, ..Self::default() }
    }

    /// Rejects out-of-range values with [`Error::InvalidParams`].
    pub fn validate(&self) -> Result<()> {
        if self.max_tokens == 0 {
            return Err(Error::InvalidParams("max_tokens must be at least 1".into()));
        }
        if !self.temperature.is_finite() || self.temperature < 0.0 {
            return Err(Error::InvalidParams(format!("temperature must be finite and >= 0, got {}", self.temperature)));
        }
        if !self.top_p.is_finite() || self.top_p <= 0.0 || self.top_p > 1.0 {
            return Err(Error::InvalidParams(format!("top_p must be in (0, 1], got {}", self.top_p)));
        }
        Ok(())
    }

    /// True when decoding is greedy (`temperature == 0`).
    pub fn is_greedy(&self) -> bool {
        self.temperature == 0.0
    }
}

/// Chooses the next token from `logits` following the module-level specification.
pub fn select_token(logits: &[f32], params: &SamplingParams, rng: &mut SplitMix64) -> Result<u32> {
    if params.is_greedy() {
        let mut best: Option<(usize, f32)> = None;
        for (i, &l) in logits.iter().enumerate() {
            if !l.is_finite() {
                continue;
            }
            // Strictly greater: an equal later logit never displaces the lower id.
            if best.is_none_or(|(_, b)| l > b) {
                best = Some((i, l));
            }
        }
        return best.map(|(i, _)| i as u32).ok_or(Error::NoFiniteLogit);
    }

    let t = params.temperature as f64;
    let mut cand: Vec<(u32, f64)> =
        logits.iter().enumerate().filter(|(_, l)| l.is_finite()).map(|(i, &l)| (i as u32, l as f64 / t)).collect();
    if cand.is_empty() {
        return Err(Error::NoFiniteLogit);
    }
    // Finite values: total order; ties by ascending id.
    cand.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if params.top_k > 0 && (params.top_k as usize) < cand.len() {
        cand.truncate(params.top_k as usize);
    }
    let x0 = cand[0].1;
    let weights: Vec<f64> = cand.iter().map(|&(_, x)| libm::exp(x - x0)).collect();

    let mut kept = weights.len();
    if params.top_p < 1.0 {
        let z: f64 = weights.iter().fold(0.0, |acc, w| acc + w);
        let threshold = params.top_p as f64 * z;
        let mut s = 0.0;
        for (j, w) in weights.iter().enumerate() {
            s += w;
            if s >= threshold {
                kept = j + 1;
                break;
            }
        }
    }
    let z_kept: f64 = weights[..kept].iter().fold(0.0, |acc, w| acc + w);
    let r = rng.next_f64() * z_kept;
    let mut s = 0.0;
    for j in 0..kept {
        s += weights[j];
        if r < s {
            return Ok(cand[j].0);
        }
    }
    Ok(cand[kept - 1].0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(temperature: f32, top_k: u32, top_p: f32) -> SamplingParams {
        SamplingParams { max_tokens: 1, temperature, top_k, top_p, seed: 0 }
    }

    #[test]
    fn greedy_ties_go_to_lowest_id() {
        let mut r = SplitMix64::new(0);
        let logits = [0.5, 2.0, f32::NAN, 2.0, f32::INFINITY];
        assert_eq!(select_token(&logits, &p(0.0, 0, 1.0), &mut r).unwrap(), 1);
        // Greedy draws nothing from the generator.
        assert_eq!(r, SplitMix64::new(0));
    }

    #[test]
    fn no_finite_logit_is_an_error() {
        let mut r = SplitMix64::new(0);
        let logits = [f32::NAN, f32::NEG_INFINITY];
        assert!(matches!(select_token(&logits, &p(0.0, 0, 1.0), &mut r), Err(Error::NoFiniteLogit)));
        assert!(matches!(select_token(&logits, &p(1.0, 0, 1.0), &mut r), Err(Error::NoFiniteLogit)));
    }

    #[test]
    fn top_k_one_is_greedy_with_a_draw() {
        let logits = [0.1, 3.0, 3.0, -1.0];
        for seed in 0..20 {
            let mut r = SplitMix64::new(seed);
            assert_eq!(select_token(&logits, &p(0.7, 1, 1.0), &mut r).unwrap(), 1);
        }
    }

    #[test]
    fn tiny_top_p_keeps_only_the_best() {
        let logits = [0.0, 1.0, 5.0, 2.0];
        for seed in 0..20 {
            let mut r = SplitMix64::new(seed);
            assert_eq!(select_token(&logits, &p(1.0, 0, 0.01), &mut r).unwrap(), 2);
        }
    }

    #[test]
    fn sampling_is_seeded_and_covers_candidates() {
        let logits = [1.0, 1.0, 1.0, 1.0];
        let draw = |seed| {
            let mut r = SplitMix64::new(seed);
            (0..64).map(|_| select_token(&logits, &p(1.0, 0, 1.0), &mut r).unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        let seen: std::collections::BTreeSet<_> = draw(7).into_iter().collect();
        assert_eq!(seen.len(), 4);
    }

    #[test]
    fn validation_rejects_bad_values() {
        for bad in [p(f32::NAN, 0, 1.0), p(-1.0, 0, 1.0), p(1.0, 0, 0.0), p(1.0, 0, 1.5), SamplingParams::greedy(0)] {
            assert!(matches!(bad.validate(), Err(Error::InvalidParams(_))), "{bad:?}");
        }
        assert!(p(0.8, 40, 0.95).validate().is_ok());
    }
}
