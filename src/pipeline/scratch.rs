//! A scratch folder for commands without an output folder of their own (`check`,
//! `sql`): where their rows spill and where `sql` writes the views of all units.
//! It is removed when the command ends.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    /// A new folder under the system's temporary folder (`TMPDIR`).
    pub fn new(command: &str) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("zhijian-{command}-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(Self { dir })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Where raw rows spill.
    pub fn spill_path(&self) -> PathBuf {
        self.dir.join("spill.arrows")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
