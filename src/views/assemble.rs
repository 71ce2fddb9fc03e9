//! Gathers the views' columns from the sorted raw batch with Arrow `take`, using
//! the row indices the walk recorded: strings are copied once, by the kernel.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, AsArray, Date32Array, Float64Array, Int64Array, ListArray, RecordBatch, StringBuilder,
    Time64MicrosecondArray, UInt32Array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{Field, SchemaRef, TimestampMicrosecondType};

use crate::error::Result;
use crate::normalize::normalize_into;
use crate::schema::{AGENT_SESSIONS, MESSAGES, RAW_ORD, ROUNDS, SESSIONS};
use crate::timezone::MICROS_PER_SECOND;
use crate::views::sessionize::Walk;

/// One partition's views, in batches of at most [`OUTPUT_ROWS`].
#[derive(Debug)]
pub struct PartitionViews {
    pub messages: Vec<RecordBatch>,
    pub rounds: Vec<RecordBatch>,
    pub sessions: Vec<RecordBatch>,
    pub agent_sessions: Vec<RecordBatch>,
    pub duplicates: u64,
}

/// Output batches are slices of this many rows, so scans downstream stream.
pub const OUTPUT_ROWS: usize = 8192;

fn indices(rows: &[u32]) -> UInt32Array {
    UInt32Array::from(rows.to_vec())
}

fn optional_indices(rows: &[Option<u32>]) -> UInt32Array {
    UInt32Array::from(rows.to_vec())
}

fn gather(batch: &RecordBatch, name: &str, idx: &UInt32Array) -> Result<ArrayRef> {
    let column = batch.column_by_name(name).expect("RAW schema");
    Ok(take(column.as_ref(), idx, None)?)
}

fn dates(values: Vec<i32>) -> ArrayRef {
    Arc::new(Date32Array::from(values))
}

fn ints(values: &[i64]) -> ArrayRef {
    Arc::new(Int64Array::from(values.to_vec()))
}

fn sliced(schema: &SchemaRef, columns: Vec<ArrayRef>) -> Result<Vec<RecordBatch>> {
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    let rows = batch.num_rows();
    Ok((0..rows)
        .step_by(OUTPUT_ROWS)
        .map(|start| batch.slice(start, OUTPUT_ROWS.min(rows - start)))
        .collect())
}

pub fn assemble(batch: &RecordBatch, walk: &Walk) -> Result<PartitionViews> {
    Ok(PartitionViews {
        messages: messages(batch, walk)?,
        rounds: rounds(batch, walk)?,
        sessions: sessions(batch, walk)?,
        agent_sessions: agent_sessions(batch, walk)?,
        duplicates: walk.duplicates,
    })
}

fn messages(batch: &RecordBatch, walk: &Walk) -> Result<Vec<RecordBatch>> {
    let rows = &walk.messages.row;
    // Without duplicates the kept rows are the sorted input itself: no copy needed.
    let identity = rows.len() == batch.num_rows() && rows.iter().enumerate().all(|(i, &r)| r as usize == i);
    let mut columns = if identity {
        batch.columns()[..RAW_ORD].to_vec()
    } else {
        let idx = indices(rows);
        (0..RAW_ORD)
            .map(|i| Ok(take(batch.column(i).as_ref(), &idx, None)?))
            .collect::<Result<Vec<ArrayRef>>>()?
    };
    let text = batch
        .column_by_name("text")
        .expect("RAW schema")
        .as_string::<i32>();
    let mut norm = StringBuilder::with_capacity(rows.len(), text.values().len());
    let mut buf = String::new();
    for &row in rows {
        buf.clear();
        normalize_into(text.value(row as usize), &mut buf);
        norm.append_value(&buf);
    }
    columns.push(ints(&walk.messages.seq));
    columns.push(dates(rows.iter().map(|&r| walk.local.date[r as usize]).collect()));
    columns.push(Arc::new(Time64MicrosecondArray::from(
        rows.iter()
            .map(|&r| walk.local.time[r as usize])
            .collect::<Vec<_>>(),
    )));
    columns.push(Arc::new(norm.finish()));
    columns.push(dates(walk.messages.session_date.clone()));
    columns.push(gather(
        batch,
        "agent_id",
        &optional_indices(&walk.messages.prev_agent_row),
    )?);
    sliced(&MESSAGES, columns)
}

fn rounds(batch: &RecordBatch, walk: &Walk) -> Result<Vec<RecordBatch>> {
    let r = &walk.rounds;
    let open = indices(&r.open_row);
    let close = optional_indices(&r.close_row);
    let ts = batch
        .column_by_name("ts")
        .expect("RAW schema")
        .as_primitive::<TimestampMicrosecondType>();
    let latency: Float64Array = r
        .open_row
        .iter()
        .zip(&r.close_row)
        .map(|(&o, c)| {
            c.map(|c| (ts.value(c as usize) - ts.value(o as usize)) as f64 / MICROS_PER_SECOND as f64)
        })
        .collect();
    let columns: Vec<ArrayRef> = vec![
        gather(batch, "shop", &open)?,
        gather(batch, "session_id", &open)?,
        ints(&r.round_no),
        gather(batch, "ts", &open)?,
        gather(batch, "msg_id", &open)?,
        ints(&r.open_seq),
        ints(&r.customer_msgs),
        gather(batch, "ts", &close)?,
        gather(batch, "msg_id", &close)?,
        Arc::new(Int64Array::from(r.close_seq.clone())),
        gather(batch, "role", &close)?,
        gather(batch, "agent_id", &close)?,
        Arc::new(latency),
        dates(r.open_row.iter().map(|&o| walk.local.date[o as usize]).collect()),
        Arc::new(Time64MicrosecondArray::from(
            r.open_row
                .iter()
                .map(|&o| walk.local.time[o as usize])
                .collect::<Vec<_>>(),
        )),
        gather(batch, "customer_id", &optional_indices(&r.customer_row))?,
        dates(r.session_date.clone()),
    ];
    sliced(&ROUNDS, columns)
}

fn sessions(batch: &RecordBatch, walk: &Walk) -> Result<Vec<RecordBatch>> {
    let s = &walk.sessions;
    let first = indices(&s.first_row);
    let agent_names = gather(batch, "agent_id", &indices(&s.agent_rows))?;
    let agents = ListArray::try_new(
        Arc::new(Field::new_list_field(
            datafusion::arrow::datatypes::DataType::Utf8,
            false,
        )),
        OffsetBuffer::new(s.agent_offsets.clone().into()),
        agent_names,
        None,
    )?;
    let columns: Vec<ArrayRef> = vec![
        gather(batch, "shop", &first)?,
        gather(batch, "session_id", &first)?,
        gather(batch, "channel", &first)?,
        gather(batch, "customer_id", &optional_indices(&s.customer_row))?,
        gather(batch, "ts", &first)?,
        gather(batch, "ts", &indices(&s.last_row))?,
        dates(s.date.clone()),
        ints(&s.messages),
        ints(&s.by_role[0]),
        ints(&s.by_role[1]),
        ints(&s.by_role[2]),
        ints(&s.by_role[3]),
        ints(&s.rounds),
        Arc::new(agents),
    ];
    sliced(&SESSIONS, columns)
}

fn agent_sessions(batch: &RecordBatch, walk: &Walk) -> Result<Vec<RecordBatch>> {
    let a = &walk.agent_sessions;
    let first = indices(&a.first_row);
    let columns: Vec<ArrayRef> = vec![
        gather(batch, "shop", &first)?,
        gather(batch, "session_id", &first)?,
        gather(batch, "agent_id", &first)?,
        gather(batch, "ts", &first)?,
        gather(batch, "ts", &indices(&a.last_row))?,
        ints(&a.agent_msgs),
        dates(a.session_date.clone()),
    ];
    sliced(&AGENT_SESSIONS, columns)
}
