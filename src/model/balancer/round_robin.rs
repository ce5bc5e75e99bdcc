//! Round robin: the eligible targets in turn, as AWS ALB's default `round_robin` routing
//! algorithm ("routes requests evenly across the healthy targets", Elastic Load Balancing
//! docs, target group attributes). Weights are ignored; nginx's weighted variant is
//! `weighted_round_robin`.

use super::dense_set::DenseSet;

/// Round-robin state: the eligible targets and the next position. O(1) per pick.
#[derive(Debug, Clone)]
pub struct RoundRobin {
    next: usize,
}

impl RoundRobin {
    /// A fresh cycle.
    pub fn new() -> Self {
        RoundRobin { next: 0 }
    }

    /// The next eligible target.
    #[inline]
    pub fn pick(&mut self, eligible: &DenseSet) -> Option<u32> {
        if eligible.len() == 0 {
            return None;
        }
        let i = self.next % eligible.len();
        self.next = i + 1;
        Some(eligible.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_through_targets_in_order() {
        let mut rr = RoundRobin::new();
        let set = DenseSet::full(3);
        let picks: Vec<u32> = (0..7).map(|_| rr.pick(&set).unwrap()).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn skips_targets_that_left() {
        let mut rr = RoundRobin::new();
        let mut set = DenseSet::full(4);
        set.remove(3);
        let picks: Vec<u32> = (0..6).map(|_| rr.pick(&set).unwrap()).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2]);
        set.remove(0);
        set.remove(1);
        set.remove(2);
        assert_eq!(rr.pick(&set), None);
    }
}
