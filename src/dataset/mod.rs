//! The prepared dataset `zhijian ingest` writes, which `run`, `check` and `sql`
//! read without rebuilding the views:
//!
//! ```text
//! DATASET/_dataset.json                    what it holds, made with which time zones and version
//! DATASET/_rejects.jsonl                   the rejects of the last ingest
//! DATASET/date=D/part-00000.parquet        the canonical messages of local date D
//! DATASET/date=D/_views/messages.parquet   the views of the sessions that started on D:
//!                       rounds.parquet         messages (with norm_text, seq, ...), rounds,
//!                       sessions.parquet       sessions and agent_sessions, sorted by shop
//!                       agent_sessions.parquet and session, so a few shops are read at a time
//! ```
//!
//! The `part-00000.parquet` files are plain canonical input too (names starting
//! with `_` are skipped when a folder is read as input). Ingesting new exports into
//! a dataset merges their messages into the raw dates they cover and rebuilds the
//! views of those dates and of the day before (a session crossing midnight).

pub mod read;
pub mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::timezone::TimeZones;

pub const MANIFEST: &str = "_dataset.json";
/// The rejects of an ingest, beside the date folders.
pub const REJECTS_FILE: &str = "_rejects.jsonl";
pub const VIEWS_FOLDER: &str = "_views";
pub const RAW_PART: &str = "part-00000.parquet";
/// The views of a date, by table name.
pub const VIEW_TABLES: [&str; 4] = ["messages", "rounds", "sessions", "agent_sessions"];
/// Raised whenever the views' columns or their meaning change: a dataset of
/// another format is refused rather than mixed with new views.
pub const FORMAT: u32 = 1;

/// Row groups small enough that a reader can split a file across cores and
/// skip the shops it does not need.
const ROW_GROUP_ROWS: usize = 64 * 1024;

pub fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).expect("valid level")))
        .build()
}

/// `_dataset.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub tool_version: String,
    pub timezone: String,
    #[serde(default)]
    pub shop_timezones: BTreeMap<String, String>,
    /// Every input file ingested, in order.
    pub inputs: Vec<IngestedFile>,
    /// Per date (YYYY-MM-DD): its raw messages and the views of its sessions.
    pub dates: BTreeMap<String, DateEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IngestedFile {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    pub records: u64,
    pub rejects: u64,
    pub ingested_at: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DateEntry {
    /// Canonical messages of this local date.
    pub raw_messages: u64,
    /// Sessions that started on this date, and their messages.
    pub sessions: u64,
    pub session_messages: u64,
    /// Messages of those sessions per shop: what sizes the units of a reader.
    pub shops: BTreeMap<String, u64>,
}

/// A prepared dataset on disk.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub root: PathBuf,
    pub manifest: Manifest,
}

impl Dataset {
    /// The dataset at `root`, when it is one (it has `_dataset.json`).
    pub fn open(root: &Path) -> Result<Option<Self>> {
        let path = root.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| Error::Input {
            path: path.clone(),
            message: format!("not a dataset manifest ({e}); ingest the exports again into a new folder"),
        })?;
        Ok(Some(Self {
            root: root.to_path_buf(),
            manifest,
        }))
    }

    /// Refuses a dataset whose views were made by another format or with other
    /// time zones: local dates, sessions' dates and naive timestamps depend on them.
    pub fn check_compatible(&self, zones: &TimeZones) -> Result<()> {
        let m = &self.manifest;
        if m.format != FORMAT {
            return Err(Error::Input {
                path: self.root.clone(),
                message: format!(
                    "a dataset of format {} (zhijian {}); this zhijian reads format {FORMAT}: \
                     ingest the exports again into a new folder",
                    m.format, m.tool_version
                ),
            });
        }
        let (zone, overrides) = (zones.default_zone().name().to_string(), zones.shop_overrides());
        if m.timezone != zone || m.shop_timezones != overrides {
            return Err(Error::Usage(format!(
                "{}: the dataset was made with --timezone {}{}; give the same time zones, or ingest the \
                 exports again into a new folder",
                self.root.display(),
                m.timezone,
                if m.shop_timezones.is_empty() {
                    String::new()
                } else {
                    let list: Vec<String> =
                        m.shop_timezones.iter().map(|(s, z)| format!("{s}={z}")).collect();
                    format!(" and --shop-timezone {}", list.join(", "))
                }
            )));
        }
        Ok(())
    }

    pub fn date_folder(&self, date: NaiveDate) -> PathBuf {
        self.root.join(format!("date={date}"))
    }

    pub fn view_file(&self, date: NaiveDate, table: &str) -> PathBuf {
        self.date_folder(date)
            .join(VIEWS_FOLDER)
            .join(format!("{table}.parquet"))
    }

    /// The dates whose sessions have views, within `range` when given.
    pub fn view_dates(&self, range: Option<crate::pipeline::window::DateRange>) -> Vec<NaiveDate> {
        self.manifest
            .dates
            .iter()
            .filter(|(_, entry)| entry.sessions > 0)
            .filter_map(|(date, _)| date.parse::<NaiveDate>().ok())
            .filter(|date| range.is_none_or(|r| r.contains(*date)))
            .collect()
    }
}

/// What an ingest wrote.
#[derive(Debug)]
pub struct Ingested {
    pub read: crate::ingest::IngestReport,
    /// The dates whose folders were written, with what they hold now.
    pub dates: BTreeMap<NaiveDate, DateEntry>,
    pub duplicates: u64,
    /// What was cleaned up after an interrupted earlier ingest, for the log.
    pub cleaned: Vec<String>,
}

/// `zhijian ingest`: reads `inputs` and merges them into the dataset at `out`
/// (created if missing), rebuilding the views of the dates they touch.
pub async fn ingest(
    inputs: &[PathBuf],
    zones: &TimeZones,
    memory_limit: u64,
    out: &Path,
    progress: &dyn crate::progress::Progress,
) -> Result<Ingested> {
    use crate::pipeline::{Input, Plan, Source};
    let (publisher, cleaned) = crate::outputs::publisher::Publisher::open(out)?;
    let existing = existing_dataset(out, zones)?;
    let plan = Plan::resolve(inputs, None, zones.clone(), memory_limit)?;
    if !matches!(plan.input, Input::Raw(_)) {
        return Err(Error::Usage(
            "ingest reads exports, not a prepared dataset: give the export files or folders as --input"
                .into(),
        ));
    }
    let spill = publisher.spill_file();
    let mut source = Source::open(&plan, spill.path(), progress)?;
    let hashing = crate::outputs::manifest::spawn_hashing(&source.report().files, &[]);
    // With no message read, no folder is written: the range only has to exist.
    let raw_dates = source
        .local_dates()
        .unwrap_or_else(|| crate::pipeline::DateRange::single(NaiveDate::MIN));
    let mut writer = write::DatasetWriter::new(&publisher, existing.clone(), raw_dates);
    if let Some(existing) = &existing {
        source.add_files(existing.raw_parts(writer.context_dates())?, progress)?;
    }
    crate::failpoint!("ingest::after-read");
    let pack = crate::rules::RulePack::empty(out);
    let mut duplicates = 0;
    while let Some(unit) = source.next_unit().await? {
        duplicates += unit.views.duplicates;
        writer.write_unit(&unit.context(&pack)?.ctx).await?;
    }
    let hashes = hashing
        .join()
        .map_err(|_| Error::Internal("hashing the inputs panicked".into()))??;
    let dates = writer.finish(source.report(), &hashes, zones)?;
    Ok(Ingested {
        read: source.into_report(),
        dates,
        duplicates,
        cleaned,
    })
}

/// The dataset already at `out`: one this zhijian can add to, or none. Date
/// folders without a manifest are refused rather than mixed with.
fn existing_dataset(out: &Path, zones: &TimeZones) -> Result<Option<Dataset>> {
    if let Some(dataset) = Dataset::open(out)? {
        dataset.check_compatible(zones)?;
        return Ok(Some(dataset));
    }
    let has_dates = std::fs::read_dir(out)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("date="))
        })
        .unwrap_or(false);
    if has_dates {
        return Err(Error::Input {
            path: out.to_path_buf(),
            message: format!(
                "holds date folders but no {MANIFEST} (a dataset of an older zhijian, or other files); \
                 ingest into a new folder"
            ),
        });
    }
    Ok(None)
}

impl Dataset {
    /// What the manifest says of `date`.
    pub fn entry(&self, date: NaiveDate) -> Option<&DateEntry> {
        self.manifest.dates.get(&date.to_string())
    }

    /// The raw parts of `range`'s dates that exist, as input files.
    pub fn raw_parts(&self, range: crate::pipeline::DateRange) -> Result<Vec<crate::ingest::InputFile>> {
        let mut files = Vec::new();
        for date in range.from.iter_days().take_while(|d| *d <= range.to) {
            let path = self.date_folder(date).join(RAW_PART);
            if let Ok(meta) = std::fs::metadata(&path) {
                files.push(crate::ingest::InputFile {
                    path,
                    format: crate::ingest::Format::Parquet,
                    size: meta.len(),
                    partition_date: Some(date),
                });
            }
        }
        Ok(files)
    }
}
