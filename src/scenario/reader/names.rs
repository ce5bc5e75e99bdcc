//! Names defined once (pools, classes, queues, ...) and the references to them: duplicates
//! found and references resolved in linear time over the file, each unknown name reported
//! with the names there are.

use super::{Located, Reader};
use crate::scenario::diagnostics::{list, quoted};

/// Names of one kind of element in file order, with an index: a reference is looked up in
/// constant time, not by a scan, so that a file of 100,000 classes naming pools validates in
/// linear time. Dereferences to the names as a slice (for messages and indexing).
pub struct Names<'a> {
    list: Vec<&'a str>,
    /// The first element of each name (as a scan would find it); empty names (missing, and
    /// reported) are not in it.
    index: std::collections::HashMap<&'a str, usize>,
}

impl<'a> FromIterator<&'a str> for Names<'a> {
    fn from_iter<I: IntoIterator<Item = &'a str>>(names: I) -> Self {
        let list: Vec<&'a str> = names.into_iter().collect();
        let mut index = std::collections::HashMap::with_capacity(list.len());
        for (i, n) in list.iter().enumerate() {
            if !n.is_empty() {
                index.entry(*n).or_insert(i);
            }
        }
        Names { list, index }
    }
}

impl<'a> std::ops::Deref for Names<'a> {
    type Target = [&'a str];
    fn deref(&self) -> &[&'a str] {
        &self.list
    }
}

/// Reports a name used twice among `names`, with `help`. Linear: a set of the names seen.
pub fn check_unique(
    r: &mut Reader<'_>,
    names: &[&Located<String>],
    what: &str,
    help: &str,
) -> bool {
    let mut ok = true;
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    for n in names {
        if !seen.insert(n.value.as_str()) {
            r.error(
                *n,
                format!("{what} {} is defined twice", quoted(&n.value)),
                Some(help.to_string()),
            );
            ok = false;
        }
    }
    ok
}

/// The index of `wanted` in `names`. An empty name stands for a missing one (already reported)
/// and matches nothing, not even `pool = ""`.
pub fn find(names: &Names<'_>, wanted: &str) -> Option<usize> {
    names.index.get(wanted).copied()
}

/// Reports that no `what` is named `at`, listing the `known` names (empty ones are missing
/// names, already reported).
pub fn unknown_reference(r: &mut Reader<'_>, at: &Located<String>, what: &str, known: &[&str]) {
    let help = if known.iter().all(|k| k.is_empty()) {
        // `what` is the table's name in words: "target group" is written [[target_group]].
        let none = if known.is_empty() {
            "is defined"
        } else {
            "has a usable name"
        };
        format!(
            "no {what} {none}: add a [[{}]] named {}",
            what.replace(' ', "_"),
            quoted(&at.value)
        )
    } else {
        // The first names only: a file of 100,000 pools must not put them all in every message.
        format!("use one of: {}", list(known))
    };
    r.error(
        at,
        format!("there is no {what} named {}", quoted(&at.value)),
        Some(help),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 14, item 14: a million names are checked for duplicates and looked up in well under
    /// a second (both were scans: 5e11 comparisons, hours). The bound is generous: 20 times
    /// what the two-core CI machine takes.
    #[test]
    fn duplicate_names_and_references_are_found_in_linear_time() {
        const N: usize = 1_000_000;
        let names: Vec<Located<String>> = (0..N)
            .map(|i| Located {
                value: format!("pool{i}"),
                path: String::new(),
                span: (i, i + 1),
            })
            .collect();
        let start = std::time::Instant::now();
        let refs: Vec<&Located<String>> = names.iter().chain([&names[7]]).collect();
        let mut r = Reader::new("");
        assert!(!check_unique(&mut r, &refs, "pool", "h"));
        let d = r.into_diagnostics();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].message, "pool \"pool7\" is defined twice");
        let index: Names<'_> = names.iter().map(|n| n.value.as_str()).chain([""]).collect();
        for i in (0..N).step_by(7) {
            assert_eq!(find(&index, &names[i].value), Some(i));
        }
        // The first of two equal names, as a scan finds it; an empty name matches nothing.
        let twice: Names<'_> = ["a", "b", "a", ""].into_iter().collect();
        assert_eq!(find(&twice, "a"), Some(0));
        assert_eq!(find(&twice, ""), None);
        let took = start.elapsed();
        assert!(took.as_secs_f64() < 10.0, "took {took:?}");
    }
}
