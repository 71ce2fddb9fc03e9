//! The live rounds and their alerts, message by message.

use super::alert::Alert;
use super::critical::CriticalRules;
use super::source::Incoming;
use super::tracker::{ClockMode, Tracker};
use crate::ingest::record::Role;
use crate::timezone::{MICROS_PER_SECOND, TimeZones};

/// 2026-11-11T10:00:00+08:00 plus `s` seconds, in microseconds.
fn at(s: f64) -> i64 {
    1_794_362_400 * MICROS_PER_SECOND + (s * 1e6) as i64
}

fn msg(session: &str, id: &str, s: f64, role: Role, agent: Option<&str>) -> Incoming {
    Incoming {
        shop: "店".into(),
        session_id: session.into(),
        msg_id: id.into(),
        ts: at(s),
        role,
        agent_id: agent.map(str::to_string),
        customer_id: None,
        text: "在吗".into(),
    }
}

fn tracker(mode: ClockMode) -> Tracker {
    Tracker::new(
        mode,
        100 * MICROS_PER_SECOND,
        1800 * MICROS_PER_SECOND,
        TimeZones::default(),
        CriticalRules::default(),
    )
}

fn feed(t: &mut Tracker, messages: &[Incoming]) -> Vec<Alert> {
    let mut out = Vec::new();
    for m in messages {
        t.apply(m, &mut out);
    }
    out
}

fn kinds(alerts: &[Alert]) -> Vec<String> {
    alerts
        .iter()
        .map(|a| match a {
            Alert::Waiting {
                session_id, waited_s, ..
            } => format!("waiting {session_id} {waited_s}"),
            Alert::Answered {
                session_id,
                waited_s,
                agent_id,
                ..
            } => format!("answered {session_id} {waited_s} {agent_id:?}"),
            Alert::Critical {
                session_id,
                rule_id,
                agent_id,
                ..
            } => format!("critical {session_id} {rule_id} {agent_id}"),
        })
        .collect()
}

#[test]
fn waiting_is_strictly_past_alert_after() {
    let mut t = tracker(ClockMode::Event);
    let alerts = feed(
        &mut t,
        &[
            msg("a", "1", 0.0, Role::Customer, None),
            msg("a", "2", 100.0, Role::Agent, Some("amy")),
            msg("b", "1", 200.0, Role::Customer, None),
            msg("b", "2", 300.5, Role::Agent, Some("amy")),
        ],
    );
    assert_eq!(
        kinds(&alerts),
        ["waiting b 100.5", "answered b 100.5 Some(\"amy\")"]
    );
}

#[test]
fn one_waiting_alert_per_round_and_a_bot_clears_it() {
    let mut t = tracker(ClockMode::Event);
    let alerts = feed(
        &mut t,
        &[
            msg("a", "1", 0.0, Role::Customer, None),
            msg("a", "2", 50.0, Role::Customer, None),
            msg("x", "1", 150.0, Role::System, None),
            msg("x", "2", 400.0, Role::System, None),
            msg("a", "3", 500.0, Role::Bot, None),
        ],
    );
    assert_eq!(kinds(&alerts), ["waiting a 150", "answered a 500 None"]);
    if let Alert::Waiting {
        opened_at,
        at,
        open_msg_id,
        ..
    } = &alerts[0]
    {
        assert_eq!(
            (opened_at.as_str(), at.as_str(), open_msg_id.as_str()),
            ("2026-11-11T10:00:00+08:00", "2026-11-11T10:02:30+08:00", "1")
        );
    }
}

#[test]
fn late_messages_are_placed_by_their_time() {
    let mut t = tracker(ClockMode::Event);
    let alerts = feed(
        &mut t,
        &[
            // A reply older than the question does not answer it ...
            msg("a", "2", 10.0, Role::Customer, None),
            msg("a", "1", 5.0, Role::Agent, Some("amy")),
            // ... and a question older than the last reply was answered by it.
            msg("b", "2", 20.0, Role::Agent, Some("amy")),
            msg("b", "1", 15.0, Role::Customer, None),
            msg("z", "1", 300.0, Role::System, None),
        ],
    );
    assert_eq!(kinds(&alerts), ["waiting a 290"]);
}

#[test]
fn a_repeated_record_counts_once() {
    let mut t = tracker(ClockMode::Event);
    let alerts = feed(
        &mut t,
        &[
            msg("a", "1", 0.0, Role::Customer, None),
            msg("a", "2", 10.0, Role::Agent, Some("amy")),
            msg("a", "1", 20.0, Role::Customer, None),
            msg("z", "1", 300.0, Role::System, None),
        ],
    );
    assert!(alerts.is_empty(), "{:?}", kinds(&alerts));
}

#[test]
fn wall_clock_alerts_when_the_caller_moves_time() {
    let mut t = tracker(ClockMode::Wall);
    let mut out = feed(&mut t, &[msg("a", "1", 0.0, Role::Customer, None)]);
    t.advance_to(at(100.0), &mut out);
    assert!(out.is_empty());
    assert_eq!(t.next_deadline(), Some(at(100.0)));
    t.advance_to(at(101.0), &mut out);
    assert_eq!(kinds(&out), ["waiting a 101"]);
}

#[test]
fn idle_sessions_are_dropped() {
    let mut t = tracker(ClockMode::Event);
    feed(
        &mut t,
        &[
            msg("a", "1", 0.0, Role::Customer, None),
            msg("b", "1", 1000.0, Role::Customer, None),
            msg("b", "2", 1801.0, Role::Agent, Some("amy")),
        ],
    );
    assert_eq!(t.expire(), 1);
    assert_eq!(t.live_sessions(), 1);
}

#[test]
fn a_restored_state_neither_repeats_nor_forgets() {
    let mut t = tracker(ClockMode::Event);
    let first = feed(
        &mut t,
        &[
            msg("a", "1", 0.0, Role::Customer, None),
            msg("b", "1", 50.0, Role::Customer, None),
            msg("z", "1", 120.0, Role::System, None),
        ],
    );
    assert_eq!(kinds(&first), ["waiting a 120"]);
    let saved = serde_json::to_string(&t.save()).unwrap();
    let mut again = tracker(ClockMode::Event);
    again.restore(serde_json::from_str(&saved).unwrap());
    let second = feed(
        &mut again,
        &[
            msg("z", "2", 160.0, Role::System, None),
            msg("a", "2", 170.0, Role::Agent, Some("amy")),
        ],
    );
    assert_eq!(kinds(&second), ["waiting b 110", "answered a 170 Some(\"amy\")"]);
}

#[test]
fn status_counts_the_waiting_and_the_recent() {
    let mut t = tracker(ClockMode::Event);
    feed(
        &mut t,
        &[
            msg("a", "1", 0.0, Role::Customer, None),
            msg("a", "2", 5.0, Role::Agent, Some("amy")),
            msg("b", "1", 10.0, Role::Customer, None),
            msg("c", "1", 30.0, Role::Customer, None),
            msg("d", "1", 40.0, Role::Agent, Some("bob")),
        ],
    );
    let status = t.status();
    assert_eq!(status.len(), 1);
    let s = &status[0];
    assert_eq!(
        (s.waiting, s.longest_wait_s, s.replies_recent, s.agents_active),
        (2, 30.0, 2, 2)
    );
}
