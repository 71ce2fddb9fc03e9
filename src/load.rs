//! From `--input` paths to a DataFusion session with the views registered: the
//! common first half of every command that reads transcripts.

use std::path::PathBuf;

use chrono::{Days, NaiveDate};
use datafusion::arrow::array::{RecordBatch, Scalar, TimestampMicrosecondArray};
use datafusion::arrow::compute::kernels::cmp::{gt_eq, lt};
use datafusion::arrow::compute::{and, filter_record_batch};
use datafusion::prelude::SessionContext;

use crate::engine;
use crate::error::Result;
use crate::ingest::{self, Ingested, InputFile};
use crate::progress::{Progress, Silent, Unit};
use crate::schema::CANONICAL_NAMES;
use crate::timezone::TimeZones;
use crate::views::{self, Views};

/// What loading produced: the session to query, the views and the ingest report.
pub struct Loaded {
    pub ctx: SessionContext,
    pub views: Views,
    /// The ingest report; its raw batches have been consumed by the views.
    pub ingested: Ingested,
}

/// Session dates wanted, inclusive.
///
/// A session belongs to the local date it started, and its messages may run past
/// midnight. So reading for these dates takes the day before (to see which sessions
/// had already started) and the day after (their late messages); sessions of those
/// two days are read but not reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DateRange {
    pub fn single(date: NaiveDate) -> Self {
        Self { from: date, to: date }
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }

    /// Whether a `date=` folder of messages of local date `partition` is needed.
    fn may_hold(&self, partition: NaiveDate) -> bool {
        let first = self.from.pred_opt().unwrap_or(self.from);
        let last = self.to.succ_opt().unwrap_or(self.to);
        first <= partition && partition <= last
    }

    /// `[start, end)` in UTC microseconds holding every message of local dates
    /// `from - 1 ..= to + 1` in any time zone (offsets are within ±24 h).
    fn utc_window_micros(&self) -> (i64, i64) {
        let micros = |d: Option<NaiveDate>, fallback: i64| {
            d.and_then(|d| d.and_hms_opt(0, 0, 0))
                .map_or(fallback, |t| t.and_utc().timestamp_micros())
        };
        (
            micros(self.from.checked_sub_days(Days::new(2)), i64::MIN),
            micros(self.to.checked_add_days(Days::new(3)), i64::MAX),
        )
    }
}

/// The files of `inputs` that may hold sessions of `dates` (all when `None`).
pub fn select_files(inputs: &[PathBuf], dates: Option<DateRange>) -> Result<Vec<InputFile>> {
    let mut files = ingest::discover(inputs)?;
    if let Some(range) = dates {
        files.retain(|f| f.partition_date.is_none_or(|d| range.may_hold(d)));
    }
    Ok(files)
}

pub async fn load(inputs: &[PathBuf], zones: &TimeZones) -> Result<Loaded> {
    load_dates(inputs, zones, None).await
}

/// Like [`load`], reading only what may hold sessions of `dates`.
pub async fn load_dates(inputs: &[PathBuf], zones: &TimeZones, dates: Option<DateRange>) -> Result<Loaded> {
    load_files(select_files(inputs, dates)?, zones, dates, &Silent).await
}

/// Reads `files`, keeps the messages that may belong to sessions of `dates`, and
/// builds and registers the views.
pub async fn load_files(
    files: Vec<InputFile>,
    zones: &TimeZones,
    dates: Option<DateRange>,
    progress: &dyn Progress,
) -> Result<Loaded> {
    let partitions = engine::default_partitions();
    let ctx = engine::new_context(partitions);
    let started = std::time::Instant::now();
    progress.begin("read", Some(files.iter().map(|f| f.size).sum()), Unit::Bytes);
    let mut ingested = ingest::read_files_reporting(files, zones, partitions, progress)?;
    progress.end(&format!(
        "{} files, {} records, {} rejects",
        ingested.files.len(),
        ingested.records_read,
        ingested.rejects.len()
    ));
    let read = started.elapsed();
    let mut raw = std::mem::take(&mut ingested.batches);
    if let Some(range) = dates {
        raw = keep_window(raw, range)?;
    }
    progress.begin("views", None, Unit::Items);
    let views = views::build(&ctx, raw, zones, partitions).await?;
    engine::register_views(&ctx, &views)?;
    progress.end(&format!(
        "{} messages, {} duplicates dropped",
        views.message_count(),
        views.duplicates
    ));
    if std::env::var_os("ZHIJIAN_TIMINGS").is_some() {
        eprintln!(
            "zhijian: timings: read+validate {:.3} s, views {:.3} s",
            read.as_secs_f64(),
            (started.elapsed() - read).as_secs_f64()
        );
    }
    Ok(Loaded { ctx, views, ingested })
}

/// Drops messages that cannot belong to a session of `range`: the time predicate
/// for inputs that are not in `date=` folders.
pub fn keep_window(raw: Vec<RecordBatch>, range: DateRange) -> Result<Vec<RecordBatch>> {
    let ts_idx = CANONICAL_NAMES
        .iter()
        .position(|n| *n == "ts")
        .expect("ts is canonical");
    let (start, end) = range.utc_window_micros();
    let utc = |micros: i64| Scalar::new(TimestampMicrosecondArray::from(vec![micros]).with_timezone("UTC"));
    let (start, end) = (utc(start), utc(end));
    let mut kept = Vec::with_capacity(raw.len());
    for batch in raw {
        let ts = batch.column(ts_idx);
        let inside = and(&gt_eq(ts, &start)?, &lt(ts, &end)?)?;
        if inside.true_count() == batch.num_rows() {
            kept.push(batch);
        } else if inside.true_count() > 0 {
            kept.push(filter_record_batch(&batch, &inside)?);
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_date_reads_the_day_before_and_after() {
        let range = DateRange::single(date("2026-11-11"));
        assert!(!range.may_hold(date("2026-11-09")));
        assert!(range.may_hold(date("2026-11-10")));
        assert!(range.may_hold(date("2026-11-11")));
        assert!(range.may_hold(date("2026-11-12")));
        assert!(!range.may_hold(date("2026-11-13")));
    }

    #[test]
    fn the_utc_window_covers_every_time_zone() {
        let (start, end) = DateRange::single(date("2026-11-11")).utc_window_micros();
        // 2026-11-10 00:00 at UTC+14 and 2026-11-12 23:59 at UTC-12.
        let earliest = date("2026-11-09").and_hms_opt(10, 0, 0).unwrap().and_utc();
        let latest = date("2026-11-13").and_hms_opt(11, 59, 0).unwrap().and_utc();
        assert!(start <= earliest.timestamp_micros());
        assert!(latest.timestamp_micros() < end);
    }
}
