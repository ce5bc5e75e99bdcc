//! Stage two of `[traffic]`: the population who sends, and the arrival process. (Rates above
//! the cap are [`super::rates`]'s.)

use super::read::RawTraffic;
use crate::model::traffic::{ArrivalProcess, Population};
use crate::scenario::reader::Reader;

/// The user population; no more networks than users.
pub fn validate_population(r: &mut Reader<'_>, raw: &RawTraffic) -> Option<Population> {
    // A closed loop's users are the population (`[traffic] users` is refused beside it).
    let users = match &raw.closed_loop {
        Some(c) => u64::from(c.value.users),
        None => raw
            .users
            .as_ref()
            .map_or(Population::default().users, |u| u.value),
    };
    let networks = match &raw.networks {
        Some(n) if n.value > users => {
            r.error(
                n,
                format!(
                    "{} networks for {users} users: a network needs a user",
                    n.value
                ),
                Some(format!("use at most {users} networks, or more users")),
            );
            return None;
        }
        Some(n) => n.value,
        None => users,
    };
    Some(Population { users, networks })
}

/// How arrivals are spaced: `process`, default Poisson.
pub fn arrival_process(raw: &RawTraffic) -> ArrivalProcess {
    match raw.process.as_ref().map(|p| p.value) {
        Some("periodic") => ArrivalProcess::Periodic,
        _ => ArrivalProcess::Poisson,
    }
}
