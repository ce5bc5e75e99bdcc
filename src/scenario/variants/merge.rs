//! The deep merge of a variant or a `--set` point onto a document (the rules are in the
//! module doc of [`super`]), on the spanned TOML tree, recording the elements it refuses as
//! [`MergeIssue`]s.

use std::collections::{HashMap, HashSet};

use toml_span::value::{Array, Key, Table, Value, ValueInner};

use crate::scenario::reader::Reader;

/// A problem met while merging a variant or a `--set` point onto a document: reported at the
/// value's span once the reader of the merged document exists.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeIssue {
    /// The field path, in the variant's own terms (`pool[1].name`).
    path: String,
    /// Where the offending value is.
    span: toml_span::Span,
    message: String,
    help: String,
}

/// Keys that say which kind a table is. A variant that changes one replaces the whole table
/// instead of merging into it: the table's other keys belong to the old kind (a lognormal's `cv`
/// means nothing to an exponential, Envoy's `choice_count` nothing to round robin).
const KIND_KEYS: &[&str] = &["kind", "distribution", "algorithm", "policy"];

/// Sets of keys of one table that exclude each other: a variant that sets a key of one set
/// removes the base's keys of the other sets, as a user switching from one to the other means.
/// `[traffic]`'s `rate`, `profile`, `trace`, `counts` or `closed_loop`; a scheduled action's `at` or `recurrence`; and the
/// autoscaler of `[pool.autoscaling]`: the AWS policies with their group settings, or `hpa`,
/// or `keda` (a variant that sets `hpa` compares the HPA with the base's AWS policies).
const ALTERNATIVES: &[&[&[&str]]] = &[
    &[
        &["rate"],
        &["profile"],
        &["trace"],
        &["counts"],
        &["closed_loop"],
    ],
    &[&["at"], &["recurrence"]],
    &[
        &[
            "target_tracking",
            "step",
            "simple",
            "scheduled",
            "predictive",
            "metric_period",
            "metric_lag",
            "instance_warmup",
            "default_cooldown",
        ],
        &["hpa"],
        &["keda"],
    ],
];

/// Reports the problems a merge met (elements it refused) as diagnostics of `r`.
pub(super) fn report_merge_issues(
    r: &mut Reader<'_>,
    issues: impl IntoIterator<Item = MergeIssue>,
) {
    for i in issues {
        r.error_at(
            i.path,
            Some((i.span.start, i.span.end)),
            i.message,
            Some(i.help),
        );
    }
}

/// Removes `key` from a table value; `None` if absent or not a table.
pub fn take_key<'de>(value: &mut Value<'de>, key: &str) -> Option<(Key<'de>, Value<'de>)> {
    value.as_table()?.get(key)?;
    let ValueInner::Table(mut table) = value.take() else {
        return None; // not reached: checked to be a table above
    };
    let found = table.remove_entry(key);
    value.set(ValueInner::Table(table));
    found
}

/// A copy of a tree, spans included (`toml_span::Value` is not `Clone`).
pub(super) fn deep_clone<'de>(value: &Value<'de>) -> Value<'de> {
    let inner = match value.as_ref() {
        ValueInner::String(s) => ValueInner::String(s.clone()),
        ValueInner::Integer(i) => ValueInner::Integer(*i),
        ValueInner::Float(f) => ValueInner::Float(*f),
        ValueInner::Boolean(b) => ValueInner::Boolean(*b),
        ValueInner::Array(items) => ValueInner::Array(items.iter().map(deep_clone).collect()),
        ValueInner::Table(table) => ValueInner::Table(
            table
                .iter()
                .map(|(k, v)| (k.clone(), deep_clone(v)))
                .collect(),
        ),
    };
    Value::with_span(inner, value.span)
}

/// Deep-merges `over` onto `base`: tables key by key, arrays of named tables element by element
/// by name, anything else replaced by `over` (with `over`'s span). `at` is the path of `over`
/// in its document (empty at the root); an element that names no element of the base, or an
/// element named twice, is recorded in `issues` and left out.
pub(super) fn merge<'de>(
    base: &mut Value<'de>,
    mut over: Value<'de>,
    at: &str,
    issues: &mut Vec<MergeIssue>,
) {
    if !merges(base, &over) {
        *base = over;
        return;
    }
    match (base.take(), over.take()) {
        (ValueInner::Table(mut table), ValueInner::Table(over)) => {
            merge_tables(&mut table, over, at, issues);
            base.set(ValueInner::Table(table));
        }
        (ValueInner::Array(mut items), ValueInner::Array(over)) => {
            merge_by_name(&mut items, over, at, issues);
            base.set(ValueInner::Array(items));
        }
        // Not reached: `merges` admits only the two pairs above.
        (_, over) => base.set(over),
    }
}

/// True if `over` merges into `base` rather than replacing it.
fn merges(base: &Value<'_>, over: &Value<'_>) -> bool {
    match (base.as_ref(), over.as_ref()) {
        (ValueInner::Table(b), ValueInner::Table(o)) => !changes_kind(b, o),
        // An empty array replaces: `pool = []` means no pools, not "no change".
        (ValueInner::Array(b), ValueInner::Array(o)) => {
            !o.is_empty() && all_named(b) && all_named(o)
        }
        _ => false,
    }
}

/// True if `over` sets a kind key to another value than `base` has.
fn changes_kind(base: &Table<'_>, over: &Table<'_>) -> bool {
    KIND_KEYS.iter().any(|k| {
        matches!(
            (base.get(*k).and_then(Value::as_str), over.get(*k).and_then(Value::as_str)),
            (Some(b), Some(o)) if b != o
        )
    })
}

fn merge_tables<'de>(
    base: &mut Table<'de>,
    over: Table<'de>,
    at: &str,
    issues: &mut Vec<MergeIssue>,
) {
    for group in ALTERNATIVES {
        for (i, chosen) in group.iter().enumerate() {
            if !chosen.iter().any(|k| over.contains_key(*k)) {
                continue;
            }
            let others = group.iter().enumerate().filter(|(j, _)| *j != i);
            for k in others.flat_map(|(_, keys)| keys.iter()) {
                // A key the variant sets itself stays: setting both is the variant's mistake,
                // reported like any other.
                if !over.contains_key(*k) {
                    base.remove(*k);
                }
            }
        }
    }
    for (key, value) in over {
        match base.get_mut(key.name.as_ref()) {
            Some(b) if merges(b, &value) => {
                let path = if at.is_empty() {
                    key.name.to_string()
                } else {
                    format!("{at}.{}", key.name)
                };
                merge(b, value, &path, issues)
            }
            _ => {
                // Replace the key too: an error about it then points at the variant that wrote it.
                base.remove(key.name.as_ref());
                base.insert(key, value);
            }
        }
    }
}

/// The `name` of a table value, if it has a string one.
pub fn name_of<'v>(value: &'v Value<'_>) -> Option<&'v str> {
    value.as_table()?.get("name")?.as_str()
}

/// True if every element of `items` is a table with a `name`.
fn all_named(items: &Array<'_>) -> bool {
    items.iter().all(|v| name_of(v).is_some())
}

/// Each element of `over` merges onto the element of `base` with its name. An element the base
/// does not have is appended only when it says so (`add = true`, a key the merge consumes):
/// otherwise a name the base lacks is a misspelling or a stale reference, refused with the
/// names there are ("no pool named \"a10G\"; there are: a10g, t4") rather than silently adding
/// a pool, class or policy where the variant meant to change one. `add = true` on a name the
/// base has is refused too, and so is a name given twice (the base refuses that as well).
fn merge_by_name<'de>(
    base: &mut Array<'de>,
    over: Array<'de>,
    at: &str,
    issues: &mut Vec<MergeIssue>,
) {
    // `pool` names a pool, `instance_type` an instance type, `target_tracking` a policy.
    let key = at.rsplit(['.', ']']).next().unwrap_or(at);
    let what = key.replace('_', " ");
    let known: Vec<String> = base.iter().filter_map(name_of).map(str::to_owned).collect();
    // Where each name stands in the base (an index, so a large variant merges in linear time).
    let position: HashMap<String, usize> = base
        .iter()
        .enumerate()
        .filter_map(|(i, b)| Some((name_of(b)?.to_owned(), i)))
        .collect();
    let mut seen: HashSet<String> = HashSet::new();
    for (j, mut item) in over.into_iter().enumerate() {
        let Some(name) = name_of(&item).map(str::to_owned) else {
            continue; // not reached: `merges` admits only arrays of named tables
        };
        let name_span = item
            .as_table()
            .and_then(|t| t.get("name"))
            .map_or(item.span, |v| v.span);
        let element = format!("{at}[{j}]");
        let issue = |message: String, help: String| MergeIssue {
            path: format!("{element}.name"),
            span: name_span,
            message,
            help,
        };
        if !seen.insert(name.clone()) {
            issues.push(issue(
                format!("{what} \"{name}\" is given twice"),
                format!("change each {what} once: merge the two tables into one"),
            ));
            continue;
        }
        // `add = true` marks a new element; any other value of `add` is left in place for the
        // reader to refuse as it refuses any misplaced key.
        let adds = item
            .as_table()
            .and_then(|t| t.get("add"))
            .is_some_and(|v| v.as_bool() == Some(true));
        if adds {
            take_key(&mut item, "add");
        }
        match position.get(&name).map(|&i| &mut base[i]) {
            Some(_) if adds => issues.push(issue(
                format!("{what} \"{name}\" is already in the base scenario"),
                format!("drop `add = true` to change the base's {what} \"{name}\", or give the new {what} another name"),
            )),
            Some(b) if merges(b, &item) => {
                // The base's `name` stays: it is what matched, not an override.
                take_key(&mut item, "name");
                merge(b, item, &element, issues);
            }
            Some(b) => *b = item,
            None if adds => base.push(item),
            None => {
                let (message, hint) = not_in_base(&what, &name, &known);
                issues.push(issue(message, hint));
            }
        }
    }
}

/// The message and hint for an element named `name`, a `what` the base lacks (it has
/// `known`): a "did you mean" for a likely misspelling, and how to add an element.
fn not_in_base(what: &str, name: &str, known: &[String]) -> (String, String) {
    let hint = match known.iter().find(|k| near_miss(k, name)) {
        Some(near) => format!(
            "did you mean \"{near}\"? A variant changes the base's {what} of the same name; to add a new {what}, write `add = true` in it"
        ),
        None => format!(
            "a variant changes the base's {what} of the same name; to add a new {what}, write `add = true` in it"
        ),
    };
    let message = format!(
        "no {what} named \"{name}\"; there are: {}",
        if known.is_empty() {
            "none".to_string()
        } else {
            crate::scenario::diagnostics::list(known)
        }
    );
    (message, hint)
}

/// Whether `new` (a name the base does not have) looks like a misspelling of `known`: the same
/// ignoring case, or one edit away (a letter added, removed or changed).
fn near_miss(known: &str, new: &str) -> bool {
    // Lengths further apart than one edit rule it out without the distance's table.
    if known.len().abs_diff(new.len()) > 1 {
        return false;
    }
    known.eq_ignore_ascii_case(new)
        || crate::scenario::reader::edit_distance(
            &known.to_ascii_lowercase(),
            &new.to_ascii_lowercase(),
        ) <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Merges `over` onto `base` and renders the result as `key=value` lines with dotted paths,
    /// in key order, arrays as `[i]`: easy to compare with an expectation written by hand.
    fn merged(base: &str, over: &str) -> String {
        let mut b = toml_span::parse(base).unwrap();
        let o = toml_span::parse(over).unwrap();
        let mut issues = Vec::new();
        merge(&mut b, o, "", &mut issues);
        assert_eq!(issues, [], "{over}");
        let mut lines = Vec::new();
        flatten(&b, String::new(), &mut lines);
        lines.join("\n")
    }

    fn flatten(v: &Value<'_>, path: String, out: &mut Vec<String>) {
        match v.as_ref() {
            ValueInner::Table(t) => {
                for (k, v) in t {
                    let p = if path.is_empty() {
                        k.name.to_string()
                    } else {
                        format!("{path}.{}", k.name)
                    };
                    flatten(v, p, out);
                }
            }
            ValueInner::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    flatten(v, format!("{path}[{i}]"), out);
                }
            }
            ValueInner::String(s) => out.push(format!("{path}={s:?}")),
            ValueInner::Integer(i) => out.push(format!("{path}={i}")),
            ValueInner::Float(f) => out.push(format!("{path}={f}")),
            ValueInner::Boolean(b) => out.push(format!("{path}={b}")),
        }
    }

    #[test]
    fn tables_merge_key_by_key_at_every_depth() {
        let base = "a = 1\n[t]\nx = 1\ny = 2\n[t.u]\np = 1\nq = 2";
        let over = "b = 2\nt.y = 20\nt.u.q = 30\nt.z = 3";
        assert_eq!(
            merged(base, over),
            "a=1\nb=2\nt.u.p=1\nt.u.q=30\nt.x=1\nt.y=20\nt.z=3"
        );
    }

    #[test]
    fn arrays_of_named_tables_merge_by_name_and_append_added_names() {
        let base = "[[pool]]\nname = \"a\"\nn = 1\nk = \"x\"\n[[pool]]\nname = \"b\"\nn = 2";
        // b's n changes, a is untouched, ccc is added and goes last (without its `add` key);
        // order of the base is kept.
        let over = "pool = [{ name = \"b\", n = 20 }, { name = \"ccc\", n = 3, add = true }]";
        assert_eq!(
            merged(base, over),
            "pool[0].k=\"x\"\npool[0].n=1\npool[0].name=\"a\"\n\
             pool[1].n=20\npool[1].name=\"b\"\n\
             pool[2].n=3\npool[2].name=\"ccc\""
        );
    }

    /// Merges `over` onto `base` and returns the issues met, as `path: message`.
    fn merge_issues(base: &str, over: &str) -> Vec<String> {
        let mut b = toml_span::parse(base).unwrap();
        let o = toml_span::parse(over).unwrap();
        let mut issues = Vec::new();
        merge(&mut b, o, "", &mut issues);
        issues
            .iter()
            .map(|i| format!("{}: {}", i.path, i.message))
            .collect()
    }

    #[test]
    fn a_name_the_base_lacks_or_a_name_given_twice_is_an_issue_not_an_element() {
        let base = "[[pool]]\nname = \"a10g\"\n[[pool]]\nname = \"t4\"\n\
                    [[pool.autoscaling.target_tracking]]\nname = \"util\"\ntarget = 1";
        // Another case, a letter changed, added or removed.
        for typo in ["a10G", "a11g", "a10gg", "a1g"] {
            assert_eq!(
                merge_issues(base, &format!("pool = [{{ name = \"{typo}\", n = 3 }}]")),
                [format!(
                    "pool[0].name: no pool named \"{typo}\"; there are: a10g, t4"
                )]
            );
        }
        assert_eq!(
            merge_issues(
                base,
                "pool = [{ name = \"t4\", n = 3 }, { name = \"t4\", n = 4 }]"
            ),
            ["pool[1].name: pool \"t4\" is given twice"]
        );
        // At every depth: a policy is named like a pool is.
        assert_eq!(
            merge_issues(
                base,
                "pool = [{ name = \"t4\", autoscaling = { target_tracking = [{ name = \"utl\" }] } }]"
            ),
            ["pool[0].autoscaling.target_tracking[0].name: no target tracking named \"utl\"; there are: util"]
        );
        // A name far from every other is refused too unless it says it is new; `add = true` on
        // a name the base has is refused.
        assert_eq!(
            merge_issues(base, "pool = [{ name = \"spot\" }]"),
            ["pool[0].name: no pool named \"spot\"; there are: a10g, t4"]
        );
        assert_eq!(
            merge_issues(base, "pool = [{ name = \"t4\", add = true }]"),
            ["pool[0].name: pool \"t4\" is already in the base scenario"]
        );
        let mut b = toml_span::parse(base).unwrap();
        let mut issues = Vec::new();
        merge(
            &mut b,
            toml_span::parse("pool = [{ name = \"a10G\" }, { name = \"spot\", add = true }]")
                .unwrap(),
            "",
            &mut issues,
        );
        assert_eq!(issues.len(), 1);
        let names: Vec<&str> = b
            .pointer("/pool")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .filter_map(name_of)
            .collect();
        assert_eq!(names, ["a10g", "t4", "spot"]);
    }

    #[test]
    fn other_values_and_arrays_replace() {
        // A scalar, an array of scalars, an array of unnamed tables, a type change, and an empty
        // array (which empties a named array rather than leaving it alone).
        let base = "s = 1\nv = [1, 2, 3]\nsteps = [{ at = 0 }, { at = 5 }]\nt = { x = 1 }\n\
                    pool = [{ name = \"a\" }]";
        let over = "s = \"one\"\nv = [9]\nsteps = [{ at = 7 }]\nt = 4\npool = []";
        assert_eq!(merged(base, over), "s=\"one\"\nsteps[0].at=7\nt=4\nv[0]=9");
    }

    #[test]
    fn changing_the_dns_policy_replaces_the_dns_table() {
        // A failover's TTL and health checks mean nothing to anycast (an error there).
        let base = "[dns]\npolicy = \"failover\"\nregions = [\"a\", \"b\"]\nttl = \"60s\"";
        let over = "dns = { policy = \"anycast\", regions = [\"a\", \"b\"] }";
        assert_eq!(
            merged(base, over),
            "dns.policy=\"anycast\"\ndns.regions[0]=\"a\"\ndns.regions[1]=\"b\""
        );
    }

    #[test]
    fn changing_a_tables_kind_replaces_it() {
        let base = "[c]\nservice = { distribution = \"lognormal\", mean = \"1s\", cv = 0.5 }\n\
                    [balancer]\nalgorithm = \"power_of_two_choices\"\nchoice_count = 3";
        // The lognormal's cv and P2C's choice_count do not survive a change of kind...
        let over = "c.service = { distribution = \"exponential\", mean = \"2s\" }\n\
                    balancer.algorithm = \"round_robin\"";
        assert_eq!(
            merged(base, over),
            "balancer.algorithm=\"round_robin\"\n\
             c.service.distribution=\"exponential\"\nc.service.mean=\"2s\""
        );
        // ...but the same kind merges.
        let same = "c.service = { distribution = \"lognormal\", cv = 0.9 }";
        assert_eq!(
            merged(base, same),
            "balancer.algorithm=\"power_of_two_choices\"\nbalancer.choice_count=3\n\
             c.service.cv=0.9\nc.service.distribution=\"lognormal\"\nc.service.mean=\"1s\""
        );
    }

    #[test]
    fn rate_and_profile_replace_each_other() {
        let base = "[traffic]\nrate = \"10/s\"\nusers = 5";
        let over = "traffic.profile = { kind = \"constant\", rate = \"20/s\" }";
        assert_eq!(
            merged(base, over),
            "traffic.profile.kind=\"constant\"\ntraffic.profile.rate=\"20/s\"\ntraffic.users=5"
        );
    }

    #[test]
    fn a_key_of_another_alternative_drops_the_bases() {
        // Setting `hpa` drops the AWS policies and their settings, but not the bounds; setting
        // `recurrence` drops `at`. Setting a key of the same alternative drops nothing.
        let base = "[a]\nmin = 1\nmetric_period = \"30s\"\ntarget_tracking = [{ target = 1 }]\n\
                    [s]\nat = \"1h\"\ndesired = 2";
        let over = "a.hpa = { sync_period = \"5s\" }\ns.recurrence = \"0 9 * * *\"";
        assert_eq!(
            merged(base, over),
            "a.hpa.sync_period=\"5s\"\na.min=1\ns.desired=2\ns.recurrence=\"0 9 * * *\""
        );
        let same = "a.step = [{ threshold = 5 }]";
        assert_eq!(
            merged(base, same),
            "a.metric_period=\"30s\"\na.min=1\na.step[0].threshold=5\na.target_tracking[0].target=1\n\
             s.at=\"1h\"\ns.desired=2"
        );
    }

    #[test]
    fn replaced_values_keep_the_variants_span_and_merged_tables_the_bases() {
        let text = "[t]\nx = 1\ny = 2\n[[variant]]\nname = \"v\"\nt.y = 3\n";
        let mut doc = toml_span::parse(text).unwrap();
        let t_span = doc.pointer("/t").unwrap().span;
        let (_, mut variants) = take_key(&mut doc, "variant").unwrap();
        let ValueInner::Array(mut items) = variants.take() else {
            panic!("an array")
        };
        let mut v = items.remove(0);
        take_key(&mut v, "name");
        merge(&mut doc, v, "", &mut Vec::new());
        let y = doc.pointer("/t/y").unwrap();
        assert_eq!(&text[y.span.start..y.span.end], "3");
        let x = doc.pointer("/t/x").unwrap();
        assert_eq!(&text[x.span.start..x.span.end], "1");
        assert_eq!(doc.pointer("/t").unwrap().span, t_span);
    }
}
