//! `zhijian explain-kpi`: how one agent's score was made, from the published KPI
//! folder and the daily folders it read. Payroll disputes are answered from this.

use std::fmt::Write as _;
use std::path::Path;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::config::{self, Metric, Multiplier};
use super::month::{self, Month};
use super::month_folder;
use crate::engine;
use crate::error::{Error, Result};
use crate::timezone::TimeZones;

/// How many of the costliest violations are listed.
const TOP_VIOLATIONS: usize = 10;

fn read(path: &Path) -> Result<Vec<RecordBatch>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    Ok(ParquetRecordBatchReaderBuilder::try_new(file)?
        .build()?
        .collect::<Result<_, _>>()?)
}

/// The cells of a published table's batch, by column name; a column the file
/// does not have reads as empty.
struct Rows<'a> {
    columns: engine::decode::Columns<'a>,
}

impl<'a> Rows<'a> {
    fn of(batch: &'a RecordBatch) -> Self {
        Self {
            columns: engine::columns(batch),
        }
    }
    fn text(&self, name: &str, row: usize) -> String {
        self.columns
            .text(name)
            .map(|c| c.or_empty(row).to_string())
            .unwrap_or_default()
    }
    fn float(&self, name: &str, row: usize) -> Option<f64> {
        self.columns.float(name).ok()?.get(row)
    }
    fn int(&self, name: &str, row: usize) -> Option<i64> {
        self.columns.int(name).ok()?.get(row)
    }
}

fn num(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "no data".to_string(), |v| format!("{v:.decimals$}"))
}

/// The explanation of `agent`'s KPI for `month` under `out`.
pub fn explain(out: &Path, month: Month, agent: &str) -> Result<String> {
    let folder = month_folder(out, month);
    if !folder.join("kpi.parquet").exists() {
        return Err(Error::NothingToPublish(format!(
            "no KPI for {} in {}: run `zhijian kpi --month {}` first",
            month.label(),
            folder.display(),
            month.label()
        )));
    }
    let config = config::load(&folder.join("kpi.toml")).map_err(|p| Error::Usage(p.join("\n")))?;
    let mut text = String::new();
    let mut found = false;
    for batch in read(&folder.join("kpi.parquet"))? {
        let rows = Rows::of(&batch);
        for row in 0..batch.num_rows() {
            if rows.text("agent_id", row) != agent {
                continue;
            }
            found = true;
            explain_row(&mut text, &rows, row, &config, month);
        }
    }
    if !found {
        return Err(Error::Usage(format!(
            "agent {agent:?} has no KPI row in {}: check the id (as in scorecards.csv, e.g. 店名:昵称)",
            folder.join("payroll.csv").display()
        )));
    }
    let (days, _) = month::find_days(out, month)?;
    explain_days(&mut text, &days, agent)?;
    let zones = month::zones_of(&days)?;
    explain_violations(&mut text, &days, agent, &zones)?;
    Ok(text)
}

fn explain_row(text: &mut String, rows: &Rows, row: usize, config: &config::KpiConfig, month: Month) {
    let score = rows.float("kpi_score", row);
    let _ = writeln!(
        text,
        "KPI {} for {} ({}): score {} → multiplier {}",
        month.label(),
        rows.text("agent_id", row),
        rows.text("shop", row),
        num(score, 2),
        num(rows.float("multiplier", row), 4)
    );
    if let Some(score) = score {
        let tier = config
            .payout
            .iter()
            .find(|t| score >= t.min_score)
            .or(config.payout.last());
        if let Some(tier) = tier {
            let paid = match tier.multiplier {
                Multiplier::Fixed(m) => format!("{m}"),
                Multiplier::ScoreShare => "score/100".to_string(),
            };
            let _ = writeln!(text, "  payout tier: score ≥ {} pays {paid}", tier.min_score);
        }
    }
    let _ = writeln!(
        text,
        "  {} days worked, {} sessions, {} messages, {} rounds answered\n\ncomponents (kpi_score = Σ weight × points / Σ weight of those with data):",
        rows.int("days_worked", row).unwrap_or(0),
        rows.int("sessions", row).unwrap_or(0),
        rows.int("agent_msgs", row).unwrap_or(0),
        rows.int("rounds", row).unwrap_or(0)
    );
    let total: f64 = config.components.iter().map(|c| c.weight).sum();
    for c in &config.components {
        let value = rows.float(c.metric.name(), row);
        let points = rows.float(&format!("{}_points", c.metric.name()), row);
        let _ = writeln!(
            text,
            "  {:<22} weight {:>5.1} %  value {:>10}  → points {:>7}   from {}",
            format!(
                "{} {}",
                c.name,
                if c.name == c.metric.name() {
                    ""
                } else {
                    c.metric.name()
                }
            )
            .trim(),
            100.0 * c.weight / total,
            num(value, 4),
            num(points, 2),
            inputs_of(rows, row, c.metric)
        );
    }
}

/// What a component's value was computed from.
fn inputs_of(rows: &Rows, row: usize, metric: Metric) -> String {
    let int = |n: &str| rows.int(n, row).map_or("no data".to_string(), |v| v.to_string());
    match metric {
        Metric::ResponseAvgS | Metric::ResponseP90S | Metric::Within30sRate | Metric::Within180sRate => {
            format!(
                "{} rounds, average {} s, p90 {} s",
                int("rounds"),
                num(rows.float("response_avg_s", row), 1),
                num(rows.float("response_p90_s", row), 1)
            )
        }
        Metric::FirstResponseAvgS => format!(
            "first rounds of its sessions, average {} s",
            num(rows.float(metric.name(), row), 1)
        ),
        Metric::QaScore => format!(
            "mean score of {} sessions ({} violations, {} critical)",
            int("sessions"),
            int("violations"),
            int("critical_sessions")
        ),
        Metric::InquiryConversion => {
            format!(
                "{} of {} inquiries converted",
                int("converted_inquiries"),
                int("inquiries")
            )
        }
        Metric::AgentSales => format!("{} orders credited", int("orders")),
        Metric::GoodReviewRate => format!(
            "{} good of {} reviews (metrics.csv)",
            int("good_reviews"),
            int("reviews")
        ),
        Metric::Complaints => "metrics.csv".to_string(),
        Metric::Unanswered | Metric::Violations | Metric::CriticalSessions => {
            "the daily scorecards".to_string()
        }
    }
}

fn explain_days(text: &mut String, days: &[month::Day], agent: &str) -> Result<()> {
    let _ = writeln!(text, "\ndays (scorecards.csv of each date folder):");
    for day in days {
        for batch in read(&day.folder.join("scorecards.parquet"))? {
            let rows = Rows::of(&batch);
            for row in 0..batch.num_rows() {
                if rows.text("agent_id", row) != agent {
                    continue;
                }
                let _ = writeln!(
                    text,
                    "  {}  {:>3} sessions  qa {:>6}  {:>4} rounds avg {:>7} s  {} violations  ({})",
                    day.date,
                    rows.int("sessions", row).unwrap_or(0),
                    num(rows.float("qa_score", row), 2),
                    rows.int("rounds", row).unwrap_or(0),
                    num(rows.float("response_avg_s", row), 1),
                    rows.int("violations", row).unwrap_or(0),
                    day.folder.display()
                );
            }
        }
    }
    Ok(())
}

fn explain_violations(text: &mut String, days: &[month::Day], agent: &str, zones: &TimeZones) -> Result<()> {
    let mut hits: Vec<(f64, String)> = Vec::new();
    for day in days {
        for batch in read(&day.folder.join("violations.parquet"))? {
            let rows = Rows::of(&batch);
            let ts = batch
                .schema()
                .index_of("ts")
                .ok()
                .map(|i| batch.column(i).as_primitive::<TimestampMicrosecondType>().clone());
            for row in 0..batch.num_rows() {
                if rows.text("agent_id", row) != agent {
                    continue;
                }
                let cost = rows.float("deduct", row).unwrap_or(0.0) - rows.float("bonus", row).unwrap_or(0.0);
                let zone = zones.for_shop(&rows.text("shop", row));
                let when = ts
                    .as_ref()
                    .filter(|t| !t.is_null(row))
                    .and_then(|t| chrono::DateTime::from_timestamp_micros(t.value(row)))
                    .map(|t| t.with_timezone(&zone).format("%H:%M:%S").to_string())
                    .unwrap_or_default();
                let line = format!(
                    "  -{cost:<5} {} [{}] {} {} session {} msg {}: {}",
                    rows.text("rule_id", row),
                    rows.text("severity", row),
                    day.date,
                    when,
                    rows.text("session_id", row),
                    rows.text("msg_id", row),
                    rows.text("evidence", row).chars().take(60).collect::<String>()
                );
                hits.push((cost, line));
            }
        }
    }
    // Costliest first; ties in the order of the files (date, session, time).
    hits.sort_by(|a, b| b.0.total_cmp(&a.0));
    let _ = writeln!(
        text,
        "\nviolations that cost the most QA points ({} in the month, top {}):",
        hits.len(),
        TOP_VIOLATIONS.min(hits.len())
    );
    for (_, line) in hits.iter().take(TOP_VIOLATIONS) {
        let _ = writeln!(text, "{line}");
    }
    Ok(())
}
