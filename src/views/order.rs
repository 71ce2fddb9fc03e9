//! Orders raw messages for the sessionizing pass: DataFusion hash-partitions them by
//! session, so every session lands whole in one partition, and sorts each partition
//! by `(shop, session_id, ts, ord)`. Both steps are DataFusion's (they spill and
//! use every core); the sequential walk that follows is ours.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::physical_expr::expressions::col;
use datafusion::physical_expr::{LexOrdering, PhysicalSortExpr};
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::{Partitioning, collect_partitioned};
use datafusion::prelude::SessionContext;

use crate::error::Result;
use crate::schema::RAW;

/// The sort key of a session's messages (design §3: `ts`, then input order).
pub const SESSION_ORDER: [&str; 4] = ["shop", "session_id", "ts", "ord"];

/// Returns `partitions` groups of sorted batches; a session never spans two groups.
pub async fn sorted_by_session(
    ctx: &SessionContext,
    batches: Vec<RecordBatch>,
    partitions: usize,
) -> Result<Vec<Vec<RecordBatch>>> {
    let partitions = partitions.max(1);
    let schema = RAW.clone();
    // Spread the input so that hashing runs on every core too.
    let mut inputs: Vec<Vec<RecordBatch>> = vec![Vec::new(); partitions];
    for (i, batch) in batches.into_iter().enumerate() {
        inputs[i % partitions].push(batch);
    }
    let source = MemorySourceConfig::try_new_exec(&inputs, schema.clone(), None)?;
    drop(inputs);
    let keys = vec![col("shop", &schema)?, col("session_id", &schema)?];
    let hashed = Arc::new(RepartitionExec::try_new(
        source,
        Partitioning::Hash(keys, partitions),
    )?);
    let sort_exprs = SESSION_ORDER
        .iter()
        .map(|name| Ok(PhysicalSortExpr::new_default(col(name, &schema)?)))
        .collect::<Result<Vec<_>>>()?;
    let ordering = LexOrdering::new(sort_exprs).expect("the session order is not empty");
    let sorted = Arc::new(SortExec::new(ordering, hashed).with_preserve_partitioning(true));
    Ok(collect_partitioned(sorted, ctx.task_ctx()).await?)
}
