//! The user population behind the traffic: who sends each request, and from which address.
//!
//! Each request comes from a user drawn uniformly from `users` (its own random stream, so the
//! same requests come from the same users in every variant). Users sit behind `networks`
//! distinct /24 networks (carrier NAT, offices, mobile gateways): a user's client IPv4 address
//! is its network's prefix plus a host octet. Fewer networks than users is what makes nginx's
//! `ip_hash`, which keys on the /24, send uneven load.

use rand::Rng;

use crate::engine::{mix64, StreamRng};

/// Who sends the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Population {
    /// Number of distinct users (sessions).
    pub users: u64,
    /// Number of distinct /24 networks the users are spread over.
    pub networks: u64,
}

impl Default for Population {
    fn default() -> Self {
        Population {
            users: 100_000,
            networks: 100_000,
        }
    }
}

impl Population {
    /// The user of the next request.
    #[inline]
    pub fn draw_user(&self, rng: &mut StreamRng) -> u64 {
        rng.random_range(0..self.users)
    }

    /// The client IPv4 address of `user` (`a.b.c.d` as `a << 24 | b << 16 | c << 8 | d`): a fixed
    /// function of the user id, the same on every platform.
    pub fn client_ip(&self, user: u64) -> u32 {
        let network = mix64(user ^ 0x006e_6574_776f_726b) % self.networks;
        let prefix = (mix64(network) as u32) & 0xffff_ff00;
        prefix | (mix64(user) & 0xff) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_share_networks_when_there_are_fewer_networks() {
        let p = Population {
            users: 10_000,
            networks: 10,
        };
        let mut prefixes: Vec<u32> = (0..10_000).map(|u| p.client_ip(u) >> 8).collect();
        prefixes.sort();
        prefixes.dedup();
        assert_eq!(prefixes.len(), 10);
        // A user's address never changes.
        assert_eq!(p.client_ip(42), p.client_ip(42));
    }
}
