//! The DataFusion side: one place that creates the session, registers the views
//! and runs read-only SQL, so a DataFusion upgrade touches this module first.

pub mod decode;
mod sandbox;

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::execution::config::SessionConfig;
use datafusion::prelude::{DataFrame, SessionContext};

use crate::error::Result;
use crate::schema;
use crate::views::Views;
pub use decode::columns;
pub use sandbox::read_only_sql;

/// A session sized for this machine: one partition per core.
pub fn new_context(partitions: usize) -> SessionContext {
    let config = SessionConfig::new()
        .with_target_partitions(partitions.max(1))
        .with_information_schema(true)
        .set_bool("datafusion.sql_parser.collect_spans", true);
    SessionContext::new_with_config(config)
}

/// A session whose sorts, aggregates and joins spill to disk past `memory_limit`
/// bytes (a fair share each): for queries over files that may not fit in memory.
pub fn new_bounded_context(partitions: usize, memory_limit: u64) -> Result<SessionContext> {
    use datafusion::execution::memory_pool::FairSpillPool;
    use datafusion::execution::runtime_env::RuntimeEnvBuilder;
    let pool = usize::try_from(memory_limit).unwrap_or(usize::MAX);
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(pool)))
        .build_arc()?;
    let config = SessionConfig::new()
        .with_target_partitions(partitions.max(1))
        .with_information_schema(true)
        .set_bool("datafusion.sql_parser.collect_spans", true)
        // The default reservation (10 MB per sort) is large beside a small pool.
        .set_usize(
            "datafusion.execution.sort_spill_reservation_bytes",
            (pool / 64).min(10 << 20),
        );
    Ok(SessionContext::new_with_config_rt(config, runtime))
}

/// Partitions to use: one per core.
pub fn default_partitions() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Registers `messages`, `rounds`, `sessions` and `agent_sessions`.
pub fn register_views(ctx: &SessionContext, views: &Views) -> Result<()> {
    let tables: [(
        &str,
        &datafusion::arrow::datatypes::SchemaRef,
        &Vec<Vec<RecordBatch>>,
    ); 4] = [
        ("messages", &schema::MESSAGES, &views.messages),
        ("rounds", &schema::ROUNDS, &views.rounds),
        ("sessions", &schema::SESSIONS, &views.sessions),
        ("agent_sessions", &schema::AGENT_SESSIONS, &views.agent_sessions),
    ];
    for (name, schema, partitions) in tables {
        // A table needs at least one partition, even when no data was read.
        let partitions = if partitions.is_empty() {
            vec![Vec::new()]
        } else {
            partitions.clone()
        };
        let table = MemTable::try_new((*schema).clone(), partitions)?;
        ctx.register_table(name, Arc::new(table))?;
    }
    Ok(())
}

/// Registers Parquet `files` as the table `name` with `schema` (an empty table
/// when there are none). The rows are read as a query asks for them, so a table
/// bigger than memory costs only what the query keeps; a file whose strings are
/// another string type is read as `schema` says.
pub async fn register_parquet(
    ctx: &SessionContext,
    name: &str,
    files: &[std::path::PathBuf],
    schema: &datafusion::arrow::datatypes::SchemaRef,
) -> Result<()> {
    if files.is_empty() {
        let table = MemTable::try_new(schema.clone(), vec![Vec::new()])?;
        ctx.register_table(name, Arc::new(table))?;
        return Ok(());
    }
    let paths: Vec<String> = files.iter().map(|path| path.display().to_string()).collect();
    let options = datafusion::prelude::ParquetReadOptions::default().schema(schema);
    let frame = ctx.read_parquet(paths, options).await?;
    ctx.register_table(name, frame.into_view())?;
    Ok(())
}

/// Runs a read-only query and collects its rows.
pub async fn query(
    ctx: &SessionContext,
    sql: &str,
) -> Result<(Arc<datafusion::arrow::datatypes::Schema>, Vec<RecordBatch>)> {
    let frame: DataFrame = read_only_sql(ctx, sql).await?;
    let schema = Arc::new(frame.schema().as_arrow().clone());
    let batches = frame.collect().await?;
    Ok((schema, batches))
}
