//! Which inputs and rows a date range needs. A session belongs to the local date
//! it started, and its messages may run past midnight: reading for some dates
//! takes the day before (to see which sessions had already started) and the day
//! after (their late messages).

use std::path::PathBuf;

use chrono::{Days, NaiveDate};
use datafusion::arrow::array::{RecordBatch, Scalar, TimestampMicrosecondArray};
use datafusion::arrow::compute::kernels::cmp::{gt_eq, lt};
use datafusion::arrow::compute::{and, filter_record_batch};

use crate::error::Result;
use crate::ingest::{self, InputFile};
use crate::schema::CANONICAL_NAMES;

/// Session dates wanted, inclusive. Reading for them takes the day before and the
/// day after too; sessions of those two days are read but not reported.
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
    pub fn may_hold(&self, partition: NaiveDate) -> bool {
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
