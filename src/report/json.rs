//! `summary.json` and `aggregate.json`: the [`Summary`] and the [`Aggregate`] as pretty JSON.
//! Maps are `BTreeMap`s and an aggregate's metrics keep the columns' order, so the bytes depend
//! only on the numbers.

use crate::metrics::{Aggregate, Summary};

/// The summary as JSON bytes, ending with a newline.
pub fn summary_json(summary: &Summary) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(summary).expect("a summary always serializes");
    bytes.push(b'\n');
    bytes
}

/// `aggregate.json`'s bytes: pretty JSON with a final newline.
pub fn aggregate_json(a: &Aggregate) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(a).expect("an aggregate serializes");
    out.push(b'\n');
    out
}
