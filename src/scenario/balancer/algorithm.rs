//! Stage two of the balancer keys: the [`BalancerSpec`] of one target group, its own keys over
//! the `[balancer]` defaults, each setting belonging to the algorithm that reads it.

use super::keys::RawBalancer;
use crate::model::balancer::routing::BalancerSpec;
use crate::model::balancer::Algorithm;
use crate::scenario::diagnostics::ByteSpan;
use crate::scenario::reader::{Located, Reader};

/// The balancers of the target groups being built: the `[balancer]` defaults, and the problems
/// already reported, so that a default shared by several groups is reported once.
pub struct Balancers<'a> {
    /// The `[balancer]` table, if any.
    pub defaults: Option<&'a RawBalancer>,
    /// Spans of the problems reported.
    reported: Vec<ByteSpan>,
}

impl<'a> Balancers<'a> {
    /// No balancer built yet.
    pub fn new(defaults: Option<&'a RawBalancer>) -> Self {
        Balancers {
            defaults,
            reported: Vec::new(),
        }
    }

    /// The balancer of group `group` of at most `targets` targets (`None`: unknown, as a member
    /// pool's instance count or autoscaling bounds are broken): `own` keys over `base` keys for
    /// the algorithm, and over the `[balancer]` defaults for health checks and stickiness.
    pub fn of_group(
        &mut self,
        r: &mut Reader<'_>,
        own: Option<&RawBalancer>,
        base: Option<&RawBalancer>,
        group: &str,
        targets: Option<u64>,
        shared_queue: bool,
    ) -> Option<BalancerSpec> {
        let algorithm_at = inherited(own, base, |b| b.algorithm.as_ref());
        let mut algorithm = Algorithm::from_name(algorithm_at.map_or("round_robin", |a| a.value))?;
        let mut ok = self.configure(
            r,
            &mut algorithm,
            algorithm_at,
            (own, base),
            group,
            targets,
            shared_queue,
        );
        // Health checks, stickiness, slow start and retries: the group's own table, else the
        // defaults', even when the group names its own algorithm (which only drops the
        // defaults' algorithm settings).
        let defaults = self.defaults;
        let health_check = inherited(own, defaults, |b| b.health_check.as_ref()).map(|l| l.value);
        let passive = inherited(own, defaults, |b| b.passive.as_ref()).map(|l| l.value);
        let stickiness = inherited(own, defaults, |b| b.stickiness.as_ref()).map(|l| l.value);
        let retry = inherited(own, defaults, |b| b.retry.as_ref()).map(|l| l.value);
        let slow_start = inherited(own, defaults, |b| b.slow_start.as_ref());
        if let Some(s) =
            slow_start.filter(|s| !shared_queue && !s.value.supported_by(algorithm.name()))
        {
            self.report_once(
                r,
                s,
                format!("this slow start does not work with {}", algorithm.name()),
                format!(
                    "as in the real balancers, it works with: {}",
                    s.value.supported_algorithms().join(", ")
                ),
            );
            ok = false;
        }
        ok.then_some(BalancerSpec {
            algorithm,
            health_check,
            passive,
            stickiness,
            slow_start: slow_start.map(|l| l.value),
            retry,
        })
    }

    /// Sets the settings of `algorithm` (written at `algorithm_at`) from the `own` keys over the
    /// `base` ones; false if one is wrong (reported once).
    #[allow(clippy::too_many_arguments)]
    fn configure(
        &mut self,
        r: &mut Reader<'_>,
        algorithm: &mut Algorithm,
        algorithm_at: Option<&Located<&'static str>>,
        (own, base): (Option<&RawBalancer>, Option<&RawBalancer>),
        group: &str,
        targets: Option<u64>,
        shared_queue: bool,
    ) -> bool {
        match algorithm {
            Algorithm::PowerOfTwoChoices {
                choice_count: c,
                active_request_bias,
            } => {
                if let Some(n) = inherited(own, base, |b| b.choice_count.as_ref()) {
                    *c = n.value as u32;
                }
                *active_request_bias =
                    inherited(own, base, |b| b.active_request_bias.as_ref()).map(|b| b.value);
                true
            }
            Algorithm::LeastResponseTime { decay: d } => {
                let Some(v) = inherited(own, base, |b| b.decay.as_ref()) else {
                    return true;
                };
                *d = v.value;
                if v.value.is_zero() {
                    self.report_once(
                        r,
                        v,
                        "the decay time must be longer than 0s".into(),
                        "such as decay = \"10s\" (Finagle's default)".into(),
                    );
                    return false;
                }
                true
            }
            Algorithm::ConsistentHash { table_size: size } if !shared_queue => {
                // The default table too must hold every target (Maglev needs M >= n). The
                // algorithm is only ever named, so there is a place to point at.
                let (value, at) = match inherited(own, base, |b| b.table_size.as_ref()) {
                    Some(t) => (t.value, Some(t.at())),
                    None => (u64::from(*size), algorithm_at.map(Located::at)),
                };
                *size = value as u32;
                let least = targets.unwrap_or(0).max(2);
                let Some(at) = at.filter(|_| !is_prime(value) || value < least) else {
                    return true;
                };
                let least = match targets {
                    Some(t) => {
                        format!(" at least the number of targets ({t}) of target group \"{group}\"")
                    }
                    None => format!(" (in target group \"{group}\")"),
                };
                self.report_once(
                    r,
                    &at,
                    format!("the Maglev table size must be a prime{least}, found {value}"),
                    "set table_size to a prime such as 65537 (Envoy's default) or 1000003".into(),
                );
                false
            }
            _ => true,
        }
    }

    /// Reports a problem at `at`, unless one was reported there already.
    fn report_once<T>(
        &mut self,
        r: &mut Reader<'_>,
        at: &Located<T>,
        message: String,
        help: String,
    ) {
        if !self.reported.contains(&at.span) {
            self.reported.push(at.span);
            r.error(at, message, Some(help));
        }
    }
}

/// `own`'s table for a setting, else the `defaults`' (`[balancer]`).
fn inherited<'a, T>(
    own: Option<&'a RawBalancer>,
    defaults: Option<&'a RawBalancer>,
    key: impl Fn(&'a RawBalancer) -> Option<&'a Located<T>>,
) -> Option<&'a Located<T>> {
    own.and_then(&key).or_else(|| defaults.and_then(&key))
}

/// Reports each setting in `raw` that belongs to an algorithm other than `name`: a setting of
/// another algorithm is an error, not silently ignored.
pub fn check_settings_owner(r: &mut Reader<'_>, raw: &RawBalancer, name: &str) -> bool {
    let mut ok = true;
    for (at, key, owner) in [
        (
            raw.choice_count.as_ref().map(Located::at),
            "choice_count",
            "power_of_two_choices",
        ),
        (
            raw.active_request_bias.as_ref().map(Located::at),
            "active_request_bias",
            "power_of_two_choices",
        ),
        (
            raw.decay.as_ref().map(Located::at),
            "decay",
            "least_response_time",
        ),
        (
            raw.table_size.as_ref().map(Located::at),
            "table_size",
            "consistent_hash",
        ),
    ] {
        if let Some(at) = at.filter(|_| name != owner) {
            r.error(
                &at,
                format!("{key} is a setting of {owner}, not of {name}"),
                Some(format!("remove {key}, or use algorithm = \"{owner}\"")),
            );
            ok = false;
        }
    }
    ok
}

fn is_prime(n: u64) -> bool {
    n >= 2
        && (2..)
            .take_while(|d| d * d <= n)
            .all(|d| !n.is_multiple_of(d))
}
