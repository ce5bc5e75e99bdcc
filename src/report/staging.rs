//! All-or-nothing result folders. A command that writes a result folder (`run`, `check`,
//! `merge`, a shard's run, `report`) writes everything into a fresh staging folder beside
//! `--out` and moves it into place when it is complete, so that `--out` is at every moment
//! either absent, the previous complete folder, or the new complete one, never a mix.
//!
//! - **Staging.** `.<out name>.fleetsim-staging-<pid>`, beside `--out` (the same file system, so
//!   that the move is a rename), hidden. It is removed on any error ([`Staging`]'s `Drop`), and
//!   on SIGINT/SIGTERM by [`remove_after_interrupt`], which the binary's signal handler calls.
//! - **Replacing.** On Linux the new folder and the old one are swapped in one step
//!   (`renameat2(2)` with `RENAME_EXCHANGE`), then the old one, now at the staging name, is
//!   removed; elsewhere (or on a file system without it) the old folder is renamed aside to
//!   `.<out name>.fleetsim-old-<pid>`, the new one renamed in, the old one removed.
//! - **Safety.** An existing `--out` is replaced only if it is empty or recognisably a
//!   fleetsim result folder: it holds [`layout::MARKER`], which every folder written from now on
//!   holds, or (folders of earlier versions) a `summary.json`, `comparison.csv` or `shard.json`.
//!   Anything else is refused: fleetsim never deletes a folder it did not write.
//! - **One writer.** A lock file `.<out name>.fleetsim-lock` beside `--out`, held (`flock`
//!   through std's `File::try_lock`) from before the staging folder exists until after it is gone
//!   or moved: a second run into the same `--out` is refused at once ([`OutputError::Busy`]).
//!   The lock is released by the kernel when its holder dies, however it dies; so a run that
//!   holds it knows that every staging folder of its `--out` left beside it belongs to a run that
//!   is gone (killed with SIGKILL, or the machine stopped), and removes them first.
//!
//! Writers inside the staging folder never create the folder itself (only folders below it, with
//! [`create_dirs`]): once an interrupt has moved it away, a write fails instead of making it
//! again.
//!
//! It must not know what the files contain.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use crate::layout;

/// Why a result folder could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// Another run holds the output folder's lock.
    #[error("{} is being written by another fleetsim run (it holds {})\nhelp: wait until that run ends, or give this one another --out", .out.display(), .lock.display())]
    Busy {
        /// The output folder.
        out: PathBuf,
        /// Its lock file.
        lock: PathBuf,
    },
    /// The output folder exists and is not one fleetsim may replace.
    #[error("{} {why}\nhelp: {help}", .out.display())]
    Refused {
        /// The output folder.
        out: PathBuf,
        /// What is wrong with it.
        why: String,
        /// What to do.
        help: String,
    },
    /// The file system failed: a folder cannot be created, a file cannot be written.
    #[error("cannot write {}: {source}\nhelp: check that the folder is writable and the disk is not full, or give another --out", .path.display())]
    Io {
        /// What was being written.
        path: PathBuf,
        /// The failure.
        #[source]
        source: io::Error,
    },
}

impl OutputError {
    /// True for a failure of the machine rather than of the input: a busy or unwritable folder
    /// (exit code 3), not a folder that fleetsim refuses to replace (exit code 2).
    pub fn is_environment(&self) -> bool {
        !matches!(self, OutputError::Refused { .. })
    }

    /// A failure writing `path`.
    pub fn io(path: &Path, source: io::Error) -> OutputError {
        OutputError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// One output folder being written by this process: its lock file, and the folder to remove
/// if the process is interrupted (the staging folder, or after the swap the old folder).
struct Entry {
    lock: PathBuf,
    folder: Option<PathBuf>,
}

/// What this process is writing, and whether it was interrupted.
struct Active {
    entries: Vec<Entry>,
    interrupted: bool,
}

impl Active {
    fn entry(&mut self, lock: &Path) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.lock == lock)
    }
}

static ACTIVE: Mutex<Active> = Mutex::new(Active {
    entries: Vec::new(),
    interrupted: false,
});

fn active() -> std::sync::MutexGuard<'static, Active> {
    // A thread that panicked while holding it left consistent data: every change is one push,
    // one retain or one assignment.
    ACTIVE.lock().unwrap_or_else(|e| e.into_inner())
}

fn interrupted_error(path: &Path) -> OutputError {
    OutputError::io(path, io::Error::from(io::ErrorKind::Interrupted))
}

/// Whether [`remove_after_interrupt`] has run: the process is being interrupted.
pub fn interrupted() -> bool {
    active().interrupted
}

/// Removes every staging folder in progress and its lock file, and makes every later
/// [`Staging::begin`] and [`Staging::commit`] fail: for the binary's SIGINT/SIGTERM handler,
/// which exits right after (code 130). A commit under way finishes first (it holds the same
/// mutex), and then its old folder is what is removed.
/// Returns whether an unfinished folder was removed.
pub fn remove_after_interrupt() -> bool {
    let mut a = active();
    a.interrupted = true;
    let mut removed = false;
    for e in std::mem::take(&mut a.entries) {
        if let Some(folder) = &e.folder {
            discard(folder);
            removed = true;
        }
        let _ = fs::remove_file(&e.lock);
    }
    removed
}

/// Removes `folder`, a staging folder that writers may still be filling: it is first renamed to
/// a name no writer knows (so that no new file can appear in it), then removed, trying again
/// while files that were being created as it moved still appear.
fn discard(folder: &Path) {
    let mut trash = folder.as_os_str().to_owned();
    trash.push("-discarded");
    let trash = PathBuf::from(trash);
    let target = if fs::rename(folder, &trash).is_ok() {
        trash
    } else {
        folder.to_path_buf()
    };
    for _ in 0..100 {
        match fs::remove_dir_all(&target) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            _ => return,
        }
    }
}

/// A result folder being written: everything goes into [`Staging::dir`], and
/// [`Staging::commit`] puts it in place of `--out`. Dropped without a commit (an error, a
/// panic), it removes the staging folder and leaves `--out` as it was.
#[derive(Debug)]
pub struct Staging {
    /// `--out`, absolute, its last component not a symbolic link.
    out: PathBuf,
    /// The staging folder.
    dir: PathBuf,
    /// The lock file, and the open file that holds the lock.
    lock: Option<(PathBuf, File)>,
}

/// `.<name>.fleetsim-<what>`: the hidden names fleetsim gives the files it keeps beside `out`.
fn sibling(out: &Path, what: &str) -> PathBuf {
    let mut name = OsString::from(".");
    name.push(out.file_name().unwrap_or_default());
    name.push(".fleetsim-");
    name.push(what);
    out.with_file_name(name)
}

/// The lock file of the output folder `out` (absolute, as [`Staging`] resolves it).
pub fn lock_path(out: &Path) -> PathBuf {
    sibling(out, "lock")
}

/// `out` made absolute and resolved (symbolic links, `.` and `..`): a folder that exists is
/// resolved whole, so that a link to a folder has the folder replaced, not the link; for one
/// that does not, its parent is created and resolved.
fn resolve(out: &Path) -> Result<PathBuf, OutputError> {
    let refuse = |why: &str| OutputError::Refused {
        out: out.to_path_buf(),
        why: why.into(),
        help: "give --out a folder, such as output/run1".into(),
    };
    if out.as_os_str().is_empty() {
        return Err(refuse("is empty"));
    }
    let absolute = if out.is_absolute() {
        out.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| OutputError::io(out, e))?
            .join(out)
    };
    if fs::metadata(&absolute).is_ok() {
        let resolved = fs::canonicalize(&absolute).map_err(|e| OutputError::io(out, e))?;
        if resolved.parent().is_none() {
            return Err(refuse("is the root of the file system"));
        }
        return Ok(resolved);
    }
    let (Some(parent), Some(name)) = (absolute.parent(), absolute.file_name()) else {
        return Err(refuse("does not name a folder"));
    };
    fs::create_dir_all(parent).map_err(|e| OutputError::io(parent, e))?;
    let parent = fs::canonicalize(parent).map_err(|e| OutputError::io(parent, e))?;
    Ok(parent.join(name))
}

/// What is at `out` now.
enum Existing {
    /// Nothing.
    Absent,
    /// A folder fleetsim may replace: empty, or its own.
    Replaceable,
}

fn inspect(out: &Path, shown: &Path) -> Result<Existing, OutputError> {
    let refuse = |why: String, help: &str| OutputError::Refused {
        out: shown.to_path_buf(),
        why,
        help: help.into(),
    };
    let meta = match fs::symlink_metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Existing::Absent),
        Err(e) => return Err(OutputError::io(out, e)),
    };
    if !meta.is_dir() {
        return Err(refuse(
            "exists and is not a folder".into(),
            "give --out a folder (it is created if absent), or remove the file first",
        ));
    }
    if let Ok(cwd) = std::env::current_dir().and_then(fs::canonicalize) {
        if cwd.starts_with(out) {
            return Err(refuse(
                "holds the current directory, and fleetsim replaces an output folder whole".into(),
                "give --out a folder beside or below the current directory",
            ));
        }
    }
    let mut entries: Vec<String> = Vec::new();
    for e in fs::read_dir(out).map_err(|e| OutputError::io(out, e))? {
        let e = e.map_err(|e| OutputError::io(out, e))?;
        entries.push(e.file_name().to_string_lossy().into_owned());
    }
    if entries.is_empty() {
        return Ok(Existing::Replaceable);
    }
    let is_file =
        |name: &str| fs::symlink_metadata(out.join(name)).is_ok_and(|m| m.file_type().is_file());
    let ours = is_file(layout::MARKER)
        || [
            layout::SUMMARY_JSON,
            layout::COMPARISON_CSV,
            layout::MANIFEST_JSON,
        ]
        .iter()
        .any(|f| is_file(f));
    if ours {
        return Ok(Existing::Replaceable);
    }
    entries.sort();
    let shown_entries: Vec<&str> = entries.iter().take(5).map(String::as_str).collect();
    let more = if entries.len() > 5 { ", ..." } else { "" };
    Err(refuse(
        format!(
            "is not empty and is not a fleetsim result folder (it holds {}{more}); fleetsim replaces an output folder whole and never deletes a folder it did not write",
            shown_entries.join(", ")
        ),
        "give --out a new or empty folder, or one that fleetsim wrote",
    ))
}

/// Takes the lock file of `out`: a file beside it, locked with `flock`. A holder that finished
/// removes the file before it unlocks, so the file locked may have been unlinked between our
/// open and our lock; then the lock is on a file no one else will look at, and we take it again.
fn take_lock(out: &Path, shown: &Path) -> Result<(PathBuf, File), OutputError> {
    let path = lock_path(out);
    loop {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| OutputError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(OutputError::Busy {
                    out: shown.to_path_buf(),
                    lock: path,
                })
            }
            Err(fs::TryLockError::Error(e)) => return Err(OutputError::io(&path, e)),
        }
        if same_file(&file, &path) {
            return Ok((path, file));
        }
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

/// Removes what runs into `out` that are gone left beside it: their staging and set-aside
/// folders (`.<name>.fleetsim-staging-*`, `.<name>.fleetsim-old-*`). Only called with `out`'s
/// lock held, which proves that their owners are gone.
fn remove_stale(out: &Path) {
    let (Some(parent), Some(name)) = (out.parent(), out.file_name()) else {
        return;
    };
    let mut prefixes = Vec::new();
    for what in ["staging-", "old-"] {
        let mut p = OsString::from(".");
        p.push(name);
        p.push(".fleetsim-");
        p.push(what);
        prefixes.push(p.to_string_lossy().into_owned());
    }
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let entry_name = e.file_name();
        let entry_name = entry_name.to_string_lossy();
        let ours = prefixes.iter().any(|p| {
            entry_name
                .strip_prefix(p.as_str())
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        });
        // A folder only, never a link (remove_dir_all does not follow links inside).
        if ours && e.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

impl Staging {
    /// Starts writing a new result folder for `out`: takes its lock, checks that it may be
    /// replaced, removes what killed runs left beside it, and makes an empty staging folder
    /// (holding only [`layout::MARKER`]).
    pub fn begin(out: &Path) -> Result<Staging, OutputError> {
        let resolved = resolve(out)?;
        let lock = {
            // Held while the lock is taken and recorded, so that an interrupt in between cannot
            // leave the lock file behind.
            let mut a = active();
            if a.interrupted {
                return Err(interrupted_error(&resolved));
            }
            let lock = take_lock(&resolved, out)?;
            a.entries.push(Entry {
                lock: lock.0.clone(),
                folder: None,
            });
            lock
        };
        let mut staging = Staging {
            out: resolved,
            dir: PathBuf::new(),
            lock: Some(lock),
        };
        inspect(&staging.out, out)?;
        remove_stale(&staging.out);
        let dir = sibling(&staging.out, &format!("staging-{}", std::process::id()));
        {
            let mut a = active();
            if a.interrupted {
                return Err(interrupted_error(&dir));
            }
            fs::create_dir(&dir).map_err(|e| OutputError::io(&dir, e))?;
            if let Some(e) = a.entry(&staging.lock_file()) {
                e.folder = Some(dir.clone());
            }
        }
        staging.dir = dir;
        write_marker(&staging.dir)?;
        Ok(staging)
    }

    /// Starts rewriting the existing result folder `out` (`fleetsim report`): as
    /// [`Staging::begin`], but `out` must exist, and the staging folder starts as a copy of it
    /// without the entries named in `skip` (left out at every depth). Files are hard-linked
    /// where the file system can, so nothing is copied.
    pub fn begin_update(out: &Path, skip: &[&str]) -> Result<Staging, OutputError> {
        if !out.is_dir() {
            return Err(OutputError::Refused {
                out: out.to_path_buf(),
                why: "is not a folder".into(),
                help: "give the --out folder of `fleetsim run`".into(),
            });
        }
        let staging = Staging::begin(out)?;
        copy_tree(&staging.out, &staging.dir, skip)?;
        Ok(staging)
    }

    /// The staging folder, where every file of the new result folder goes.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The output folder the staging folder will become (absolute).
    pub fn out(&self) -> &Path {
        &self.out
    }

    fn lock_file(&self) -> PathBuf {
        lock_path(&self.out)
    }

    /// Puts the staging folder in place of the output folder, which from now on holds the new
    /// files only; the old folder, if any, is removed.
    pub fn commit(mut self) -> Result<(), OutputError> {
        sync_dir(&self.dir);
        let lock = self.lock_file();
        {
            // Held until the old folder is gone: an interrupt meanwhile waits, rather than
            // exiting with the old folder half removed.
            let mut a = active();
            if a.interrupted {
                return Err(interrupted_error(&self.dir));
            }
            let old = self.swap()?;
            self.dir = PathBuf::new();
            if let Some(parent) = self.out.parent() {
                sync_dir(parent);
            }
            if let Some(old) = &old {
                discard(old);
            }
            if let Some(e) = a.entry(&lock) {
                e.folder = None;
            }
        }
        self.release();
        Ok(())
    }

    /// Moves the staging folder to `out`; returns where the old folder went, if there was one.
    fn swap(&self) -> Result<Option<PathBuf>, OutputError> {
        let exists = fs::symlink_metadata(&self.out).is_ok();
        if !exists {
            fs::rename(&self.dir, &self.out).map_err(|e| OutputError::io(&self.out, e))?;
            return Ok(None);
        }
        if exchange(&self.dir, &self.out).is_ok() {
            return Ok(Some(self.dir.clone()));
        }
        let aside = sibling(&self.out, &format!("old-{}", std::process::id()));
        fs::rename(&self.out, &aside).map_err(|e| OutputError::io(&self.out, e))?;
        if let Err(e) = fs::rename(&self.dir, &self.out) {
            // Put the old folder back: the output folder stays as it was.
            let _ = fs::rename(&aside, &self.out);
            return Err(OutputError::io(&self.out, e));
        }
        Ok(Some(aside))
    }

    /// Forgets the entry, removes the lock file and unlocks it, in that order (see
    /// [`take_lock`]).
    fn release(&mut self) {
        if let Some((path, file)) = self.lock.take() {
            let mut a = active();
            a.entries.retain(|e| e.lock != path);
            let _ = fs::remove_file(&path);
            drop(file);
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.dir.as_os_str().is_empty() {
            let dir = std::mem::take(&mut self.dir);
            // Held while removing, as in `commit`.
            let mut a = active();
            if let Some(e) = a.entry(&self.lock_file()) {
                e.folder = None;
            }
            discard(&dir);
        }
        self.release();
    }
}

/// Swaps two folders in one step (Linux's `renameat2` with `RENAME_EXCHANGE`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let b = CString::new(b.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: two valid NUL-terminated paths, relative to the working directory (unused, the
    // paths are absolute); the call reads them and touches no memory of ours.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Flushes a folder's entries to disk, so that a crash after the rename does not lose files
/// that the rename made visible. Best effort: not every system can open a folder.
fn sync_dir(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

fn write_marker(dir: &Path) -> Result<(), OutputError> {
    let path = dir.join(layout::MARKER);
    fs::write(
        &path,
        "This folder was written by fleetsim. A later run into it replaces it whole.\n",
    )
    .map_err(|e| OutputError::io(&path, e))
}

/// Copies the tree `from` into the existing folder `to`, leaving out entries named in `skip`
/// and the marker (already there); files are hard-linked where possible (their dates come
/// along, which `report::results_dir` compares), else copied with their modification time.
fn copy_tree(from: &Path, to: &Path, skip: &[&str]) -> Result<(), OutputError> {
    for e in fs::read_dir(from).map_err(|e| OutputError::io(from, e))? {
        let e = e.map_err(|e| OutputError::io(from, e))?;
        let name = e.file_name();
        if skip.iter().any(|s| name == *s) || name == layout::MARKER {
            continue;
        }
        let (src, dst) = (e.path(), to.join(&name));
        let kind = e.file_type().map_err(|e| OutputError::io(&src, e))?;
        if kind.is_dir() {
            fs::create_dir(&dst).map_err(|e| OutputError::io(&dst, e))?;
            copy_tree(&src, &dst, skip)?;
        } else if kind.is_file() {
            if fs::hard_link(&src, &dst).is_err() {
                fs::copy(&src, &dst).map_err(|e| OutputError::io(&dst, e))?;
                if let Ok(modified) = fs::metadata(&src).and_then(|m| m.modified()) {
                    let _ = File::options()
                        .write(true)
                        .open(&dst)
                        .and_then(|f| f.set_modified(modified));
                }
            }
        } else {
            // A link or a special file: not something fleetsim writes; leave it out rather
            // than follow it.
        }
    }
    Ok(())
}

/// Creates the folder `root/rel` and those between, but never `root` itself: if `root` is gone
/// (an interrupt moved the staging folder away), this fails instead of making it again. `rel`
/// must be relative and go down only.
pub fn create_dirs(root: &Path, rel: &Path) -> io::Result<()> {
    let mut dir = root.to_path_buf();
    for c in rel.components() {
        match c {
            Component::Normal(part) => dir.push(part),
            Component::CurDir => continue,
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} does not go down from {}", rel.display(), root.display()),
                ))
            }
        }
        match fs::create_dir(&dir) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_committed_staging_replaces_the_old_folder_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let s = Staging::begin(&out).unwrap();
        fs::write(s.dir().join("old.txt"), "old").unwrap();
        s.commit().unwrap();
        assert_eq!(names(&out), [layout::MARKER, "old.txt"]);
        let s = Staging::begin(&out).unwrap();
        fs::write(s.dir().join("new.txt"), "new").unwrap();
        // Not there until the commit.
        assert!(!out.join("new.txt").exists());
        s.commit().unwrap();
        assert_eq!(names(&out), [layout::MARKER, "new.txt"]);
        // Nothing left beside it: no staging, no old folder, no lock.
        assert_eq!(names(tmp.path()), ["out"]);
    }

    #[test]
    fn a_dropped_staging_leaves_the_old_folder_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let s = Staging::begin(&out).unwrap();
        fs::write(s.dir().join("a"), "1").unwrap();
        s.commit().unwrap();
        {
            let s = Staging::begin(&out).unwrap();
            create_dirs(s.dir(), Path::new("run/rep-1")).unwrap();
            fs::write(s.dir().join("run/rep-1/b"), "2").unwrap();
        }
        assert_eq!(names(&out), [layout::MARKER, "a"]);
        assert_eq!(names(tmp.path()), ["out"]);
    }

    #[test]
    fn a_second_writer_is_refused_while_the_first_holds_the_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let first = Staging::begin(&out).unwrap();
        let e = Staging::begin(&out).unwrap_err();
        assert!(matches!(e, OutputError::Busy { .. }), "{e}");
        assert!(e.is_environment());
        drop(first);
        Staging::begin(&out).unwrap().commit().unwrap();
    }

    #[test]
    fn folders_fleetsim_did_not_write_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("mine");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("thesis.tex"), "years of work").unwrap();
        let e = Staging::begin(&out).unwrap_err();
        assert!(matches!(e, OutputError::Refused { .. }), "{e}");
        assert!(!e.is_environment());
        assert!(e.to_string().contains("thesis.tex"), "{e}");
        assert_eq!(names(&out), ["thesis.tex"]);
        assert_eq!(names(tmp.path()), ["mine"]);
        // A file is refused too; an empty folder and an earlier version's folder are not.
        let file = tmp.path().join("file");
        fs::write(&file, "x").unwrap();
        assert!(matches!(
            Staging::begin(&file).unwrap_err(),
            OutputError::Refused { .. }
        ));
        let empty = tmp.path().join("empty");
        fs::create_dir(&empty).unwrap();
        Staging::begin(&empty).unwrap().commit().unwrap();
        let legacy = tmp.path().join("legacy");
        fs::create_dir(&legacy).unwrap();
        fs::write(legacy.join("summary.json"), "{}").unwrap();
        fs::write(legacy.join("timeline.csv"), "").unwrap();
        Staging::begin(&legacy).unwrap().commit().unwrap();
        assert_eq!(names(&legacy), [layout::MARKER]);
    }

    #[test]
    fn stale_staging_folders_of_dead_runs_are_removed_and_others_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        // What a run killed with SIGKILL leaves: its staging folder, a set-aside folder and its
        // lock file (unlocked, its holder being dead).
        for stale in [".out.fleetsim-staging-4242", ".out.fleetsim-old-4242"] {
            fs::create_dir_all(tmp.path().join(stale).join("run")).unwrap();
        }
        fs::write(tmp.path().join(".out.fleetsim-lock"), "").unwrap();
        // Not ours: another output folder's, and a name that only looks alike.
        for kept in [
            ".other.fleetsim-staging-1",
            ".out.fleetsim-staging-x",
            "notes",
        ] {
            fs::create_dir(tmp.path().join(kept)).unwrap();
        }
        Staging::begin(&out).unwrap().commit().unwrap();
        assert_eq!(
            names(tmp.path()),
            [
                ".other.fleetsim-staging-1",
                ".out.fleetsim-staging-x",
                "notes",
                "out"
            ]
        );
    }

    #[test]
    fn an_update_starts_from_a_copy_without_the_skipped_files() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let s = Staging::begin(&out).unwrap();
        create_dirs(s.dir(), Path::new("run/charts")).unwrap();
        fs::write(s.dir().join("run/summary.json"), "s").unwrap();
        fs::write(s.dir().join("run/charts/x.svg"), "c").unwrap();
        fs::write(s.dir().join("report.html"), "r").unwrap();
        s.commit().unwrap();
        let s = Staging::begin_update(&out, &["charts", "report.html"]).unwrap();
        assert_eq!(names(s.dir()), [layout::MARKER, "run"]);
        assert_eq!(names(&s.dir().join("run")), ["summary.json"]);
        // The original is untouched until the commit.
        assert!(out.join("run/charts/x.svg").exists());
        s.commit().unwrap();
        assert!(!out.join("run/charts").exists());
        assert_eq!(fs::read(out.join("run/summary.json")).unwrap(), b"s");
    }

    #[test]
    fn create_dirs_never_makes_the_root_again() {
        let tmp = tempfile::tempdir().unwrap();
        let gone = tmp.path().join("gone");
        assert!(create_dirs(&gone, Path::new("a/b")).is_err());
        assert!(!gone.exists());
        assert!(create_dirs(tmp.path(), Path::new("../x")).is_err());
        create_dirs(tmp.path(), Path::new("a/b")).unwrap();
        assert!(tmp.path().join("a/b").is_dir());
    }

    #[test]
    fn a_staging_removed_under_a_writer_is_not_made_again_nor_committed() {
        // What an interrupt does to a staging folder (`discard`) while a writer still runs; the
        // process-wide `interrupted` flag is left alone (the other tests share it).
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let s = Staging::begin(&out).unwrap();
        fs::write(s.dir().join("a"), "1").unwrap();
        let dir = s.dir().to_path_buf();
        discard(&dir);
        assert!(!dir.exists());
        assert!(create_dirs(&dir, Path::new("run")).is_err());
        assert!(!dir.exists());
        assert!(s.commit().is_err());
        assert!(!out.exists());
        assert!(names(tmp.path()).is_empty(), "{:?}", names(tmp.path()));
    }
}
