//! IP hash, exactly as nginx's `ip_hash` (`ngx_http_upstream_ip_hash_module.c`,
//! `ngx_http_upstream_get_ip_hash_peer`): the key is the first three octets of the client's
//! IPv4 address, so every client of one /24 network lands on the same server.
//!
//! ```text
//! hash = 89                                   (kept across tries)
//! loop:
//!     for each of the 3 octets: hash = (hash × 113 + octet) mod 6271
//!     w = hash mod total_weight               (all peers' weights, eligible or not)
//!     the peer whose cumulative weight range holds w
//!     if it is eligible: done
//!     after 20 tries: fall back to the weighted round robin
//! ```
//!
//! nginx walks the peer list to find the weight range; here a Fenwick tree of the weights does
//! it in O(log n), and a change of one weight costs O(log n) too. A weight change moves clients:
//! both `total_weight` and the ranges change, so many /24 networks land elsewhere, as they would
//! in nginx after a reload with new weights (nginx open source cannot change a weight without
//! one; nginx Plus's `slow_start` "cannot be used along with the hash, ip_hash, and random load
//! balancing methods", `ngx_http_upstream_module` docs, so no ramp ever drives this). Note the
//! mod 6271: nginx's hash has only 6271 values, so with more
//! total weight than that some peers receive no client at all — a real property of `ip_hash`.

use super::fenwick::Fenwick;
use super::weighted_round_robin::WeightedRoundRobin;

/// nginx ip_hash over the targets, with its round-robin fallback.
#[derive(Debug, Clone)]
pub struct IpHash {
    /// Every peer's weight, eligible or not (nginx hashes over `total_weight` of all peers).
    weights: Fenwick,
    eligible: Vec<bool>,
    fallback: WeightedRoundRobin,
}

impl IpHash {
    /// All targets eligible.
    pub fn new(weights: &[u32]) -> Self {
        IpHash {
            weights: Fenwick::new(weights),
            eligible: vec![true; weights.len()],
            fallback: WeightedRoundRobin::new(weights),
        }
    }

    /// The target for a client at IPv4 address `ip` (host byte order: `a.b.c.d` is
    /// `a << 24 | b << 16 | c << 8 | d`).
    pub fn pick(&mut self, ip: u32) -> Option<u32> {
        let total = self.weights.total();
        if self.weights.len() <= 1 || total == 0 {
            // nginx: a single peer goes straight to round robin.
            return self.fallback.pick();
        }
        let octets = [
            (ip >> 24) as u64,
            ((ip >> 16) & 0xff) as u64,
            ((ip >> 8) & 0xff) as u64,
        ];
        let mut hash = 89u64;
        for _ in 0..=20 {
            for &o in &octets {
                hash = (hash * 113 + o) % 6271;
            }
            let w = hash % total;
            let peer = self.weights.find(w) as usize;
            if self.eligible[peer] {
                return Some(peer as u32);
            }
        }
        self.fallback.pick()
    }

    /// `target`'s weight goes from `old` to `new`: the hash ranges move at once, and the
    /// round-robin fallback uses the new weight from its next pick. O(k + log n).
    pub fn set_weight(&mut self, target: u32, old: u32, new: u32) {
        self.weights.set(target, new);
        if self.eligible[target as usize] {
            self.fallback.set_weight(target, old, new);
        }
    }

    /// `target` (of `weight`) joins or leaves the eligible set.
    pub fn set_eligible(&mut self, target: u32, weight: u32, eligible: bool) {
        if self.eligible[target as usize] != eligible {
            self.eligible[target as usize] = eligible;
            self.fallback.set_eligible(target, weight, eligible);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(a: u32, b: u32, c: u32, d: u32) -> u32 {
        a << 24 | b << 16 | c << 8 | d
    }

    #[test]
    fn nginx_hash_worked_by_hand() {
        // 192.168.1.x: hash = 89 → (89×113 + 192) mod 6271 = 10249 mod 6271 = 3978
        // → (3978×113 + 168) mod 6271 = 449682 mod 6271 = 4441
        // → (4441×113 + 1) mod 6271 = 501834 mod 6271 = 154.
        // Three peers of weight 1: 154 mod 3 = 1 → peer 1.
        let mut h = IpHash::new(&[1, 1, 1]);
        assert_eq!(h.pick(ip(192, 168, 1, 7)), Some(1));
        // The last octet is ignored: the whole /24 goes to the same peer.
        assert_eq!(h.pick(ip(192, 168, 1, 200)), Some(1));
        // Weights 1, 1, 3 (ranges [0,1) [1,2) [2,5)): 154 mod 5 = 4 → peer 2.
        let mut h = IpHash::new(&[1, 1, 3]);
        assert_eq!(h.pick(ip(192, 168, 1, 7)), Some(2));
    }

    #[test]
    fn a_weight_change_moves_the_hash_ranges() {
        // 192.168.1.x hashes to 154 (above). Weights 1, 1, 1: 154 mod 3 = 1 → peer 1. Peer 2's
        // weight becomes 3: total 5, ranges [0,1) [1,2) [2,5), 154 mod 5 = 4 → peer 2. Back to
        // 1: peer 1 again.
        let mut h = IpHash::new(&[1, 1, 1]);
        assert_eq!(h.pick(ip(192, 168, 1, 7)), Some(1));
        h.set_weight(2, 1, 3);
        assert_eq!(h.pick(ip(192, 168, 1, 7)), Some(2));
        h.set_weight(2, 3, 1);
        assert_eq!(h.pick(ip(192, 168, 1, 7)), Some(1));
        // An ineligible peer's weight still counts in nginx's total_weight: peer 0 down with
        // weight 2, total 4: 154 mod 4 = 2 → range [2,3) is peer 1.
        h.set_eligible(0, 1, false);
        h.set_weight(0, 1, 2);
        assert_eq!(h.pick(ip(192, 168, 1, 7)), Some(1));
    }

    #[test]
    fn an_ineligible_peer_makes_nginx_rehash() {
        // 192.168.1.x on three peers hashes to 154 → peer 1; with 1 down the hash goes on from
        // 154: (154×113 + 192) mod 6271 = 5052; (5052×113 + 168) mod 6271 = 383;
        // (383×113 + 1) mod 6271 = 5654; 5654 mod 3 = 2 → peer 2.
        let mut h = IpHash::new(&[1, 1, 1]);
        h.set_eligible(1, 1, false);
        assert_eq!(h.pick(ip(192, 168, 1, 7)), Some(2));
        h.set_eligible(0, 1, false);
        h.set_eligible(2, 1, false);
        assert_eq!(h.pick(ip(192, 168, 1, 7)), None);
    }
}
