//! L7 routing: routes match a request's path by prefix and send it to a target group; a target
//! group is the instances of one or more pools behind one balancer with its own settings.
//!
//! Matching follows nginx's prefix `location` blocks
//! (<https://nginx.org/en/docs/http/ngx_http_core_module.html#location>): a route matches when
//! its path is a prefix of the request's path, as plain strings (`/api` matches `/api/v1` and
//! also `/apiary`, as in nginx), and the longest matching prefix wins. Resolved once per request
//! class when the scenario is validated, not per request: a class has one path.

use super::health_check::HealthCheckSpec;
use super::passive_health::PassiveSpec;
use super::retry_budget::RetryBudget;
use super::slow_start::SlowStart;
use super::Algorithm;
use crate::time::SimDuration;

/// nginx's `proxy_connect_timeout` default (60 s): how long a connection to a target that does
/// not answer (a crashed host) is tried before the attempt fails.
pub const DEFAULT_CONNECT_TIMEOUT: SimDuration = SimDuration::from_secs(60);

/// A route: requests whose path starts with `path` go to `target_group`.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteSpec {
    /// Name in results: the path prefix (`/predict`), or the pool's name for a class that names
    /// its pool directly.
    pub name: String,
    /// Index of the target group.
    pub target_group: usize,
    /// How long connecting to an unresponsive target is tried (nginx `proxy_connect_timeout`).
    pub connect_timeout: SimDuration,
    /// How long the balancer waits for a target's answer once the request is sent (nginx
    /// `proxy_read_timeout`, an ALB's idle timeout); `None`: only the client's timeout applies.
    pub read_timeout: Option<SimDuration>,
}

/// The balancer of one target group: its algorithm and settings.
#[derive(Debug, Clone, PartialEq)]
pub struct BalancerSpec {
    /// The algorithm and its settings.
    pub algorithm: Algorithm,
    /// Active health checks (AWS ALB); `None`: none.
    pub health_check: Option<HealthCheckSpec>,
    /// Passive health checks (nginx `max_fails`/`fail_timeout`); `None`: none.
    pub passive: Option<PassiveSpec>,
    /// Duration-based stickiness (ALB `lb_cookie`); `None`: none.
    pub stickiness: Option<SimDuration>,
    /// Slow start of targets that (re)join; `None`: none.
    pub slow_start: Option<SlowStart>,
    /// Retries of failed tries on another pick; `None`: none (ALB does not retry).
    pub retry: Option<RetryPolicy>,
}

/// A balancer's retries: a failed try goes to another pick, as nginx's `proxy_next_upstream`
/// and Envoy's retry policy do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Tries per request, the first included; 0: every target once (nginx
    /// `proxy_next_upstream_tries 0`).
    pub attempts: u32,
    /// Envoy's retry budget; `None`: no limit on retries in flight (nginx).
    pub budget: Option<RetryBudget>,
    /// Which failures are retried.
    pub on: crate::model::retry::RetryOn,
}

/// Instances of one or more pools behind one balancer.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetGroupSpec {
    /// Name in results (a pool's name for a group made for a class that names its pool).
    pub name: String,
    /// Indices of the pools whose instances are its targets, in order: targets are numbered
    /// pool by pool.
    pub pools: Vec<usize>,
    /// Its balancer.
    pub balancer: BalancerSpec,
}

/// The route whose prefix is the longest one of `request_path` (nginx prefix locations);
/// `None` when no route matches. `routes` holds each route's path prefix.
pub fn longest_prefix<'a>(
    routes: impl IntoIterator<Item = &'a str>,
    request_path: &str,
) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (i, prefix) in routes.into_iter().enumerate() {
        if request_path.starts_with(prefix) && best.is_none_or(|(_, len)| prefix.len() > len) {
            best = Some((i, prefix.len()));
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_matching_prefix_wins_as_in_nginx() {
        let routes = ["/", "/api", "/api/v2", "/predict"];
        assert_eq!(longest_prefix(routes, "/api/v2/models"), Some(2));
        assert_eq!(longest_prefix(routes, "/api/v1"), Some(1));
        // Plain string prefixes, as nginx's: "/api" matches "/apiary".
        assert_eq!(longest_prefix(routes, "/apiary"), Some(1));
        assert_eq!(longest_prefix(routes, "/stream"), Some(0));
        assert_eq!(longest_prefix(["/predict"], "/stream"), None);
        // The first of equal prefixes wins (validation rejects duplicates anyway).
        assert_eq!(longest_prefix(["/a", "/a"], "/a/b"), Some(0));
    }
}
