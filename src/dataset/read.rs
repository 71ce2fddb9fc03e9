//! Reading a prepared dataset a unit of shops at a time: the views of the dates
//! asked for, and of those only the row groups and rows of the unit's shops (the
//! files are sorted by shop, so a few shops are a few row groups).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use datafusion::arrow::array::{AsArray, RecordBatch, Scalar, StringArray};
use datafusion::arrow::compute::kernels::cmp::{gt_eq, lt_eq};
use datafusion::arrow::compute::{and, concat_batches, filter_record_batch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::file::metadata::RowGroupMetaData;

use super::Dataset;
use crate::engine;
use crate::error::{Error, Result};
use crate::ingest::{Format, InputFile};
use crate::pipeline::window::DateRange;
use crate::schema::{AGENT_SESSIONS, MESSAGES, ROUNDS, SESSIONS};
use crate::views::Views;

pub struct DatasetReader {
    dataset: Dataset,
    dates: Vec<NaiveDate>,
    partitions: usize,
    /// The views read (`None`: all); the others are left empty.
    views: Option<Vec<&'static str>>,
}

impl DatasetReader {
    pub fn new(dataset: Dataset, range: Option<DateRange>, partitions: usize) -> Self {
        let dates = dataset.view_dates(range);
        Self {
            dataset,
            dates,
            partitions: partitions.max(1),
            views: None,
        }
    }

    /// Reads only `views` (all with `None`): a command that runs one rule needs
    /// one or two of the four.
    pub fn with_views(mut self, views: Option<Vec<&'static str>>) -> Self {
        self.views = views;
        self
    }

    pub fn dates(&self) -> &[NaiveDate] {
        &self.dates
    }

    /// Consecutive shops (in name order) of at most `max_rows` messages over the
    /// dates read; a larger shop is a unit of its own.
    pub fn units(&self, max_rows: u64) -> Vec<Vec<String>> {
        let mut per_shop: BTreeMap<&str, u64> = BTreeMap::new();
        for date in &self.dates {
            if let Some(entry) = self.dataset.entry(*date) {
                for (shop, messages) in &entry.shops {
                    *per_shop.entry(shop).or_default() += messages;
                }
            }
        }
        let mut units: Vec<Vec<String>> = Vec::new();
        let mut rows = 0;
        for (shop, messages) in per_shop {
            if units.is_empty() || (rows + messages > max_rows && rows > 0) {
                units.push(Vec::new());
                rows = 0;
            }
            rows += messages;
            units.last_mut().expect("just pushed").push(shop.to_string());
        }
        units
    }

    /// The view files read, for the record of a run.
    pub fn files(&self) -> Result<Vec<InputFile>> {
        let mut files = Vec::new();
        for date in &self.dates {
            for table in super::VIEW_TABLES {
                if self.views.as_ref().is_some_and(|views| !views.contains(&table)) {
                    continue;
                }
                let path = self.dataset.view_file(*date, table);
                let size = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?.len();
                files.push(InputFile {
                    path,
                    format: Format::Parquet,
                    size,
                    partition_date: Some(*date),
                });
            }
        }
        Ok(files)
    }

    /// The views of `shops` (consecutive in name order) on the dates read.
    pub fn read(&self, shops: &[String]) -> Result<Views> {
        let (Some(first), Some(last)) = (shops.first(), shops.last()) else {
            return Ok(Views::default());
        };
        let table = |name: &str, schema: &SchemaRef| -> Result<Vec<Vec<RecordBatch>>> {
            if self.views.as_ref().is_some_and(|views| !views.contains(&name)) {
                return Ok(Vec::new());
            }
            let mut batches = Vec::new();
            for date in &self.dates {
                let path = self.dataset.view_file(*date, name);
                if path.exists() {
                    batches.extend(read_shops(&path, first, last, schema)?);
                }
            }
            let all = concat_batches(schema, &batches)?;
            Ok(split_by_session(&all, self.partitions))
        };
        Ok(Views {
            messages: table("messages", &MESSAGES)?,
            rounds: table("rounds", &ROUNDS)?,
            sessions: table("sessions", &SESSIONS)?,
            agent_sessions: table("agent_sessions", &AGENT_SESSIONS)?,
            duplicates: 0,
        })
    }
}

/// The rows of shops `first..=last` of a view file, as `schema`.
fn read_shops(path: &Path, first: &str, last: &str, schema: &SchemaRef) -> Result<Vec<RecordBatch>> {
    let unreadable = |e: &dyn std::fmt::Display| Error::Input {
        path: path.to_path_buf(),
        message: format!("cannot read this view of the dataset ({e}); ingest the exports again"),
    };
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| unreadable(&e))?;
    let shop_column = builder
        .parquet_schema()
        .columns()
        .iter()
        .position(|c| c.name() == "shop")
        .ok_or_else(|| unreadable(&"no shop column"))?;
    let groups: Vec<usize> = builder
        .metadata()
        .row_groups()
        .iter()
        .enumerate()
        .filter(|(_, group)| may_hold(group, shop_column, first, last))
        .map(|(index, _)| index)
        .collect();
    // Row groups are decoded on every core, in contiguous runs kept in order.
    let threads = crate::engine::default_partitions().clamp(1, groups.len().max(1));
    let runs: Vec<&[usize]> = groups.chunks(groups.len().div_ceil(threads).max(1)).collect();
    let read_run = |run: &[usize]| -> Result<Vec<RecordBatch>> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|builder| builder.with_row_groups(run.to_vec()).build())
            .map_err(|e| unreadable(&e))?;
        let (low, high) = (
            Scalar::new(StringArray::from(vec![first])),
            Scalar::new(StringArray::from(vec![last])),
        );
        let mut out = Vec::new();
        for batch in reader {
            let batch = engine::decode::conform(&batch.map_err(|e| unreadable(&e))?, schema)?;
            let shop = batch.column_by_name("shop").expect("views have a shop");
            let inside = and(&gt_eq(shop, &low)?, &lt_eq(shop, &high)?)?;
            if inside.true_count() > 0 {
                out.push(filter_record_batch(&batch, &inside)?);
            }
        }
        Ok(out)
    };
    let per_run: Vec<Result<Vec<RecordBatch>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = runs.iter().map(|run| scope.spawn(|| read_run(run))).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(unreadable(&"a reading thread panicked")))
            })
            .collect()
    });
    let mut out = Vec::new();
    for run in per_run {
        out.extend(run?);
    }
    Ok(out)
}

/// Whether a row group's shop statistics overlap `first..=last` (true without them).
fn may_hold(group: &RowGroupMetaData, column: usize, first: &str, last: &str) -> bool {
    let Some(stats) = group.column(column).statistics() else {
        return true;
    };
    let (Some(min), Some(max)) = (stats.min_bytes_opt(), stats.max_bytes_opt()) else {
        return true;
    };
    min <= last.as_bytes() && max >= first.as_bytes()
}

/// Cuts rows sorted by session into `partitions` slices, never inside a session,
/// so that each partition can be walked in session order.
fn split_by_session(batch: &RecordBatch, partitions: usize) -> Vec<Vec<RecordBatch>> {
    let rows = batch.num_rows();
    if rows == 0 {
        return vec![Vec::new()];
    }
    let key = |row: usize| -> (&str, &str) {
        let text = |name: &str| {
            batch
                .column_by_name(name)
                .expect("views have it")
                .as_string::<i32>()
        };
        (text("shop").value(row), text("session_id").value(row))
    };
    let mut cuts = vec![0];
    for part in 1..partitions {
        let mut at = (rows * part / partitions).max(*cuts.last().expect("starts at 0"));
        while at > 0 && at < rows && key(at) == key(at - 1) {
            at += 1;
        }
        if at < rows && at > *cuts.last().expect("starts at 0") {
            cuts.push(at);
        }
    }
    cuts.push(rows);
    cuts.windows(2)
        .map(|w| vec![batch.slice(w[0], w[1] - w[0])])
        .collect()
}
