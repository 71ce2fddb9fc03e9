//! The month's figures per (shop, agent), as SQL over the daily tables and the
//! orders (design §8), then each component's points, the score and the multiplier.

use std::collections::BTreeMap;

use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;

use super::config::{KpiConfig, Metric};
use super::inputs::AgentMetrics;
use crate::engine;
use crate::error::Result;
use crate::score::response_ctes;

/// What the month gave one agent, and what it scores.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentMonth {
    pub shop: String,
    pub agent_id: String,
    pub days_worked: i64,
    pub sessions: i64,
    pub agent_msgs: i64,
    pub rounds: i64,
    pub first_response_avg_s: Option<f64>,
    pub response_avg_s: Option<f64>,
    pub response_p90_s: Option<f64>,
    pub within_30s_rate: Option<f64>,
    pub within_180s_rate: Option<f64>,
    pub qa_score: Option<f64>,
    pub unanswered: i64,
    pub violations: i64,
    pub critical_sessions: i64,
    /// `None` without an orders file.
    pub inquiries: Option<i64>,
    pub converted_inquiries: Option<i64>,
    pub orders: Option<i64>,
    /// Yuan, exact to the cent (summed as decimals).
    pub agent_sales: Option<f64>,
    /// `None` without a metrics row.
    pub platform: Option<AgentMetrics>,
    /// Per component, in `kpi.toml` order: (value, points), `None` for no data.
    pub components: Vec<Option<(f64, f64)>>,
    pub kpi_score: Option<f64>,
    pub multiplier: Option<f64>,
}

impl AgentMonth {
    pub fn value(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::ResponseAvgS => self.response_avg_s,
            Metric::FirstResponseAvgS => self.first_response_avg_s,
            Metric::ResponseP90S => self.response_p90_s,
            Metric::Within30sRate => self.within_30s_rate,
            Metric::Within180sRate => self.within_180s_rate,
            Metric::QaScore => self.qa_score,
            Metric::Unanswered => Some(self.unanswered as f64),
            Metric::Violations => Some(self.violations as f64),
            Metric::CriticalSessions => Some(self.critical_sessions as f64),
            Metric::InquiryConversion => match (self.inquiries, self.converted_inquiries) {
                (Some(n), Some(converted)) if n > 0 => Some(converted as f64 / n as f64),
                _ => None,
            },
            Metric::AgentSales => self.agent_sales,
            Metric::GoodReviewRate => self
                .platform
                .filter(|p| p.reviews > 0)
                .map(|p| p.good_reviews as f64 / p.reviews as f64),
            Metric::Complaints => self.platform.map(|p| p.complaints as f64),
        }
    }

    /// The components without data, by metric name.
    pub fn no_data(&self, config: &KpiConfig) -> Vec<&'static str> {
        config
            .components
            .iter()
            .zip(&self.components)
            .filter(|(_, v)| v.is_none())
            .map(|(c, _)| c.metric.name())
            .collect()
    }
}

/// The month's figures per agent. `orders` must be registered when `with_orders`.
fn month_sql(with_orders: bool) -> String {
    let conversion = if with_orders {
        ", closes AS (\n  \
           SELECT shop, customer_id, agent_id, unnest(closed_at) AS closed_at FROM all_inquiries\n\
         ), last_closer AS (\n  \
           SELECT o.shop, o.order_id, o.customer_id, o.paid_at, o.paid_date, o.amount,\n         \
                  last_value(c.agent_id ORDER BY c.closed_at, c.agent_id) AS agent_id\n  \
           FROM orders o JOIN closes c\n    \
             ON c.shop = o.shop AND c.customer_id = o.customer_id AND c.closed_at < o.paid_at\n  \
           GROUP BY o.shop, o.order_id, o.customer_id, o.paid_at, o.paid_date, o.amount\n\
         ), credited AS (\n  \
           SELECT l.shop, l.order_id, l.customer_id, l.agent_id, l.amount, max(i.date) AS inquiry_date\n  \
           FROM last_closer l JOIN inquiries i\n    \
             ON i.shop = l.shop AND i.customer_id = l.customer_id AND i.agent_id = l.agent_id\n    \
            AND i.first_opened_at < l.paid_at\n    \
            AND arrow_cast(l.paid_date, 'Int32') - arrow_cast(i.date, 'Int32') IN (0, 1)\n  \
           GROUP BY l.shop, l.order_id, l.customer_id, l.agent_id, l.amount\n\
         ), converted AS (\n  \
           SELECT DISTINCT shop, customer_id, agent_id, inquiry_date FROM credited\n\
         ), conversion AS (\n  \
           SELECT i.shop, i.agent_id, count(*) AS inquiries, count(v.inquiry_date) AS converted_inquiries\n  \
           FROM inquiries i LEFT JOIN converted v\n    \
             ON v.shop = i.shop AND v.customer_id = i.customer_id AND v.agent_id = i.agent_id AND v.inquiry_date = i.date\n  \
           GROUP BY i.shop, i.agent_id\n\
         ), sales AS (\n  \
           SELECT shop, agent_id, count(*) AS orders, sum(amount) AS agent_sales FROM credited GROUP BY shop, agent_id\n\
         )"
    } else {
        ", conversion AS (\n  \
           SELECT CAST(NULL AS VARCHAR) AS shop, CAST(NULL AS VARCHAR) AS agent_id,\n         \
                  CAST(NULL AS BIGINT) AS inquiries, CAST(NULL AS BIGINT) AS converted_inquiries WHERE false\n\
         ), sales AS (\n  \
           SELECT CAST(NULL AS VARCHAR) AS shop, CAST(NULL AS VARCHAR) AS agent_id,\n         \
                  CAST(NULL AS BIGINT) AS orders, CAST(NULL AS DECIMAL(18, 2)) AS agent_sales WHERE false\n\
         )"
    };
    let zero = if with_orders { "0" } else { "NULL" };
    format!(
        "WITH cards AS (\n  \
           SELECT shop, agent_id, count(DISTINCT date) AS days_worked, sum(sessions) AS sessions,\n         \
                  sum(agent_msgs) AS agent_msgs, sum(unanswered) AS unanswered, sum(violations) AS violations,\n         \
                  sum(critical_sessions) AS critical_sessions,\n         \
                  -- qa_score × sessions gives back each day's exact sum of scores (six decimals)\n         \
                  CAST(sum(CAST(round(qa_score * sessions, 6) AS DECIMAL(38, 6))) AS DOUBLE) / sum(sessions) AS qa_score\n  \
           FROM scorecards GROUP BY shop, agent_id\n\
         ), {responses}{conversion}\n\
         SELECT c.shop, c.agent_id, c.days_worked, c.sessions, c.agent_msgs, COALESCE(r.rounds, 0) AS rounds,\n       \
                f.first_response_avg_s, r.response_avg_s, r.response_p90_s, r.within_30s_rate, r.within_180s_rate,\n       \
                c.qa_score, c.unanswered, c.violations, c.critical_sessions,\n       \
                COALESCE(q.inquiries, {zero}) AS inquiries, COALESCE(q.converted_inquiries, {zero}) AS converted_inquiries,\n       \
                COALESCE(s.orders, {zero}) AS orders, CAST(COALESCE(s.agent_sales, {zero}) AS DOUBLE) AS agent_sales\n\
         FROM cards c\n\
         LEFT JOIN responses r ON r.shop = c.shop AND r.agent_id = c.agent_id\n\
         LEFT JOIN first_responses f ON f.shop = c.shop AND f.agent_id = c.agent_id\n\
         LEFT JOIN conversion q ON q.shop = c.shop AND q.agent_id = c.agent_id\n\
         LEFT JOIN sales s ON s.shop = c.shop AND s.agent_id = c.agent_id\n\
         ORDER BY c.shop, c.agent_id",
        responses = response_ctes("SELECT * FROM rounds", "shop, agent_id"),
    )
}

/// The month's figures and scores per agent. `scorecards`, `rounds`, `inquiries`,
/// `all_inquiries` (and `orders` when `with_orders`) must be registered.
pub async fn agent_months(
    ctx: &SessionContext,
    with_orders: bool,
    metrics: &BTreeMap<String, AgentMetrics>,
    config: &KpiConfig,
) -> Result<Vec<AgentMonth>> {
    ctx.register_udf(crate::score::percentile::PercentileCont::udf());
    let (_, batches) = engine::query(ctx, &month_sql(with_orders)).await?;
    let mut agents = Vec::new();
    for batch in &batches {
        agents.extend(decode_months(batch, metrics, config)?);
    }
    Ok(agents)
}

/// The rows of the month query, read by column name, scored.
fn decode_months(
    batch: &RecordBatch,
    metrics: &BTreeMap<String, AgentMetrics>,
    config: &KpiConfig,
) -> Result<Vec<AgentMonth>> {
    let c = engine::columns(batch);
    let (shop, agent) = (c.text("shop")?, c.text("agent_id")?);
    let int = |name: &str| c.int(name);
    let (days_worked, sessions, agent_msgs, rounds) = (
        int("days_worked")?,
        int("sessions")?,
        int("agent_msgs")?,
        int("rounds")?,
    );
    let (unanswered, violations, critical_sessions) =
        (int("unanswered")?, int("violations")?, int("critical_sessions")?);
    let (inquiries, converted_inquiries, orders) =
        (int("inquiries")?, int("converted_inquiries")?, int("orders")?);
    let float = |name: &str| c.float(name);
    let (first_response, response_avg, response_p90) = (
        float("first_response_avg_s")?,
        float("response_avg_s")?,
        float("response_p90_s")?,
    );
    let (within_30s, within_180s) = (float("within_30s_rate")?, float("within_180s_rate")?);
    let (qa_score, agent_sales) = (float("qa_score")?, float("agent_sales")?);
    let mut months = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let agent_id = agent.or_empty(row).to_string();
        let mut month = AgentMonth {
            shop: shop.or_empty(row).to_string(),
            platform: metrics.get(&agent_id).copied(),
            agent_id,
            days_worked: days_worked.get(row).unwrap_or(0),
            sessions: sessions.get(row).unwrap_or(0),
            agent_msgs: agent_msgs.get(row).unwrap_or(0),
            rounds: rounds.get(row).unwrap_or(0),
            first_response_avg_s: first_response.get(row),
            response_avg_s: response_avg.get(row),
            response_p90_s: response_p90.get(row),
            within_30s_rate: within_30s.get(row),
            within_180s_rate: within_180s.get(row),
            qa_score: qa_score.get(row),
            unanswered: unanswered.get(row).unwrap_or(0),
            violations: violations.get(row).unwrap_or(0),
            critical_sessions: critical_sessions.get(row).unwrap_or(0),
            inquiries: inquiries.get(row),
            converted_inquiries: converted_inquiries.get(row),
            orders: orders.get(row),
            agent_sales: agent_sales.get(row),
            ..AgentMonth::default()
        };
        score(&mut month, config);
        months.push(month);
    }
    Ok(months)
}

/// Points per component, `kpi_score = Σ weight·points / Σ weight` over the
/// components with data, and the payout multiplier.
pub fn score(month: &mut AgentMonth, config: &KpiConfig) {
    month.components = config
        .components
        .iter()
        .map(|c| month.value(c.metric).map(|v| (v, c.points(v))))
        .collect();
    let (mut weighted, mut weights) = (0.0, 0.0);
    for (component, scored) in config.components.iter().zip(&month.components) {
        if let Some((_, points)) = scored {
            weighted += component.weight * points;
            weights += component.weight;
        }
    }
    month.kpi_score = (weights > 0.0).then(|| weighted / weights);
    month.multiplier = month.kpi_score.map(|s| config.multiplier(s));
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [(&str, &str); 19] = [
        ("shop", "'s'"),
        ("agent_id", "'s:a'"),
        ("days_worked", "2"),
        ("sessions", "30"),
        ("agent_msgs", "300"),
        ("rounds", "90"),
        ("first_response_avg_s", "11.5"),
        ("response_avg_s", "20.25"),
        ("response_p90_s", "61.0"),
        ("within_30s_rate", "0.75"),
        ("within_180s_rate", "0.95"),
        ("qa_score", "97.5"),
        ("unanswered", "1"),
        ("violations", "4"),
        ("critical_sessions", "0"),
        ("inquiries", "20"),
        ("converted_inquiries", "5"),
        ("orders", "6"),
        ("agent_sales", "1234.56"),
    ];

    async fn months_of(columns: &[(&str, &str)]) -> Vec<AgentMonth> {
        let select: Vec<String> = columns
            .iter()
            .map(|(name, value)| format!("{value} AS {name}"))
            .collect();
        let ctx = SessionContext::new();
        let batches = ctx
            .sql(&format!("SELECT {}", select.join(", ")))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/kpi.toml");
        let config = super::super::config::load(&shipped).unwrap();
        decode_months(&batches[0], &BTreeMap::new(), &config).unwrap()
    }

    /// Payroll must not depend on the order of the month query's columns.
    #[tokio::test]
    async fn reordering_the_month_query_changes_nothing() {
        let forward = months_of(&COLUMNS).await;
        let mut reversed = COLUMNS;
        reversed.reverse();
        assert_eq!(forward, months_of(&reversed).await);
        let month = &forward[0];
        assert_eq!(
            (month.rounds, month.orders, month.agent_sales),
            (90, Some(6), Some(1234.56))
        );
        assert_eq!(
            (month.response_avg_s, month.response_p90_s),
            (Some(20.25), Some(61.0))
        );
    }
}
