//! `zhijian gen --replay`: writes a transcript file into a folder the way a live
//! export grows, record by record in time order at `speed` times real time, so
//! `watch` can be tried (and measured) on old or generated days. A record that
//! does not validate keeps its place after the record before it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::ingest::record::{TsValue, check};
use crate::ingest::scalar::parse_json_line;
use crate::timezone::TimeZones;

/// Written data is flushed at least this often, so a follower sees it.
const FLUSH_EVERY: Duration = Duration::from_millis(10);

pub struct ReplayOptions {
    pub source: PathBuf,
    /// A file, or a folder to write the source's file name into.
    pub out: PathBuf,
    /// Times real time; 0 writes as fast as possible.
    pub speed: f64,
    /// Writes `ts_micros,unix_micros` after each flush: when each record was out.
    pub log: Option<PathBuf>,
    pub zones: TimeZones,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplayStats {
    pub records: u64,
    pub seconds: f64,
    /// The most the writing fell behind the schedule.
    pub max_lag_s: f64,
}

/// A record: its time and its bytes (with the line end) in the source.
struct Record {
    ts: i64,
    range: std::ops::Range<usize>,
}

fn is_csv(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// The records of a JSON Lines file in file order (blank lines dropped).
fn jsonl_records(bytes: &[u8], zones: &TimeZones) -> Vec<Record> {
    let mut out = Vec::new();
    let (mut start, mut last_ts) = (0usize, i64::MIN);
    while start < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |p| start + p + 1);
        let line = &bytes[start..end];
        if !line.iter().all(u8::is_ascii_whitespace) {
            let ts = std::str::from_utf8(line).ok().and_then(|text| {
                let mut raw = parse_json_line(text.trim_end()).ok()?;
                let ts = std::mem::take(&mut raw.ts);
                check(raw, TsValue::Scalar(ts), zones).ok().map(|m| m.ts_micros)
            });
            last_ts = ts.unwrap_or(last_ts);
            out.push(Record {
                ts: last_ts,
                range: start..end,
            });
        }
        start = end;
    }
    out
}

/// The header's range and the data records of a CSV file.
fn csv_records(bytes: &[u8], zones: &TimeZones) -> (std::ops::Range<usize>, Vec<Record>) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut row = csv::ByteRecord::new();
    let (mut header, mut columns, mut out, mut last_ts) = (0..0, None, Vec::new(), i64::MIN);
    loop {
        let start = reader.position().byte() as usize;
        // A row the csv crate cannot read still takes its place.
        if let Ok(false) = reader.read_byte_record(&mut row) {
            break;
        }
        let range = start..reader.position().byte() as usize;
        match &columns {
            None => {
                columns = Some((crate::ingest::csv::header_columns(&row), row.len()));
                header = range;
            }
            Some((columns, width)) => {
                let ts = crate::ingest::csv::convert_row(&row, columns, *width, zones);
                last_ts = ts.ok().and_then(|m| m.ok()).map_or(last_ts, |m| m.ts_micros);
                out.push(Record { ts: last_ts, range });
            }
        }
    }
    (header, out)
}

/// Replays `options.source` into `options.out`.
pub fn replay(options: &ReplayOptions) -> Result<ReplayStats> {
    let source = &options.source;
    let bytes = std::fs::read(source).map_err(|e| Error::io(source, e))?;
    let (header, mut records) = if is_csv(source) {
        csv_records(&bytes, &options.zones)
    } else {
        (0..0, jsonl_records(&bytes, &options.zones))
    };
    records.sort_by_key(|r| r.ts); // stable: equal times keep file order
    let target = if options.out.extension().is_some() {
        options.out.clone()
    } else {
        let name = source
            .file_name()
            .ok_or_else(|| Error::Usage(format!("{}: not a file", source.display())))?;
        options.out.join(name)
    };
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let file = std::fs::File::create(&target).map_err(|e| Error::io(&target, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut log = match &options.log {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| Error::io(path, e))?,
        )),
        None => None,
    };
    let io = |e: std::io::Error| Error::io(&target, e);
    out.write_all(&bytes[header]).map_err(io)?;
    let started = Instant::now();
    let first = records.first().map_or(0, |r| r.ts);
    let (mut last_flush, mut written_ts, mut max_lag) = (Instant::now(), i64::MIN, 0f64);
    for record in &records {
        let due = if options.speed > 0.0 {
            started + Duration::from_secs_f64((record.ts - first).max(0) as f64 / 1e6 / options.speed)
        } else {
            started
        };
        let now = Instant::now();
        if due > now + Duration::from_millis(1) {
            flush(&mut out, log.as_mut(), written_ts).map_err(io)?;
            last_flush = Instant::now();
            std::thread::sleep(due - Instant::now().min(due));
        } else {
            max_lag = max_lag.max(now.saturating_duration_since(due).as_secs_f64());
        }
        out.write_all(&bytes[record.range.clone()]).map_err(io)?;
        if !bytes[record.range.clone()].ends_with(b"\n") {
            out.write_all(b"\n").map_err(io)?;
        }
        written_ts = written_ts.max(record.ts);
        if last_flush.elapsed() >= FLUSH_EVERY {
            flush(&mut out, log.as_mut(), written_ts).map_err(io)?;
            last_flush = Instant::now();
        }
    }
    flush(&mut out, log.as_mut(), written_ts).map_err(io)?;
    Ok(ReplayStats {
        records: records.len() as u64,
        seconds: started.elapsed().as_secs_f64(),
        max_lag_s: max_lag,
    })
}

/// Flushes the data, then logs when the records up to `ts` were out.
fn flush(
    out: &mut impl Write,
    log: Option<&mut std::io::BufWriter<std::fs::File>>,
    ts: i64,
) -> std::io::Result<()> {
    out.flush()?;
    if let Some(log) = log
        && ts != i64::MIN
    {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        writeln!(log, "{ts},{}", now.as_micros())?;
        log.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_out_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("day.jsonl");
        let line = |id: &str, at: &str| {
            format!(
                r#"{{"shop":"s","session_id":"x","msg_id":"{id}","ts":"2026-11-11 {at}","role":"customer"}}"#
            )
        };
        let text = [line("b", "10:00:02"), "broken".into(), line("a", "10:00:01")].join("\n");
        std::fs::write(&source, text).unwrap();
        let options = ReplayOptions {
            source: source.clone(),
            out: dir.path().join("live"),
            speed: 0.0,
            log: None,
            zones: TimeZones::default(),
        };
        let stats = replay(&options).unwrap();
        assert_eq!(stats.records, 3);
        let written = std::fs::read_to_string(dir.path().join("live/day.jsonl")).unwrap();
        let ids: Vec<&str> = written
            .lines()
            .map(|l| {
                if l.contains("\"a\"") {
                    "a"
                } else if l.contains("\"b\"") {
                    "b"
                } else {
                    l
                }
            })
            .collect();
        assert_eq!(ids, ["a", "b", "broken"]);
    }

    #[test]
    fn csv_keeps_its_header_first() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("day.csv");
        std::fs::write(
            &source,
            "shop,session_id,msg_id,ts,role,text\ns,x,2,2026-11-11 10:00:02,customer,\"b\nb\"\ns,x,1,2026-11-11 10:00:01,customer,a\n",
        )
        .unwrap();
        let out = dir.path().join("out.csv");
        replay(&ReplayOptions {
            source,
            out: out.clone(),
            speed: 0.0,
            log: None,
            zones: TimeZones::default(),
        })
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(out).unwrap(),
            "shop,session_id,msg_id,ts,role,text\ns,x,1,2026-11-11 10:00:01,customer,a\ns,x,2,2026-11-11 10:00:02,customer,\"b\nb\"\n"
        );
    }
}
