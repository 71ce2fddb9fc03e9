//! CSV with a header row into raw Arrow batches. Every cell is text: an empty cell
//! is null, and `ts` made only of digits is epoch milliseconds (CSV has no numbers).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::Read;
use std::rc::Rc;

use crate::error::{Error, Result};
use crate::ingest::builder::RawBatchBuilder;
use crate::ingest::discover::{Format, InputFile};
use crate::ingest::record::{TsValue, check};
use crate::ingest::rejects::Reject;
use crate::ingest::scalar::{RawRecord, Scalar};
use crate::ingest::{BATCH_ROWS, Chunk, input_order};
use crate::timezone::TimeZones;

const FIELDS: [&str; 10] = crate::schema::CANONICAL_NAMES;

/// Reads a CSV file with a header, handing each chunk of rows (and its rejects) to
/// `sink` as it is made, so a large file is never held whole.
pub fn read_into(
    file_idx: usize,
    file: &InputFile,
    zones: &TimeZones,
    sink: &mut dyn FnMut(Chunk),
) -> Result<()> {
    let name = file.path.display().to_string();
    let handle = std::fs::File::open(&file.path).map_err(|e| Error::io(&file.path, e))?;
    let mut source: Box<dyn Read> = match file.format {
        Format::Csv { gzip: true } => {
            Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(handle)))
        }
        _ => Box::new(std::io::BufReader::new(handle)),
    };
    let mut head = [0u8; 3];
    let got = read_up_to(&mut source, &mut head).map_err(|e| Error::io(&file.path, e))?;
    let prefix = if head[..got] == *b"\xEF\xBB\xBF" {
        &[][..]
    } else {
        &head[..got]
    };
    let tracked = Rc::new(RefCell::new(Tracked::default()));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(TrackedReader {
            inner: std::io::Cursor::new(prefix.to_vec()).chain(source),
            tracked: tracked.clone(),
        });

    let headers = match reader.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(Error::Input {
                path: file.path.clone(),
                message: format!("cannot read the CSV header: {e}"),
            });
        }
    };
    if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
        return Ok(());
    }
    let columns = header_columns(&headers);

    let mut made = 0u64;
    let mut builder = RawBatchBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 64);
    let mut rejects = Vec::new();
    let mut records = 0u64;
    let mut row = csv::ByteRecord::new();
    loop {
        let start = reader.position().byte();
        match reader.read_byte_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                records += 1;
                let at = tracked.borrow_mut().line_of_record_at(start);
                rejects.push(Reject::new(&name, at, format!("unreadable CSV row: {e}"), b""));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let line = {
            let mut tracked = tracked.borrow_mut();
            tracked.record_ended();
            tracked.line_of_record_at(row.position().map_or(start, |p| p.byte()))
        };
        if row.iter().all(|cell| cell.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        records += 1;
        match convert_row(&row, &columns, headers.len(), zones) {
            Ok(Ok(msg)) => builder.push(&msg, input_order(file_idx, line)),
            Ok(Err(reason)) | Err(reason) => rejects.push(Reject::new(&name, line, reason, &join(&row))),
        }
        if builder.len() >= BATCH_ROWS {
            let full = std::mem::replace(
                &mut builder,
                RawBatchBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 64),
            );
            sink(Chunk::data(
                file_idx,
                made,
                full.finish(),
                std::mem::take(&mut rejects),
                std::mem::take(&mut records),
            ));
            made += 1;
        }
    }
    let batch = (!builder.is_empty()).then(|| builder.finish());
    sink(Chunk {
        file_idx,
        chunk_idx: made,
        batch,
        rejects,
        records,
    });
    Ok(())
}

/// The longest CSV record read: past it (an unclosed quote in a huge file, a
/// decompression bomb) the rest of the file is one reject, not an out-of-memory.
const MAX_RECORD_BYTES: u64 = 16 << 20;

/// What the reader under the csv parser has seen: the bytes not yet behind the
/// records parsed (for physical line numbers: the csv crate's own count is off
/// for quoted cells with line breaks) and the bytes read since the last record.
#[derive(Default)]
struct Tracked {
    /// Byte offset and line number where `kept` starts.
    kept_from: u64,
    line_at_kept: u64,
    kept: VecDeque<u8>,
    since_record: u64,
}

impl Tracked {
    fn record_ended(&mut self) {
        self.since_record = 0;
    }

    /// The 1-based line of the record starting at byte `start`; the blank lines
    /// the csv crate skips before a record are skipped here too.
    fn line_of_record_at(&mut self, start: u64) -> u64 {
        let skip = (start.saturating_sub(self.kept_from) as usize).min(self.kept.len());
        let newlines = self.kept.drain(..skip).filter(|b| *b == b'\n').count() as u64;
        self.line_at_kept += newlines;
        self.kept_from += skip as u64;
        let blank = self
            .kept
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .filter(|b| **b == b'\n')
            .count() as u64;
        1 + self.line_at_kept + blank
    }
}

/// The input of the csv parser, watched by [`Tracked`]; refuses to go past
/// [`MAX_RECORD_BYTES`] within one record, which the csv crate would otherwise
/// grow without end.
struct TrackedReader<R> {
    inner: R,
    tracked: Rc<RefCell<Tracked>>,
}

impl<R: Read> Read for TrackedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut tracked = self.tracked.borrow_mut();
        if tracked.since_record > MAX_RECORD_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "a record longer than {} MiB (an unclosed quote?); the rest of the file is not read",
                    MAX_RECORD_BYTES >> 20
                ),
            ));
        }
        let n = self.inner.read(buf)?;
        tracked.since_record += n as u64;
        tracked.kept.extend(&buf[..n]);
        Ok(n)
    }
}

/// Position of each canonical field in the header, matched case-insensitively.
pub fn header_columns(headers: &csv::ByteRecord) -> Vec<Option<usize>> {
    FIELDS
        .iter()
        .map(|field| {
            headers
                .iter()
                .position(|h| String::from_utf8_lossy(h).trim().eq_ignore_ascii_case(field))
        })
        .collect()
}

fn read_up_to(source: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = source.read(&mut buf[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

fn join(row: &csv::ByteRecord) -> Vec<u8> {
    row.iter().collect::<Vec<_>>().join(&b","[..])
}

pub type Converted<'a> = Result<Result<crate::ingest::record::Message<'a>, String>, String>;

/// One data row against the header's `columns` (of `width` cells): `Err` for a
/// row of the wrong shape, `Ok(Err)` for a record that breaks the schema.
pub fn convert_row<'a>(
    row: &'a csv::ByteRecord,
    columns: &[Option<usize>],
    width: usize,
    zones: &TimeZones,
) -> Converted<'a> {
    if row.len() != width {
        return Err(format!(
            "the row has {} fields but the header has {width}",
            row.len()
        ));
    }
    let mut cells: Vec<Scalar<'a>> = Vec::with_capacity(FIELDS.len());
    for (field, column) in FIELDS.iter().zip(columns) {
        let cell = match column {
            None => Scalar::Missing,
            Some(idx) => {
                let bytes = &row[*idx];
                let text = std::str::from_utf8(bytes).map_err(|e| {
                    format!(
                        "field {field:?} is not valid UTF-8 (bad byte at position {}); if the export is GBK, convert it: iconv -f GBK -t UTF-8",
                        e.valid_up_to() + 1
                    )
                })?;
                if text.is_empty() {
                    Scalar::Null
                } else if *field == "ts" && text.bytes().all(|b| b.is_ascii_digit()) {
                    text.parse::<i64>()
                        .map_or(Scalar::Str(Cow::Borrowed(text)), Scalar::Int)
                } else {
                    Scalar::Str(Cow::Borrowed(text))
                }
            }
        };
        cells.push(cell);
    }
    let mut cells = cells.into_iter();
    let mut next = || cells.next().unwrap_or_default();
    let mut raw = RawRecord {
        shop: next(),
        channel: next(),
        session_id: next(),
        msg_id: next(),
        ts: next(),
        role: next(),
        agent_id: next(),
        customer_id: next(),
        text: next(),
        msg_type: next(),
    };
    let ts = std::mem::take(&mut raw.ts);
    Ok(check(raw, TsValue::Scalar(ts), zones))
}
