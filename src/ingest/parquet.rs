//! Parquet into raw Arrow batches. Columns are matched by name; ids may be text or
//! integers, `ts` may be a timestamp (with a zone: an instant; without: shop local
//! wall-clock time), epoch milliseconds or text. Rows are validated like JSON lines.

use std::borrow::Cow;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type, TimeUnit};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{Error, Result};
use crate::ingest::builder::RawBatchBuilder;
use crate::ingest::discover::InputFile;
use crate::ingest::record::{TsValue, check};
use crate::ingest::rejects::Reject;
use crate::ingest::scalar::{RawRecord, Scalar};
use crate::ingest::{BATCH_ROWS, Chunk, input_order};
use crate::timezone::TimeZones;

/// A column reduced to what validation distinguishes.
enum Column {
    Missing,
    Text(ArrayRef),
    Int(ArrayRef),
    Float(ArrayRef),
    Bool(ArrayRef),
    /// Microseconds; `true` when the type carries a zone (an instant).
    Timestamp(ArrayRef, bool),
    Other(DataType),
}

fn classify(array: Option<&ArrayRef>) -> Result<Column> {
    let Some(array) = array else {
        return Ok(Column::Missing);
    };
    Ok(match array.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(_, _) => {
            Column::Text(cast(array, &DataType::Utf8)?)
        }
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => Column::Int(cast(array, &DataType::Int64)?),
        DataType::UInt64 => Column::Text(cast(array, &DataType::Utf8)?),
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            Column::Float(cast(array, &DataType::Float64)?)
        }
        DataType::Boolean => Column::Bool(array.clone()),
        DataType::Timestamp(_, zone) => Column::Timestamp(
            cast(array, &DataType::Timestamp(TimeUnit::Microsecond, None))?,
            zone.is_some(),
        ),
        other => Column::Other(other.clone()),
    })
}

impl Column {
    fn scalar(&self, row: usize) -> Scalar<'_> {
        match self {
            Column::Missing => Scalar::Missing,
            Column::Text(a) if a.is_null(row) => Scalar::Null,
            Column::Text(a) => Scalar::Str(Cow::Borrowed(a.as_string::<i32>().value(row))),
            Column::Int(a) if a.is_null(row) => Scalar::Null,
            Column::Int(a) => Scalar::Int(a.as_primitive::<Int64Type>().value(row)),
            Column::Float(a) if a.is_null(row) => Scalar::Null,
            Column::Float(a) => Scalar::Float(
                a.as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                    .value(row),
            ),
            Column::Bool(a) if a.is_null(row) => Scalar::Null,
            Column::Bool(a) => Scalar::Bool(a.as_boolean().value(row)),
            Column::Timestamp(a, _) if a.is_null(row) => Scalar::Null,
            // Only `ts` may be a timestamp; anywhere else it is a wrong type.
            Column::Timestamp(..) | Column::Other(_) => Scalar::Compound,
        }
    }

    fn ts(&self, row: usize) -> TsValue<'_> {
        match self {
            Column::Timestamp(a, _) if a.is_null(row) => TsValue::Scalar(Scalar::Null),
            Column::Timestamp(a, instant) => {
                let micros = a
                    .as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>()
                    .value(row);
                if *instant {
                    TsValue::Instant(micros)
                } else {
                    TsValue::Wall(micros)
                }
            }
            _ => TsValue::Scalar(self.scalar(row)),
        }
    }
}

/// Reads a Parquet file of canonical columns, handing each batch's chunk (rows and
/// rejects) to `sink` as it is made, so a large file is never held whole.
pub fn read_into(
    file_idx: usize,
    file: &InputFile,
    zones: &TimeZones,
    sink: &mut dyn FnMut(Chunk),
) -> Result<()> {
    let name = file.path.display().to_string();
    let handle = std::fs::File::open(&file.path).map_err(|e| Error::io(&file.path, e))?;
    let unreadable = |e: &dyn std::fmt::Display| Error::Input {
        path: file.path.clone(),
        message: format!("not a readable Parquet file: {e}"),
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(handle)
        .map_err(|e| unreadable(&e))?
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| unreadable(&e))?;
    let mut first_row = 1u64;
    for (chunk_idx, batch) in reader.enumerate() {
        let batch = batch.map_err(|e| unreadable(&e))?;
        sink(convert_batch(
            &name,
            file_idx,
            chunk_idx as u64,
            first_row,
            &batch,
            zones,
        )?);
        first_row += batch.num_rows() as u64;
    }
    Ok(())
}

fn convert_batch(
    name: &str,
    file_idx: usize,
    chunk_idx: u64,
    first_row: u64,
    batch: &RecordBatch,
    zones: &TimeZones,
) -> Result<Chunk> {
    let get = |field: &str| -> Result<Column> {
        let schema = batch.schema();
        let idx = schema
            .fields()
            .iter()
            .position(|f| f.name().eq_ignore_ascii_case(field));
        classify(idx.map(|i| batch.column(i)))
    };
    let [
        shop,
        channel,
        session_id,
        msg_id,
        ts,
        role,
        agent_id,
        customer_id,
        text,
        msg_type,
    ] = crate::schema::CANONICAL_NAMES.map(get);
    let (shop, channel, session_id, msg_id, ts, role, agent_id, customer_id, text, msg_type) = (
        shop?,
        channel?,
        session_id?,
        msg_id?,
        ts?,
        role?,
        agent_id?,
        customer_id?,
        text?,
        msg_type?,
    );
    if let Column::Other(data_type) = &ts {
        return Err(Error::Input {
            path: name.into(),
            message: format!(
                "column \"ts\" has type {data_type}: use a timestamp, epoch milliseconds (int64) or text"
            ),
        });
    }
    let mut builder = RawBatchBuilder::with_capacity(batch.num_rows(), batch.num_rows() * 48);
    let mut rejects = Vec::new();
    for row in 0..batch.num_rows() {
        let raw = RawRecord {
            shop: shop.scalar(row),
            channel: channel.scalar(row),
            session_id: session_id.scalar(row),
            msg_id: msg_id.scalar(row),
            ts: Scalar::Missing,
            role: role.scalar(row),
            agent_id: agent_id.scalar(row),
            customer_id: customer_id.scalar(row),
            text: text.scalar(row),
            msg_type: msg_type.scalar(row),
        };
        let row_no = first_row + row as u64;
        match check(raw, ts.ts(row), zones) {
            Ok(msg) => builder.push(&msg, input_order(file_idx, row_no)),
            Err(reason) => rejects.push(Reject::new(name, row_no, reason, b"")),
        }
    }
    Ok(Chunk {
        file_idx,
        chunk_idx,
        batch: (!builder.is_empty()).then(|| builder.finish()),
        rejects,
        records: batch.num_rows() as u64,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, StringArray, StringViewArray, TimestampMillisecondArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::parquet::arrow::ArrowWriter;

    use super::*;
    use crate::ingest::discover::Format;

    /// An export typed the way other tools write it: integer ids, string views,
    /// a zone-less millisecond timestamp (shop local wall time), and a bad row.
    #[test]
    fn typed_columns_are_read_and_bad_rows_rejected() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("SHOP", DataType::Int64, true),
            Field::new("session_id", DataType::Utf8View, true),
            Field::new("msg_id", DataType::Utf8, true),
            Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
            Field::new("role", DataType::Utf8, true),
            Field::new("agent_id", DataType::Utf8, true),
            Field::new("text", DataType::Utf8View, true),
        ]));
        // 2026-11-11 10:00:03 as a wall-clock time.
        let wall = 1_794_362_403_000 + 8 * 3_600_000;
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![7, 7, 7])),
                Arc::new(StringViewArray::from(vec!["s1", "s1", "s1"])),
                Arc::new(StringArray::from(vec![Some("1"), None, Some("3")])),
                Arc::new(TimestampMillisecondArray::from(vec![wall, wall, wall + 5000])),
                Arc::new(StringArray::from(vec!["Customer", "agent", "agent"])),
                Arc::new(StringArray::from(vec![None, Some("amy"), Some("amy")])),
                Arc::new(StringViewArray::from(vec![Some("在吗"), Some("x"), None])),
            ],
        )
        .expect("batch");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("export.parquet");
        let mut writer = ArrowWriter::try_new(std::fs::File::create(&path).expect("create"), schema, None)
            .expect("writer");
        writer.write(&batch).expect("write");
        writer.close().expect("close");

        let file = InputFile {
            path: path.clone(),
            format: Format::Parquet,
            size: 0,
            partition_date: None,
        };
        let mut chunks = Vec::new();
        read_into(0, &file, &TimeZones::default(), &mut |c| chunks.push(c)).expect("readable");
        let rejects: Vec<_> = chunks.iter().flat_map(|c| c.rejects.clone()).collect();
        assert_eq!(rejects.len(), 1);
        assert_eq!(rejects[0].line, 2);
        assert_eq!(rejects[0].reason, r#"field "msg_id": is required but missing"#);
        let batch = chunks.iter().find_map(|c| c.batch.clone()).expect("rows kept");
        assert_eq!(batch.num_rows(), 2);
        let text = |name: &str, row: usize| {
            batch
                .column_by_name(name)
                .expect("column")
                .as_string::<i32>()
                .value(row)
                .to_string()
        };
        assert_eq!(text("shop", 0), "7");
        assert_eq!(text("role", 0), "customer");
        assert_eq!(text("text", 1), "");
        let ts = batch
            .column_by_name("ts")
            .expect("ts")
            .as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
        assert_eq!(ts.value(0), 1_794_362_403_000_000);
    }

    #[test]
    fn a_file_that_is_not_parquet_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("fake.parquet");
        std::fs::write(&path, b"not parquet").expect("write");
        let file = InputFile {
            path,
            format: Format::Parquet,
            size: 0,
            partition_date: None,
        };
        let err = read_into(0, &file, &TimeZones::default(), &mut |_| {})
            .expect_err("not parquet")
            .to_string();
        assert!(
            err.contains("fake.parquet") && err.contains("not a readable Parquet file"),
            "{err}"
        );
    }
}
