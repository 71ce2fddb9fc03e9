//! The KPI's two files: `kpi.parquet` (every figure at full precision) and
//! `payroll.csv` (UTF-8 with a BOM so Excel shows Chinese; rounded for people).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;

use super::compute::AgentMonth;
use super::config::{KpiConfig, Metric};
use crate::dataset::writer_properties;
use crate::error::{Error, Result};

pub const NO_DATA: &str = "no data";

fn int(name: &str, values: Vec<i64>) -> (Field, ArrayRef) {
    (
        Field::new(name, DataType::Int64, false),
        Arc::new(Int64Array::from(values)),
    )
}

fn opt_int(name: &str, values: Vec<Option<i64>>) -> (Field, ArrayRef) {
    (
        Field::new(name, DataType::Int64, true),
        Arc::new(Int64Array::from(values)),
    )
}

fn float(name: &str, values: Vec<Option<f64>>) -> (Field, ArrayRef) {
    (
        Field::new(name, DataType::Float64, true),
        Arc::new(Float64Array::from(values)),
    )
}

fn text(name: &str, values: Vec<String>) -> (Field, ArrayRef) {
    (
        Field::new(name, DataType::Utf8, false),
        Arc::new(StringArray::from(values)),
    )
}

/// One row per agent: every figure of the month, then each component's points.
pub fn write_kpi_parquet(path: &Path, month: &str, agents: &[AgentMonth], config: &KpiConfig) -> Result<u64> {
    let col = |f: &dyn Fn(&AgentMonth) -> Option<f64>| agents.iter().map(f).collect::<Vec<_>>();
    let ints = |f: &dyn Fn(&AgentMonth) -> i64| agents.iter().map(f).collect::<Vec<_>>();
    let opt_ints = |f: &dyn Fn(&AgentMonth) -> Option<i64>| agents.iter().map(f).collect::<Vec<_>>();
    let mut columns = vec![
        text("month", vec![month.to_string(); agents.len()]),
        text("shop", agents.iter().map(|a| a.shop.clone()).collect()),
        text("agent_id", agents.iter().map(|a| a.agent_id.clone()).collect()),
        int("days_worked", ints(&|a| a.days_worked)),
        int("sessions", ints(&|a| a.sessions)),
        int("agent_msgs", ints(&|a| a.agent_msgs)),
        int("rounds", ints(&|a| a.rounds)),
        float("first_response_avg_s", col(&|a| a.first_response_avg_s)),
        float("response_avg_s", col(&|a| a.response_avg_s)),
        float("response_p90_s", col(&|a| a.response_p90_s)),
        float("within_30s_rate", col(&|a| a.within_30s_rate)),
        float("within_180s_rate", col(&|a| a.within_180s_rate)),
        float("qa_score", col(&|a| a.qa_score)),
        int("unanswered", ints(&|a| a.unanswered)),
        int("violations", ints(&|a| a.violations)),
        int("critical_sessions", ints(&|a| a.critical_sessions)),
        opt_int("inquiries", opt_ints(&|a| a.inquiries)),
        opt_int("converted_inquiries", opt_ints(&|a| a.converted_inquiries)),
        float("inquiry_conversion", col(&|a| a.value(Metric::InquiryConversion))),
        opt_int("orders", opt_ints(&|a| a.orders)),
        float("agent_sales", col(&|a| a.agent_sales)),
        opt_int("reviews", opt_ints(&|a| a.platform.map(|p| p.reviews as i64))),
        opt_int(
            "good_reviews",
            opt_ints(&|a| a.platform.map(|p| p.good_reviews as i64)),
        ),
        float("good_review_rate", col(&|a| a.value(Metric::GoodReviewRate))),
        opt_int(
            "complaints",
            opt_ints(&|a| a.platform.map(|p| p.complaints as i64)),
        ),
    ];
    for (k, component) in config.components.iter().enumerate() {
        let name = format!("{}_points", component.metric.name());
        columns.push(float(&name, col(&|a| a.components[k].map(|(_, p)| p))));
    }
    columns.push(float("kpi_score", col(&|a| a.kpi_score)));
    columns.push(float("multiplier", col(&|a| a.multiplier)));
    columns.push(text(
        "no_data",
        agents.iter().map(|a| a.no_data(config).join(",")).collect(),
    ));
    let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = columns.into_iter().unzip();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut writer = ArrowWriter::try_new(file, schema, Some(writer_properties()))?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(agents.len() as u64)
}

/// Decimals shown in payroll.csv for a metric's value.
fn decimals(metric: Metric) -> usize {
    match metric {
        Metric::Within30sRate
        | Metric::Within180sRate
        | Metric::InquiryConversion
        | Metric::GoodReviewRate => 4,
        Metric::Unanswered | Metric::Violations | Metric::CriticalSessions | Metric::Complaints => 0,
        _ => 2,
    }
}

fn shown(value: Option<f64>, decimals: usize) -> String {
    match value {
        Some(v) => format!("{v:.decimals$}"),
        None => NO_DATA.to_string(),
    }
}

/// The header of payroll.csv for `config`: fixed columns, then per component its
/// value and points, then the score, the multiplier and what had no data.
pub fn payroll_header(config: &KpiConfig) -> Vec<String> {
    let mut header: Vec<String> = ["month", "shop", "agent_id", "days_worked", "sessions"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for c in &config.components {
        header.push(c.metric.name().to_string());
        header.push(format!("{}_points", c.metric.name()));
    }
    header.extend(["kpi_score", "multiplier", "no_data"].map(String::from));
    header
}

pub fn write_payroll_csv(path: &Path, month: &str, agents: &[AgentMonth], config: &KpiConfig) -> Result<()> {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut bytes);
        let io = |e: csv::Error| Error::io(path, std::io::Error::other(e));
        writer.write_record(payroll_header(config)).map_err(io)?;
        for a in agents {
            let mut row = vec![
                month.to_string(),
                a.shop.clone(),
                a.agent_id.clone(),
                a.days_worked.to_string(),
                a.sessions.to_string(),
            ];
            for (c, scored) in config.components.iter().zip(&a.components) {
                row.push(shown(scored.map(|(v, _)| v), decimals(c.metric)));
                row.push(shown(scored.map(|(_, p)| p), 2));
            }
            row.push(shown(a.kpi_score, 2));
            row.push(shown(a.multiplier, 4));
            row.push(a.no_data(config).join(" "));
            writer.write_record(&row).map_err(io)?;
        }
        writer.flush().map_err(|e| Error::io(path, e))?;
    }
    let mut file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    file.write_all(&bytes).map_err(|e| Error::io(path, e))
}
