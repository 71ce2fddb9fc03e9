//! The derived views every rule queries (design §4): `messages`, `rounds`,
//! `sessions` and `agent_sessions`. DataFusion partitions and sorts the raw
//! messages by session ([`order`]); one sequential pass per partition
//! ([`sessionize`]) walks each session once and yields all four views, which
//! [`assemble`] turns into Arrow batches with `take` kernels.

pub mod assemble;
pub mod order;
pub mod sessionize;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use datafusion::prelude::SessionContext;

use crate::error::Result;
use crate::schema::RAW;
use crate::timezone::TimeZones;

/// The four views, each split into the same partitions (by session).
#[derive(Debug, Default)]
pub struct Views {
    pub messages: Vec<Vec<RecordBatch>>,
    pub rounds: Vec<Vec<RecordBatch>>,
    pub sessions: Vec<Vec<RecordBatch>>,
    pub agent_sessions: Vec<Vec<RecordBatch>>,
    /// Records dropped as repeats of an earlier `(shop, session_id, msg_id)`.
    pub duplicates: u64,
}

impl Views {
    pub fn message_count(&self) -> usize {
        count(&self.messages)
    }
    pub fn round_count(&self) -> usize {
        count(&self.rounds)
    }
    pub fn session_count(&self) -> usize {
        count(&self.sessions)
    }
}

fn count(partitions: &[Vec<RecordBatch>]) -> usize {
    partitions.iter().flatten().map(RecordBatch::num_rows).sum()
}

/// Builds the views from raw batches ([`crate::schema::RAW`]), with `partitions`
/// sessionizing passes running in parallel.
pub async fn build(
    ctx: &SessionContext,
    raw: Vec<RecordBatch>,
    zones: &TimeZones,
    partitions: usize,
) -> Result<Views> {
    let started = std::time::Instant::now();
    let sorted = order::sorted_by_session(ctx, raw, partitions).await?;
    if std::env::var_os("ZHIJIAN_TIMINGS").is_some() {
        eprintln!(
            "zhijian: timings: partition+sort {:.3} s",
            started.elapsed().as_secs_f64()
        );
    }
    let passes: Vec<Result<assemble::PartitionViews>> = std::thread::scope(|scope| {
        let handles: Vec<_> = sorted
            .into_iter()
            .map(|batches| {
                scope.spawn(move || {
                    let batch = concat_batches(&RAW, &batches)?;
                    drop(batches);
                    let walk = sessionize::walk(&batch, zones);
                    assemble::assemble(&batch, &walk)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a sessionizing pass panicked"))
            .collect()
    });
    let mut views = Views::default();
    for pass in passes {
        let pass = pass?;
        views.duplicates += pass.duplicates;
        views.messages.push(pass.messages);
        views.rounds.push(pass.rounds);
        views.sessions.push(pass.sessions);
        views.agent_sessions.push(pass.agent_sessions);
    }
    Ok(views)
}
