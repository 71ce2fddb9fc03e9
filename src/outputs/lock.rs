//! One run per output folder: a lock file holding the owner's pid. A lock whose
//! process is gone (killed, machine rebooted) is stale and taken over.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub const LOCK_NAME: &str = ".zhijian.lock";

/// Holds the lock of an output folder until dropped.
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
    /// What the lock said when a stale one was taken over, for the log.
    pub took_over: Option<String>,
}

impl OutputLock {
    /// Takes the lock of `out` (created if missing), or says who holds it.
    pub fn acquire(out: &Path) -> Result<Self> {
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        let path = out.join(LOCK_NAME);
        if try_create(&path)? {
            return Ok(Self {
                path,
                took_over: None,
            });
        }
        let holder = std::fs::read_to_string(&path).unwrap_or_default();
        if Holder::parse(&holder).is_some_and(|h| h.is_running()) {
            return Err(Error::Locked {
                lock: path,
                holder: describe(&holder),
            });
        }
        // Stale. Remove it and race for it like a new run: if another process
        // got there first, it holds the lock now.
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        if try_create(&path)? {
            return Ok(Self {
                path,
                took_over: Some(describe(&holder)),
            });
        }
        let holder = std::fs::read_to_string(&path).unwrap_or_default();
        Err(Error::Locked {
            lock: path,
            holder: describe(&holder),
        })
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn try_create(path: &Path) -> Result<bool> {
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut file) => {
            let me = Holder::me();
            file.write_all(me.render().as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::io(path, e))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io(path, e)),
    }
}

fn describe(text: &str) -> String {
    match Holder::parse(text) {
        Some(h) => format!("pid {}, started {}", h.pid, h.started),
        None => format!("unreadable lock: {:?}", text.trim()),
    }
}

/// What a lock file records about its owner.
#[derive(Debug, PartialEq)]
struct Holder {
    pid: u32,
    /// The kernel's start time of the process, so that a recycled pid is not
    /// mistaken for the owner.
    start_ticks: Option<u64>,
    started: String,
}

impl Holder {
    fn me() -> Self {
        let pid = std::process::id();
        Self {
            pid,
            start_ticks: start_ticks(pid),
            started: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        }
    }

    fn render(&self) -> String {
        let ticks = self.start_ticks.map(|t| t.to_string()).unwrap_or_default();
        format!(
            "pid={}\nstart_ticks={ticks}\nstarted={}\n",
            self.pid, self.started
        )
    }

    fn parse(text: &str) -> Option<Self> {
        let value = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(str::trim)
        };
        Some(Self {
            pid: value("pid")?.parse().ok()?,
            start_ticks: value("start_ticks").and_then(|t| t.parse().ok()),
            started: value("started").unwrap_or("?").to_string(),
        })
    }

    fn is_running(&self) -> bool {
        if !process_exists(self.pid) {
            return false;
        }
        match (self.start_ticks, start_ticks(self.pid)) {
            (Some(recorded), Some(now)) => recorded == now,
            _ => true,
        }
    }
}

#[cfg(unix)]
fn process_exists(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else {
        return false;
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        // It exists but belongs to someone else.
        Err(e) => e == rustix::io::Errno::PERM,
    }
}

#[cfg(not(unix))]
fn process_exists(_: u32) -> bool {
    true
}

/// Field 22 of `/proc/PID/stat` (Linux): when the process started.
fn start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses; fields follow the last ')'.
    let after_name = &stat[stat.rfind(')')? + 2..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let lock = OutputLock::acquire(dir.path()).unwrap();
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
    fn a_stale_lock_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        // A pid beyond Linux's maximum (2^22) never runs.
        std::fs::write(
            dir.path().join(LOCK_NAME),
            "pid=99999999\nstart_ticks=1\nstarted=2026-11-22T01:00:00Z\n",
        )
        .unwrap();
        let lock = OutputLock::acquire(dir.path()).unwrap();
        assert_eq!(
            lock.took_over.as_deref(),
            Some("pid 99999999, started 2026-11-22T01:00:00Z")
        );
    }

    #[test]
    fn a_recycled_pid_does_not_hold_the_lock() {
        let me = Holder::me();
        let recycled = Holder {
            start_ticks: me.start_ticks.map(|t| t + 1),
            ..Holder::me()
        };
        assert!(me.is_running());
        assert_eq!(recycled.is_running(), me.start_ticks.is_none());
    }

    #[test]
    fn holder_round_trips() {
        let me = Holder::me();
        assert_eq!(Holder::parse(&me.render()), Some(me));
        assert_eq!(Holder::parse("garbage"), None);
    }

    #[test]
    fn start_ticks_of_this_process() {
        if cfg!(target_os = "linux") {
            assert!(start_ticks(std::process::id()).is_some());
        }
    }
}
