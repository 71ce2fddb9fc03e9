//! JSON Lines (optionally gzip) into raw Arrow batches. One reader thread cuts the
//! files into blocks of whole lines; workers parse blocks in parallel with serde
//! into Arrow builders. Each line is validated on its own, so a bad line costs only
//! itself.

use std::io::Read;
use std::sync::{Mutex, mpsc};

use crate::error::{Error, Result};
use crate::ingest::builder::RawBatchBuilder;
use crate::ingest::discover::{Format, InputFile};
use crate::ingest::record::{TsValue, check};
use crate::ingest::rejects::Reject;
use crate::ingest::scalar::parse_json_line;
use crate::ingest::{Chunk, input_order};
use crate::progress::{CountingReader, Progress};
use crate::timezone::TimeZones;

/// Lines are cut into blocks of about this size: large enough to amortise the
/// hand-off, small enough that both workers stay busy.
const BLOCK_BYTES: usize = 4 << 20;
/// A longer line is rejected unread: no chat message is this long.
pub const MAX_LINE_BYTES: usize = BLOCK_BYTES;

struct Block {
    file_idx: usize,
    block_idx: u64,
    first_line: u64,
    bytes: Vec<u8>,
}

/// Reads every JSONL file of `files` (indices into the run's file list), handing
/// each parsed chunk to `consumer` as soon as it is ready (from worker threads,
/// in no particular order: chunks carry their file and position).
pub fn read_all(
    files: &[(usize, &InputFile)],
    zones: &TimeZones,
    workers: usize,
    progress: &dyn Progress,
    consumer: &(dyn Fn(Chunk) + Sync),
) -> Result<()> {
    let (block_tx, block_rx) = mpsc::sync_channel::<Block>(workers * 2);
    let block_rx = Mutex::new(block_rx);
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| {
                loop {
                    let next = block_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok(block)) = next else { break };
                    let name = files
                        .iter()
                        .find(|(idx, _)| *idx == block.file_idx)
                        .map(|(_, f)| f.path.display().to_string())
                        .unwrap_or_default();
                    consumer(parse_block(&name, &block, zones));
                }
            });
        }
        let mut extra = Vec::new();
        let outcome = files
            .iter()
            .try_for_each(|(idx, file)| cut_file(*idx, file, &block_tx, &mut extra, progress));
        drop(block_tx);
        extra.into_iter().for_each(consumer);
        outcome
    })
}

/// Cuts one file into blocks of whole lines. Problems of the file itself (an
/// over-long line, a truncated gzip stream) become rejects in `extra`.
fn cut_file(
    file_idx: usize,
    file: &InputFile,
    tx: &mpsc::SyncSender<Block>,
    extra: &mut Vec<Chunk>,
    progress: &dyn Progress,
) -> Result<()> {
    let name = file.path.display().to_string();
    let file_handle = std::fs::File::open(&file.path).map_err(|e| Error::io(&file.path, e))?;
    let handle = CountingReader::new(file_handle, progress);
    let mut reader: Box<dyn Read> = match file.format {
        Format::Jsonl { gzip: true } => {
            Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(handle)))
        }
        _ => Box::new(handle),
    };
    let mut block_idx = 0u64;
    let mut next_line = 1u64;
    let mut carry: Vec<u8> = Vec::new();
    let mut at_start = true;
    let mut reject = |line: u64, reason: String, raw: &[u8], block_idx: &mut u64| {
        extra.push(Chunk::rejects_only(
            file_idx,
            *block_idx,
            Reject::new(&name, line, reason, raw),
        ));
        *block_idx += 1;
    };
    loop {
        let mut buf = std::mem::take(&mut carry);
        buf.reserve(BLOCK_BYTES);
        let want = (BLOCK_BYTES + 1).saturating_sub(buf.len()) as u64;
        let read = reader.by_ref().take(want).read_to_end(&mut buf);
        if at_start && buf.len() >= 3 {
            if buf.starts_with(b"\xEF\xBB\xBF") {
                buf.drain(..3);
            }
            at_start = false;
        }
        let eof = matches!(read, Ok(0)) || read.is_err();
        if let Err(err) = &read {
            // Keep the whole lines decoded so far; the torn last line and whatever
            // followed it are lost, and that is said.
            let (whole, torn) = match memchr::memrchr(b'\n', &buf) {
                Some(pos) => buf.split_at(pos + 1),
                None => buf.split_at(0),
            };
            let lost_line = next_line + memchr::memchr_iter(b'\n', whole).count() as u64;
            if !whole.is_empty() {
                send(tx, file_idx, &mut block_idx, &mut next_line, whole.to_vec());
            }
            reject(
                lost_line,
                format!(
                    "the file cannot be read past this line ({err}): a truncated or corrupt gzip stream? The rest of the file is lost"
                ),
                torn,
                &mut block_idx,
            );
            return Ok(());
        }
        if eof {
            if buf.iter().any(|b| !b.is_ascii_whitespace()) {
                send(tx, file_idx, &mut block_idx, &mut next_line, buf);
            }
            return Ok(());
        }
        match memchr::memrchr(b'\n', &buf) {
            Some(pos) => {
                carry = buf.split_off(pos + 1);
                send(tx, file_idx, &mut block_idx, &mut next_line, buf);
            }
            None if buf.len() > MAX_LINE_BYTES => {
                reject(
                    next_line,
                    format!(
                        "the line is longer than {} MiB; no chat message is this long",
                        MAX_LINE_BYTES >> 20
                    ),
                    &buf[..200],
                    &mut block_idx,
                );
                next_line += 1;
                carry = skip_line(&mut reader).map_err(|e| Error::io(&file.path, e))?;
            }
            None => carry = buf,
        }
    }
}

/// Discards input up to and including the next newline; returns what followed it.
fn skip_line(reader: &mut dyn Read) -> std::io::Result<Vec<u8>> {
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = reader.read(&mut chunk)?;
        if n == 0 {
            return Ok(Vec::new());
        }
        if let Some(pos) = memchr::memchr(b'\n', &chunk[..n]) {
            return Ok(chunk[pos + 1..n].to_vec());
        }
    }
}

fn send(
    tx: &mpsc::SyncSender<Block>,
    file_idx: usize,
    block_idx: &mut u64,
    next_line: &mut u64,
    bytes: Vec<u8>,
) {
    let lines = memchr::memchr_iter(b'\n', &bytes).count() as u64;
    let block = Block {
        file_idx,
        block_idx: *block_idx,
        first_line: *next_line,
        bytes,
    };
    *block_idx += 1;
    *next_line += lines;
    // The receivers live until the sender is dropped.
    let _ = tx.send(block);
}

fn parse_block(name: &str, block: &Block, zones: &TimeZones) -> Chunk {
    let bytes = &block.bytes;
    let mut builder = RawBatchBuilder::with_capacity(bytes.len() / 160 + 16, bytes.len() / 3);
    let mut rejects = Vec::new();
    let mut records = 0u64;
    let mut start = 0usize;
    let ends = memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len()));
    for (this_line, end) in (block.first_line..).zip(ends) {
        let mut line = &bytes[start..end];
        start = end + 1;
        if let Some(stripped) = line.strip_suffix(b"\r") {
            line = stripped;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        records += 1;
        let outcome = std::str::from_utf8(line)
            .map_err(|e| {
                format!(
                    "the line is not valid UTF-8 (bad byte at column {}); if the export is GBK, convert it: iconv -f GBK -t UTF-8",
                    e.valid_up_to() + 1
                )
            })
            .and_then(|text| {
                let mut raw = parse_json_line(text)?;
                let ts = std::mem::take(&mut raw.ts);
                check(raw, TsValue::Scalar(ts), zones)
            });
        match outcome {
            Ok(msg) => builder.push(&msg, input_order(block.file_idx, this_line)),
            Err(reason) => rejects.push(Reject::new(name, this_line, reason, line)),
        }
    }
    Chunk {
        file_idx: block.file_idx,
        chunk_idx: block.block_idx,
        batch: (!builder.is_empty()).then(|| builder.finish()),
        rejects,
        records,
    }
}
