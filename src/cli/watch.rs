//! `zhijian watch`: live alerts while chats happen.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::error::Error;
use crate::timezone::{TimeZones, parse_zone};
use crate::watch::critical::CriticalRules;
use crate::watch::tracker::ClockMode;
use crate::watch::webhook::WebhookFormat;
use crate::watch::{self, Control, Wake, WatchOptions, WebhookOptions};

/// 实时质检 (场控): follow an export folder and alert while chats happen.
///
/// Reads every .jsonl and .csv file under --input as it grows (new files too; only
/// the new bytes), keeps each live session's open round (sessions idle longer
/// than --session-gap are dropped) and prints alerts as JSON lines:
///
///   {"kind":"waiting","shop","session_id","open_msg_id","opened_at","waited_s","at"}
///     a customer waited longer than --alert-after (strictly) with no reply; once per round
///   {"kind":"answered", ...the same keys, "agent_id"}
///     that round got its reply (agent_id null when a bot replied)
///   {"kind":"critical","shop","session_id","msg_id","agent_id","rule_id","at"}
///     a message hits a critical (一票否决) phrases rule of the pack
///
/// Time is event time by default: the newest message time seen, so a replay of old
/// exports behaves like the live day (a quiet stream does not move the clock; use
/// --clock wall live). `at` is that clock; times carry the shop's UTC offset.
/// Every --interval a status line per shop goes to stderr: customers waiting, the
/// longest wait, replies and active agents in the last 10 minutes.
///
/// Ctrl-C or SIGTERM stops cleanly. With --state FILE the offsets and live sessions
/// are saved every interval and at the stop, and a restart goes on from there: no
/// alert repeated, none missed (after a kill -9, those of the last interval may
/// repeat).
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  zhijian gen --replay sample-logs/date=2026-11-11/messages.jsonl --speed 60 --out /tmp/live/ &
  zhijian watch --input /tmp/live/ --alert-after 100s
  zhijian watch --input /data/exports/ --clock wall --alerts alerts.jsonl --state watch-state.json \\
      --webhook https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY --webhook-format wecom
  zhijian watch --input sample-logs/date=2026-11-11/ --once")]
pub struct WatchArgs {
    /// Folders (or files) to follow. Repeatable.
    #[arg(long, short, value_name = "DIR", required = true)]
    input: Vec<PathBuf>,
    /// Input format: `canonical` (JSONL and CSV records).
    #[arg(long, value_name = "FORMAT", default_value = "canonical")]
    from: String,
    /// The rule pack whose critical rules are watched.
    #[arg(long, value_name = "DIR", default_value = "rules")]
    rules: PathBuf,
    /// How often the status is printed and the state saved (e.g. 5s, 1m).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    interval: Duration,
    /// A round open longer than this with no reply raises a waiting alert.
    #[arg(long, value_name = "DURATION", default_value = "100s", value_parser = parse_duration)]
    alert_after: Duration,
    /// Sessions idle longer than this are forgotten.
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    session_gap: Duration,
    /// The clock alerts are timed by.
    #[arg(long, value_enum, default_value_t = ClockArg::Event)]
    clock: ClockArg,
    /// Append alerts to this file instead of printing them.
    #[arg(long, value_name = "FILE")]
    alerts: Option<PathBuf>,
    /// Also POST every alert here (retried with backoff; never holds up reading).
    #[arg(long, value_name = "URL")]
    webhook: Option<String>,
    /// The webhook's body: the alert's JSON, or a 企业微信 / 钉钉 robot text message.
    #[arg(long, value_enum, default_value_t = WebhookFormat::Json, requires = "webhook")]
    webhook_format: WebhookFormat,
    /// Tries after the first failed POST.
    #[arg(long, value_name = "N", default_value_t = 5, requires = "webhook")]
    webhook_retries: u32,
    /// Wait before the first retry; doubled each time (at most 60 s).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration, requires = "webhook")]
    webhook_backoff: Duration,
    /// Save offsets and live sessions here, and resume from it.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Read what is there, emit what it implies, and exit.
    #[arg(long)]
    once: bool,
    /// No status lines.
    #[arg(long, short)]
    quiet: bool,
    /// Time zone of the shops (for naive timestamps, service hours and alert times).
    #[arg(long, value_name = "TZ", default_value = "Asia/Shanghai")]
    timezone: String,
    /// A shop in another time zone, as SHOP=TZ. Repeatable.
    #[arg(long, value_name = "SHOP=TZ")]
    shop_timezone: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ClockArg {
    /// The newest message time seen.
    Event,
    /// The machine's clock.
    Wall,
}

/// `500ms`, `100s`, `30m`, `2h`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration: write 100s, 5m, 1h or 500ms"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("{text:?}: unknown unit {unit:?}; use ms, s, m or h")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

pub fn run(args: WatchArgs) -> anyhow::Result<ExitCode> {
    if !watch::source::FORMATS.contains(&args.from.as_str()) {
        anyhow::bail!(Error::Usage(format!(
            "--from {}: watch reads {} records; convert platform exports with `zhijian convert` first",
            args.from,
            watch::source::FORMATS.join(", ")
        )));
    }
    if args.interval.is_zero() {
        anyhow::bail!(Error::Usage("--interval must be above 0".into()));
    }
    let zones = TimeZones::new(parse_zone(&args.timezone)?)
        .with_shop_overrides(args.shop_timezone.iter().map(String::as_str))?;
    let pack = crate::rules::load(&args.rules, &[]).map_err(Error::RulePack)?;
    let critical = CriticalRules::from_pack(&pack);
    for (id, template) in &critical.not_watched {
        eprintln!(
            "zhijian: critical rule {id} ({template}) is not watched: a {template} rule needs whole sessions, which `zhijian run` judges"
        );
    }
    let options = WatchOptions {
        inputs: args.input,
        from: args.from,
        zones,
        critical,
        interval: args.interval,
        alert_after: args.alert_after,
        session_gap: args.session_gap,
        clock: match args.clock {
            ClockArg::Event => ClockMode::Event,
            ClockArg::Wall => ClockMode::Wall,
        },
        alerts: args.alerts,
        webhook: args.webhook.map(|url| WebhookOptions {
            url,
            format: args.webhook_format,
            retries: args.webhook_retries,
            backoff: args.webhook_backoff,
        }),
        state: args.state,
        once: args.once,
        status: !args.quiet,
    };
    let control = Control::default();
    let (stop, wake) = (control.stop.clone(), control.wake.clone());
    // Ctrl-C or SIGTERM (a service manager) stops the watch cleanly, state saved.
    let mut signals =
        signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM])?;
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = wake.send(Wake::Stop);
        }
    });
    let summary = watch::run(options, control)?;
    eprintln!(
        "zhijian: watch stopped: {} messages, {} rejects; alerts: {} waiting, {} answered, {} critical",
        summary.messages, summary.rejects, summary.waiting, summary.answered, summary.critical
    );
    if let Some(w) = summary.webhook {
        eprintln!(
            "zhijian: webhook: {} delivered, {} retries, {} given up, {} dropped (queue full), {} not sent at the stop",
            w.delivered, w.retried, w.failed, w.dropped, w.pending
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("100s"), Ok(Duration::from_secs(100)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("s").is_err());
    }
}
