//! `zhijian gen`: realistic synthetic transcripts, for trying rules and benchmarks.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::synth::{GenConfig, GenFormat, GenTarget, ShopDataPaths, generate_with_shop_data};

/// Write synthetic customer-service transcripts (canonical JSONL or CSV).
///
/// Chinese e-commerce dialogue with agents of different habits, a night-shift bot,
/// transfers, chase runs, banned phrases and unanswered customers. Deterministic
/// for a seed; streams, so it scales to 10^7 messages.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  zhijian gen --shops 2 --days 2 --sessions-per-day 300 --seed 7 --out sample-logs/
  zhijian gen --shops 2 --days 2 --sessions-per-day 60 --seed 7 --out sample-logs/ \\
      --orders sample-logs/_shop-data/orders.csv --metrics sample-logs/_shop-data/metrics.csv
  zhijian gen --shops 20 --days 1 --sessions-per-day 2500 --seed 1 --out /tmp/1m.jsonl
  zhijian gen --replay sample-logs/date=2026-11-11/messages.jsonl --speed 60 --out /tmp/live/")]
pub struct GenArgs {
    /// Number of shops.
    #[arg(long, default_value_t = 2)]
    shops: u32,
    /// Number of consecutive days.
    #[arg(long, default_value_t = 1)]
    days: u32,
    /// Sessions per shop per day.
    #[arg(long, default_value_t = 200)]
    sessions_per_day: u32,
    /// Seed of the random generator: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// First local date.
    #[arg(long, default_value = "2026-11-11")]
    start_date: chrono::NaiveDate,
    /// File format.
    #[arg(long, value_enum, default_value_t = FormatArg::Jsonl)]
    format: FormatArg,
    /// A file (everything in one), or a folder (one `date=YYYY-MM-DD/` folder per day).
    #[arg(long, short, value_name = "FILE|DIR")]
    out: PathBuf,
    /// Also write the paid orders of these sessions (CSV: shop, order_id, customer_id,
    /// paid_at, amount), for `zhijian kpi --orders`.
    #[arg(long, value_name = "FILE", requires = "metrics")]
    orders: Option<PathBuf>,
    /// Also write platform metrics per agent and month (CSV: agent_id, month,
    /// good_reviews, reviews, complaints), for `zhijian kpi --metrics`.
    #[arg(long, value_name = "FILE", requires = "orders")]
    metrics: Option<PathBuf>,
    /// Instead of generating: write this transcript file (JSONL or CSV) into --out
    /// record by record in time order, at --speed times real time, as a live export
    /// grows (for trying `zhijian watch`).
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
    /// Replay speed: times real time (60 = a day in 24 minutes); 0 = as fast as possible.
    #[arg(long, value_name = "N", default_value_t = 60.0, requires = "replay")]
    speed: f64,
    /// Replay: log `ts_micros,unix_micros` after each flush (when records were out).
    #[arg(long, value_name = "FILE", requires = "replay")]
    replay_log: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Jsonl,
    Csv,
}

pub fn run(args: GenArgs) -> anyhow::Result<ExitCode> {
    if let Some(source) = &args.replay {
        return replay(&args, source);
    }
    if args.shops == 0 || args.days == 0 || args.sessions_per_day == 0 {
        anyhow::bail!(crate::Error::Usage(
            "--shops, --days and --sessions-per-day must be at least 1".into()
        ));
    }
    let format = match args.format {
        FormatArg::Jsonl => GenFormat::Jsonl,
        FormatArg::Csv => GenFormat::Csv,
    };
    let config = GenConfig {
        shops: args.shops,
        days: args.days,
        sessions_per_day: args.sessions_per_day,
        seed: args.seed,
        start_date: args.start_date,
        format,
    };
    // A path ending in a known file extension is a file; anything else a folder.
    let is_file = args
        .out
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "jsonl" | "csv" | "json" | "ndjson"));
    let target = if is_file {
        GenTarget::File(args.out.clone())
    } else {
        GenTarget::Dir(args.out.clone())
    };
    let started = std::time::Instant::now();
    let shop_data = match (&args.orders, &args.metrics) {
        (Some(orders), Some(metrics)) => Some(ShopDataPaths {
            orders: orders.clone(),
            metrics: metrics.clone(),
        }),
        _ => None,
    };
    let (stats, orders) = generate_with_shop_data(&config, &target, shop_data.as_ref())?;
    eprintln!(
        "zhijian: wrote {} messages in {} sessions to {} ({} files, {:.1} MB, {:.2} s)",
        stats.messages,
        stats.sessions,
        args.out.display(),
        stats.files,
        stats.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    if let Some(paths) = &shop_data {
        eprintln!(
            "zhijian: wrote {orders} orders to {} and agent metrics to {}",
            paths.orders.display(),
            paths.metrics.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn replay(args: &GenArgs, source: &std::path::Path) -> anyhow::Result<ExitCode> {
    if !(args.speed >= 0.0 && args.speed.is_finite()) {
        anyhow::bail!(crate::Error::Usage(format!(
            "--speed {}: a number >= 0",
            args.speed
        )));
    }
    let stats = crate::watch::replay::replay(&crate::watch::replay::ReplayOptions {
        source: source.to_path_buf(),
        out: args.out.clone(),
        speed: args.speed,
        log: args.replay_log.clone(),
        zones: crate::timezone::TimeZones::default(),
    })?;
    eprintln!(
        "zhijian: replayed {} records into {} in {:.1} s (at most {:.2} s behind schedule)",
        stats.records,
        args.out.display(),
        stats.seconds,
        stats.max_lag_s
    );
    Ok(ExitCode::SUCCESS)
}
