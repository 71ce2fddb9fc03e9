//! How `run` shows progress: bars on a terminal, timestamped log lines otherwise
//! (cron mail must stay readable), nothing with `--quiet`.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::progress::{Progress, Silent, Unit};

pub fn for_stderr(quiet: bool) -> Box<dyn Progress> {
    if quiet {
        Box::new(Silent)
    } else if std::io::stderr().is_terminal() {
        Box::new(Bars::default())
    } else {
        Box::new(LogLines::default())
    }
}

/// One line per finished stage and per note, each with the local time.
#[derive(Default)]
struct LogLines {
    stage: Mutex<Option<(String, Instant)>>,
}

fn log_line(message: &str) {
    let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
    eprintln!("{now} zhijian: {message}");
}

impl Progress for LogLines {
    fn begin(&self, stage: &str, _: Option<u64>, _: Unit) {
        if let Ok(mut current) = self.stage.lock() {
            *current = Some((stage.to_string(), Instant::now()));
        }
    }

    fn advance(&self, _: u64) {}

    fn end(&self, summary: &str) {
        let finished = self.stage.lock().ok().and_then(|mut s| s.take());
        if let Some((stage, started)) = finished {
            log_line(&format!("{stage}: {summary} ({})", seconds(started.elapsed())));
        }
    }

    fn note(&self, message: &str) {
        log_line(message);
    }
}

/// An indicatif bar per stage: bytes for reading, a count for rules and dates.
#[derive(Default)]
struct Bars {
    current: Mutex<Option<(String, Instant, ProgressBar)>>,
}

fn style(unit: Unit, known_total: bool) -> ProgressStyle {
    let template = match (unit, known_total) {
        (Unit::Bytes, true) => "{prefix:>6} [{bar:32}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        (Unit::Items, true) => "{prefix:>6} [{bar:32}] {pos}/{len} {elapsed}",
        (_, false) => "{prefix:>6} {spinner} {elapsed}",
    };
    ProgressStyle::with_template(template)
        .expect("valid template")
        .progress_chars("=> ")
}

impl Progress for Bars {
    fn begin(&self, stage: &str, total: Option<u64>, unit: Unit) {
        let bar = match total {
            Some(total) => ProgressBar::new(total),
            None => {
                let spinner = ProgressBar::new_spinner();
                spinner.enable_steady_tick(Duration::from_millis(120));
                spinner
            }
        };
        bar.set_style(style(unit, total.is_some()));
        bar.set_prefix(stage.to_string());
        if let Ok(mut current) = self.current.lock()
            && let Some((_, _, old)) = current.replace((stage.to_string(), Instant::now(), bar))
        {
            old.finish_and_clear();
        }
    }

    fn advance(&self, amount: u64) {
        if let Ok(current) = self.current.lock()
            && let Some((_, _, bar)) = current.as_ref()
        {
            bar.inc(amount);
        }
    }

    fn end(&self, summary: &str) {
        let finished = self.current.lock().ok().and_then(|mut c| c.take());
        if let Some((stage, started, bar)) = finished {
            bar.finish_and_clear();
            eprintln!("{stage:>6} {summary} ({})", seconds(started.elapsed()));
        }
    }

    fn note(&self, message: &str) {
        match self.current.lock().ok().as_ref().and_then(|c| c.as_ref()) {
            Some((_, _, bar)) => bar.println(message),
            None => eprintln!("{message}"),
        }
    }
}

fn seconds(elapsed: Duration) -> String {
    format!("{:.2} s", elapsed.as_secs_f64())
}
