//! What a reference day says, as SQL over the `rounds` view: the customers
//! received per local hour (the 大促系数), and what one agent handles in a busy
//! hour (the measured capacity).

use chrono::NaiveDate;
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::prelude::SessionContext;

use super::plan::HOURS;
use crate::engine;
use crate::error::{Error, Result};

/// A customer: `customer_id`, else the session (a buyer the export does not name).
/// `chr(1)` keeps a session key from ever equalling a real customer id.
const CUSTOMER: &str =
    "CASE WHEN r.customer_id IS NULL THEN concat(chr(1), r.session_id) ELSE r.customer_id END";

/// A busy hour receives at least this share of the day's peak hour's customers.
pub const BUSY_SHARE: f64 = 0.5;

/// One reference day of one shop.
#[derive(Debug, Clone, PartialEq)]
pub struct DayLoad {
    pub day: NaiveDate,
    /// Distinct customers who opened a round in each local hour.
    pub hourly: [u64; HOURS],
    /// Distinct customers who opened a round that day.
    pub day_customers: u64,
}

impl DayLoad {
    /// 大促系数 of each hour: its customers over the day's.
    pub fn coefficients(&self) -> [f64; HOURS] {
        let mut out = [0.0; HOURS];
        if self.day_customers > 0 {
            for (c, n) in out.iter_mut().zip(self.hourly) {
                *c = n as f64 / self.day_customers as f64;
            }
        }
        out
    }
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn column_i64(batch: &RecordBatch, name: &str) -> Result<Vec<i64>> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| Error::Internal(format!("forecast query lost column {name}")))?;
    let column = cast(column, &DataType::Int64)?;
    Ok(column
        .as_primitive::<Int64Type>()
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect())
}

/// The shops with rounds opened on `day`, sorted.
pub async fn shops(ctx: &SessionContext, day: NaiveDate) -> Result<Vec<String>> {
    let sql = format!("SELECT DISTINCT shop FROM rounds WHERE local_date = DATE '{day}' ORDER BY shop");
    let (_, batches) = engine::query(ctx, &sql).await?;
    let mut shops = Vec::new();
    for batch in &batches {
        let column = cast(batch.column_by_name("shop").expect("selected"), &DataType::Utf8)?;
        shops.extend(column.as_string::<i32>().iter().flatten().map(str::to_string));
    }
    Ok(shops)
}

/// The customers `shop` received on `day`, per local hour and in all.
pub async fn day_load(ctx: &SessionContext, shop: &str, day: NaiveDate) -> Result<DayLoad> {
    let sql = format!(
        "WITH r AS (
           SELECT CAST(extract(hour FROM r.local_time) AS BIGINT) AS hour, {CUSTOMER} AS customer
           FROM rounds r WHERE r.shop = {shop} AND r.local_date = DATE '{day}')
         SELECT hour, count(DISTINCT customer) AS customers,
                (SELECT count(DISTINCT customer) FROM r) AS day_customers
         FROM r GROUP BY hour ORDER BY hour",
        shop = quote(shop)
    );
    let (_, batches) = engine::query(ctx, &sql).await?;
    let mut load = DayLoad {
        day,
        hourly: [0; HOURS],
        day_customers: 0,
    };
    for batch in &batches {
        let (hours, customers) = (column_i64(batch, "hour")?, column_i64(batch, "customers")?);
        let totals = column_i64(batch, "day_customers")?;
        for ((hour, n), total) in hours.into_iter().zip(customers).zip(totals) {
            let slot = usize::try_from(hour).ok().filter(|h| *h < HOURS);
            let slot = slot.ok_or_else(|| Error::Internal(format!("local hour {hour} out of range")))?;
            load.hourly[slot] = n as u64;
            load.day_customers = total as u64;
        }
    }
    Ok(load)
}

/// For every (agent, local hour) of `day` in which the agent closed rounds during
/// one of the shop's busy hours, the distinct customers of those rounds. The hour
/// is the closing message's; busy hours are those receiving at least
/// [`BUSY_SHARE`] of the peak hour's customers.
pub async fn agent_hours(ctx: &SessionContext, shop: &str, day: NaiveDate) -> Result<Vec<u64>> {
    let sql = format!(
        "WITH opened AS (
           SELECT CAST(extract(hour FROM r.local_time) AS BIGINT) AS hour, count(DISTINCT {CUSTOMER}) AS customers
           FROM rounds r WHERE r.shop = {shop} AND r.local_date = DATE '{day}' GROUP BY 1),
         busy AS (SELECT hour FROM opened WHERE customers >= {BUSY_SHARE} * (SELECT max(customers) FROM opened)),
         closed AS (
           SELECT r.agent_id, CAST(extract(hour FROM m.local_time) AS BIGINT) AS hour, {CUSTOMER} AS customer
           FROM rounds r JOIN messages m
             ON m.shop = r.shop AND m.session_id = r.session_id AND m.seq = r.close_seq
           WHERE r.shop = {shop} AND r.responder_role = 'agent' AND m.local_date = DATE '{day}')
         SELECT c.agent_id, c.hour, count(DISTINCT c.customer) AS customers
         FROM closed c JOIN busy b ON c.hour = b.hour
         GROUP BY c.agent_id, c.hour ORDER BY c.agent_id, c.hour",
        shop = quote(shop)
    );
    let (_, batches) = engine::query(ctx, &sql).await?;
    let mut counts = Vec::new();
    for batch in &batches {
        counts.extend(column_i64(batch, "customers")?.into_iter().map(|n| n as u64));
    }
    Ok(counts)
}
