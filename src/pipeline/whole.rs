//! The views of a whole input in one session, for a query that may span every
//! shop (`zhijian sql`). One unit's views stay in memory; more units' views are
//! written as Parquet into the scratch folder, a prepared dataset's are read
//! where they are, and the session spills to disk past the memory limit.

use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::SessionContext;

use super::{Input, Plan, Scratch, Source};
use crate::dataset::VIEW_TABLES;
use crate::engine;
use crate::error::{Error, Result};
use crate::ingest::IngestReport;
use crate::progress::Progress;
use crate::rules::{self, RulePack};
use crate::schema;
use crate::views::Views;

/// A session over every view of the plan's input, with the pack's functions.
/// Returns it with the read report and the duplicates dropped.
pub async fn whole_views(
    plan: &Plan,
    pack: &RulePack,
    scratch: &Scratch,
    progress: &dyn Progress,
) -> Result<(SessionContext, IngestReport, u64)> {
    let mut source = Source::open(plan, scratch.spill_path(), progress)?;
    let ctx = engine::new_bounded_context(engine::default_partitions(), plan.memory_limit)?;
    if let Input::Prepared(dataset) = &plan.input {
        for table in VIEW_TABLES {
            let files: Vec<PathBuf> = dataset
                .view_dates(plan.dates)
                .into_iter()
                .map(|date| dataset.view_file(date, table))
                .filter(|path| path.exists())
                .collect();
            engine::register_parquet(&ctx, table, &files, view_schema(table)).await?;
        }
        rules::register_functions(&ctx, pack, &Views::default());
        return Ok((ctx, source.into_report(), 0));
    }
    let duplicates = if source.unit_count()? <= 1 {
        let unit = source.next_unit().await?.unwrap_or_else(|| super::Unit {
            shops: Vec::new(),
            views: Views::default(),
            partitions: 1,
        });
        engine::register_views(&ctx, &unit.views)?;
        rules::register_functions(&ctx, pack, &unit.views);
        unit.views.duplicates
    } else {
        let duplicates = write_units(&mut source, scratch.path()).await?;
        for table in VIEW_TABLES {
            let dir = scratch.path().join(table);
            let mut files = std::fs::read_dir(&dir)
                .map_err(|e| Error::io(&dir, e))?
                .map(|e| Ok(e.map_err(|e| Error::io(&dir, e))?.path()))
                .collect::<Result<Vec<_>>>()?;
            files.sort();
            engine::register_parquet(&ctx, table, &files, view_schema(table)).await?;
        }
        rules::register_functions(&ctx, pack, &Views::default());
        duplicates
    };
    Ok((ctx, source.into_report(), duplicates))
}

fn view_schema(table: &str) -> &'static SchemaRef {
    match table {
        "messages" => &schema::MESSAGES,
        "rounds" => &schema::ROUNDS,
        "sessions" => &schema::SESSIONS,
        _ => &schema::AGENT_SESSIONS,
    }
}

/// Writes every unit's views into `dir/<view>/unit-N.parquet`.
async fn write_units(source: &mut Source, dir: &Path) -> Result<u64> {
    let mut duplicates = 0;
    let mut index = 0;
    while let Some(unit) = source.next_unit().await? {
        duplicates += unit.views.duplicates;
        let views = [
            ("messages", &unit.views.messages),
            ("rounds", &unit.views.rounds),
            ("sessions", &unit.views.sessions),
            ("agent_sessions", &unit.views.agent_sessions),
        ];
        for (name, partitions) in views {
            let folder = dir.join(name);
            std::fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
            write_file(&folder.join(format!("unit-{index:05}.parquet")), partitions)?;
        }
        index += 1;
    }
    Ok(duplicates)
}

fn write_file(path: &PathBuf, partitions: &[Vec<RecordBatch>]) -> Result<()> {
    let Some(schema) = partitions.iter().flatten().next().map(RecordBatch::schema) else {
        return Ok(());
    };
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut writer = ArrowWriter::try_new(file, schema, Some(crate::dataset::writer_properties()))
        .map_err(|e| Error::write(path, e))?;
    for batch in partitions.iter().flatten() {
        writer.write(batch).map_err(|e| Error::write(path, e))?;
    }
    writer.close().map_err(|e| Error::write(path, e))?;
    Ok(())
}
