//! Simulated time, the event queue and seeded random streams.
//!
//! This layer owns *when* things happen and *which dice* are rolled. It must not know about load
//! balancers, servers or money: events are an opaque, `Copy` type chosen by the world.

mod queue;
mod rng;
mod time;

pub use queue::{EventQueue, Halt, SchedulingError};
pub use rng::{mix64, open_unit, RandomStreams, StreamRng};
pub use time::{SimDuration, SimTime};
