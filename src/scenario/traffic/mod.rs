//! The `[traffic]` table: where arrivals come from (a rate, a rate profile with spikes, a
//! replayed trace, a count trace, or a closed loop of users), how they are spaced, who sends
//! them, and the arrival-rate cap through every route a rate can take.
//!
//! Traces are [`super::trace`]'s and closed loops [`super::closed_loop`]'s: this topic chooses
//! among the sources.

pub mod profile;
pub mod rates;
pub mod read;
pub mod validate;
