//! Names of the topology (regions, zones, clouds, groups) looked up by a scan: a topology has
//! a handful of each.

use crate::scenario::reader::{Located, Reader};

/// Position of `wanted` among `names`.
pub fn find(names: &[&str], wanted: &str) -> Option<usize> {
    names.iter().position(|n| !n.is_empty() && *n == wanted)
}

/// Reports that no `what` is named `at`, listing the `known` names.
pub fn unknown(r: &mut Reader<'_>, at: &Located<String>, what: &str, known: &[&str]) {
    r.error(
        at,
        format!("no {what} is named \"{}\"", at.value),
        Some(format!("use one of: {}", known.join(", "))),
    );
}
