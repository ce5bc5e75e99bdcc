//! Retries: a balancer's `retry` (nginx's next upstream, with Envoy's retry budget when a budget
//! key is given) and the clients' `[client] retry` (exponential backoff with the AWS SDKs'
//! standard-mode defaults).

use crate::model::balancer::retry_budget::{
    RetryBudget, ENVOY_DEFAULT_BUDGET_PERCENT, ENVOY_DEFAULT_MIN_RETRY_CONCURRENCY,
};
use crate::model::balancer::routing::RetryPolicy;
use crate::model::retry::{RetryCondition, RetryOn};
use crate::model::traffic::backoff::{Backoff, ClientRetry, Jitter};
use crate::scenario::reader::keys::Kind;
use crate::scenario::reader::{Fields, Located, Node, Reader};
use crate::time::SimDuration;

/// Read by [`read_balancer_retry`].
#[derive(Debug, Clone, Copy)]
pub struct BalancerRetry;

impl Kind for BalancerRetry {
    type Value = RetryPolicy;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<RetryPolicy>> {
        read_balancer_retry(r, node)
    }
}

/// `on = ["error", "timeout", ...]`: conditions of [`RetryCondition::NAMES`].
fn read_retry_on(r: &mut Reader<'_>, f: &mut Fields<'_, '_>, default: RetryOn) -> Option<RetryOn> {
    let Some(node) = f.get("on") else {
        return Some(default);
    };
    let items = r.array(&node, "an array such as [\"error\", \"timeout\"]")?;
    let names: Option<Vec<&'static str>> = items
        .iter()
        .map(|n| r.one_of(n, RetryCondition::NAMES).map(|l| l.value))
        .collect();
    RetryOn::from_names(names?)
}

/// `retry = { attempts, budget_percent, min_retry_concurrency, on }`: nginx's next upstream
/// with, when a budget key is given, Envoy's retry budget.
fn read_balancer_retry(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<RetryPolicy>> {
    let at = node.at();
    let mut f = r.table(
        node,
        "a retry table such as { attempts = 2, on = [\"error\", \"timeout\"] }",
    )?;
    let attempts = f.get("attempts").map(|n| r.integer(&n, 0, 100));
    let percent = f.get("budget_percent").map(|n| r.number(&n));
    let concurrency = f
        .get("min_retry_concurrency")
        .map(|n| r.integer(&n, 0, 1_000_000));
    let on = read_retry_on(r, &mut f, RetryOn::NGINX_DEFAULT);
    f.finish(r);
    let mut ok = on.is_some();
    if let Some(Some(p)) = &percent {
        if !(0.0..=100.0).contains(&p.value) {
            r.error(
                p,
                "budget_percent is a percentage, from 0 to 100",
                Some("such as budget_percent = 20 (Envoy's default)".into()),
            );
            ok = false;
        }
    }
    let budget = match (&percent, &concurrency) {
        (None, None) => None,
        _ => Some(RetryBudget {
            budget_percent: percent
                .flatten()
                .map_or(ENVOY_DEFAULT_BUDGET_PERCENT, |p| p.value),
            min_retry_concurrency: concurrency
                .flatten()
                .map_or(ENVOY_DEFAULT_MIN_RETRY_CONCURRENCY, |c| c.value as u32),
        }),
    };
    let attempts = match attempts {
        Some(Some(a)) => a.value as u32,
        Some(None) => return None,
        None => 2,
    };
    ok.then_some(Located {
        value: RetryPolicy {
            attempts,
            budget,
            on: on?,
        },
        path: at.path,
        span: at.span,
    })
}

/// `[client] retry = { attempts, base, cap, jitter, on }`: clients retrying with exponential
/// backoff, with the AWS SDKs' standard-mode defaults.
pub fn read_client(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<ClientRetry>> {
    let mut f = r.table(
        node,
        "a [client] table such as [client] retry = { attempts = 3 }",
    )?;
    let retry = f.get("retry");
    f.finish(r);
    let node = retry?;
    let at = node.at();
    let mut t = r.table(
        node,
        "a retry table such as { attempts = 3, jitter = \"full\" }",
    )?;
    let attempts = match t.get("attempts").map(|n| r.integer(&n, 1, 100)) {
        Some(Some(a)) => Some(a.value as u32),
        Some(None) => None,
        None => Some(3),
    };
    let base = t
        .get("base")
        .and_then(|n| r.duration(&n))
        .map_or(SimDuration::from_millis(50), |d| d.value);
    let cap = t
        .get("cap")
        .and_then(|n| r.duration(&n))
        .map_or(SimDuration::from_secs(20), |d| d.value);
    let jitter = t
        .get("jitter")
        .and_then(|n| r.one_of(&n, Jitter::NAMES))
        .map_or(Some(Jitter::Full), |j| Jitter::from_name(j.value));
    let on = read_retry_on(r, &mut t, RetryOn::ALL);
    t.finish(r);
    Some(Located {
        value: ClientRetry {
            attempts: attempts?,
            backoff: Backoff {
                base,
                cap,
                jitter: jitter?,
            },
            on: on?,
        },
        path: at.path,
        span: at.span,
    })
}
