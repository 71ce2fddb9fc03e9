//! The one owner of an output folder's hidden names. Every command that writes
//! into a folder (`run`, `ingest`, `kpi`, `report`) opens a [`Publisher`] on it:
//! it takes the folder's lock, cleans what an interrupted run left, hands out the
//! hidden places where new things are built (staging folders and files, the
//! spill file), and swaps each built thing into its place whole.
//!
//! Hidden names, all beside their final place:
//! - `.NAME.tmp-PID`: `NAME` being built (a folder or a file);
//! - `.NAME.old-PID`: a published `NAME` moved aside during a swap on a file
//!   system that cannot exchange two paths atomically;
//! - `.spill-PID.arrows`: rows a run spilled to disk;
//! - `.zhijian.lock`: the lock ([`super::lock`]).
//!
//! A reader (or a crash) sees the old complete `NAME` or the new complete one,
//! never a mix; the next run restores or removes what was left, and says so.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::outputs::lock::{LOCK_NAME, OutputLock};

/// What a hidden entry of an output folder is.
#[derive(Debug, PartialEq, Eq)]
enum Hidden<'a> {
    Staging { target: &'a str },
    Aside { target: &'a str },
    Spill,
    Lock,
}

impl<'a> Hidden<'a> {
    fn parse(name: &'a str) -> Option<Self> {
        if name == LOCK_NAME {
            return Some(Hidden::Lock);
        }
        let rest = name.strip_prefix('.')?;
        if let Some(pid) = rest
            .strip_prefix("spill-")
            .and_then(|r| r.strip_suffix(".arrows"))
        {
            return is_pid(pid).then_some(Hidden::Spill);
        }
        let (stem, pid) = rest.rsplit_once('-')?;
        if !is_pid(pid) {
            return None;
        }
        match stem.rsplit_once('.')? {
            (target, "tmp") if !target.is_empty() => Some(Hidden::Staging { target }),
            (target, "old") if !target.is_empty() => Some(Hidden::Aside { target }),
            _ => None,
        }
    }
}

fn is_pid(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn hidden_name(target: &str, kind: &str) -> String {
    format!(".{target}.{kind}-{}", std::process::id())
}

/// An output folder, locked for this process.
#[derive(Debug)]
pub struct Publisher {
    root: PathBuf,
    _lock: OutputLock,
}

impl Publisher {
    /// Locks `root` (created if missing) and cleans what interrupted runs left in
    /// it. Returns the lines to log: a stale lock taken over, everything restored
    /// or removed.
    pub fn open(root: &Path) -> Result<(Self, Vec<String>)> {
        let lock = OutputLock::acquire(root)?;
        let mut log = Vec::new();
        if let Some(previous) = &lock.took_over {
            log.push(format!("took over the lock of a run that is gone ({previous})"));
        }
        let publisher = Self {
            root: root.to_path_buf(),
            _lock: lock,
        };
        log.extend(publisher.recover()?);
        Ok((publisher, log))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// An empty hidden folder in which `root/name` is built.
    pub fn stage_folder(&self, name: &str) -> Result<Staging> {
        let staging = self.staging(name);
        remove_path(&staging.path)?;
        crate::failpoint!("publish::stage");
        std::fs::create_dir_all(&staging.path).map_err(|e| Error::io(&staging.path, e))?;
        Ok(staging)
    }

    /// The hidden path at which the file `root/name` is written (nothing is created).
    pub fn stage_file(&self, name: &str) -> Result<Staging> {
        let staging = self.staging(name);
        remove_path(&staging.path)?;
        Ok(staging)
    }

    fn staging(&self, name: &str) -> Staging {
        Staging {
            path: self.root.join(hidden_name(name, "tmp")),
            target: self.root.join(name),
            published: false,
        }
    }

    /// Where this process spills rows: removed when dropped, and by the next run
    /// if the process is killed.
    pub fn spill_file(&self) -> SpillFile {
        SpillFile(self.root.join(format!(".spill-{}.arrows", std::process::id())))
    }

    /// Puts a built folder or file in its place, replacing an older one whole.
    pub fn publish(&self, mut staging: Staging) -> Result<PathBuf> {
        let (built, target) = (staging.path.clone(), staging.target.clone());
        // Everything must be on disk before the swap makes it visible.
        sync_tree(&built)?;
        crate::failpoint!("publish::before-swap");
        if std::fs::symlink_metadata(&target).is_err() {
            std::fs::rename(&built, &target).map_err(|e| Error::io(&target, e))?;
        } else if built.is_file() {
            // A file replaces a file in one rename.
            std::fs::rename(&built, &target).map_err(|e| Error::io(&target, e))?;
        } else if exchange(&built, &target)? {
            crate::failpoint!("publish::after-exchange");
            // `built` now holds the old folder.
            remove_path(&built)?;
        } else {
            // No atomic exchange on this file system: the old folder is moved aside
            // first. A crash between the two renames leaves it at `.NAME.old-PID`,
            // which the next run puts back.
            let name = file_name(&target)?;
            let aside = self.root.join(hidden_name(&name, "old"));
            std::fs::rename(&target, &aside).map_err(|e| Error::io(&target, e))?;
            crate::failpoint!("publish::between-renames");
            std::fs::rename(&built, &target).map_err(|e| Error::io(&target, e))?;
            remove_path(&aside)?;
        }
        staging.published = true;
        sync_dir(&self.root)?;
        Ok(target)
    }

    /// Cleans what interrupted runs left: staging and spill files are removed, a
    /// published folder moved aside and never replaced is put back. Only this
    /// process holds the lock, so nothing hidden belongs to a live run.
    fn recover(&self) -> Result<Vec<String>> {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Ok(Vec::new());
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        names.sort();
        let mut done = Vec::new();
        for name in &names {
            let path = self.root.join(name);
            match Hidden::parse(name) {
                Some(Hidden::Aside { target })
                    if std::fs::symlink_metadata(self.root.join(target)).is_err() =>
                {
                    let target = self.root.join(target);
                    std::fs::rename(&path, &target).map_err(|e| Error::io(&path, e))?;
                    done.push(format!(
                        "restored {} from an interrupted publish",
                        target.display()
                    ));
                }
                Some(Hidden::Aside { .. } | Hidden::Staging { .. } | Hidden::Spill) => {
                    remove_path(&path)?;
                    done.push(format!("removed {} left by an interrupted run", path.display()));
                }
                Some(Hidden::Lock) | None => {}
            }
        }
        Ok(done)
    }
}

/// The spill file of a run; removed however the run ends but a kill.
#[derive(Debug)]
pub struct SpillFile(PathBuf);

impl SpillFile {
    pub fn path(&self) -> PathBuf {
        self.0.clone()
    }
}

impl Drop for SpillFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Something being built at a hidden place, and where it goes. Dropped before it
/// is published (an error on the way), it is removed.
#[derive(Debug)]
pub struct Staging {
    path: PathBuf,
    target: PathBuf,
    published: bool,
}

impl Staging {
    /// Where to build.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where it will be published.
    pub fn target(&self) -> &Path {
        &self.target
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.published {
            let _ = remove_path(&self.path);
        }
    }
}

fn file_name(path: &Path) -> Result<String> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| Error::Internal(format!("{}: no UTF-8 file name", path.display())))
}

/// Removes a file or a folder; a missing one is fine.
fn remove_path(path: &Path) -> Result<()> {
    let removed = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => Err(e),
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    };
    removed.map_err(|e| Error::io(path, e))
}

/// Swaps two paths atomically; `false` when the file system cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> Result<bool> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    crate::failpoint!("publish::no-exchange", |_| Ok(false));
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

fn sync_tree(path: &Path) -> Result<()> {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
            sync_tree(&entry.map_err(|e| Error::io(path, e))?.path())?;
        }
        sync_dir(path)
    } else {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        file.sync_all().map_err(|e| Error::io(path, e))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn folder_with(path: &Path, file: &str, text: &str) {
        std::fs::create_dir_all(path).unwrap();
        std::fs::write(path.join(file), text).unwrap();
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn publish_replaces_a_folder_whole() {
        let dir = tempfile::tempdir().unwrap();
        folder_with(&dir.path().join("date=2026-11-11"), "old.txt", "old");
        let (publisher, _) = Publisher::open(dir.path()).unwrap();
        let staging = publisher.stage_folder("date=2026-11-11").unwrap();
        std::fs::write(staging.path().join("new.txt"), "new").unwrap();
        let target = publisher.publish(staging).unwrap();
        assert!(target.join("new.txt").exists());
        assert!(!target.join("old.txt").exists());
        drop(publisher);
        assert_eq!(
            names(dir.path()),
            ["date=2026-11-11"],
            "only the published folder remains"
        );
    }

    #[test]
    fn publish_creates_a_folder_and_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let (publisher, _) = Publisher::open(dir.path()).unwrap();
        let staging = publisher.stage_folder("date=2026-11-12").unwrap();
        std::fs::write(staging.path().join("a"), "a").unwrap();
        let target = publisher.publish(staging).unwrap();
        assert_eq!(std::fs::read_to_string(target.join("a")).unwrap(), "a");
        for text in ["one", "two"] {
            let staging = publisher.stage_file("_rejects.jsonl").unwrap();
            std::fs::write(staging.path(), text).unwrap();
            publisher.publish(staging).unwrap();
        }
        let rejects = dir.path().join("_rejects.jsonl");
        assert_eq!(std::fs::read_to_string(rejects).unwrap(), "two");
    }

    #[test]
    fn a_staging_dropped_unpublished_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let (publisher, _) = Publisher::open(dir.path()).unwrap();
        let staging = publisher.stage_folder("date=2026-11-11").unwrap();
        std::fs::write(staging.path().join("half"), "x").unwrap();
        drop(staging);
        drop(publisher);
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn recovery_restores_folders_moved_aside_and_removes_leftovers_of_any_kind() {
        let dir = tempfile::tempdir().unwrap();
        folder_with(&dir.path().join(".date=2026-11-11.old-999999"), "f", "old");
        folder_with(&dir.path().join(".date=2026-11-12.tmp-999999"), "f", "half");
        folder_with(&dir.path().join("date=2026-11-13"), "f", "kept");
        folder_with(&dir.path().join(".date=2026-11-13.old-999999"), "f", "stale");
        // Plain files: a spill file (old and new names) and a staged file.
        std::fs::write(dir.path().join(".spill.tmp-999999"), "rows").unwrap();
        std::fs::write(dir.path().join(".spill-999999.arrows"), "rows").unwrap();
        std::fs::write(dir.path().join("._rejects.jsonl.tmp-999999"), "half").unwrap();
        std::fs::write(dir.path().join(".notes"), "the user's own").unwrap();
        let (publisher, log) = Publisher::open(dir.path()).unwrap();
        assert_eq!(log.len(), 6, "{log:?}");
        drop(publisher);
        assert_eq!(
            names(dir.path()),
            [".notes", "date=2026-11-11", "date=2026-11-13"]
        );
        let restored = dir.path().join("date=2026-11-11/f");
        assert_eq!(std::fs::read_to_string(restored).unwrap(), "old");
    }

    #[test]
    fn hidden_names() {
        assert_eq!(
            Hidden::parse(".date=2026-11-11.tmp-42"),
            Some(Hidden::Staging {
                target: "date=2026-11-11"
            })
        );
        assert_eq!(
            Hidden::parse("._rejects.old-7"),
            Some(Hidden::Aside { target: "_rejects" })
        );
        assert_eq!(Hidden::parse(".spill-42.arrows"), Some(Hidden::Spill));
        assert_eq!(
            Hidden::parse(".spill.tmp-42"),
            Some(Hidden::Staging { target: "spill" })
        );
        assert_eq!(Hidden::parse(".zhijian.lock"), Some(Hidden::Lock));
        assert_eq!(Hidden::parse("date=2026-11-11"), None);
        assert_eq!(Hidden::parse(".x.tmp-"), None);
        assert_eq!(Hidden::parse("..tmp-4"), None);
        assert_eq!(Hidden::parse(".git"), None);
    }
}
