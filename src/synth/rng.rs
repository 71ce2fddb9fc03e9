//! Small deterministic PRNG (SplitMix64) and the distributions the generator needs.
//!
//! We avoid the `rand` crate on purpose: the committed sample logs must stay
//! byte-identical across dependency upgrades, so the bit stream is defined here.

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64 finaliser: a good 64-bit mixing function, also used for seeding.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Derives an independent stream seed from a master seed and a path of
/// integers (e.g. shop, date, session), so every unit of output depends only
/// on its own coordinates and not on what was generated before it.
pub fn derive_seed(seed: u64, parts: &[u64]) -> u64 {
    let mut h = mix64(seed ^ GOLDEN);
    for &p in parts {
        h = mix64(h ^ mix64(p.wrapping_add(GOLDEN)));
    }
    h
}

#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// Convenience: `Rng::new(derive_seed(seed, parts))`.
    pub fn derived(seed: u64, parts: &[u64]) -> Self {
        Rng::new(derive_seed(seed, parts))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix64(self.state)
    }

    /// Uniform integer in `0..n` (Lemire's multiply-shift with rejection, so
    /// unbiased). Returns 0 for `n == 0`.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// Uniform integer in `lo..=hi` (`hi < lo` yields `lo`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below(hi - lo + 1)
    }

    /// Uniform index into a collection of `len` items.
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// Uniform f64 in [0, 1) with 53 random bits.
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform f64 in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Uniformly chosen element. The slice must not be empty (all phrase banks
    /// are non-empty constants; a test checks that).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// Index chosen with probability proportional to `weights[i]`
    /// (non-positive weights are never chosen unless all are).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().filter(|w| **w > 0.0).sum();
        if total <= 0.0 {
            return self.index(weights.len());
        }
        let mut x = self.f64() * total;
        let mut last = 0;
        for (i, &w) in weights.iter().enumerate() {
            if w <= 0.0 {
                continue;
            }
            if x < w {
                return i;
            }
            x -= w;
            last = i;
        }
        last // only reached through float rounding
    }

    /// Standard normal via Box-Muller (the second value is discarded to keep
    /// the state a single integer).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.f64(); // (0, 1]: ln(0) must not happen
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal draw parameterised by its median and the sigma of ln(x);
    /// heavy right tail, which is what reply latencies look like.
    pub fn log_normal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// Exponential draw with the given mean (inverse CDF).
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.f64()).ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_seed_sensitive() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let mut c = Rng::new(8);
        let xa: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let xb: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let xc: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
        // Pin the stream: the committed sample logs depend on it.
        assert_eq!(Rng::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn derive_seed_separates_coordinates() {
        assert_ne!(derive_seed(1, &[0, 1]), derive_seed(1, &[1, 0]));
        assert_ne!(derive_seed(1, &[0]), derive_seed(2, &[0]));
        assert_eq!(derive_seed(3, &[4, 5]), derive_seed(3, &[4, 5]));
    }

    #[test]
    fn below_and_range_stay_in_bounds() {
        let mut r = Rng::new(1);
        let mut seen = [0u32; 7];
        for _ in 0..7000 {
            let v = r.below(7);
            seen[v as usize] += 1;
            let w = r.range(3, 5);
            assert!((3..=5).contains(&w));
        }
        assert!(seen.iter().all(|&n| n > 800), "{seen:?}");
        assert_eq!(r.below(0), 0);
        assert_eq!(r.range(4, 4), 4);
    }

    #[test]
    fn distributions_have_plausible_moments() {
        let mut r = Rng::new(99);
        let n = 20_000;
        let mut f_sum = 0.0;
        let mut n_sum = 0.0;
        let mut e_sum = 0.0;
        let mut ln_vals = Vec::with_capacity(n);
        for _ in 0..n {
            let f = r.f64();
            assert!((0.0..1.0).contains(&f));
            f_sum += f;
            n_sum += r.normal();
            e_sum += r.exponential(5.0);
            ln_vals.push(r.log_normal(30.0, 0.8));
        }
        let nf = n as f64;
        assert!((f_sum / nf - 0.5).abs() < 0.02);
        assert!((n_sum / nf).abs() < 0.05);
        assert!((e_sum / nf - 5.0).abs() < 0.3);
        ln_vals.sort_by(f64::total_cmp);
        let median = ln_vals[n / 2];
        assert!((median - 30.0).abs() < 2.0, "median {median}");
    }

    #[test]
    fn weighted_follows_weights() {
        let mut r = Rng::new(5);
        let mut counts = [0u32; 3];
        for _ in 0..10_000 {
            counts[r.weighted(&[1.0, 0.0, 3.0])] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!(counts[2] > 2 * counts[0]);
    }
}
