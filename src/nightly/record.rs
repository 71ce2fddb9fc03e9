//! What a date folder's manifest records of a run's inputs (sha256, records,
//! rejects) and rule pack, and which rejects a date folder lists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::NaiveDate;

use crate::error::Result;
use crate::ingest::{InputFile, Reject};
use crate::outputs::manifest::{FileEntry, InputEntry, RuleEntry, RulePackEntry, sha256_file};
use crate::rules::RulePack;

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

pub fn rule_pack_entry(pack: &RulePack, hashes: &Hashes) -> RulePackEntry {
    RulePackEntry {
        dir: pack.root.display().to_string(),
        base: pack.scoring.base,
        floor: pack.scoring.floor,
        ceiling: pack.scoring.ceiling,
        rules: pack
            .rules
            .iter()
            .map(|r| RuleEntry {
                id: r.id.clone(),
                template: r.template.name(),
                severity: r.severity.as_str(),
                deduct: r.deduct,
                bonus: r.bonus,
                enabled: r.enabled,
            })
            .collect(),
        files: pack
            .files
            .iter()
            .map(|p| FileEntry {
                path: p.display().to_string(),
                sha256: hashes.get(p).cloned().unwrap_or_default(),
            })
            .collect(),
    }
}

/// Rejects a date's folder lists: those of files in its `date=` folder and those
/// of files outside any `date=` folder (which may feed any date).
pub fn rejects_of_date(files: &[InputFile], all: &[Reject], date: NaiveDate) -> Vec<Reject> {
    let feeds: BTreeSet<String> = files
        .iter()
        .filter(|f| f.partition_date.is_none_or(|d| d == date))
        .map(|f| f.path.display().to_string())
        .collect();
    all.iter().filter(|r| feeds.contains(&r.file)).cloned().collect()
}
