//! Validation of one record against the canonical schema (design §3). A record
//! either becomes a [`Message`] or a reject reason naming the field.

use std::borrow::Cow;

use crate::ingest::scalar::{RawRecord, Scalar};
use crate::ingest::timestamp;
use crate::timezone::TimeZones;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Customer,
    Agent,
    Bot,
    System,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Agent => "agent",
            Role::Bot => "bot",
            Role::System => "system",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        [Role::Customer, Role::Agent, Role::Bot, Role::System]
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(text))
    }
}

/// A valid message, borrowing from the source line where it can.
#[derive(Debug)]
pub struct Message<'a> {
    pub shop: Cow<'a, str>,
    pub channel: Cow<'a, str>,
    pub session_id: Cow<'a, str>,
    pub msg_id: Cow<'a, str>,
    pub ts_micros: i64,
    pub role: Role,
    pub agent_id: Option<Cow<'a, str>>,
    pub customer_id: Option<Cow<'a, str>>,
    pub text: Cow<'a, str>,
    pub msg_type: Cow<'a, str>,
}

/// How a CSV or Parquet source hands over `ts` when it is not text.
#[derive(Debug)]
pub enum TsValue<'a> {
    /// Anything to be read as design §3 says (JSON, CSV).
    Scalar(Scalar<'a>),
    /// An instant already typed as such (Parquet timestamp with a zone).
    Instant(i64),
    /// A typed wall-clock time without zone (Parquet timestamp without zone), in microseconds.
    Wall(i64),
}

fn field_error(name: &str, problem: &str) -> String {
    format!("field {name:?}: {problem}")
}

/// An id: a non-empty string or an integer written in decimal.
fn id<'a>(name: &str, value: Scalar<'a>, required: bool) -> Result<Option<Cow<'a, str>>, String> {
    match value {
        Scalar::Str(s) if s.is_empty() && required => Err(field_error(name, "is empty")),
        Scalar::Str(s) if s.is_empty() => Ok(None),
        Scalar::Str(s) => Ok(Some(s)),
        Scalar::Int(i) => Ok(Some(Cow::Owned(i.to_string()))),
        Scalar::BigInt(i) => Ok(Some(Cow::Owned(i.to_string()))),
        Scalar::Missing | Scalar::Null if required => Err(field_error(name, "is required but missing")),
        Scalar::Missing | Scalar::Null => Ok(None),
        other => Err(field_error(
            name,
            &format!("expected a string or an integer, found {}", other.describe()),
        )),
    }
}

fn required_id<'a>(name: &str, value: Scalar<'a>) -> Result<Cow<'a, str>, String> {
    id(name, value, true)?.ok_or_else(|| field_error(name, "is required but missing"))
}

/// An optional string with a default (`channel`, `msg_type`).
fn label<'a>(name: &str, value: Scalar<'a>, default: &'static str) -> Result<Cow<'a, str>, String> {
    match value {
        Scalar::Str(s) if s.is_empty() => Ok(Cow::Borrowed(default)),
        Scalar::Str(s) if s.bytes().any(|b| b.is_ascii_uppercase()) => Ok(Cow::Owned(s.to_ascii_lowercase())),
        Scalar::Str(s) => Ok(s),
        Scalar::Missing | Scalar::Null => Ok(Cow::Borrowed(default)),
        other => Err(field_error(
            name,
            &format!("expected a string, found {}", other.describe()),
        )),
    }
}

fn text<'a>(value: Scalar<'a>) -> Result<Cow<'a, str>, String> {
    match value {
        Scalar::Str(s) => Ok(s),
        Scalar::Missing | Scalar::Null => Ok(Cow::Borrowed("")),
        other => Err(field_error(
            "text",
            &format!("expected a string, found {}", other.describe()),
        )),
    }
}

fn ts(value: TsValue<'_>, zones: &TimeZones, shop: &str) -> Result<i64, String> {
    let zone = zones.for_shop(shop);
    match value {
        TsValue::Instant(micros) => Ok(micros),
        TsValue::Wall(micros) => {
            let wall = chrono::DateTime::from_timestamp_micros(micros)
                .ok_or_else(|| field_error("ts", "is out of range"))?
                .naive_utc();
            match crate::timezone::local_to_utc(zone, &wall) {
                crate::timezone::LocalInstant::Micros(instant) => Ok(instant),
                crate::timezone::LocalInstant::Nonexistent => Err(field_error(
                    "ts",
                    &format!("{wall} does not exist in time zone {}", zone.name()),
                )),
            }
        }
        TsValue::Scalar(Scalar::Str(s)) => timestamp::parse_text(&s, zone).map_err(|e| field_error("ts", &e)),
        TsValue::Scalar(Scalar::Int(ms)) => {
            timestamp::from_epoch_millis(ms).map_err(|e| field_error("ts", &e))
        }
        TsValue::Scalar(Scalar::Missing | Scalar::Null) => Err(field_error("ts", "is required but missing")),
        TsValue::Scalar(other) => Err(field_error(
            "ts",
            &format!(
                "expected a timestamp string or epoch milliseconds, found {}",
                other.describe()
            ),
        )),
    }
}

/// Validates one record; `ts` comes separately because typed sources carry it typed.
pub fn check<'a>(
    raw: RawRecord<'a>,
    ts_value: TsValue<'a>,
    zones: &TimeZones,
) -> Result<Message<'a>, String> {
    let shop = required_id("shop", raw.shop)?;
    let session_id = required_id("session_id", raw.session_id)?;
    let msg_id = required_id("msg_id", raw.msg_id)?;
    let role = match raw.role {
        Scalar::Str(s) => Role::parse(&s).ok_or_else(|| {
            field_error(
                "role",
                &format!("{s:?} is not one of customer, agent, bot, system"),
            )
        })?,
        Scalar::Missing | Scalar::Null => return Err(field_error("role", "is required but missing")),
        other => {
            return Err(field_error(
                "role",
                &format!(
                    "expected one of customer, agent, bot, system, found {}",
                    other.describe()
                ),
            ));
        }
    };
    let ts_micros = ts(ts_value, zones, &shop)?;
    // agent_id matters only on agent messages; elsewhere it is ignored whatever it holds.
    let agent_id = if role == Role::Agent {
        Some(
            required_id("agent_id", raw.agent_id)
                .map_err(|e| format!("{e} (an agent message must name its agent)"))?,
        )
    } else {
        None
    };
    let customer_id = id("customer_id", raw.customer_id, false)?;
    Ok(Message {
        shop,
        channel: label("channel", raw.channel, "unknown")?,
        session_id,
        msg_id,
        ts_micros,
        role,
        agent_id,
        customer_id,
        text: text(raw.text)?,
        msg_type: label("msg_type", raw.msg_type, "text")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::scalar::parse_json_line;

    fn check_line(line: &str) -> Result<Message<'_>, String> {
        let mut raw = parse_json_line(line)?;
        let ts = std::mem::take(&mut raw.ts);
        check(raw, TsValue::Scalar(ts), &TimeZones::default())
    }

    const GOOD: &str = r#"{"shop":"s","session_id":"x","msg_id":"1","ts":"2026-11-11 10:00:03","role":"Agent","agent_id":"amy","text":"hi"}"#;

    #[test]
    fn a_good_record_gets_defaults() {
        let msg = check_line(GOOD).expect("valid");
        assert_eq!(msg.role, Role::Agent);
        assert_eq!(msg.channel, "unknown");
        assert_eq!(msg.msg_type, "text");
        assert_eq!(msg.agent_id.as_deref(), Some("amy"));
        assert_eq!(msg.customer_id, None);
    }

    #[test]
    fn integer_ids_become_decimal_strings() {
        let msg = check_line(
            r#"{"shop":7,"session_id":18446744073709551615,"msg_id":-3,"ts":1762826403000,"role":"customer","customer_id":""}"#,
        )
        .expect("valid");
        assert_eq!(msg.shop, "7");
        assert_eq!(msg.session_id, "18446744073709551615");
        assert_eq!(msg.msg_id, "-3");
        assert_eq!(msg.customer_id, None);
        assert_eq!(msg.text, "");
    }

    #[test]
    fn agent_id_is_ignored_on_other_roles() {
        let msg = check_line(
            r#"{"shop":"s","session_id":"x","msg_id":"1","ts":1762826403000,"role":"customer","agent_id":[1]}"#,
        )
        .expect("valid");
        assert_eq!(msg.agent_id, None);
    }

    #[test]
    fn each_reject_names_the_field() {
        let cases = [
            (
                r#"{"session_id":"x","msg_id":"1","ts":1,"role":"bot"}"#,
                r#"field "shop": is required"#,
            ),
            (
                r#"{"shop":"","session_id":"x","msg_id":"1","ts":1,"role":"bot"}"#,
                r#"field "shop": is empty"#,
            ),
            (
                r#"{"shop":"s","session_id":1.5,"msg_id":"1","ts":1,"role":"bot"}"#,
                r#"field "session_id": expected a string or an integer, found the number 1.5"#,
            ),
            (
                r#"{"shop":"s","session_id":"x","msg_id":true,"ts":1,"role":"bot"}"#,
                r#"field "msg_id": expected a string or an integer, found the boolean true"#,
            ),
            (
                r#"{"shop":"s","session_id":"x","msg_id":"1","ts":1,"role":"robot"}"#,
                r#"field "role": "robot" is not one of customer, agent, bot, system"#,
            ),
            (
                r#"{"shop":"s","session_id":"x","msg_id":"1","ts":1,"role":"agent"}"#,
                r#"field "agent_id": is required but missing (an agent message must name its agent)"#,
            ),
            (
                r#"{"shop":"s","session_id":"x","msg_id":"1","ts":1,"role":"agent","agent_id":""}"#,
                r#"field "agent_id": is empty"#,
            ),
            (
                r#"{"shop":"s","session_id":"x","msg_id":"1","ts":"2026-11-11T10:00:03+08","role":"bot"}"#,
                r#"field "ts": "2026-11-11T10:00:03+08" is not a timestamp"#,
            ),
            (
                r#"{"shop":"s","session_id":"x","msg_id":"1","ts":"1762826403000","role":"bot"}"#,
                r#"field "ts": "1762826403000" is not a timestamp"#,
            ),
            (
                r#"{"shop":"s","session_id":"x","msg_id":"1","ts":1762826403000.0,"role":"bot"}"#,
                r#"field "ts": expected a timestamp string or epoch milliseconds, found the number"#,
            ),
            (
                r#"{"shop":"s","session_id":"x","msg_id":"1","role":"bot"}"#,
                r#"field "ts": is required but missing"#,
            ),
            (
                r#"{"shop":"s","session_id":"x","msg_id":"1","ts":1,"role":"bot","text":5}"#,
                r#"field "text": expected a string, found the integer 5"#,
            ),
        ];
        for (line, expected) in cases {
            let err = check_line(line).expect_err(line);
            assert!(err.starts_with(expected), "{line}\n got: {err}\nwant: {expected}");
        }
    }
}
