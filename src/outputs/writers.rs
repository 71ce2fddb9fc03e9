//! Writers for one output table across the date folders of a run: a query's rows
//! arrive sorted by date and are cut into one file per date.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::ArrowWriter;
use futures::StreamExt;

use crate::dataset::writer_properties;
use crate::engine;
use crate::error::{Error, Result};

/// Days from 0001-01-01 to 1970-01-01, to turn Arrow's Date32 into a date.
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

pub fn date_of(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days + UNIX_EPOCH_DAYS_FROM_CE)
}

pub fn days_of(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE
}

/// One table, one file per date folder: Parquet, optionally a CSV copy for people.
pub struct TableFiles {
    name: String,
    csv: bool,
    schema: SchemaRef,
    /// The column of the query's rows that says which date's file a row goes to
    /// (it need not be a column of the file).
    date_column: &'static str,
    per_date: BTreeMap<i32, DateFiles>,
}

struct DateFiles {
    parquet: ArrowWriter<BufWriter<File>>,
    parquet_path: PathBuf,
    csv: Option<(datafusion::arrow::csv::Writer<BufWriter<File>>, PathBuf)>,
    rows: u64,
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    Ok(BufWriter::new(
        File::create(path).map_err(|e| Error::io(path, e))?,
    ))
}

impl TableFiles {
    /// A table without date folders yet (see [`TableFiles::open_date`]), whose
    /// rows say their date in the column `date`.
    pub fn new(name: &str, schema: SchemaRef, csv: bool) -> Self {
        Self::dated_by(name, schema, csv, "date")
    }

    /// A table whose rows say their date in `date_column`.
    pub fn dated_by(name: &str, schema: SchemaRef, csv: bool, date_column: &'static str) -> Self {
        Self {
            name: name.to_string(),
            csv,
            schema,
            date_column,
            per_date: BTreeMap::new(),
        }
    }

    /// Whether `date` has a file open.
    pub fn has_date(&self, date: NaiveDate) -> bool {
        self.per_date.contains_key(&days_of(date))
    }

    /// Opens `NAME.parquet` (and `NAME.csv` when `csv`) in the folder of `date`.
    pub fn open_date(&mut self, date: NaiveDate, folder: &Path) -> Result<()> {
        let parquet_path = folder.join(format!("{}.parquet", self.name));
        let parquet = ArrowWriter::try_new(
            create(&parquet_path)?,
            self.schema.clone(),
            Some(writer_properties()),
        )
        .map_err(|e| Error::write(&parquet_path, e))?;
        let csv = if self.csv {
            let path = folder.join(format!("{}.csv", self.name));
            let writer = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .with_null(String::new())
                .build(create(&path)?);
            Some((writer, path))
        } else {
            None
        };
        self.per_date.insert(
            days_of(date),
            DateFiles {
                parquet,
                parquet_path,
                csv,
                rows: 0,
            },
        );
        Ok(())
    }

    /// Writes a batch sorted by its date column; rows of dates without a folder
    /// are skipped.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let dates = engine::columns(batch).date_array(self.date_column)?;
        let batch = engine::decode::conform(batch, &self.schema)?;
        let mut start = 0;
        while start < batch.num_rows() {
            let day = dates.value(start);
            let mut end = start + 1;
            while end < batch.num_rows() && dates.value(end) == day {
                end += 1;
            }
            if let Some(files) = self.per_date.get_mut(&day) {
                let slice = batch.slice(start, end - start);
                files
                    .parquet
                    .write(&slice)
                    .map_err(|e| Error::write(&files.parquet_path, e))?;
                if let Some((csv, path)) = &mut files.csv {
                    csv.write(&slice).map_err(|e| Error::write(&*path, e))?;
                }
                files.rows += slice.num_rows() as u64;
            }
            start = end;
        }
        Ok(())
    }

    /// Ends the current row group of every file, so that rows buffered for later
    /// dates do not pile up while the run goes on with other shops.
    pub fn flush(&mut self) -> Result<()> {
        for files in self.per_date.values_mut() {
            files
                .parquet
                .flush()
                .map_err(|e| Error::write(&files.parquet_path, e))?;
        }
        Ok(())
    }

    /// Closes every file; returns the rows per date.
    pub fn finish(self) -> Result<BTreeMap<NaiveDate, u64>> {
        let mut rows = BTreeMap::new();
        for (day, files) in self.per_date {
            files
                .parquet
                .close()
                .map_err(|e| Error::write(&files.parquet_path, e))?;
            if let Some((csv, path)) = files.csv {
                let mut out = csv.into_inner();
                std::io::Write::flush(&mut out).map_err(|e| Error::write(&path, e))?;
            }
            rows.insert(date_of(day).expect("a date we created"), files.rows);
        }
        Ok(rows)
    }
}

/// Runs `frame` and writes its rows into `files`.
pub async fn write_query(frame: datafusion::prelude::DataFrame, files: &mut TableFiles) -> Result<()> {
    let mut stream = frame.execute_stream().await?;
    while let Some(batch) = stream.next().await {
        files.write(&batch?)?;
    }
    Ok(())
}
