//! From `--input` paths to a DataFusion session with the views registered: the
//! common first half of every command that reads transcripts.

use std::path::PathBuf;

use chrono::NaiveDate;
use datafusion::prelude::SessionContext;

use crate::engine;
use crate::error::Result;
use crate::ingest::{self, Ingested};
use crate::timezone::TimeZones;
use crate::views::{self, Views};

/// What loading produced: the session to query, the views and the ingest report.
pub struct Loaded {
    pub ctx: SessionContext,
    pub views: Views,
    /// The ingest report; its raw batches have been consumed by the views.
    pub ingested: Ingested,
}

/// Session dates wanted, inclusive. Files in `date=` folders outside them (and the
/// day after, where late messages of a session live) are not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DateRange {
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }

    fn may_hold(&self, partition: NaiveDate) -> bool {
        self.from <= partition && partition <= self.to.succ_opt().unwrap_or(self.to)
    }
}

pub async fn load(inputs: &[PathBuf], zones: &TimeZones) -> Result<Loaded> {
    load_dates(inputs, zones, None).await
}

/// Like [`load`], reading only files that may hold sessions of `dates`.
pub async fn load_dates(inputs: &[PathBuf], zones: &TimeZones, dates: Option<DateRange>) -> Result<Loaded> {
    let partitions = engine::default_partitions();
    let ctx = engine::new_context(partitions);
    let mut files = ingest::discover(inputs)?;
    if let Some(range) = dates {
        files.retain(|f| f.partition_date.is_none_or(|d| range.may_hold(d)));
    }
    let started = std::time::Instant::now();
    let mut ingested = ingest::read_files(files, zones, partitions)?;
    let read = started.elapsed();
    let raw = std::mem::take(&mut ingested.batches);
    let views = views::build(&ctx, raw, zones, partitions).await?;
    engine::register_views(&ctx, &views)?;
    if std::env::var_os("ZHIJIAN_TIMINGS").is_some() {
        eprintln!(
            "zhijian: timings: read+validate {:.3} s, views {:.3} s",
            read.as_secs_f64(),
            (started.elapsed() - read).as_secs_f64()
        );
    }
    Ok(Loaded { ctx, views, ingested })
}
