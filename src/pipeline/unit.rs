//! A unit of whole shops: its views, and a DataFusion session where the rules
//! and the scores run over them.

use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::prelude::SessionContext;
use futures::{StreamExt, TryStreamExt};

use crate::engine;
use crate::error::Result;
use crate::progress::{Progress, timing};
use crate::rules::{self, RulePack};
use crate::schema::VIOLATIONS;
use crate::score;
use crate::views::Views;

/// Rule queries run at the same time: each leaves the cores idle in places (its
/// final merge, a single-threaded function), which another rule's query fills.
const RULES_AT_ONCE: usize = 3;

/// The shops of a unit and their views.
pub struct Unit {
    /// Empty for rows given in memory.
    pub shops: Vec<String>,
    pub views: Views,
    pub partitions: usize,
}

/// A session over one unit's views, with the `zj_*` functions of a pack.
pub struct UnitContext {
    pub ctx: SessionContext,
}

impl Unit {
    /// A session with the views registered, and the functions of `pack` (an empty
    /// pack still gives `zj_normalize`, `zj_similarity`, `zj_mask`).
    pub fn context(&self, pack: &RulePack) -> Result<UnitContext> {
        let ctx = engine::new_context(self.partitions);
        engine::register_views(&ctx, &self.views)?;
        rules::register_functions(&ctx, pack, &self.views);
        Ok(UnitContext { ctx })
    }
}

/// Runs the enabled rules of `pack` over the unit and registers the results:
/// `violations`, then the score tables of [`score`]. Returns the violations found.
pub async fn evaluate(unit: &UnitContext, pack: &RulePack, progress: &dyn Progress) -> Result<u64> {
    let ctx = &unit.ctx;
    let results: Vec<Vec<RecordBatch>> = futures::stream::iter(pack.enabled())
        .map(|rule| async move {
            let started = Instant::now();
            let found = rules::run::hits(ctx, rule).await;
            timing(&format!("rule {}", rule.id), started);
            progress.advance(1);
            found
        })
        .buffered(RULES_AT_ONCE)
        .try_collect()
        .await?;
    let started = Instant::now();
    let enabled: Vec<&rules::Rule> = pack.enabled().collect();
    let batches = rules::run::enrich(ctx, &enabled, results.into_iter().flatten().collect()).await?;
    timing("violations of every rule", started);
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let table = MemTable::try_new(VIOLATIONS.clone(), vec![batches])?;
    ctx.register_table("violations", Arc::new(table))?;
    score::register(ctx, pack).await?;
    Ok(total as u64)
}
