//! The balancer and routing keys: `[balancer]` and the balancer keys of each
//! `[[target_group]]` (algorithm, health checks, stickiness, slow start, retries), the target
//! groups and the `[[route]]`s, and the clients' `[client] retry`.
//!
//! It must not know the pools beyond what references to them are checked against
//! ([`super::fleet::refs`]).

pub mod algorithm;
pub mod health;
pub mod keys;
pub mod retry;
pub mod routing;
pub mod slow_start;
