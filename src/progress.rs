//! How a long job says what it is doing. The library reports stages and amounts;
//! the command line shows them as bars on a terminal, as log lines for cron, or
//! not at all.

use std::io::Read;

/// What a stage counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Items,
}

/// Receives a job's progress. Calls come from several threads.
pub trait Progress: Send + Sync {
    /// A stage begins; `total` is its size when known.
    fn begin(&self, stage: &str, total: Option<u64>, unit: Unit);
    /// `amount` more of the current stage is done.
    fn advance(&self, amount: u64);
    /// The current stage is over; `summary` says what it gave.
    fn end(&self, summary: &str);
    /// Something the user should read (a warning, a published folder).
    fn note(&self, message: &str);
}

/// Reports nothing: for library callers and `--quiet`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn begin(&self, _: &str, _: Option<u64>, _: Unit) {}
    fn advance(&self, _: u64) {}
    fn end(&self, _: &str) {}
    fn note(&self, _: &str) {}
}

/// A reader that reports the bytes it reads, so a file's progress is measured
/// before decompression (what `total` counted).
pub struct CountingReader<'a, R> {
    inner: R,
    progress: &'a dyn Progress,
}

impl<'a, R> CountingReader<'a, R> {
    pub fn new(inner: R, progress: &'a dyn Progress) -> Self {
        Self { inner, progress }
    }
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// With `ZHIJIAN_TIMINGS=1`, prints how long `label` took since `since` (for
/// profiling a run stage by stage; silent otherwise).
pub fn timing(label: &str, since: std::time::Instant) {
    if std::env::var_os("ZHIJIAN_TIMINGS").is_some() {
        eprintln!("zhijian: timings: {label} {:.3} s", since.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    #[derive(Default)]
    struct Tally(AtomicU64);

    impl Progress for Tally {
        fn begin(&self, _: &str, _: Option<u64>, _: Unit) {}
        fn advance(&self, amount: u64) {
            self.0.fetch_add(amount, Ordering::Relaxed);
        }
        fn end(&self, _: &str) {}
        fn note(&self, _: &str) {}
    }

    #[test]
    fn counting_reader_reports_every_byte() {
        let tally = Tally::default();
        let data = vec![7u8; 100_000];
        let mut out = Vec::new();
        CountingReader::new(&data[..], &tally)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out.len(), 100_000);
        assert_eq!(tally.0.load(Ordering::Relaxed), 100_000);
    }
}
