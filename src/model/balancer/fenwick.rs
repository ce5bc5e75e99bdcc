//! A Fenwick (binary indexed) tree of target weights: the weight range a number falls in, and a
//! change of one weight, both in O(log n). Weighted random draws a number and finds its range;
//! nginx's `ip_hash` finds the range of its hash. Neither needs to know how the other uses it.

/// Weights of targets `0..n` with prefix sums in O(log n).
#[derive(Debug, Clone)]
pub struct Fenwick {
    /// 1-based: `tree[i]` sums the weights of `(i - lowbit(i), i]`.
    tree: Vec<u64>,
    weight: Vec<u64>,
    total: u64,
}

impl Fenwick {
    /// A tree over these weights. O(n).
    pub fn new(weights: &[u32]) -> Self {
        let n = weights.len();
        let mut tree = vec![0u64; n + 1];
        for (i, &w) in weights.iter().enumerate() {
            tree[i + 1] += u64::from(w);
            let parent = (i + 1) + ((i + 1) & (i + 1).wrapping_neg());
            if parent <= n {
                tree[parent] += tree[i + 1];
            }
        }
        Fenwick {
            tree,
            weight: weights.iter().map(|&w| u64::from(w)).collect(),
            total: weights.iter().map(|&w| u64::from(w)).sum(),
        }
    }

    /// Number of targets.
    pub fn len(&self) -> usize {
        self.weight.len()
    }

    /// Sum of all weights.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Sets `target`'s weight. O(log n).
    pub fn set(&mut self, target: u32, weight: u32) {
        let t = target as usize;
        let new = u64::from(weight);
        let old = self.weight[t];
        if new == old {
            return;
        }
        self.weight[t] = new;
        self.total = self.total - old + new;
        let mut i = t + 1;
        while i < self.tree.len() {
            self.tree[i] = self.tree[i] - old + new;
            i += i & i.wrapping_neg();
        }
    }

    /// The target whose cumulative weight range `[w_0 + … + w_{t-1}, w_0 + … + w_t)` holds
    /// `r`; `r` must be below [`Fenwick::total`]. O(log n): a descent, never a scan.
    pub fn find(&self, mut r: u64) -> u32 {
        debug_assert!(r < self.total, "{r} past the total weight {}", self.total);
        let n = self.tree.len() - 1;
        let mut pos = 0;
        let mut step = n.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= n && self.tree[next] <= r {
                r -= self.tree[next];
                pos = next;
            }
            step >>= 1;
        }
        pos as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_walks_the_ranges_as_a_linear_scan_would() {
        // Weights 3, 1, 0, 6, 2: ranges [0,3) [3,4) (empty) [4,10) [10,12).
        let mut f = Fenwick::new(&[3, 1, 0, 6, 2]);
        let expected = [0, 0, 0, 1, 3, 3, 3, 3, 3, 3, 4, 4];
        for (r, &t) in expected.iter().enumerate() {
            assert_eq!(f.find(r as u64), t, "r = {r}");
        }
        // Target 1 from 1 to 4: ranges [0,3) [3,7) [7,13) [13,15).
        f.set(1, 4);
        assert_eq!(f.total(), 15);
        assert_eq!(
            (0..15).map(|r| f.find(r)).collect::<Vec<_>>(),
            [0, 0, 0, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 4, 4]
        );
    }
}
