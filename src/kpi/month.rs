//! The month's published daily folders: which days exist, their manifests, and
//! the tables the KPI reads from them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Days, NaiveDate};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{Error, Result};
use crate::outputs::date_folder;
use crate::outputs::manifest::sha256_file;
use crate::timezone::{TimeZones, parse_zone};

/// A month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    pub first: NaiveDate,
}

impl Month {
    pub fn parse(text: &str) -> Result<Self> {
        let first = NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d")
            .ok()
            .filter(|_| text.len() == 7)
            .ok_or_else(|| {
                Error::Usage(format!("--month {text:?}: give a month as YYYY-MM, like 2026-11"))
            })?;
        Ok(Self { first })
    }

    pub fn days(&self) -> Vec<NaiveDate> {
        self.first
            .iter_days()
            .take_while(|d| d.month() == self.first.month())
            .collect()
    }

    pub fn last(&self) -> NaiveDate {
        *self.days().last().expect("a month has days")
    }

    pub fn label(&self) -> String {
        self.first.format("%Y-%m").to_string()
    }
}

/// A daily folder read for the KPI.
#[derive(Debug, Clone)]
pub struct Day {
    pub date: NaiveDate,
    pub folder: PathBuf,
    pub manifest: serde_json::Value,
    pub manifest_sha256: String,
}

/// The month's folders found under `out`, and the days without one.
pub fn find_days(out: &Path, month: Month) -> Result<(Vec<Day>, Vec<NaiveDate>)> {
    let mut days = Vec::new();
    let mut missing = Vec::new();
    for date in month.days() {
        match read_day(out, date)? {
            Some(day) => days.push(day),
            None => missing.push(date),
        }
    }
    Ok((days, missing))
}

/// The folder of `date`, when published.
pub fn read_day(out: &Path, date: NaiveDate) -> Result<Option<Day>> {
    let folder = out.join(date_folder(date));
    let manifest_path = folder.join("manifest.json");
    if !manifest_path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| Error::io(&manifest_path, e))?;
    let manifest: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Input {
        path: manifest_path.clone(),
        message: format!("not a zhijian manifest: {e}"),
    })?;
    if manifest["status"] != "complete" {
        return Err(Error::Input {
            path: manifest_path,
            message: "the run that wrote this folder did not complete: run `zhijian run` for this date again"
                .into(),
        });
    }
    Ok(Some(Day {
        date,
        manifest_sha256: sha256_file(&manifest_path)?,
        folder,
        manifest,
    }))
}

/// The time zones the daily runs used; they must agree, or dates would not line up.
pub fn zones_of(days: &[Day]) -> Result<TimeZones> {
    let describe = |d: &Day| {
        (
            d.manifest["timezone"].clone(),
            d.manifest["shop_timezones"].clone(),
        )
    };
    let first = days.first().ok_or_else(|| Error::Internal("no days".into()))?;
    if let Some(other) = days.iter().find(|d| describe(d) != describe(first)) {
        return Err(Error::Input {
            path: other.folder.join("manifest.json"),
            message: format!(
                "ran with time zones {} but {} with {}: re-run the month with one --timezone",
                describe(other).0,
                first.date,
                describe(first).0
            ),
        });
    }
    let zone = parse_zone(first.manifest["timezone"].as_str().unwrap_or("Asia/Shanghai"))?;
    let overrides: Vec<String> = first.manifest["shop_timezones"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(shop, tz)| format!("{shop}={}", tz.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    TimeZones::new(zone).with_shop_overrides(overrides.iter().map(String::as_str))
}

/// The `NAME.parquet` file of every day; a day without one was written by an
/// older zhijian and must be run again.
pub fn table_files(days: &[Day], name: &str) -> Result<Vec<PathBuf>> {
    days.iter()
        .map(|day| {
            let path = day.folder.join(format!("{name}.parquet"));
            if path.exists() {
                Ok(path)
            } else {
                Err(Error::Input {
                    path,
                    message: format!(
                        "missing: this folder was written by an older zhijian; run `zhijian run --date {}` again",
                        day.date
                    ),
                })
            }
        })
        .collect()
}

/// Reads `NAME.parquet` of every day, cast to `schema`: for small tables
/// (scorecards), read whole.
pub fn read_table(days: &[Day], name: &str, schema: &SchemaRef) -> Result<Vec<RecordBatch>> {
    let mut batches = Vec::new();
    for path in table_files(days, name)? {
        let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        for batch in ParquetRecordBatchReaderBuilder::try_new(file)?.build()? {
            batches.push(crate::engine::decode::conform(&batch?, schema)?);
        }
    }
    Ok(batches)
}

/// The day after the month, whose inquiries may hold the last closer of an order
/// paid on the month's last day.
pub fn day_after(month: Month) -> Option<NaiveDate> {
    month.last().checked_add_days(Days::new(1))
}

/// Daily manifests read, by date, for the KPI manifest.
pub fn manifest_list(days: &[Day]) -> BTreeMap<String, (String, String)> {
    days.iter()
        .map(|d| {
            (
                d.date.to_string(),
                (
                    d.folder.join("manifest.json").display().to_string(),
                    d.manifest_sha256.clone(),
                ),
            )
        })
        .collect()
}
