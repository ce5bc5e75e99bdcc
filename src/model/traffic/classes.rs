//! Choosing a request's class by share.

use crate::engine::{open_unit, StreamRng};

/// Picks a class index with probability equal to its share.
#[derive(Debug, Clone)]
pub struct ClassMix {
    cumulative: Vec<f64>,
}

impl ClassMix {
    /// A mix from shares that sum to 1.
    pub fn new(shares: &[f64]) -> Self {
        let mut acc = 0.0;
        let cumulative = shares
            .iter()
            .map(|s| {
                acc += s;
                acc
            })
            .collect();
        ClassMix { cumulative }
    }

    /// The class of the next request. With one class no random number is drawn.
    #[inline]
    pub fn pick(&self, rng: &mut StreamRng) -> usize {
        if self.cumulative.len() == 1 {
            return 0;
        }
        self.pick_unit(open_unit(rng))
    }

    /// The class at uniform `u` in (0, 1) (a closed-loop user's per-user draw).
    #[inline]
    pub fn pick_unit(&self, u: f64) -> usize {
        let u = u * self.cumulative[self.cumulative.len() - 1];
        self.cumulative
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.cumulative.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RandomStreams;

    #[test]
    fn shares_are_respected() {
        let mix = ClassMix::new(&[0.7, 0.2, 0.1]);
        let mut rng = RandomStreams::new(9).stream("classes");
        let mut counts = [0u32; 3];
        let n = 100_000;
        for _ in 0..n {
            counts[mix.pick(&mut rng)] += 1;
        }
        // Binomial: within 4.42 standard deviations (p ≈ 1e-5 each).
        for (c, p) in counts.iter().zip([0.7, 0.2, 0.1]) {
            let sd = (n as f64 * p * (1.0 - p)).sqrt();
            assert!((*c as f64 - n as f64 * p).abs() < 4.42 * sd, "{counts:?}");
        }
    }
}
