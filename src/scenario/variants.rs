//! `[[variant]]` tables: partial scenarios deep-merged onto the base scenario, each checked as a
//! whole scenario of its own.
//!
//! The merge works on the spanned TOML tree (`toml_span::Value`) *before* stage one, so the
//! ordinary reader and validator check every merged document exactly as they check a file, and
//! every value keeps the span of the text that wrote it: a bad value inside a variant is reported
//! at the variant's line and column. The `variant` key is taken off the root first, so stage one
//! never learns that variants exist.
//!
//! The merge follows kustomize's 2-way merge (kubernetes-sigs/kustomize,
//! `cmd/config/docs/api-conventions/merge2.md`): maps merge field by field, a list whose elements
//! all carry an associative key (here only `name`) merges element by element, and other lists are
//! replaced, as in JSON Merge Patch (RFC 7396). Unlike kustomize, a new element is appended only
//! when it says so (`add = true`): a name the base lacks is otherwise a typo, refused. And,
//! a value cannot be deleted (there is no `null` in TOML), except by the two rules below that
//! follow from the format: a change of a table's kind, and keys that are alternatives to each
//! other (`rate`/`profile`, an autoscaler's controllers).
//!
//! It must not know the scenario's fields beyond the few key names its merge rules need (`name`,
//! the kind keys, the alternatives): everything else is judged by the reader and
//! the validator, as in any file. The rules are documented in `docs/scenario-format.md`.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use toml_span::value::{Array, Key, Table, Value, ValueInner};

use super::diagnostics::{Diagnostic, ScenarioError};
use super::reader::{self, Node, Reader};
use super::typed::Scenario;

/// Name of the base scenario's run, beside its variants.
pub const BASE_NAME: &str = "base";

/// Why `name` cannot name a run beside others in a result folder: the base's run name, or the
/// name of a file or folder the result folder holds (`report::layout`, the list the writers take
/// their names from), ignoring case as case-insensitive file systems do.
fn name_clash(name: &str) -> Option<String> {
    if name.eq_ignore_ascii_case(BASE_NAME) {
        return Some(format!("the base scenario's run, \"{BASE_NAME}\""));
    }
    crate::report::layout::clash(name)
}

/// A problem met while merging a variant or a `--set` point onto a document: reported at the
/// value's span once the reader of the merged document exists.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct MergeIssue {
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

/// A scenario file with its variants: the base and each `[[variant]]` merged onto it, every one
/// validated. A file without variants is a set with only a base.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioSet {
    /// The base run's name: [`BASE_NAME`], or with `--set` its first grid point's.
    pub base_name: String,
    /// The scenario as written, without its variants. Its run is named `base_name`.
    pub base: Scenario,
    /// The variants, in file order.
    pub variants: Vec<Variant>,
}

/// One `[[variant]]`: its name and the whole scenario it makes once merged onto the base.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// The variant's `name`: unique, not `base`, usable as a folder name.
    pub name: String,
    /// The base with the variant's values merged in. Its `name` is the base scenario's.
    pub scenario: Scenario,
}

impl ScenarioSet {
    /// Reads and validates the scenario file at `path`, with its variants.
    pub fn load(path: &Path) -> Result<ScenarioSet, ScenarioError> {
        ScenarioSet::parse(&super::file::read_file(path)?, path)
    }

    /// As [`ScenarioSet::load`], every run multiplied by the points of `grid`.
    pub fn load_with(path: &Path, grid: &super::grid::Grid) -> Result<ScenarioSet, ScenarioError> {
        ScenarioSet::parse_with(&super::file::read_file(path)?, path, grid)
    }

    /// Validates scenario text and every variant in it; `path` names it in messages and anchors
    /// relative data paths. Every problem of the base and of every variant is reported together;
    /// a problem of the base is reported once, not once per variant.
    pub fn parse(text: &str, path: &Path) -> Result<ScenarioSet, ScenarioError> {
        ScenarioSet::parse_with(text, path, &super::grid::Grid::default())
    }

    /// As [`ScenarioSet::parse`], with every run multiplied by the points of `grid` (`--set`
    /// overrides): each run and grid point is a run named `<run>+<key>=<value>...`.
    pub fn parse_with(
        text: &str,
        path: &Path,
        grid: &super::grid::Grid,
    ) -> Result<ScenarioSet, ScenarioError> {
        let error = |diagnostics| ScenarioError {
            file: path.to_path_buf(),
            diagnostics,
        };
        // The grid's overrides are parsed with the file, as a table appended to it, so that
        // every value keeps a span in one text; problems found there name the `--set`.
        let (combined, points, grid_lines) = match grid.append_to(text) {
            Ok(ok) => ok,
            Err(diagnostics) => return Err(error(diagnostics)),
        };
        let mut doc = match toml_span::parse(&combined) {
            Ok(doc) => doc,
            Err(e) => {
                let mut r = Reader::new(text);
                reader::syntax_error(&mut r, &e);
                return Err(error(r.into_diagnostics()));
            }
        };
        let grid_values = super::grid::take_points(&mut doc);
        let mut heads_reader = Reader::new(&combined);
        let heads = read_heads(&mut heads_reader, &doc);
        let variant_values = take_key(&mut doc, "variant").map(|(_, v)| v);

        let items = match variant_values.map(|mut v| v.take()) {
            Some(ValueInner::Array(items)) => items,
            _ => Vec::new(),
        };
        // Every run's document before the grid, with the problems its merge met: the base, then
        // each usable variant.
        let mut runs: Vec<(String, String, Value<'_>, Vec<MergeIssue>)> = vec![(
            BASE_NAME.to_string(),
            String::new(),
            deep_clone(&doc),
            Vec::new(),
        )];
        // Sets, not lists, so that a file with many problems is deduplicated in linear time.
        let mut diagnostics = heads_reader.into_diagnostics();
        let mut reported: HashSet<Diagnostic> = diagnostics.iter().cloned().collect();
        for (head, mut item) in heads.into_iter().zip(items) {
            // Items that are not tables were reported by `read_heads`.
            let Some(head) = head else { continue };
            take_key(&mut item, "name");
            // Reported by `read_heads`; left in, it would also be an unknown key of the merge.
            take_key(&mut item, "variant");
            let mut merged = deep_clone(&doc);
            let mut issues = Vec::new();
            merge(&mut merged, item, "", &mut issues);
            let name = head.name.clone().unwrap_or_default();
            runs.push((name, head.label, merged, issues));
        }
        let mut base_diagnostics: HashSet<Diagnostic> = HashSet::new();
        let mut built: Vec<(String, Option<Scenario>)> = Vec::new();
        for (r_index, (name, label, run_doc, run_issues)) in runs.iter().enumerate() {
            // With a grid, the run is also read without it: a problem it has alone is the
            // file's, reported as such; a problem only a grid point has comes from that point's
            // `--set` values. (Only problems some grid point has are reported: a `--set` may
            // well mend the file.)
            let alone: HashSet<Diagnostic> = if grid.is_empty() {
                HashSet::new()
            } else {
                let mut r = Reader::new(&combined);
                report_merge_issues(&mut r, run_issues.iter().cloned());
                super::validate::from_document(&mut r, run_doc, path);
                r.into_diagnostics().into_iter().collect()
            };
            for (point, values) in points.iter().zip(grid_values.iter()) {
                let mut merged = deep_clone(run_doc);
                let mut issues = run_issues.clone();
                for v in values {
                    merge(&mut merged, deep_clone(v), "", &mut issues);
                }
                let mut r = Reader::new(&combined);
                report_merge_issues(&mut r, issues);
                // The merged document without the elements refused is still read, so that every
                // other problem is reported too; a run with a problem does not run.
                let scenario = super::validate::from_document(&mut r, &merged, path);
                for mut d in r.into_diagnostics() {
                    let origin = d.position.and_then(|(line, _)| grid_lines.origin(line));
                    if let Some(set) = origin {
                        // The value came from a `--set`: it has no place in the file.
                        d.position = None;
                        d.message = format!("{set}: {}", d.message);
                    } else if !grid.is_empty() && !alone.contains(&d) {
                        // The merged scenario is wrong only with these values.
                        d.message = format!("with {}: {}", point.sets(), d.message);
                    }
                    if r_index == 0 {
                        base_diagnostics.insert(d.clone());
                    } else if base_diagnostics.contains(&d) {
                        // Untouched parts of the base give the base's own diagnostics again.
                        continue;
                    } else {
                        d.message = format!("in {label}: {}", d.message);
                    }
                    if reported.insert(d.clone()) {
                        diagnostics.push(d);
                    }
                }
                if !name.is_empty() {
                    built.push((point.run_name(name), scenario));
                }
            }
        }
        if !grid.is_empty() {
            // `--set` makes the run names: check them as `read_heads` checks variants' names.
            for d in grid_run_name_problems(built.iter().map(|(n, _)| n.as_str())) {
                if !diagnostics.contains(&d) {
                    diagnostics.push(d);
                }
            }
        }
        let mut built = built.into_iter();
        match built.next() {
            Some((base_name, Some(base))) if diagnostics.is_empty() => Ok(ScenarioSet {
                base_name,
                base,
                variants: built
                    .filter_map(|(name, s)| s.map(|scenario| Variant { name, scenario }))
                    .collect(),
            }),
            _ => {
                // Each reader sorted its own; all of them together sort by position, the
                // problems without one last (a stable sort keeps the order of equals).
                diagnostics.sort_by_key(|d| d.position.unwrap_or((usize::MAX, usize::MAX)));
                Err(error(diagnostics))
            }
        }
    }

    /// Every run in order: the base, named [`BASE_NAME`] (or its grid point's name), then each
    /// variant.
    pub fn runs(&self) -> Vec<(&str, &Scenario)> {
        std::iter::once((self.base_name.as_str(), &self.base))
            .chain(self.variants.iter().map(|v| (v.name.as_str(), &v.scenario)))
            .collect()
    }

    /// The base alone, or an error if the file has variants (which the caller would otherwise
    /// silently not run).
    pub(super) fn into_single(self, path: &Path) -> Result<Scenario, ScenarioError> {
        if self.variants.is_empty() {
            return Ok(self.base);
        }
        Err(ScenarioError {
            file: path.to_path_buf(),
            diagnostics: vec![Diagnostic {
                path: "variant".into(),
                position: None,
                message: format!(
                    "this file has {} variants, and Scenario::parse reads one scenario",
                    self.variants.len()
                ),
                help: Some(
                    "load it with ScenarioSet::load, which reads the base and every variant (as `fleetsim run` does)"
                        .into(),
                ),
            }],
        })
    }
}

/// What was read of one `[[variant]]` table before merging.
struct Head {
    /// How messages name it: `variant "p2c"`, or `variant[2]` when its name is unusable.
    label: String,
    /// Its name, if present, usable and not taken.
    name: Option<String>,
}

/// Reads each `[[variant]]` table's name and checks the names; one entry per array element,
/// `None` for an element that is not a table. Nothing if there are no variants.
fn read_heads(r: &mut Reader<'_>, doc: &Value<'_>) -> Vec<Option<Head>> {
    // A root that is not a table is stage one's to report.
    if doc.as_table().is_none() {
        return Vec::new();
    }
    let Some(mut root) = r.table(Node::root(doc), "a table of scenario settings") else {
        return Vec::new();
    };
    let node = root.get("variant");
    // The other keys are stage one's.
    root.skip_rest();
    let Some(node) = node else {
        return Vec::new();
    };
    let Some(items) = r.array(&node, "an array of tables, written [[variant]]") else {
        return Vec::new();
    };
    // Names seen, by their lower case (folders of names differing only in case collide).
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut heads = Vec::new();
    for item in items {
        let path = item.path().to_string();
        let Some(mut f) = r.table(item, "a variant table, written [[variant]]") else {
            heads.push(None);
            continue;
        };
        let name = f
            .required(
                r,
                "name",
                "name the variant, such as name = \"p2c\" (it names the folder of its results)",
            )
            .and_then(|n| r.name(&n));
        if let Some(n) = f.get("variant") {
            r.error_at(
                n.path().to_string(),
                Some(n.span()),
                "a variant cannot have variants of its own",
                Some("write every variant as a [[variant]] table of the file".into()),
            );
        }
        // Every other key is an override: the reader judges it in the merged document.
        f.skip_rest();
        let label = match &name {
            Some(n) => format!("variant \"{}\"", n.value),
            None => path,
        };
        let name = name.and_then(|n| {
            if let Some(taken) = name_clash(&n.value) {
                r.error(
                    &n,
                    format!(
                        "a variant cannot be named \"{}\": its folder would be taken for {taken}",
                        n.value
                    ),
                    Some(format!(
                        "choose another name: the base scenario runs as \"{BASE_NAME}\", and {} and rep-<k> sit in the result folder (names are compared ignoring case)",
                        crate::report::layout::WRITTEN
                            .iter()
                            .filter(|w| !w.starts_with('.'))
                            .copied()
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
                None
            } else if let Some(other) = seen.get(&n.value.to_lowercase()) {
                let (message, help) = if *other == n.value {
                    (
                        format!("variant \"{}\" is defined twice", n.value),
                        "give each variant its own name".to_string(),
                    )
                } else {
                    (
                        format!(
                            "variant \"{}\" differs from variant \"{other}\" only in case",
                            n.value
                        ),
                        "give each variant a name of its own in any case: on a case-insensitive file system (macOS, Windows) both would write one folder".to_string(),
                    )
                };
                r.error(&n, message, Some(help));
                None
            } else {
                seen.insert(n.value.to_lowercase(), n.value.clone());
                Some(n.value)
            }
        });
        heads.push(Some(Head { label, name }));
    }
    heads
}

/// Reports the problems a merge met (elements it refused) as diagnostics of `r`.
fn report_merge_issues(r: &mut Reader<'_>, issues: impl IntoIterator<Item = MergeIssue>) {
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
pub(super) fn take_key<'de>(value: &mut Value<'de>, key: &str) -> Option<(Key<'de>, Value<'de>)> {
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

pub(super) fn name_of<'v>(value: &'v Value<'_>) -> Option<&'v str> {
    value.as_table()?.get("name")?.as_str()
}

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
                let hint = match known.iter().find(|k| near_miss(k, &name)) {
                    Some(near) => format!(
                        "did you mean \"{near}\"? A variant changes the base's {what} of the same name; to add a new {what}, write `add = true` in it"
                    ),
                    None => format!(
                        "a variant changes the base's {what} of the same name; to add a new {what}, write `add = true` in it"
                    ),
                };
                issues.push(issue(
                    format!(
                        "no {what} named \"{name}\"; there are: {}",
                        if known.is_empty() { "none".to_string() } else { super::diagnostics::list(&known) }
                    ),
                    hint,
                ));
            }
        }
    }
}

/// Whether `new` (a name the base does not have) looks like a misspelling of `known`: the same
/// ignoring case, or one edit away (a letter added, removed or changed).
fn near_miss(known: &str, new: &str) -> bool {
    // Lengths further apart than one edit rule it out without the distance's table.
    if known.len().abs_diff(new.len()) > 1 {
        return false;
    }
    known.eq_ignore_ascii_case(new)
        || super::reader::edit_distance(&known.to_ascii_lowercase(), &new.to_ascii_lowercase()) <= 1
}

/// Problems with the run names that `--set` points make (`<run>+<key>=<value>...`): names too
/// long for a file system, names of a result folder's own files, and names differing only in
/// case from another run's.
fn grid_run_name_problems<'n>(names: impl Iterator<Item = &'n str>) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let problem = |message: String, help: &str| Diagnostic {
        path: "--set".into(),
        position: None,
        message,
        help: Some(help.into()),
    };
    for name in names {
        if name.len() > crate::report::layout::MAX_RUN_NAME {
            problems.push(problem(
                format!(
                    "the run name \"{}...\" that --set makes is {} bytes long, more than a file name can be ({})",
                    name.chars().take(40).collect::<String>(),
                    name.len(),
                    crate::report::layout::MAX_RUN_NAME
                ),
                "use fewer or shorter --set values, or shorter variant names",
            ));
        } else if let Some(taken) = name_clash(name).filter(|_| name != BASE_NAME) {
            problems.push(problem(
                format!("the run name \"{name}\" that --set makes would be taken for {taken}"),
                "rename the variant or change the --set value",
            ));
        }
        if let Some(other) = seen.iter().find(|s| s.eq_ignore_ascii_case(name)) {
            problems.push(problem(
                format!("--set makes two runs named \"{other}\" and \"{name}\", which differ only in case"),
                "give each --set value once, in one spelling: on a case-insensitive file system both runs would write one folder",
            ));
        }
        seen.push(name);
    }
    problems
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

    const BASE: &str = r#"name = "s"
duration = "1m"
[traffic]
rate = "10/s"
[[instance_type]]
name = "gpu"
concurrency = 2
price = "$1/h"
[[pool]]
name = "p"
instance_type = "gpu"
instances = 2
[[class]]
name = "a"
service = { distribution = "exponential", mean = "1s" }
"#;

    fn parse(text: &str) -> Result<ScenarioSet, ScenarioError> {
        ScenarioSet::parse(text, Path::new("v.toml"))
    }

    #[test]
    fn variants_become_whole_scenarios() {
        let text = format!(
            "{BASE}[[variant]]\nname = \"big\"\npool = [{{ name = \"p\", instances = 9 }}]\nseed = 5\n\
             [[variant]]\nname = \"p2c\"\nbalancer.algorithm = \"power_of_two_choices\"\n"
        );
        let set = parse(&text).unwrap();
        let names: Vec<&str> = set.runs().iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["base", "big", "p2c"]);
        let big = &set.variants[0].scenario;
        assert_eq!(
            (big.pools[0].instances, big.seed, big.name.as_str()),
            (9, 5, "s")
        );
        assert_eq!(set.base.pools[0].instances, 2);
        let algorithm = |s: &Scenario| s.target_groups[0].balancer.algorithm;
        assert!(matches!(
            algorithm(&set.variants[1].scenario),
            crate::model::balancer::Algorithm::PowerOfTwoChoices {
                choice_count: 2,
                ..
            }
        ));
        assert_ne!(algorithm(&set.variants[1].scenario), algorithm(&set.base));
        // Without variants, Scenario::parse reads the file; with them, it refuses.
        assert!(Scenario::parse(BASE, Path::new("v.toml")).is_ok());
        let e = Scenario::parse(&text, Path::new("v.toml")).unwrap_err();
        assert!(e.diagnostics[0].message.contains("2 variants"), "{e}");
    }

    #[test]
    fn a_variants_problem_is_placed_in_the_variant_and_a_bases_is_reported_once() {
        // The base's duration "0s" (line 2; toml-span's span of a string starts after its opening
        // quote, at column 13) is an error that both
        // variants leave alone: it must appear once, without a variant label. BASE has 15 lines,
        // so variant "y"'s inline pool is line 21, and its `instances = 0` puts the 0 at column
        // 35 of `pool = [{ name = "p", instances = 0 }]`.
        let text = format!(
            "{}[[variant]]\nname = \"x\"\nseed = 1\n[[variant]]\nname = \"y\"\n\
             pool = [{{ name = \"p\", instances = 0 }}]\n",
            BASE.replace("duration = \"1m\"", "duration = \"0s\"")
        );
        let e = parse(&text).unwrap_err();
        let lines: Vec<String> = e
            .diagnostics
            .iter()
            .map(|d| format!("{:?} {} {}", d.position, d.path, d.message))
            .collect();
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(
            lines[0].starts_with("Some((2, 13)) duration the duration"),
            "{lines:#?}"
        );
        assert!(
            lines[1].starts_with("Some((21, 35)) pool[0].instances in variant \"y\": expected"),
            "{lines:#?}"
        );
    }
}
