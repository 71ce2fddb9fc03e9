//! Per-date figures of a run, added up unit by unit: sessions, messages, rounds,
//! agents, violations by severity, and exact sums for the mean QA score and the
//! response rates. They become the manifest's counts and the report's headline.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use datafusion::prelude::SessionContext;

use crate::engine;
use crate::error::Result;
use crate::outputs::manifest::Counts;

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
        "SELECT local_date AS date, count(*) AS sessions, sum(messages) AS messages, sum(rounds) AS rounds \
         FROM sessions WHERE local_date IN ({list}) GROUP BY local_date"
    );
    for_rows(ctx, &sessions, |date, row| {
        let t = tally.entry(date).or_default();
        t.sessions = row.count("sessions")?;
        t.messages = row.count("messages")?;
        t.rounds = row.count("rounds")?;
        Ok(())
    })
    .await?;
    let agents =
        format!("SELECT date, count(*) AS agents FROM scorecards WHERE date IN ({list}) GROUP BY date");
    for_rows(ctx, &agents, |date, row| {
        tally.entry(date).or_default().agents = row.count("agents")?;
        Ok(())
    })
    .await?;
    let violations = format!(
        "SELECT date, severity, count(*) AS violations FROM violations WHERE date IN ({list}) \
         GROUP BY date, severity"
    );
    for_rows(ctx, &violations, |date, row| {
        let (severity, n) = (row.text("severity")?, row.count("violations")?);
        tally.entry(date).or_default().violations.insert(severity, n);
        Ok(())
    })
    .await?;
    let scores = format!(
        "SELECT date, count(*) AS conversations, CAST(sum(score) AS VARCHAR) AS score_sum \
         FROM conversation_scores WHERE date IN ({list}) GROUP BY date"
    );
    for_rows(ctx, &scores, |date, row| {
        let t = tally.entry(date).or_default();
        t.conversations = row.count("conversations")?;
        t.score_micros = micros(&row.text("score_sum")?);
        Ok(())
    })
    .await?;
    let rates = format!(
        "SELECT session_date AS date, count(*) AS answered, \
                count(*) FILTER (WHERE latency_us <= 30000000) AS within_30s, \
                count(*) FILTER (WHERE latency_us <= 180000000) AS within_180s \
         FROM (SELECT session_date, arrow_cast(closed_at, 'Int64') - arrow_cast(opened_at, 'Int64') AS latency_us \
               FROM rounds WHERE responder_role = 'agent' AND session_date IN ({list})) AS r \
         GROUP BY session_date"
    );
    for_rows(ctx, &rates, |date, row| {
        let t = tally.entry(date).or_default();
        t.answered = row.count("answered")?;
        t.within_30s = row.count("within_30s")?;
        t.within_180s = row.count("within_180s")?;
        Ok(())
    })
    .await?;
    Ok(tally)
}

/// One row of a result, read by column name.
struct Row<'a> {
    columns: engine::decode::Columns<'a>,
    index: usize,
}

impl Row<'_> {
    fn count(&self, name: &str) -> Result<u64> {
        Ok(self.columns.int(name)?.count(self.index))
    }

    fn text(&self, name: &str) -> Result<String> {
        Ok(self.columns.text(name)?.or_empty(self.index).to_string())
    }
}

/// Calls `each` with every row of `sql`, which has a `date` column.
async fn for_rows(
    ctx: &SessionContext,
    sql: &str,
    mut each: impl FnMut(NaiveDate, &Row) -> Result<()>,
) -> Result<()> {
    let (_, batches) = engine::query(ctx, sql).await?;
    for batch in &batches {
        let dates = engine::columns(batch).date("date")?;
        for index in 0..batch.num_rows() {
            if let Some(date) = dates.get(index) {
                let row = Row {
                    columns: engine::columns(batch),
                    index,
                };
                each(date, &row)?;
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
