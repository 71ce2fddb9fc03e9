//! `zhijian sql`: a read-only query over the views, printed as a table, CSV or JSON.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use datafusion::arrow::array::RecordBatch;

use super::args::InputArgs;
use crate::engine;
use crate::pipeline::{Scratch, whole_views};

/// Run a read-only SQL query over the views.
///
/// Views: messages, rounds, sessions, agent_sessions (see the README for their
/// columns). Only SELECT is allowed.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  zhijian sql \"SELECT agent_id, count(*), avg(latency_s) FROM rounds WHERE responder_role = 'agent' GROUP BY 1 ORDER BY 1\"
  zhijian sql --input exports/ --format csv \"SELECT * FROM sessions\" > sessions.csv
  zhijian sql \"DESCRIBE rounds\"
  zhijian sql \"SELECT text, zj_matches(text, 'offplatform') FROM messages WHERE zj_contains_any(text, 'offplatform')\"")]
pub struct SqlArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
    /// The rule pack whose lexicons `zj_contains_any` and `zj_matches` look up.
    #[arg(long, value_name = "DIR", default_value = "rules")]
    rules: std::path::PathBuf,
    /// The query.
    query: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    Table,
    Csv,
    /// JSON Lines: one object per row.
    Json,
}

pub fn run(args: SqlArgs) -> anyhow::Result<ExitCode> {
    let plan = args.input.plan(None)?;
    let batches = super::runtime()?.block_on(async {
        // The zj_* functions work without a pack; its lexicons are a bonus.
        let pack = crate::rules::load(&args.rules, &[]).unwrap_or_else(|issues| {
            if args.rules.exists() {
                eprintln!(
                    "zhijian: warning: rule pack not loaded ({} problems); no lexicons for zj_* functions",
                    issues.len()
                );
            }
            crate::rules::RulePack::empty(&args.rules)
        });
        let scratch = Scratch::new("sql")?;
        let progress = super::progress::for_stderr(true);
        let (ctx, read, duplicates) = whole_views(&plan, &pack, &scratch, progress.as_ref()).await?;
        super::ingest::report_rejects(&read, duplicates);
        let (_, batches) = engine::query(&ctx, &args.query).await?;
        anyhow::Ok(batches)
    })?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    print(&mut out, &batches, args.format)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn print(out: &mut dyn Write, batches: &[RecordBatch], format: OutputFormat) -> anyhow::Result<()> {
    match format {
        OutputFormat::Table => {
            let table = datafusion::arrow::util::pretty::pretty_format_batches(batches)?;
            writeln!(out, "{table}")?;
        }
        OutputFormat::Csv => {
            let mut writer = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(out);
            for batch in batches {
                writer.write(&nested_as_text(batch)?)?;
            }
        }
        OutputFormat::Json => {
            let mut writer = datafusion::arrow::json::LineDelimitedWriter::new(out);
            for batch in batches {
                writer.write(batch)?;
            }
            writer.finish()?;
        }
    }
    Ok(())
}

/// CSV has no lists or structs: such columns are written as their text form.
fn nested_as_text(batch: &RecordBatch) -> anyhow::Result<RecordBatch> {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    if !batch.schema().fields().iter().any(|f| f.data_type().is_nested()) {
        return Ok(batch.clone());
    }
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if field.data_type().is_nested() {
            let options = datafusion::arrow::compute::CastOptions::default();
            columns.push(datafusion::arrow::compute::cast_with_options(
                column,
                &DataType::Utf8,
                &options,
            )?);
            fields.push(Field::new(field.name(), DataType::Utf8, true));
        } else {
            columns.push(column.clone());
            fields.push(field.as_ref().clone());
        }
    }
    Ok(RecordBatch::try_new(
        std::sync::Arc::new(Schema::new(fields)),
        columns,
    )?)
}
