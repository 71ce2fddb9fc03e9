//! `zhijian gen`: deterministic synthetic customer-service chat transcripts
//! of Chinese online shops, in the canonical message schema.
//!
//! Output is a pure function of [`GenConfig`]: every session draws from its
//! own PRNG derived from `(seed, shop, date, session index)`, and sessions
//! are simulated, written and forgotten one at a time (constant memory).
//!
//! Within a file the records are grouped by local day; within a day the
//! sessions of all shops are interleaved by start time; each session's
//! messages follow in time order (except ~1% of sessions with two adjacent
//! lines swapped, as real exports have).
//!
//! Layout: `rng` (PRNG), `dialogue` (phrase banks), `agents` (shops and agent
//! personalities), `clock` (time zone, daily traffic curve), `session` (one
//! session's script; the rates of sprinkled violations are constants there),
//! `writer` (JSONL / CSV encoding).
//!
//! Shop `i` exports timestamps as RFC 3339 (`i % 3 == 0`), naive local time
//! (`1`) or epoch milliseconds (`2`); CSV always uses naive local time. The
//! last session of every shop-day with at least 10 sessions starts at
//! 23:55-23:58 and runs past local midnight. Identical output is guaranteed
//! for identical config on the same platform; draws go through `f64::ln`/
//! `exp`/`cos`, whose last-bit results could in theory differ on another libm
//! (times are rounded to whole seconds, which makes that unlikely to show).

mod agents;
mod clock;
mod dialogue;
pub mod rng;
mod session;
pub mod shopdata;
mod writer;

use agents::Shop;
use chrono::{Datelike, Days, NaiveDate};
use rng::Rng;
use session::{Session, SessionSpec, simulate};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use writer::RecordWriter;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenConfig {
    /// Number of shops, >= 1.
    pub shops: u32,
    /// Number of local days, >= 1.
    pub days: u32,
    /// Sessions per shop per day.
    pub sessions_per_day: u32,
    pub seed: u64,
    /// First local date.
    pub start_date: NaiveDate,
    pub format: GenFormat,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            shops: 3,
            days: 1,
            sessions_per_day: 1000,
            seed: 42,
            start_date: NaiveDate::from_ymd_opt(2026, 11, 11).expect("valid constant date"),
            format: GenFormat::Jsonl,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GenFormat {
    #[default]
    Jsonl,
    Csv,
}

impl GenFormat {
    /// File extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            GenFormat::Jsonl => "jsonl",
            GenFormat::Csv => "csv",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenTarget {
    /// One file with all records.
    File(PathBuf),
    /// One file per local date: `dir/date=YYYY-MM-DD/messages.<ext>`.
    Dir(PathBuf),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GenStats {
    /// Output files (or streams, for [`generate_to`]) written.
    pub files: u64,
    pub sessions: u64,
    /// Records (lines, CSV header excluded).
    pub messages: u64,
    /// Bytes written, CSV header included.
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("invalid generator config: {0}")]
    Config(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("writing generated data: {0}")]
    Write(#[source] io::Error),
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> GenError + '_ {
    move |source| GenError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Generates into a file or a date-partitioned directory. Each file is
/// written under a temporary name in its folder and renamed when complete.
pub fn generate(cfg: &GenConfig, target: &GenTarget) -> Result<GenStats, GenError> {
    generate_with_shop_data(cfg, target, None).map(|(stats, _)| stats)
}

/// Where to write the back-office files that go with the transcripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopDataPaths {
    pub orders: PathBuf,
    pub metrics: PathBuf,
}

/// Like [`generate`], also writing orders and platform metrics consistent with
/// the sessions; returns the number of orders written.
pub fn generate_with_shop_data(
    cfg: &GenConfig,
    target: &GenTarget,
    shop_data: Option<&ShopDataPaths>,
) -> Result<(GenStats, u64), GenError> {
    let dates = validate(cfg)?;
    let mut gen_state = Generator::new(cfg);
    if shop_data.is_some() {
        gen_state.shop_data = Some(shopdata::ShopData::default());
    }
    let mut stats = GenStats::default();
    match target {
        GenTarget::File(path) => {
            write_file(path, cfg.format, &mut stats, |w| {
                dates.clone().try_for_each(|date| gen_state.write_day(date, w))
            })?;
        }
        GenTarget::Dir(dir) => {
            for date in dates {
                let mut folder = String::from("date=");
                clock::push_date(i64::from(date.year()), date.month(), date.day(), &mut folder);
                let sub = dir.join(folder);
                fs::create_dir_all(&sub).map_err(io_at(&sub))?;
                let path = sub.join(format!("messages.{}", cfg.format.extension()));
                write_file(&path, cfg.format, &mut stats, |w| gen_state.write_day(date, w))?;
            }
        }
    }
    stats.sessions = gen_state.sessions;
    let mut orders = 0;
    if let (Some(paths), Some(data)) = (shop_data, &gen_state.shop_data) {
        orders = data.order_count;
        let mut text = String::from(shopdata::ORDERS_HEADER);
        text.push_str(&data.orders);
        write_text(&paths.orders, &text)?;
        write_text(&paths.metrics, &data.metrics(cfg.seed, &gen_state.shops))?;
    }
    Ok((stats, orders))
}

fn write_text(path: &Path, text: &str) -> Result<(), GenError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io_at(parent))?;
    }
    fs::write(path, text).map_err(io_at(path))
}

/// Generates everything as one stream into `out` (buffered internally).
pub fn generate_to<W: Write>(cfg: &GenConfig, out: W) -> Result<GenStats, GenError> {
    let dates = validate(cfg)?;
    let mut gen_state = Generator::new(cfg);
    let mut w = RecordWriter::new(out, cfg.format).map_err(GenError::Write)?;
    for date in dates {
        gen_state.write_day(date, &mut w).map_err(GenError::Write)?;
    }
    let (bytes, messages) = (w.bytes, w.messages);
    w.finish().map_err(GenError::Write)?;
    Ok(GenStats {
        files: 1,
        sessions: gen_state.sessions,
        messages,
        bytes,
    })
}

/// Checks the config; returns the local dates to generate.
fn validate(cfg: &GenConfig) -> Result<impl Iterator<Item = NaiveDate> + Clone, GenError> {
    if cfg.shops == 0 {
        return Err(GenError::Config("shops must be at least 1".into()));
    }
    if cfg.days == 0 {
        return Err(GenError::Config("days must be at least 1".into()));
    }
    let start = cfg.start_date;
    start
        .checked_add_days(Days::new(u64::from(cfg.days)))
        .ok_or_else(|| GenError::Config(format!("{} + {} days is out of range", start, cfg.days)))?;
    Ok((0..cfg.days).filter_map(move |d| start.checked_add_days(Days::new(u64::from(d)))))
}

/// Writes one file via a temporary sibling, renamed on success and removed
/// on failure.
fn write_file(
    path: &Path,
    format: GenFormat,
    stats: &mut GenStats,
    body: impl FnOnce(&mut RecordWriter<File>) -> io::Result<()>,
) -> Result<(), GenError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io_at(parent))?;
    }
    let name = path
        .file_name()
        .ok_or_else(|| GenError::Config(format!("{} is not a file path", path.display())))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);

    let result = (|| {
        let file = File::create(&tmp)?;
        let mut w = RecordWriter::new(file, format)?;
        body(&mut w)?;
        let (bytes, messages) = (w.bytes, w.messages);
        w.finish()?;
        fs::rename(&tmp, path)?;
        Ok((bytes, messages))
    })();
    match result {
        Ok((bytes, messages)) => {
            stats.files += 1;
            stats.bytes += bytes;
            stats.messages += messages;
            Ok(())
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp); // best effort; the real error matters
            Err(GenError::Io {
                path: path.to_path_buf(),
                source: e,
            })
        }
    }
}

// Stream tags keep the PRNG streams of different purposes apart.
const TAG_STARTS: u64 = 0x57A7;
const TAG_SESSION: u64 = 0x5E55;

/// Per-run state: the shops and reusable buffers.
struct Generator {
    seed: u64,
    sessions_per_day: u32,
    shops: Vec<Shop>,
    session: Session,
    session_id: String,
    sessions: u64,
    /// Orders and metrics, when asked for.
    shop_data: Option<shopdata::ShopData>,
}

impl Generator {
    fn new(cfg: &GenConfig) -> Self {
        Generator {
            seed: cfg.seed,
            sessions_per_day: cfg.sessions_per_day,
            shops: (0..cfg.shops)
                .map(|i| Shop::new(cfg.seed, i, cfg.sessions_per_day))
                .collect(),
            session: Session::default(),
            session_id: String::with_capacity(32),
            sessions: 0,
            shop_data: None,
        }
    }

    /// All sessions starting on local `date`, shops interleaved by start.
    fn write_day<W: Write>(&mut self, date: NaiveDate, w: &mut RecordWriter<W>) -> io::Result<()> {
        let midnight = clock::local_midnight(date);
        // keyed by the absolute date, so a day's content does not depend on
        // the first date of the run
        let day_key = u64::try_from(date.num_days_from_ce()).unwrap_or(0);
        let mut streams: Vec<clock::StartTimes> = (0..self.shops.len())
            .map(|s| {
                let rng = Rng::derived(self.seed, &[TAG_STARTS, s as u64, day_key]);
                clock::StartTimes::new(rng, self.sessions_per_day)
            })
            .collect();
        // min-heap of (start secs, shop, start) merges the sorted streams
        let mut heap = BinaryHeap::with_capacity(streams.len());
        for (s, stream) in streams.iter_mut().enumerate() {
            if let Some(st) = stream.next() {
                heap.push(Reverse((st.secs, s, st.index, st.cross_midnight)));
            }
        }
        let ymd = (date.year(), date.month(), date.day());
        while let Some(Reverse((secs, s, index, cross_midnight))) = heap.pop() {
            if let Some(st) = streams[s].next() {
                heap.push(Reverse((st.secs, s, st.index, st.cross_midnight)));
            }
            let spec = SessionSpec {
                start: midnight + i64::from(secs),
                local_secs: secs,
                cross_midnight,
            };
            let rng = Rng::derived(self.seed, &[TAG_SESSION, s as u64, day_key, u64::from(index)]);
            let shop = &self.shops[s];
            simulate(shop, &spec, rng, &mut self.session);
            self.session_id.clear();
            let _ = write!(
                self.session_id,
                "S{:04}{:02}{:02}-{:04}-{:06}",
                ymd.0,
                ymd.1,
                ymd.2,
                s + 1,
                index + 1
            );
            w.write_session(shop, &self.session_id, &self.session)?;
            if let Some(data) = &mut self.shop_data {
                let key = [s as u64, day_key, u64::from(index)];
                data.session(self.seed, key, shop, &self.session_id, &self.session);
            }
            self.sessions += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
