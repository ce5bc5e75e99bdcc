//! A path-tracking reader over the spanned TOML tree.
//!
//! `toml-span` (the parser cargo-deny uses) keeps the byte span of every key and value. This
//! reader walks that tree, knows the dotted path of every node, and records a [`Diagnostic`]
//! for each problem instead of stopping at the first, so a user sees every mistake in one go.
//! Unknown keys are reported with a "did you mean" hint (serde's `deny_unknown_fields`, but for
//! all keys at once).

use toml_span::value::{Table, Value, ValueInner};
use toml_span::Span;

use super::diagnostics::{ByteSpan, Diagnostic, LineIndex};
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
        let path = if self.path.is_empty() {
            key.to_string()
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

    /// Reports every key that no `get`/`required` asked for.
    pub fn finish(self, reader: &mut Reader<'_>) {
        for (key, _) in self.table.iter() {
            let name: &str = &key.name;
            if self.asked.contains(&name) {
                continue;
            }
            let path = self.node.child(name, self.node.value).path;
            let mut known: Vec<&str> = self.asked.clone();
            known.sort_unstable();
            known.dedup();
            let help = match closest(name, &known) {
                Some(near) => format!(
                    "did you mean `{near}`? Known fields here: {}",
                    known.join(", ")
                ),
                None => format!("known fields here: {}", known.join(", ")),
            };
            reader.error_at(
                path,
                Some((key.span.start, key.span.end)),
                format!("unknown field `{name}`"),
                Some(help),
            );
        }
    }
}

/// Collects diagnostics while reading one file.
pub struct Reader<'t> {
    lines: LineIndex<'t>,
    diagnostics: Vec<(usize, Diagnostic)>,
}

impl<'t> Reader<'t> {
    /// A reader for the text `text`.
    pub fn new(text: &'t str) -> Self {
        Reader {
            lines: LineIndex::new(text),
            diagnostics: Vec::new(),
        }
    }

    /// True if any problem has been recorded.
    pub fn has_errors(&self) -> bool {
        !self.diagnostics.is_empty()
    }

    /// The problems recorded, sorted by position in the file (stable for equal positions).
    pub fn into_diagnostics(mut self) -> Vec<Diagnostic> {
        self.diagnostics.sort_by_key(|(offset, _)| *offset);
        self.diagnostics.into_iter().map(|(_, d)| d).collect()
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
        let position = span.map(|s| self.lines.position(s.0));
        self.diagnostics.push((
            offset,
            Diagnostic {
                path: path.into(),
                position,
                message: message.into(),
                help,
            },
        ));
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
                format!("\"{}\" is not a usable name", s.value),
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
                self.error(&s, format!("unknown value \"{}\"", s.value), Some(hint));
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
        parse: fn(&str) -> Result<T, String>,
    ) -> Option<Located<T>> {
        let Some(text) = node.value.as_str() else {
            let found = describe(node.value);
            let help = match node.value.as_ref() {
                ValueInner::Integer(_) | ValueInner::Float(_) => {
                    Some(format!("write the unit too, in quotes: {expected}"))
                }
                _ => None,
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
            Err(message) => {
                self.error_at(
                    node.path.clone(),
                    Some(node.span()),
                    message,
                    Some(format!("write {expected}")),
                );
                None
            }
        }
    }
}

/// Describes a value for "found ..." in messages.
fn describe(value: &Value<'_>) -> String {
    match value.as_ref() {
        ValueInner::String(s) => format!("the string \"{s}\""),
        ValueInner::Integer(i) => format!("the integer {i}"),
        ValueInner::Float(f) => format!("the number {f}"),
        ValueInner::Boolean(b) => format!("{b}"),
        ValueInner::Array(_) => "an array".into(),
        ValueInner::Table(_) => "a table".into(),
    }
}

/// The candidate closest to `word` by edit distance, if it is plausibly a typo.
fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
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
    reader.error_at(
        String::new(),
        Some((span.start, span.end)),
        format!("this is not valid TOML: {err}"),
        Some("see https://toml.io for the syntax".into()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

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
