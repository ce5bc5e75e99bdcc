//! Arrival processes and request classes.
//!
//! Owns *when* requests arrive and *what* they are (class, work), for open-loop arrivals and
//! for a closed population of users ([`sessions`]). It must not know how they are
//! served: every draw here comes from the traffic streams, whatever policy serves the request
//! (common random numbers). Client retries ([`backoff`]) draw from a stream of their own.

mod arrivals;
pub mod backoff;
mod classes;
mod profile;
pub mod sessions;
pub mod trace;
pub mod trace_file;
pub mod trace_stats;
mod users;

pub use arrivals::{ArrivalProcess, Arrivals, PeriodicArrivals, PoissonArrivals};
pub use classes::ClassMix;
pub use profile::{DecayShape, RateProfile};
pub use trace::{TraceArrivals, TraceOptions, TraceView};
pub use trace_file::{TraceData, TraceFormat};
pub use users::Population;
