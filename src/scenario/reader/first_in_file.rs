//! The problems a reader keeps: the first ones in the file, and a count of the others.

use super::{Diagnostic, LineIndex};
use crate::scenario::diagnostics::thousands;

/// The first `cap` problems recorded by position in the file (then by order of recording),
/// and a count of the others: memory bounded by `cap`, time `O(log cap)` a problem, whatever
/// the number of problems.
pub(super) struct FirstInFile {
    cap: usize,
    /// A max-heap on (offset, sequence): the last kept problem is on top, to be replaced.
    kept: std::collections::BinaryHeap<Recorded>,
    /// Problems recorded, kept or not.
    pub(super) total: usize,
    /// The smallest and largest offsets of the problems not kept.
    dropped: Option<(usize, usize)>,
}

/// A problem and where it was recorded; its line and column are computed only if it is kept
/// (from a long line, that costs the line's length).
struct Recorded {
    offset: usize,
    seq: usize,
    diagnostic: Diagnostic,
}

impl PartialEq for Recorded {
    fn eq(&self, other: &Self) -> bool {
        (self.offset, self.seq) == (other.offset, other.seq)
    }
}
impl Eq for Recorded {}
impl PartialOrd for Recorded {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Recorded {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.offset, self.seq).cmp(&(other.offset, other.seq))
    }
}

impl FirstInFile {
    pub(super) fn new(cap: usize) -> Self {
        FirstInFile {
            cap,
            kept: std::collections::BinaryHeap::new(),
            total: 0,
            dropped: None,
        }
    }

    /// True if a problem at `offset` would be kept now (one not kept can skip composing its
    /// message: at most `cap` messages are composed beyond those kept, in file order).
    pub(super) fn keeps(&self, offset: usize) -> bool {
        self.kept.len() < self.cap || self.kept.peek().is_some_and(|last| offset < last.offset)
    }

    /// Counts a problem at `offset` that is not kept.
    pub(super) fn count_dropped(&mut self, offset: usize) {
        self.total += 1;
        self.dropped = Some(match self.dropped {
            Some((lo, hi)) => (lo.min(offset), hi.max(offset)),
            None => (offset, offset),
        });
    }

    pub(super) fn push(&mut self, offset: usize, diagnostic: Diagnostic) {
        let entry = Recorded {
            offset,
            seq: self.total,
            diagnostic,
        };
        self.total += 1;
        self.kept.push(entry);
        if self.kept.len() > self.cap {
            let out = self.kept.pop().map_or(offset, |e| e.offset);
            self.dropped = Some(match self.dropped {
                Some((lo, hi)) => (lo.min(out), hi.max(out)),
                None => (out, out),
            });
        }
    }

    /// The kept problems sorted by position, with their line and column, then one problem
    /// counting the others, if any (`what` names them in the plural).
    pub(super) fn finish(
        self,
        lines: &LineIndex<'_>,
        what: &str,
        help: &str,
    ) -> Vec<(usize, Diagnostic)> {
        let not_shown = self.total - self.kept.len();
        let mut out: Vec<(usize, Diagnostic)> = self
            .kept
            .into_sorted_vec()
            .into_iter()
            .map(|e| {
                let mut d = e.diagnostic;
                if e.offset != usize::MAX {
                    d.position = Some(lines.position(e.offset));
                }
                (e.offset, d)
            })
            .collect();
        if let Some((first, last)) = self.dropped {
            let line = |offset: usize| (offset != usize::MAX).then(|| lines.position(offset).0);
            let (from, to) = (line(first), line(last));
            let range = match (from, to) {
                (Some(a), Some(b)) if a == b => format!(" on line {}", thousands(a)),
                (Some(a), Some(b)) => {
                    format!(" from line {} to line {}", thousands(a), thousands(b))
                }
                _ => String::new(),
            };
            out.push((
                first,
                Diagnostic {
                    path: String::new(),
                    position: from.map(|l| (l, 1)),
                    message: format!(
                        "… and {} more {what}{range}, not listed one by one",
                        thousands(not_shown)
                    ),
                    help: Some(help.to_string()),
                },
            ));
        }
        out
    }
}
