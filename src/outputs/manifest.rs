//! `manifest.json` of a date folder: what went in (inputs and rule files with
//! their sha256), what came out, and the counts, so that any figure can be traced
//! to the exact files and rule versions. The only place with wall-clock times.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::ingest::{InputFile, Reject};

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub tool: Tool,
    pub status: &'static str,
    pub date: String,
    pub started_at: String,
    pub finished_at: String,
    pub timezone: String,
    pub shop_timezones: BTreeMap<String, String>,
    /// Every date this run published, this one included.
    pub run_dates: Vec<String>,
    pub inputs: Vec<InputEntry>,
    pub rule_pack: RulePackEntry,
    pub counts: Counts,
    pub outputs: Vec<OutputEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Tool {
    pub fn this() -> Self {
        Self {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct InputEntry {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    pub records: u64,
    pub rejects: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RulePackEntry {
    pub dir: String,
    pub base: f64,
    pub floor: f64,
    pub ceiling: f64,
    pub rules: Vec<RuleEntry>,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleEntry {
    pub id: String,
    pub template: &'static str,
    pub severity: &'static str,
    pub deduct: f64,
    pub bonus: f64,
    pub enabled: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Counts {
    pub sessions: u64,
    pub messages: u64,
    pub rounds: u64,
    pub agents: u64,
    pub violations: u64,
    pub violations_by_severity: BTreeMap<String, u64>,
    /// Mean conversation score of the date (design §6).
    pub qa_score_avg: Option<f64>,
    /// Shares of the rounds agents closed within 30 s / 180 s.
    pub within_30s_rate: Option<f64>,
    pub within_180s_rate: Option<f64>,
    /// Rejected records of the inputs listed (see `inputs[].rejects`).
    pub rejects: u64,
    /// Duplicate messages dropped, over the whole run.
    pub duplicates_in_run: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutputEntry {
    pub file: String,
    pub rows: Option<u64>,
    pub bytes: u64,
    pub sha256: String,
}

impl Manifest {
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Internal(format!("manifest does not serialise: {e}")))?;
        text.push('\n');
        // A kill in the middle of writing: half a manifest in the staging folder.
        crate::failpoint!("manifest::write", |action| {
            let _ = std::fs::write(path, &text.as_bytes()[..text.len() / 2]);
            crate::failpoint::act("manifest::write", action)
        });
        std::fs::write(path, text).map_err(|e| Error::io(path, e))
    }
}

/// sha256 of the inputs and rule files, on a thread of its own while the inputs
/// are parsed.
pub type Hashes = BTreeMap<PathBuf, String>;

pub fn spawn_hashing(files: &[InputFile], rule_files: &[PathBuf]) -> std::thread::JoinHandle<Result<Hashes>> {
    let paths: Vec<PathBuf> = files
        .iter()
        .map(|f| f.path.clone())
        .chain(rule_files.iter().cloned())
        .collect();
    std::thread::spawn(move || {
        paths
            .into_iter()
            .map(|p| {
                let hash = sha256_file(&p)?;
                Ok((p, hash))
            })
            .collect()
    })
}

pub fn input_entries(
    files: &[InputFile],
    records: &[u64],
    rejects: &[Reject],
    hashes: &Hashes,
) -> Vec<InputEntry> {
    let mut rejects_per_file: BTreeMap<&str, u64> = BTreeMap::new();
    for r in rejects {
        *rejects_per_file.entry(r.file.as_str()).or_default() += 1;
    }
    files
        .iter()
        .zip(records)
        .map(|(f, records)| {
            let path = f.path.display().to_string();
            InputEntry {
                bytes: f.size,
                sha256: hashes.get(&f.path).cloned().unwrap_or_default(),
                records: *records,
                rejects: rejects_per_file.get(path.as_str()).copied().unwrap_or(0),
                path,
            }
        })
        .collect()
}

/// The sha256 of a file, as lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Describes a written file of the folder.
pub fn output_entry(folder: &Path, file: &str, rows: Option<u64>) -> Result<OutputEntry> {
    let path = folder.join(file);
    let bytes = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?.len();
    Ok(OutputEntry {
        file: file.to_string(),
        rows,
        bytes,
        sha256: sha256_file(&path)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_a_known_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, "abc").unwrap();
        assert_eq!(
            sha256_file(&path).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
