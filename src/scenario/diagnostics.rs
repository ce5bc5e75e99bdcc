//! Problems found in a scenario file, with where they are and how to fix them.
//!
//! Every problem in a file is collected (as cargo-deny's `validate` does) and reported together,
//! each with the field path (`pool[1].instances`), line and column when the position is known,
//! what was expected, and a hint.
//!
//! Messages repeat parts of the input, and the input is not trusted: a value may be a megabyte
//! long or hold terminal escape sequences. Text taken from the input goes into a message through
//! [`quoted`] or [`ticked`] (escaped, cut to [`ECHO_CHARS`] characters, its full length said),
//! and lists of the file's names through [`list`] (the first [`LIST_ITEMS`]). As a last guard,
//! [`ScenarioError`]'s `Display` escapes control characters in everything it prints and cuts any
//! message longer than [`FIELD_CHARS`], so that no constructor can forget it.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

/// How many characters of one piece of input a message repeats; longer text is cut with `…`
/// and its length given.
pub const ECHO_CHARS: usize = 60;

/// How many characters of a path, message or hint `Display` prints at most (a guard: text from
/// the input should already have been shortened where it was put in the message).
pub const FIELD_CHARS: usize = 1_000;

/// How many names a list in a message shows (`a, b, … and 980 more`).
pub const LIST_ITEMS: usize = 20;

/// True for characters a terminal may act on instead of showing: C0 and C1 controls (ESC
/// starts an ANSI escape sequence, and 0x9B is a one-byte CSI), and the invisible characters
/// that reorder or break lines (bidirectional overrides and isolates, as in "Trojan Source",
/// CVE-2021-42574; the line and paragraph separators).
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// Writes `c` as a TOML basic string would (`\n`, `\t`, `\u001B`), so that a user can find it
/// in the file; other characters as they are.
fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if unsafe_char(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
        c => out.push(c),
    }
}

/// A message for the terminal that is not a [`ScenarioError`] (a `--set` argument, a trace
/// that `trace-stats` reads, a result folder): its lines kept, each escaped and cut to
/// `FIELD_CHARS` characters as [`ScenarioError`]'s `Display` does.
pub fn terminal_safe(text: &str) -> String {
    text.split('\n')
        .map(|line| shorten(line, FIELD_CHARS))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` escaped and cut to about `max` characters: `head… (N more characters)`.
pub fn shorten(text: &str, max: usize) -> Cow<'_, str> {
    let (head, cut) = escaped_head(text, max, false);
    match cut {
        None => head,
        Some(total) => {
            let shown = head.chars().count();
            let more = total.saturating_sub(shown);
            Cow::Owned(format!("{head}… ({} more characters)", thousands(more)))
        }
    }
}

/// Input text as messages repeat it: in double quotes, escaped as a TOML basic string (so
/// `"` and `\` too), cut after [`ECHO_CHARS`] characters with its length said after the
/// quotes: `"yyyy…" (1,000,000 characters)`.
pub fn quoted(text: &str) -> String {
    delimited(text, '"')
}

/// As [`quoted`], in backticks: for keys, as messages name fields (`` unknown field `x` ``).
pub fn ticked(text: &str) -> String {
    delimited(text, '`')
}

fn delimited(text: &str, mark: char) -> String {
    let (head, cut) = escaped_head(text, ECHO_CHARS, mark == '"');
    match cut {
        None => format!("{mark}{head}{mark}"),
        Some(total) => format!("{mark}{head}…{mark} ({} characters)", thousands(total)),
    }
}

/// The escaped start of `text`, at most about `max` characters, and `Some(number of characters
/// of text)` if it was cut. Linear in what it keeps, not in the length of `text` (but for
/// counting the characters of a cut text).
fn escaped_head(text: &str, max: usize, quotes: bool) -> (Cow<'_, str>, Option<usize>) {
    let quote = |c: char| quotes && matches!(c, '"' | '\\');
    let plain = |c: char| !(unsafe_char(c) || quote(c));
    // The common case: short and clean, borrowed as it is.
    if text.len() <= max && text.chars().all(plain) {
        return (Cow::Borrowed(text), None);
    }
    let mut out = String::new();
    for (shown, (i, c)) in text.char_indices().enumerate() {
        if shown >= max {
            return (Cow::Owned(out), Some(shown + text[i..].chars().count()));
        }
        if plain(c) {
            out.push(c);
        } else if quote(c) {
            out.push('\\');
            out.push(c);
        } else {
            push_escaped(&mut out, c);
        }
    }
    (Cow::Owned(out), None)
}

/// `names` joined with commas, the first [`LIST_ITEMS`] of them, each escaped and cut as
/// [`shorten`] does: `a, b, c, … and 980 more`. For "there are: …" hints, so that a file with
/// 100,000 pools does not put 100,000 names into each message about them. Empty names (missing
/// ones, reported elsewhere) are skipped among those shown; the count of the others is the
/// slice's rest, without a scan, so that a message costs the same with 100 names or 100,000.
pub fn list<S: AsRef<str>>(names: &[S]) -> String {
    let mut out = String::new();
    let mut shown = 0;
    let mut end = names.len();
    for (i, name) in names.iter().enumerate() {
        let name = name.as_ref();
        if name.is_empty() {
            continue;
        }
        if shown == LIST_ITEMS {
            end = i;
            break;
        }
        if shown > 0 {
            out.push_str(", ");
        }
        out.push_str(&shorten(name, ECHO_CHARS));
        shown += 1;
    }
    let more = names.len() - end;
    if more > 0 {
        out.push_str(&format!(", … and {} more", thousands(more)));
    }
    out
}

/// `n` with commas between groups of three digits: 1,000,000.
pub fn thousands(n: usize) -> String {
    crate::limits::format_count(n as u64)
}

/// Byte range of a value in the scenario text.
pub type ByteSpan = (usize, usize);

/// One problem in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// Dotted path of the field, such as `pool[1].instances`; empty for the whole file.
    pub path: String,
    /// 1-based line and column, when the position is known.
    pub position: Option<(usize, usize)>,
    /// What is wrong and what was expected.
    pub message: String,
    /// How to fix it, when there is something useful to say.
    pub help: Option<String>,
}

/// A scenario that could not be loaded: every problem found in it.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ScenarioError {
    /// The file the problems are in.
    pub file: PathBuf,
    /// The problems, in the order of their position in the file.
    pub diagnostics: Vec<Diagnostic>,
}

impl ScenarioError {
    /// An error that is not about one field: the file is missing or unreadable.
    pub fn whole_file(file: &Path, message: String, help: Option<String>) -> Self {
        ScenarioError {
            file: file.to_path_buf(),
            diagnostics: vec![Diagnostic {
                path: String::new(),
                position: None,
                message,
                help,
            }],
        }
    }
}

impl fmt::Display for ScenarioError {
    /// One `error:` line per problem and its `  help:` line. Everything printed is escaped and
    /// bounded (`shorten`): the file name and the messages may repeat hostile input.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        let file = self.file.display().to_string();
        let file = shorten(&file, FIELD_CHARS);
        writeln!(
            f,
            "{file} has {} problem{}:",
            thousands(n),
            if n == 1 { "" } else { "s" }
        )?;
        for d in &self.diagnostics {
            write!(f, "error: {file}")?;
            if let Some((line, col)) = d.position {
                write!(f, ":{line}:{col}")?;
            }
            let message = shorten(&d.message, FIELD_CHARS);
            if d.path.is_empty() {
                writeln!(f, ": {message}")?;
            } else {
                writeln!(f, ": {}: {message}", shorten(&d.path, FIELD_CHARS))?;
            }
            if let Some(help) = &d.help {
                writeln!(f, "  help: {}", shorten(help, FIELD_CHARS))?;
            }
        }
        Ok(())
    }
}

/// Maps byte offsets to 1-based line and column (columns count characters, not bytes).
pub struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`.
    pub fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, line_starts }
    }

    /// Line and column of byte `offset`.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_character_columns() {
        let idx = LineIndex::new("ab\nµx = 1\n");
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(1), (1, 2));
        assert_eq!(idx.position(3), (2, 1));
        assert_eq!(idx.position(5), (2, 2)); // after the two-byte µ
        assert_eq!(idx.position(999), (3, 1));
    }

    #[test]
    fn echoed_text_is_escaped_as_toml_and_cut_with_its_length() {
        assert_eq!(quoted("gpu"), "\"gpu\"");
        assert_eq!(ticked("gpu"), "`gpu`");
        assert_eq!(
            quoted("a\u{1b}[2J\u{7}\r\n\t\u{9b}\u{202e}\"\\"),
            "\"a\\u001B[2J\\u0007\\r\\n\\t\\u009B\\u202E\\\"\\\\\""
        );
        let long = format!("{}é", "y".repeat(999_999));
        let q = quoted(&long);
        assert_eq!(
            q,
            format!("\"{}…\" (1,000,000 characters)", "y".repeat(ECHO_CHARS))
        );
        // Characters, not bytes: no cut inside a character.
        assert_eq!(
            quoted(&"é".repeat(61)),
            format!("\"{}…\" (61 characters)", "é".repeat(60))
        );
        assert_eq!(shorten("plain", 10), "plain");
        assert_eq!(
            shorten("abcdefghijkl", 10),
            "abcdefghij… (2 more characters)"
        );
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(299_980), "299,980");
        assert_eq!(
            terminal_safe("a\u{1b}b\n  help: c\u{7}"),
            "a\\u001Bb\n  help: c\\u0007"
        );
    }

    #[test]
    fn lists_show_the_first_names_and_count_the_rest() {
        assert_eq!(list(&["a", "", "b"]), "a, b");
        let names: Vec<String> = (0..100_000).map(|i| format!("p{i}")).collect();
        let shown = list(&names);
        assert!(shown.starts_with("p0, p1, "), "{shown}");
        assert!(shown.ends_with(", p19, … and 99,980 more"), "{shown}");
    }

    #[test]
    fn display_escapes_and_bounds_whatever_a_constructor_put_in() {
        let e = ScenarioError {
            file: PathBuf::from("evil\u{1b}[2J.toml"),
            diagnostics: vec![Diagnostic {
                path: "k".repeat(5_000),
                position: Some((1, 1)),
                message: format!("bad \u{1b}]0;title\u{7} {}", "m".repeat(5_000)),
                help: Some("h\u{202e}".into()),
            }],
        };
        let text = e.to_string();
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(!text.contains('\u{202e}'));
        assert!(text.contains("evil\\u001B[2J.toml:1:1: "), "{text}");
        assert!(text.contains("bad \\u001B]0;title\\u0007 mmm"), "{text}");
        assert!(text.len() < 4 * FIELD_CHARS, "{} bytes", text.len());
        assert_eq!(text.lines().count(), 3);
    }

    #[test]
    fn display_names_file_position_path_and_help() {
        let e = ScenarioError {
            file: PathBuf::from("s.toml"),
            diagnostics: vec![Diagnostic {
                path: "pool[0].instances".into(),
                position: Some((4, 13)),
                message: "expected a whole number of at least 1, found 0".into(),
                help: Some("a pool needs at least one instance".into()),
            }],
        };
        let text = e.to_string();
        assert!(text.contains("error: s.toml:4:13: pool[0].instances: expected"));
        assert!(text.contains("  help: a pool needs"));
    }
}
