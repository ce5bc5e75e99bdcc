//! A `--set` value and path as TOML text: the value as one TOML value (or a string), and the
//! path as nested inline tables, list elements chosen by their `name` in the file.

use toml_span::value::Value;

use crate::scenario::diagnostics::{list, quoted, shorten};
use crate::scenario::variants::merge::name_of;

/// `value` as TOML: itself when it is one TOML value on one line (`10`, `"30s"`, `[1, 2]`),
/// else a string. It is checked where it will go, inside an inline table: a value spanning
/// lines, ending in a comment or making more keys would change the structure of the appended
/// table (`1\n[x]`, `1 # x` and `1, y = 2` parse after `v = `, but are not one value).
pub(super) fn toml_value(value: &str) -> String {
    let one_value = !value.contains(['\n', '\r'])
        && toml_span::parse(&format!("v = {{ x = {value} }}"))
            .ok()
            .and_then(|doc| {
                let inner = doc.as_table()?.get("v")?.as_table()?.len();
                Some(inner == 1)
            })
            .unwrap_or(false);
    if one_value {
        value.to_string()
    } else {
        toml_string(value)
    }
}

/// `text` as a TOML basic string: quotes, backslashes and control characters escaped.
pub(super) fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A key, quoted when it is not a bare TOML key.
fn key(k: &str) -> String {
    if k.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        toml_string(k)
    }
}

/// Why a `--set` path does not fit the file: its message follows `--set path=value: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum PathError {
    /// A list of tables without an element and a key after it.
    #[error("{} is a list of tables: name an element and its key, such as {}.{}.<key>", shorten(.list, 100), shorten(.list, 100), shorten(.name, 100))]
    ListNeedsElement {
        /// The list's key.
        list: String,
        /// The segment after it.
        name: String,
    },
    /// A list element that no table of the list is named.
    #[error("no {} is named {} (there are: {known})", shorten(.list, 100), quoted(.name))]
    NoElement {
        /// The list's key.
        list: String,
        /// The name asked for.
        name: String,
        /// The names there are, listed.
        known: String,
    },
}

/// An inline table setting `path` to `value` (TOML), walking `node` (the file) to tell list
/// elements (by name) from tables.
pub(super) fn fragment(
    node: Option<&Value<'_>>,
    path: &[String],
    value: &str,
) -> Result<String, PathError> {
    let k = key(&path[0]);
    if path.len() == 1 {
        return Ok(format!("{{ {k} = {value} }}"));
    }
    let child = node
        .and_then(|n| n.as_table())
        .and_then(|t| t.get(path[0].as_str()));
    if let Some(items) = child.and_then(|c| c.as_array()) {
        let name = &path[1];
        if path.len() < 3 {
            return Err(PathError::ListNeedsElement {
                list: path[0].clone(),
                name: name.clone(),
            });
        }
        let Some(item) = items.iter().find(|i| name_of(i) == Some(name.as_str())) else {
            return Err(PathError::NoElement {
                list: path[0].clone(),
                name: name.clone(),
                known: list(&items.iter().filter_map(name_of).collect::<Vec<_>>()),
            });
        };
        let inner = fragment(Some(item), &path[2..], value)?;
        let inner = &inner[2..inner.len() - 2];
        return Ok(format!(
            "{{ {k} = [{{ name = {}, {inner} }}] }}",
            toml_string(name)
        ));
    }
    let inner = fragment(child, &path[1..], value)?;
    Ok(format!("{{ {k} = {inner} }}"))
}
