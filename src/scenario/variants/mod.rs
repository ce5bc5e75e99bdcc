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

pub(super) mod merge;
mod names;

use std::collections::HashSet;
use std::path::Path;

use toml_span::value::{Value, ValueInner};

use super::diagnostics::{Diagnostic, ScenarioError};
use super::grid::{Grid, GridLines, Point};
use super::reader::{self, Reader};
use super::typed::Scenario;
use merge::{deep_clone, merge, report_merge_issues, take_key, MergeIssue};
pub use names::BASE_NAME;
use names::{grid_run_name_problems, read_heads, Head};

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
    pub fn load_with(path: &Path, grid: &Grid) -> Result<ScenarioSet, ScenarioError> {
        ScenarioSet::parse_with(&super::file::read_file(path)?, path, grid)
    }

    /// Validates scenario text and every variant in it; `path` names it in messages and anchors
    /// relative data paths. Every problem of the base and of every variant is reported together;
    /// a problem of the base is reported once, not once per variant.
    pub fn parse(text: &str, path: &Path) -> Result<ScenarioSet, ScenarioError> {
        ScenarioSet::parse_with(text, path, &Grid::default())
    }

    /// As [`ScenarioSet::parse`], with every run multiplied by the points of `grid` (`--set`
    /// overrides): each run and grid point is a run named `<run>+<key>=<value>...`.
    pub fn parse_with(text: &str, path: &Path, grid: &Grid) -> Result<ScenarioSet, ScenarioError> {
        let error = |diagnostics| ScenarioError {
            file: path.to_path_buf(),
            diagnostics,
        };
        // The grid's overrides are parsed with the file, as a table appended to it, so that
        // every value keeps a span in one text; problems found there name the `--set`.
        let (combined, points, grid_lines) = grid.append_to(text).map_err(error)?;
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
        let runs = run_documents(&mut doc, heads);
        let mut found = Found::new(heads_reader.into_diagnostics());
        let grid = GridRuns {
            text: &combined,
            path,
            grid,
            points: &points,
            values: &grid_values,
            lines: &grid_lines,
        };
        let mut built: Vec<(String, Option<Scenario>)> = Vec::new();
        for (index, run) in runs.iter().enumerate() {
            grid.build(run, index, &mut found, &mut built);
        }
        let mut diagnostics = found.diagnostics;
        if !grid.grid.is_empty() {
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

/// One run's document before the grid: the base, or a variant merged onto it, with the
/// problems its merge met.
struct RunDocument<'de> {
    /// The run's name; empty for a variant whose name is unusable (it is read, not run).
    name: String,
    /// How messages name a variant: `variant "p2c"`.
    label: String,
    doc: Value<'de>,
    issues: Vec<MergeIssue>,
}

/// Every run's document before the grid: the base (`doc` without its `variant` key), then
/// each usable variant merged onto it.
fn run_documents<'de>(doc: &mut Value<'de>, heads: Vec<Option<Head>>) -> Vec<RunDocument<'de>> {
    let variant_values = take_key(doc, "variant").map(|(_, v)| v);
    let items = match variant_values.map(|mut v| v.take()) {
        Some(ValueInner::Array(items)) => items,
        _ => Vec::new(),
    };
    let mut runs = vec![RunDocument {
        name: BASE_NAME.to_string(),
        label: String::new(),
        doc: deep_clone(doc),
        issues: Vec::new(),
    }];
    for (head, mut item) in heads.into_iter().zip(items) {
        // Items that are not tables were reported by `read_heads`.
        let Some(head) = head else { continue };
        take_key(&mut item, "name");
        // Reported by `read_heads`; left in, it would also be an unknown key of the merge.
        take_key(&mut item, "variant");
        let mut merged = deep_clone(doc);
        let mut issues = Vec::new();
        merge(&mut merged, item, "", &mut issues);
        runs.push(RunDocument {
            name: head.name.clone().unwrap_or_default(),
            label: head.label,
            doc: merged,
            issues,
        });
    }
    runs
}

/// The problems of every run, each reported once. Sets, not lists, so that a file with many
/// problems is deduplicated in linear time.
struct Found {
    diagnostics: Vec<Diagnostic>,
    reported: HashSet<Diagnostic>,
    /// The base's own problems, which the untouched parts of every variant give again.
    base: HashSet<Diagnostic>,
}

impl Found {
    fn new(diagnostics: Vec<Diagnostic>) -> Found {
        Found {
            reported: diagnostics.iter().cloned().collect(),
            diagnostics,
            base: HashSet::new(),
        }
    }

    /// Records `d`, a problem of run `index` (0: the base) named `label` in messages.
    fn add(&mut self, mut d: Diagnostic, index: usize, label: &str) {
        if index == 0 {
            self.base.insert(d.clone());
        } else if self.base.contains(&d) {
            // Untouched parts of the base give the base's own diagnostics again.
            return;
        } else {
            d.message = format!("in {label}: {}", d.message);
        }
        if self.reported.insert(d.clone()) {
            self.diagnostics.push(d);
        }
    }
}

/// The grid's points, applied to each run's document.
struct GridRuns<'g, 'de> {
    /// The file with the grid's table appended: what every reader's positions refer to.
    text: &'g str,
    path: &'g Path,
    grid: &'g Grid,
    points: &'g [Point],
    /// Each point's values, to merge onto a run's document.
    values: &'g [Vec<Value<'de>>],
    lines: &'g GridLines,
}

impl GridRuns<'_, '_> {
    /// Reads `run` once per grid point (once if there is no grid), recording its problems in
    /// `found` and each point's scenario in `built` (if the run has a usable name).
    fn build(
        &self,
        run: &RunDocument<'_>,
        index: usize,
        found: &mut Found,
        built: &mut Vec<(String, Option<Scenario>)>,
    ) {
        let alone = self.problems_alone(run);
        for (point, values) in self.points.iter().zip(self.values.iter()) {
            let mut merged = deep_clone(&run.doc);
            let mut issues = run.issues.clone();
            for v in values {
                merge(&mut merged, deep_clone(v), "", &mut issues);
            }
            let mut r = Reader::new(self.text);
            report_merge_issues(&mut r, issues);
            // The merged document without the elements refused is still read, so that every
            // other problem is reported too; a run with a problem does not run.
            let scenario = super::validate::from_document(&mut r, &merged, self.path);
            for mut d in r.into_diagnostics() {
                let origin = d.position.and_then(|(line, _)| self.lines.origin(line));
                if let Some(set) = origin {
                    // The value came from a `--set`: it has no place in the file.
                    d.position = None;
                    d.message = format!("{set}: {}", d.message);
                } else if !self.grid.is_empty() && !alone.contains(&d) {
                    // The merged scenario is wrong only with these values.
                    d.message = format!("with {}: {}", point.sets(), d.message);
                }
                found.add(d, index, &run.label);
            }
            if !run.name.is_empty() {
                built.push((point.run_name(&run.name), scenario));
            }
        }
    }

    /// With a grid, the run's problems without it: a problem it has alone is the file's,
    /// reported as such; a problem only a grid point has comes from that point's `--set`
    /// values. (Only problems some grid point has are reported: a `--set` may well mend the
    /// file.)
    fn problems_alone(&self, run: &RunDocument<'_>) -> HashSet<Diagnostic> {
        if self.grid.is_empty() {
            return HashSet::new();
        }
        let mut r = Reader::new(self.text);
        report_merge_issues(&mut r, run.issues.iter().cloned());
        super::validate::from_document(&mut r, &run.doc, self.path);
        r.into_diagnostics().into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
