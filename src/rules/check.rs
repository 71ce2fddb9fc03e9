//! Trying rules on real transcripts (`zhijian check`): each hit with the customer
//! message before it, and the hits per agent, gathered unit by unit through the
//! pipeline so that a month of exports is checked in bounded memory.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::prelude::SessionContext;

use crate::engine;
use crate::error::Result;
use crate::pipeline::{DateRange, Source};
use crate::rules::compile::quote;
use crate::rules::{Rule, RulePack, run};

/// Which hits are wanted.
#[derive(Debug, Clone, Default)]
pub struct HitFilter {
    pub dates: Option<DateRange>,
    pub agent: Option<String>,
    /// At most this many hits are kept (the counts cover all).
    pub limit: usize,
}

impl HitFilter {
    fn sql(&self) -> String {
        let mut filters = vec!["TRUE".to_string()];
        if let Some(range) = self.dates {
            filters.push(format!(
                "date BETWEEN DATE {} AND DATE {}",
                quote(&range.from.to_string()),
                quote(&range.to.to_string())
            ));
        }
        if let Some(agent) = &self.agent {
            filters.push(format!("agent_id = {}", quote(agent)));
        }
        filters.join(" AND ")
    }
}

/// A rule's hits: the first `limit` with their context (unmasked: the printer
/// masks them), and the count per agent.
pub struct RuleHits {
    pub hits: Vec<RecordBatch>,
    pub per_agent: Vec<RecordBatch>,
    pub total: u64,
}

/// Runs `rules` over every unit of `source` and merges their hits.
pub async fn check(
    source: &mut Source,
    pack: &RulePack,
    rules: &[&Rule],
    filter: &HitFilter,
) -> Result<Vec<RuleHits>> {
    let mut hits: Vec<Vec<RecordBatch>> = vec![Vec::new(); rules.len()];
    let mut per_agent: Vec<Vec<RecordBatch>> = vec![Vec::new(); rules.len()];
    while let Some(unit) = source.next_unit().await? {
        let ctx = unit.context(pack)?.ctx;
        for (i, rule) in rules.iter().enumerate() {
            let query = run::violations_sql(rule, &run::rule_query(&ctx, rule).await?);
            let context = hits_with_context(&query, &filter.sql());
            hits[i].extend(
                engine::query(&ctx, &format!("{context} LIMIT {}", filter.limit))
                    .await?
                    .1,
            );
            let counts = format!(
                "SELECT agent_id, count(*) AS hits, count(DISTINCT session_id) AS sessions \
                 FROM ({query}) AS v WHERE {} GROUP BY agent_id",
                filter.sql()
            );
            per_agent[i].extend(engine::query(&ctx, &counts).await?.1);
        }
    }
    let mut merged = Vec::new();
    for (hits, per_agent) in hits.into_iter().zip(per_agent) {
        merged.push(merge(hits, per_agent, filter.limit).await?);
    }
    Ok(merged)
}

/// One rule's hits of every unit: the first `limit` in order, the counts summed
/// per agent (a session never spans two units, so distinct sessions add up).
async fn merge(hits: Vec<RecordBatch>, per_agent: Vec<RecordBatch>, limit: usize) -> Result<RuleHits> {
    let ctx = SessionContext::new();
    let hits = match hits.first().map(RecordBatch::schema) {
        None => hits,
        Some(schema) => {
            ctx.register_table("hits", Arc::new(MemTable::try_new(schema, vec![hits])?))?;
            let sql = format!("SELECT * FROM hits ORDER BY {HIT_ORDER} LIMIT {limit}");
            engine::query(&ctx, &sql).await?.1
        }
    };
    let per_agent = match per_agent.first().map(RecordBatch::schema) {
        None => per_agent,
        Some(schema) => {
            ctx.register_table("per_agent", Arc::new(MemTable::try_new(schema, vec![per_agent])?))?;
            let sql = "SELECT agent_id, CAST(sum(hits) AS BIGINT) AS hits, CAST(sum(sessions) AS BIGINT) AS sessions \
                       FROM per_agent GROUP BY agent_id ORDER BY hits DESC, agent_id";
            engine::query(&ctx, sql).await?.1
        }
    };
    let mut total = 0;
    for batch in &per_agent {
        let column = engine::columns(batch).int("hits")?;
        total += (0..batch.num_rows()).map(|row| column.count(row)).sum::<u64>();
    }
    Ok(RuleHits {
        hits,
        per_agent,
        total,
    })
}

/// The order hits are shown in: by date, shop, session, agent, time.
const HIT_ORDER: &str = "date, shop, session_id, agent_id, time, message";

/// Each hit with the customer message before its anchor and the anchor itself.
fn hits_with_context(violations: &str, filter: &str) -> String {
    format!(
        "WITH v AS (\n{violations}\n), numbered AS (\n  \
           SELECT row_number() OVER (ORDER BY date, shop, session_id, agent_id, ts, msg_id) AS hit, *\n  \
           FROM v WHERE {filter}\n\
         ), anchored AS (\n  \
           SELECT n.*, a.seq AS anchor_seq, a.local_time AS anchor_time FROM numbered n\n  \
           LEFT JOIN messages a ON a.shop = n.shop AND a.session_id = n.session_id AND a.msg_id = n.msg_id\n\
         ), before AS (\n  \
           SELECT h.hit, last_value(c.text ORDER BY c.seq) AS customer_before FROM anchored h\n  \
           JOIN messages c ON c.shop = h.shop AND c.session_id = h.session_id AND c.role = 'customer' AND c.seq < h.anchor_seq\n  \
           GROUP BY h.hit\n\
         )\n\
         SELECT h.date, h.anchor_time AS time, h.shop, h.session_id, h.agent_id, b.customer_before,\n       \
                h.evidence AS message, h.detail\n\
         FROM anchored h LEFT JOIN before b ON b.hit = h.hit\n\
         ORDER BY h.hit"
    )
}
