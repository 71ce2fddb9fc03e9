//! Running a rule: its query plus the rule's metadata, the session date and the
//! masked evidence, in the `violations` columns of design §7.

use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;

use crate::engine;
use crate::error::{Error, Result};
use crate::rules::compile::{compile, quote, wrap_sql_rule};
use crate::rules::spec::{Rule, Template};
use crate::schema::VIOLATIONS;

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

/// Runs `rule` over the views registered in `ctx`.
pub async fn violations(ctx: &SessionContext, rule: &Rule) -> Result<Vec<RecordBatch>> {
    let query = rule_query(ctx, rule).await?;
    if let Template::Sql { .. } = rule.template {
        check_sessions_exist(ctx, rule, &query).await?;
    }
    let (_, batches) = engine::query(ctx, &violations_sql(rule, &query))
        .await
        .map_err(|e| rule_error(rule, rule.template.name(), &e))?;
    batches
        .iter()
        .map(|b| engine::decode::conform(b, &VIOLATIONS))
        .collect()
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
