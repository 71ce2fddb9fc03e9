//! The alerts `watch` emits, as JSON lines with exactly these keys, and as the
//! short Chinese text a robot posts to a group chat.

use chrono::{DateTime, SecondsFormat};
use chrono_tz::Tz;
use serde::Serialize;

use crate::timezone::MICROS_PER_SECOND;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Alert {
    /// A round open longer than `--alert-after` with no reply.
    Waiting {
        shop: String,
        session_id: String,
        open_msg_id: String,
        opened_at: String,
        waited_s: f64,
        at: String,
    },
    /// A round that had a waiting alert got its reply.
    Answered {
        shop: String,
        session_id: String,
        open_msg_id: String,
        opened_at: String,
        waited_s: f64,
        at: String,
        /// The replying agent; null when a bot replied.
        agent_id: Option<String>,
    },
    /// A message that hits a rule of severity `critical`.
    Critical {
        shop: String,
        session_id: String,
        msg_id: String,
        agent_id: String,
        rule_id: String,
        at: String,
    },
}

/// An instant in the shop's zone, RFC 3339 with its offset.
pub fn time_text(micros: i64, zone: Tz) -> String {
    DateTime::from_timestamp_micros(micros)
        .map(|t| {
            t.with_timezone(&zone)
                .to_rfc3339_opts(SecondsFormat::AutoSi, false)
        })
        .unwrap_or_else(|| micros.to_string())
}

pub fn seconds(micros: i64) -> f64 {
    micros as f64 / MICROS_PER_SECOND as f64
}

impl Alert {
    pub fn json_line(&self) -> String {
        serde_json::to_string(self).expect("alerts are plain data")
    }

    /// What a 企业微信 / 钉钉 robot posts.
    pub fn text(&self) -> String {
        match self {
            Alert::Waiting {
                shop,
                session_id,
                open_msg_id,
                opened_at,
                waited_s,
                ..
            } => format!(
                "【等待提醒】{shop} 会话 {session_id}: 顾客已等待 {waited_s:.0} 秒无人回复 (自 {opened_at}, 消息 {open_msg_id})"
            ),
            Alert::Answered {
                shop,
                session_id,
                waited_s,
                agent_id,
                ..
            } => format!(
                "【已回复】{shop} 会话 {session_id}: {} 已回复, 顾客共等待 {waited_s:.0} 秒",
                agent_id.as_deref().unwrap_or("机器人")
            ),
            Alert::Critical {
                shop,
                session_id,
                msg_id,
                agent_id,
                rule_id,
                ..
            } => {
                format!("【一票否决】{shop} 会话 {session_id}: {agent_id} 的消息 {msg_id} 触发规则 {rule_id}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_exactly_the_documented_ones() {
        let waiting = Alert::Waiting {
            shop: "s".into(),
            session_id: "x".into(),
            open_msg_id: "m1".into(),
            opened_at: "2026-11-11T10:00:00+08:00".into(),
            waited_s: 101.5,
            at: "2026-11-11T10:01:41.500+08:00".into(),
        };
        assert_eq!(
            waiting.json_line(),
            r#"{"kind":"waiting","shop":"s","session_id":"x","open_msg_id":"m1","opened_at":"2026-11-11T10:00:00+08:00","waited_s":101.5,"at":"2026-11-11T10:01:41.500+08:00"}"#
        );
        let critical = Alert::Critical {
            shop: "s".into(),
            session_id: "x".into(),
            msg_id: "m2".into(),
            agent_id: "a".into(),
            rule_id: "r".into(),
            at: "t".into(),
        };
        assert_eq!(
            critical.json_line(),
            r#"{"kind":"critical","shop":"s","session_id":"x","msg_id":"m2","agent_id":"a","rule_id":"r","at":"t"}"#
        );
    }

    #[test]
    fn times_carry_the_shop_offset() {
        let micros = 1_794_362_400 * MICROS_PER_SECOND; // 2026-11-11T02:00:00Z
        assert_eq!(
            time_text(micros, chrono_tz::Asia::Shanghai),
            "2026-11-11T10:00:00+08:00"
        );
        assert_eq!(
            time_text(micros + 250_000, chrono_tz::Asia::Shanghai),
            "2026-11-11T10:00:00.250+08:00"
        );
    }
}
