//! Reading a growing file: the [`IncrementalReader`] interface, fed the bytes
//! appended since the last call, and its canonical implementations (JSON Lines
//! and CSV with a header, design §3), which validate each record with the same
//! code as the batch readers. A reader for a platform export (`--from FORMAT`)
//! plugs in at [`reader_for`] by implementing the trait, keeping whatever it needs
//! between calls (an open session per buyer, a header) in [`IncrementalReader::save`].

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ingest::record::{Message, Role, TsValue, check};
use crate::ingest::rejects::Reject;
use crate::ingest::scalar::parse_json_line;
use crate::timezone::TimeZones;

/// A longer line is rejected unread, as in batch reading.
pub const MAX_LINE_BYTES: usize = crate::ingest::jsonl::MAX_LINE_BYTES;

/// One valid message, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    pub shop: String,
    pub session_id: String,
    pub msg_id: String,
    /// UTC microseconds.
    pub ts: i64,
    pub role: Role,
    pub agent_id: Option<String>,
    pub customer_id: Option<String>,
    pub text: String,
}

impl From<Message<'_>> for Incoming {
    fn from(m: Message<'_>) -> Self {
        Self {
            shop: m.shop.into_owned(),
            session_id: m.session_id.into_owned(),
            msg_id: m.msg_id.into_owned(),
            ts: m.ts_micros,
            role: m.role,
            agent_id: m.agent_id.map(|a| a.into_owned()),
            customer_id: m.customer_id.map(|c| c.into_owned()),
            text: m.text.into_owned(),
        }
    }
}

/// What one call found.
#[derive(Debug, Default)]
pub struct Decoded {
    pub messages: Vec<Incoming>,
    pub rejects: Vec<Reject>,
}

/// Turns the bytes appended to one file into messages.
pub trait IncrementalReader: Send {
    /// `bytes` are the file's bytes after everything consumed so far. Returns how
    /// many bytes were consumed: whole records only; the rest is offered again,
    /// with what was appended since, on the next call.
    fn read(&mut self, bytes: &[u8], out: &mut Decoded) -> usize;
    /// What must survive a restart besides the offset, as JSON.
    fn save(&self) -> serde_json::Value;
    /// Takes back what [`IncrementalReader::save`] gave.
    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String>;
}

/// The reader for `path` under `--from FORMAT`; `None` when this file is not one
/// the format reads. Export readers add their arms here.
pub fn reader_for(from: &str, path: &Path, zones: &TimeZones) -> Option<Box<dyn IncrementalReader>> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let ext = Path::new(&name).extension()?.to_str()?;
    let file = path.display().to_string();
    match (from, ext) {
        ("canonical", "jsonl" | "ndjson" | "json") => Some(Box::new(JsonlReader::new(file, zones.clone()))),
        ("canonical", "csv") => Some(Box::new(CsvReader::new(file, zones.clone()))),
        _ => None,
    }
}

/// The formats `--from` accepts here.
pub const FORMATS: [&str; 1] = ["canonical"];

#[derive(Debug, Default, Serialize, Deserialize)]
struct LineState {
    /// Line number of the next byte to read, 1-based.
    next_line: u64,
    /// Inside an over-long line being skipped.
    #[serde(default)]
    skipping: bool,
}

/// Canonical JSON Lines.
pub struct JsonlReader {
    file: String,
    zones: TimeZones,
    state: LineState,
}

impl JsonlReader {
    pub fn new(file: String, zones: TimeZones) -> Self {
        Self {
            file,
            zones,
            state: LineState {
                next_line: 1,
                skipping: false,
            },
        }
    }

    fn line(&self, line: &[u8], number: u64, out: &mut Decoded) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let outcome = std::str::from_utf8(line)
            .map_err(|e| {
                format!(
                    "the line is not valid UTF-8 (bad byte at column {})",
                    e.valid_up_to() + 1
                )
            })
            .and_then(|text| {
                let mut raw = parse_json_line(text)?;
                let ts = std::mem::take(&mut raw.ts);
                check(raw, TsValue::Scalar(ts), &self.zones).map(Incoming::from)
            });
        match outcome {
            Ok(message) => out.messages.push(message),
            Err(reason) => out.rejects.push(Reject::new(&self.file, number, reason, line)),
        }
    }
}

impl IncrementalReader for JsonlReader {
    fn read(&mut self, bytes: &[u8], out: &mut Decoded) -> usize {
        let mut start = 0;
        // A UTF-8 BOM opens the file only.
        if self.state.next_line == 1 && bytes.starts_with(b"\xEF\xBB\xBF") {
            start = 3;
        }
        while let Some(pos) = memchr::memchr(b'\n', &bytes[start..]) {
            let line = &bytes[start..start + pos];
            if self.state.skipping {
                self.state.skipping = false;
            } else {
                self.line(line, self.state.next_line, out);
            }
            self.state.next_line += 1;
            start += pos + 1;
        }
        let rest = bytes.len() - start;
        if rest > MAX_LINE_BYTES {
            if !self.state.skipping {
                let reason = format!(
                    "the line is longer than {} MiB; no chat message is this long",
                    MAX_LINE_BYTES >> 20
                );
                out.rejects.push(Reject::new(
                    &self.file,
                    self.state.next_line,
                    reason,
                    &bytes[start..start + 200],
                ));
            }
            self.state.skipping = true;
            return bytes.len();
        }
        start
    }

    fn save(&self) -> serde_json::Value {
        serde_json::to_value(&self.state).unwrap_or_default()
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String> {
        self.state = LineState::deserialize(state).map_err(|e| e.to_string())?;
        Ok(())
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CsvState {
    next_line: u64,
    /// The header's cells, once read.
    header: Option<Vec<String>>,
}

/// Canonical CSV with a header row.
pub struct CsvReader {
    file: String,
    zones: TimeZones,
    state: CsvState,
    /// Where each canonical field is in the header, and the header's width.
    columns: Option<(Vec<Option<usize>>, usize)>,
}

impl CsvReader {
    pub fn new(file: String, zones: TimeZones) -> Self {
        Self {
            file,
            zones,
            state: CsvState {
                next_line: 1,
                header: None,
            },
            columns: None,
        }
    }

    fn take_header(&mut self, cells: Vec<String>) {
        let header = csv::ByteRecord::from(cells.clone());
        self.columns = Some((crate::ingest::csv::header_columns(&header), cells.len()));
        self.state.header = Some(cells);
    }

    fn record(&mut self, row: &csv::ByteRecord, line: u64, out: &mut Decoded) {
        let Some((columns, width)) = &self.columns else {
            let cells = row
                .iter()
                .map(|c| String::from_utf8_lossy(c).trim().to_string())
                .collect();
            self.take_header(cells);
            return;
        };
        if row.iter().all(|cell| cell.iter().all(u8::is_ascii_whitespace)) {
            return;
        }
        match crate::ingest::csv::convert_row(row, columns, *width, &self.zones) {
            Ok(Ok(message)) => out.messages.push(Incoming::from(message)),
            Ok(Err(reason)) | Err(reason) => {
                let raw = row.iter().collect::<Vec<_>>().join(&b","[..]);
                out.rejects.push(Reject::new(&self.file, line, reason, &raw));
            }
        }
    }
}

/// The end of the last whole record: the last newline outside quotes.
fn whole_records(bytes: &[u8]) -> usize {
    let mut quoted = false;
    let mut end = 0;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => end = i + 1,
            _ => {}
        }
    }
    end
}

impl IncrementalReader for CsvReader {
    fn read(&mut self, bytes: &[u8], out: &mut Decoded) -> usize {
        let start = if self.state.next_line == 1 && bytes.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let whole = &bytes[start..start + whole_records(&bytes[start..])];
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(whole);
        let mut row = csv::ByteRecord::new();
        // Lines as an editor shows them: newlines inside quoted cells count too.
        let (mut counted_to, mut line) = (0usize, self.state.next_line);
        let mut line_at = |byte: usize| {
            line += memchr::memchr_iter(b'\n', &whole[counted_to..byte]).count() as u64;
            counted_to = byte;
            line
        };
        loop {
            let at = reader.position().byte() as usize;
            match reader.read_byte_record(&mut row) {
                Ok(false) => break,
                Ok(true) => {
                    let record_line = line_at(row.position().map_or(at, |p| p.byte() as usize));
                    self.record(&row, record_line, out);
                }
                Err(e) => {
                    let reason = format!("unreadable CSV row: {e}");
                    out.rejects
                        .push(Reject::new(&self.file, line_at(at), reason, b""));
                }
            }
        }
        self.state.next_line += memchr::memchr_iter(b'\n', whole).count() as u64;
        start + whole.len()
    }

    fn save(&self) -> serde_json::Value {
        serde_json::to_value(&self.state).unwrap_or_default()
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<(), String> {
        let state = CsvState::deserialize(state).map_err(|e| e.to_string())?;
        self.state.next_line = state.next_line;
        if let Some(header) = state.header {
            self.take_header(header);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jsonl() -> JsonlReader {
        JsonlReader::new("f.jsonl".into(), TimeZones::default())
    }

    const LINE: &str = r#"{"shop":"s","session_id":"x","msg_id":"1","ts":"2026-11-11 10:00:00","role":"customer","text":"在吗"}"#;

    #[test]
    fn jsonl_keeps_a_partial_line_for_later() {
        let mut reader = jsonl();
        let mut out = Decoded::default();
        let bytes = format!("{LINE}\n{}", &LINE[..20]);
        assert_eq!(reader.read(bytes.as_bytes(), &mut out), LINE.len() + 1);
        assert_eq!(out.messages.len(), 1);
        let rest = format!("{LINE}\nnot json\n");
        let consumed = reader.read(rest.as_bytes(), &mut out);
        assert_eq!(consumed, rest.len());
        assert_eq!((out.messages.len(), out.rejects.len()), (2, 1));
        assert_eq!(out.rejects[0].line, 3);
    }

    #[test]
    fn jsonl_state_survives_a_restart() {
        let mut reader = jsonl();
        let mut out = Decoded::default();
        reader.read(format!("\u{feff}{LINE}\n\n").as_bytes(), &mut out);
        let mut again = jsonl();
        again.restore(&reader.save()).unwrap();
        again.read(b"bad\n", &mut out);
        assert_eq!(out.rejects[0].line, 3);
    }

    #[test]
    fn csv_reads_header_then_rows_and_waits_for_quotes() {
        let mut reader = CsvReader::new("f.csv".into(), TimeZones::default());
        let mut out = Decoded::default();
        let head = "shop,session_id,msg_id,ts,role,text\ns,x,1,2026-11-11 10:00:00,customer,\"two\nlines";
        let consumed = reader.read(head.as_bytes(), &mut out);
        assert_eq!(consumed, head.find('\n').unwrap() + 1);
        assert!(out.messages.is_empty());
        let rest = &head[consumed..];
        let more = format!("{rest}\"\ns,x,2,2026-11-11 10:00:05,robot,hi\n");
        assert_eq!(reader.read(more.as_bytes(), &mut out), more.len());
        assert_eq!(out.messages.len(), 1);
        assert_eq!(out.messages[0].text, "two\nlines");
        assert_eq!(out.rejects.len(), 1);
        assert_eq!(out.rejects[0].line, 4);
    }

    #[test]
    fn only_known_files_get_a_reader() {
        let zones = TimeZones::default();
        assert!(reader_for("canonical", Path::new("a/b.JSONL"), &zones).is_some());
        assert!(reader_for("canonical", Path::new("a/b.csv"), &zones).is_some());
        assert!(reader_for("canonical", Path::new("a/b.jsonl.gz"), &zones).is_none());
        assert!(reader_for("qianniu-copy", Path::new("a/b.csv"), &zones).is_none());
    }
}
