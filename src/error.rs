//! Library errors. Every variant names what the user must look at (a file, a query, a flag).

use std::path::PathBuf;

use datafusion::arrow::error::ArrowError;
use datafusion::error::DataFusionError;
use datafusion::parquet::errors::ParquetError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// Writing an output file failed (disk full, a file-size limit, permissions).
    #[error("{}: cannot write: {message}. Check free disk space, file-size limits (ulimit -f) and permissions; nothing was published", path.display())]
    Write { path: PathBuf, message: String },
    /// An input path or file that cannot be used at all.
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    /// A bad option value (time zone, date, ...), with what to do about it.
    #[error("{0}")]
    Usage(String),
    /// A rule pack with problems: every one of them, each naming its file and rule.
    #[error("the rule pack has {} problem(s):\n{}", .0.len(), .0.iter().map(|i| format!("  {i}")).collect::<Vec<_>>().join("\n"))]
    RulePack(Vec<crate::rules::PackIssue>),
    /// A query that the read-only sandbox refuses.
    #[error("query refused: {0}")]
    Refused(String),
    /// DataFusion nests the same message in layers of context; the root says it once.
    #[error("query failed: {}", .0.find_root())]
    DataFusion(#[from] DataFusionError),
    /// Another run holds the output folder's lock.
    #[error(
        "{} is locked by another zhijian run ({holder}); wait for it to finish: the lock is released when that process ends",
        lock.display()
    )]
    Locked { lock: PathBuf, holder: String },
    /// More records were rejected than `--max-reject-ratio` allows; nothing was published.
    #[error(
        "{rejected} of {read} records rejected ({:.2}%), more than --max-reject-ratio {max_ratio} allows; nothing was published. The rejects are in {}: fix the export, or raise --max-reject-ratio",
        100.0 * *rejected as f64 / (*read).max(1) as f64,
        rejects_file.display()
    )]
    TooManyRejects {
        rejected: u64,
        read: u64,
        max_ratio: f64,
        rejects_file: PathBuf,
    },
    /// The run found nothing to publish (no sessions of the wanted dates).
    #[error("{0}")]
    NothingToPublish(String),
    /// A fault injected by a test at a failpoint (builds with `failpoints` only).
    #[error("injected fault at {0}")]
    Injected(String),
    /// A broken invariant of zhijian itself: a bug to report.
    #[error("internal error (please report it): {0}")]
    Internal(String),
    #[error("arrow: {0}")]
    Arrow(#[from] ArrowError),
    #[error("parquet: {0}")]
    Parquet(#[from] ParquetError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A failed write of `path` by an encoder (Parquet, Arrow IPC, CSV), whose
    /// own errors do not say which file.
    pub fn write(path: impl Into<PathBuf>, cause: impl std::fmt::Display) -> Self {
        Error::Write {
            path: path.into(),
            message: cause.to_string(),
        }
    }
}
