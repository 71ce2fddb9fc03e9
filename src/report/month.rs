//! The month overview (`zhijian report --month`): daily trend lines of QA score and
//! response time per team (shop) and per agent, and the KPI ranking with the
//! multiplier when `zhijian kpi` has run for the month.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use chrono::NaiveDate;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::html::{escape, number, page, sortable_table};
use super::svg::{self, Series};
use crate::engine;
use crate::error::{Error, Result};
use crate::kpi::{Month, month, month_folder};
use crate::schema::SCORECARDS;

/// Lines drawn per team chart besides the team's own (the busiest agents).
const AGENT_LINES: usize = 12;

/// One agent's day, from `scorecards.parquet`.
struct Card {
    date: NaiveDate,
    shop: String,
    agent: String,
    sessions: f64,
    rounds: f64,
    response_avg_s: Option<f64>,
    qa_score: f64,
}

fn read_cards(days: &[month::Day]) -> Result<Vec<Card>> {
    let mut cards = Vec::new();
    for batch in month::read_table(days, "scorecards", &SCORECARDS)? {
        let c = engine::columns(&batch);
        let (dates, shops, agents) = (c.date("date")?, c.text("shop")?, c.text("agent_id")?);
        let (sessions, rounds) = (c.float("sessions")?, c.float("rounds")?);
        let (latency, qa) = (c.float("response_avg_s")?, c.float("qa_score")?);
        for row in 0..batch.num_rows() {
            cards.push(Card {
                date: dates
                    .get(row)
                    .ok_or_else(|| Error::Internal("a scorecard without a date".into()))?,
                shop: shops.or_empty(row).to_string(),
                agent: agents.or_empty(row).to_string(),
                sessions: sessions.get(row).unwrap_or(0.0),
                rounds: rounds.get(row).unwrap_or(0.0),
                response_avg_s: latency.get(row),
                qa_score: qa.get(row).unwrap_or(0.0),
            });
        }
    }
    Ok(cards)
}

/// Weighted mean of (value, weight) pairs; `None` without weight.
fn weighted(pairs: impl Iterator<Item = (f64, f64)>) -> Option<f64> {
    let (sum, weight) = pairs.fold((0.0, 0.0), |(s, w), (v, k)| (s + v * k, w + k));
    (weight > 0.0).then(|| sum / weight)
}

/// The month page from the published folders under `out`.
pub fn render(out: &Path, month: Month) -> Result<String> {
    let (days, missing) = month::find_days(out, month)?;
    if days.is_empty() {
        return Err(Error::NothingToPublish(format!(
            "no daily folders of {} in {}: run `zhijian run` for the month first",
            month.label(),
            out.display()
        )));
    }
    let cards = read_cards(&days)?;
    let dates: Vec<NaiveDate> = days.iter().map(|d| d.date).collect();
    let labels: Vec<String> = dates.iter().map(|d| d.format("%m-%d").to_string()).collect();
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<h1>质检月报 {}</h1>\n<p class=\"sub\">{} published days{}; {} agents in {} shops.</p>",
        month.label(),
        days.len(),
        if missing.is_empty() {
            String::new()
        } else {
            format!(" ({} days without a folder)", missing.len())
        },
        cards
            .iter()
            .map(|c| (&c.shop, &c.agent))
            .collect::<BTreeSet<_>>()
            .len(),
        cards.iter().map(|c| &c.shop).collect::<BTreeSet<_>>().len(),
    );
    let shops: BTreeSet<&str> = cards.iter().map(|c| c.shop.as_str()).collect();
    for shop in shops {
        let team: Vec<&Card> = cards.iter().filter(|c| c.shop == shop).collect();
        let mut busiest: BTreeMap<&str, f64> = BTreeMap::new();
        for c in &team {
            *busiest.entry(c.agent.as_str()).or_default() += c.sessions;
        }
        let mut agents: Vec<(&str, f64)> = busiest.into_iter().collect();
        agents.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let shown = agents.len().min(AGENT_LINES);
        let trend = |value: &dyn Fn(&Card) -> Option<(f64, f64)>| {
            let mut series = vec![Series {
                name: "团队 team".into(),
                values: dates
                    .iter()
                    .map(|d| weighted(team.iter().filter(|c| c.date == *d).filter_map(|c| value(c))))
                    .collect(),
                bold: true,
            }];
            for (agent, _) in &agents[..shown] {
                series.push(Series {
                    name: agent.to_string(),
                    values: dates
                        .iter()
                        .map(|d| {
                            team.iter()
                                .find(|c| c.date == *d && c.agent == *agent)
                                .and_then(|c| value(c).map(|(v, _)| v))
                        })
                        .collect(),
                    bold: false,
                });
            }
            series
        };
        let qa = trend(&|c| Some((c.qa_score, c.sessions)));
        let latency = trend(&|c| c.response_avg_s.map(|v| (v, c.rounds)));
        let more = if agents.len() > shown {
            format!("; the {shown} busiest of {} agents", agents.len())
        } else {
            String::new()
        };
        let _ = writeln!(
            body,
            "<h2>{}</h2>\n<div class=\"charts\">\n<figure>{}<figcaption>质检分 QA score per day (team: mean over sessions{more})</figcaption></figure>\n\
             <figure>{}<figcaption>平均响应时长 average response time per day, seconds (team: mean over rounds)</figcaption></figure>\n</div>",
            escape(shop),
            svg::lines("QA score trend", &labels, &qa, "day"),
            svg::lines("response time trend", &labels, &latency, "day"),
        );
    }
    kpi_ranking(&mut body, out, month)?;
    Ok(page(&format!("质检月报 {}", month.label()), &body))
}

/// (shop, agent, kpi_score, multiplier, sessions) of `kpi.parquet`.
type Ranked = (String, String, Option<f64>, Option<f64>, i64);

fn kpi_ranking(body: &mut String, out: &Path, month: Month) -> Result<()> {
    let path = month_folder(out, month).join("kpi.parquet");
    body.push_str("<h2>KPI 排名 ranking</h2>\n");
    if !path.exists() {
        let _ = writeln!(
            body,
            "<p class=\"note\">No KPI for {} yet: run <code>zhijian kpi --month {}</code>, then this report again.</p>",
            month.label(),
            month.label()
        );
        return Ok(());
    }
    let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
    let mut ranked: Vec<Ranked> = Vec::new();
    for batch in ParquetRecordBatchReaderBuilder::try_new(file)?.build()? {
        let batch = batch?;
        let c = engine::columns(&batch);
        let (shops, agents) = (c.text("shop")?, c.text("agent_id")?);
        let (scores, multipliers, sessions) =
            (c.float("kpi_score")?, c.float("multiplier")?, c.int("sessions")?);
        for row in 0..batch.num_rows() {
            ranked.push((
                shops.or_empty(row).to_string(),
                agents.or_empty(row).to_string(),
                scores.get(row),
                multipliers.get(row),
                sessions.get(row).unwrap_or(0),
            ));
        }
    }
    ranked.sort_by(|a, b| {
        b.2.unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&a.2.unwrap_or(f64::NEG_INFINITY))
            .then_with(|| (&a.0, &a.1).cmp(&(&b.0, &b.1)))
    });
    let bars: Vec<(String, f64)> = ranked.iter().map(|r| (r.1.clone(), r.2.unwrap_or(0.0))).collect();
    let rows: Vec<Vec<(String, String)>> = ranked
        .iter()
        .enumerate()
        .map(|(i, (shop, agent, score, multiplier, sessions))| {
            let key = |v: &Option<f64>| v.map_or(String::new(), |v| v.to_string());
            vec![
                (shop.clone(), escape(shop)),
                (agent.clone(), escape(agent)),
                ((i + 1).to_string(), (i + 1).to_string()),
                (sessions.to_string(), sessions.to_string()),
                (key(score), number(*score, 2)),
                (key(multiplier), number(*multiplier, 4)),
            ]
        })
        .collect();
    let _ = writeln!(
        body,
        "{}<figure>{}<figcaption>kpi_score per agent (payroll.csv of {})</figcaption></figure>",
        sortable_table(
            &[
                "店铺 shop",
                "客服 agent",
                "rank",
                "sessions",
                "kpi_score",
                "multiplier"
            ],
            &rows
        ),
        svg::bars("KPI ranking", &bars, |i| svg::color(if i < 3 { 2 } else { 0 })),
        escape(&month.label())
    );
    Ok(())
}
