//! The timeline's window as a scenario sets it (`window`): its bounds and its default. The
//! file format enforces them, so that the recorder (`crate::metrics`) is handed a window that
//! keeps its timeline bounded, and never has to refuse one.

use crate::time::SimDuration;

/// The most windows a run's timeline may have: a million rows (about 300 MB of
/// `timeline.csv`; 24 MB per region for `regions.csv`, which is kept in memory). A ten-second
/// window covers 115 days with it; a longer run's default window widens to fit.
pub const MAX_WINDOWS: u64 = 1_000_000;

/// The narrowest timeline window: a millisecond. A window is a timer of its own (a row per
/// window, even when nothing happens), so a window of a nanosecond would never let a run end.
pub const MIN_WINDOW: SimDuration = SimDuration::from_millis(1);

/// The default window for a run of `duration`: 10 s, widened to whole seconds for a run so
/// long that 10 s would make more than [`MAX_WINDOWS`] rows.
pub fn default_window(duration: SimDuration) -> SimDuration {
    let fit = duration.as_nanos().div_ceil(MAX_WINDOWS);
    let secs = fit.div_ceil(1_000_000_000).max(10);
    SimDuration::from_secs(secs)
}
