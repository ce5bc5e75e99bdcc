//! Retry conditions: which kinds of failure a retry is for, named as nginx's
//! `proxy_next_upstream` names them (<https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_next_upstream>).
//!
//! A model module of its own: a balancer's retry policy (`model/balancer`) and a client's
//! retries (`model/traffic`, `backoff`) both say which failures they retry, and neither knows
//! the other. It knows nothing else.

/// What kind of failure a retry policy retries, in the words of nginx's `proxy_next_upstream`
/// (and the HTTP status a client sees).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryCondition {
    /// The connection failed or was reset (a crashed host; a 502 to the client).
    Error,
    /// No answer in time (a read timeout; a 504, or the client's own timeout).
    Timeout,
    /// The server answered 500 (a broken server).
    Http500,
    /// The server answered 503 (a full queue, or no healthy target).
    Http503,
}

impl RetryCondition {
    /// Names as written in scenario files, in bit order.
    pub const NAMES: &'static [&'static str] = &["error", "timeout", "http_500", "http_503"];
}

/// A set of [`RetryCondition`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetryOn(u8);

impl RetryOn {
    /// nginx's default `proxy_next_upstream error timeout`.
    pub const NGINX_DEFAULT: RetryOn = RetryOn(0b0011);
    /// Every condition: what the AWS SDKs treat as transient (throttling, 5xx, timeouts, resets).
    pub const ALL: RetryOn = RetryOn(0b1111);

    /// The set of the conditions named `names` (each one of [`RetryCondition::NAMES`]).
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<RetryOn> {
        let mut bits = 0;
        for n in names {
            bits |= 1 << RetryCondition::NAMES.iter().position(|&k| k == n)?;
        }
        Some(RetryOn(bits))
    }

    /// True when `c` is in the set.
    pub fn contains(self, c: RetryCondition) -> bool {
        self.0 & (1 << c as u8) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_conditions_are_a_set_named_as_nginx_does() {
        let on = RetryOn::from_names(["timeout", "http_503"]).unwrap();
        assert!(on.contains(RetryCondition::Timeout) && on.contains(RetryCondition::Http503));
        assert!(!on.contains(RetryCondition::Error) && !on.contains(RetryCondition::Http500));
        assert_eq!(
            RetryOn::from_names(["error", "timeout"]),
            Some(RetryOn::NGINX_DEFAULT)
        );
        assert_eq!(
            RetryOn::from_names(RetryCondition::NAMES.iter().copied()),
            Some(RetryOn::ALL)
        );
        assert_eq!(RetryOn::from_names(["http_404"]), None);
    }
}
