//! Stage two of the `[[class]]` tables: names and shares, where each class goes, its tokens or
//! its service time on each instance type; the typed [`RequestClass`]es.

use super::read::RawClass;
use super::route::{route_of, Destinations};
use crate::model::distribution::ServiceTime;
use crate::model::fleet::llm::TokenSpec;
use crate::model::fleet::InstanceType;
use crate::scenario::reader::{check_unique, find, unknown_reference, Located, Names, Reader};
use crate::scenario::spec::PoolSpec;

/// Shares must sum to 1 within this tolerance (room for decimal fractions such as 0.1 + 0.2).
const SHARE_TOLERANCE: f64 = 1e-6;

/// A kind of request: its share of traffic, where it goes and how long it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestClass {
    /// Name used in results.
    pub name: String,
    /// Fraction of arrivals of this class.
    pub share: f64,
    /// Index of the route that carries it (and so of its target group).
    pub route: usize,
    /// Service time on each instance type (indexed like `Scenario::instance_types`), with the
    /// type's speed already applied (unused for a token-based class).
    pub service_by_type: Vec<ServiceTime>,
    /// Its input and output token distributions: a token-based (LLM) class, served by the LLM
    /// profiles of its instance types; `None`: served by `service_by_type`.
    pub tokens: Option<crate::model::fleet::llm::TokenSpec>,
}

/// What the classes are checked against.
pub struct Context<'a> {
    /// Where `[[class]]` would be added, for "no request classes".
    pub at: &'a Located<()>,
    /// The instance types, if valid.
    pub types: Option<&'a [InstanceType]>,
    /// The names of the `[[instance_type]]` tables.
    pub type_names: &'a Names<'a>,
    /// The pools, if valid.
    pub pools: Option<&'a [PoolSpec]>,
}

/// The classes, each with its route and its service time on every instance type; `None` if
/// any is wrong (every problem reported).
pub fn validate_classes(
    r: &mut Reader<'_>,
    raw: &[RawClass],
    cx: &Context<'_>,
    mut to: Destinations<'_, '_, '_>,
) -> Option<Vec<RequestClass>> {
    if raw.is_empty() {
        r.error(
            cx.at,
            "no request classes",
            Some("add one: [[class]] name = \"predict\" service = { distribution = \"exponential\", mean = \"1s\" }".into()),
        );
        return None;
    }
    let names: Vec<&Located<String>> = raw.iter().filter_map(|c| c.name.as_ref()).collect();
    let mut ok = check_unique(r, &names, "class", "give each class its own name");
    ok &= check_shares(r, raw);
    let mut classes = Vec::new();
    for c in raw {
        let route = route_of(r, c, &mut to);
        match validate_class(r, c, route, cx) {
            Some(class) => classes.push(class),
            None => ok = false,
        }
    }
    (ok && cx.pools.is_some()).then_some(classes)
}

/// One class, going by `route`; `None` if anything in it is wrong or unknown.
fn validate_class(
    r: &mut Reader<'_>,
    c: &RawClass,
    route: Option<usize>,
    cx: &Context<'_>,
) -> Option<RequestClass> {
    let mut ok = true;
    for (key, _) in &c.service_by_type {
        if find(cx.type_names, &key.value).is_none() {
            unknown_reference(r, key, "instance type", cx.type_names);
            ok = false;
        }
    }
    let tokens = tokens_of(r, c)?;
    if tokens.is_some() && (c.service.is_some() || !c.service_by_type.is_empty()) {
        r.error(
            &c.at,
            "a token-based class takes its time from its tokens, not from service or service_by_type",
            Some("remove service and service_by_type; set the instance type's llm profile".into()),
        );
        return None;
    }
    // A token-based class has no service time: a placeholder never used.
    let zero = ServiceTime::Constant { nanos: 0.0 };
    let service = if tokens.is_some() {
        Some(&zero)
    } else {
        c.service.as_ref()
    };
    let (Some(name), Some(route), Some(service), Some(types), true) =
        (&c.name, route, service, cx.types, ok)
    else {
        return None;
    };
    let service_by_type = types
        .iter()
        .map(|t| {
            c.service_by_type
                .iter()
                .find(|(k, _)| k.value == t.name)
                .map_or_else(|| service.scaled_by_speed(t.speed), |(_, s)| s.clone())
        })
        .collect::<Vec<ServiceTime>>();
    Some(RequestClass {
        name: name.value.clone(),
        share: c.share.as_ref().map_or(1.0, |s| s.value),
        route,
        service_by_type,
        tokens,
    })
}

/// The class's tokens: `Some(None)` for a class without tokens, `None` if one of the two is
/// missing (reported) or broken (reported by stage one).
fn tokens_of(r: &mut Reader<'_>, c: &RawClass) -> Option<Option<TokenSpec>> {
    match (&c.input_tokens, &c.output_tokens) {
        (None, None) => Some(None),
        (Some(i), Some(o)) => match (&i.value, &o.value) {
            (Some(input), Some(output)) => Some(Some(TokenSpec {
                input: input.clone(),
                output: output.clone(),
            })),
            // Broken: reported by stage one.
            _ => None,
        },
        (Some(one), None) | (None, Some(one)) => {
            let missing = if c.input_tokens.is_none() {
                "input_tokens = { distribution = \"lognormal\", mean = 600, cv = 1.0 }"
            } else {
                "output_tokens = { distribution = \"lognormal\", mean = 250, cv = 1.0 }"
            };
            r.error(
                one,
                "a token-based class needs both input_tokens and output_tokens",
                Some(format!("add the other, such as {missing}")),
            );
            None
        }
    }
}

fn check_shares(r: &mut Reader<'_>, classes: &[RawClass]) -> bool {
    if classes.len() == 1 {
        return match &classes[0].share {
            Some(s) if (s.value - 1.0).abs() > SHARE_TOLERANCE => {
                r.error(
                    s,
                    format!(
                        "the only class has share {}, but shares must sum to 1",
                        s.value
                    ),
                    Some("remove share, or set share = 1".into()),
                );
                false
            }
            _ => true,
        };
    }
    let mut ok = true;
    let mut sum = 0.0;
    for c in classes {
        match &c.share {
            Some(s) => sum += s.value,
            None => {
                r.error(
                    &c.at,
                    "with several classes, each needs a share",
                    Some("add share = 0.5 (the shares of all classes sum to 1)".into()),
                );
                ok = false;
            }
        }
    }
    if ok && (sum - 1.0).abs() > SHARE_TOLERANCE {
        let first = classes[0].share.as_ref().expect("checked above");
        r.error_at(
            "class[*].share",
            Some(first.span),
            format!("the class shares sum to {sum}, not 1"),
            Some("make the shares of all classes add up to exactly 1".into()),
        );
        ok = false;
    }
    ok
}
