//! Round robin: targets in turn, as nginx's default `upstream` with equal weights
//! (`ngx_http_upstream_round_robin.c`) and AWS ALB's default routing algorithm.

/// Round-robin state: the next target to use.
#[derive(Debug, Clone, Default)]
pub struct RoundRobin {
    next: usize,
}

impl RoundRobin {
    /// The next of `n` targets. O(1).
    #[inline]
    pub fn pick(&mut self, n: usize) -> usize {
        let i = self.next % n;
        self.next = i + 1;
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_through_targets_in_order() {
        let mut rr = RoundRobin::default();
        let picks: Vec<usize> = (0..7).map(|_| rr.pick(3)).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn keeps_cycling_when_the_target_count_shrinks() {
        let mut rr = RoundRobin::default();
        rr.pick(4);
        rr.pick(4);
        rr.pick(4);
        assert_eq!(rr.pick(2), 1);
        assert_eq!(rr.pick(2), 0);
    }
}
