//! The names of runs: each `[[variant]]`'s `name` read and checked (usable as a folder, not
//! taken by the base or a result folder's own files, unique ignoring case), and the run names
//! that `--set` points make checked the same way.

use std::collections::HashMap;

use toml_span::value::Value;

use crate::scenario::diagnostics::Diagnostic;
use crate::scenario::reader::keys::{Key, Name};
use crate::scenario::reader::{Located, Node, Reader};

/// A variant's `name`.
const NAME: Key<Name> = Key::required(
    "name",
    Name,
    "name the variant, such as name = \"p2c\" (it names the folder of its results)",
);

/// Name of the base scenario's run, beside its variants.
pub const BASE_NAME: &str = "base";

/// Why `name` cannot name a run beside others in a result folder: the base's run name, or the
/// name of a file or folder the result folder holds (`layout`, the list the writers take
/// their names from), ignoring case as case-insensitive file systems do.
pub(super) fn name_clash(name: &str) -> Option<String> {
    if name.eq_ignore_ascii_case(BASE_NAME) {
        return Some(format!("the base scenario's run, \"{BASE_NAME}\""));
    }
    crate::layout::clash(name)
}

/// What was read of one `[[variant]]` table before merging.
pub(super) struct Head {
    /// How messages name it: `variant "p2c"`, or `variant[2]` when its name is unusable.
    pub(super) label: String,
    /// Its name, if present, usable and not taken.
    pub(super) name: Option<String>,
}

/// Reads each `[[variant]]` table's name and checks the names; one entry per array element,
/// `None` for an element that is not a table. Nothing if there are no variants.
pub(super) fn read_heads(r: &mut Reader<'_>, doc: &Value<'_>) -> Vec<Option<Head>> {
    // A root that is not a table is stage one's to report.
    if doc.as_table().is_none() {
        return Vec::new();
    }
    let Some(mut root) = r.table(Node::root(doc), "a table of scenario settings") else {
        return Vec::new();
    };
    let node = root.get("variant");
    // The other keys are stage one's.
    root.skip_rest();
    let Some(node) = node else {
        return Vec::new();
    };
    let Some(items) = r.array(&node, "an array of tables, written [[variant]]") else {
        return Vec::new();
    };
    // Names seen, by their lower case (folders of names differing only in case collide).
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut heads = Vec::new();
    for item in items {
        let path = item.path().to_string();
        let Some(mut f) = r.table(item, "a variant table, written [[variant]]") else {
            heads.push(None);
            continue;
        };
        let name = f.read(r, &NAME);
        if let Some(n) = f.get("variant") {
            r.error_at(
                n.path().to_string(),
                Some(n.span()),
                "a variant cannot have variants of its own",
                Some("write every variant as a [[variant]] table of the file".into()),
            );
        }
        // Every other key is an override: the reader judges it in the merged document.
        f.skip_rest();
        let label = match &name {
            Some(n) => format!("variant \"{}\"", n.value),
            None => path,
        };
        let name = name.and_then(|n| check_name(r, n, &mut seen));
        heads.push(Some(Head { label, name }));
    }
    heads
}

/// `n` if it can name a run: not a name the result folder takes, and not the name of another
/// variant in any case (`seen`, by lower case, the names so far); else reports why, and `None`.
fn check_name(
    r: &mut Reader<'_>,
    n: Located<String>,
    seen: &mut HashMap<String, String>,
) -> Option<String> {
    if let Some(taken) = name_clash(&n.value) {
        r.error(
                &n,
                format!(
                    "a variant cannot be named \"{}\": its folder would be taken for {taken}",
                    n.value
                ),
                Some(format!(
                    "choose another name: the base scenario runs as \"{BASE_NAME}\", and {} and rep-<k> sit in the result folder (names are compared ignoring case)",
                    crate::layout::WRITTEN
                        .iter()
                        .filter(|w| !w.starts_with('.'))
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        None
    } else if let Some(other) = seen.get(&n.value.to_lowercase()) {
        let (message, help) = if *other == n.value {
            (
                format!("variant \"{}\" is defined twice", n.value),
                "give each variant its own name".to_string(),
            )
        } else {
            (
                    format!(
                        "variant \"{}\" differs from variant \"{other}\" only in case",
                        n.value
                    ),
                    "give each variant a name of its own in any case: on a case-insensitive file system (macOS, Windows) both would write one folder".to_string(),
                )
        };
        r.error(&n, message, Some(help));
        None
    } else {
        seen.insert(n.value.to_lowercase(), n.value.clone());
        Some(n.value)
    }
}

/// Problems with the run names that `--set` points make (`<run>+<key>=<value>...`): names too
/// long for a file system, names of a result folder's own files, and names differing only in
/// case from another run's.
pub(super) fn grid_run_name_problems<'n>(names: impl Iterator<Item = &'n str>) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let problem = |message: String, help: &str| Diagnostic {
        path: "--set".into(),
        position: None,
        message,
        help: Some(help.into()),
    };
    for name in names {
        if name.len() > crate::layout::MAX_RUN_NAME {
            problems.push(problem(
                format!(
                    "the run name \"{}...\" that --set makes is {} bytes long, more than a file name can be ({})",
                    name.chars().take(40).collect::<String>(),
                    name.len(),
                    crate::layout::MAX_RUN_NAME
                ),
                "use fewer or shorter --set values, or shorter variant names",
            ));
        } else if let Some(taken) = name_clash(name).filter(|_| name != BASE_NAME) {
            problems.push(problem(
                format!("the run name \"{name}\" that --set makes would be taken for {taken}"),
                "rename the variant or change the --set value",
            ));
        }
        if let Some(other) = seen.iter().find(|s| s.eq_ignore_ascii_case(name)) {
            problems.push(problem(
                format!("--set makes two runs named \"{other}\" and \"{name}\", which differ only in case"),
                "give each --set value once, in one spelling: on a case-insensitive file system both runs would write one folder",
            ));
        }
        seen.push(name);
    }
    problems
}
