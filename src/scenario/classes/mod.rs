//! The `[[class]]` tables: kinds of request, their shares of the traffic, where each goes and
//! how long it takes (a service time, or tokens served by an LLM profile).
//!
//! It must not know how routes are built ([`super::balancer::routing`]) nor the fleet beyond
//! the instance types and pools it is given.

pub mod read;
pub mod route;
pub mod tokens;
pub mod validate;
