//! What a date folder's manifest records of a run's inputs (sha256, records,
//! rejects) and rule pack, and which rejects a date folder lists.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::ingest::{InputFile, Reject};
use crate::outputs::manifest::{FileEntry, Hashes, RuleEntry, RulePackEntry};
use crate::rules::RulePack;

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
