//! `--set path=v1,v2,...`: a grid of overrides that multiplies a scenario's runs. Each axis is
//! a dotted path into the scenario file and a list of values; each point of the grid (one value
//! per axis) is merged onto every run (the base and each variant) exactly as a `[[variant]]`
//! table would be, so the reader and validator judge the result like any file.
//!
//! A path names table keys; inside a list of named tables (`[[pool]]`, `[[class]]`, ...) the
//! next segment is the element's `name`: `balancer.algorithm`, `pool.gpu.instances`,
//! `pool.gpu.autoscaling.max`. A value is TOML (`10`, `0.5`, `true`, `"30s"`), and a bare word
//! that is not TOML is a string (`least_connections`, `30s`).
//!
//! The overrides are written as TOML text appended to the file (a `[__grid]` table, each value
//! on a line of its own) and parsed with it, so that every value has a span in one text; a
//! problem with one is reported as coming from its `--set` (`--set pool.gpu.max=abc: ...`).
//! An argument that is not `path=values` is a [`GridError`] naming it.

use std::collections::HashMap;

use toml_span::value::{Value, ValueInner};

mod fragment;

use super::diagnostics::{shorten, Diagnostic};
use super::variants::merge::take_key;
use fragment::{fragment, toml_value};

/// The key of the table the grid's points are appended as.
const GRID_KEY: &str = "__grid";

/// The most points a grid may have: each is a whole scenario validated and kept in memory,
/// times the base and every variant.
pub const MAX_POINTS: u64 = 10_000;

/// True when two `--set` values are the same value: the same TOML (`30s` and `"30s"` are one
/// string), or numbers that are equal (`1`, `1.0` and `1e0`).
fn same_value(a: &str, b: &str) -> bool {
    let (a, b) = (toml_value(a), toml_value(b));
    if a == b {
        return true;
    }
    let number = |t: &str| t.replace('_', "").parse::<f64>().ok();
    matches!((number(&a), number(&b)), (Some(x), Some(y)) if x == y)
}

/// `text` with every character other than letters, digits and `._-=` made `_`: a folder name.
fn folder_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-=".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The axes of a grid; empty: no grid.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grid {
    axes: Vec<Axis>,
}

/// One `--set path=v1,v2`.
#[derive(Debug, Clone, PartialEq)]
struct Axis {
    path: Vec<String>,
    values: Vec<String>,
}

/// One point of the grid: a value per axis.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Point {
    /// `(key, value)` per axis, as run names show them.
    settings: Vec<(String, String)>,
    /// `path=value` per axis, as the `--set` arguments wrote them.
    sets: Vec<String>,
}

/// A `--set` argument that cannot be read, named as it was written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("--set {set}: {message}\n  help: {help}")]
pub struct GridError {
    /// The argument, escaped and cut short if long.
    pub set: String,
    /// What is wrong with it.
    pub message: String,
    /// How to write it.
    pub help: String,
}

/// Where the values of a grid were appended: the `--set path=value` each appended line comes
/// from, by 1-based line of the combined text.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct GridLines {
    origins: HashMap<usize, String>,
}

impl GridLines {
    /// The `--set path=value` that wrote line `line`, if a `--set` did.
    pub(super) fn origin(&self, line: usize) -> Option<&str> {
        self.origins.get(&line).map(String::as_str)
    }
}

const SET_EXAMPLE: &str = "write --set PATH=VALUE[,VALUE...], such as --set balancer.algorithm=round_robin,least_connections or --set pool.gpu.instances=2,4";

impl Grid {
    /// Reads the `--set` arguments, each `path=v1,v2,...`.
    pub fn parse(sets: &[String]) -> Result<Grid, GridError> {
        let mut axes: Vec<Axis> = Vec::new();
        for set in sets {
            let axis = Axis::parse(set)?;
            if let Some(other) = axes.iter().find(|a| a.path == axis.path) {
                let path = axis.path.join(".");
                let (theirs, mine) = (other.values.join(","), axis.values.join(","));
                return Err(GridError {
                    set: shorten(set, 200).into_owned(),
                    message: format!("{path} is already set by --set {path}={theirs}"),
                    help: format!(
                        "give the path once, with all its values: --set {path}={theirs},{mine}"
                    ),
                });
            }
            axes.push(axis);
        }
        let points = axes
            .iter()
            .try_fold(1u64, |n, a| n.checked_mul(a.values.len() as u64))
            .unwrap_or(u64::MAX);
        if points > MAX_POINTS {
            return Err(GridError {
                set: shorten(&sets.join(" --set "), 200).into_owned(),
                message: format!(
                    "the --set values make {} grid points, more than the {MAX_POINTS} one sweep may have",
                    if points == u64::MAX {
                        "too many".to_string()
                    } else {
                        points.to_string()
                    }
                ),
                help: "fewer values per --set, or split the sweep into several".into(),
            });
        }
        let grid = Grid { axes };
        grid.check_run_names()?;
        Ok(grid)
    }

    /// Two values that differ only in characters a folder name cannot hold would name their
    /// runs alike, and be mixed as one run: an error naming the axis.
    fn check_run_names(&self) -> Result<(), GridError> {
        let keys = self.keys();
        for (a, axis) in self.axes.iter().enumerate() {
            for (i, v) in axis.values.iter().enumerate() {
                let name = |v: &str| folder_name(&format!("{}={v}", keys[a]));
                if let Some(w) = axis.values[..i].iter().find(|w| name(w) == name(v)) {
                    return Err(GridError {
                        set: shorten(
                            &format!("{}={}", axis.path.join("."), axis.values.join(",")),
                            200,
                        )
                        .into_owned(),
                        message: format!(
                            "the values {w} and {v} both name their runs \"+{}\"",
                            name(v)
                        ),
                        help: "runs are named by their values, with characters other than letters, digits and ._-= written _: give values that differ in those".into(),
                    });
                }
            }
        }
        Ok(())
    }

    /// True without any axis.
    pub fn is_empty(&self) -> bool {
        self.axes.is_empty()
    }

    /// Every point, the first axis varying slowest.
    fn points(&self) -> Vec<Vec<usize>> {
        let mut points = vec![Vec::new()];
        for axis in &self.axes {
            points = points
                .into_iter()
                .flat_map(|p| {
                    (0..axis.values.len()).map(move |i| {
                        let mut q = p.clone();
                        q.push(i);
                        q
                    })
                })
                .collect();
        }
        points
    }

    /// The key each axis shows in run names: its last segment, or its whole path when two axes
    /// share a last segment.
    fn keys(&self) -> Vec<String> {
        let last = |a: &Axis| a.path.last().cloned().unwrap_or_default();
        self.axes
            .iter()
            .map(|a| {
                let shared = self.axes.iter().filter(|b| last(b) == last(a)).count() > 1;
                if shared {
                    a.path.join(".")
                } else {
                    last(a)
                }
            })
            .collect()
    }

    /// `text` with the grid's points appended as TOML, the points in order, and which `--set`
    /// wrote each appended line. Without axes, `text` itself and one empty point. A path that
    /// does not fit the file is an error naming its `--set`.
    pub(super) fn append_to(
        &self,
        text: &str,
    ) -> Result<(String, Vec<Point>, GridLines), Vec<Diagnostic>> {
        let points = self.points();
        let keys = self.keys();
        let described: Vec<Point> = points
            .iter()
            .map(|p| Point {
                settings: p
                    .iter()
                    .enumerate()
                    .map(|(a, &v)| (keys[a].clone(), self.axes[a].values[v].clone()))
                    .collect(),
                sets: p
                    .iter()
                    .enumerate()
                    .map(|(a, &v)| self.axes[a].set(v))
                    .collect(),
            })
            .collect();
        if self.axes.is_empty() {
            return Ok((text.to_string(), described, GridLines::default()));
        }
        // The file's own structure says which segments are list elements; a file that does not
        // parse is reported by the caller.
        let Ok(doc) = toml_span::parse(text) else {
            return Ok((text.to_string(), described, GridLines::default()));
        };
        let mut fragments: Vec<Vec<String>> = Vec::new();
        let mut problems = Vec::new();
        for axis in &self.axes {
            let mut per_value = Vec::new();
            for (k, value) in axis.values.iter().enumerate() {
                match fragment(Some(&doc), &axis.path, &toml_value(value)) {
                    Ok(f) => per_value.push(f),
                    Err(m) => problems.push(Diagnostic {
                        path: shorten(&axis.path.join("."), 200).into_owned(),
                        position: None,
                        message: format!("--set {}: {m}", axis.set(k)),
                        help: Some(
                            "a path names table keys and, inside a list of tables such as [[pool]], the element's name: pool.gpu.instances".into(),
                        ),
                    }),
                }
            }
            fragments.push(per_value);
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut out = String::from(text);
        out.push_str(&format!("\n[{GRID_KEY}]\npoints = [\n"));
        // Each value on its own line, so that a problem's line says which `--set` wrote it.
        let mut origins = HashMap::new();
        let mut newlines = out.bytes().filter(|&b| b == b'\n').count();
        for p in &points {
            out.push_str("  [\n");
            newlines += 1;
            for (a, &v) in p.iter().enumerate() {
                // The fragment is on the line after the newlines so far; it has none itself.
                origins.insert(newlines + 1, self.axes[a].set(v));
                out.push_str(&format!("    {},\n", fragments[a][v]));
                newlines += 1;
            }
            out.push_str("  ],\n");
            newlines += 1;
        }
        out.push_str("]\n");
        Ok((out, described, GridLines { origins }))
    }
}

impl Axis {
    /// Reads one `--set` argument, `path=v1,v2,...`.
    fn parse(set: &str) -> Result<Axis, GridError> {
        let error = |message: String, help: &str| GridError {
            set: shorten(set, 200).into_owned(),
            message,
            help: help.to_string(),
        };
        let (path, values) = set.split_once('=').ok_or_else(|| {
            error(
                "expected a path, `=` and values, found no `=`".into(),
                SET_EXAMPLE,
            )
        })?;
        let path: Vec<String> = path.trim().split('.').map(str::to_string).collect();
        if path.iter().any(|p| p.is_empty()) {
            return Err(error(
                "the path has an empty segment".into(),
                "a path is keys joined by single dots, such as pool.gpu.instances",
            ));
        }
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
        if let Some(k) = values.iter().position(String::is_empty) {
            return Err(error(
                format!("value {} of {} is empty", k + 1, values.len()),
                "separate values with single commas, with none at either end: --set pool.gpu.instances=2,4",
            ));
        }
        // A value given twice would make two runs of one name, which the sweep would then
        // average as replications of one run (issue 14, item 12).
        for (i, v) in values.iter().enumerate() {
            if let Some(w) = values[..i].iter().find(|w| same_value(w, v)) {
                return Err(error(
                    format!(
                        "the value {v} is given twice ({})",
                        if w == v {
                            format!("as {w}")
                        } else {
                            format!("as {w} and as {v}")
                        }
                    ),
                    "give each value once: two runs of the same value would be averaged as if they were replications; use --replications for those",
                ));
            }
        }
        Ok(Axis { path, values })
    }

    /// `--set path=value` of value `k`, for messages (escaped, a long one cut short).
    fn set(&self, k: usize) -> String {
        let written = format!("{}={}", self.path.join("."), self.values[k]);
        format!("--set {}", shorten(&written, 200))
    }
}

impl Point {
    /// `--set path=value --set ...`, the arguments that make this point, for messages.
    pub(super) fn sets(&self) -> String {
        self.sets.join(" ")
    }

    /// The name of `run` at this point: `run+key=value+...`, characters outside letters,
    /// digits and `._-=` made `_` so that it names a folder.
    pub(super) fn run_name(&self, run: &str) -> String {
        let mut name = run.to_string();
        for (k, v) in &self.settings {
            name.push('+');
            name.push_str(&folder_name(&format!("{k}={v}")));
        }
        name
    }
}

/// Takes the grid's points off a document parsed from [`Grid::append_to`]'s text: per point, the
/// override tables to merge in order. Without a grid, one empty point.
pub(super) fn take_points<'de>(doc: &mut Value<'de>) -> Vec<Vec<Value<'de>>> {
    let Some((_, mut grid)) = take_key(doc, GRID_KEY) else {
        return vec![Vec::new()];
    };
    let Some((_, mut points)) = take_key(&mut grid, "points") else {
        return vec![Vec::new()];
    };
    match points.take() {
        ValueInner::Array(points) => points
            .into_iter()
            .map(|mut p| match p.take() {
                ValueInner::Array(values) => values.into_iter().collect(),
                _ => Vec::new(),
            })
            .collect(),
        _ => vec![Vec::new()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str =
        "[balancer]\nalgorithm = \"random\"\n[[pool]]\nname = \"gpu\"\ninstances = 2\n";

    #[test]
    fn paths_become_inline_overrides_with_list_elements_by_name() {
        let doc = toml_span::parse(FILE).unwrap();
        let f = |path: &str, v: &str| {
            let path: Vec<String> = path.split('.').map(String::from).collect();
            fragment(Some(&doc), &path, &toml_value(v))
        };
        assert_eq!(
            f("balancer.algorithm", "least_connections").unwrap(),
            "{ balancer = { algorithm = \"least_connections\" } }"
        );
        assert_eq!(
            f("pool.gpu.autoscaling.max", "10").unwrap(),
            "{ pool = [{ name = \"gpu\", autoscaling = { max = 10 } }] }"
        );
        assert_eq!(f("timeout", "30s").unwrap(), "{ timeout = \"30s\" }");
        assert!(f("pool.cpu.instances", "3")
            .unwrap_err()
            .to_string()
            .contains("there are: gpu"));
        assert!(f("pool.gpu", "3")
            .unwrap_err()
            .to_string()
            .contains("list of tables"));
    }

    #[test]
    fn points_multiply_with_the_first_axis_slowest_and_name_runs() {
        let grid = Grid::parse(&[
            "balancer.algorithm=random,least_connections".into(),
            "pool.gpu.instances=2,4".into(),
        ])
        .unwrap();
        let (text, points, lines) = grid.append_to(FILE).unwrap();
        // Each value on its own line, known by the `--set` that wrote it; the file's lines
        // by none.
        let at = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
        assert_eq!(lines.origin(at("instances = 2")), None);
        assert_eq!(
            lines.origin(at("instances = 4")),
            Some("--set pool.gpu.instances=4")
        );
        assert_eq!(
            lines.origin(at("\"least_connections\"")),
            Some("--set balancer.algorithm=least_connections")
        );
        assert_eq!(points.len(), 4);
        assert_eq!(
            points[1].run_name("base"),
            "base+algorithm=random+instances=4"
        );
        let mut doc = toml_span::parse(&text).unwrap();
        let values = take_points(&mut doc);
        assert_eq!(values.len(), 4);
        assert!(values.iter().all(|v| v.len() == 2));
        // The file itself is untouched by taking the points off.
        assert!(doc.as_table().unwrap().get(GRID_KEY).is_none());
    }

    /// Regression (issue 14, item 12): `--set x=1,1` made two runs named alike, which the
    /// sweep averaged as two replications of one run.
    #[test]
    fn a_value_given_twice_is_refused_naming_the_set() {
        for (sets, expected) in [
            (
                vec!["pool.gpu.instances=2,4,2"],
                "the value 2 is given twice (as 2)",
            ),
            (
                vec!["timeout=30s,\"30s\""],
                "is given twice (as 30s and as \"30s\")",
            ),
            (vec!["traffic.amplitude=0.5,5e-1"], "is given twice"),
            (
                vec!["duration=10m", "duration=20m"],
                "duration is already set by --set duration=10m",
            ),
            (
                vec!["name=a b,a_b"],
                "the values a b and a_b both name their runs \"+name=a_b\"",
            ),
        ] {
            let sets: Vec<String> = sets.into_iter().map(String::from).collect();
            let err = Grid::parse(&sets).unwrap_err().to_string();
            assert!(err.contains(expected), "{sets:?}: {err}");
            assert!(err.starts_with("--set "), "{err}");
            assert!(err.contains("\n  help: "), "{err}");
        }
        // Values that differ are fine, and so is one path under two lists.
        assert!(Grid::parse(&["timeout=30s,31s".into(), "pool.gpu.instances=1,10".into()]).is_ok());
    }

    #[test]
    fn a_grid_of_too_many_points_is_refused_before_it_is_made() {
        let ten = "a=0,1,2,3,4,5,6,7,8,9";
        let sets: Vec<String> = ["a", "b", "c", "d"]
            .iter()
            .map(|k| ten.replacen('a', k, 1))
            .collect();
        assert!(Grid::parse(&sets).is_ok(), "10,000 points are allowed");
        let mut more = sets.clone();
        more.push("e=0,1".into());
        let err = Grid::parse(&more).unwrap_err().to_string();
        assert!(err.contains("20000 grid points"), "{err}");
        // Twenty axes of ten values would be 1e20 points: refused, never counted out.
        let huge: Vec<String> = (0..20)
            .map(|i| ten.replacen('a', &format!("k{i}"), 1))
            .collect();
        assert!(Grid::parse(&huge)
            .unwrap_err()
            .to_string()
            .contains("too many"));
    }

    #[test]
    fn malformed_sets_are_refused_naming_the_argument_with_a_hint() {
        for (set, says) in [
            ("balancer.algorithm", "found no `=`"),
            ("a..b=1", "empty segment"),
            ("a=1,,2", "value 2 of 3 is empty"),
        ] {
            let e = Grid::parse(&[set.into()]).unwrap_err().to_string();
            assert!(e.starts_with(&format!("--set {set}: ")), "{e}");
            assert!(e.contains(says), "{e}");
            assert!(e.contains("\n  help: "), "{e}");
        }
        // A hostile argument is escaped and cut short.
        let long = format!("a\u{1b}[2J{}", "x".repeat(100_000));
        let e = Grid::parse(&[long]).unwrap_err().to_string();
        assert!(e.len() < 1_000 && !e.contains('\u{1b}'), "{e}");
    }

    #[test]
    fn a_value_that_is_not_one_toml_value_on_one_line_is_a_string() {
        assert_eq!(toml_value("10"), "10");
        assert_eq!(toml_value("[1, 2]"), "[1, 2]");
        assert_eq!(toml_value("30s"), "\"30s\"");
        assert_eq!(toml_value("{ a = 1 }"), "{ a = 1 }");
        // TOML after `v = `, but not one value: it would change the appended table.
        assert_eq!(toml_value("1\n[x]"), "\"1\\u000A[x]\"");
        assert_eq!(toml_value("1 # x"), "\"1 # x\"");
        assert_eq!(toml_value("1, y = 2"), "\"1, y = 2\"");
        assert_eq!(toml_value("a\"b\\"), "\"a\\\"b\\\\\"");
    }
}
