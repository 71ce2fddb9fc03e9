//! `zhijian kpi` (the month's KPI and payroll export) and `zhijian explain-kpi`
//! (how one agent's score was made).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::error::Error;
use crate::kpi::{self, KpiOptions, Month, config};

/// Monthly KPI per agent and the payroll export, from the published daily folders.
///
/// Writes OUT/kpi/month=YYYY-MM/: kpi.parquet (every figure), payroll.csv (UTF-8 with
/// BOM for Excel; one row per agent: each component's value and points, kpi_score,
/// multiplier), kpi.toml (the formula used) and manifest.json (the daily manifests,
/// orders, metrics and formula read, with sha256). Published whole, like `run`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  zhijian kpi --month 2026-11 --orders sample-logs/_shop-data/orders.csv --metrics sample-logs/_shop-data/metrics.csv --allow-missing-days
  zhijian explain-kpi --month 2026-11 --agent '云裳服饰旗舰店:小满'")]
pub struct KpiArgs {
    /// The month, YYYY-MM.
    #[arg(long)]
    month: String,
    /// Where `zhijian run` published the daily folders; the KPI goes to OUT/kpi/.
    #[arg(long, short, value_name = "DIR", default_value = "output")]
    out: PathBuf,
    /// Paid orders (CSV: shop, order_id, customer_id, paid_at, amount), for inquiry
    /// conversion and agent sales.
    #[arg(long, value_name = "FILE")]
    orders: Option<PathBuf>,
    /// Platform metrics (CSV: agent_id, month, good_reviews, reviews, complaints).
    #[arg(long, value_name = "FILE")]
    metrics: Option<PathBuf>,
    /// The KPI formula.
    #[arg(long, value_name = "FILE", default_value = "rules/kpi.toml")]
    config: PathBuf,
    /// Pay from the days there are when some days of the month have no folder.
    #[arg(long)]
    allow_missing_days: bool,
    /// Memory the month's queries may hold before they spill to disk, like 2GB
    /// (default: a quarter of the machine's memory, at most 2 GB).
    #[arg(long, value_name = "SIZE", value_parser = super::args::parse_size)]
    memory_limit: Option<u64>,
}

pub fn run(args: KpiArgs) -> anyhow::Result<ExitCode> {
    let month = Month::parse(&args.month)?;
    let config = config::load(&args.config).map_err(|problems| {
        Error::Usage(format!(
            "the KPI formula has {} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        ))
    })?;
    let options = KpiOptions {
        out: args.out,
        month,
        orders: args.orders,
        metrics: args.metrics,
        config,
        allow_missing_days: args.allow_missing_days,
        memory_limit: args
            .memory_limit
            .unwrap_or_else(crate::pipeline::default_memory_limit),
    };
    let report = super::runtime()?.block_on(kpi::run(&options))?;
    for line in &report.cleaned {
        eprintln!("zhijian: {line}");
    }
    if !report.missing_days.is_empty() {
        let list: Vec<String> = report.missing_days.iter().map(|d| d.to_string()).collect();
        eprintln!(
            "zhijian: warning: {} days without a published folder are not counted: {}",
            list.len(),
            list.join(", ")
        );
    }
    let no_data = report
        .agents
        .iter()
        .filter(|a| !a.no_data(&options.config).is_empty())
        .count();
    println!(
        "zhijian kpi: {} agents from {} daily folders → {}{}",
        report.agents.len(),
        report.days_read,
        report.folder.join("payroll.csv").display(),
        if no_data > 0 {
            format!(" ({no_data} with a component without data: see the no_data column)")
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// How one agent's KPI was made: components with their inputs, the days, and the
/// violations that cost the most QA points.
#[derive(Debug, Args)]
pub struct ExplainKpiArgs {
    /// The month, YYYY-MM.
    #[arg(long)]
    month: String,
    /// The agent id, as in scorecards.csv.
    #[arg(long)]
    agent: String,
    /// Where the daily folders and OUT/kpi/ are.
    #[arg(long, short, value_name = "DIR", default_value = "output")]
    out: PathBuf,
}

pub fn explain(args: ExplainKpiArgs) -> anyhow::Result<ExitCode> {
    let month = Month::parse(&args.month)?;
    print!("{}", kpi::explain::explain(&args.out, month, &args.agent)?);
    Ok(ExitCode::SUCCESS)
}
