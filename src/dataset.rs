//! The canonical Parquet dataset that `zhijian ingest` writes: one folder per local
//! date of the messages (`date=YYYY-MM-DD/part-00000.parquet`), rows ordered by
//! session and position, so reading it back gives the same messages and order.

use std::path::Path;

use datafusion::arrow::array::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::SessionContext;

use crate::engine;
use crate::error::{Error, Result};
use crate::ingest::{Reject, rejects};
use crate::outputs::publisher::Publisher;
use crate::schema::CANONICAL;

/// The rejects of an ingest, beside the date folders (a leading `_` keeps it out
/// of a later `--input DATASET`).
pub const REJECTS_FILE: &str = "_rejects.jsonl";

/// Row groups small enough that a reader can split a file across cores.
const ROW_GROUP_ROWS: usize = 128 * 1024;

pub fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).expect("valid level")))
        .build()
}

/// Writes the `messages` view of `ctx` into the publisher's folder, one folder
/// per local date, and `_rejects.jsonl`; nothing is published until everything
/// is written. Returns (date, rows) written.
pub async fn write(
    ctx: &SessionContext,
    publisher: &Publisher,
    rejects: &[Reject],
) -> Result<Vec<(chrono::NaiveDate, usize)>> {
    crate::failpoint!("ingest::after-read");
    let (_, date_batches) = engine::query(
        ctx,
        "SELECT DISTINCT local_date FROM messages ORDER BY local_date",
    )
    .await?;
    let mut days = Vec::new();
    for batch in &date_batches {
        let column = engine::columns(batch).date("local_date")?;
        days.extend((0..batch.num_rows()).filter_map(|row| column.get(row)));
    }
    let columns = CANONICAL
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut written = Vec::new();
    let mut built = Vec::new();
    for date in days {
        let sql = format!(
            "SELECT {columns} FROM messages WHERE local_date = DATE '{date}' ORDER BY shop, session_id, seq"
        );
        let (_, batches) = engine::query(ctx, &sql).await?;
        let staging = publisher.stage_folder(&format!("date={date}"))?;
        write_part(&staging.path().join("part-00000.parquet"), &batches)?;
        crate::failpoint!("dataset::day-written");
        built.push(staging);
        written.push((date, batches.iter().map(RecordBatch::num_rows).sum()));
    }
    let rejects_file = publisher.stage_file(REJECTS_FILE)?;
    rejects::write_jsonl(rejects, rejects_file.path())?;
    for staging in built {
        publisher.publish(staging)?;
    }
    publisher.publish(rejects_file)?;
    Ok(written)
}

/// One Parquet file of canonical messages.
fn write_part(path: &Path, batches: &[RecordBatch]) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut writer = ArrowWriter::try_new(file, CANONICAL.clone(), Some(writer_properties()))
        .map_err(|e| Error::write(path, e))?;
    for batch in batches {
        let batch = batch.clone().with_schema(CANONICAL.clone())?;
        writer.write(&batch).map_err(|e| Error::write(path, e))?;
    }
    writer.close().map_err(|e| Error::write(path, e))?;
    Ok(())
}
