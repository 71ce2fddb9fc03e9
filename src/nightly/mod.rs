//! The nightly run (`zhijian run`): inputs → views → rules → scores → one folder
//! per session date, published whole, under a lock on the output folder.
//!
//! Memory is bounded by working a few shops at a time: reading sorts the rows by
//! shop (spilling to disk past one unit's worth, [`crate::ingest::spill`]), then
//! each unit of whole shops gets its views, rules and scores and appends its rows
//! to the date folders. Shops never share a session or a scorecard, so the
//! figures are those of one big pass, and the files are the same.

mod record;
pub mod tally;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use datafusion::arrow::array::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use futures::{StreamExt, TryStreamExt};

use crate::engine;
use crate::error::{Error, Result};
use crate::ingest::spill::ShopBatches;
use crate::ingest::{self, Reject, rejects};
use crate::load::{DateRange, keep_window, select_files};
use crate::outputs::manifest::{Counts, Manifest, Tool, output_entry};
use crate::outputs::publisher::Publisher;
use crate::outputs::{DateOutputs, date_folder};
use crate::progress::{Progress, Unit, timing};
use crate::report;
use crate::rules::{self, RulePack};
use crate::schema::VIOLATIONS;
use crate::score;
use crate::timezone::TimeZones;
use crate::views::{self, Views};
use record::{input_entries, rejects_of_date, rule_pack_entry, spawn_hashing};
use tally::{Tally, unit_tally};

/// The folder that receives the rejects of a run refused for too many of them.
pub const REJECTS_FOLDER: &str = "_rejects";

/// Rule queries run at the same time.
const RULES_AT_ONCE: usize = 3;

/// Peak memory per message of a unit, measured on generated data (views, rule
/// results and output buffers included), with a margin.
const BYTES_PER_MESSAGE: u64 = 1_000;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    /// Session dates to publish; `None` publishes every date in the inputs.
    pub dates: Option<DateRange>,
    pub zones: TimeZones,
    /// Refuse the run when rejected / read records exceed this.
    pub max_reject_ratio: f64,
    /// Memory to stay within, in bytes: it sizes the units of shops.
    pub memory_limit: u64,
}

/// What a run published.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub out: PathBuf,
    pub dates: Vec<(NaiveDate, Counts)>,
    pub files_read: usize,
    pub records_read: u64,
    pub rejects: u64,
    pub duplicates: u64,
    /// Units of shops the run was cut into (1 when everything fitted at once).
    pub units: usize,
    /// Wanted dates that had no session in the inputs.
    pub missing_dates: Vec<NaiveDate>,
    pub elapsed: Duration,
}

impl RunReport {
    pub fn total(&self) -> Counts {
        let mut total = Counts::default();
        for (_, c) in &self.dates {
            total.sessions += c.sessions;
            total.messages += c.messages;
            total.rounds += c.rounds;
            total.violations += c.violations;
            for (severity, n) in &c.violations_by_severity {
                *total.violations_by_severity.entry(severity.clone()).or_default() += n;
            }
        }
        total.rejects = self.rejects;
        total
    }
}

/// The memory limit when none is given: a quarter of the machine's memory, at
/// most 2 GiB (the machine is shared with other jobs at night).
pub fn default_memory_limit() -> u64 {
    const CAP: u64 = 2 << 30;
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|info| {
        let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    });
    total.map_or(CAP, |bytes| (bytes / 4).min(CAP))
}

/// Messages per unit of shops for a memory limit.
pub fn unit_messages(memory_limit: u64) -> u64 {
    (memory_limit / BYTES_PER_MESSAGE).max(1_000)
}

/// Runs the whole job. `pack` must have passed [`rules::check_queries`].
pub async fn run(options: &RunOptions, pack: &RulePack, progress: &dyn Progress) -> Result<RunReport> {
    let started = Instant::now();
    let started_at = now_utc();
    let out = &options.out;
    let (publisher, cleaned) = Publisher::open(out)?;
    for line in &cleaned {
        progress.note(line);
    }

    let files = select_files(&options.inputs, options.dates)?;
    if files.is_empty() {
        return Err(Error::NothingToPublish(format!(
            "no sessions dated {}: no transcript files for it in {}",
            describe_dates(options.dates),
            list_paths(&options.inputs)
        )));
    }
    let hashing = spawn_hashing(&files, &pack.files);

    // Read every input, sorting the rows by shop.
    let per_unit = unit_messages(options.memory_limit);
    let spill_path = publisher.spill_path();
    // Raw rows take about a quarter of what working on them does: up to two units'
    // worth stay in memory (freed as units are taken), beyond that they go to disk.
    let shops = Mutex::new(ShopBatches::new(spill_path.clone(), 2 * per_unit));
    let _spill_cleanup = RemoveOnDrop(spill_path);
    progress.begin("read", Some(files.iter().map(|f| f.size).sum()), Unit::Bytes);
    let workers = engine::default_partitions();
    let ingested = ingest::read_files_streaming(files, &options.zones, workers, progress, &|_, _, batch| {
        let slices = ShopBatches::split(&batch)?;
        shops.lock().unwrap_or_else(|p| p.into_inner()).add_split(slices)
    })?;
    let mut shops = shops.into_inner().unwrap_or_else(|p| p.into_inner());
    progress.end(&format!(
        "{} files, {} records, {} rejects{}",
        ingested.files.len(),
        ingested.records_read,
        ingested.rejects.len(),
        if shops.spilled() {
            ", spilled by shop to disk"
        } else {
            ""
        }
    ));
    crate::failpoint!("run::after-read");
    let rejected = ingested.rejects.len() as u64;
    if ingested.records_read == 0 {
        return Err(Error::NothingToPublish(format!(
            "the input files in {} hold no records",
            list_paths(&options.inputs)
        )));
    }
    if rejected as f64 > options.max_reject_ratio * ingested.records_read as f64 {
        let rejects_file = publish_rejects(&publisher, &ingested.rejects)?;
        return Err(Error::TooManyRejects {
            rejected,
            read: ingested.records_read,
            max_ratio: options.max_reject_ratio,
            rejects_file,
        });
    }

    // Each unit of shops: views, rules, scores, and its rows of every date.
    let units = shops.units(per_unit);
    let mut reader = shops.finish()?;
    let enabled = pack.enabled().count() as u64;
    progress.begin("rules", Some(enabled * units.len() as u64), Unit::Items);
    let mut outputs = DateOutputs::new(&publisher);
    let mut tallies: BTreeMap<NaiveDate, Tally> = BTreeMap::new();
    let mut lowest: BTreeMap<NaiveDate, Vec<report::day::Lowest>> = BTreeMap::new();
    let (mut duplicates, mut violations) = (0, 0);
    for unit in &units {
        let mut raw = shops.take(unit, reader.as_mut())?;
        if let Some(range) = options.dates {
            raw = keep_window(raw, range)?;
        }
        let started_unit = Instant::now();
        let ctx = engine::new_context(workers);
        let views = views::build(&ctx, raw, &options.zones, workers).await?;
        engine::register_views(&ctx, &views)?;
        timing("views", started_unit);
        duplicates += views.duplicates;
        violations += evaluate(&ctx, &views, pack, progress).await?;
        let unit_dates: Vec<NaiveDate> = session_dates(&ctx)
            .await?
            .into_iter()
            .filter(|d| options.dates.is_none_or(|r| r.contains(*d)))
            .collect();
        outputs.write(&ctx, &unit_dates).await?;
        for (date, tally) in unit_tally(&ctx, &unit_dates).await? {
            tallies.entry(date).or_default().add(&tally);
        }
        for date in &unit_dates {
            report::day::keep_lowest(
                lowest.entry(*date).or_default(),
                report::day::lowest(&ctx, *date).await?,
            );
        }
        timing("unit", started_unit);
    }
    progress.end(&format!(
        "{violations} violations, {} messages in {} unit(s) of shops",
        tallies.values().map(|t| t.messages).sum::<u64>(),
        units.len()
    ));
    drop(reader);

    let present: BTreeSet<NaiveDate> = tallies.keys().copied().collect();
    let missing_dates: Vec<NaiveDate> = match options.dates {
        Some(range) => range
            .from
            .iter_days()
            .take_while(|d| *d <= range.to)
            .filter(|d| !present.contains(d))
            .collect(),
        None => Vec::new(),
    };
    if present.is_empty() {
        return Err(Error::NothingToPublish(format!(
            "no sessions dated {} in the inputs ({} files read); check --date and the export",
            describe_dates(options.dates),
            ingested.files.len()
        )));
    }
    for date in &missing_dates {
        progress.note(&format!(
            "no sessions dated {date} in the inputs: nothing published for it"
        ));
    }

    progress.begin("write", Some(present.len() as u64), Unit::Items);
    let started_writing = Instant::now();
    let folders = outputs.finish()?;
    let counts: BTreeMap<NaiveDate, Counts> = tallies.iter().map(|(d, t)| (*d, t.counts())).collect();
    let hashes = hashing
        .join()
        .map_err(|_| Error::Internal("hashing the inputs panicked".into()))??;
    timing("tables + input hashes", started_writing);
    let run_dates: Vec<String> = present.iter().map(|d| d.to_string()).collect();
    let mut published = Vec::new();
    for (date, (staging, tables)) in &folders {
        let folder = staging.path();
        let date_rejects: Vec<Reject> = rejects_of_date(&ingested.files, &ingested.rejects, *date);
        rejects::write_jsonl(&date_rejects, &folder.join("rejects.jsonl"))?;
        let mut entries = Vec::new();
        for file in tables {
            entries.push(output_entry(folder, &file.file, Some(file.rows))?);
        }
        entries.push(output_entry(
            folder,
            "rejects.jsonl",
            Some(date_rejects.len() as u64),
        )?);
        let mut date_counts = counts.get(date).cloned().unwrap_or_default();
        date_counts.rejects = date_rejects.len() as u64;
        date_counts.duplicates_in_run = duplicates;
        let previous = previous_counts(out, &counts, *date);
        let html = render_report(folder, *date, &date_counts, previous.as_ref(), &lowest[date]).await?;
        let report_path = folder.join("report.html");
        std::fs::write(&report_path, html).map_err(|e| Error::io(&report_path, e))?;
        entries.push(output_entry(folder, "report.html", None)?);
        timing("... + report", started_writing);
        let manifest = Manifest {
            tool: Tool::this(),
            status: "complete",
            date: date.to_string(),
            started_at: started_at.clone(),
            finished_at: now_utc(),
            timezone: options.zones.default_zone().name().to_string(),
            shop_timezones: options.zones.shop_overrides(),
            run_dates: run_dates.clone(),
            inputs: input_entries(
                &ingested.files,
                &ingested.records_per_file,
                &ingested.rejects,
                &hashes,
            ),
            rule_pack: rule_pack_entry(pack, &hashes),
            counts: date_counts.clone(),
            outputs: entries,
        };
        manifest.write(&folder.join("manifest.json"))?;
        published.push((*date, date_counts));
    }
    // Only now that every folder is complete does any of them replace the old one.
    let published_folders = folders.len();
    for (staging, _) in folders.into_values() {
        let target = publisher.publish(staging)?;
        progress.advance(1);
        progress.note(&format!("published {}", target.display()));
    }
    progress.end(&format!("{published_folders} date folders"));
    drop(publisher);
    Ok(RunReport {
        out: out.clone(),
        dates: published,
        files_read: ingested.files.len(),
        records_read: ingested.records_read,
        rejects: rejected,
        duplicates,
        units: units.len(),
        missing_dates,
        elapsed: started.elapsed(),
    })
}

/// Removes the spill file however the run ends (a killed run's is removed by the
/// next run's [`Publisher`]).
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The day's report from the tables just written into `folder`.
async fn render_report(
    folder: &Path,
    date: NaiveDate,
    counts: &Counts,
    previous: Option<&Counts>,
    lowest: &[report::day::Lowest],
) -> Result<String> {
    let ctx = engine::new_context(1);
    for table in ["scorecards", "violations", "rounds"] {
        let path = folder.join(format!("{table}.parquet"));
        let path = path.to_str().ok_or_else(|| Error::Input {
            path: path.clone(),
            message: "the output path is not UTF-8".into(),
        })?;
        ctx.register_parquet(table, path, ParquetReadOptions::default())
            .await?;
    }
    report::day::render(&ctx, date, counts, previous, lowest).await
}

/// The figures of the day before `date`: from this run, else from its published
/// manifest, for the report's day-over-day changes.
fn previous_counts(out: &Path, in_run: &BTreeMap<NaiveDate, Counts>, date: NaiveDate) -> Option<Counts> {
    let before = date.pred_opt()?;
    if let Some(counts) = in_run.get(&before) {
        return Some(counts.clone());
    }
    let text = std::fs::read_to_string(out.join(date_folder(before)).join("manifest.json")).ok()?;
    let manifest: serde_json::Value = serde_json::from_str(&text).ok()?;
    serde_json::from_value(manifest.get("counts")?.clone()).ok()
}

fn now_utc() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn list_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_dates(range: Option<DateRange>) -> String {
    match range {
        Some(r) if r.from == r.to => r.from.to_string(),
        Some(r) => format!("{} to {}", r.from, r.to),
        None => "any date".into(),
    }
}

/// Runs the rules over the views registered in `ctx` and registers the results:
/// `violations`, then the score tables of [`score`]. Returns the violations found.
pub async fn evaluate(
    ctx: &SessionContext,
    views: &Views,
    pack: &RulePack,
    progress: &dyn Progress,
) -> Result<u64> {
    rules::register_functions(ctx, pack, views);
    // A few rules at a time: each query leaves the cores idle in places (its final
    // merge, a single-threaded function), which another rule's query fills.
    let results: Vec<Vec<RecordBatch>> = futures::stream::iter(pack.enabled())
        .map(|rule| async move {
            let started = Instant::now();
            let found = rules::run::violations(ctx, rule).await;
            timing(&format!("rule {}", rule.id), started);
            progress.advance(1);
            found
        })
        .buffered(RULES_AT_ONCE)
        .try_collect()
        .await?;
    let batches: Vec<RecordBatch> = results.into_iter().flatten().collect();
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let table = MemTable::try_new(VIOLATIONS.clone(), vec![batches])?;
    ctx.register_table("violations", Arc::new(table))?;
    score::register(ctx, pack).await?;
    Ok(total as u64)
}

async fn session_dates(ctx: &SessionContext) -> Result<BTreeSet<NaiveDate>> {
    let (_, batches) = engine::query(ctx, "SELECT DISTINCT local_date FROM sessions").await?;
    let mut dates = BTreeSet::new();
    for batch in &batches {
        let column = engine::columns(batch).date("local_date")?;
        dates.extend((0..batch.num_rows()).filter_map(|row| column.get(row)));
    }
    Ok(dates)
}

/// Publishes the rejects of a refused run as `OUT/_rejects/rejects.jsonl`.
fn publish_rejects(publisher: &Publisher, all: &[Reject]) -> Result<PathBuf> {
    let staging = publisher.stage_folder(REJECTS_FOLDER)?;
    rejects::write_jsonl(all, &staging.path().join("rejects.jsonl"))?;
    Ok(publisher.publish(staging)?.join("rejects.jsonl"))
}
