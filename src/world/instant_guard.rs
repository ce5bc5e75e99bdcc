//! The run loop's safety net: a run that keeps handling events without simulated time moving
//! stops with an error, never hangs (issue 14, item 8).
//!
//! Validation refuses the inputs known to loop at one instant (a think time of 0 behind an
//! instant failure, periods of a nanosecond: see `docs/scenario-format.md`); this guard
//! catches whatever else would. It counts the events handled at the current instant and stops
//! the run when they pass a limit no legitimate scenario reaches: everything that can happen
//! at one instant is bounded by what exists at it — every instance slot, every closed-loop
//! user, the largest burst of trace records sharing one time — each times the tries one
//! request can make at once (client attempts × balancer tries), with a wide margin.
//!
//! Cost: one comparison and one increment per event.

use crate::time::SimTime;

/// Events allowed at one instant whatever the scenario (timers, ticks, a few requests).
const BASE: u64 = 10_000_000;

/// Events one entity (an instance slot, a user, a request of a burst) may cause at one instant,
/// per try, with a margin: a request arriving, being sent, started, ended, failed, retried.
const PER_ENTITY: u64 = 64;

/// Counts the events at the current instant.
pub(super) struct InstantGuard {
    at: SimTime,
    count: u64,
    /// Events allowed at one instant.
    pub(super) limit: u64,
}

impl InstantGuard {
    /// A guard for a run with `entities` things that can act at one instant (instance slots,
    /// closed-loop users, the largest burst of trace records at one time), `attempts` client
    /// attempts per request and `tries` balancer tries per attempt.
    pub(super) fn new(entities: u64, attempts: u64, tries: u64) -> Self {
        let limit = BASE.saturating_add(
            PER_ENTITY
                .saturating_mul(entities.max(1))
                .saturating_mul(attempts.max(1))
                .saturating_mul(tries.max(1)),
        );
        InstantGuard {
            at: SimTime::ZERO,
            count: 0,
            limit,
        }
    }

    /// One more event at `now`; false when the events at this instant pass the limit.
    #[inline]
    pub(super) fn admit(&mut self, now: SimTime) -> bool {
        if now == self.at {
            self.count += 1;
            self.count <= self.limit
        } else {
            self.at = now;
            self.count = 1;
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(limit: u64) -> InstantGuard {
        InstantGuard {
            at: SimTime::ZERO,
            count: 0,
            limit,
        }
    }

    #[test]
    fn the_count_restarts_when_time_moves() {
        let mut g = guard(3);
        let t = SimTime::from_nanos;
        assert!(g.admit(t(0)) && g.admit(t(0)) && g.admit(t(0)));
        assert!(!g.admit(t(0)), "a fourth event at one instant");
        let mut g = guard(3);
        for k in 0..100 {
            assert!(g.admit(t(k / 3)), "three events an instant are fine");
        }
    }
}

#[cfg(test)]
mod in_the_world {
    use std::path::Path;

    use crate::metrics::CollectTimeline;
    use crate::scenario::Scenario;
    use crate::time::SimTime;
    use crate::world::RunError;
    use crate::world::World;

    /// 1,000 closed-loop users who all think exactly 1 s first: 1,000 sends (and their
    /// arrivals, starts...) at 1 s, a legitimate crowd at one instant.
    fn crowd() -> Scenario {
        let text = r#"
name = "crowd"
duration = "10s"
[traffic]
closed_loop = { users = 1000, think_time = { distribution = "constant", value = "1s" } }
[[instance_type]]
name = "box"
concurrency = 1000
price = "$1/h"
[[pool]]
name = "p"
instance_type = "box"
instances = 1
[[class]]
name = "a"
service = { distribution = "constant", value = "100ms" }
"#;
        Scenario::parse(text, Path::new("t.toml")).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_limit_leaves_room_for_every_user_and_slot_many_times_over() {
        let s = crowd();
        let world = World::build(&s, 1);
        // 10,000,000 + 64 × (1 slot + 1,000 users).
        assert_eq!(world.guards.instant.limit, 10_000_000 + 64 * 1001);
        assert!(world.run(&mut CollectTimeline::default()).is_ok());
    }

    #[test]
    fn a_run_passing_the_limit_at_one_instant_stops_with_an_error_naming_it() {
        let s = crowd();
        let mut world = World::build(&s, 1);
        world.guards.instant.limit = 500;
        match world.run(&mut CollectTimeline::default()) {
            Err(RunError::StuckAtInstant {
                run,
                at,
                limit,
                last,
            }) => {
                assert_eq!(run, "crowd");
                assert_eq!(at, SimTime::from_nanos(1_000_000_000));
                assert_eq!(limit, 500);
                assert!(last.starts_with("UserSend"), "{last}");
            }
            other => panic!("1,000 sends at 1 s pass a limit of 500: {:?}", other.err()),
        }
    }
}
