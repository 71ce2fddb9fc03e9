//! The back-office files of the KPI: `orders.csv` (shop, order_id, customer_id,
//! paid_at, amount) and `metrics.csv` (agent_id, month, good_reviews, reviews,
//! complaints). Payroll is paid from them, so a bad row is an error naming its
//! file, line and field, never a row silently left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    Date32Builder, Decimal128Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::error::{Error, Result};
use crate::ingest::timestamp::parse_text;
use crate::schema::timestamp_type;
use crate::timezone::{TimeZones, local_date_time};

/// Cents as Decimal128(18, 2): sums of money stay exact.
pub const AMOUNT_TYPE: DataType = DataType::Decimal128(18, 2);

pub fn orders_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("shop", DataType::Utf8, false),
        Field::new("order_id", DataType::Utf8, false),
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("paid_at", timestamp_type(), false),
        Field::new("paid_date", DataType::Date32, false),
        Field::new("amount", AMOUNT_TYPE, false),
    ]))
}

/// One agent's platform metrics for the month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentMetrics {
    pub good_reviews: u64,
    pub reviews: u64,
    pub complaints: u64,
}

/// Reads a CSV with a header into (line, field → value) rows. A UTF-8 BOM (Excel)
/// is fine; the named columns are required, others are ignored.
fn read_rows(path: &Path, required: &[&str]) -> Result<Vec<(u64, BTreeMap<String, String>)>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes)).map_err(|e| {
        Error::Input {
            path: path.to_path_buf(),
            message: format!("not UTF-8 ({e}); if it is GBK, convert it: iconv -f GBK -t UTF-8"),
        }
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Error::Input {
            path: path.to_path_buf(),
            message: format!("line 1: {e}"),
        })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|r| !header.iter().any(|h| h == r))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: format!(
                "line 1: the header lacks {} (it has {}); the columns are {}",
                missing.join(", "),
                header.join(", "),
                required.join(", ")
            ),
        });
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| Error::Input {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let row = header
            .iter()
            .cloned()
            .zip(record.iter().map(|v| v.trim().to_string()))
            .collect();
        rows.push((line, row));
    }
    Ok(rows)
}

fn bad_rows(path: &Path, problems: Vec<String>) -> Error {
    let shown: Vec<String> = problems.iter().take(20).cloned().collect();
    let more = problems.len().saturating_sub(shown.len());
    Error::Input {
        path: path.to_path_buf(),
        message: format!(
            "{} bad row(s); fix them and run again:\n  {}{}",
            problems.len(),
            shown.join("\n  "),
            if more > 0 {
                format!("\n  ... and {more} more")
            } else {
                String::new()
            }
        ),
    }
}

/// Parses `199`, `199.9` or `199.90` into cents.
fn parse_amount(text: &str) -> Option<i128> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || fraction.len() > 2 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let cents: i128 = format!("{fraction:0<2}").parse().ok()?;
    Some(whole.parse::<i128>().ok()? * 100 + cents)
}

/// Reads `orders.csv`; `paid_at` is read like message `ts` (naive times in the
/// shop's zone) and dated in the shop's zone.
pub fn read_orders(path: &Path, zones: &TimeZones) -> Result<RecordBatch> {
    let rows = read_rows(path, &["shop", "order_id", "customer_id", "paid_at", "amount"])?;
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let (mut shop, mut order, mut customer) =
        (StringBuilder::new(), StringBuilder::new(), StringBuilder::new());
    let mut paid_at = TimestampMicrosecondBuilder::new().with_timezone("UTC");
    let mut paid_date = Date32Builder::new();
    let mut amount = Decimal128Builder::new().with_data_type(AMOUNT_TYPE);
    for (line, row) in rows {
        let field = |name: &str| row.get(name).map(String::as_str).unwrap_or("");
        let mut problem = |what: String| problems.push(format!("{}:{line}: {what}", path.display()));
        for name in ["shop", "order_id", "customer_id"] {
            if field(name).is_empty() {
                problem(format!("field {name:?} is empty"));
            }
        }
        let zone = zones.for_shop(field("shop"));
        let when = match parse_text(field("paid_at"), zone) {
            Ok(micros) => Some(micros),
            Err(reason) => {
                problem(format!("field \"paid_at\": {reason}"));
                None
            }
        };
        let cents = parse_amount(field("amount"));
        if cents.is_none() {
            problem(format!(
                "field \"amount\": {:?} is not an amount of money: write yuan with at most two decimals, like 199.90",
                field("amount")
            ));
        }
        if !seen.insert((field("shop").to_string(), field("order_id").to_string())) {
            problem(format!(
                "order {:?} of shop {:?} appears twice",
                field("order_id"),
                field("shop")
            ));
        }
        if let (Some(micros), Some(cents)) = (when, cents) {
            shop.append_value(field("shop"));
            order.append_value(field("order_id"));
            customer.append_value(field("customer_id"));
            paid_at.append_value(micros);
            paid_date.append_value(local_date_time(zone, micros).0);
            amount.append_value(cents);
        }
    }
    if !problems.is_empty() {
        return Err(bad_rows(path, problems));
    }
    Ok(RecordBatch::try_new(
        orders_schema(),
        vec![
            Arc::new(shop.finish()),
            Arc::new(order.finish()),
            Arc::new(customer.finish()),
            Arc::new(paid_at.finish()),
            Arc::new(paid_date.finish()),
            Arc::new(amount.finish()),
        ],
    )?)
}

/// Reads `metrics.csv` rows of `month` (`YYYY-MM`); rows of other months are skipped.
pub fn read_metrics(path: &Path, month: &str) -> Result<BTreeMap<String, (u64, AgentMetrics)>> {
    let rows = read_rows(
        path,
        &["agent_id", "month", "good_reviews", "reviews", "complaints"],
    )?;
    let mut problems = Vec::new();
    let mut metrics = BTreeMap::new();
    for (line, row) in rows {
        let field = |name: &str| row.get(name).map(String::as_str).unwrap_or("");
        let mut problem = |what: String| problems.push(format!("{}:{line}: {what}", path.display()));
        if field("month") != month {
            if !is_month(field("month")) {
                problem(format!(
                    "field \"month\": {:?} is not a month like {month}",
                    field("month")
                ));
            }
            continue;
        }
        let count = |name: &str, problem: &mut dyn FnMut(String)| match field(name).parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                problem(format!(
                    "field {name:?}: {:?} is not a whole number ≥ 0",
                    field(name)
                ));
                None
            }
        };
        let good = count("good_reviews", &mut problem);
        let reviews = count("reviews", &mut problem);
        let complaints = count("complaints", &mut problem);
        let agent = field("agent_id").to_string();
        if agent.is_empty() {
            problem("field \"agent_id\" is empty".into());
            continue;
        }
        let (Some(good), Some(reviews), Some(complaints)) = (good, reviews, complaints) else {
            continue;
        };
        if good > reviews {
            problem(format!("good_reviews {good} is more than reviews {reviews}"));
            continue;
        }
        let entry = AgentMetrics {
            good_reviews: good,
            reviews,
            complaints,
        };
        if let Some((first, _)) = metrics.insert(agent.clone(), (line, entry)) {
            problem(format!(
                "agent {agent:?} already has a row for {month} on line {first}"
            ));
        }
    }
    if !problems.is_empty() {
        return Err(bad_rows(path, problems));
    }
    Ok(metrics)
}

fn is_month(text: &str) -> bool {
    chrono::NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").is_ok() && text.len() == 7
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_cents() {
        assert_eq!(parse_amount("199"), Some(19_900));
        assert_eq!(parse_amount("199.9"), Some(19_990));
        assert_eq!(parse_amount("0.05"), Some(5));
        for bad in ["", "12,5", "1.234", "-3", "abc", ".5", "1e3"] {
            assert_eq!(parse_amount(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_bad_order_row_is_an_error_naming_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("orders.csv");
        std::fs::write(
            &path,
            "\u{feff}shop,order_id,customer_id,paid_at,amount\n\
             s1,o1,c1,2026-11-11 10:05:00,199.00\n\
             s1,o2,c2,2026-11-11 10:06:00,12,5\n",
        )
        .unwrap();
        let err = read_orders(&path, &TimeZones::default()).unwrap_err().to_string();
        assert!(err.contains("orders.csv"), "{err}");
        std::fs::write(
            &path,
            "shop,order_id,customer_id,paid_at,amount\ns1,o1,c1,2026-11-11 10:05:00,199.00\ns1,o2,c2,yesterday,abc\n",
        )
        .unwrap();
        let err = read_orders(&path, &TimeZones::default()).unwrap_err().to_string();
        assert!(err.contains("orders.csv:3: field \"paid_at\""), "{err}");
        assert!(err.contains("orders.csv:3: field \"amount\": \"abc\""), "{err}");
    }

    #[test]
    fn metrics_of_other_months_are_skipped_and_duplicates_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        std::fs::write(
            &path,
            "agent_id,month,good_reviews,reviews,complaints\nA,2026-10,1,2,0\nA,2026-11,95,100,1\n",
        )
        .unwrap();
        let m = read_metrics(&path, "2026-11").unwrap();
        assert_eq!(m["A"].1.reviews, 100);
        std::fs::write(
            &path,
            "agent_id,month,good_reviews,reviews,complaints\nA,2026-11,1,2,0\nA,2026-11,95,100,1\nB,2026-11,5,3,0\n",
        )
        .unwrap();
        let err = read_metrics(&path, "2026-11").unwrap_err().to_string();
        assert!(
            err.contains("metrics.csv:3: agent \"A\" already has a row for 2026-11 on line 2"),
            "{err}"
        );
        assert!(
            err.contains("metrics.csv:4: good_reviews 5 is more than reviews 3"),
            "{err}"
        );
    }
}
