//! The column tables of `docs/metrics.md` are made from [`super::COMPARISON`] and
//! [`super::TIMELINE`]: this test fails when the file says anything else, so the docs and the
//! code cannot drift. `FLEETSIM_WRITE_DOCS=1 cargo test --lib metrics::columns` writes the
//! tables into the file instead (between their markers; the rest of the file is left alone).

use std::path::PathBuf;

use super::{Unit, COMPARISON, TIMELINE, TIMELINE_ENGINE};

/// The unit as the docs' tables name it.
fn unit(u: Unit) -> &'static str {
    match u {
        Unit::Count => "count",
        Unit::Number => "number",
        Unit::Fraction => "fraction",
        other => other.symbol(),
    }
}

/// A Markdown table of `(name, unit, definition)` rows; consecutive rows of the same unit and
/// definition are one row naming each column (`timed_out`, `rejected`, ...).
fn table(
    lead: &[(&str, &str, &str)],
    rows: impl Iterator<Item = (&'static str, Unit, &'static str)>,
) -> String {
    let mut merged: Vec<(Vec<&str>, &str, &str)> =
        lead.iter().map(|&(n, u, d)| (vec![n], u, d)).collect();
    for (name, u, definition) in rows {
        match merged.last_mut() {
            Some((names, lu, ld)) if *lu == unit(u) && *ld == definition => names.push(name),
            _ => merged.push((vec![name], unit(u), definition)),
        }
    }
    let mut out = String::from("| column | unit | definition |\n|---|---|---|\n");
    for (names, u, definition) in merged {
        let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        out.push_str(&format!("| {} | {u} | {definition} |\n", names.join(", ")));
    }
    out
}

/// The table of `comparison.csv`'s columns.
fn comparison_table() -> String {
    table(
        &[(
            "variant",
            "text",
            "the run: `base`, a variant's name, or a grid point's (`<run>+<key>=<value>`)",
        )],
        COMPARISON.iter().map(|c| (c.name, c.unit, c.definition)),
    )
}

/// The table of `timeline.csv`'s columns.
fn timeline_table() -> String {
    table(
        &[],
        TIMELINE
            .iter()
            .chain(TIMELINE_ENGINE)
            .map(|c| (c.name, c.unit, c.definition)),
    )
}

/// The markers around a generated table.
fn markers(section: &str) -> (String, String) {
    (
        format!(
            "<!-- {section} columns: generated from src/metrics/columns/ (edit there; FLEETSIM_WRITE_DOCS=1 cargo test --lib metrics::columns writes them here) -->\n"
        ),
        format!("<!-- end of {section} columns -->\n"),
    )
}

/// `text` with the table between `section`'s markers replaced by `table`; `None` if a marker
/// is missing.
fn with_table(text: &str, section: &str, table: &str) -> Option<String> {
    let (begin, end) = markers(section);
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    Some(format!("{}{table}{}", &text[..start], &text[stop..]))
}

#[test]
fn docs_tables_are_the_column_lists() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/metrics.md");
    let text = std::fs::read_to_string(&path).expect("docs/metrics.md");
    let mut expected = text.clone();
    for (section, table) in [
        ("comparison.csv", comparison_table()),
        ("timeline.csv", timeline_table()),
    ] {
        expected = with_table(&expected, section, &table).unwrap_or_else(|| {
            let (begin, end) = markers(section);
            panic!("docs/metrics.md lacks the lines\n{begin}and\n{end}around {section}'s table")
        });
    }
    if expected == text {
        return;
    }
    if std::env::var_os("FLEETSIM_WRITE_DOCS").is_some() {
        std::fs::write(&path, &expected).expect("docs/metrics.md written");
        return;
    }
    let first = text
        .lines()
        .zip(expected.lines())
        .find(|(a, b)| a != b)
        .map_or_else(
            || "(the files differ in length)".to_string(),
            |(a, b)| format!("the file says\n  {a}\nthe code says\n  {b}"),
        );
    panic!(
        "docs/metrics.md's column tables differ from src/metrics/columns/: {first}\n\
         Edit the definitions in src/metrics/columns/, then run \
         FLEETSIM_WRITE_DOCS=1 cargo test --lib metrics::columns"
    );
}

#[test]
fn identical_definitions_in_a_row_are_one_row() {
    let t = table(
        &[("x", "text", "lead")],
        [
            ("a", Unit::Count, "same"),
            ("b", Unit::Count, "same"),
            ("c", Unit::Seconds, "same"),
            ("d", Unit::Count, "same"),
        ]
        .into_iter(),
    );
    assert_eq!(
        t,
        "| column | unit | definition |\n|---|---|---|\n| `x` | text | lead |\n\
         | `a`, `b` | count | same |\n| `c` | s | same |\n| `d` | count | same |\n"
    );
}
