//! Templates compiled to one DataFusion SQL query each (design §5.2). Every query
//! returns the same columns: `shop, session_id, agent_id, msg_id, msg_ids, ts,
//! detail`; [`crate::rules::run`] adds the rule's metadata and evidence.

use crate::rules::spec::{MessageRole, RepeatMode, Rule, Scope, ServiceHours, Template, Within};

/// A SQL string literal.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A number as SQL writes it (integers without a fraction).
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

fn time_literal(minutes: u32) -> String {
    // `local_time` is microseconds; a plain TIME literal would be nanoseconds.
    format!(
        "arrow_cast('{:02}:{:02}:00', 'Time64(Microsecond)')",
        minutes / 60,
        minutes % 60
    )
}

/// `start <= column < end`, wrapping midnight when `start > end`; all day when equal.
pub fn hours_predicate(column: &str, hours: Option<ServiceHours>) -> String {
    let Some(ServiceHours { start, end }) = hours else {
        return "TRUE".to_string();
    };
    let from = format!("{column} >= {}", time_literal(start));
    let until = format!("{column} < {}", time_literal(end));
    match start.cmp(&end) {
        std::cmp::Ordering::Equal => "TRUE".to_string(),
        std::cmp::Ordering::Less if end == 24 * 60 => from,
        std::cmp::Ordering::Less => format!("{from} AND {until}"),
        std::cmp::Ordering::Greater => format!("({from} OR {until})"),
    }
}

/// Seconds for people: `412`, or `412.5` when there is a fraction.
fn seconds_text(expr: &str) -> String {
    format!(
        "CASE WHEN {expr} = trunc({expr}) THEN CAST(CAST({expr} AS BIGINT) AS VARCHAR) \
         ELSE CAST(round({expr}, 1) AS VARCHAR) END"
    )
}

/// The query of a template rule; `sql` rules are wrapped by [`wrap_sql_rule`].
pub fn compile(rule: &Rule) -> String {
    match &rule.template {
        Template::Latency {
            max_seconds,
            scope,
            hours,
        } => latency(*max_seconds, *scope, *hours),
        Template::Unanswered { ignore, hours } => unanswered(ignore, *hours),
        Template::Phrases { role, hours, .. } => phrases(&rule.matcher_key(), *role, *hours),
        Template::Repeat {
            min_run,
            mode,
            max_gap_seconds,
        } => repeat(*min_run, mode, *max_gap_seconds),
        Template::Required { within, .. } => required(&rule.matcher_key(), *within),
        Template::Sql { sql } => sql.trim().trim_end_matches(';').to_string(),
    }
}

fn latency(max_seconds: f64, scope: Scope, hours: Option<ServiceHours>) -> String {
    // For `first`, each agent's first closed round in the session is chosen before
    // the service-hours filter applies (design §5.2).
    let (from, first_only) = match scope {
        Scope::Every => ("rounds", ""),
        Scope::First => (
            "(SELECT *, row_number() OVER (PARTITION BY shop, session_id, agent_id ORDER BY round_no) AS nth_closed\n      \
             FROM rounds WHERE responder_role = 'agent') AS first_rounds",
            "nth_closed = 1 AND ",
        ),
    };
    let max = number(max_seconds);
    format!(
        "SELECT shop, session_id, agent_id, close_msg_id AS msg_id,\n       \
         make_array(open_msg_id, close_msg_id) AS msg_ids, closed_at AS ts,\n       \
         concat('回复用时 ', {latency}, ' 秒 (上限 {max})') AS detail\n\
         FROM {from}\n\
         WHERE {first_only}responder_role = 'agent' AND latency_s > {max}\n  AND {hours}",
        latency = seconds_text("latency_s"),
        hours = hours_predicate("local_time", hours),
    )
}

fn unanswered(ignore: &[String], hours: Option<ServiceHours>) -> String {
    let ignorable = if ignore.is_empty() {
        "false".to_string()
    } else {
        let list: Vec<String> = ignore.iter().map(|p| quote(p)).collect();
        format!("bool_and(m.norm_text IN ({}))", list.join(", "))
    };
    format!(
        "WITH open_rounds AS (\n  \
           SELECT shop, session_id, round_no, open_seq, open_msg_id, opened_at, customer_msgs FROM rounds\n  \
           WHERE closed_at IS NULL AND {hours}\n\
         ), members AS (\n  \
           SELECT o.shop, o.session_id, o.round_no, array_agg(m.msg_id ORDER BY m.seq) AS msg_ids,\n         \
                  {ignorable} AS ignorable\n  \
           FROM open_rounds o JOIN messages m ON m.shop = o.shop AND m.session_id = o.session_id\n  \
           WHERE m.role = 'customer' AND m.seq >= o.open_seq\n  \
           GROUP BY o.shop, o.session_id, o.round_no\n\
         )\n\
         SELECT o.shop, o.session_id, opener.prev_agent_id AS agent_id, o.open_msg_id AS msg_id,\n       \
                g.msg_ids, o.opened_at AS ts, concat('客户 ', o.customer_msgs, ' 条消息无人回复') AS detail\n\
         FROM open_rounds o\n\
         JOIN members g ON g.shop = o.shop AND g.session_id = o.session_id AND g.round_no = o.round_no\n\
         JOIN messages opener ON opener.shop = o.shop AND opener.session_id = o.session_id AND opener.seq = o.open_seq\n\
         WHERE NOT g.ignorable",
        hours = hours_predicate("local_time", hours),
    )
}

fn phrases(key: &str, role: MessageRole, hours: Option<ServiceHours>) -> String {
    // A customer's or bot's message is the last agent's responsibility.
    let agent = match role {
        MessageRole::Agent => "agent_id",
        _ => "prev_agent_id",
    };
    // One scan finds the messages of every phrases rule (`zj_phrase_hits`).
    format!(
        "SELECT shop, session_id, {agent} AS agent_id, msg_id, make_array(msg_id) AS msg_ids, ts,\n       \
         concat('命中: ', array_to_string(found, '、')) AS detail\n\
         FROM zj_phrase_hits({key})\n\
         WHERE {hours}",
        key = quote(key),
        hours = hours_predicate("local_time", hours),
    )
}

fn repeat(min_run: u32, mode: &RepeatMode, max_gap_seconds: Option<f64>) -> String {
    let (mode, similarity, lexicon) = match mode {
        RepeatMode::Identical => ("identical", 0.8, String::new()),
        RepeatMode::Similar(s) => ("similar", *s, String::new()),
        RepeatMode::Lexicon(name) => ("lexicon", 0.8, name.clone()),
    };
    format!(
        "SELECT shop, session_id, agent_id, msg_id, msg_ids, ts,\n       \
         concat('连发 ', run_length, ' 条: ', first_text) AS detail\n\
         FROM zj_repeat_runs({min_run}, '{mode}', {similarity}, {lexicon}, {gap})",
        similarity = number(similarity),
        lexicon = quote(&lexicon),
        gap = max_gap_seconds.map_or("-1".to_string(), number),
    )
}

fn required(key: &str, within: Within) -> String {
    let (anchor, test, what) = match within {
        Within::First => (
            "first",
            format!("zj_contains_any_norm(first_text, {})", quote(key)),
            "首条消息",
        ),
        Within::Last => (
            "last",
            format!("zj_contains_any_norm(last_text, {})", quote(key)),
            "最后一条消息",
        ),
        Within::Any => ("first", "any_hit".to_string(), "所有消息"),
    };
    format!(
        "WITH per_agent AS (\n  \
           SELECT shop, session_id, agent_id,\n         \
                  first_value(msg_id ORDER BY seq) AS first_id, first_value(ts ORDER BY seq) AS first_ts,\n         \
                  first_value(norm_text ORDER BY seq) AS first_text,\n         \
                  last_value(msg_id ORDER BY seq) AS last_id, last_value(ts ORDER BY seq) AS last_ts,\n         \
                  last_value(norm_text ORDER BY seq) AS last_text,\n         \
                  bool_or(zj_contains_any_norm(norm_text, {key})) AS any_hit\n  \
           FROM messages\n  \
           WHERE role = 'agent' AND msg_type = 'text' AND norm_text <> ''\n  \
           GROUP BY shop, session_id, agent_id\n\
         )\n\
         SELECT shop, session_id, agent_id, {anchor}_id AS msg_id, make_array({anchor}_id) AS msg_ids,\n       \
                {anchor}_ts AS ts, '{what}缺少要求的话术' AS detail\n\
         FROM per_agent\n\
         WHERE NOT {test}",
        key = quote(key),
    )
}

/// Wraps the SELECT of an `sql` rule so it returns the common columns; `columns`
/// are the ones the rule's own query returns.
pub fn wrap_sql_rule(sql: &str, columns: &[String]) -> String {
    let has = |name: &str| columns.iter().any(|c| c == name);
    let msg_id = if has("msg_id") {
        "CAST(u.msg_id AS VARCHAR)"
    } else {
        "CAST(NULL AS VARCHAR)"
    };
    let msg_ids = if has("msg_id") {
        "make_array(CAST(u.msg_id AS VARCHAR))"
    } else {
        "arrow_cast(make_array(), 'List(Utf8)')"
    };
    let ts = if has("ts") {
        "COALESCE(CAST(u.ts AS TIMESTAMP WITH TIME ZONE), anchor.ts, s.started_at)".to_string()
    } else {
        "COALESCE(anchor.ts, s.started_at)".to_string()
    };
    let detail = if has("detail") {
        "CAST(u.detail AS VARCHAR)"
    } else {
        "CAST(NULL AS VARCHAR)"
    };
    let anchor_join = if has("msg_id") {
        "LEFT JOIN messages anchor ON anchor.shop = u.shop AND anchor.session_id = u.session_id AND anchor.msg_id = CAST(u.msg_id AS VARCHAR)"
    } else {
        "LEFT JOIN (SELECT * FROM messages WHERE FALSE) anchor ON anchor.shop = u.shop"
    };
    format!(
        "SELECT CAST(u.shop AS VARCHAR) AS shop, CAST(u.session_id AS VARCHAR) AS session_id,\n       \
         CAST(u.agent_id AS VARCHAR) AS agent_id, {msg_id} AS msg_id, {msg_ids} AS msg_ids,\n       \
         {ts} AS ts, {detail} AS detail\n\
         FROM (\n{sql}\n) AS u\n\
         {anchor_join}\n\
         LEFT JOIN sessions s ON s.shop = u.shop AND s.session_id = u.session_id"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_hours_predicates() {
        let h = |s| Some(ServiceHours::parse(s).expect("valid"));
        assert_eq!(hours_predicate("t", None), "TRUE");
        assert_eq!(
            hours_predicate("t", h("08:00-24:00")),
            "t >= arrow_cast('08:00:00', 'Time64(Microsecond)')"
        );
        assert_eq!(
            hours_predicate("t", h("09:00-18:30")),
            "t >= arrow_cast('09:00:00', 'Time64(Microsecond)') AND t < arrow_cast('18:30:00', 'Time64(Microsecond)')"
        );
        assert_eq!(
            hours_predicate("t", h("22:00-06:00")),
            "(t >= arrow_cast('22:00:00', 'Time64(Microsecond)') OR t < arrow_cast('06:00:00', 'Time64(Microsecond)'))"
        );
        assert_eq!(hours_predicate("t", h("08:00-08:00")), "TRUE");
    }

    #[test]
    fn quotes_are_escaped() {
        assert_eq!(quote("it's"), "'it''s'");
    }
}
