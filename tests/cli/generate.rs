//! `zhijian gen` through the binary, and the shipped sample read by default.

use crate::util::{Scratch, gen_command, generate, sql_csv, zhijian};

#[test]
fn gen_is_deterministic_and_its_output_ingests_cleanly() {
    let scratch = Scratch::new();
    for name in ["a", "b"] {
        generate(&scratch.path(name), 2, 2, 20, 3);
    }
    for day in ["date=2026-11-11", "date=2026-11-12"] {
        let a = std::fs::read(scratch.path("a").join(day).join("messages.jsonl")).expect("day a");
        let b = std::fs::read(scratch.path("b").join(day).join("messages.jsonl")).expect("day b");
        assert!(!a.is_empty());
        assert_eq!(a, b, "{day} differs between two runs with one seed");
    }
    let out = zhijian()
        .args(["sql", "--format", "csv", "--input"])
        .arg(scratch.path("a"))
        .arg("SELECT count(DISTINCT local_date) AS days, count(*) > 0 AS nonempty FROM sessions")
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "days,nonempty\n2,true\n");
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn gen_csv_matches_gen_jsonl() {
    let scratch = Scratch::new();
    for (name, format) in [("g.jsonl", "jsonl"), ("g.csv", "csv")] {
        zhijian()
            .args([
                "gen",
                "--sessions-per-day",
                "15",
                "--seed",
                "9",
                "--format",
                format,
                "--out",
            ])
            .arg(scratch.path(name))
            .assert()
            .success();
    }
    let query = "SELECT * FROM rounds ORDER BY shop, session_id, round_no";
    assert_eq!(
        sql_csv(&scratch.path("g.jsonl"), query),
        sql_csv(&scratch.path("g.csv"), query)
    );
}

#[test]
fn the_shipped_sample_is_the_default_input() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = zhijian()
        .current_dir(root)
        .args([
            "sql",
            "--format",
            "csv",
            "SELECT count(DISTINCT shop) AS shops, count(DISTINCT session_date) AS days, \
             sum(CASE WHEN responder_role = 'agent' THEN 1 ELSE 0 END) > 1000 AS many \
             FROM rounds",
        ])
        .output()
        .expect("runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "shops,days,many\n2,2,true\n"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("5 of 4134 records rejected"), "{stderr}");
}

#[test]
fn gen_writes_orders_and_metrics_of_its_own_customers_and_agents() {
    let scratch = Scratch::new();
    let (orders, metrics) = (scratch.path("orders.csv"), scratch.path("metrics.csv"));
    gen_command(2, 2, 40, 9)
        .arg("--out")
        .arg(scratch.path("logs"))
        .arg("--orders")
        .arg(&orders)
        .arg("--metrics")
        .arg(&metrics)
        .assert()
        .success();
    let customers = sql_csv(
        &scratch.path("logs"),
        "SELECT DISTINCT shop || '/' || customer_id FROM messages WHERE customer_id IS NOT NULL",
    );
    let agents = sql_csv(
        &scratch.path("logs"),
        "SELECT DISTINCT agent_id FROM agent_sessions",
    );
    let orders = std::fs::read_to_string(&orders).expect("orders");
    let mut lines = orders.lines();
    assert_eq!(lines.next(), Some("shop,order_id,customer_id,paid_at,amount"));
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() > 10, "{orders}");
    for row in &rows {
        let fields: Vec<&str> = row.split(',').collect();
        assert!(
            customers
                .lines()
                .any(|c| c == format!("{}/{}", fields[0], fields[2])),
            "{row}"
        );
        assert!(fields[4].parse::<f64>().is_ok(), "{row}");
    }
    let metrics = std::fs::read_to_string(&metrics).expect("metrics");
    for row in metrics.lines().skip(1) {
        let agent = row.split(',').next().expect("agent");
        assert!(agents.lines().any(|a| a == agent), "{row}");
    }
}
