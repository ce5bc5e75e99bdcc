//! Why the review report of a result folder could not be made (`fleetsim report`, and the
//! report `run`, `check` and `merge` write): typed, so that `main` tells the input's fault from
//! the machine's and says what to do. Each keeps the I/O error's own message.

use std::io;
use std::path::PathBuf;

/// Why the report of a result folder could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The folder does not read as a result folder of fleetsim (no runs, a summary that does
    /// not parse, a folder that is not there).
    #[error("{0}")]
    Results(io::Error),
    /// The scenario file given to echo in the report cannot be read.
    #[error("{}: {error}", .path.display())]
    Scenario {
        /// The file.
        path: PathBuf,
        /// Why.
        error: io::Error,
    },
    /// Drawing or writing the charts and pages failed (a timeline that does not read, or the
    /// folder cannot be written).
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl ReportError {
    /// The I/O error underneath: its kind tells a full disk from a broken file.
    pub fn io(&self) -> &io::Error {
        match self {
            ReportError::Results(e) | ReportError::Io(e) => e,
            ReportError::Scenario { error, .. } => error,
        }
    }
}
