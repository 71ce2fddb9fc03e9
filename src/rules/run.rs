//! Running a rule: its query plus the rule's metadata, the session date and the
//! masked evidence, in the `violations` columns of design §7.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::MemTable;
use datafusion::prelude::SessionContext;

use crate::engine;
use crate::error::{Error, Result};
use crate::rules::compile::{compile, quote, wrap_sql_rule};
use crate::rules::spec::{Rule, Template};
use crate::schema::{VIOLATIONS, timestamp_type};

/// The query a rule compiles to (what `zhijian rules explain` prints). `sql` rules
/// are planned to see which optional columns they return.
pub async fn rule_query(ctx: &SessionContext, rule: &Rule) -> Result<String> {
    let core = compile(rule);
    let Template::Sql { .. } = rule.template else {
        return Ok(core);
    };
    let frame = engine::read_only_sql(ctx, &core)
        .await
        .map_err(|e| rule_error(rule, "sql", &e))?;
    let columns: Vec<String> = frame.schema().fields().iter().map(|f| f.name().clone()).collect();
    let missing: Vec<&str> = ["shop", "session_id", "agent_id"]
        .into_iter()
        .filter(|c| !columns.iter().any(|have| have == c))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Usage(format!(
            "{}: rule {}: key `sql`: the query must return {} (it returns {})",
            rule.file.display(),
            rule.id,
            missing.join(", "),
            columns.join(", ")
        )));
    }
    Ok(wrap_sql_rule(&core, &columns))
}

fn rule_error(rule: &Rule, key: &str, err: &Error) -> Error {
    Error::Usage(format!(
        "{}: rule {}: key `{key}`: {err}",
        rule.file.display(),
        rule.id
    ))
}

/// The full violations query of a rule, over its compiled query.
pub fn violations_sql(rule: &Rule, query: &str) -> String {
    format!(
        "SELECT s.local_date AS date, v.shop, v.session_id, COALESCE(v.agent_id, '(unassigned)') AS agent_id,\n       \
         {id} AS rule_id, {name} AS rule_name, {severity} AS severity,\n       \
         CAST({deduct} AS DOUBLE) AS deduct, CAST({bonus} AS DOUBLE) AS bonus,\n       \
         v.msg_id, v.msg_ids, v.ts, zj_mask(v.detail) AS detail, zj_mask(m.text) AS evidence\n\
         FROM (\n{query}\n) AS v\n\
         JOIN sessions s ON s.shop = v.shop AND s.session_id = v.session_id\n\
         LEFT JOIN messages m ON m.shop = v.shop AND m.session_id = v.session_id AND m.msg_id = v.msg_id\n\
         ORDER BY date, v.shop, v.session_id, agent_id, v.ts, v.msg_id",
        id = quote(&rule.id),
        name = quote(&rule.name),
        severity = quote(rule.severity.as_str()),
        deduct = rule.deduct,
        bonus = rule.bonus,
    )
}

/// What a rule's query found, before the rule's metadata, the session date and
/// the evidence are joined on: its id with the query's columns.
static FOUND: LazyLock<SchemaRef> = LazyLock::new(|| {
    let text = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        text("rule_id", false),
        text("shop", false),
        text("session_id", false),
        text("agent_id", true),
        text("msg_id", true),
        Field::new(
            "msg_ids",
            DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
            true,
        ),
        Field::new("ts", timestamp_type(), true),
        text("detail", true),
    ]))
});

/// Runs `rule`'s query over the views registered in `ctx`: its hits, to be
/// [`enrich`]ed together with the other rules' hits.
pub async fn hits(ctx: &SessionContext, rule: &Rule) -> Result<Vec<RecordBatch>> {
    let query = rule_query(ctx, rule).await?;
    if let Template::Sql { .. } = rule.template {
        check_sessions_exist(ctx, rule, &query).await?;
    }
    let sql = format!(
        "SELECT {} AS rule_id, shop, session_id, agent_id, msg_id, msg_ids, ts, detail FROM ({query}) AS v",
        quote(&rule.id)
    );
    let (_, batches) = engine::query(ctx, &sql)
        .await
        .map_err(|e| rule_error(rule, rule.template.name(), &e))?;
    batches
        .iter()
        .map(|b| engine::decode::conform(b, &FOUND))
        .collect()
}

/// The `violations` rows of the hits of `rules`: one join for all of them with
/// the rules' metadata, the sessions (for the date) and the anchor messages (for
/// the evidence), rather than one per rule.
pub async fn enrich(
    ctx: &SessionContext,
    rules: &[&Rule],
    found: Vec<RecordBatch>,
) -> Result<Vec<RecordBatch>> {
    let meta = rule_meta(rules)?;
    ctx.register_table(
        "zj_found",
        Arc::new(MemTable::try_new(FOUND.clone(), vec![found])?),
    )?;
    ctx.register_table(
        "zj_rule_meta",
        Arc::new(MemTable::try_new(meta.schema(), vec![vec![meta]])?),
    )?;
    let enriched = engine::query(
        ctx,
        "SELECT s.local_date AS date, v.shop, v.session_id, COALESCE(v.agent_id, '(unassigned)') AS agent_id,\n       \
         v.rule_id, r.rule_name, r.severity, r.deduct, r.bonus,\n       \
         v.msg_id, v.msg_ids, v.ts, zj_mask(v.detail) AS detail, zj_mask(m.text) AS evidence\n\
         FROM zj_found v\n\
         JOIN zj_rule_meta r ON r.rule_id = v.rule_id\n\
         JOIN sessions s ON s.shop = v.shop AND s.session_id = v.session_id\n\
         LEFT JOIN messages m ON m.shop = v.shop AND m.session_id = v.session_id AND m.msg_id = v.msg_id",
    )
    .await;
    ctx.deregister_table("zj_found")?;
    ctx.deregister_table("zj_rule_meta")?;
    enriched?
        .1
        .iter()
        .map(|b| engine::decode::conform(b, &VIOLATIONS))
        .collect()
}

/// Each rule's name, severity and points, by id.
fn rule_meta(rules: &[&Rule]) -> Result<RecordBatch> {
    let text = |values: Vec<&str>| Arc::new(StringArray::from(values)) as ArrayRef;
    let number = |values: Vec<f64>| Arc::new(Float64Array::from(values)) as ArrayRef;
    Ok(RecordBatch::try_from_iter(vec![
        ("rule_id", text(rules.iter().map(|r| r.id.as_str()).collect())),
        ("rule_name", text(rules.iter().map(|r| r.name.as_str()).collect())),
        (
            "severity",
            text(rules.iter().map(|r| r.severity.as_str()).collect()),
        ),
        ("deduct", number(rules.iter().map(|r| r.deduct).collect())),
        ("bonus", number(rules.iter().map(|r| r.bonus).collect())),
    ])?)
}

/// Runs `rule` over the views registered in `ctx`, in the `violations` columns.
pub async fn violations(ctx: &SessionContext, rule: &Rule) -> Result<Vec<RecordBatch>> {
    let found = hits(ctx, rule).await?;
    enrich(ctx, &[rule], found).await
}

/// A row of an `sql` rule naming a session that does not exist is the rule's error.
async fn check_sessions_exist(ctx: &SessionContext, rule: &Rule, query: &str) -> Result<()> {
    let sql = format!(
        "SELECT v.shop, v.session_id FROM ({query}) AS v \
         LEFT ANTI JOIN sessions s ON s.shop = v.shop AND s.session_id = v.session_id LIMIT 1"
    );
    let (_, batches) = engine::query(ctx, &sql)
        .await
        .map_err(|e| rule_error(rule, "sql", &e))?;
    if let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) {
        let row = engine::columns(batch);
        let (shop, session) = (row.text("shop")?, row.text("session_id")?);
        let (shop, session) = (shop.or_empty(0), session.or_empty(0));
        return Err(Error::Usage(format!(
            "{}: rule {}: key `sql`: a row names session {session:?} of shop {shop:?}, which does not exist",
            rule.file.display(),
            rule.id
        )));
    }
    Ok(())
}
