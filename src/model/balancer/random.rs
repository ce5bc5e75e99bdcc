//! Random: each request to an eligible target chosen uniformly at random (Envoy's `RANDOM`
//! load balancer, HAProxy's `balance random` without weights). O(1).

use rand::Rng;

use super::dense_set::DenseSet;
use crate::engine::StreamRng;

/// A uniformly random eligible target.
#[inline]
pub fn pick(eligible: &DenseSet, rng: &mut StreamRng) -> Option<u32> {
    match eligible.len() {
        0 => None,
        n => Some(eligible.get(rng.random_range(0..n))),
    }
}
