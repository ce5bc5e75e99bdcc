//! Gates for continuous integration: judging result folders against service-level objectives
//! (`fleetsim check`) and against an earlier result folder (`fleetsim compare`).
//!
//! - what a scenario's `[slo]` table asks for is a description of the file format
//!   ([`crate::scenario::spec::SloSpec`]), read by the scenario reader and judged here.
//! - [`results`]: reading a result folder back (either layout of `fleetsim run`: one
//!   `summary.json`, or one folder per run with `summary.json` or `aggregate.json`), and the
//!   closed list of metrics the gates judge.
//! - [`check`](mod@check): each run's objectives against its results, with the pessimistic end of the
//!   confidence interval when the run was replicated.
//! - [`compare`](mod@compare): two result folders side by side; a change counts as a regression only when it
//!   exceeds its threshold *and* lies outside the noise ([`significance`]).
//!
//! It must not know how results are produced: it reads the files `fleetsim run` writes, so it
//! judges a folder from any build, and formats text (writing it is the caller's job).

pub mod check;
pub mod compare;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod results;
pub mod significance;
mod table;

pub use check::{check, CheckReport};
pub use compare::{compare, Comparison, Thresholds, ThresholdsError};
pub use results::{Estimate, Metric, ResultFolder, ResultsError, RunResults};
