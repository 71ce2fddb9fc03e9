//! A command's plan, resolved before anything is read: which inputs, which
//! session dates, which time zones, how much memory.

use std::path::PathBuf;

use datafusion::arrow::array::RecordBatch;

use super::window::{DateRange, select_files};
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::ingest::InputFile;
use crate::timezone::TimeZones;

/// Peak memory per message of a unit, measured on generated data (views, rule
/// results and output buffers included), with a margin.
const BYTES_PER_MESSAGE: u64 = 1_000;

/// What is read.
#[derive(Debug)]
pub enum Input {
    /// Export files (canonical JSONL, CSV, Parquet), in input order.
    Raw(Vec<InputFile>),
    /// A prepared dataset: its views are read as they are.
    Prepared(Dataset),
    /// Raw rows already in memory ([`crate::schema::RAW`]): inline rule tests.
    Batches(Vec<RecordBatch>),
}

#[derive(Debug)]
pub struct Plan {
    pub input: Input,
    /// Session dates to work on; `None` is every date of the input.
    pub dates: Option<DateRange>,
    pub zones: TimeZones,
    /// Memory to stay within, in bytes: it sizes the units of shops.
    pub memory_limit: u64,
    /// The views a prepared dataset's units need (`None`: all); views built from
    /// raw rows are built whole anyway.
    pub views: Option<Vec<&'static str>>,
}

impl Plan {
    /// Resolves `--input` paths: one path holding a prepared dataset is read as
    /// one; anything else is export files (date folders outside `dates` pruned).
    pub fn resolve(
        inputs: &[PathBuf],
        dates: Option<DateRange>,
        zones: TimeZones,
        memory_limit: u64,
    ) -> Result<Self> {
        let datasets: Vec<Dataset> = inputs
            .iter()
            .filter(|p| p.is_dir())
            .filter_map(|p| Dataset::open(p).transpose())
            .collect::<Result<_>>()?;
        let input = match (datasets.len(), inputs.len()) {
            (0, _) => Input::Raw(select_files(inputs, dates)?),
            (1, 1) => {
                let dataset = datasets.into_iter().next().expect("one");
                dataset.check_compatible(&zones)?;
                Input::Prepared(dataset)
            }
            _ => {
                return Err(Error::Usage(
                    "a prepared dataset (a folder with _dataset.json) is read on its own: give it as the only --input"
                        .into(),
                ));
            }
        };
        Ok(Self {
            input,
            dates,
            zones,
            memory_limit,
            views: None,
        })
    }

    /// A plan over rows already in memory, with every date.
    pub fn batches(batches: Vec<RecordBatch>, zones: TimeZones) -> Self {
        Self {
            input: Input::Batches(batches),
            dates: None,
            zones,
            memory_limit: default_memory_limit(),
            views: None,
        }
    }

    /// Messages in one unit of shops.
    pub fn unit_messages(&self) -> u64 {
        (self.memory_limit / BYTES_PER_MESSAGE).max(1_000)
    }

    /// The files a run records as its inputs (none for rows in memory).
    pub fn raw_files(&self) -> &[InputFile] {
        match &self.input {
            Input::Raw(files) => files,
            _ => &[],
        }
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
