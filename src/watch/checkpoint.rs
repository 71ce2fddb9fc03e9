//! `--state FILE`: where every file was read to and every live session, saved
//! between passes (never in the middle of one), so a restarted watch goes on from
//! exactly there: no byte read twice, no round forgotten, no alert repeated.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::follow::FileState;
use super::tracker::TrackerState;
use crate::error::{Error, Result};

const VERSION: u32 = 1;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    /// The `--from` format the offsets are of.
    pub from: String,
    pub files: BTreeMap<PathBuf, FileState>,
    pub tracker: TrackerState,
}

impl Checkpoint {
    pub fn new(from: &str, files: BTreeMap<PathBuf, FileState>, tracker: TrackerState) -> Self {
        Self {
            version: VERSION,
            from: from.to_string(),
            files,
            tracker,
        }
    }
}

/// The saved state, or `None` when the file does not exist yet.
pub fn load(path: &Path, from: &str) -> Result<Option<Checkpoint>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let bad = |message: String| Error::Input {
        path: path.to_path_buf(),
        message,
    };
    let checkpoint: Checkpoint = serde_json::from_slice(&bytes)
        .map_err(|e| bad(format!("not a watch state file ({e}); delete it to start over")))?;
    if checkpoint.version != VERSION {
        return Err(bad(format!(
            "state version {} is not {VERSION}: delete it to start over",
            checkpoint.version
        )));
    }
    if checkpoint.from != from {
        return Err(bad(format!(
            "saved for --from {}, not {from}: use another --state file",
            checkpoint.from
        )));
    }
    Ok(Some(checkpoint))
}

/// Writes the state whole or not at all (a temporary file, then a rename).
pub fn save(path: &Path, checkpoint: &Checkpoint) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("state");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let bytes = serde_json::to_vec(checkpoint).map_err(|e| Error::Internal(e.to_string()))?;
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_and_refuses_others() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert!(load(&path, "canonical").unwrap().is_none());
        let mut files = BTreeMap::new();
        files.insert(
            PathBuf::from("a.jsonl"),
            FileState {
                offset: 42,
                reader: serde_json::json!({"next_line": 3}),
            },
        );
        save(
            &path,
            &Checkpoint::new("canonical", files, TrackerState::default()),
        )
        .unwrap();
        let back = load(&path, "canonical").unwrap().unwrap();
        assert_eq!(back.files[&PathBuf::from("a.jsonl")].offset, 42);
        assert!(load(&path, "qianniu-copy").is_err());
        std::fs::write(&path, "{").unwrap();
        assert!(
            load(&path, "canonical")
                .unwrap_err()
                .to_string()
                .contains("delete it")
        );
    }
}
