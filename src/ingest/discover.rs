//! Turns `--input` paths into the ordered list of files to read: files in sorted
//! path order define the input order (design §3).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl { gzip: bool },
    Csv { gzip: bool },
    Parquet,
}

#[derive(Debug, Clone)]
pub struct InputFile {
    pub path: PathBuf,
    pub format: Format,
    pub size: u64,
    /// The date of a Hive-style `date=YYYY-MM-DD` folder on the path, if any.
    pub partition_date: Option<NaiveDate>,
}

const KNOWN: &str = ".jsonl, .ndjson, .json, .jsonl.gz, .csv, .csv.gz, .parquet";

fn format_of(path: &Path) -> Option<Format> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let (stem, gzip) = match name.strip_suffix(".gz") {
        Some(stem) => (stem, true),
        None => (name.as_str(), false),
    };
    let ext = Path::new(stem).extension()?.to_str()?;
    match ext {
        "jsonl" | "ndjson" | "json" => Some(Format::Jsonl { gzip }),
        "csv" => Some(Format::Csv { gzip }),
        "parquet" if !gzip => Some(Format::Parquet),
        _ => None,
    }
}

fn partition_date(path: &Path) -> Option<NaiveDate> {
    path.components().rev().find_map(|part| {
        let text = part.as_os_str().to_str()?;
        let value = text.strip_prefix("date=")?;
        NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
    })
}

/// Hidden files and `_`-prefixed ones (`_rejects/`, `_SUCCESS`) are not data.
fn is_skipped(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') || n.starts_with('_'))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if is_skipped(&path) {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else if format_of(&path).is_some() {
            out.push(path);
        }
    }
    Ok(())
}

/// Expands files and directories (recursively) into readable input files, sorted by path.
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<InputFile>> {
    let mut paths = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|e| Error::io(input, e))?;
        if meta.is_dir() {
            let before = paths.len();
            walk(input, &mut paths)?;
            if paths.len() == before {
                return Err(Error::Input {
                    path: input.clone(),
                    message: format!("no input files in this folder (looked for {KNOWN})"),
                });
            }
        } else if format_of(input).is_some() {
            paths.push(input.clone());
        } else {
            return Err(Error::Input {
                path: input.clone(),
                message: format!("unknown file type: name it with one of {KNOWN}"),
            });
        }
    }
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .map(|path| {
            let size = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?.len();
            Ok(InputFile {
                format: format_of(&path).expect("filtered above"),
                partition_date: partition_date(&path),
                size,
                path,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension() {
        assert_eq!(
            format_of(Path::new("a/b.jsonl")),
            Some(Format::Jsonl { gzip: false })
        );
        assert_eq!(
            format_of(Path::new("a/b.JSONL.GZ")),
            Some(Format::Jsonl { gzip: true })
        );
        assert_eq!(format_of(Path::new("b.csv.gz")), Some(Format::Csv { gzip: true }));
        assert_eq!(format_of(Path::new("b.parquet")), Some(Format::Parquet));
        assert_eq!(format_of(Path::new("b.txt")), None);
        assert_eq!(format_of(Path::new("jsonl")), None);
    }

    #[test]
    fn hive_dates_are_read_from_folders() {
        let date = partition_date(Path::new("x/date=2026-11-11/part-0.parquet"));
        assert_eq!(date, NaiveDate::from_ymd_opt(2026, 11, 11));
        assert_eq!(partition_date(Path::new("x/date=bad/part.parquet")), None);
    }

    #[test]
    fn walks_folders_in_sorted_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in [
            "date=2026-11-12/b.jsonl",
            "date=2026-11-11/a.jsonl",
            "_rejects/r.jsonl",
            "notes.txt",
        ] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, "").expect("write");
        }
        let files = discover(&[dir.path().to_path_buf()]).expect("discover");
        let names: Vec<_> = files
            .iter()
            .map(|f| {
                f.path
                    .strip_prefix(dir.path())
                    .expect("prefix")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["date=2026-11-11/a.jsonl", "date=2026-11-12/b.jsonl"]);
    }

    #[test]
    fn empty_folder_and_unknown_file_are_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(discover(&[dir.path().to_path_buf()]).is_err());
        let txt = dir.path().join("x.txt");
        std::fs::write(&txt, "").expect("write");
        let err = discover(&[txt]).expect_err("unknown type").to_string();
        assert!(err.contains("unknown file type"), "{err}");
    }
}
