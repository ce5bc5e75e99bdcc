//! How many retries a proxy lets through: Envoy's retry budget and nginx's next-upstream tries.
//!
//! Pure rules over counts the world keeps. This module decides whether one more retry may go;
//! it knows neither which requests fail, nor when, nor which target a retry goes to.
//!
//! **Envoy** (`envoy.config.cluster.v3.CircuitBreakers.Thresholds.RetryBudget`): "the limit on
//! concurrent retries as a percentage of the sum of active requests and active pending
//! requests" (`budget_percent`, default 20 %), never below `min_retry_concurrency` (default 3).
//! `ResourceManagerImpl::RetryBudgetImpl` in `source/common/upstream/resource_manager_impl.h`:
//!
//! ```text
//! current_active = requests.count() + pending_requests.count()      (the cluster's, this priority)
//! max            = max(uint64(budget_percent / 100 × current_active), min_retry_concurrency)
//! canCreate      = retries.count() < max
//! ```
//!
//! The product is truncated to an integer (the `double` converts to `uint64_t`). `requests`
//! counts every upstream request in flight, retries included; `pending_requests` those waiting
//! for a connection. A retry counts in `retries` from the moment the router decides to retry
//! (`RetryStateImpl::shouldRetry` arms the callback after `canCreate`) through its backoff and
//! until its own outcome is judged or the request ends (`resetRetry` decrements), so a retry
//! waiting out its backoff holds budget. Without a budget Envoy applies the fixed
//! `max_retries` threshold (default 3): that is [`RetryBudget::fixed`].
//!
//! **nginx** (`proxy_next_upstream_tries`, `proxy_next_upstream_timeout`, both default 0 = no
//! limit): a request may be passed to the next server while tries remain. `ngx_http_upstream_
//! init_request` caps `u->peer.tries` — which round robin sets to the number of servers, backup
//! ones included (`ngx_http_upstream_tries(peers)`) — at `next_upstream_tries` when that is set;
//! `ngx_http_upstream_next` gives up when `peer.tries` reaches 0 or `proxy_next_upstream_timeout`
//! has passed since the first try (`ngx_current_msec - u->peer.start_time >= timeout`). The tried
//! bitmap keeps a request from going to the same server twice, so 0 means "every server once".
//! Only failures listed in `proxy_next_upstream` (default `error timeout`) are passed on, and
//! since 1.9.13 a non-idempotent request (POST, LOCK, PATCH) only with `non_idempotent`.

use crate::time::SimDuration;

/// Envoy's default `budget_percent`: 20 %.
pub const ENVOY_DEFAULT_BUDGET_PERCENT: f64 = 20.0;
/// Envoy's default `min_retry_concurrency`: 3.
pub const ENVOY_DEFAULT_MIN_RETRY_CONCURRENCY: u32 = 3;
/// Envoy's default `max_retries` circuit breaker threshold, used when no budget is set: 3.
pub const ENVOY_DEFAULT_MAX_RETRIES: u32 = 3;

/// Envoy's retry budget for one cluster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryBudget {
    /// Retries allowed in flight, as a percentage of active plus pending requests (0 to 100).
    pub budget_percent: f64,
    /// Retries always allowed in flight, however few requests are active.
    pub min_retry_concurrency: u32,
}

impl Default for RetryBudget {
    /// Envoy's defaults: 20 %, at least 3.
    fn default() -> Self {
        RetryBudget {
            budget_percent: ENVOY_DEFAULT_BUDGET_PERCENT,
            min_retry_concurrency: ENVOY_DEFAULT_MIN_RETRY_CONCURRENCY,
        }
    }
}

impl RetryBudget {
    /// Envoy without a budget: at most `max_retries` retries in flight, whatever the load.
    pub fn fixed(max_retries: u32) -> Self {
        RetryBudget {
            budget_percent: 0.0,
            min_retry_concurrency: max_retries,
        }
    }

    /// The most retries allowed in flight when `active_requests` requests (Envoy: active plus
    /// pending, retries in flight included) are in progress.
    pub fn max_active_retries(&self, active_requests: u64) -> u64 {
        // Truncates as Envoy's double → uint64_t conversion does; `as` saturates, and maps a NaN
        // or negative percentage to 0 (validation should not let them through).
        let share = (self.budget_percent / 100.0 * active_requests as f64) as u64;
        share.max(u64::from(self.min_retry_concurrency))
    }

    /// True when one more retry may start: `active_retries < max_active_retries`.
    pub fn allows(&self, active_requests: u64, active_retries: u64) -> bool {
        active_retries < self.max_active_retries(active_requests)
    }
}

/// nginx's limits on passing a request to the next server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NextUpstream {
    /// `proxy_next_upstream_tries`: tries in all, the first included; 0 is no limit, i.e.
    /// every server once.
    pub tries: u32,
    /// `proxy_next_upstream_timeout`: no further try once this long has passed since the first;
    /// zero is no limit.
    pub timeout: SimDuration,
}

impl NextUpstream {
    /// Tries a request gets with `servers` servers in the upstream (backup ones included; nginx
    /// leaves out servers marked `down`): `servers`, capped at `tries` when that is set.
    pub fn max_tries(&self, servers: u32) -> u32 {
        if self.tries > 0 {
            servers.min(self.tries)
        } else {
            servers
        }
    }

    /// True when a request that has made `tries_made` tries, the first `elapsed` ago, may go to
    /// the next server.
    pub fn allows_next(&self, tries_made: u32, servers: u32, elapsed: SimDuration) -> bool {
        let timed_out = !self.timeout.is_zero() && elapsed >= self.timeout;
        tries_made < self.max_tries(servers) && !timed_out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envoy_budget_is_a_share_of_active_requests_never_below_the_floor() {
        let b = RetryBudget::default();
        // Idle cluster: the floor, 3.
        assert_eq!(b.max_active_retries(0), 3);
        assert!(b.allows(0, 2));
        assert!(!b.allows(0, 3));
        // 14 active: 20 % = 2.8 → 2, under the floor → 3. 16: 3.2 → 3.
        assert_eq!(b.max_active_retries(14), 3);
        assert_eq!(b.max_active_retries(16), 3);
        // 21 active: 4.2 truncates to 4 — a 4th retry is refused, a 5th never considered.
        assert_eq!(b.max_active_retries(21), 4);
        assert!(b.allows(21, 3));
        assert!(!b.allows(21, 4));
        // 100 active: 20.
        assert!(b.allows(100, 19));
        assert!(!b.allows(100, 20));
    }

    #[test]
    fn custom_budget_and_fixed_limit() {
        // budget_percent 25, min 5: 30 active → 7.5 → 7; 10 active → 2.5 → the floor 5.
        let b = RetryBudget {
            budget_percent: 25.0,
            min_retry_concurrency: 5,
        };
        assert_eq!(b.max_active_retries(30), 7);
        assert_eq!(b.max_active_retries(10), 5);
        // No budget: Envoy's max_retries threshold, 3 at any load.
        let f = RetryBudget::fixed(ENVOY_DEFAULT_MAX_RETRIES);
        assert_eq!(f.max_active_retries(0), 3);
        assert_eq!(f.max_active_retries(1_000_000), 3);
        // A zero floor and no load: no retry at all.
        let z = RetryBudget {
            budget_percent: 20.0,
            min_retry_concurrency: 0,
        };
        assert!(!z.allows(4, 0)); // 0.8 → 0
        assert!(z.allows(5, 0)); // 1.0 → 1
    }

    #[test]
    fn nginx_tries_every_server_once_unless_capped() {
        let secs = SimDuration::from_secs;
        // Default (0, 0): with 4 servers, 4 tries in all — 3 passes to the next server.
        let d = NextUpstream::default();
        assert_eq!(d.max_tries(4), 4);
        assert!(d.allows_next(1, 4, secs(1000)));
        assert!(d.allows_next(3, 4, secs(1000)));
        assert!(!d.allows_next(4, 4, secs(1000)));
        // proxy_next_upstream_tries 3: 3 tries with 4 servers; 10 with 4 servers: still 4.
        let three = NextUpstream {
            tries: 3,
            timeout: SimDuration::ZERO,
        };
        assert!(three.allows_next(2, 4, SimDuration::ZERO));
        assert!(!three.allows_next(3, 4, SimDuration::ZERO));
        let ten = NextUpstream {
            tries: 10,
            timeout: SimDuration::ZERO,
        };
        assert_eq!(ten.max_tries(4), 4);
        // proxy_next_upstream_timeout 10s: refused at 10 s exactly (nginx compares >=).
        let timed = NextUpstream {
            tries: 0,
            timeout: secs(10),
        };
        assert!(timed.allows_next(1, 4, SimDuration::from_nanos(9_999_999_999)));
        assert!(!timed.allows_next(1, 4, secs(10)));
    }
}
