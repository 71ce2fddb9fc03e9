//! The month's figures per (shop, agent), as SQL over the daily tables and the
//! orders (design §8), then each component's points, the score and the multiplier.

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
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
        let int =
            |c: usize| cast(batch.column(c), &DataType::Int64).map(|a| a.as_primitive::<Int64Type>().clone());
        let float = |c: usize| {
            cast(batch.column(c), &DataType::Float64).map(|a| a.as_primitive::<Float64Type>().clone())
        };
        let text = |c: usize| cast(batch.column(c), &DataType::Utf8);
        let (shop, agent) = (text(0)?, text(1)?);
        let ints: Vec<_> = [2, 3, 4, 5, 12, 13, 14, 15, 16, 17]
            .iter()
            .map(|c| int(*c))
            .collect::<Result<_, _>>()?;
        let floats: Vec<_> = [6, 7, 8, 9, 10, 11, 18]
            .iter()
            .map(|c| float(*c))
            .collect::<Result<_, _>>()?;
        for row in 0..batch.num_rows() {
            let i = |k: usize| ints[k].value(row);
            let oi = |k: usize| (!ints[k].is_null(row)).then(|| ints[k].value(row));
            let of = |k: usize| (!floats[k].is_null(row)).then(|| floats[k].value(row));
            let agent_id = agent.as_string::<i32>().value(row).to_string();
            let mut month = AgentMonth {
                shop: shop.as_string::<i32>().value(row).to_string(),
                platform: metrics.get(&agent_id).copied(),
                agent_id,
                days_worked: i(0),
                sessions: i(1),
                agent_msgs: i(2),
                rounds: i(3),
                first_response_avg_s: of(0),
                response_avg_s: of(1),
                response_p90_s: of(2),
                within_30s_rate: of(3),
                within_180s_rate: of(4),
                qa_score: of(5),
                unanswered: i(4),
                violations: i(5),
                critical_sessions: i(6),
                inquiries: oi(7),
                converted_inquiries: oi(8),
                orders: oi(9),
                agent_sales: of(6),
                ..AgentMonth::default()
            };
            score(&mut month, config);
            agents.push(month);
        }
    }
    Ok(agents)
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
