//! Least connections, as nginx's `least_conn` (`ngx_http_upstream_least_conn_module.c`): the
//! target with the fewest active requests; among equals, the next in round-robin order.
//!
//! Equal weights for now. nginx compares `conns / weight` and breaks ties by smooth weighted
//! round robin; weights arrive with the full balancer set. This version scans the targets (O(n)),
//! which is fine for the fleets of tens of instances it serves today.

use super::TargetLoad;

/// Least-connections state: where the round-robin tie-break resumes.
#[derive(Debug, Clone, Default)]
pub struct LeastConnections {
    next: usize,
}

impl LeastConnections {
    /// The target with the fewest active requests, ties broken in round-robin order.
    pub fn pick<T: TargetLoad>(&mut self, targets: &[T]) -> usize {
        let n = targets.len();
        let start = self.next % n;
        let mut best = start;
        let mut best_load = targets[start].active_requests();
        for k in 1..n {
            let i = (start + k) % n;
            let load = targets[i].active_requests();
            if load < best_load {
                best = i;
                best_load = load;
            }
        }
        self.next = best + 1;
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct T(u32);
    impl TargetLoad for T {
        fn active_requests(&self) -> u32 {
            self.0
        }
    }

    #[test]
    fn picks_the_least_loaded_target() {
        let mut lc = LeastConnections::default();
        assert_eq!(lc.pick(&[T(3), T(1), T(2)]), 1);
    }

    #[test]
    fn ties_rotate_in_round_robin_order() {
        let mut lc = LeastConnections::default();
        let targets = [T(0), T(0), T(0)];
        let picks: Vec<usize> = (0..4).map(|_| lc.pick(&targets)).collect();
        assert_eq!(picks, vec![0, 1, 2, 0]);
        // After picking 0, ties between 0 and 2 go to 2 first (it comes next after 1).
        let mut lc = LeastConnections::default();
        assert_eq!(lc.pick(&[T(0), T(5), T(0)]), 0);
        assert_eq!(lc.pick(&[T(0), T(5), T(0)]), 2);
    }
}
