//! The spot market's keys (issue 6): `[pool.mixed_instances]` and `purchase` (an EC2 Auto
//! Scaling mixed instances policy, or a single-type pool bought on the spot market), and on an
//! `[[instance_type]]` its `spot_interruptions` and `spot_availability`; and
//! `[[capacity_shortage]]` (windows of insufficient capacity). The spot price is the market's
//! ([`super::market`]).
//!
//! It must not know the instance type list beyond the names it is given: a pool's policy is
//! checked against the types by the pool ([`super::fleet`]).

pub mod availability;
pub mod interruptions;
pub mod mixed;
