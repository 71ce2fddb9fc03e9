//! Inline test transcripts (design §5.3): `ROLE[:AGENT] HH:MM:SS TEXT` per line, one
//! session `test` of shop `test` on 2026-01-05, local time. The message id of a
//! line is its number, so violations' anchors map back to lines.

use chrono::{NaiveDate, NaiveTime};
use datafusion::arrow::array::RecordBatch;

use crate::ingest::builder::RawBatchBuilder;
use crate::ingest::input_order;
use crate::ingest::record::{Message, Role};
use crate::timezone::{LocalInstant, TimeZones, local_to_utc};

pub const TEST_SHOP: &str = "test";
pub const TEST_SESSION: &str = "test";

#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// 1-based, blank lines not counted.
    pub number: usize,
    pub role: Role,
    pub agent: Option<String>,
    pub time: NaiveTime,
    pub text: String,
    pub image: bool,
}

/// Parses a transcript; errors name the line.
pub fn parse(transcript: &str) -> Result<Vec<Line>, String> {
    let mut lines = Vec::new();
    for raw in transcript.lines() {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        let number = lines.len() + 1;
        let bad = |why: &str| {
            format!("transcript line {number} {trimmed:?}: {why}; write ROLE[:AGENT] HH:MM:SS TEXT")
        };
        let (who, rest) = trimmed
            .split_once(char::is_whitespace)
            .ok_or_else(|| bad("no time"))?;
        let rest = rest.trim_start();
        let (time, text) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let time =
            NaiveTime::parse_from_str(time, "%H:%M:%S").map_err(|_| bad("the time is not HH:MM:SS"))?;
        let (role_code, agent) = match who.split_once(':') {
            Some((code, name)) if !name.is_empty() => (code, Some(name.to_string())),
            Some(_) => return Err(bad("empty agent name after ':'")),
            None => (who, None),
        };
        let role = match role_code {
            "c" => Role::Customer,
            "a" => Role::Agent,
            "b" => Role::Bot,
            "s" => Role::System,
            _ => return Err(bad("ROLE must be c, a, b or s")),
        };
        if agent.is_some() && role != Role::Agent {
            return Err(bad("only agent lines (a:NAME) name an agent"));
        }
        let text = text.trim_start();
        lines.push(Line {
            number,
            role,
            agent: (role == Role::Agent).then(|| agent.unwrap_or_else(|| "agent".to_string())),
            time,
            image: text == "[image]",
            text: if text == "[image]" {
                String::new()
            } else {
                text.to_string()
            },
        });
    }
    if lines.is_empty() {
        return Err("the transcript is empty".to_string());
    }
    Ok(lines)
}

/// The transcript as raw messages, in the default zone (Asia/Shanghai).
pub fn to_batch(lines: &[Line], zones: &TimeZones) -> Result<RecordBatch, String> {
    let date = NaiveDate::from_ymd_opt(2026, 1, 5).expect("valid date");
    let zone = zones.for_shop(TEST_SHOP);
    let mut builder = RawBatchBuilder::with_capacity(lines.len(), 1024);
    for line in lines {
        let ts_micros = match local_to_utc(zone, &date.and_time(line.time)) {
            LocalInstant::Micros(m) => m,
            LocalInstant::Nonexistent => {
                return Err(format!("line {}: time does not exist locally", line.number));
            }
        };
        let number = line.number.to_string();
        let msg = Message {
            shop: TEST_SHOP.into(),
            channel: "test".into(),
            session_id: TEST_SESSION.into(),
            msg_id: number.as_str().into(),
            ts_micros,
            role: line.role,
            agent_id: line.agent.as_deref().map(Into::into),
            customer_id: (line.role == Role::Customer).then(|| "customer".into()),
            text: line.text.as_str().into(),
            msg_type: if line.image { "image".into() } else { "text".into() },
        };
        builder.push(&msg, input_order(0, line.number as u64));
    }
    Ok(builder.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_roles_agents_images_and_skips_blank_lines() {
        let lines = parse("c        10:00:00 在吗,这个有货吗\n\na:xiaomei 10:00:20 亲 有货的哦\na 10:01:00 [image]\nb 10:02:00\n")
            .expect("valid");
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0].text, "在吗,这个有货吗");
        assert_eq!(lines[1].agent.as_deref(), Some("xiaomei"));
        assert_eq!(lines[1].text, "亲 有货的哦");
        assert_eq!(lines[2].agent.as_deref(), Some("agent"));
        assert!(lines[2].image && lines[2].text.is_empty());
        assert_eq!(lines[3].number, 4);
        assert_eq!(lines[3].text, "");
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse("c 10:00:00 hi\nx 10:00:01 hi").expect_err("bad role");
        assert!(err.starts_with("transcript line 2"), "{err}");
        assert!(parse("c 25:00:00 hi").is_err());
        assert!(parse("c:bob 10:00:00 hi").is_err());
        assert!(parse("\n \n").is_err());
    }
}
