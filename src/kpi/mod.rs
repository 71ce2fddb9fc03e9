//! The monthly KPI and payroll export (design §8): the month's published daily
//! folders, the shop's orders and platform metrics, and `rules/kpi.toml` give one
//! row per agent with each component's value and points, the KPI score and the
//! commission multiplier, published whole under `OUT/kpi/month=YYYY-MM/`.

pub mod compute;
pub mod config;
pub mod explain;
pub mod inputs;
pub mod month;
mod payroll;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::prelude::SessionContext;
use serde::Serialize;

use crate::engine;
use crate::error::{Error, Result};
use crate::outputs::manifest::{OutputEntry, Tool, output_entry, sha256_file};
use crate::outputs::publisher::Publisher;
use crate::schema::{INQUIRIES, ROUNDS_OUTPUT, SCORECARDS};
pub use compute::AgentMonth;
pub use config::KpiConfig;
pub use month::Month;

#[derive(Debug, Clone)]
pub struct KpiOptions {
    /// Where the daily folders are, and where `kpi/month=YYYY-MM/` goes.
    pub out: PathBuf,
    pub month: Month,
    pub orders: Option<PathBuf>,
    pub metrics: Option<PathBuf>,
    pub config: KpiConfig,
    pub allow_missing_days: bool,
    /// Bytes the month's queries may hold before they spill to disk.
    pub memory_limit: u64,
}

#[derive(Debug, Clone)]
pub struct KpiReport {
    pub folder: PathBuf,
    /// What was cleaned up after an interrupted earlier run, for the log.
    pub cleaned: Vec<String>,
    pub agents: Vec<AgentMonth>,
    pub days_read: usize,
    pub missing_days: Vec<NaiveDate>,
}

/// The folder of a month's KPI under `out`.
pub fn month_folder(out: &Path, month: Month) -> PathBuf {
    out.join("kpi").join(month_name(month))
}

fn month_name(month: Month) -> String {
    format!("month={}", month.label())
}

pub async fn run(options: &KpiOptions) -> Result<KpiReport> {
    let month = options.month;
    let (days, missing) = month::find_days(&options.out, month)?;
    if days.is_empty() {
        return Err(Error::NothingToPublish(format!(
            "no daily folders of {} in {}: run `zhijian run` for the month first",
            month.label(),
            options.out.display()
        )));
    }
    if !missing.is_empty() && !options.allow_missing_days {
        let list: Vec<String> = missing.iter().map(|d| d.to_string()).collect();
        return Err(Error::Usage(format!(
            "{} days of {} have no published folder in {}: {}. Run `zhijian run` for them, \
             or pass --allow-missing-days to pay from the days there are",
            missing.len(),
            month.label(),
            options.out.display(),
            list.join(", ")
        )));
    }
    for (needs, flag, given) in [
        (config::Source::Orders, "--orders", options.orders.is_some()),
        (config::Source::Metrics, "--metrics", options.metrics.is_some()),
    ] {
        if options.config.needs(needs) && !given {
            let metrics: Vec<&str> = options
                .config
                .components
                .iter()
                .filter(|c| c.metric.source() == needs)
                .map(|c| c.metric.name())
                .collect();
            return Err(Error::Usage(format!(
                "{} scores {}, which needs {flag} FILE",
                options.config.path.display(),
                metrics.join(", ")
            )));
        }
    }
    let zones = month::zones_of(&days)?;
    // The month's tables stay in their files: a month of 10M-message days has
    // far more rounds than memory.
    let ctx = engine::new_bounded_context(engine::default_partitions(), options.memory_limit)?;
    let scorecard_files = month::table_files(&days, "scorecards")?;
    engine::register_parquet(&ctx, "scorecards", &scorecard_files, &SCORECARDS).await?;
    let round_files = month::table_files(&days, "rounds")?;
    engine::register_parquet(&ctx, "rounds", &round_files, &ROUNDS_OUTPUT).await?;
    let mut inquiry_files = month::table_files(&days, "inquiries")?;
    engine::register_parquet(&ctx, "inquiries", &inquiry_files, &INQUIRIES).await?;
    let next_day = month::day_after(month)
        .map(|d| month::read_day(&options.out, d))
        .transpose()?
        .flatten();
    if let Some(next) = &next_day {
        inquiry_files.extend(month::table_files(std::slice::from_ref(next), "inquiries")?);
    }
    engine::register_parquet(&ctx, "all_inquiries", &inquiry_files, &INQUIRIES).await?;
    let mut order_rows = None;
    if let Some(path) = &options.orders {
        let orders = inputs::read_orders(path, &zones)?;
        order_rows = Some(orders.num_rows() as u64);
        register(&ctx, "orders", &orders.schema(), vec![orders])?;
    }
    let mut metric_rows = BTreeMap::new();
    if let Some(path) = &options.metrics {
        metric_rows = inputs::read_metrics(path, &month.label())?;
    }
    let metrics = metric_rows.iter().map(|(a, (_, m))| (a.clone(), *m)).collect();
    let agents = compute::agent_months(&ctx, options.orders.is_some(), &metrics, &options.config).await?;
    if let Some(path) = &options.metrics {
        let unknown: Vec<String> = metric_rows
            .iter()
            .filter(|(agent, _)| !agents.iter().any(|a| &a.agent_id == *agent))
            .map(|(agent, (line, _))| {
                format!(
                    "{}:{line}: agent {agent:?} has no sessions in {}",
                    path.display(),
                    month.label()
                )
            })
            .collect();
        if !unknown.is_empty() {
            return Err(Error::Input {
                path: path.clone(),
                message: format!(
                    "rows for agents the month does not know (a typo in agent_id?); fix or remove them:\n  {}",
                    unknown.join("\n  ")
                ),
            });
        }
    }

    crate::failpoint!("kpi::after-read");
    let (publisher, cleaned) = Publisher::open(&options.out.join("kpi"))?;
    let built = publisher.stage_folder(&month_name(month))?;
    let staging = built.path();
    let kpi_rows = payroll::write_kpi_parquet(
        &staging.join("kpi.parquet"),
        &month.label(),
        &agents,
        &options.config,
    )?;
    payroll::write_payroll_csv(
        &staging.join("payroll.csv"),
        &month.label(),
        &agents,
        &options.config,
    )?;
    crate::failpoint!("kpi::payroll-written");
    std::fs::copy(&options.config.path, staging.join("kpi.toml"))
        .map_err(|e| Error::io(&options.config.path, e))?;
    let outputs = vec![
        output_entry(staging, "kpi.parquet", Some(kpi_rows))?,
        output_entry(staging, "payroll.csv", Some(agents.len() as u64))?,
        output_entry(staging, "kpi.toml", None)?,
    ];
    let manifest = KpiManifest {
        tool: Tool::this(),
        status: "complete",
        month: month.label(),
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        config: file_entry(&options.config.path, None)?,
        orders: options
            .orders
            .as_deref()
            .map(|p| file_entry(p, order_rows))
            .transpose()?,
        metrics: options
            .metrics
            .as_deref()
            .map(|p| file_entry(p, Some(metric_rows.len() as u64)))
            .transpose()?,
        daily: month::manifest_list(&days)
            .into_iter()
            .map(|(date, (manifest, sha256))| DailyEntry {
                date,
                manifest,
                sha256,
            })
            .collect(),
        next_day: next_day.as_ref().map(|d| d.date.to_string()),
        missing_days: missing.iter().map(|d| d.to_string()).collect(),
        agents: agents.len() as u64,
        outputs,
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| Error::Internal(e.to_string()))? + "\n";
    let manifest_path = staging.join("manifest.json");
    std::fs::write(&manifest_path, text).map_err(|e| Error::io(&manifest_path, e))?;
    let folder = publisher.publish(built)?;
    Ok(KpiReport {
        folder,
        cleaned,
        agents,
        days_read: days.len(),
        missing_days: missing,
    })
}

fn register(
    ctx: &SessionContext,
    name: &str,
    schema: &datafusion::arrow::datatypes::SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<()> {
    let table = MemTable::try_new(schema.clone(), vec![batches])?;
    ctx.register_table(name, Arc::new(table))?;
    Ok(())
}

#[derive(Debug, Serialize)]
struct KpiManifest {
    tool: Tool,
    status: &'static str,
    month: String,
    generated_at: String,
    config: FileEntry,
    orders: Option<FileEntry>,
    metrics: Option<FileEntry>,
    daily: Vec<DailyEntry>,
    /// The day after the month, read for the last closer of orders paid on its last day.
    next_day: Option<String>,
    missing_days: Vec<String>,
    agents: u64,
    outputs: Vec<OutputEntry>,
}

#[derive(Debug, Serialize)]
struct FileEntry {
    path: String,
    sha256: String,
    rows: Option<u64>,
}

#[derive(Debug, Serialize)]
struct DailyEntry {
    date: String,
    manifest: String,
    sha256: String,
}

fn file_entry(path: &Path, rows: Option<u64>) -> Result<FileEntry> {
    Ok(FileEntry {
        path: path.display().to_string(),
        sha256: sha256_file(path)?,
        rows,
    })
}
