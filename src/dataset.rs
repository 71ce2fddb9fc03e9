//! The canonical Parquet dataset that `zhijian ingest` writes: one folder per local
//! date of the messages (`date=YYYY-MM-DD/part-00000.parquet`), rows ordered by
//! session and position, so reading it back gives the same messages and order.

use std::path::Path;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Date32Type;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::SessionContext;

use crate::engine;
use crate::error::{Error, Result};
use crate::outputs::publish;
use crate::schema::CANONICAL;

/// Row groups small enough that a reader can split a file across cores.
const ROW_GROUP_ROWS: usize = 128 * 1024;

pub fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).expect("valid level")))
        .build()
}

/// Writes the `messages` view of `ctx` under `out`; returns (date, rows) written.
pub async fn write(ctx: &SessionContext, out: &Path) -> Result<Vec<(chrono::NaiveDate, usize)>> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let (_, date_batches) = engine::query(
        ctx,
        "SELECT DISTINCT local_date FROM messages ORDER BY local_date",
    )
    .await?;
    let days: Vec<i32> = date_batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Date32Type>().values().to_vec())
        .collect();
    let columns = CANONICAL
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut written = Vec::new();
    for day in days {
        let date = chrono::NaiveDate::from_num_days_from_ce_opt(day + 719_163)
            .ok_or_else(|| Error::Usage(format!("date out of range: day {day}")))?;
        let sql = format!(
            "SELECT {columns} FROM messages WHERE local_date = CAST({day} AS DATE) ORDER BY shop, session_id, seq"
        );
        let (_, batches) = engine::query(ctx, &sql).await?;
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        publish_day(out, date, &batches)?;
        written.push((date, rows));
    }
    Ok(written)
}

/// Writes one date folder beside its final place, then swaps it in, so a reader
/// never sees half a day.
fn publish_day(out: &Path, date: chrono::NaiveDate, batches: &[RecordBatch]) -> Result<()> {
    let target = out.join(format!("date={date}"));
    let staging = publish::fresh_staging(&target)?;
    let file_path = staging.join("part-00000.parquet");
    let file = std::fs::File::create(&file_path).map_err(|e| Error::io(&file_path, e))?;
    let mut writer = ArrowWriter::try_new(file, CANONICAL.clone(), Some(writer_properties()))?;
    for batch in batches {
        let batch = batch.clone().with_schema(CANONICAL.clone())?;
        writer.write(&batch)?;
    }
    writer.close()?;
    publish::publish(&staging, &target)
}
