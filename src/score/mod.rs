//! Scoring (design §6) and the per-agent tables (design §7), as SQL over the views
//! and the `violations` table.
//!
//! Payroll needs the same numbers on every re-run and every machine, whatever the
//! partitioning and thread timing. So sums are exact: points are summed as
//! decimals and latencies as integer microseconds, and turned into floats only
//! at the end. A float sum would depend on the order rows arrive in.

pub mod percentile;

use datafusion::prelude::SessionContext;

use crate::engine;
use crate::error::Result;
use crate::rules::compile::quote;
use crate::rules::pack::Scoring;
use crate::rules::{RulePack, Template};

/// Exact points: six decimals are more than any `deduct` needs.
const POINTS: &str = "DECIMAL(38, 6)";

/// The tables this module registers, in the order they depend on each other.
pub const TABLES: [&str; 3] = ["conversation_scores", "scorecards", "rule_hits"];

/// Registers `conversation_scores`, `scorecards` and `rule_hits` as views over
/// `agent_sessions`, `rounds` and `violations` (which must be registered).
pub async fn register(ctx: &SessionContext, pack: &RulePack) -> Result<()> {
    let queries = [
        conversation_scores_sql(&pack.scoring),
        scorecards_sql(&unanswered_rules(pack)),
        rule_hits_sql(),
    ];
    ctx.register_udf(percentile::PercentileCont::udf());
    for (name, sql) in TABLES.iter().zip(queries) {
        let view = engine::read_only_sql(ctx, &sql).await?.into_view();
        ctx.register_table(*name, view)?;
    }
    Ok(())
}

fn points(value: f64) -> String {
    format!("CAST('{value}' AS {POINTS})")
}

fn unanswered_rules(pack: &RulePack) -> Vec<String> {
    pack.enabled()
        .filter(|r| matches!(r.template, Template::Unanswered { .. }))
        .map(|r| r.id.clone())
        .collect()
}

/// One score per (session, agent) in `agent_sessions` (design §6). A pure-bonus
/// rule (bonus, no deduct, not critical) is not counted as a violation.
pub fn conversation_scores_sql(scoring: &Scoring) -> String {
    format!(
        "WITH rated AS (\n  \
           SELECT shop, session_id, agent_id, severity = 'critical' AS critical,\n         \
                  CAST(deduct AS {POINTS}) AS deduct, CAST(bonus AS {POINTS}) AS bonus,\n         \
                  bonus > 0 AND deduct = 0 AND severity <> 'critical' AS pure_bonus\n  \
           FROM violations\n\
         ), per_conversation AS (\n  \
           SELECT shop, session_id, agent_id,\n         \
                  count(*) FILTER (WHERE NOT pure_bonus) AS violations,\n         \
                  sum(deduct) FILTER (WHERE NOT pure_bonus) AS deducted,\n         \
                  sum(bonus) - sum(deduct) AS points,\n         \
                  bool_or(critical) AS critical\n  \
           FROM rated GROUP BY shop, session_id, agent_id\n\
         )\n\
         SELECT a.session_date AS date, a.shop, a.session_id, a.agent_id, a.agent_msgs,\n       \
                COALESCE(v.violations, 0) AS violations,\n       \
                COALESCE(v.deducted, {zero}) AS deducted,\n       \
                COALESCE(v.critical, false) AS critical,\n       \
                CASE WHEN COALESCE(v.critical, false) THEN {floor}\n            \
                     ELSE least(greatest({base} + COALESCE(v.points, {zero}), {floor}), {ceiling}) END AS score\n\
         FROM agent_sessions a\n\
         LEFT JOIN per_conversation v\n  \
           ON v.shop = a.shop AND v.session_id = a.session_id AND v.agent_id = a.agent_id",
        zero = points(0.0),
        base = points(scoring.base),
        floor = points(scoring.floor),
        ceiling = points(scoring.ceiling),
    )
}

/// Scorecards (design §7): one row per (date, shop, agent) with an agent session.
/// Latency figures cover the rounds the agent closed in its sessions of that date.
pub fn scorecards_sql(unanswered_rules: &[String]) -> String {
    let unanswered = if unanswered_rules.is_empty() {
        "false".to_string()
    } else {
        let ids: Vec<String> = unanswered_rules.iter().map(|id| quote(id)).collect();
        format!("rule_id IN ({})", ids.join(", "))
    };
    format!(
        "WITH conversations AS (\n  \
           SELECT date, shop, agent_id, count(*) AS sessions, sum(agent_msgs) AS agent_msgs,\n         \
                  sum(violations) AS violations, sum(deducted) AS deducted,\n         \
                  CAST(sum(score) AS DOUBLE) / count(*) AS qa_score,\n         \
                  count(*) FILTER (WHERE critical) AS critical_sessions\n  \
           FROM conversation_scores GROUP BY date, shop, agent_id\n\
         ), {responses}, unanswered_rounds AS (\n  \
           SELECT DISTINCT date, shop, agent_id, session_id, msg_id FROM violations WHERE {unanswered}\n\
         ), unanswered AS (\n  \
           SELECT date, shop, agent_id, count(*) AS unanswered FROM unanswered_rounds GROUP BY date, shop, agent_id\n\
         )\n\
         SELECT c.date, c.shop, c.agent_id, c.sessions, c.agent_msgs, COALESCE(r.rounds, 0) AS rounds,\n       \
                f.first_response_avg_s, r.response_avg_s, r.response_p90_s, r.within_30s_rate, r.within_180s_rate,\n       \
                COALESCE(u.unanswered, 0) AS unanswered, c.violations, CAST(c.deducted AS DOUBLE) AS deducted,\n       \
                CAST(c.qa_score AS DOUBLE) AS qa_score, c.critical_sessions\n\
         FROM conversations c\n\
         LEFT JOIN responses r ON r.date = c.date AND r.shop = c.shop AND r.agent_id = c.agent_id\n\
         LEFT JOIN first_responses f ON f.date = c.date AND f.shop = c.shop AND f.agent_id = c.agent_id\n\
         LEFT JOIN unanswered u ON u.date = c.date AND u.shop = c.shop AND u.agent_id = c.agent_id",
        responses = response_ctes(
            "SELECT session_date AS date, * FROM rounds",
            "date, shop, agent_id"
        ),
    )
}

/// The CTEs `answered`, `responses` and `first_responses`: response figures of
/// the rounds agents closed, per `keys` (`date, shop, agent_id` for a day's
/// scorecards, `shop, agent_id` for a month). `rounds` is a query of the rounds
/// with their session's `date`. A first response is per session and date.
pub fn response_ctes(rounds: &str, keys: &str) -> String {
    format!(
        "answered AS (\n  \
           SELECT date, shop, session_id, agent_id, round_no, latency_s,\n         \
                  arrow_cast(closed_at, 'Int64') - arrow_cast(opened_at, 'Int64') AS latency_us\n  \
           FROM ({rounds}) AS r WHERE responder_role = 'agent'\n\
         ), responses AS (\n  \
           SELECT {keys}, count(*) AS rounds,\n         \
                  CAST(sum(latency_us) AS DOUBLE) / (count(*) * 1e6) AS response_avg_s,\n         \
                  zj_percentile_cont(array_agg(latency_s), 0.9) AS response_p90_s,\n         \
                  CAST(count(*) FILTER (WHERE latency_us <= 30000000) AS DOUBLE) / count(*) AS within_30s_rate,\n         \
                  CAST(count(*) FILTER (WHERE latency_us <= 180000000) AS DOUBLE) / count(*) AS within_180s_rate\n  \
           FROM answered GROUP BY {keys}\n\
         ), first_rounds AS (\n  \
           SELECT date, shop, session_id, agent_id, first_value(latency_us ORDER BY round_no) AS latency_us\n  \
           FROM answered GROUP BY date, shop, session_id, agent_id\n\
         ), first_responses AS (\n  \
           SELECT {keys}, CAST(sum(latency_us) AS DOUBLE) / (count(*) * 1e6) AS first_response_avg_s\n  \
           FROM first_rounds GROUP BY {keys}\n\
         )"
    )
}

/// Rule hits (design §7): one row per (date, shop, agent, rule), `(unassigned)`
/// included; `points` is Σ bonus − Σ deduct.
pub fn rule_hits_sql() -> String {
    format!(
        "SELECT date, shop, agent_id, rule_id, count(*) AS hits,\n       \
                CAST(sum(CAST(bonus AS {POINTS})) - sum(CAST(deduct AS {POINTS})) AS DOUBLE) AS points\n\
         FROM violations GROUP BY date, shop, agent_id, rule_id"
    )
}

#[cfg(test)]
mod tests;
