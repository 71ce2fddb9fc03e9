//! Following the input folder: every readable file, from the offset consumed so
//! far to its current end, through that file's [`IncrementalReader`]. Only new
//! bytes are read; a file that shrank was replaced and is read again from the
//! start (said on stderr).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::source::{Decoded, IncrementalReader, reader_for};
use crate::error::{Error, Result};
use crate::timezone::TimeZones;

/// At most this much of one file is read per pass, so a huge backlog is taken in
/// steps of bounded memory. Messages are put in time order within a pass; a file
/// written session by session (not in time order) must fit in one pass for event
/// time to stay right, so the step is large.
pub const STEP_BYTES: u64 = 1 << 30;

/// A file's place, for `--state`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileState {
    /// Bytes consumed: the end of the last whole record read.
    pub offset: u64,
    /// What the file's reader keeps (line number, CSV header, ...).
    pub reader: serde_json::Value,
}

struct Tail {
    offset: u64,
    reader: Box<dyn IncrementalReader>,
}

pub struct Follower {
    inputs: Vec<PathBuf>,
    from: String,
    zones: TimeZones,
    files: BTreeMap<PathBuf, Tail>,
    /// Files found that no reader takes, said once each.
    ignored: BTreeSet<PathBuf>,
}

fn is_skipped(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') || n.starts_with('_'))
}

fn walk(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if path.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let entries = std::fs::read_dir(path).map_err(|e| Error::io(path, e))?;
    for entry in entries.flatten() {
        let child = entry.path();
        if is_skipped(&child) {
            continue;
        }
        if child.is_dir() {
            walk(&child, out)?;
        } else {
            out.push(child);
        }
    }
    Ok(())
}

impl Follower {
    pub fn new(inputs: Vec<PathBuf>, from: String, zones: TimeZones) -> Result<Self> {
        for input in &inputs {
            std::fs::metadata(input).map_err(|e| Error::io(input, e))?;
        }
        Ok(Self {
            inputs,
            from,
            zones,
            files: BTreeMap::new(),
            ignored: BTreeSet::new(),
        })
    }

    pub fn save(&self) -> BTreeMap<PathBuf, FileState> {
        self.files
            .iter()
            .map(|(path, tail)| {
                let state = FileState {
                    offset: tail.offset,
                    reader: tail.reader.save(),
                };
                (path.clone(), state)
            })
            .collect()
    }

    /// Resumes files where a saved state left them.
    pub fn restore(&mut self, files: BTreeMap<PathBuf, FileState>, state_file: &Path) -> Result<()> {
        for (path, saved) in files {
            let Some(mut reader) = reader_for(&self.from, &path, &self.zones) else {
                continue;
            };
            reader.restore(&saved.reader).map_err(|e| Error::Input {
                path: state_file.to_path_buf(),
                message: format!(
                    "the saved reader state of {} is unreadable ({e}): delete the state file to start over",
                    path.display()
                ),
            })?;
            self.files.insert(
                path,
                Tail {
                    offset: saved.offset,
                    reader,
                },
            );
        }
        Ok(())
    }

    /// Reads what every file gained since the last pass. Messages come in file
    /// order, then record order; `notes` gets what a person should know.
    pub fn poll(&mut self, out: &mut Decoded, notes: &mut Vec<String>) -> Result<u64> {
        let mut paths = Vec::new();
        for input in &self.inputs {
            walk(input, &mut paths)?;
        }
        paths.sort();
        let mut read = 0;
        for path in paths {
            if !self.files.contains_key(&path) {
                match reader_for(&self.from, &path, &self.zones) {
                    Some(reader) => {
                        self.files.insert(path.clone(), Tail { offset: 0, reader });
                    }
                    None => {
                        if self.ignored.insert(path.clone()) {
                            notes.push(format!(
                                "{}: not followed (watch reads appendable .jsonl and .csv files)",
                                path.display()
                            ));
                        }
                        continue;
                    }
                }
            }
            let tail = self.files.get_mut(&path).expect("inserted above");
            read += read_new(&path, tail, &self.from, &self.zones, out, notes)?;
        }
        Ok(read)
    }
}

/// Reads one file from its offset to its end (at most [`STEP_BYTES`]).
fn read_new(
    path: &Path,
    tail: &mut Tail,
    from: &str,
    zones: &TimeZones,
    out: &mut Decoded,
    notes: &mut Vec<String>,
) -> Result<u64> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(0); // removed since the walk
    };
    if meta.len() < tail.offset {
        notes.push(format!(
            "{}: the file shrank (replaced or truncated); reading it again from the start",
            path.display()
        ));
        tail.offset = 0;
        tail.reader = reader_for(from, path, zones).expect("this file had a reader");
    }
    let want = (meta.len() - tail.offset).min(STEP_BYTES);
    if want == 0 {
        return Ok(0);
    }
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    file.seek(SeekFrom::Start(tail.offset))
        .map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::with_capacity(want as usize);
    file.take(want)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    let consumed = tail.reader.read(&bytes, out);
    tail.offset += consumed as u64;
    Ok(consumed as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str =
        r#"{"shop":"s","session_id":"x","msg_id":"ID","ts":"2026-11-11 10:00:00","role":"customer"}"#;

    #[test]
    fn reads_only_new_bytes_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.jsonl");
        std::fs::write(&file, format!("{}\n", LINE.replace("ID", "1"))).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let mut follower = Follower::new(
            vec![dir.path().to_path_buf()],
            "canonical".into(),
            TimeZones::default(),
        )
        .unwrap();
        let (mut out, mut notes) = (Decoded::default(), Vec::new());
        follower.poll(&mut out, &mut notes).unwrap();
        assert_eq!(out.messages.len(), 1);
        assert_eq!(notes.len(), 1, "{notes:?}");
        let mut more = std::fs::OpenOptions::new().append(true).open(&file).unwrap();
        std::io::Write::write_all(
            &mut more,
            format!("{}\n{}", LINE.replace("ID", "2"), &LINE[..9]).as_bytes(),
        )
        .unwrap();
        follower.poll(&mut out, &mut notes).unwrap();
        assert_eq!(out.messages.len(), 2);
        assert_eq!(notes.len(), 1, "said once");

        let saved = follower.save();
        let mut again = Follower::new(
            vec![dir.path().to_path_buf()],
            "canonical".into(),
            TimeZones::default(),
        )
        .unwrap();
        again.restore(saved, Path::new("state.json")).unwrap();
        std::io::Write::write_all(&mut more, LINE[9..].replace("ID", "3").as_bytes()).unwrap();
        std::io::Write::write_all(&mut more, b"\n").unwrap();
        let mut fresh = Decoded::default();
        again.poll(&mut fresh, &mut notes).unwrap();
        assert_eq!(
            fresh
                .messages
                .iter()
                .map(|m| m.msg_id.as_str())
                .collect::<Vec<_>>(),
            ["3"]
        );
    }

    #[test]
    fn a_replaced_file_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.jsonl");
        std::fs::write(
            &file,
            format!("{}\n{}\n", LINE.replace("ID", "1"), LINE.replace("ID", "2")),
        )
        .unwrap();
        let mut follower =
            Follower::new(vec![file.clone()], "canonical".into(), TimeZones::default()).unwrap();
        let (mut out, mut notes) = (Decoded::default(), Vec::new());
        follower.poll(&mut out, &mut notes).unwrap();
        std::fs::write(&file, format!("{}\n", LINE.replace("ID", "9"))).unwrap();
        follower.poll(&mut out, &mut notes).unwrap();
        assert_eq!(out.messages.last().unwrap().msg_id, "9");
        assert!(notes[0].contains("shrank"), "{notes:?}");
    }
}
