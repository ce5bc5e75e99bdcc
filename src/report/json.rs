//! `summary.json`: the [`Summary`] as pretty JSON. Maps are `BTreeMap`s, so key order is fixed
//! and the bytes depend only on the numbers.

use crate::metrics::Summary;

/// The summary as JSON bytes, ending with a newline.
pub fn summary_json(summary: &Summary) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(summary).expect("a summary always serializes");
    bytes.push(b'\n');
    bytes
}
