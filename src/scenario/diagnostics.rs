//! Problems found in a scenario file, with where they are and how to fix them.
//!
//! Every problem in a file is collected (as cargo-deny's `validate` does) and reported together,
//! each with the field path (`pool[1].instances`), line and column when the position is known,
//! what was expected, and a hint.

use std::fmt;
use std::path::{Path, PathBuf};

/// Byte range of a value in the scenario text.
pub type ByteSpan = (usize, usize);

/// One problem in a scenario file.
#[derive(Debug, Clone, PartialEq)]
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
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        writeln!(
            f,
            "{} has {} problem{}:",
            self.file.display(),
            n,
            if n == 1 { "" } else { "s" }
        )?;
        for d in &self.diagnostics {
            write!(f, "error: {}", self.file.display())?;
            if let Some((line, col)) = d.position {
                write!(f, ":{line}:{col}")?;
            }
            if d.path.is_empty() {
                writeln!(f, ": {}", d.message)?;
            } else {
                writeln!(f, ": {}: {}", d.path, d.message)?;
            }
            if let Some(help) = &d.help {
                writeln!(f, "  help: {help}")?;
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
