//! A path-tracking reader over the spanned TOML tree: the bottom layer of the scenario format,
//! which every topic reads its tables with.
//!
//! `toml-span` (the parser cargo-deny uses) keeps the byte span of every key and value. This
//! reader walks that tree, knows the dotted path of every node, and records a [`Diagnostic`]
//! for each problem instead of stopping at the first, so a user sees every mistake in one go.
//! Unknown keys are reported with a "did you mean" hint (serde's `deny_unknown_fields`, but for
//! all keys at once).
//!
//! - [`values`]: the kinds of value (`string`, `duration`, `integer`, `one_of`, a price, ...);
//! - [`keys`]: a table's keys declared once, each with its kind and the hint for a missing one;
//! - [`common`]: small readers and checks many tables share (`store`, `whole_seconds`, ...);
//! - [`names`]: names defined once and references to them, looked up in constant time;
//! - [`similar`]: the "did you mean" of unknown keys and values.
//!
//! It must not know any table of the format: the topics do.

mod common;
mod first_in_file;
pub mod keys;
mod names;
mod similar;
mod values;

use toml_span::value::{Table, Value, ValueInner};
use toml_span::Span;

pub use common::{positive_duration, read_array, store, whole_seconds};
pub use names::{check_unique, find, unknown_reference, Names};
pub use similar::{closest, edit_distance};

use super::diagnostics::{quoted, shorten, ticked, ByteSpan, Diagnostic, LineIndex};
use first_in_file::FirstInFile;

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

impl<T> Located<T> {
    /// Where the value is, without it.
    pub fn at(&self) -> Located<()> {
        self.to(())
    }

    /// `value`, located where this one is.
    pub fn to<U>(&self, value: U) -> Located<U> {
        Located {
            value,
            path: self.path.clone(),
            span: self.span,
        }
    }
}

/// One node of the tree and its path.
#[derive(Clone)]
pub struct Node<'a, 'de> {
    value: &'a Value<'de>,
    path: String,
}

impl<'a, 'de> Node<'a, 'de> {
    /// True if the node is a table with `key` (to choose between forms before reading).
    pub fn has_key(&self, key: &str) -> bool {
        self.value.as_table().is_some_and(|t| t.get(key).is_some())
    }

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

    /// `value`, located where this node is.
    pub fn locate<T>(&self, value: T) -> Located<T> {
        Located {
            value,
            path: self.path.clone(),
            span: self.span(),
        }
    }

    /// Where this node is, without its value: for problems found later.
    pub fn at(&self) -> Located<()> {
        self.locate(())
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
}
