//! Small readers and checks that tables of many topics share.

use super::{Fields, Located, Node, Reader};
use crate::time::SimDuration;

/// Stores the value `read` for an optional key in `slot`, which holds the default: `read` is
/// `None` when the key is absent, `Some(None)` when it was present but broken (the reader has
/// recorded why), and then this returns false.
pub fn store<T>(slot: &mut T, read: Option<Option<T>>) -> bool {
    match read {
        Some(Some(v)) => {
            *slot = v;
            true
        }
        Some(None) => false,
        None => true,
    }
}

/// True if `d` is whole seconds; else records that `system` takes `key` in whole seconds (its
/// API field is an integer of seconds) and returns false. Issue 14, item 6: the real systems'
/// settings have a one-second grain, and a value between two seconds is not one they run.
pub fn whole_seconds(
    r: &mut Reader<'_>,
    d: &Located<SimDuration>,
    system: &str,
    key: &str,
) -> bool {
    const SECOND: u64 = 1_000_000_000;
    let ns = d.value.as_nanos();
    if ns.is_multiple_of(SECOND) {
        return true;
    }
    r.error(
        d,
        format!("{system} takes {key} in whole seconds, found {}", d.value),
        Some(format!(
            "round it to whole seconds, such as {key} = \"{}s\"",
            (ns / SECOND).max(1)
        )),
    );
    false
}

/// An optional duration that must be longer than zero: `Some(None)` when absent.
pub fn positive_duration(
    r: &mut Reader<'_>,
    d: Option<&Located<SimDuration>>,
    key: &str,
) -> Option<Option<SimDuration>> {
    match d {
        Some(d) if d.value.is_zero() => {
            r.error(
                d,
                format!("{key} must be longer than 0s"),
                Some(format!(
                    "remove {key} for the default, or give a duration such as \"30s\""
                )),
            );
            None
        }
        Some(d) => Some(Some(d.value)),
        None => Some(None),
    }
}

/// Reads an array of tables (`[[key]]`), each element with `read_one`.
pub fn read_array<'a, 'de, T>(
    r: &mut Reader<'_>,
    f: &mut Fields<'a, 'de>,
    key: &'static str,
    mut read_one: impl FnMut(&mut Reader<'_>, Node<'a, 'de>) -> Option<T>,
) -> Vec<T> {
    let Some(node) = f.get(key) else {
        return Vec::new();
    };
    let what = format!("an array of tables, written [[{key}]]");
    let Some(items) = r.array(&node, &what) else {
        return Vec::new();
    };
    items.into_iter().filter_map(|n| read_one(r, n)).collect()
}
