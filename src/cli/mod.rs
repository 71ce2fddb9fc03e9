//! The command line: parses flags into options and calls the library. One file
//! per command; exit codes are documented in `--help` and the README.

mod args;
mod check;
mod forecast;
mod generate;
mod ingest;
mod kpi;
mod progress;
mod report;
mod rules;
mod run;
mod sql;
mod watch;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code: bad command line or rule pack.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: the job failed; nothing was published.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: too many rejected records; nothing was published.
pub const EXIT_REJECTS: u8 = 3;

const AFTER_HELP: &str = "\
Exit codes: 0 done; 1 failed (nothing published, or a rule test failed);
2 bad command line or rule pack; 3 too many rejected records (run), nothing published.

Examples:
  zhijian run --input exports/ --date yesterday --out output/
  zhijian kpi --month 2026-11 --orders orders.csv --metrics metrics.csv
  zhijian gen --shops 2 --days 2 --sessions-per-day 300 --seed 7 --out sample-logs/
  zhijian sql \"SELECT agent_id, count(*), avg(latency_s) FROM rounds GROUP BY 1 ORDER BY 1\"
  zhijian rules test
  zhijian check banned-offplatform --date 2026-11-11
  zhijian ingest --input exports/ --out dataset/";

/// zhijian (质检): full-coverage quality inspection of customer-service chats.
#[derive(Debug, Parser)]
#[command(name = "zhijian", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Run(run::RunArgs),
    Kpi(kpi::KpiArgs),
    ExplainKpi(kpi::ExplainKpiArgs),
    Report(report::ReportArgs),
    Sql(sql::SqlArgs),
    Check(check::CheckArgs),
    Rules(rules::RulesArgs),
    Ingest(ingest::IngestArgs),
    Gen(generate::GenArgs),
    Forecast(forecast::ForecastArgs),
    Watch(watch::WatchArgs),
}

/// Runs the command line; `main` only returns this.
pub fn main() -> ExitCode {
    #[cfg(feature = "failpoints")]
    let _failpoints = crate::failpoint::setup();
    survive_file_size_limits();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let outcome = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Kpi(args) => kpi::run(args),
        Command::ExplainKpi(args) => kpi::explain(args),
        Command::Report(args) => report::run(args),
        Command::Sql(args) => sql::run(args),
        Command::Check(args) => check::run(args),
        Command::Rules(args) => rules::run(args),
        Command::Ingest(args) => ingest::run(args),
        Command::Gen(args) => generate::run(args),
        Command::Forecast(args) => forecast::run(args),
        Command::Watch(args) => watch::run(args),
    };
    match outcome {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "zhijian: error: {err}");
            ExitCode::from(exit_code(&err))
        }
    }
}

use crate::error as zhijian_error;

/// Past a file-size limit (`ulimit -f`) the kernel sends SIGXFSZ, which kills the
/// process without a word. With a handler installed, the write fails with EFBIG
/// instead, and the command reports which file it could not write.
fn survive_file_size_limits() {
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let _ = signal_hook::flag::register(signal_hook::consts::SIGXFSZ, seen);
}

fn exit_code(err: &anyhow::Error) -> u8 {
    match err.downcast_ref::<zhijian_error::Error>() {
        Some(zhijian_error::Error::Usage(_) | zhijian_error::Error::RulePack(_)) => EXIT_USAGE,
        Some(zhijian_error::Error::TooManyRejects { .. }) => EXIT_REJECTS,
        _ => EXIT_FAILED,
    }
}

/// `zhijian sql ... | head` closes the pipe early; that is not a failure.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// A tokio runtime for the DataFusion parts of a command.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

/// Loads the rule pack in `dir` (plus draft rule files) and plans every rule's
/// query, so all of the pack's problems surface together (exit code 2).
async fn load_pack(
    dir: &std::path::Path,
    drafts: &[std::path::PathBuf],
) -> anyhow::Result<crate::rules::RulePack> {
    let pack = crate::rules::load(dir, drafts).map_err(zhijian_error::Error::RulePack)?;
    let issues = crate::rules::check_queries(&pack).await;
    if !issues.is_empty() {
        return Err(zhijian_error::Error::RulePack(issues).into());
    }
    Ok(pack)
}
