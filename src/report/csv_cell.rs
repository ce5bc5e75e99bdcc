//! Text cells of every CSV fleetsim writes, made safe to open in a spreadsheet.
//!
//! A spreadsheet (Excel, LibreOffice Calc, Google Sheets) takes a cell that starts with `=`,
//! `+`, `-` or `@` for a formula, and tab and carriage return can hide one; OWASP's "CSV
//! Injection" page (owasp.org/www-community/attacks/CSV_Injection, "Mitigation") says to let
//! no cell begin with any of these six characters and to prepend a single quote, which
//! spreadsheets read as "this is text". Names and reasons come from scenario files and shard
//! folders that another person wrote, so every text cell goes through [`text`].
//!
//! Numbers are not text cells: they are written by their own formatting ([`push_value`]: a
//! negative number is a legitimate `-1.5` and stays so) and never pass through [`text`]. Readers of fleetsim's own CSVs
//! undo the quote with [`restore`]; names never start with `'` (the scenario reader allows
//! letters, digits, `_`, `-` and `.`), so a leading quote before one of the six characters can
//! only be ours.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::metrics::columns::Value;

/// The characters a text cell may not start with (OWASP, "CSV Injection").
pub const FORMULA_TRIGGERS: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// `cell` as a spreadsheet will show it as text: with a `'` in front if it starts with one of
/// [`FORMULA_TRIGGERS`], unchanged otherwise. Quoting for commas and quotes is the writer's
/// (`quoted`).
pub fn text(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_TRIGGERS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// `cell` neutralised as [`text`] does, then in double quotes with its quotes doubled
/// (RFC 4180, section 2, rules 6 and 7): for cells that may hold commas, quotes or line breaks.
pub fn quoted(cell: &str) -> String {
    format!("\"{}\"", text(cell).replace('"', "\"\""))
}

/// The text [`text`] was given, from a cell read back.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_TRIGGERS) => rest,
        _ => cell,
    }
}

/// Whether a cell read from a CSV that fleetsim is said to have written could be taken for a
/// formula: it starts with one of [`FORMULA_TRIGGERS`] and is not a number. `fleetsim merge`
/// refuses shard files holding one.
pub fn is_formula(cell: &str) -> bool {
    cell.starts_with(FORMULA_TRIGGERS) && cell.parse::<f64>().is_err()
}

/// Appends the number cell of `value` to `line`: a count as an integer, a number in the
/// shortest representation that reads back to the same `f64` (deterministic and lossless), an
/// undefined one as nothing (an empty cell).
#[inline]
pub fn push_value(line: &mut String, value: Value) {
    match value {
        Value::Count(n) => {
            let _ = write!(line, "{n}");
        }
        Value::Number(Some(v)) => {
            let _ = write!(line, "{v}");
        }
        Value::Number(None) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_starting_like_formulas_get_a_quote_and_come_back() {
        for (cell, written) in [
            ("=1+2", "'=1+2"),
            ("+gpu", "'+gpu"),
            ("-gpu", "'-gpu"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("gpu", "gpu"),
            ("a=b", "a=b"),
            ("", ""),
            ("'quoted", "'quoted"),
        ] {
            assert_eq!(text(cell), written, "{cell:?}");
            assert_eq!(restore(&text(cell)), cell, "{cell:?}");
        }
    }

    #[test]
    fn quoted_cells_neutralise_then_double_quotes() {
        assert_eq!(quoted("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(quoted("a, b"), "\"a, b\"");
    }

    #[test]
    fn negative_numbers_are_not_formulas() {
        assert!(!is_formula("-1.5"));
        assert!(!is_formula("+3"));
        assert!(!is_formula("-inf"));
        assert!(is_formula("-gpu"));
        assert!(is_formula("=1"));
        assert!(!is_formula("gpu"));
        assert!(!is_formula("'=1"));
    }
}
