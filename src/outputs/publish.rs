//! Publishing a folder whole: it is built under a hidden staging name beside its
//! final place and swapped in with one rename, so a reader (or a crash) sees the
//! old complete folder or the new complete one, never a mix.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The hidden folder beside `target` where this process builds it.
pub fn staging_for(target: &Path) -> PathBuf {
    sibling(target, "tmp")
}

fn sibling(target: &Path, kind: &str) -> PathBuf {
    let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    target.with_file_name(format!(".{name}.{kind}-{}", std::process::id()))
}

/// An empty staging folder for `target` (a leftover of this pid is removed).
pub fn fresh_staging(target: &Path) -> Result<PathBuf> {
    let staging = staging_for(target);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
    }
    std::fs::create_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
    Ok(staging)
}

/// Puts `staging` in `target`'s place, replacing an older `target` whole.
pub fn publish(staging: &Path, target: &Path) -> Result<()> {
    // Everything in the folder must be on disk before the swap makes it visible.
    sync_tree(staging)?;
    if !target.exists() {
        std::fs::rename(staging, target).map_err(|e| Error::io(target, e))?;
    } else if exchange(staging, target)? {
        // `staging` now holds the old folder.
        std::fs::remove_dir_all(staging).map_err(|e| Error::io(staging, e))?;
    } else {
        // No atomic exchange on this file system: move the old folder aside first.
        // A crash between the two renames leaves it at `.NAME.old-PID`, which
        // [`recover`] puts back on the next run.
        let aside = sibling(target, "old");
        std::fs::rename(target, &aside).map_err(|e| Error::io(target, e))?;
        std::fs::rename(staging, target).map_err(|e| Error::io(target, e))?;
        std::fs::remove_dir_all(&aside).map_err(|e| Error::io(&aside, e))?;
    }
    if let Some(parent) = target.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Swaps two paths atomically; `false` when the system cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> Result<bool> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => Ok(false),
        Err(e) => Err(Error::io(b, e.into())),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> Result<bool> {
    Ok(false)
}

fn sync_tree(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
            file.sync_all().map_err(|e| Error::io(&path, e))?;
        }
    }
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<()> {
    // Directories can be opened and synced on Unix; elsewhere this is best effort.
    match std::fs::File::open(dir) {
        Ok(handle) => {
            let _ = handle.sync_all();
            Ok(())
        }
        Err(e) => Err(Error::io(dir, e)),
    }
}

/// Cleans what an interrupted run left in `out` (call it while holding the lock):
/// staging folders are removed, and a folder moved aside but never replaced is put
/// back. Returns what was done, for the log.
pub fn recover(out: &Path) -> Result<Vec<String>> {
    let mut done = Vec::new();
    let Ok(entries) = std::fs::read_dir(out) else {
        return Ok(done);
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    for name in names {
        let Some((target_name, kind)) = leftover(&name) else {
            continue;
        };
        let path = out.join(&name);
        let target = out.join(target_name);
        if kind == "old" && !target.exists() {
            std::fs::rename(&path, &target).map_err(|e| Error::io(&path, e))?;
            done.push(format!(
                "restored {} from an interrupted publish",
                target.display()
            ));
        } else {
            std::fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
            done.push(format!("removed {} left by an interrupted run", path.display()));
        }
    }
    Ok(done)
}

/// `.NAME.tmp-PID` or `.NAME.old-PID` → (NAME, "tmp" | "old").
fn leftover(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix('.')?;
    let (stem, pid) = rest.rsplit_once('-')?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (target, kind) = stem.rsplit_once('.')?;
    matches!(kind, "tmp" | "old").then_some((target, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder_with(path: &Path, file: &str, text: &str) {
        std::fs::create_dir_all(path).unwrap();
        std::fs::write(path.join(file), text).unwrap();
    }

    #[test]
    fn publish_replaces_a_folder_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("date=2026-11-11");
        folder_with(&target, "old.txt", "old");
        let staging = fresh_staging(&target).unwrap();
        std::fs::write(staging.join("new.txt"), "new").unwrap();
        publish(&staging, &target).unwrap();
        assert!(target.join("new.txt").exists());
        assert!(!target.join("old.txt").exists());
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "only the published folder remains");
    }

    #[test]
    fn publish_creates_a_new_folder() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("date=2026-11-12");
        let staging = fresh_staging(&target).unwrap();
        std::fs::write(staging.join("a"), "a").unwrap();
        publish(&staging, &target).unwrap();
        assert_eq!(std::fs::read_to_string(target.join("a")).unwrap(), "a");
    }

    #[test]
    fn recover_restores_a_folder_moved_aside_and_removes_staging() {
        let dir = tempfile::tempdir().unwrap();
        folder_with(&dir.path().join(".date=2026-11-11.old-999999"), "f", "old");
        folder_with(&dir.path().join(".date=2026-11-12.tmp-999999"), "f", "half");
        folder_with(&dir.path().join("date=2026-11-13"), "f", "kept");
        folder_with(&dir.path().join(".date=2026-11-13.old-999999"), "f", "stale");
        let done = recover(dir.path()).unwrap();
        assert_eq!(done.len(), 3, "{done:?}");
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["date=2026-11-11", "date=2026-11-13"]);
        let restored = dir.path().join("date=2026-11-11/f");
        assert_eq!(std::fs::read_to_string(restored).unwrap(), "old");
    }

    #[test]
    fn leftover_names() {
        assert_eq!(
            leftover(".date=2026-11-11.tmp-42"),
            Some(("date=2026-11-11", "tmp"))
        );
        assert_eq!(leftover("._rejects.old-7"), Some(("_rejects", "old")));
        assert_eq!(leftover(".zhijian.lock"), None);
        assert_eq!(leftover("date=2026-11-11"), None);
        assert_eq!(leftover(".x.tmp-"), None);
    }
}
