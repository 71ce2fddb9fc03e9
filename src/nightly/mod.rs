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
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use datafusion::prelude::{ParquetReadOptions, SessionContext};

use crate::engine;
use crate::error::{Error, Result};
use crate::ingest::{IngestReport, Reject, rejects};
use crate::outputs::manifest::{Counts, Hashes, Manifest, Tool, input_entries, output_entry, spawn_hashing};
use crate::outputs::publisher::Publisher;
use crate::outputs::{DateOutputs, TableFile, date_folder};
use crate::pipeline::{DateRange, Input, Plan, Source, evaluate};
use crate::progress::{Progress, Unit, timing};
use crate::report;
use crate::rules::RulePack;
use crate::timezone::TimeZones;
use record::{rejects_of_date, rule_pack_entry};
use tally::{Tally, unit_tally};

/// The folder that receives the rejects of a run refused for too many of them.
pub const REJECTS_FOLDER: &str = "_rejects";

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

/// Runs the whole job. `pack` must have passed [`rules::check_queries`].
pub async fn run(options: &RunOptions, pack: &RulePack, progress: &dyn Progress) -> Result<RunReport> {
    let started = Instant::now();
    let started_at = now_utc();
    let plan = Plan::resolve(
        &options.inputs,
        options.dates,
        options.zones.clone(),
        options.memory_limit,
    )?;
    let (publisher, cleaned) = Publisher::open(&options.out)?;
    for line in &cleaned {
        progress.note(line);
    }
    if let Input::Raw(files) = &plan.input
        && files.is_empty()
    {
        return Err(Error::NothingToPublish(format!(
            "no sessions dated {}: no transcript files for it in {}",
            describe_dates(options.dates),
            list_paths(&options.inputs)
        )));
    }
    let spill = publisher.spill_file();
    let mut source = Source::open(&plan, spill.path(), progress)?;
    let hashing = spawn_hashing(&source.report().files, &pack.files);
    check_rejects(&publisher, source.report(), options, &plan)?;
    let worked = work_units(&mut source, &publisher, pack, options.dates, progress).await?;
    let missing_dates = missing_dates(options, &worked, source.report().files.len())?;
    for date in &missing_dates {
        progress.note(&format!(
            "no sessions dated {date} in the inputs: nothing published for it"
        ));
    }
    progress.begin("write", Some(worked.tallies.len() as u64), Unit::Items);
    let started_writing = Instant::now();
    let hashes = hashing
        .join()
        .map_err(|_| Error::Internal("hashing the inputs panicked".into()))??;
    let record = Record {
        options,
        pack,
        read: source.report(),
        hashes: &hashes,
        started_at,
        duplicates: worked.duplicates,
    };
    let units = worked.units;
    let published = finish_dates(&publisher, worked, &record, progress).await?;
    timing("tables, reports and manifests", started_writing);
    progress.end(&format!("{} date folders", published.len()));
    drop(publisher);
    let read = source.report();
    Ok(RunReport {
        out: options.out.clone(),
        files_read: read.files.len(),
        records_read: read.records_read,
        rejects: read.rejects.len() as u64,
        duplicates: record.duplicates,
        units,
        dates: published,
        missing_dates,
        elapsed: started.elapsed(),
    })
}

/// Refuses the run when more records were rejected than allowed; the rejects are
/// then published alone, for the operator.
fn check_rejects(
    publisher: &Publisher,
    read: &IngestReport,
    options: &RunOptions,
    plan: &Plan,
) -> Result<()> {
    let rejected = read.rejects.len() as u64;
    if read.records_read == 0 && matches!(plan.input, Input::Raw(_)) {
        return Err(Error::NothingToPublish(format!(
            "the input files in {} hold no records",
            list_paths(&options.inputs)
        )));
    }
    if rejected as f64 > options.max_reject_ratio * read.records_read as f64 {
        let rejects_file = publish_rejects(publisher, &read.rejects)?;
        return Err(Error::TooManyRejects {
            rejected,
            read: read.records_read,
            max_ratio: options.max_reject_ratio,
            rejects_file,
        });
    }
    Ok(())
}

/// What the units gave: the date folders being built and their figures.
struct Worked<'a> {
    outputs: DateOutputs<'a>,
    tallies: BTreeMap<NaiveDate, Tally>,
    lowest: BTreeMap<NaiveDate, Vec<report::day::Lowest>>,
    duplicates: u64,
    units: usize,
}

/// Each unit of shops: views, rules, scores, and its rows of every date.
async fn work_units<'a>(
    source: &mut Source,
    publisher: &'a Publisher,
    pack: &RulePack,
    dates: Option<DateRange>,
    progress: &dyn Progress,
) -> Result<Worked<'a>> {
    let units = source.unit_count()?;
    let enabled = pack.enabled().count() as u64;
    progress.begin("rules", Some(enabled * units as u64), Unit::Items);
    let mut worked = Worked {
        outputs: DateOutputs::new(publisher),
        tallies: BTreeMap::new(),
        lowest: BTreeMap::new(),
        duplicates: 0,
        units,
    };
    let mut violations = 0;
    while let Some(unit) = source.next_unit().await? {
        let started = Instant::now();
        worked.duplicates += unit.views.duplicates;
        let context = unit.context(pack)?;
        violations += evaluate(&context, pack, progress).await?;
        let ctx = &context.ctx;
        let unit_dates: Vec<NaiveDate> = session_dates(ctx)
            .await?
            .into_iter()
            .filter(|d| dates.is_none_or(|r| r.contains(*d)))
            .collect();
        worked.outputs.write(ctx, &unit_dates).await?;
        for (date, tally) in unit_tally(ctx, &unit_dates).await? {
            worked.tallies.entry(date).or_default().add(&tally);
        }
        for date in &unit_dates {
            let lowest = worked.lowest.entry(*date).or_default();
            report::day::keep_lowest(lowest, report::day::lowest(ctx, *date).await?);
        }
        timing("unit", started);
    }
    progress.end(&format!(
        "{violations} violations, {} messages in {units} unit(s) of shops",
        worked.tallies.values().map(|t| t.messages).sum::<u64>(),
    ));
    Ok(worked)
}

/// The wanted dates without a session; an error when no date has one.
fn missing_dates(options: &RunOptions, worked: &Worked, files: usize) -> Result<Vec<NaiveDate>> {
    if worked.tallies.is_empty() {
        return Err(Error::NothingToPublish(format!(
            "no sessions dated {} in the inputs ({files} files read); check --date and the export",
            describe_dates(options.dates),
        )));
    }
    Ok(match options.dates {
        Some(range) => range
            .from
            .iter_days()
            .take_while(|d| *d <= range.to)
            .filter(|d| !worked.tallies.contains_key(d))
            .collect(),
        None => Vec::new(),
    })
}

/// What every date folder's manifest records of the run.
struct Record<'a> {
    options: &'a RunOptions,
    pack: &'a RulePack,
    read: &'a IngestReport,
    hashes: &'a Hashes,
    started_at: String,
    duplicates: u64,
}

/// Completes each date folder (rejects, report, manifest), then publishes them:
/// only once every folder is complete does any of them replace the old one.
async fn finish_dates(
    publisher: &Publisher,
    worked: Worked<'_>,
    record: &Record<'_>,
    progress: &dyn Progress,
) -> Result<Vec<(NaiveDate, Counts)>> {
    let folders = worked.outputs.finish()?;
    let counts: BTreeMap<NaiveDate, Counts> = worked.tallies.iter().map(|(d, t)| (*d, t.counts())).collect();
    let run_dates: Vec<String> = counts.keys().map(|d| d.to_string()).collect();
    let mut published = Vec::new();
    for (date, (staging, tables)) in &folders {
        let mut date_counts = counts.get(date).cloned().unwrap_or_default();
        let lowest = worked.lowest.get(date).map(Vec::as_slice).unwrap_or_default();
        finish_folder(
            staging.path(),
            *date,
            tables,
            &mut date_counts,
            &counts,
            lowest,
            record,
            &run_dates,
        )
        .await?;
        published.push((*date, date_counts));
    }
    for (staging, _) in folders.into_values() {
        let target = publisher.publish(staging)?;
        progress.advance(1);
        progress.note(&format!("published {}", target.display()));
    }
    Ok(published)
}

/// One date folder's rejects, report and manifest.
#[allow(clippy::too_many_arguments)]
async fn finish_folder(
    folder: &Path,
    date: NaiveDate,
    tables: &[TableFile],
    date_counts: &mut Counts,
    counts: &BTreeMap<NaiveDate, Counts>,
    lowest: &[report::day::Lowest],
    record: &Record<'_>,
    run_dates: &[String],
) -> Result<()> {
    let date_rejects: Vec<Reject> = rejects_of_date(&record.read.files, &record.read.rejects, date);
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
    date_counts.rejects = date_rejects.len() as u64;
    date_counts.duplicates_in_run = record.duplicates;
    let previous = previous_counts(&record.options.out, counts, date);
    let html = render_report(folder, date, date_counts, previous.as_ref(), lowest).await?;
    let report_path = folder.join("report.html");
    std::fs::write(&report_path, html).map_err(|e| Error::io(&report_path, e))?;
    entries.push(output_entry(folder, "report.html", None)?);
    let manifest = Manifest {
        tool: Tool::this(),
        status: "complete",
        date: date.to_string(),
        started_at: record.started_at.clone(),
        finished_at: now_utc(),
        timezone: record.options.zones.default_zone().name().to_string(),
        shop_timezones: record.options.zones.shop_overrides(),
        run_dates: run_dates.to_vec(),
        inputs: input_entries(
            &record.read.files,
            &record.read.records_per_file,
            &record.read.rejects,
            record.hashes,
        ),
        rule_pack: rule_pack_entry(record.pack, record.hashes),
        counts: date_counts.clone(),
        outputs: entries,
    };
    manifest.write(&folder.join("manifest.json"))
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
