//! Ingest: exports (JSON Lines, CSV, Parquet; files or folders) into raw Arrow
//! batches of the canonical record (design §3), with every bad record kept as a
//! reject instead of failing the run.

pub mod builder;
pub mod csv;
pub mod discover;
#[cfg(test)]
pub(crate) mod hostile_tests;
pub mod jsonl;
pub mod parquet;
pub mod record;
pub mod rejects;
pub mod scalar;
pub mod spill;
pub mod timestamp;

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::array::RecordBatch;

use crate::error::Result;
use crate::progress::{Progress, Silent};
use crate::timezone::TimeZones;
pub use discover::{Format, InputFile, discover};
pub use rejects::Reject;

/// Rows per batch for sources that are not cut by bytes.
pub const BATCH_ROWS: usize = 8192;

/// The input order of a record: file index in sorted path order, then line. It
/// orders messages with equal `ts` and decides which duplicate is kept.
pub fn input_order(file_idx: usize, line: u64) -> u64 {
    ((file_idx as u64) << 40) | line
}

/// Moves a batch of [`crate::schema::RAW`] rows behind `files_before` files in
/// input order: for files read after a first set (a dataset's own partitions,
/// read after the new exports).
pub fn shift_input_order(batch: RecordBatch, files_before: usize) -> Result<RecordBatch> {
    use datafusion::arrow::array::{AsArray, UInt64Array};
    use datafusion::arrow::datatypes::UInt64Type;
    let shift = input_order(files_before, 0);
    let ord = batch.column(crate::schema::RAW_ORD).as_primitive::<UInt64Type>();
    let shifted: UInt64Array = ord.iter().map(|o| o.map(|o| o + shift)).collect();
    let mut columns = batch.columns().to_vec();
    columns[crate::schema::RAW_ORD] = std::sync::Arc::new(shifted);
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

/// What one piece of one file gave.
#[derive(Debug)]
pub struct Chunk {
    pub file_idx: usize,
    pub chunk_idx: u64,
    pub batch: Option<RecordBatch>,
    pub rejects: Vec<Reject>,
    /// Records read (non-blank lines or rows), accepted or not.
    pub records: u64,
}

impl Chunk {
    fn rejects_only(file_idx: usize, chunk_idx: u64, reject: Reject) -> Self {
        Self {
            file_idx,
            chunk_idx,
            batch: None,
            rejects: vec![reject],
            records: 1,
        }
    }

    fn data(file_idx: usize, chunk_idx: u64, batch: RecordBatch, rejects: Vec<Reject>, records: u64) -> Self {
        Self {
            file_idx,
            chunk_idx,
            batch: Some(batch),
            rejects,
            records,
        }
    }
}

/// Everything read from the inputs, in input order.
#[derive(Debug)]
pub struct Ingested {
    pub files: Vec<InputFile>,
    /// Batches of [`crate::schema::RAW`].
    pub batches: Vec<RecordBatch>,
    pub rejects: Vec<Reject>,
    pub records_read: u64,
    /// Records read per file, in `files` order.
    pub records_per_file: Vec<u64>,
    /// Files that held no record at all, worth a warning.
    pub empty_files: Vec<PathBuf>,
}

impl Ingested {
    pub fn accepted(&self) -> u64 {
        self.batches.iter().map(|b| b.num_rows() as u64).sum()
    }
}

/// Reads `files` (from [`discover`]) with `workers` threads for JSON Lines.
pub fn read_files(files: Vec<InputFile>, zones: &TimeZones, workers: usize) -> Result<Ingested> {
    read_files_reporting(files, zones, workers, &Silent)
}

/// Like [`read_files`], reporting the bytes read to `progress`.
pub fn read_files_reporting(
    files: Vec<InputFile>,
    zones: &TimeZones,
    workers: usize,
    progress: &dyn Progress,
) -> Result<Ingested> {
    let parts: Mutex<Vec<(usize, u64, RecordBatch)>> = Mutex::new(Vec::new());
    let report = read_files_streaming(files, zones, workers, progress, &|file_idx, chunk_idx, batch| {
        lock(&parts).push((file_idx, chunk_idx, batch));
        Ok(())
    })?;
    let mut parts = parts
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    parts.sort_by_key(|(file_idx, chunk_idx, _)| (*file_idx, *chunk_idx));
    Ok(Ingested {
        batches: parts.into_iter().map(|(_, _, batch)| batch).collect(),
        files: report.files,
        rejects: report.rejects,
        records_read: report.records_read,
        records_per_file: report.records_per_file,
        empty_files: report.empty_files,
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Where accepted rows go as they are parsed: `(file index, chunk index, batch)`,
/// called from several threads in no particular order.
pub type RowSink<'a> = dyn Fn(usize, u64, RecordBatch) -> Result<()> + Sync + 'a;

/// Reads `files`, handing the accepted rows to `sink` as they come; returns the
/// rest of the report (rejects in input order, record counts).
pub fn read_files_streaming(
    files: Vec<InputFile>,
    zones: &TimeZones,
    workers: usize,
    progress: &dyn Progress,
    sink: &RowSink,
) -> Result<IngestReport> {
    let records_per_file: Vec<AtomicU64> = files.iter().map(|_| AtomicU64::new(0)).collect();
    let rejects: Mutex<Vec<(usize, u64, Vec<Reject>)>> = Mutex::new(Vec::new());
    let failure: Mutex<Option<crate::Error>> = Mutex::new(None);
    let consume = |chunk: Chunk| {
        records_per_file[chunk.file_idx].fetch_add(chunk.records, Ordering::Relaxed);
        if !chunk.rejects.is_empty() {
            lock(&rejects).push((chunk.file_idx, chunk.chunk_idx, chunk.rejects));
        }
        if let Some(batch) = chunk.batch
            && let Err(e) = sink(chunk.file_idx, chunk.chunk_idx, batch)
        {
            lock(&failure).get_or_insert(e);
        }
    };
    let jsonl: Vec<(usize, &InputFile)> = files
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f.format, Format::Jsonl { .. }))
        .collect();
    jsonl::read_all(&jsonl, zones, workers, progress, &consume)?;
    for (idx, file) in files.iter().enumerate() {
        let mut sink_one = |chunk| consume(chunk);
        match file.format {
            Format::Csv { .. } => csv::read_into(idx, file, zones, &mut sink_one)?,
            Format::Parquet => parquet::read_into(idx, file, zones, &mut sink_one)?,
            Format::Jsonl { .. } => continue,
        }
        progress.advance(file.size);
    }
    if let Some(e) = lock(&failure).take() {
        return Err(e);
    }
    let mut rejects = rejects
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    rejects.sort_by_key(|(file_idx, chunk_idx, _)| (*file_idx, *chunk_idx));
    let records_per_file: Vec<u64> = records_per_file.into_iter().map(AtomicU64::into_inner).collect();
    let empty_files = files
        .iter()
        .zip(&records_per_file)
        .filter(|(_, n)| **n == 0)
        .map(|(f, _)| f.path.clone())
        .collect();
    Ok(IngestReport {
        records_read: records_per_file.iter().sum(),
        records_per_file,
        files,
        rejects: rejects.into_iter().flat_map(|(_, _, r)| r).collect(),
        empty_files,
    })
}

/// What reading produced besides the rows.
#[derive(Debug, Default)]
pub struct IngestReport {
    pub files: Vec<InputFile>,
    pub rejects: Vec<Reject>,
    pub records_read: u64,
    pub records_per_file: Vec<u64>,
    pub empty_files: Vec<PathBuf>,
}

/// Discovers and reads `inputs`.
pub fn read_inputs(inputs: &[PathBuf], zones: &TimeZones) -> Result<Ingested> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    read_files(discover(inputs)?, zones, workers)
}
