//! `report.html` of a date folder: headline figures (with the change from the
//! day before), the scorecards as a sortable table, hits per rule, the response
//! latency distribution overall and per agent, and the ten lowest-scoring
//! conversations with their masked transcript and the evidence marked.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use chrono::NaiveDate;
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::prelude::SessionContext;

use super::html::{escape, number, page, percent, sortable_table};
use super::svg::{self, BoxStats};
use crate::engine;
use crate::error::Result;
use crate::mask::mask_pii;
use crate::outputs::manifest::Counts;
use crate::rules::compile::quote;

/// Latency bins of the histogram, in seconds: `[lower, upper)`.
const BINS: [(f64, f64, &str); 9] = [
    (0.0, 10.0, "<10s"),
    (10.0, 20.0, "10-20s"),
    (20.0, 30.0, "20-30s"),
    (30.0, 60.0, "30-60s"),
    (60.0, 120.0, "1-2min"),
    (120.0, 180.0, "2-3min"),
    (180.0, 300.0, "3-5min"),
    (300.0, 600.0, "5-10min"),
    (600.0, f64::INFINITY, "≥10min"),
];
/// Box plots are drawn up to this many seconds; longer tails are cut at the edge.
const BOX_CAP_S: f64 = 600.0;
/// At most this many agents get a box (the slowest by median).
const BOX_AGENTS: usize = 60;
const LOWEST: usize = 10;
/// A conversation longer than this is shown around its evidence only.
const WHOLE_TRANSCRIPT: usize = 24;

async fn rows(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    Ok(engine::query(ctx, sql).await?.1)
}

/// The page for `date` from its published tables registered in `ctx` (`scorecards`,
/// `violations`, `rounds`) and its lowest conversations; `previous` holds the
/// figures of the day before, when known.
pub async fn render(
    ctx: &SessionContext,
    date: NaiveDate,
    today: &Counts,
    previous: Option<&Counts>,
    lowest: &[Lowest],
) -> Result<String> {
    let day = format!("DATE '{date}'");
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>质检日报 {date}</h1>\n<p class=\"sub\">Quality inspection of every conversation of {date} (session start date). \
         Personal data in the text is masked.</p>\n"
    );
    headline(&mut body, today, previous);
    scorecards(ctx, &day, &mut body).await?;
    body.push_str("<h2>Rules and response times</h2>\n<div class=\"charts\">\n");
    rule_hits(ctx, &day, &mut body).await?;
    latencies(ctx, &day, &mut body).await?;
    body.push_str("</div>\n");
    lowest_conversations(lowest, &mut body);
    Ok(page(&format!("质检日报 {date}"), &body))
}

fn headline(body: &mut String, today: &Counts, previous: Option<&Counts>) {
    // (label, today's value, the day before, decimals, is a higher value worse)
    type Pick = fn(&Counts) -> Option<f64>;
    let figures: [(&str, Pick, usize, bool, bool); 10] = [
        ("会话 sessions", |c| Some(c.sessions as f64), 0, false, false),
        ("消息 messages", |c| Some(c.messages as f64), 0, false, false),
        ("客服 agents", |c| Some(c.agents as f64), 0, false, false),
        ("平均质检分 QA score", |c| c.qa_score_avg, 2, false, false),
        ("30秒应答率", |c| c.within_30s_rate, 1, false, true),
        ("3分钟响应率", |c| c.within_180s_rate, 1, false, true),
        ("违规 violations", |c| Some(c.violations as f64), 0, true, false),
        (
            "一票否决 critical",
            |c| c.violations_by_severity.get("critical").map(|n| *n as f64),
            0,
            true,
            false,
        ),
        (
            "严重 major",
            |c| c.violations_by_severity.get("major").map(|n| *n as f64),
            0,
            true,
            false,
        ),
        (
            "轻微 minor",
            |c| c.violations_by_severity.get("minor").map(|n| *n as f64),
            0,
            true,
            false,
        ),
    ];
    body.push_str("<div class=\"figures\">\n");
    for (label, pick, decimals, worse_up, is_rate) in figures {
        let value = pick(today).or(if worse_up { Some(0.0) } else { None });
        let shown = if is_rate {
            percent(value)
        } else {
            number(value, decimals)
        };
        let delta = match (
            value,
            previous
                .and_then(pick)
                .or(previous.filter(|_| worse_up).map(|_| 0.0)),
        ) {
            (Some(now), Some(before)) => {
                let change = now - before;
                let (class, arrow) = if change > 0.0 {
                    ("up", "▲")
                } else if change < 0.0 {
                    ("down", "▼")
                } else {
                    ("flat", "=")
                };
                let amount = if is_rate {
                    format!("{:+.1} pt", change * 100.0)
                } else {
                    format!("{change:+.decimals$}")
                };
                format!(
                    "<div class=\"delta {class}{}\">{arrow} {amount} vs the day before</div>",
                    if worse_up { " worse" } else { "" }
                )
            }
            _ => String::new(),
        };
        let _ = writeln!(
            body,
            "<div class=\"figure\"><div class=\"label\">{}</div><div class=\"value\">{shown}</div>{delta}</div>",
            escape(label)
        );
    }
    body.push_str("</div>\n");
}

async fn scorecards(ctx: &SessionContext, day: &str, body: &mut String) -> Result<()> {
    let batches = rows(
        ctx,
        &format!("SELECT * FROM scorecards WHERE date = {day} ORDER BY shop, agent_id"),
    )
    .await?;
    let header = [
        "店铺 shop",
        "客服 agent",
        "sessions",
        "msgs",
        "rounds",
        "首响 avg s",
        "平响 avg s",
        "p90 s",
        "≤30s",
        "≤180s",
        "漏回复",
        "violations",
        "deducted",
        "质检分",
        "critical",
    ];
    let mut table = Vec::new();
    for b in &batches {
        let c = engine::columns(b);
        let (shop, agent) = (c.text("shop")?, c.text("agent_id")?);
        let counts = [c.int("sessions")?, c.int("agent_msgs")?, c.int("rounds")?];
        let latencies = [
            c.float("first_response_avg_s")?,
            c.float("response_avg_s")?,
            c.float("response_p90_s")?,
        ];
        let rates = [c.float("within_30s_rate")?, c.float("within_180s_rate")?];
        let (unanswered, violations) = (c.int("unanswered")?, c.int("violations")?);
        let (deducted, qa, critical) = (
            c.float("deducted")?,
            c.float("qa_score")?,
            c.int("critical_sessions")?,
        );
        for row in 0..b.num_rows() {
            let key = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
            let count = |c: &engine::decode::IntColumn| (c.count(row).to_string(), c.count(row).to_string());
            let mut cells = vec![
                (shop.or_empty(row).to_string(), escape(shop.or_empty(row))),
                (agent.or_empty(row).to_string(), escape(agent.or_empty(row))),
            ];
            cells.extend(counts.iter().map(count));
            cells.extend(latencies.iter().map(|c| (key(c.get(row)), number(c.get(row), 1))));
            cells.extend(rates.iter().map(|c| (key(c.get(row)), percent(c.get(row)))));
            cells.extend([&unanswered, &violations].map(count));
            cells.push((key(deducted.get(row)), number(deducted.get(row), 1)));
            cells.push((key(qa.get(row)), number(qa.get(row), 2)));
            cells.push(count(&critical));
            table.push(cells);
        }
    }
    let _ = write!(
        body,
        "<h2>客服评分 Scorecards</h2>\n<p class=\"note\">{} agents. Click a column to sort.</p>\n{}",
        table.len(),
        sortable_table(&header, &table)
    );
    Ok(())
}

async fn rule_hits(ctx: &SessionContext, day: &str, body: &mut String) -> Result<()> {
    let batches = rows(
        ctx,
        &format!(
            "SELECT rule_id, rule_name, severity, count(*) AS hits FROM violations WHERE date = {day} \
             GROUP BY rule_id, rule_name, severity ORDER BY hits DESC, rule_id"
        ),
    )
    .await?;
    let mut items = Vec::new();
    let mut severities = Vec::new();
    for b in &batches {
        let c = engine::columns(b);
        let (id, name, severity, hits) = (
            c.text("rule_id")?,
            c.text("rule_name")?,
            c.text("severity")?,
            c.int("hits")?,
        );
        for row in 0..b.num_rows() {
            items.push((
                format!("{} ({})", name.or_empty(row), id.or_empty(row)),
                hits.count(row) as f64,
            ));
            severities.push(severity.or_empty(row).to_string());
        }
    }
    let chart = svg::bars("hits per rule", &items, |i| match severities[i].as_str() {
        "critical" => "#c92a2a",
        "major" => "#e67700",
        _ => "#2f6fde",
    });
    let _ = writeln!(
        body,
        "<figure>{chart}<figcaption>违规 hits per rule (red critical, orange major, blue minor)</figcaption></figure>"
    );
    Ok(())
}

async fn latencies(ctx: &SessionContext, day: &str, body: &mut String) -> Result<()> {
    let batches = rows(
        ctx,
        &format!(
            "SELECT shop, agent_id, array_agg(latency_s) AS latencies FROM rounds \
             WHERE date = {day} AND responder_role = 'agent' GROUP BY shop, agent_id ORDER BY shop, agent_id"
        ),
    )
    .await?;
    let mut bins = vec![0.0; BINS.len()];
    let mut boxes = Vec::new();
    for b in &batches {
        let agent = engine::columns(b).text("agent_id")?;
        let lists = b.column(b.schema().index_of("latencies")?).as_list::<i32>();
        for row in 0..b.num_rows() {
            let values = cast(&lists.value(row), &DataType::Float64)?;
            let mut values: Vec<f64> = values.as_primitive::<Float64Type>().iter().flatten().collect();
            values.sort_by(f64::total_cmp);
            for v in &values {
                if let Some(bin) = BINS.iter().position(|(lo, hi, _)| *v >= *lo && *v < *hi) {
                    bins[bin] += 1.0;
                }
            }
            if let Some(stats) = BoxStats::of_sorted(&values) {
                boxes.push((agent.or_empty(row).to_string(), stats));
            }
        }
    }
    let histogram: Vec<(String, f64)> = BINS
        .iter()
        .zip(bins)
        .map(|((_, _, l), n)| (l.to_string(), n))
        .collect();
    let _ = writeln!(
        body,
        "<figure>{}<figcaption>响应时长分布: rounds answered by agents, by reply time</figcaption></figure>",
        svg::histogram("response latency histogram", &histogram, "reply time")
    );
    boxes.sort_by(|a, b| b.1.median.total_cmp(&a.1.median).then_with(|| a.0.cmp(&b.0)));
    let shown = boxes.len().min(BOX_AGENTS);
    let note = if boxes.len() > shown {
        format!(" (the {shown} slowest of {} agents)", boxes.len())
    } else {
        String::new()
    };
    let _ = writeln!(
        body,
        "<figure>{}<figcaption>每位客服的响应时长 per agent, slowest median first{note}: box = quartiles, red = median, \
         whiskers = fastest and slowest (cut at {BOX_CAP_S:.0} s)</figcaption></figure>",
        svg::box_plot(
            "response latency per agent",
            &boxes[..shown],
            BOX_CAP_S,
            "seconds"
        )
    );
    Ok(())
}

/// A transcript line: (msg_id, who and when, masked text).
type Line = (String, String, String);

/// One of the lowest-scoring conversations of a day, with what the page shows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Lowest {
    pub shop: String,
    pub session_id: String,
    pub agent_id: String,
    pub score: Option<f64>,
    pub critical: bool,
    /// The session's violations, as list items (escaped HTML).
    hits: Vec<String>,
    transcript: Vec<Line>,
    /// Messages of this agent's violations: highlighted.
    marked: BTreeSet<String>,
}

impl Lowest {
    fn key(&self) -> (f64, &str, &str, &str) {
        (
            self.score.unwrap_or(f64::INFINITY),
            &self.shop,
            &self.session_id,
            &self.agent_id,
        )
    }
}

/// Keeps the ten lowest of `kept` and `more` (ties by shop, session and agent).
pub fn keep_lowest(kept: &mut Vec<Lowest>, more: Vec<Lowest>) {
    kept.extend(more);
    kept.sort_by(|a, b| {
        let (x, y) = (a.key(), b.key());
        x.0.total_cmp(&y.0)
            .then_with(|| (x.1, x.2, x.3).cmp(&(y.1, y.2, y.3)))
    });
    kept.truncate(LOWEST);
}

/// The lowest-scoring conversations of `date` among those registered in `ctx`
/// (the views, `violations` and `conversation_scores` of a unit of the run).
pub async fn lowest(ctx: &SessionContext, date: NaiveDate) -> Result<Vec<Lowest>> {
    let day = format!("DATE '{date}'");
    let batches = rows(
        ctx,
        &format!(
            "SELECT shop, session_id, agent_id, CAST(score AS DOUBLE) AS score, critical FROM conversation_scores \
             WHERE date = {day} ORDER BY score, shop, session_id, agent_id LIMIT {LOWEST}"
        ),
    )
    .await?;
    let mut lowest = Vec::new();
    for b in &batches {
        let c = engine::columns(b);
        let (shop, session, agent, score, critical) = (
            c.text("shop")?,
            c.text("session_id")?,
            c.text("agent_id")?,
            c.float("score")?,
            c.text("critical")?,
        );
        for row in 0..b.num_rows() {
            lowest.push(Lowest {
                shop: shop.or_empty(row).to_string(),
                session_id: session.or_empty(row).to_string(),
                agent_id: agent.or_empty(row).to_string(),
                score: score.get(row),
                critical: critical.get(row) == Some("true"),
                hits: Vec::new(),
                transcript: Vec::new(),
                marked: BTreeSet::new(),
            });
        }
    }
    if lowest.is_empty() {
        return Ok(lowest);
    }
    let keys: Vec<String> = lowest
        .iter()
        .map(|l| format!("({}, {})", quote(&l.shop), quote(&l.session_id)))
        .collect();
    let in_list = keys.join(", ");
    let violations = rows(
        ctx,
        &format!(
            "SELECT v.shop, v.session_id, v.agent_id, v.rule_name, v.severity, v.deduct, v.bonus, v.detail, v.msg_id, v.msg_ids \
             FROM violations v JOIN (VALUES {in_list}) AS k(shop, session_id) ON k.shop = v.shop AND k.session_id = v.session_id \
             ORDER BY v.shop, v.session_id, v.ts, v.msg_id, v.rule_id, v.agent_id, v.detail"
        ),
    )
    .await?;
    let messages = rows(
        ctx,
        &format!(
            "SELECT m.shop, m.session_id, m.seq, m.local_time, m.role, m.agent_id, m.msg_id, m.text \
             FROM messages m JOIN (VALUES {in_list}) AS k(shop, session_id) ON k.shop = m.shop AND k.session_id = m.session_id \
             ORDER BY m.shop, m.session_id, m.seq"
        ),
    )
    .await?;
    // (shop, session) → its violations and messages.
    let mut hits: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut evidence: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
    for b in &violations {
        let c = engine::columns(b);
        let (shop, session, agent, name, severity, detail, anchor) = (
            c.text("shop")?,
            c.text("session_id")?,
            c.text("agent_id")?,
            c.text("rule_name")?,
            c.text("severity")?,
            c.text("detail")?,
            c.text("msg_id")?,
        );
        let (deduct, bonus, ids) = (c.float("deduct")?, c.float("bonus")?, c.text_list("msg_ids")?);
        for row in 0..b.num_rows() {
            let points = bonus.get(row).unwrap_or(0.0) - deduct.get(row).unwrap_or(0.0);
            let (shop, session, agent) = (shop.or_empty(row), session.or_empty(row), agent.or_empty(row));
            hits.entry((shop.to_string(), session.to_string()))
                .or_default()
                .push(format!(
                    "<li><span class=\"hit\">{}</span> [{}] {:+} {} — {}</li>",
                    escape(name.or_empty(row)),
                    escape(severity.or_empty(row)),
                    points,
                    escape(agent),
                    escape(detail.or_empty(row))
                ));
            let marked = evidence
                .entry((shop.to_string(), session.to_string(), agent.to_string()))
                .or_default();
            marked.insert(anchor.or_empty(row).to_string());
            marked.extend(ids.get(row));
        }
    }
    let mut transcripts: BTreeMap<(String, String), Vec<Line>> = BTreeMap::new();
    for b in &messages {
        let c = engine::columns(b);
        let (shop, session, time, role, agent, msg, text) = (
            c.text("shop")?,
            c.text("session_id")?,
            c.text("local_time")?,
            c.text("role")?,
            c.text("agent_id")?,
            c.text("msg_id")?,
            c.text("text")?,
        );
        for row in 0..b.num_rows() {
            let clock = time.or_empty(row).get(..8).unwrap_or("");
            let who = match role.or_empty(row) {
                "agent" => format!("{clock} {}", agent.or_empty(row)),
                other => format!("{clock} {other}"),
            };
            transcripts
                .entry((shop.or_empty(row).to_string(), session.or_empty(row).to_string()))
                .or_default()
                .push((msg.or_empty(row).to_string(), who, text.or_empty(row).to_string()));
        }
    }
    for l in &mut lowest {
        let key = (l.shop.clone(), l.session_id.clone());
        l.hits = hits.remove(&key).unwrap_or_default();
        l.transcript = transcripts.remove(&key).unwrap_or_default();
        l.marked = evidence
            .remove(&(l.shop.clone(), l.session_id.clone(), l.agent_id.clone()))
            .unwrap_or_default();
    }
    Ok(lowest)
}

fn lowest_conversations(lowest: &[Lowest], body: &mut String) {
    body.push_str("<h2>得分最低的会话 The ten lowest-scoring conversations</h2>\n");
    if lowest.is_empty() {
        body.push_str("<p class=\"note\">No conversations with an agent this day.</p>\n");
        return;
    }
    for l in lowest {
        let _ = writeln!(
            body,
            "<div class=\"conversation\"><h3>{} · {} · {} · score {}{}</h3>\n<ul>{}</ul>",
            escape(&l.shop),
            escape(&l.session_id),
            escape(&l.agent_id),
            number(l.score, 1),
            if l.critical {
                " · <span class=\"hit\">一票否决 critical</span>"
            } else {
                ""
            },
            l.hits.join("")
        );
        let anchors: Vec<usize> = l
            .transcript
            .iter()
            .enumerate()
            .filter(|(_, (id, _, _))| l.marked.contains(id))
            .map(|(i, _)| i)
            .collect();
        let near =
            |i: usize| l.transcript.len() <= WHOLE_TRANSCRIPT || anchors.iter().any(|a| a.abs_diff(i) <= 2);
        body.push_str("<ol class=\"transcript\">");
        let mut skipped = false;
        for (i, (id, who, text)) in l.transcript.iter().enumerate() {
            if !near(i) {
                skipped = true;
                continue;
            }
            if skipped {
                body.push_str("<li class=\"note\">…</li>");
                skipped = false;
            }
            let class = if l.marked.contains(id) {
                " class=\"evidence\""
            } else {
                ""
            };
            // The report is read by people: personal data is masked where it is written.
            let _ = write!(
                body,
                "<li{class}><span class=\"who\">{}</span> {}</li>",
                escape(who),
                escape(&mask_pii(text))
            );
        }
        if skipped {
            body.push_str("<li class=\"note\">…</li>");
        }
        body.push_str("</ol></div>\n");
    }
}
