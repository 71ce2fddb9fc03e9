//! Every reject reason, and the good records around a bad one survive.

use std::io::Write;

use crate::util::{Scratch, line, sql_csv, zhijian};

fn ingest(scratch: &Scratch, input: &std::path::Path) -> (String, Vec<serde_json::Value>) {
    let out_dir = scratch.path("dataset");
    let out = zhijian()
        .args(["ingest", "--input"])
        .arg(input)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "ingest failed: {stderr}");
    let rejects = std::fs::read_to_string(out_dir.join("_rejects.jsonl")).expect("rejects file");
    let rejects = rejects
        .lines()
        .map(|l| serde_json::from_str(l).expect("rejects are JSON"))
        .collect();
    (stderr, rejects)
}

fn reasons(rejects: &[serde_json::Value]) -> Vec<(u64, String)> {
    rejects
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().expect("line"),
                r["reason"].as_str().expect("reason").to_string(),
            )
        })
        .collect()
}

#[test]
fn each_bad_line_is_rejected_with_its_reason_and_the_rest_survive() {
    let scratch = Scratch::new();
    let good = |msg: &str| line("x", msg, "10:00:00", "customer", None, "在吗");
    let mut content: Vec<u8> = Vec::new();
    let mut add = |bytes: &[u8]| {
        content.extend_from_slice(bytes);
        content.push(b'\n');
    };
    add(good("1").as_bytes()); // 1
    add(br#"{"shop":"s","session_id":"x","msg_id":"2","ts":"2026-11-11 10:00:01","role":"robot"}"#); // 2
    add(b"{\"shop\":\"s\",\"session_id\":\"x\",\"msg_id\":\"3\",\"ts\":\"2026-11-11 10:00:02\",\"role\":\"customer\",\"text\":\"\xff\xfe\"}"); // 3
    add(br#"{"shop":"s","session_id":"x","msg_id":"4","ts":"2026-11-11 10:00:03","role":"customer""#); // 4
    add(b""); // 5: blank, skipped
    add(br#"{"shop":"s","session_id":"x","msg_id":"6","ts":"2026-11-11T10:00:03+08","role":"customer"}"#); // 6
    add(br#"{"shop":"s","session_id":"x","msg_id":"7","ts":"2026-11-11 10:00:04","role":"agent"}"#); // 7
    add(br#"{"shop":"s","session_id":"x","ts":"2026-11-11 10:00:05","role":"customer"}"#); // 8
    add(br#"{"shop":"s","session_id":"x","msg_id":"9","ts":"2026-02-30 10:00:05","role":"customer"}"#); // 9
    add(br#"{"shop":"s","session_id":"x","msg_id":"10","ts":1762826403000.5,"role":"customer"}"#); // 10
    add(br#"{"shop":"s","session_id":"x","msg_id":"11","ts":"2026-11-11 10:00:05","role":"customer","text":NaN}"#); // 11
    add(good("12").as_bytes()); // 12
    let input = scratch.write("bad.jsonl", &content);
    let (stderr, rejects) = ingest(&scratch, &input);
    let got = reasons(&rejects);
    let expected: [(u64, &str); 10] = [
        (
            2,
            r#"field "role": "robot" is not one of customer, agent, bot, system"#,
        ),
        (3, "the line is not valid UTF-8"),
        (4, "invalid JSON: the line ends early"),
        (6, r#"field "ts": "2026-11-11T10:00:03+08" is not a timestamp"#),
        (7, r#"field "agent_id": is required but missing"#),
        (8, r#"field "msg_id": is required but missing"#),
        (
            9,
            r#"field "ts": "2026-02-30 10:00:05" is not a real calendar date"#,
        ),
        (
            10,
            r#"field "ts": expected a timestamp string or epoch milliseconds, found the number"#,
        ),
        (11, "invalid JSON at column"),
        (0, ""),
    ];
    assert_eq!(got.len(), 9, "{got:?}");
    for ((line, reason), (want_line, want)) in got.iter().zip(expected) {
        assert_eq!(*line, want_line, "{reason}");
        assert!(
            reason.starts_with(want),
            "line {line}: got {reason:?}, want {want:?}"
        );
    }
    assert!(
        rejects
            .iter()
            .all(|r| r["file"].as_str().is_some_and(|f| f.ends_with("bad.jsonl")))
    );
    assert!(stderr.contains("9 of 11 records rejected"), "{stderr}");
    assert!(stderr.contains("bad.jsonl:2: field \"role\""), "{stderr}");
    let kept = sql_csv(
        &scratch.path("dataset"),
        "SELECT msg_id FROM messages ORDER BY seq",
    );
    assert_eq!(kept, "msg_id\n1\n12\n");
}

#[test]
fn a_ten_megabyte_line_is_rejected_and_reading_goes_on() {
    let scratch = Scratch::new();
    let huge = format!(
        r#"{{"shop":"s","session_id":"x","msg_id":"2","ts":"2026-11-11 10:00:00","role":"customer","text":"{}"}}"#,
        "长".repeat((10 << 20) / 3)
    );
    let content = [
        line("x", "1", "10:00:00", "customer", None, "a"),
        huge,
        line("x", "3", "10:00:09", "agent", Some("amy"), "b"),
    ]
    .join("\n");
    let input = scratch.write("big.jsonl", content);
    let (_, rejects) = ingest(&scratch, &input);
    let got = reasons(&rejects);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, 2);
    assert!(got[0].1.contains("longer than"), "{got:?}");
    let kept = sql_csv(
        &scratch.path("dataset"),
        "SELECT msg_id FROM messages ORDER BY seq",
    );
    assert_eq!(kept, "msg_id\n1\n3\n");
}

#[test]
fn a_truncated_gzip_keeps_the_lines_before_the_cut() {
    let scratch = Scratch::new();
    let lines: Vec<String> = (1..=2000)
        .map(|i| {
            line(
                "x",
                &i.to_string(),
                "10:00:00",
                "customer",
                None,
                &format!("消息 {i} 的内容比较长一些以便压缩"),
            )
        })
        .collect();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(lines.join("\n").as_bytes()).expect("compress");
    let gz = encoder.finish().expect("finish");
    let input = scratch.write("cut.jsonl.gz", &gz[..gz.len() / 2]);
    let (_, rejects) = ingest(&scratch, &input);
    let got = reasons(&rejects);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].1.contains("truncated or corrupt gzip"), "{got:?}");
    let kept: u64 = sql_csv(&scratch.path("dataset"), "SELECT count(*) AS n FROM messages")
        .lines()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("count");
    assert!(kept > 0 && kept < 2000, "kept {kept}");
    assert_eq!(got[0].0, kept + 1, "the reject names the first lost line");
}

#[test]
fn an_empty_file_is_a_warning_not_a_failure() {
    let scratch = Scratch::new();
    scratch.write("in/empty.jsonl", "");
    scratch.write(
        "in/one.jsonl",
        line("x", "1", "10:00:00", "customer", None, "在吗"),
    );
    let (stderr, rejects) = ingest(&scratch, &scratch.path("in"));
    assert!(rejects.is_empty());
    assert!(stderr.contains("empty.jsonl holds no records"), "{stderr}");
}

#[test]
fn csv_with_bom_crlf_and_quoted_newlines() {
    let scratch = Scratch::new();
    let csv = "\u{FEFF}shop,channel,session_id,msg_id,ts,role,agent_id,customer_id,text,msg_type\r\n\
        s,tmall,x,1,2026-11-11 10:00:00,customer,,buyer,\"在吗,\"\"亲\"\"\r\n第二行\",text\r\n\
        s,tmall,x,2,1794362430000,agent,amy,,有的,\r\n\
        s,tmall,x,3,2026-11-11 10:00:40,robot,,,,\r\n\
        s,tmall,x,4\r\n";
    let input = scratch.write("t.csv", csv);
    let (_, rejects) = ingest(&scratch, &input);
    let got = reasons(&rejects);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, 5);
    assert!(got[0].1.contains("\"robot\" is not one of"), "{got:?}");
    assert_eq!(got[1].0, 6);
    assert!(
        got[1].1.contains("the row has 4 fields but the header has 10"),
        "{got:?}"
    );
    assert_eq!(
        sql_csv(
            &input,
            "SELECT msg_id, role, text, msg_type, latency_s FROM messages LEFT JOIN rounds ON msg_id = close_msg_id ORDER BY seq"
        ),
        "msg_id,role,text,msg_type,latency_s\n1,customer,\"在吗,\"\"亲\"\"\r\n第二行\",text,\n2,agent,有的,text,30.0\n"
    );
}
