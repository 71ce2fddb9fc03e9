//! From `--input` paths to a DataFusion session with the views registered: the
//! common first half of every command that reads transcripts.

use std::path::PathBuf;

use datafusion::prelude::SessionContext;

use crate::engine;
use crate::error::Result;
use crate::ingest::{self, Ingested};
use crate::timezone::TimeZones;
use crate::views::{self, Views};

/// What loading produced: the session to query, the views and the ingest report.
pub struct Loaded {
    pub ctx: SessionContext,
    pub views: Views,
    /// The ingest report; its raw batches have been consumed by the views.
    pub ingested: Ingested,
}

pub async fn load(inputs: &[PathBuf], zones: &TimeZones) -> Result<Loaded> {
    let partitions = engine::default_partitions();
    let ctx = engine::new_context(partitions);
    let files = ingest::discover(inputs)?;
    let mut ingested = ingest::read_files(files, zones, partitions)?;
    let raw = std::mem::take(&mut ingested.batches);
    let views = views::build(&ctx, raw, zones, partitions).await?;
    engine::register_views(&ctx, &views)?;
    Ok(Loaded { ctx, views, ingested })
}
