//! The event queue and seeded random streams, on simulated time ([`crate::time`]).
//!
//! This layer owns *when* things happen and *which dice* are rolled. It must not know about load
//! balancers, servers or money: events are an opaque, `Copy` type chosen by the world.

mod queue;
mod rng;

pub use queue::{EventQueue, Halt, SchedulingError};
pub use rng::{mix64, open_unit, RandomStreams, StreamRng};
