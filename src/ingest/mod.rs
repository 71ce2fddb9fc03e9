//! Ingest: exports (JSON Lines, CSV, Parquet; files or folders) into raw Arrow
//! batches of the canonical record (design §3), with every bad record kept as a
//! reject instead of failing the run.

pub mod builder;
pub mod csv;
pub mod discover;
pub mod jsonl;
pub mod parquet;
pub mod record;
pub mod rejects;
pub mod scalar;
pub mod timestamp;

use std::path::PathBuf;

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
    let jsonl: Vec<(usize, &InputFile)> = files
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f.format, Format::Jsonl { .. }))
        .collect();
    let mut chunks = jsonl::read_all(&jsonl, zones, workers, progress)?;
    for (idx, file) in files.iter().enumerate() {
        match file.format {
            Format::Csv { .. } => chunks.extend(csv::read(idx, file, zones)?),
            Format::Parquet => chunks.extend(parquet::read(idx, file, zones)?),
            Format::Jsonl { .. } => continue,
        }
        progress.advance(file.size);
    }
    chunks.sort_by_key(|c| (c.file_idx, c.chunk_idx));

    let mut records_per_file = vec![0u64; files.len()];
    let mut batches = Vec::new();
    let mut rejects = Vec::new();
    for chunk in chunks {
        records_per_file[chunk.file_idx] += chunk.records;
        batches.extend(chunk.batch);
        rejects.extend(chunk.rejects);
    }
    let empty_files = files
        .iter()
        .zip(&records_per_file)
        .filter(|(_, n)| **n == 0)
        .map(|(f, _)| f.path.clone())
        .collect();
    Ok(Ingested {
        records_read: records_per_file.iter().sum(),
        records_per_file,
        files,
        batches,
        rejects,
        empty_files,
    })
}

/// Discovers and reads `inputs`.
pub fn read_inputs(inputs: &[PathBuf], zones: &TimeZones) -> Result<Ingested> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    read_files(discover(inputs)?, zones, workers)
}
