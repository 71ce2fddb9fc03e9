//! `zhijian run`: the nightly job. Scores every conversation of the inputs and
//! publishes one folder per session date under `--out`.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{Days, NaiveDate};
use clap::Args;

use super::args::InputArgs;
use crate::error::Error;
use crate::nightly::{self, RunOptions, RunReport};
use crate::pipeline::DateRange;

/// Score every conversation and publish OUT/date=YYYY-MM-DD/ per session date.
///
/// Each date folder holds violations.parquet, rounds.parquet, scorecards.parquet,
/// scorecards.csv, rule_hits.parquet, rejects.jsonl and manifest.json. It is built
/// aside and swapped in whole: readers never see half a folder, and a re-run of a
/// date replaces it. One run at a time per OUT (a lock file; a stale one is taken over).
#[derive(Debug, Args)]
#[command(after_help = "\
Exit codes: 0 done; 1 failed, nothing published; 2 bad command line or rule pack;
3 too many rejects (more than --max-reject-ratio), nothing published, rejects in OUT/_rejects/.

Examples:
  zhijian run
  zhijian run --input /data/exports/ --date yesterday --out /data/qa/
  zhijian run --input dataset/ --from 2026-11-01 --to 2026-11-07 --quiet")]
pub struct RunArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The rule pack folder.
    #[arg(long, value_name = "DIR", default_value = "rules")]
    rules: PathBuf,
    /// Where the date folders are published.
    #[arg(long, short, value_name = "DIR", default_value = "output")]
    out: PathBuf,
    /// Only sessions of this date: YYYY-MM-DD, `yesterday` or `today` (in --timezone).
    #[arg(long, value_name = "DATE", conflicts_with_all = ["from", "to"])]
    date: Option<String>,
    /// First session date (with --to).
    #[arg(long, requires = "to")]
    from: Option<NaiveDate>,
    /// Last session date (with --from).
    #[arg(long, requires = "from")]
    to: Option<NaiveDate>,
    /// Refuse to publish when more than this share of the records is rejected.
    #[arg(long, value_name = "RATIO", default_value_t = 0.01)]
    max_reject_ratio: f64,
    /// No progress and no summary; errors only.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let zones = args.input.zones()?;
    if !(0.0..=1.0).contains(&args.max_reject_ratio) {
        anyhow::bail!(Error::Usage(format!(
            "--max-reject-ratio {}: give a share between 0 and 1 (0.01 = 1 %)",
            args.max_reject_ratio
        )));
    }
    let today = chrono::Utc::now()
        .with_timezone(&zones.default_zone())
        .date_naive();
    let dates = match (&args.date, args.from, args.to) {
        (Some(date), _, _) => Some(DateRange::single(parse_date(date, today)?)),
        (None, Some(from), Some(to)) if from <= to => Some(DateRange { from, to }),
        (None, Some(from), Some(to)) => {
            anyhow::bail!(Error::Usage(format!("--from {from} is after --to {to}")))
        }
        _ => None,
    };
    let options = RunOptions {
        inputs: args.input.input.clone(),
        out: args.out.clone(),
        dates,
        zones,
        max_reject_ratio: args.max_reject_ratio,
        memory_limit: args.input.memory_limit(),
    };
    let progress = super::progress::for_stderr(args.quiet);
    let report = super::runtime()?.block_on(async {
        let pack = super::load_pack(&args.rules, &[]).await?;
        anyhow::Ok(nightly::run(&options, &pack, progress.as_ref()).await?)
    })?;
    if !args.quiet {
        print_summary(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_date(text: &str, today: NaiveDate) -> Result<NaiveDate, Error> {
    match text {
        "today" => Ok(today),
        "yesterday" => today
            .checked_sub_days(Days::new(1))
            .ok_or_else(|| Error::Usage("--date yesterday: out of range".into())),
        _ => text.parse().map_err(|_| {
            Error::Usage(format!(
                "--date {text:?}: give a date as YYYY-MM-DD, `yesterday` or `today`"
            ))
        }),
    }
}

fn print_summary(report: &RunReport) {
    let total = report.total();
    let dates: Vec<String> = report.dates.iter().map(|(d, _)| d.to_string()).collect();
    let severities: Vec<String> = ["critical", "major", "minor"]
        .iter()
        .map(|s| {
            format!(
                "{s} {}",
                total.violations_by_severity.get(*s).copied().unwrap_or(0)
            )
        })
        .collect();
    println!(
        "zhijian run: published {} date folder(s) in {} ({})",
        dates.len(),
        report.out.display(),
        dates.join(", ")
    );
    println!(
        "  {} sessions, {} messages, {} rounds; {} records read from {} file(s), {} rejected, {} duplicates",
        total.sessions,
        total.messages,
        total.rounds,
        report.records_read,
        report.files_read,
        report.rejects,
        report.duplicates
    );
    println!(
        "  {} violations ({}); {:.2} s",
        total.violations,
        severities.join(", "),
        report.elapsed.as_secs_f64()
    );
    if report.units > 1 {
        println!(
            "  worked in {} units of shops to stay within the memory limit",
            report.units
        );
    }
    for date in &report.missing_dates {
        println!("  no sessions dated {date}: nothing published for it");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_dates() {
        let today: NaiveDate = "2026-11-23".parse().unwrap();
        assert_eq!(parse_date("yesterday", today).unwrap().to_string(), "2026-11-22");
        assert_eq!(parse_date("today", today).unwrap(), today);
        assert_eq!(parse_date("2026-11-11", today).unwrap().to_string(), "2026-11-11");
        assert!(parse_date("11/11/2026", today).is_err());
    }
}
