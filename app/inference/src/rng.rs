//! The engine's specified random number generator: SplitMix64.
//!
//! Chosen because it is tiny, fast, statistically adequate for sampling and trivially
//! re-implementable in any language. The exact algorithm (all arithmetic wrapping mod 2^64):
//!
//! ```text
//! state <- seed
//! next_u64():
//!     state <- state + 0x9E3779B97F4A7C15
//!     z <- state
//!     z <- (z XOR (z >> 30)) * 0xBF58476D1CE4E5B9
//!     z <- (z XOR (z >> 27)) * 0x94D049BB133111EB
//!     return z XOR (z >> 31)
//! next_f64():  (next_u64() >> 11) * 2^-53          -- uniform in [0, 1), exact in binary64
//! ```

/// SplitMix64 generator (see the module docs for the exact specification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose state is `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// Next 64 uniformly distributed bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform double in `[0, 1)`: the top 53 bits of [`Self::next_u64`] times 2^-53.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform float in `[0, 1)`: the top 24 bits of [`Self::next_u64`] times 2^-24.
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u32 << 24) as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_values() {
        // Reference outputs of SplitMix64 for seed 0 and seed 1234567 (Vigna's reference C code).
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        let mut r = SplitMix64::new(1234567);
        assert_eq!(r.next_u64(), 6457827717110365317);
        assert_eq!(r.next_u64(), 3203168211198807973);
    }
}
