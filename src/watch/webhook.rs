//! Posting alerts to a webhook on a thread of its own, so a slow or dead endpoint
//! never holds up reading: alerts queue (bounded; beyond it they are counted as
//! dropped, never waited for), each is POSTed in order and retried with
//! exponential backoff. Bodies: the alert's JSON, or the text message of a
//! 企业微信 or 钉钉 group robot, whose `errcode` in a 200 answer is checked too.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use super::alert::Alert;

/// Alerts waiting for the webhook beyond this are dropped (and counted).
pub const QUEUE: usize = 10_000;
/// The longest wait between two tries.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WebhookFormat {
    /// The alert's JSON object as the body.
    Json,
    /// 企业微信群机器人: {"msgtype":"text","text":{"content":...}}.
    Wecom,
    /// 钉钉群机器人: {"msgtype":"text","text":{"content":...}}.
    Dingtalk,
}

/// The body posted for `alert`.
pub fn body(alert: &Alert, format: WebhookFormat) -> String {
    match format {
        WebhookFormat::Json => alert.json_line(),
        WebhookFormat::Wecom | WebhookFormat::Dingtalk => {
            serde_json::json!({"msgtype": "text", "text": {"content": alert.text()}}).to_string()
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    delivered: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
}

/// What became of the alerts handed to the webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookReport {
    pub delivered: u64,
    /// Given up after every try.
    pub failed: u64,
    pub retried: u64,
    /// Not queued: the queue was full.
    pub dropped: u64,
    /// Still queued when the watch stopped.
    pub pending: u64,
}

pub struct Webhook {
    tx: Option<SyncSender<Alert>>,
    counters: Arc<Counters>,
    abandon: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<()>,
    queued: u64,
    dropped: u64,
}

impl Webhook {
    /// Starts the posting thread; `retries` more tries after the first, waiting
    /// `backoff`, then twice as long each time.
    pub fn start(url: String, format: WebhookFormat, retries: u32, backoff: Duration) -> Self {
        let (tx, rx) = sync_channel::<Alert>(QUEUE);
        let counters = Arc::new(Counters::default());
        let abandon = Arc::new(AtomicBool::new(false));
        let poster = Poster {
            url,
            format,
            retries,
            backoff,
            counters: counters.clone(),
            abandon: abandon.clone(),
        };
        let handle = std::thread::spawn(move || poster.run(rx));
        Self {
            tx: Some(tx),
            counters,
            abandon,
            handle,
            queued: 0,
            dropped: 0,
        }
    }

    /// Queues `alert` without ever waiting.
    pub fn send(&mut self, alert: &Alert) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(alert.clone()) {
            Ok(()) => self.queued += 1,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => self.dropped += 1,
        }
    }

    /// Lets the thread finish the queue for at most `grace`, then stops it.
    pub fn finish(mut self, grace: Duration) -> WebhookReport {
        self.tx = None;
        let deadline = Instant::now() + grace;
        while !self.handle.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.abandon.store(true, Ordering::SeqCst);
        let delivered = self.counters.delivered.load(Ordering::SeqCst);
        let failed = self.counters.failed.load(Ordering::SeqCst);
        WebhookReport {
            delivered,
            failed,
            retried: self.counters.retried.load(Ordering::SeqCst),
            dropped: self.dropped,
            pending: self.queued.saturating_sub(delivered + failed),
        }
    }
}

struct Poster {
    url: String,
    format: WebhookFormat,
    retries: u32,
    backoff: Duration,
    counters: Arc<Counters>,
    abandon: Arc<AtomicBool>,
}

impl Poster {
    fn run(self, rx: Receiver<Alert>) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        while let Ok(alert) = rx.recv() {
            let body = body(&alert, self.format);
            let mut wait = self.backoff;
            let mut tries = 0;
            loop {
                if self.abandon.load(Ordering::SeqCst) {
                    return;
                }
                match post(&agent, &self.url, &body, self.format) {
                    Ok(()) => {
                        self.counters.delivered.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                    Err(why) if tries >= self.retries => {
                        eprintln!(
                            "zhijian: webhook: gave up on an alert after {} tries: {why}",
                            tries + 1
                        );
                        self.counters.failed.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                    Err(_) => {
                        tries += 1;
                        self.counters.retried.fetch_add(1, Ordering::SeqCst);
                        self.sleep(wait);
                        wait = (wait * 2).min(MAX_BACKOFF);
                    }
                }
            }
        }
    }

    /// Sleeps, waking early when the watch gives up on the queue.
    fn sleep(&self, wait: Duration) {
        let until = Instant::now() + wait;
        while Instant::now() < until && !self.abandon.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20).min(wait));
        }
    }
}

/// One POST; `Err` says why it did not count as delivered.
fn post(agent: &ureq::Agent, url: &str, body: &str, format: WebhookFormat) -> Result<(), String> {
    let response = agent
        .post(url)
        .header("Content-Type", "application/json; charset=utf-8")
        .send(body.as_bytes())
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response.into_body().read_to_string().unwrap_or_default();
    if !(200..300).contains(&status) {
        return Err(format!(
            "HTTP {status}: {}",
            text.chars().take(200).collect::<String>()
        ));
    }
    if format != WebhookFormat::Json {
        // The robots answer 200 with {"errcode": 45009, ...} when they refuse.
        let code = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("errcode").and_then(serde_json::Value::as_i64))
            .unwrap_or(0);
        if code != 0 {
            return Err(format!(
                "robot errcode {code}: {}",
                text.chars().take(200).collect::<String>()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robot_bodies_are_text_messages() {
        let alert = Alert::Critical {
            shop: "店".into(),
            session_id: "x".into(),
            msg_id: "m".into(),
            agent_id: "a".into(),
            rule_id: "offplatform-payment".into(),
            at: "t".into(),
        };
        let wecom: serde_json::Value = serde_json::from_str(&body(&alert, WebhookFormat::Wecom)).unwrap();
        assert_eq!(wecom["msgtype"], "text");
        assert!(
            wecom["text"]["content"]
                .as_str()
                .unwrap()
                .contains("offplatform-payment")
        );
        assert_eq!(body(&alert, WebhookFormat::Json), alert.json_line());
    }
}
