//! Per-date figures of a run, added up unit by unit: sessions, messages, rounds,
//! agents, violations by severity, and exact sums for the mean QA score and the
//! response rates. They become the manifest's counts and the report's headline.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type, Int64Type};
use datafusion::prelude::SessionContext;

use crate::engine;
use crate::error::Result;
use crate::outputs::manifest::Counts;
use crate::outputs::writers::date_of;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub sessions: u64,
    pub messages: u64,
    pub rounds: u64,
    pub agents: u64,
    pub violations: BTreeMap<String, u64>,
    /// Σ conversation scores in millionths, and how many conversations.
    pub score_micros: i128,
    pub conversations: u64,
    /// Rounds agents closed, and those within 30 s / 180 s.
    pub answered: u64,
    pub within_30s: u64,
    pub within_180s: u64,
}

impl Tally {
    pub fn add(&mut self, other: &Tally) {
        self.sessions += other.sessions;
        self.messages += other.messages;
        self.rounds += other.rounds;
        self.agents += other.agents;
        for (severity, n) in &other.violations {
            *self.violations.entry(severity.clone()).or_default() += n;
        }
        self.score_micros += other.score_micros;
        self.conversations += other.conversations;
        self.answered += other.answered;
        self.within_30s += other.within_30s;
        self.within_180s += other.within_180s;
    }

    pub fn counts(&self) -> Counts {
        let share = |n: u64| (self.answered > 0).then(|| n as f64 / self.answered as f64);
        Counts {
            sessions: self.sessions,
            messages: self.messages,
            rounds: self.rounds,
            agents: self.agents,
            violations: self.violations.values().sum(),
            violations_by_severity: self.violations.clone(),
            qa_score_avg: (self.conversations > 0)
                .then(|| self.score_micros as f64 / 1e6 / self.conversations as f64),
            within_30s_rate: share(self.within_30s),
            within_180s_rate: share(self.within_180s),
            ..Counts::default()
        }
    }
}

/// Millionths from a decimal's text (`1234.5`, `-3.250000`).
fn micros(text: &str) -> i128 {
    let (sign, digits) = text.strip_prefix('-').map_or((1, text), |rest| (-1, rest));
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let fraction: String = format!("{fraction:0<6}").chars().take(6).collect();
    sign * (whole.parse::<i128>().unwrap_or(0) * 1_000_000 + fraction.parse::<i128>().unwrap_or(0))
}

/// The figures of `dates` among the tables registered in `ctx` (one unit).
pub async fn unit_tally(ctx: &SessionContext, dates: &[NaiveDate]) -> Result<BTreeMap<NaiveDate, Tally>> {
    let list: Vec<String> = dates.iter().map(|d| format!("DATE '{d}'")).collect();
    let list = list.join(", ");
    let mut tally: BTreeMap<NaiveDate, Tally> = dates.iter().map(|d| (*d, Tally::default())).collect();
    let sessions = format!(
        "SELECT local_date, count(*), sum(messages), sum(rounds) FROM sessions \
         WHERE local_date IN ({list}) GROUP BY local_date"
    );
    for_rows(ctx, &sessions, |date, row| {
        let t = tally.entry(date).or_default();
        t.sessions = row.int(1);
        t.messages = row.int(2);
        t.rounds = row.int(3);
    })
    .await?;
    let agents = format!("SELECT date, count(*) FROM scorecards WHERE date IN ({list}) GROUP BY date");
    for_rows(ctx, &agents, |date, row| {
        tally.entry(date).or_default().agents = row.int(1)
    })
    .await?;
    let violations = format!(
        "SELECT date, count(*), severity FROM violations WHERE date IN ({list}) GROUP BY date, severity"
    );
    for_rows(ctx, &violations, |date, row| {
        tally
            .entry(date)
            .or_default()
            .violations
            .insert(row.text(2), row.int(1));
    })
    .await?;
    let scores = format!(
        "SELECT date, count(*), CAST(sum(score) AS VARCHAR) FROM conversation_scores \
         WHERE date IN ({list}) GROUP BY date"
    );
    for_rows(ctx, &scores, |date, row| {
        let t = tally.entry(date).or_default();
        t.conversations = row.int(1);
        t.score_micros = micros(&row.text(2));
    })
    .await?;
    let rates = format!(
        "SELECT session_date, count(*), count(*) FILTER (WHERE latency_us <= 30000000), \
                count(*) FILTER (WHERE latency_us <= 180000000) \
         FROM (SELECT session_date, arrow_cast(closed_at, 'Int64') - arrow_cast(opened_at, 'Int64') AS latency_us \
               FROM rounds WHERE responder_role = 'agent' AND session_date IN ({list})) AS r \
         GROUP BY session_date"
    );
    for_rows(ctx, &rates, |date, row| {
        let t = tally.entry(date).or_default();
        t.answered = row.int(1);
        t.within_30s = row.int(2);
        t.within_180s = row.int(3);
    })
    .await?;
    Ok(tally)
}

struct Row<'a> {
    batch: &'a RecordBatch,
    index: usize,
}

impl Row<'_> {
    fn int(&self, column: usize) -> u64 {
        let values = cast(self.batch.column(column), &DataType::Int64).expect("counts cast to Int64");
        let values = values.as_primitive::<Int64Type>();
        if values.is_null(self.index) {
            0
        } else {
            values.value(self.index).max(0) as u64
        }
    }

    fn text(&self, column: usize) -> String {
        let values = cast(self.batch.column(column), &DataType::Utf8).expect("text casts to Utf8");
        let values = values.as_string::<i32>();
        if values.is_null(self.index) {
            String::new()
        } else {
            values.value(self.index).to_string()
        }
    }
}

/// Calls `each` with every row of `sql`, whose first column is a date.
async fn for_rows(ctx: &SessionContext, sql: &str, mut each: impl FnMut(NaiveDate, &Row)) -> Result<()> {
    let (_, batches) = engine::query(ctx, sql).await?;
    for batch in &batches {
        let dates = batch.column(0).as_primitive::<Date32Type>();
        for index in 0..batch.num_rows() {
            if let Some(date) = date_of(dates.value(index)) {
                each(date, &Row { batch, index });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_text_to_millionths() {
        assert_eq!(micros("1234.5"), 1_234_500_000);
        assert_eq!(micros("100.000000"), 100_000_000);
        assert_eq!(micros("-3.25"), -3_250_000);
        assert_eq!(micros("7"), 7_000_000);
    }

    #[test]
    fn tallies_add_up() {
        let mut a = Tally {
            sessions: 2,
            answered: 4,
            within_30s: 1,
            score_micros: 150_000_000,
            conversations: 2,
            ..Tally::default()
        };
        a.violations.insert("minor".into(), 3);
        let b = Tally {
            sessions: 1,
            answered: 4,
            within_30s: 3,
            score_micros: 90_000_000,
            conversations: 1,
            ..Tally::default()
        };
        a.add(&b);
        let counts = a.counts();
        assert_eq!((counts.sessions, counts.violations), (3, 3));
        assert_eq!(counts.qa_score_avg, Some(80.0));
        assert_eq!(counts.within_30s_rate, Some(0.5));
    }
}
