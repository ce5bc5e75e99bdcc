//! Why a run stopped before its end: the input drove it where it cannot go on. Both causes are
//! errors of the input (exit code 2, see `main.rs`), never a panic or a hang: a loop at one
//! simulated instant ([`super::instant_guard`]) and more held than the memory budget allows
//! ([`super::memory_guard`]).

use super::memory_guard::GuardStop;
use crate::time::SimTime;

/// A run that stopped before its end.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// Too many events happened at one simulated instant: a loop that lets no time pass.
    #[error(
        "{run}: stopped at {at} of simulated time: more than {limit} events happened at that instant without time moving (the last one: {last}); the run has a loop that lets no time pass\n  help: look for something that repeats at once: a closed-loop think_time or a service time of 0 behind requests that fail at once (a full queue, no healthy target, a timeout of 0), or client retries without backoff; give it time (such as think_time = {{ distribution = \"exponential\", mean = \"1s\" }})"
    )]
    StuckAtInstant {
        /// The run: the scenario's name, or the sweep's run and replication.
        run: String,
        /// The instant it could not leave.
        at: SimTime,
        /// The limit of events at one instant for this scenario.
        limit: u64,
        /// The kind of the last event handled.
        last: &'static str,
    },
    /// The memory guard stopped it (or it could not start): it would hold more than its share
    /// of the memory budget.
    #[error(transparent)]
    Memory(Box<GuardStop>),
}

impl From<Box<GuardStop>> for RunError {
    fn from(stop: Box<GuardStop>) -> Self {
        RunError::Memory(stop)
    }
}

impl RunError {
    /// The same error, naming the run `run` (a sweep's run and replication).
    pub fn in_run(self, run: String) -> RunError {
        match self {
            RunError::StuckAtInstant {
                at, limit, last, ..
            } => RunError::StuckAtInstant {
                run,
                at,
                limit,
                last,
            },
            RunError::Memory(stop) => RunError::Memory(stop.in_run(run)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_names_the_run_the_instant_and_the_event() {
        let e = RunError::StuckAtInstant {
            run: "x".into(),
            at: SimTime::from_nanos(1_500_000_000),
            limit: 10,
            last: "UserSend",
        }
        .in_run("base, replication 2".into());
        let text = e.to_string();
        assert!(text.starts_with("base, replication 2: stopped at 1.5s of simulated time"));
        assert!(text.contains("more than 10 events") && text.contains("UserSend"));
        assert!(text.contains("\n  help: "));
    }
}
