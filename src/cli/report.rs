//! `zhijian report --month`: the month overview page.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::kpi::Month;
use crate::outputs::publisher::Publisher;
use crate::report;

/// A month overview as one self-contained HTML page: daily QA score and response
/// time per team and per agent, and the KPI ranking when `zhijian kpi` has run.
///
/// Writes OUT/report/month=YYYY-MM/report.html (day reports are in each date folder).
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  zhijian report --month 2026-11")]
pub struct ReportArgs {
    /// The month, YYYY-MM.
    #[arg(long)]
    month: String,
    /// Where the daily folders are; the report goes to OUT/report/.
    #[arg(long, short, value_name = "DIR", default_value = "output")]
    out: PathBuf,
}

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let month = Month::parse(&args.month)?;
    let html = report::month::render(&args.out, month)?;
    let (publisher, cleaned) = Publisher::open(&args.out.join("report"))?;
    for line in &cleaned {
        eprintln!("zhijian: {line}");
    }
    let staging = publisher.stage_folder(&format!("month={}", month.label()))?;
    let path = staging.path().join("report.html");
    std::fs::write(&path, html).map_err(|e| crate::Error::io(&path, e))?;
    let target = publisher.publish(staging)?;
    println!("zhijian report: {}", target.join("report.html").display());
    Ok(ExitCode::SUCCESS)
}
