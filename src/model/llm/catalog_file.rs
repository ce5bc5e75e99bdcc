//! Reading the embedded catalog files (`scenarios/data/catalog/models.toml` and `gpus.toml`):
//! the TOML parse, numbers written either way (`80` or `80.0`), and errors that point at a
//! file, line and column. The catalogs' own checks live with them (`models.rs`, `gpus.rs`).
//!
//! It must not know what a model or a GPU is.

use toml_span::de_helpers::TableHelper;
use toml_span::value::{Value, ValueInner};
use toml_span::{DeserError, Deserialize, ErrorKind, Span, Spanned};

/// Why an embedded catalog file did not read. The shipped files are checked by tests, so this
/// only reaches a user through a broken build; it names the place all the same.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct CatalogFileError {
    /// The file, relative to the repository (`scenarios/data/catalog/models.toml`).
    pub file: &'static str,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl CatalogFileError {
    /// An error at byte `offset` of `text`.
    pub(super) fn at(file: &'static str, text: &str, offset: usize, message: String) -> Self {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        CatalogFileError {
            file,
            line,
            column,
            message,
        }
    }
}

/// The entries of the array of tables `key` (`[[model]]`, `[[gpu]]`), each with its span, or
/// the first error in the file's order. Any other top-level key is an error.
pub(super) fn entries<T>(
    file: &'static str,
    text: &str,
    key: &'static str,
) -> Result<Vec<Spanned<T>>, CatalogFileError>
where
    T: for<'de> Deserialize<'de>,
{
    let first = |e: DeserError| {
        let err = e
            .errors
            .into_iter()
            .min_by_key(|e| e.span.start)
            .expect("a DeserError holds at least one error");
        let (offset, message) = describe(&err);
        CatalogFileError::at(file, text, offset, message)
    };
    let mut doc = toml_span::parse(text)
        .map_err(|e| CatalogFileError::at(file, text, e.span.start, e.to_string()))?;
    let mut table = TableHelper::new(&mut doc).map_err(first)?;
    let entries = table.required::<Vec<Spanned<T>>>(key);
    table.finalize(None).map_err(first)?;
    // finalize reported any error of `required`.
    Ok(entries.unwrap_or_default())
}

/// Where an error is and what it says: an unknown key points at the key itself (toml-span
/// gives its table's span) and lists the keys the table takes.
fn describe(err: &toml_span::Error) -> (usize, String) {
    match &err.kind {
        ErrorKind::UnexpectedKeys { keys, expected } => {
            let (name, span) = keys
                .iter()
                .min_by_key(|(_, s)| s.start)
                .map_or(("?", err.span), |(n, s)| (n.as_str(), *s));
            (
                span.start,
                format!(
                    "unknown key `{name}`: expected one of {}",
                    expected.join(", ")
                ),
            )
        }
        _ => (err.span.start, err.to_string()),
    }
}

/// A number written as an integer or a float (`1555` or `989.4`): TOML keeps the two apart,
/// datasheet figures do not.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Number(pub f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        match value.take() {
            ValueInner::Integer(i) => Ok(Number(i as f64)),
            ValueInner::Float(f) => Ok(Number(f)),
            other => Err(toml_span::de_helpers::expected("a number", other, value.span).into()),
        }
    }
}

/// A check of one entry failed: `message`, at `span` of `text`.
pub(super) fn invalid(
    file: &'static str,
    text: &str,
    span: Span,
    message: String,
) -> CatalogFileError {
    CatalogFileError::at(file, text, span.start, message)
}

/// Reads a table's keys with `read`, then refuses keys it did not ask for (as serde's
/// `deny_unknown_fields`), reporting every error of the table.
pub(super) fn table<'de, T>(
    value: &mut Value<'de>,
    read: impl FnOnce(&mut TableHelper<'de>) -> Option<T>,
) -> Result<T, DeserError> {
    let mut helper = TableHelper::new(value)?;
    let out = read(&mut helper);
    helper.finalize(None)?;
    // No error was recorded, so every required key was read.
    out.ok_or_else(|| DeserError { errors: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Pair {
        a: f64,
        b: Option<String>,
    }

    impl<'de> Deserialize<'de> for Pair {
        fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
            table(value, |t| {
                let a = t.required::<Number>("a").ok();
                let b = t.optional::<String>("b");
                Some(Pair { a: a?.0, b })
            })
        }
    }

    #[test]
    fn integers_and_floats_both_read_as_numbers() {
        let text = "[[p]]\na = 3\n\n[[p]]\na = 2.5\nb = \"x\"\n";
        let ps = entries::<Pair>("f.toml", text, "p").unwrap();
        assert_eq!(ps.len(), 2);
        assert_eq!((ps[0].value.a, ps[1].value.a), (3.0, 2.5));
        assert_eq!(ps[1].value.b.as_deref(), Some("x"));
        assert_eq!(ps[0].value.b, None);
    }

    #[test]
    fn errors_name_the_file_line_and_column() {
        let unknown = "[[p]]\na = 1\nc = 2\n";
        let e = entries::<Pair>("f.toml", unknown, "p").unwrap_err();
        assert_eq!((e.file, e.line), ("f.toml", 3), "{e}");
        assert_eq!(
            e.to_string(),
            "f.toml:3:1: unknown key `c`: expected one of a, b"
        );
        let wrong_type = "[[p]]\na = \"fast\"\n";
        let e = entries::<Pair>("f.toml", wrong_type, "p").unwrap_err();
        // toml-span points inside the quotes.
        assert_eq!((e.line, e.column), (2, 6), "{e}");
        assert!(e.message.contains("a number"), "{e}");
        let missing = "[[p]]\nb = \"x\"\n";
        let e = entries::<Pair>("f.toml", missing, "p").unwrap_err();
        assert!(e.message.contains("a"), "{e}");
        let syntax = "[[p]\na = 1\n";
        assert_eq!(entries::<Pair>("f.toml", syntax, "p").unwrap_err().line, 1);
        let stray = "x = 1\n[[p]]\na = 1\n";
        assert!(entries::<Pair>("f.toml", stray, "p").is_err());
    }
}
