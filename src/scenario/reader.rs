//! A path-tracking reader over the spanned TOML tree.
//!
//! `toml-span` (the parser cargo-deny uses) keeps the byte span of every key and value. This
//! reader walks that tree, knows the dotted path of every node, and records a [`Diagnostic`]
//! for each problem instead of stopping at the first, so a user sees every mistake in one go.
//! Unknown keys are reported with a "did you mean" hint (serde's `deny_unknown_fields`, but for
//! all keys at once).

use toml_span::value::{Table, Value, ValueInner};
use toml_span::Span;

use super::diagnostics::{quoted, shorten, thousands, ticked, ByteSpan, Diagnostic, LineIndex};
use super::units;
use crate::engine::SimDuration;

/// A value read from the file, with where it was: for errors found later, in validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Its path in the file, such as `pool[0].instances`.
    pub path: String,
    /// Its byte range in the file.
    pub span: ByteSpan,
}

/// One node of the tree and its path.
#[derive(Clone)]
pub struct Node<'a, 'de> {
    value: &'a Value<'de>,
    path: String,
}

impl<'a, 'de> Node<'a, 'de> {
    /// The root of a parsed document.
    pub fn root(value: &'a Value<'de>) -> Self {
        Node {
            value,
            path: String::new(),
        }
    }

    /// The node's dotted path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The node's text, if it is a string (without recording anything).
    pub fn as_str(&self) -> Option<&str> {
        self.value.as_str()
    }

    /// True if the node is a table (inline `{ ... }` or under a `[header]`).
    pub fn is_table(&self) -> bool {
        self.value.as_table().is_some()
    }

    /// True if the node is an array.
    pub fn is_array(&self) -> bool {
        self.value.as_array().is_some()
    }

    /// The node's byte span.
    pub fn span(&self) -> ByteSpan {
        (self.value.span.start, self.value.span.end)
    }

    fn child(&self, key: &str, value: &'a Value<'de>) -> Node<'a, 'de> {
        // A key that is not a bare TOML key is written quoted, as in TOML (and escaped and cut
        // short: it is repeated in messages).
        let bare = !key.is_empty()
            && key.len() <= 100
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        let key: std::borrow::Cow<'_, str> = if bare { key.into() } else { quoted(key).into() };
        let path = if self.path.is_empty() {
            key.into_owned()
        } else {
            format!("{}.{key}", self.path)
        };
        Node { value, path }
    }

    fn locate<T>(&self, value: T) -> Located<T> {
        Located {
            value,
            path: self.path.clone(),
            span: self.span(),
        }
    }
}

/// The keys of one table, tracking which ones the reader asked for.
pub struct Fields<'a, 'de> {
    node: Node<'a, 'de>,
    table: &'a Table<'de>,
    asked: Vec<&'static str>,
}

impl<'a, 'de> Fields<'a, 'de> {
    /// The value of `key`, if present.
    pub fn get(&mut self, key: &'static str) -> Option<Node<'a, 'de>> {
        self.asked.push(key);
        self.table.get(key).map(|v| self.node.child(key, v))
    }

    /// The value of `key`; records an error if it is missing.
    pub fn required(
        &mut self,
        reader: &mut Reader<'_>,
        key: &'static str,
        help: &str,
    ) -> Option<Node<'a, 'de>> {
        let found = self.get(key);
        if found.is_none() {
            let path = self.node.child(key, self.node.value).path;
            reader.error_at(
                path,
                Some(self.node.span()),
                format!("missing field `{key}`"),
                Some(help.to_string()),
            );
        }
        found
    }

    /// Every entry, for tables whose keys are names chosen by the user (such as instance types).
    pub fn entries(self) -> Vec<(String, Node<'a, 'de>)> {
        self.table
            .iter()
            .map(|(k, v)| (k.name.to_string(), self.node.child(&k.name, v)))
            .collect()
    }

    /// Ends reading without checking for unknown keys: used when the table's kind is itself
    /// unknown, so its other keys cannot be judged.
    pub fn skip_rest(self) {}

    /// Reports every key that no `get`/`required` asked for. Linear in the number of keys:
    /// the known ones are listed once per table, a "did you mean" looks only at known keys of a
    /// plausible length, and the reader keeps only the first [`UNKNOWN_FIELDS_SHOWN`].
    pub fn finish(self, reader: &mut Reader<'_>) {
        let mut known: Option<(Vec<&str>, String)> = None;
        for (key, _) in self.table.iter() {
            let name: &str = &key.name;
            if self.asked.contains(&name) {
                continue;
            }
            let at = (key.span.start, key.span.end);
            if !reader.unknown.keeps(at.0) {
                reader.unknown.count_dropped(at.0);
                continue;
            }
            let (known, known_list) = known.get_or_insert_with(|| {
                let mut known: Vec<&str> = self.asked.clone();
                known.sort_unstable();
                known.dedup();
                // The format's own names, a bounded list: all of them.
                let listed = known.join(", ");
                (known, listed)
            });
            let path = self.node.child(name, self.node.value).path;
            let help = match closest(name, known) {
                Some(near) => format!("did you mean `{near}`? Known fields here: {known_list}"),
                None => format!("known fields here: {known_list}"),
            };
            reader.unknown_field(path, at, format!("unknown field {}", ticked(name)), help);
        }
    }
}

/// How many unknown fields a reader lists one by one, the first in the file; the others are
/// counted in one more problem. A file of 300,000 misspelt keys gets 21 problems, not 300,000.
pub const UNKNOWN_FIELDS_SHOWN: usize = 20;

/// How many other problems a reader lists one by one, the first in the file; the others are
/// counted in one more problem.
pub const PROBLEMS_SHOWN: usize = 100;

/// Collects diagnostics while reading one file.
pub struct Reader<'t> {
    lines: LineIndex<'t>,
    /// Unknown fields, the first by position.
    unknown: FirstInFile,
    /// Every other problem, the first by position.
    others: FirstInFile,
}

/// The first `cap` problems recorded by position in the file (then by order of recording),
/// and a count of the others: memory bounded by `cap`, time `O(log cap)` a problem, whatever
/// the number of problems.
struct FirstInFile {
    cap: usize,
    /// A max-heap on (offset, sequence): the last kept problem is on top, to be replaced.
    kept: std::collections::BinaryHeap<Recorded>,
    /// Problems recorded, kept or not.
    total: usize,
    /// The smallest and largest offsets of the problems not kept.
    dropped: Option<(usize, usize)>,
}

/// A problem and where it was recorded; its line and column are computed only if it is kept
/// (from a long line, that costs the line's length).
struct Recorded {
    offset: usize,
    seq: usize,
    diagnostic: Diagnostic,
}

impl PartialEq for Recorded {
    fn eq(&self, other: &Self) -> bool {
        (self.offset, self.seq) == (other.offset, other.seq)
    }
}
impl Eq for Recorded {}
impl PartialOrd for Recorded {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Recorded {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.offset, self.seq).cmp(&(other.offset, other.seq))
    }
}

impl FirstInFile {
    fn new(cap: usize) -> Self {
        FirstInFile {
            cap,
            kept: std::collections::BinaryHeap::new(),
            total: 0,
            dropped: None,
        }
    }

    /// True if a problem at `offset` would be kept now (one not kept can skip composing its
    /// message: at most `cap` messages are composed beyond those kept, in file order).
    fn keeps(&self, offset: usize) -> bool {
        self.kept.len() < self.cap || self.kept.peek().is_some_and(|last| offset < last.offset)
    }

    /// Counts a problem at `offset` that is not kept.
    fn count_dropped(&mut self, offset: usize) {
        self.total += 1;
        self.dropped = Some(match self.dropped {
            Some((lo, hi)) => (lo.min(offset), hi.max(offset)),
            None => (offset, offset),
        });
    }

    fn push(&mut self, offset: usize, diagnostic: Diagnostic) {
        let entry = Recorded {
            offset,
            seq: self.total,
            diagnostic,
        };
        self.total += 1;
        self.kept.push(entry);
        if self.kept.len() > self.cap {
            let out = self.kept.pop().map_or(offset, |e| e.offset);
            self.dropped = Some(match self.dropped {
                Some((lo, hi)) => (lo.min(out), hi.max(out)),
                None => (out, out),
            });
        }
    }

    /// The kept problems sorted by position, with their line and column, then one problem
    /// counting the others, if any (`what` names them in the plural).
    fn finish(self, lines: &LineIndex<'_>, what: &str, help: &str) -> Vec<(usize, Diagnostic)> {
        let not_shown = self.total - self.kept.len();
        let mut out: Vec<(usize, Diagnostic)> = self
            .kept
            .into_sorted_vec()
            .into_iter()
            .map(|e| {
                let mut d = e.diagnostic;
                if e.offset != usize::MAX {
                    d.position = Some(lines.position(e.offset));
                }
                (e.offset, d)
            })
            .collect();
        if let Some((first, last)) = self.dropped {
            let line = |offset: usize| (offset != usize::MAX).then(|| lines.position(offset).0);
            let (from, to) = (line(first), line(last));
            let range = match (from, to) {
                (Some(a), Some(b)) if a == b => format!(" on line {}", thousands(a)),
                (Some(a), Some(b)) => {
                    format!(" from line {} to line {}", thousands(a), thousands(b))
                }
                _ => String::new(),
            };
            out.push((
                first,
                Diagnostic {
                    path: String::new(),
                    position: from.map(|l| (l, 1)),
                    message: format!(
                        "… and {} more {what}{range}, not listed one by one",
                        thousands(not_shown)
                    ),
                    help: Some(help.to_string()),
                },
            ));
        }
        out
    }
}

impl<'t> Reader<'t> {
    /// A reader for the text `text`.
    pub fn new(text: &'t str) -> Self {
        Reader {
            lines: LineIndex::new(text),
            unknown: FirstInFile::new(UNKNOWN_FIELDS_SHOWN),
            others: FirstInFile::new(PROBLEMS_SHOWN),
        }
    }

    /// True if any problem has been recorded.
    pub fn has_errors(&self) -> bool {
        self.unknown.total + self.others.total > 0
    }

    /// The problems recorded, sorted by position in the file (stable for equal positions):
    /// the first [`UNKNOWN_FIELDS_SHOWN`] unknown fields and [`PROBLEMS_SHOWN`] other problems,
    /// and for each kind beyond that one problem that counts the rest.
    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        let mut all = self.unknown.finish(
            &self.lines,
            "unknown fields",
            &format!(
                "the first {UNKNOWN_FIELDS_SHOWN} are listed above: check the spelling of keys against docs/scenario-format.md"
            ),
        );
        all.extend(self.others.finish(
            &self.lines,
            "problems",
            &format!("the first {PROBLEMS_SHOWN} are listed above: fix them and validate again"),
        ));
        // Stable: equal offsets keep unknown fields first, as they were found first.
        all.sort_by_key(|(offset, _)| *offset);
        all.into_iter().map(|(_, d)| d).collect()
    }

    /// Records a problem at `span`.
    pub fn error_at(
        &mut self,
        path: impl Into<String>,
        span: Option<ByteSpan>,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let offset = span.map_or(usize::MAX, |s| s.0);
        self.others.push(offset, diagnostic(path, message, help));
    }

    /// Records a key that the format does not have at `span`.
    fn unknown_field(&mut self, path: String, span: ByteSpan, message: String, help: String) {
        self.unknown
            .push(span.0, diagnostic(path, message, Some(help)));
    }

    /// Records a problem about a value read earlier.
    pub fn error<T>(&mut self, at: &Located<T>, message: impl Into<String>, help: Option<String>) {
        self.error_at(at.path.clone(), Some(at.span), message, help);
    }

    fn wrong_type(&mut self, node: &Node<'_, '_>, expected: &str) {
        let found = describe(node.value);
        self.error_at(
            node.path.clone(),
            Some(node.span()),
            format!("expected {expected}, found {found}"),
            Some(format!("write {expected} here")),
        );
    }

    /// The keys of a table node.
    pub fn table<'a, 'de>(&mut self, node: Node<'a, 'de>, what: &str) -> Option<Fields<'a, 'de>> {
        match node.value.as_ref() {
            ValueInner::Table(table) => Some(Fields {
                node,
                table,
                asked: Vec::new(),
            }),
            _ => {
                self.wrong_type(&node, what);
                None
            }
        }
    }

    /// The elements of an array node (`[[pool]]` tables are arrays too).
    pub fn array<'a, 'de>(
        &mut self,
        node: &Node<'a, 'de>,
        what: &str,
    ) -> Option<Vec<Node<'a, 'de>>> {
        match node.value.as_ref() {
            ValueInner::Array(items) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Node {
                        value: v,
                        path: format!("{}[{i}]", node.path),
                    })
                    .collect(),
            ),
            _ => {
                self.wrong_type(node, what);
                None
            }
        }
    }

    /// A string value.
    pub fn string(&mut self, node: &Node<'_, '_>) -> Option<Located<String>> {
        match node.value.as_str() {
            Some(s) => Some(node.locate(s.to_string())),
            None => {
                self.wrong_type(node, "a string");
                None
            }
        }
    }

    /// A non-empty name made of letters, digits, `_`, `-` and `.`: names become folder names.
    pub fn name(&mut self, node: &Node<'_, '_>) -> Option<Located<String>> {
        let s = self.string(node)?;
        let ok = !s.value.is_empty()
            && s.value.len() <= 100
            && s.value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            && !s.value.starts_with('.');
        if ok {
            Some(s)
        } else {
            self.error(
                &s,
                format!("{} is not a usable name", quoted(&s.value)),
                Some(
                    "use 1 to 100 letters, digits, '_', '-' or '.', not starting with '.' (names become file and folder names)"
                        .into(),
                ),
            );
            None
        }
    }

    /// One of the strings in `allowed`.
    pub fn one_of(
        &mut self,
        node: &Node<'_, '_>,
        allowed: &[&'static str],
    ) -> Option<Located<&'static str>> {
        let s = self.string(node)?;
        match allowed.iter().find(|a| **a == s.value) {
            Some(a) => Some(node.locate(*a)),
            None => {
                let hint = match closest(&s.value, allowed) {
                    Some(near) => format!(
                        "did you mean \"{near}\"? Choose one of: {}",
                        allowed.join(", ")
                    ),
                    None => format!("choose one of: {}", allowed.join(", ")),
                };
                self.error(
                    &s,
                    format!("unknown value {}", quoted(&s.value)),
                    Some(hint),
                );
                None
            }
        }
    }

    /// A finite number (integers are accepted as numbers).
    pub fn number(&mut self, node: &Node<'_, '_>) -> Option<Located<f64>> {
        let value = match node.value.as_ref() {
            ValueInner::Float(f) => *f,
            ValueInner::Integer(i) => *i as f64,
            _ => {
                self.wrong_type(node, "a number");
                return None;
            }
        };
        if !value.is_finite() {
            self.error_at(
                node.path.clone(),
                Some(node.span()),
                format!("expected a finite number, found {value}"),
                Some("nan and inf are not allowed: write an ordinary number such as 0.5".into()),
            );
            return None;
        }
        Some(node.locate(value))
    }

    /// A number `> 0` (`strict`) or `>= 0`.
    pub fn positive(&mut self, node: &Node<'_, '_>, strict: bool) -> Option<Located<f64>> {
        let n = self.number(node)?;
        let bad = if strict {
            n.value <= 0.0
        } else {
            n.value < 0.0
        };
        if bad {
            let what = if strict {
                "greater than 0"
            } else {
                "0 or more"
            };
            self.error(
                &n,
                format!("expected a number {what}, found {}", n.value),
                Some(format!("use a number {what}")),
            );
            return None;
        }
        Some(n)
    }

    /// `true` or `false`.
    pub fn boolean(&mut self, node: &Node<'_, '_>) -> Option<Located<bool>> {
        match node.value.as_ref() {
            ValueInner::Boolean(b) => Some(node.locate(*b)),
            _ => {
                self.wrong_type(node, "true or false");
                None
            }
        }
    }

    /// A whole number in `min..=max`, with `0 <= min`.
    pub fn integer(&mut self, node: &Node<'_, '_>, min: i64, max: i64) -> Option<Located<u64>> {
        debug_assert!(
            min >= 0,
            "integer() reads non-negative numbers: use signed()"
        );
        self.signed(node, min, max).map(|l| Located {
            value: l.value as u64,
            path: l.path,
            span: l.span,
        })
    }

    /// A whole number in `min..=max`, which may be negative.
    pub fn signed(&mut self, node: &Node<'_, '_>, min: i64, max: i64) -> Option<Located<i64>> {
        let value = match node.value.as_ref() {
            ValueInner::Integer(i) => *i,
            _ => {
                self.wrong_type(node, "a whole number");
                return None;
            }
        };
        if value < min || value > max {
            self.error_at(
                node.path.clone(),
                Some(node.span()),
                format!("expected a whole number from {min} to {max}, found {value}"),
                Some(format!("use a whole number from {min} to {max}")),
            );
            return None;
        }
        Some(node.locate(value))
    }

    /// A duration written with a unit, such as `"90s"`.
    pub fn duration(&mut self, node: &Node<'_, '_>) -> Option<Located<SimDuration>> {
        self.with_unit(
            node,
            "a duration such as \"90s\", \"5m\" or \"1h\"",
            units::parse_duration,
        )
    }

    /// A rate written with a unit, such as `"120/s"`; in events per second.
    pub fn rate(&mut self, node: &Node<'_, '_>) -> Option<Located<f64>> {
        self.with_unit(
            node,
            "a rate such as \"120/s\" or \"7200/m\"",
            units::parse_rate,
        )
    }

    /// A price such as `"$0.526/h"`, or a bare number of US dollars per hour; at most
    /// [`MAX_USD_PER_HOUR`](crate::model::market::MAX_USD_PER_HOUR).
    pub fn price_per_hour(&mut self, node: &Node<'_, '_>) -> Option<Located<f64>> {
        let price = if matches!(
            node.value.as_ref(),
            ValueInner::Float(_) | ValueInner::Integer(_)
        ) {
            self.positive(node, false)
        } else {
            self.with_unit(
                node,
                "a price such as \"$0.526/h\"",
                units::parse_price_per_hour,
            )
        }?;
        self.at_most_money(price, crate::model::market::MAX_USD_PER_HOUR, "/h")
    }

    /// An amount of US dollars such as `"$8000"` or `"$8,000"`, or a bare number of dollars;
    /// at most [`MAX_USD`](crate::model::market::MAX_USD).
    pub fn usd(&mut self, node: &Node<'_, '_>) -> Option<Located<f64>> {
        let amount = if matches!(
            node.value.as_ref(),
            ValueInner::Float(_) | ValueInner::Integer(_)
        ) {
            self.positive(node, false)
        } else {
            self.with_unit(
                node,
                "an amount of dollars such as \"$8000\"",
                units::parse_usd,
            )
        }?;
        self.at_most_money(amount, crate::model::market::MAX_USD, "")
    }

    /// `money` if it is at most `max` (a price per `unit`, or an amount), else an error: every
    /// money input is bounded so that no cost can overflow (issue 14, item 13).
    pub fn at_most_money(
        &mut self,
        money: Located<f64>,
        max: f64,
        unit: &str,
    ) -> Option<Located<f64>> {
        use crate::model::market::show_amount;
        if money.value <= max {
            return Some(money);
        }
        self.error(
            &money,
            format!(
                "${}{unit} is above the ${}{unit} fleetsim accepts",
                show_amount(money.value),
                show_amount(max)
            ),
            Some(format!(
                "check the number and its unit, such as {}; the bound keeps every cost finite",
                match unit {
                    "/h" => "\"$1.006/h\" (an instance-hour)",
                    "/GB" => "0.09 (USD per GB)",
                    _ => "\"$8,000\"",
                }
            )),
        );
        None
    }

    /// A fraction from 0 to 1: a percentage such as `"0.1%"`, or a bare number such as 0.001.
    pub fn fraction(&mut self, node: &Node<'_, '_>) -> Option<Located<f64>> {
        if matches!(
            node.value.as_ref(),
            ValueInner::Float(_) | ValueInner::Integer(_)
        ) {
            let n = self.positive(node, false)?;
            if n.value > 1.0 {
                self.error(
                    &n,
                    format!("expected a fraction from 0 to 1, found {}", n.value),
                    Some(format!(
                        "write a percentage in quotes, such as \"{}%\", or a fraction such as 0.001",
                        n.value
                    )),
                );
                return None;
            }
            return Some(n);
        }
        self.with_unit(
            node,
            "a percentage such as \"0.1%\" or a fraction such as 0.001",
            units::parse_percent,
        )
    }

    /// A size such as `"20KB"` or `"1MiB"`, in bytes.
    pub fn bytes(&mut self, node: &Node<'_, '_>) -> Option<Located<u64>> {
        self.with_unit(
            node,
            "a size such as \"20KB\", \"1.5MB\" or \"1MiB\"",
            units::parse_bytes,
        )
    }

    fn with_unit<T>(
        &mut self,
        node: &Node<'_, '_>,
        expected: &str,
        parse: fn(&str) -> Result<T, units::UnitError>,
    ) -> Option<Located<T>> {
        let Some(text) = node.value.as_str() else {
            let found = describe(node.value);
            let help = match node.value.as_ref() {
                ValueInner::Integer(_) | ValueInner::Float(_) => {
                    Some(format!("write the unit too, in quotes: {expected}"))
                }
                _ => Some(format!("write {expected}, in quotes")),
            };
            self.error_at(
                node.path.clone(),
                Some(node.span()),
                format!("expected {expected}, found {found}"),
                help,
            );
            return None;
        };
        match parse(text) {
            Ok(v) => Some(node.locate(v)),
            Err(e) => {
                self.error_at(
                    node.path.clone(),
                    Some(node.span()),
                    e.to_string(),
                    Some(format!("write {expected}")),
                );
                None
            }
        }
    }
}

/// A problem whose position is filled in when it is reported.
fn diagnostic(
    path: impl Into<String>,
    message: impl Into<String>,
    help: Option<String>,
) -> Diagnostic {
    Diagnostic {
        path: path.into(),
        position: None,
        message: message.into(),
        help,
    }
}

/// Describes a value for "found ..." in messages.
fn describe(value: &Value<'_>) -> String {
    match value.as_ref() {
        ValueInner::String(s) => format!("the string {}", quoted(s)),
        ValueInner::Integer(i) => format!("the integer {i}"),
        ValueInner::Float(f) => format!("the number {f}"),
        ValueInner::Boolean(b) => format!("{b}"),
        ValueInner::Array(_) => "an array".into(),
        ValueInner::Table(_) => "a table".into(),
    }
}

/// The candidate closest to `word` by edit distance, if it is plausibly a typo. A candidate
/// whose length differs from the word's by more than the distance allowed is not measured (the
/// distance is at least the difference): a megabyte-long key costs a length, not a megabyte
/// times each candidate.
pub(super) fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let allowed = |c: &str| 2.max(c.len() / 3);
    let longest = candidates.iter().map(|c| c.len() + allowed(c)).max()?;
    if word.len() > 4 * longest {
        return None;
    }
    let length = word.chars().count();
    candidates
        .iter()
        .filter(|c| length.abs_diff(c.chars().count()) <= allowed(c))
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= allowed(c))
        .min()
        .map(|(_, c)| c)
}

pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Converts a `toml-span` parse error into a diagnostic.
pub fn syntax_error(reader: &mut Reader<'_>, err: &toml_span::Error) {
    let span: Span = err.span;
    // toml-span's messages repeat the text they stopped at (a key, a character): escaped and
    // cut, like any input.
    let what = err.to_string();
    reader.error_at(
        String::new(),
        Some((span.start, span.end)),
        format!("this is not valid TOML: {}", shorten(&what, 200)),
        Some("see https://toml.io for the syntax".into()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_keeps_the_first_problems_in_the_file_and_counts_the_rest() {
        let text: String = (0..1_000).map(|i| format!("k{i} = {i}\n")).collect();
        let mut r = Reader::new(&text);
        // Recorded out of file order: the kept ones are still the first in the file.
        for i in (0..1_000).rev() {
            let offset = text.find(&format!("k{i} =")).unwrap();
            r.unknown_field(
                format!("k{i}"),
                (offset, offset + 2),
                format!("unknown {i}"),
                "h".into(),
            );
        }
        r.error_at("x", None, "no place", Some("h".into()));
        assert!(r.has_errors());
        let d = r.into_diagnostics();
        assert_eq!(d.len(), UNKNOWN_FIELDS_SHOWN + 2);
        assert_eq!(d[0].message, "unknown 0");
        assert_eq!(d[0].position, Some((1, 1)));
        assert_eq!(d[19].message, "unknown 19");
        assert_eq!(
            d[20].message,
            "… and 980 more unknown fields from line 21 to line 1,000, not listed one by one"
        );
        assert_eq!(d[20].position, Some((21, 1)));
        // A problem without a place comes last.
        assert_eq!(d[21].message, "no place");
    }

    #[test]
    fn closest_skips_words_of_another_length_without_measuring_them() {
        // A megabyte-long word is not compared letter by letter with every candidate.
        let long = "instances".repeat(100_000);
        assert_eq!(closest(&long, &["instances", "name"]), None);
        assert_eq!(closest("instancesxx", &["instances"]), Some("instances"));
        assert_eq!(closest("instancesxxxx", &["instances"]), None);
    }

    #[test]
    fn closest_suggests_typos_only() {
        assert_eq!(
            closest("instancs", &["instances", "name"]),
            Some("instances")
        );
        assert_eq!(closest("zzzzzz", &["instances", "name"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
