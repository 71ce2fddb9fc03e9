//! Live watch (实时质检 / 场控): follows an export folder as files grow
//! ([`follow`], through a per-file [`source::IncrementalReader`]), keeps each live
//! session's open round ([`tracker`]) and raises alerts ([`alert`]): a customer
//! waiting longer than `alert_after`, the reply that clears it, and messages that
//! hit a critical rule ([`critical`]). Alerts go out as JSON lines and, on a thread
//! of their own, to a webhook ([`webhook`]). A status line per shop is printed
//! every interval, and `--state` ([`checkpoint`]) resumes where a run stopped.
//!
//! Each pass reads what every file gained and takes its messages in time order.
//! File events (inotify and its kin, through `notify`) wake the loop at once;
//! without them the folder is polled.

pub mod alert;
pub mod checkpoint;
pub mod critical;
pub mod follow;
pub mod replay;
pub mod source;
pub mod tracker;
pub mod webhook;

#[cfg(test)]
mod tests;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use alert::Alert;
use critical::CriticalRules;
use follow::Follower;
use source::Decoded;
use tracker::{ClockMode, ShopStatus, Tracker};
use webhook::{Webhook, WebhookFormat, WebhookReport};

use crate::error::{Error, Result};
use crate::timezone::TimeZones;

/// Without file events the folder is polled at least this often.
const POLL: Duration = Duration::from_secs(1);
/// How long a stopping watch lets the webhook finish its queue.
const WEBHOOK_GRACE: Duration = Duration::from_secs(5);

pub struct WatchOptions {
    pub inputs: Vec<PathBuf>,
    pub from: String,
    pub zones: TimeZones,
    pub critical: CriticalRules,
    pub interval: Duration,
    pub alert_after: Duration,
    pub session_gap: Duration,
    pub clock: ClockMode,
    /// Alerts to this file (appended) instead of stdout.
    pub alerts: Option<PathBuf>,
    pub webhook: Option<WebhookOptions>,
    pub state: Option<PathBuf>,
    pub once: bool,
    /// Print the status lines.
    pub status: bool,
}

pub struct WebhookOptions {
    pub url: String,
    pub format: WebhookFormat,
    pub retries: u32,
    pub backoff: Duration,
}

/// What wakes the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    Files,
    Stop,
}

/// The stop flag and the wake channel; a signal handler holds clones of the first two.
pub struct Control {
    pub stop: Arc<AtomicBool>,
    pub wake: Sender<Wake>,
    rx: Receiver<Wake>,
}

impl Default for Control {
    fn default() -> Self {
        let (wake, rx) = channel();
        Self {
            stop: Arc::new(AtomicBool::new(false)),
            wake,
            rx,
        }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub messages: u64,
    pub rejects: u64,
    pub waiting: u64,
    pub answered: u64,
    pub critical: u64,
    pub webhook: Option<WebhookReport>,
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

fn wall_micros() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, micros)
}

/// Runs until stopped (or, with `once`, until everything there is was read).
pub fn run(options: WatchOptions, control: Control) -> Result<Summary> {
    let mut watch = Watch::open(options)?;
    let events = if watch.options.once {
        None
    } else {
        file_events(&watch.options.inputs, control.wake.clone())
    };
    let poll = if events.is_some() {
        watch.options.interval
    } else {
        watch.options.interval.min(POLL)
    };
    let mut next_tick = Instant::now() + watch.options.interval;
    loop {
        let read = watch.pass()?;
        if watch.options.once {
            // A large backlog comes in steps: go on until nothing is left.
            if read > 0 {
                continue;
            }
            break;
        }
        if control.stop.load(Ordering::SeqCst) {
            break;
        }
        if Instant::now() >= next_tick {
            watch.tick()?;
            next_tick = Instant::now() + watch.options.interval;
        }
        let mut timeout = next_tick.saturating_duration_since(Instant::now()).min(poll);
        if let (ClockMode::Wall, Some(due)) = (watch.options.clock, watch.tracker.next_deadline()) {
            let until_due = u64::try_from(due.saturating_sub(wall_micros()).max(0)).unwrap_or(0);
            timeout = timeout.min(Duration::from_micros(until_due + 1000));
        }
        match control.rx.recv_timeout(timeout) {
            Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected) => break,
            Ok(Wake::Files) | Err(RecvTimeoutError::Timeout) => {
                // One pass answers every event that queued up meanwhile.
                while let Ok(wake) = control.rx.try_recv() {
                    if wake == Wake::Stop {
                        control.stop.store(true, Ordering::SeqCst);
                    }
                }
            }
        }
    }
    drop(events);
    watch.finish()
}

/// File events for `inputs`, or `None` (polling) when the system gives none.
fn file_events(inputs: &[PathBuf], wake: Sender<Wake>) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher as _;
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // Our own reads open the files: access events would wake us for nothing.
        if event.is_ok_and(|e| !matches!(e.kind, notify::EventKind::Access(_))) {
            let _ = wake.send(Wake::Files);
        }
    });
    let started = watcher.and_then(|mut w| {
        for input in inputs {
            w.watch(input, notify::RecursiveMode::Recursive)?;
        }
        Ok(w)
    });
    match started {
        Ok(w) => Some(w),
        Err(e) => {
            eprintln!("zhijian: file events are not available ({e}); polling the folder every second");
            None
        }
    }
}

/// Where alert lines go.
enum Sink {
    Stdout,
    File(std::io::BufWriter<std::fs::File>, PathBuf),
}

impl Sink {
    fn open(path: Option<&PathBuf>) -> Result<Self> {
        let Some(path) = path else { return Ok(Sink::Stdout) };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(Sink::File(std::io::BufWriter::new(file), path.clone()))
    }

    fn write(&mut self, alerts: &[Alert]) -> Result<()> {
        let mut text = String::new();
        for alert in alerts {
            text.push_str(&alert.json_line());
            text.push('\n');
        }
        match self {
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes())
                    .and_then(|()| out.flush())
                    .map_err(|e| Error::io("<stdout>", e))
            }
            Sink::File(out, path) => out
                .write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| Error::io(&*path, e)),
        }
    }
}

struct Watch {
    options: WatchOptions,
    follower: Follower,
    tracker: Tracker,
    sink: Sink,
    webhook: Option<Webhook>,
    summary: Summary,
}

impl Watch {
    fn open(mut options: WatchOptions) -> Result<Self> {
        let mut follower = Follower::new(
            options.inputs.clone(),
            options.from.clone(),
            options.zones.clone(),
        )?;
        let critical = std::mem::take(&mut options.critical);
        let mut tracker = Tracker::new(
            options.clock,
            micros(options.alert_after),
            micros(options.session_gap),
            options.zones.clone(),
            critical,
        );
        if let Some(path) = &options.state
            && let Some(saved) = checkpoint::load(path, &options.from)?
        {
            follower.restore(saved.files, path)?;
            tracker.restore(saved.tracker);
        }
        let sink = Sink::open(options.alerts.as_ref())?;
        let webhook = options
            .webhook
            .as_ref()
            .map(|w| Webhook::start(w.url.clone(), w.format, w.retries, w.backoff));
        Ok(Self {
            options,
            follower,
            tracker,
            sink,
            webhook,
            summary: Summary::default(),
        })
    }

    /// Reads what the files gained and raises what it implies; returns bytes read.
    fn pass(&mut self) -> Result<u64> {
        let mut decoded = Decoded::default();
        let mut notes = Vec::new();
        let read = self.follower.poll(&mut decoded, &mut notes)?;
        for note in notes {
            eprintln!("zhijian: {note}");
        }
        for reject in &decoded.rejects {
            eprintln!("zhijian: reject: {}", reject.display());
        }
        self.summary.rejects += decoded.rejects.len() as u64;
        self.summary.messages += decoded.messages.len() as u64;
        // Files are read one after another: time order across them is restored here.
        decoded.messages.sort_by_key(|m| m.ts);
        let mut alerts = Vec::new();
        let wall = self.options.clock == ClockMode::Wall;
        if wall {
            self.tracker.advance_to(wall_micros(), &mut alerts);
        }
        for message in &decoded.messages {
            self.tracker.apply(message, &mut alerts);
        }
        if wall {
            self.tracker.advance_to(wall_micros(), &mut alerts);
        }
        self.emit(&alerts)?;
        Ok(read)
    }

    fn emit(&mut self, alerts: &[Alert]) -> Result<()> {
        if alerts.is_empty() {
            return Ok(());
        }
        self.sink.write(alerts)?;
        for alert in alerts {
            match alert {
                Alert::Waiting { .. } => self.summary.waiting += 1,
                Alert::Answered { .. } => self.summary.answered += 1,
                Alert::Critical { .. } => self.summary.critical += 1,
            }
            if let Some(webhook) = &mut self.webhook {
                webhook.send(alert);
            }
        }
        Ok(())
    }

    /// Every interval: dropping idle sessions, the status lines, saving the state.
    fn tick(&mut self) -> Result<()> {
        self.tracker.expire();
        if self.tracker.clock() != i64::MIN && self.options.status {
            let clock = self.tracker.clock();
            for status in self.tracker.status() {
                let zone = self.options.zones.for_shop(&status.shop);
                eprintln!(
                    "zhijian: {}",
                    status_line(&status, &alert::time_text(clock, zone))
                );
            }
        }
        self.save()
    }

    fn save(&self) -> Result<()> {
        let Some(path) = &self.options.state else {
            return Ok(());
        };
        let saved =
            checkpoint::Checkpoint::new(&self.options.from, self.follower.save(), self.tracker.save());
        checkpoint::save(path, &saved)
    }

    fn finish(mut self) -> Result<Summary> {
        if self.options.once && self.options.status {
            self.tick()?;
        } else {
            self.tracker.expire();
            self.save()?;
        }
        self.summary.webhook = self.webhook.take().map(|w| w.finish(WEBHOOK_GRACE));
        Ok(self.summary)
    }
}

/// `10:05:00 店铺: 等待 3 人, 最长等待 125 s, 近10分钟回复 48 条, 在线客服 5 人`
pub fn status_line(status: &ShopStatus, at: &str) -> String {
    format!(
        "{at} {}: 等待 {} 人, 最长等待 {:.0} s, 近10分钟回复 {} 条, 在线客服 {} 人",
        status.shop, status.waiting, status.longest_wait_s, status.replies_recent, status.agents_active
    )
}
