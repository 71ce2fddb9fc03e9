//! Rejected input records: kept out of the data, never silently lost (design §3).

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::mask::mask_pii;

/// At most this much of a rejected line is kept, so a 10 MB line does not bloat the file.
const MAX_RAW_CHARS: usize = 2000;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reject {
    pub file: String,
    /// 1-based line (JSONL, CSV) or row (Parquet).
    pub line: u64,
    pub reason: String,
    /// The start of the offending line, lossily decoded.
    pub raw: String,
}

impl Reject {
    pub fn new(file: &str, line: u64, reason: String, raw: &[u8]) -> Self {
        let text = String::from_utf8_lossy(&raw[..raw.len().min(MAX_RAW_CHARS * 4)]);
        let raw = match text.char_indices().nth(MAX_RAW_CHARS) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text.into_owned(),
        };
        Self {
            file: file.to_string(),
            line,
            reason,
            raw,
        }
    }

    /// `file:line: reason`, the form compilers use, so editors can jump to it; a
    /// value quoted in the reason has its personal data masked.
    pub fn display(&self) -> String {
        format!("{}:{}: {}", self.file, self.line, mask_pii(&self.reason))
    }

    /// The reject as people may read it: the raw line and the reason masked.
    fn masked(&self) -> Reject {
        Reject {
            reason: mask_pii(&self.reason),
            raw: mask_pii(&self.raw),
            ..self.clone()
        }
    }
}

/// Writes rejects as JSON Lines (`file`, `line`, `reason`, `raw`), personal data
/// masked: every command's rejects file goes through here.
pub fn write_jsonl(rejects: &[Reject], path: &Path) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut out = std::io::BufWriter::new(file);
    for reject in rejects {
        serde_json::to_writer(&mut out, &reject.masked()).map_err(|e| Error::io(path, e.into()))?;
        out.write_all(b"\n").map_err(|e| Error::io(path, e))?;
    }
    out.flush().map_err(|e| Error::io(path, e))?;
    out.get_ref().sync_all().map_err(|e| Error::io(path, e))
}
