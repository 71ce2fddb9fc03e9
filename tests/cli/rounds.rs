//! 首问首答 rounds, case by case on hand-made transcripts (design §4).

use crate::util::{Scratch, line, sql_csv};

const ROUNDS: &str = "SELECT session_id, round_no, open_msg_id, customer_msgs, close_msg_id, \
    responder_role, agent_id, latency_s FROM rounds ORDER BY session_id, round_no";

fn rounds_of(lines: &[String]) -> String {
    let scratch = Scratch::new();
    let input = scratch.write("t.jsonl", lines.join("\n"));
    sql_csv(&input, ROUNDS)
}

const HEADER: &str =
    "session_id,round_no,open_msg_id,customer_msgs,close_msg_id,responder_role,agent_id,latency_s\n";

#[test]
fn consecutive_customer_messages_join_one_round() {
    let got = rounds_of(&[
        line("x", "1", "10:00:00", "customer", None, "在吗"),
        line("x", "2", "10:00:10", "customer", None, "这个有货吗"),
        line("x", "3", "10:00:40", "agent", Some("amy"), "有的亲"),
    ]);
    assert_eq!(got, format!("{HEADER}x,1,1,2,3,agent,amy,40.0\n"));
}

#[test]
fn a_bot_closes_a_round_without_an_agent() {
    let got = rounds_of(&[
        line("x", "1", "02:00:00", "customer", None, "发货时间"),
        line("x", "2", "02:00:01", "bot", None, "48小时内发货"),
        line("x", "3", "02:00:05", "agent", Some("amy"), "补充一下"),
    ]);
    assert_eq!(got, format!("{HEADER}x,1,1,1,2,bot,,1.0\n"));
}

#[test]
fn a_transfer_hands_the_next_round_to_the_new_agent() {
    let lines = [
        line("x", "1", "10:00:00", "customer", None, "退款"),
        line("x", "2", "10:00:05", "agent", Some("amy"), "稍等"),
        line("x", "3", "10:00:06", "system", None, "会话已转接给 bob"),
        line("x", "4", "10:01:00", "customer", None, "好了吗"),
        line("x", "5", "10:01:30", "agent", Some("bob"), "已处理"),
    ];
    assert_eq!(
        rounds_of(&lines),
        format!("{HEADER}x,1,1,1,2,agent,amy,5.0\nx,2,4,1,5,agent,bob,30.0\n")
    );
    let scratch = Scratch::new();
    let input = scratch.write("t.jsonl", lines.join("\n"));
    assert_eq!(
        sql_csv(
            &input,
            "SELECT agent_id, agent_msgs FROM agent_sessions ORDER BY first_msg_at"
        ),
        "agent_id,agent_msgs\namy,1\nbob,1\n"
    );
    assert_eq!(
        sql_csv(
            &input,
            "SELECT messages, customer_msgs, agent_msgs, system_msgs, rounds, array_to_string(agents, '|') AS agents FROM sessions"
        ),
        "messages,customer_msgs,agent_msgs,system_msgs,rounds,agents\n5,2,2,1,2,amy|bob\n"
    );
}

#[test]
fn system_messages_neither_open_nor_close_rounds() {
    let got = rounds_of(&[
        line("x", "1", "10:00:00", "system", None, "客户进入会话"),
        line("x", "2", "10:00:10", "customer", None, "在吗"),
        line("x", "3", "10:00:20", "system", None, "排队中"),
        line("x", "4", "10:01:10", "agent", Some("amy"), "在的"),
    ]);
    assert_eq!(got, format!("{HEADER}x,1,2,1,4,agent,amy,60.0\n"));
}

#[test]
fn equal_timestamps_keep_input_order() {
    // The agent line comes first in the input: it answers nothing, and the customer
    // message after it opens a round that stays open.
    let agent_first = rounds_of(&[
        line("x", "1", "10:00:00", "agent", Some("amy"), "您好"),
        line("x", "2", "10:00:00", "customer", None, "在吗"),
    ]);
    assert_eq!(agent_first, format!("{HEADER}x,1,2,1,,,,\n"));
    let customer_first = rounds_of(&[
        line("x", "1", "10:00:00", "customer", None, "在吗"),
        line("x", "2", "10:00:00", "agent", Some("amy"), "您好"),
    ]);
    assert_eq!(customer_first, format!("{HEADER}x,1,1,1,2,agent,amy,0.0\n"));
}

#[test]
fn out_of_order_lines_are_ordered_by_time() {
    let got = rounds_of(&[
        line("x", "3", "10:00:30", "agent", Some("amy"), "有的"),
        line("x", "1", "10:00:00", "customer", None, "在吗"),
        line("x", "2", "10:00:10", "customer", None, "有货吗"),
    ]);
    assert_eq!(got, format!("{HEADER}x,1,1,2,3,agent,amy,30.0\n"));
}

#[test]
fn only_the_final_round_stays_unclosed() {
    let got = rounds_of(&[
        line("x", "1", "10:00:00", "customer", None, "在吗"),
        line("x", "2", "10:00:20", "agent", Some("amy"), "在的"),
        line("x", "3", "10:00:25", "agent", Some("amy"), "请问有什么可以帮您"),
        line("x", "4", "10:05:00", "customer", None, "算了"),
    ]);
    assert_eq!(got, format!("{HEADER}x,1,1,1,2,agent,amy,20.0\nx,2,4,1,,,,\n"));
}

#[test]
fn a_session_crossing_midnight_belongs_to_its_first_day() {
    let scratch = Scratch::new();
    let input = scratch.write(
        "t.jsonl",
        [
            line("x", "1", "2026-11-11 23:58:00", "customer", None, "在吗"),
            line("x", "2", "2026-11-11 23:59:30", "agent", Some("amy"), "在的"),
            line("x", "3", "2026-11-12 00:01:00", "customer", None, "发货了吗"),
            line("x", "4", "2026-11-12 00:03:00", "agent", Some("amy"), "明天发"),
        ]
        .join("\n"),
    );
    assert_eq!(
        sql_csv(
            &input,
            "SELECT round_no, local_date, local_time, session_date FROM rounds ORDER BY round_no"
        ),
        "round_no,local_date,local_time,session_date\n1,2026-11-11,23:58:00,2026-11-11\n2,2026-11-12,00:01:00,2026-11-11\n"
    );
    assert_eq!(
        sql_csv(&input, "SELECT local_date, started_at, ended_at FROM sessions"),
        "local_date,started_at,ended_at\n2026-11-11,2026-11-11T15:58:00Z,2026-11-11T16:03:00Z\n"
    );
}

#[test]
fn duplicates_are_kept_once_first_in_input_order() {
    let scratch = Scratch::new();
    let input = scratch.write(
        "t.jsonl",
        [
            line("x", "1", "10:00:00", "customer", None, "first copy"),
            line("x", "2", "10:00:30", "agent", Some("amy"), "hi"),
            line("x", "1", "09:00:00", "customer", None, "second copy, earlier ts"),
        ]
        .join("\n"),
    );
    let out = crate::util::zhijian()
        .args(["sql", "--format", "csv", "--input"])
        .arg(&input)
        .arg("SELECT msg_id, seq, text FROM messages ORDER BY seq")
        .output()
        .expect("runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "msg_id,seq,text\n1,1,first copy\n2,2,hi\n"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 duplicate messages"));
}

#[test]
fn customer_id_falls_back_to_the_sessions_first_one() {
    let scratch = Scratch::new();
    let no_id = serde_json::json!({"shop": "s", "session_id": "x", "msg_id": "1", "ts": "2026-11-11 10:00:00", "role": "customer", "text": "在吗"});
    let input = scratch.write(
        "t.jsonl",
        [
            no_id.to_string(),
            line("x", "2", "10:00:10", "agent", Some("amy"), "在的"),
            line("x", "3", "10:00:20", "customer", None, "有货吗"),
        ]
        .join("\n"),
    );
    assert_eq!(
        sql_csv(
            &input,
            "SELECT round_no, customer_id FROM rounds ORDER BY round_no"
        ),
        "round_no,customer_id\n1,buyer\n2,buyer\n"
    );
}
