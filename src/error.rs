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
}
