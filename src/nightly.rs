//! The nightly run (`zhijian run`): inputs → views → rules → scores → one folder
//! per session date, published whole, under a lock on the output folder.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Date32Type, Int64Type};
use datafusion::catalog::MemTable;
use datafusion::prelude::SessionContext;

use crate::engine;
use crate::error::{Error, Result};
use crate::ingest::{InputFile, Reject, rejects};
use crate::load::{DateRange, load_files, select_files};
use crate::mask::mask_pii;
use crate::outputs::manifest::{
    Counts, FileEntry, InputEntry, Manifest, RuleEntry, RulePackEntry, Tool, output_entry, sha256_file,
};
use crate::outputs::writers::date_of;
use crate::outputs::{self, date_folder, lock::OutputLock, publish};
use crate::progress::{Progress, Unit};
use crate::report;
use crate::rules::{self, RulePack};
use crate::schema::VIOLATIONS;
use crate::score;
use crate::timezone::TimeZones;
use crate::views::Views;

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
    let out = &options.out;
    let lock = OutputLock::acquire(out)?;
    if let Some(previous) = &lock.took_over {
        progress.note(&format!(
            "took over the stale lock of a run that is gone ({previous})"
        ));
    }
    for done in publish::recover(out)? {
        progress.note(&done);
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
    let loaded = load_files(files, &options.zones, options.dates, progress).await?;
    let ingested = &loaded.ingested;
    let rejected = ingested.rejects.len() as u64;
    if ingested.records_read == 0 {
        return Err(Error::NothingToPublish(format!(
            "the input files in {} hold no records",
            list_paths(&options.inputs)
        )));
    }
    if rejected as f64 > options.max_reject_ratio * ingested.records_read as f64 {
        let rejects_file = publish_rejects(out, &ingested.rejects)?;
        return Err(Error::TooManyRejects {
            rejected,
            read: ingested.records_read,
            max_ratio: options.max_reject_ratio,
            rejects_file,
        });
    }

    let ctx = &loaded.ctx;
    evaluate(ctx, &loaded.views, pack, progress).await?;

    let present = session_dates(ctx).await?;
    let (dates, missing_dates) = match options.dates {
        Some(range) => {
            let wanted: Vec<NaiveDate> = range.from.iter_days().take_while(|d| *d <= range.to).collect();
            let missing = wanted.iter().filter(|d| !present.contains(d)).copied().collect();
            let dates: Vec<NaiveDate> = wanted.into_iter().filter(|d| present.contains(d)).collect();
            (dates, missing)
        }
        None => (present.into_iter().collect(), Vec::new()),
    };
    if dates.is_empty() {
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

    progress.begin("write", Some(dates.len() as u64), Unit::Items);
    let mut staging = BTreeMap::new();
    for date in &dates {
        staging.insert(*date, publish::fresh_staging(&out.join(date_folder(*date)))?);
    }
    let written = outputs::write_tables(ctx, &staging).await?;
    let counts = date_counts(ctx, &dates).await?;
    let hashes = hashing
        .join()
        .map_err(|_| Error::Internal("hashing the inputs panicked".into()))??;
    let run_dates: Vec<String> = dates.iter().map(|d| d.to_string()).collect();
    let mut published = Vec::new();
    for date in &dates {
        let folder = &staging[date];
        let date_rejects: Vec<Reject> = rejects_of_date(&ingested.files, &ingested.rejects, *date);
        rejects::write_jsonl(&date_rejects, &folder.join("rejects.jsonl"))?;
        let mut outputs = Vec::new();
        for file in written.get(date).into_iter().flatten() {
            outputs.push(output_entry(folder, &file.file, Some(file.rows))?);
        }
        outputs.push(output_entry(
            folder,
            "rejects.jsonl",
            Some(date_rejects.len() as u64),
        )?);
        let mut date_counts = counts.get(date).cloned().unwrap_or_default();
        date_counts.rejects = date_rejects.len() as u64;
        date_counts.duplicates_in_run = loaded.views.duplicates;
        let previous = previous_counts(out, &counts, *date);
        let html = report::day::render(ctx, *date, &date_counts, previous.as_ref()).await?;
        let report_path = folder.join("report.html");
        std::fs::write(&report_path, html).map_err(|e| Error::io(&report_path, e))?;
        outputs.push(output_entry(folder, "report.html", None)?);
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
            outputs,
        };
        manifest.write(&folder.join("manifest.json"))?;
        published.push((*date, date_counts));
    }
    // Only now that every folder is complete does any of them replace the old one.
    for date in &dates {
        let target = out.join(date_folder(*date));
        publish::publish(&staging[date], &target)?;
        progress.advance(1);
        progress.note(&format!("published {}", target.display()));
    }
    progress.end(&format!("{} date folders", dates.len()));
    drop(lock);
    Ok(RunReport {
        out: out.clone(),
        dates: published,
        files_read: ingested.files.len(),
        records_read: ingested.records_read,
        rejects: rejected,
        duplicates: loaded.views.duplicates,
        missing_dates,
        elapsed: started.elapsed(),
    })
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

/// sha256 of the inputs and rule files, on a thread of its own while the inputs
/// are parsed.
type Hashes = BTreeMap<PathBuf, String>;

fn spawn_hashing(files: &[InputFile], rule_files: &[PathBuf]) -> std::thread::JoinHandle<Result<Hashes>> {
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

fn input_entries(
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

fn rule_pack_entry(pack: &RulePack, hashes: &Hashes) -> RulePackEntry {
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
fn rejects_of_date(files: &[InputFile], all: &[Reject], date: NaiveDate) -> Vec<Reject> {
    let feeds: BTreeSet<String> = files
        .iter()
        .filter(|f| f.partition_date.is_none_or(|d| d == date))
        .map(|f| f.path.display().to_string())
        .collect();
    masked(all.iter().filter(|r| feeds.contains(&r.file)))
}

/// A rejected line is raw text: its personal data is masked like evidence.
fn masked<'a>(rejects: impl IntoIterator<Item = &'a Reject>) -> Vec<Reject> {
    rejects
        .into_iter()
        .map(|r| Reject {
            raw: mask_pii(&r.raw),
            ..r.clone()
        })
        .collect()
}

/// Runs the rules over the views registered in `ctx` and registers the results:
/// `violations`, then the score tables of [`score`].
pub async fn evaluate(
    ctx: &SessionContext,
    views: &Views,
    pack: &RulePack,
    progress: &dyn Progress,
) -> Result<()> {
    rules::register_functions(ctx, pack, views);
    register_violations(ctx, pack, progress).await?;
    score::register(ctx, pack).await
}

/// Runs every enabled rule and registers the result as the `violations` table.
async fn register_violations(ctx: &SessionContext, pack: &RulePack, progress: &dyn Progress) -> Result<()> {
    let enabled: Vec<_> = pack.enabled().collect();
    progress.begin("rules", Some(enabled.len() as u64), Unit::Items);
    let mut batches: Vec<RecordBatch> = Vec::new();
    for rule in enabled {
        batches.extend(rules::run::violations(ctx, rule).await?);
        progress.advance(1);
    }
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    progress.end(&format!("{total} violations"));
    let table = MemTable::try_new(VIOLATIONS.clone(), vec![batches])?;
    ctx.register_table("violations", Arc::new(table))?;
    Ok(())
}

async fn session_dates(ctx: &SessionContext) -> Result<BTreeSet<NaiveDate>> {
    let (_, batches) = engine::query(ctx, "SELECT DISTINCT local_date FROM sessions").await?;
    Ok(batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Date32Type>().values().to_vec())
        .filter_map(date_of)
        .collect())
}

/// Sessions, messages, rounds, agents and violations per date.
async fn date_counts(ctx: &SessionContext, dates: &[NaiveDate]) -> Result<BTreeMap<NaiveDate, Counts>> {
    let list: Vec<String> = dates.iter().map(|d| format!("DATE '{d}'")).collect();
    let list = list.join(", ");
    let mut counts: BTreeMap<NaiveDate, Counts> = dates.iter().map(|d| (*d, Counts::default())).collect();
    let sessions = format!(
        "SELECT local_date, count(*), sum(messages), sum(rounds) FROM sessions \
         WHERE local_date IN ({list}) GROUP BY local_date"
    );
    for_rows(ctx, &sessions, |date, row| {
        let c = counts.entry(date).or_default();
        c.sessions = row.int(1);
        c.messages = row.int(2);
        c.rounds = row.int(3);
    })
    .await?;
    let agents = format!("SELECT date, count(*) FROM scorecards WHERE date IN ({list}) GROUP BY date");
    for_rows(ctx, &agents, |date, row| {
        counts.entry(date).or_default().agents = row.int(1)
    })
    .await?;
    let violations = format!(
        "SELECT date, count(*), severity FROM violations WHERE date IN ({list}) GROUP BY date, severity"
    );
    for_rows(ctx, &violations, |date, row| {
        let c = counts.entry(date).or_default();
        let n = row.int(1);
        c.violations += n;
        c.violations_by_severity.insert(row.text(2), n);
    })
    .await?;
    let scores = format!(
        "SELECT date, CAST(sum(score) AS DOUBLE) / count(*) FROM conversation_scores WHERE date IN ({list}) GROUP BY date"
    );
    for_rows(ctx, &scores, |date, row| {
        counts.entry(date).or_default().qa_score_avg = row.float(1)
    })
    .await?;
    let rates = format!(
        "SELECT session_date, \
                CAST(count(*) FILTER (WHERE latency_us <= 30000000) AS DOUBLE) / count(*), \
                CAST(count(*) FILTER (WHERE latency_us <= 180000000) AS DOUBLE) / count(*) \
         FROM (SELECT session_date, arrow_cast(closed_at, 'Int64') - arrow_cast(opened_at, 'Int64') AS latency_us \
               FROM rounds WHERE responder_role = 'agent' AND session_date IN ({list})) AS r \
         GROUP BY session_date"
    );
    for_rows(ctx, &rates, |date, row| {
        let c = counts.entry(date).or_default();
        c.within_30s_rate = row.float(1);
        c.within_180s_rate = row.float(2);
    })
    .await?;
    Ok(counts)
}

struct Row<'a> {
    batch: &'a RecordBatch,
    index: usize,
}

impl Row<'_> {
    fn int(&self, column: usize) -> u64 {
        let values = datafusion::arrow::compute::cast(
            self.batch.column(column),
            &datafusion::arrow::datatypes::DataType::Int64,
        )
        .expect("counts cast to Int64");
        let values = values.as_primitive::<Int64Type>();
        if values.is_null(self.index) {
            0
        } else {
            values.value(self.index).max(0) as u64
        }
    }

    fn float(&self, column: usize) -> Option<f64> {
        let values = datafusion::arrow::compute::cast(
            self.batch.column(column),
            &datafusion::arrow::datatypes::DataType::Float64,
        )
        .expect("numbers cast to Float64");
        let values = values.as_primitive::<datafusion::arrow::datatypes::Float64Type>();
        (!values.is_null(self.index)).then(|| values.value(self.index))
    }

    fn text(&self, column: usize) -> String {
        let values = datafusion::arrow::compute::cast(
            self.batch.column(column),
            &datafusion::arrow::datatypes::DataType::Utf8,
        )
        .expect("text casts to Utf8");
        values.as_string::<i32>().value(self.index).to_string()
    }
}

/// Calls `each` with every row of `sql`, whose first column is a date.
async fn for_rows(ctx: &SessionContext, sql: &str, mut each: impl FnMut(NaiveDate, &Row)) -> Result<()> {
    let (_, batches) = engine::query(ctx, sql).await?;
    for batch in &batches {
        let dates = batch.column(0).as_primitive::<Date32Type>();
        for index in 0..batch.num_rows() {
            if let Some(date) = date_of(dates.value(index)) {
                each(date, &Row { batch, index });
            }
        }
    }
    Ok(())
}

/// Publishes the rejects of a refused run as `OUT/_rejects/rejects.jsonl`.
fn publish_rejects(out: &Path, all: &[Reject]) -> Result<PathBuf> {
    let target = out.join(REJECTS_FOLDER);
    let staging = publish::fresh_staging(&target)?;
    rejects::write_jsonl(&masked(all), &staging.join("rejects.jsonl"))?;
    publish::publish(&staging, &target)?;
    Ok(target.join("rejects.jsonl"))
}
