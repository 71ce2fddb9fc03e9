//! One run per output folder. The lock is an advisory `flock` on
//! `OUT/.zhijian.lock`: the kernel holds it for exactly as long as the process
//! lives, so two runs can never both hold it (not even when they start together
//! or one of them finds the file still empty), and a run that was killed can
//! never leave a lock behind. The file itself only says who holds the lock, for
//! the message of a run that is refused.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rustix::fs::{FlockOperation, flock};

use crate::error::{Error, Result};

pub const LOCK_NAME: &str = ".zhijian.lock";

/// Holds the lock of an output folder until dropped.
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
    file: File,
    /// Who held the lock before, when a run that is gone left its file behind.
    pub took_over: Option<String>,
}

impl OutputLock {
    /// Takes the lock of `dir` (created if missing), or says who holds it.
    pub fn acquire(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join(LOCK_NAME);
        // The holder removes the file when it is done: a run that opened the old
        // file just before must try again on the new one.
        for _ in 0..16 {
            let mut file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| Error::io(&path, e))?;
            match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => {}
                Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
                    return Err(Error::Locked {
                        holder: describe(&read_all(&mut file)),
                        lock: path,
                    });
                }
                Err(e) => return Err(Error::io(&path, e.into())),
            }
            if !is_the_file_at(&file, &path) {
                continue;
            }
            let previous = read_all(&mut file);
            write_holder(&mut file).map_err(|e| Error::io(&path, e))?;
            return Ok(Self {
                path,
                file,
                took_over: (!previous.trim().is_empty()).then(|| describe(&previous)),
            });
        }
        Err(Error::Locked {
            lock: path,
            holder: "other runs that keep taking and releasing it".into(),
        })
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Removed while still locked; closing the file then releases the lock.
        let _ = std::fs::remove_file(&self.path);
        let _ = flock(&self.file, FlockOperation::Unlock);
    }
}

/// Whether `file` is still the one at `path` (not removed or replaced meanwhile).
fn is_the_file_at(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

fn read_all(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
    text
}

fn write_holder(file: &mut File) -> std::io::Result<()> {
    let text = format!(
        "pid={}\nstarted={}\n",
        std::process::id(),
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
    );
    file.set_len(0)?;
    file.rewind()?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

fn describe(text: &str) -> String {
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(str::trim)
    };
    match (value("pid"), value("started")) {
        (Some(pid), Some(started)) => format!("pid {pid}, started {started}"),
        (Some(pid), None) => format!("pid {pid}"),
        _ if text.trim().is_empty() => "a run that is just starting".to_string(),
        _ => format!("unreadable lock: {:?}", text.trim()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let lock = OutputLock::acquire(dir.path()).unwrap();
        assert_eq!(lock.took_over, None);
        let err = OutputLock::acquire(dir.path()).unwrap_err();
        assert!(matches!(err, Error::Locked { .. }), "{err}");
        assert!(
            err.to_string().contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(lock);
        assert!(!dir.path().join(LOCK_NAME).exists());
        OutputLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn the_lock_of_a_run_that_is_gone_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        // What a killed run leaves: the file, but no process holding it.
        std::fs::write(
            dir.path().join(LOCK_NAME),
            "pid=99999999\nstarted=2026-11-22T01:00:00Z\n",
        )
        .unwrap();
        let lock = OutputLock::acquire(dir.path()).unwrap();
        assert_eq!(
            lock.took_over.as_deref(),
            Some("pid 99999999, started 2026-11-22T01:00:00Z")
        );
        let text = std::fs::read_to_string(dir.path().join(LOCK_NAME)).unwrap();
        assert!(
            text.starts_with(&format!("pid={}\n", std::process::id())),
            "{text}"
        );
    }

    /// Another run has just created the lock and not yet written its pid: the lock
    /// is held, not stale.
    #[test]
    fn a_lock_still_being_written_is_held() {
        let dir = tempfile::tempdir().unwrap();
        let creator = std::fs::File::create(dir.path().join(LOCK_NAME)).unwrap();
        rustix::fs::flock(&creator, rustix::fs::FlockOperation::NonBlockingLockExclusive).unwrap();
        let err = OutputLock::acquire(dir.path()).unwrap_err();
        assert!(matches!(err, Error::Locked { .. }), "{err}");
        assert!(err.to_string().contains("just starting"), "{err}");
        drop(creator);
        OutputLock::acquire(dir.path()).unwrap();
    }

    /// Runs racing for one folder: never two holders at once.
    #[test]
    fn racing_runs_never_hold_the_lock_together() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let holders = AtomicUsize::new(0);
        let (taken, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..200 {
                        if let Ok(lock) = OutputLock::acquire(dir.path()) {
                            let now = holders.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            taken.fetch_add(1, Ordering::SeqCst);
                            std::thread::yield_now();
                            holders.fetch_sub(1, Ordering::SeqCst);
                            drop(lock);
                        }
                    }
                });
            }
        });
        assert!(taken.load(Ordering::SeqCst) > 0);
        assert_eq!(most.load(Ordering::SeqCst), 1, "two runs held the lock at once");
    }

    #[test]
    fn holders_are_described() {
        assert_eq!(describe("pid=7\nstarted=x\n"), "pid 7, started x");
        assert_eq!(describe(""), "a run that is just starting");
        assert_eq!(describe("garbage"), "unreadable lock: \"garbage\"");
    }
}
