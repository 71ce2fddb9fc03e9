//! `zhijian sql`: formats, the read-only sandbox, and errors people can act on.

use crate::util::{Scratch, line, zhijian};

fn transcript(scratch: &Scratch) -> std::path::PathBuf {
    scratch.write(
        "t.jsonl",
        [
            line("x", "1", "10:00:00", "customer", None, "在吗"),
            line("x", "2", "10:00:30", "agent", Some("amy"), "<b>在的</b>"),
        ]
        .join("\n"),
    )
}

#[test]
fn json_output_is_json_lines() {
    let scratch = Scratch::new();
    let input = transcript(&scratch);
    let out = zhijian()
        .args(["sql", "--format", "json", "--input"])
        .arg(&input)
        .arg("SELECT agent_id, latency_s FROM rounds")
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(
        rows,
        vec![serde_json::json!({"agent_id": "amy", "latency_s": 30.0})]
    );
}

#[test]
fn table_output_shows_the_rows() {
    let scratch = Scratch::new();
    let input = transcript(&scratch);
    let out = zhijian()
        .args(["sql", "--input"])
        .arg(&input)
        .arg("SELECT agent_id, round_no FROM rounds")
        .output()
        .expect("runs");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("| agent_id | round_no |"), "{text}");
    assert!(text.contains("| amy      | 1        |"), "{text}");
}

#[test]
fn writes_are_refused_with_exit_code_1() {
    let scratch = Scratch::new();
    let input = transcript(&scratch);
    for query in [
        "DROP TABLE messages",
        "COPY (SELECT * FROM messages) TO '/tmp/zhijian-leak.csv'",
        "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
        "INSERT INTO messages SELECT * FROM messages",
    ] {
        let out = zhijian()
            .args(["sql", "--input"])
            .arg(&input)
            .arg(query)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(1), "{query}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("query refused: only SELECT queries"),
            "{query}: {stderr}"
        );
    }
    assert!(!std::path::Path::new("/tmp/zhijian-leak.csv").exists());
}

#[test]
fn an_unknown_column_names_the_valid_ones() {
    let scratch = Scratch::new();
    let input = transcript(&scratch);
    let out = zhijian()
        .args(["sql", "--input"])
        .arg(&input)
        .arg("SELECT latency FROM rounds")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("latency_s"), "{stderr}");
}

#[test]
fn bad_flags_exit_2() {
    zhijian()
        .args(["sql", "--format", "xml", "SELECT 1"])
        .assert()
        .code(2);
    let scratch = Scratch::new();
    let input = transcript(&scratch);
    let out = zhijian()
        .args(["sql", "--timezone", "Mars/Base", "--input"])
        .arg(&input)
        .arg("SELECT 1")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown time zone"));
    zhijian()
        .args(["sql", "--input", "/nonexistent/path", "SELECT 1"])
        .assert()
        .code(1);
}

#[test]
fn the_custom_functions_and_the_packs_lexicons_work_in_sql() {
    let scratch = Scratch::new();
    let input = transcript(&scratch);
    scratch.write("rules/lexicons/hello.txt", "在吗\n");
    let out = zhijian()
        .args(["sql", "--format", "csv", "--rules"])
        .arg(scratch.path("rules"))
        .arg("--input")
        .arg(&input)
        .arg("SELECT msg_id, zj_contains_any(text, 'hello') AS hit, zj_normalize(text) AS n FROM messages ORDER BY seq")
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "msg_id,hit,n\n1,true,在吗\n2,false,<b>在的</b>\n"
    );
}
