//! Traces already in memory: the base and every variant of a scenario set (validated one after
//! another) share one copy of each trace file.

use std::path::Path;
use std::sync::Arc;

use crate::model::traffic::trace_file::TraceError;
use crate::model::traffic::{TraceData, TraceFormat};

thread_local! {
    /// Traces already in memory on this thread, by file, format, size and modification time:
    /// the base and every variant of a scenario set (validated one after another) share one
    /// copy. Weak: a trace no scenario holds any more is freed.
    static LOADED: std::cell::RefCell<Vec<(LoadKey, std::sync::Weak<TraceData>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// What identifies a loaded trace: its path, format, and the file's size and modification time
/// (a file rewritten in between is read again).
type LoadKey = (
    std::path::PathBuf,
    TraceFormat,
    u64,
    Option<std::time::SystemTime>,
);

/// The trace at `path`, read once per thread while a scenario holds it.
pub fn load_shared(path: &Path, format: &TraceFormat) -> Result<Arc<TraceData>, TraceError> {
    let meta = std::fs::metadata(path).ok();
    let key: LoadKey = (
        path.to_path_buf(),
        format.clone(),
        meta.as_ref().map_or(0, |m| m.len()),
        meta.and_then(|m| m.modified().ok()),
    );
    if let Some(found) = LOADED.with(|l| {
        l.borrow()
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, w)| w.upgrade())
    }) {
        return Ok(found);
    }
    let data = Arc::new(TraceData::load(path, format)?);
    LOADED.with(|l| {
        let mut l = l.borrow_mut();
        l.retain(|(_, w)| w.strong_count() > 0);
        l.push((key, Arc::downgrade(&data)));
    });
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_is_read_once_while_held() {
        let dir = std::env::temp_dir().join(format!("fleetsim-trace-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.csv");
        std::fs::write(
            &path,
            "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9799600,1,2",
        )
        .unwrap();
        let a = load_shared(&path, &TraceFormat::AzureLlm).unwrap();
        let b = load_shared(&path, &TraceFormat::AzureLlm).unwrap();
        // The same arrays, not a second copy.
        assert!(Arc::ptr_eq(&a, &b));
        drop((a, b));
        // Rewritten (another size): read again.
        std::fs::write(
            &path,
            "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9799600,10,20",
        )
        .unwrap();
        let c = load_shared(&path, &TraceFormat::AzureLlm).unwrap();
        assert_eq!(c.tokens(0), (10, 20));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
