//! The two renderings of a gate's table: aligned text for the terminal, Markdown for a CI job
//! summary or a pull request comment.

use std::fmt::Write as _;

/// A header and rows of cells, each row as long as the header.
pub struct Table {
    /// Column titles.
    pub header: Vec<String>,
    /// Cells.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles and no rows.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Columns padded to their widest cell, two spaces apart, trailing spaces trimmed.
    pub fn text(&self) -> String {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|i| {
                std::iter::once(&self.header)
                    .chain(&self.rows)
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (cell, width) in row.iter().zip(&widths) {
                let _ = write!(line, "{cell}{}  ", " ".repeat(width - cell.chars().count()));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// A Markdown table; `|` in cells is escaped.
    pub fn markdown(&self) -> String {
        let line = |cells: &[String]| {
            let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
            format!("| {} |\n", cells.join(" | "))
        };
        let mut out = line(&self.header);
        out.push_str(&line(&vec!["---".to_string(); self.header.len()]));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_aligned_and_markdown_escapes_bars() {
        let mut t = Table::new(&["run", "value"]);
        t.rows.push(vec!["base".into(), "1".into()]);
        t.rows.push(vec!["a|b".into(), "1234".into()]);
        assert_eq!(t.text(), "run   value\nbase  1\na|b   1234\n");
        assert_eq!(
            t.markdown(),
            "| run | value |\n| --- | --- |\n| base | 1 |\n| a\\|b | 1234 |\n"
        );
    }
}
