//! `zhijian forecast` on the hand-computed day of `tests/fixtures/forecast/` (its
//! README works every number out), and the backtest on generated days.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::util::{Scratch, generate, sql_csv, zhijian};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/forecast/day.jsonl")
}

const TARGETS: [&str; 10] = [
    "--gmv",
    "100000",
    "--cs-share",
    "0.5",
    "--aov",
    "200",
    "--conversion",
    "0.25",
    "--presale-share",
    "0.5",
];

fn forecast(out: &Path, extra: &[&str]) -> assert_cmd::Command {
    let mut command = zhijian();
    command
        .args(["forecast", "--reference", "2026-11-11", "--input"])
        .arg(fixture())
        .arg("--out")
        .arg(out)
        .args(extra);
    command
}

/// The CSV rows the README works out, for `agents` per busy hour and the plan.
fn expected_csv(needed: [(usize, u64); 4], planned: u64, line_end: &str) -> String {
    let coefficient = |h: usize| match h {
        9 | 14 => 0.2,
        10 | 20 => 0.4,
        _ => 0.0,
    };
    let mut text = format!("hour,coefficient,forecast_customers,agents_needed,agents_planned{line_end}");
    for hour in 0..24 {
        let need = needed.iter().find(|(h, _)| *h == hour).map_or(0, |(_, n)| *n);
        let cover = if (3..=10).contains(&hour) || (13..=20).contains(&hour) {
            planned
        } else {
            0
        };
        text.push_str(&format!(
            "{hour},{:.6},{:.2},{need},{cover}{line_end}",
            coefficient(hour),
            2000.0 * coefficient(hour)
        ));
    }
    text
}

#[test]
fn the_hand_computed_day_with_a_given_capacity() {
    let scratch = Scratch::new();
    let out = scratch.path("fc");
    let run = forecast(&out, &["--capacity", "100", "--format", "csv", "--shifts", "2"])
        .args(TARGETS)
        .output()
        .expect("runs");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let needed = [(9, 4), (10, 8), (14, 4), (20, 8)];
    assert_eq!(
        String::from_utf8(run.stdout).unwrap(),
        expected_csv(needed, 8, "\n")
    );
    let file = std::fs::read(out.join("forecast.csv")).unwrap();
    let mut want = b"\xEF\xBB\xBF".to_vec();
    want.extend(expected_csv(needed, 8, "\r\n").into_bytes());
    assert_eq!(String::from_utf8_lossy(&file), String::from_utf8_lossy(&want));

    let html = std::fs::read_to_string(out.join("forecast.html")).unwrap();
    assert!(html.contains("<svg class=\"chart\"") && html.contains("fx"));
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains(" src="));
    assert!(
        html.contains("03:00-11:00") && html.contains("13:00-21:00"),
        "the shifts are listed"
    );
}

#[test]
fn the_table_states_the_plan_and_how_capacity_was_measured() {
    let scratch = Scratch::new();
    let run = forecast(&scratch.path("fc"), &["--shifts", "2"])
        .args(TARGETS)
        .output()
        .expect("runs");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let table = String::from_utf8(run.stdout).unwrap();
    assert!(table.contains("2000.00 = 销售目标 100000"), "{table}");
    assert!(
        table.contains("2 人/小时, 实测") && table.contains("6 个客服小时的 P90 = 2.50"),
        "{table}"
    );
    assert!(table.contains("峰值所需客服 peak need: 400 人"), "{table}");
    assert!(
        table.contains("共 800 人") && table.contains("A班 03:00-11:00  400 人"),
        "{table}"
    );
    assert!(table.contains("B班 13:00-21:00  400 人"), "{table}");
}

#[test]
fn bad_targets_and_impossible_plans_say_what_to_change() {
    let scratch = Scratch::new();
    let mut bad = TARGETS.to_vec();
    bad[3] = "60";
    forecast(&scratch.path("fc"), &["--capacity", "100"])
        .args(&bad)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--cs-share 60"));
    forecast(
        &scratch.path("fc"),
        &["--capacity", "100", "--shifts", "1", "--shift-hours", "4"],
    )
    .args(TARGETS)
    .assert()
    .code(2)
    .stderr(predicates::str::contains("--shift-hours"));
    forecast(&scratch.path("fc"), &["--shop", "nope"])
        .args(TARGETS)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("shops that day: fx"));
}

/// Customers per local hour of `day` in `input`, straight from SQL.
fn actual_hours(input: &Path, shop: &str, day: &str) -> BTreeMap<u32, f64> {
    let csv = sql_csv(
        input,
        &format!(
            "SELECT CAST(extract(hour FROM local_time) AS BIGINT) AS hour,
                    count(DISTINCT coalesce(customer_id, session_id)) AS n
             FROM rounds WHERE shop = '{shop}' AND local_date = DATE '{day}' GROUP BY 1 ORDER BY 1"
        ),
    );
    csv.lines()
        .skip(1)
        .map(|l| {
            let (h, n) = l.split_once(',').unwrap();
            (h.parse().unwrap(), n.parse().unwrap())
        })
        .collect()
}

#[test]
fn backtest_compares_day_d_with_its_forecast_from_d_minus_7() {
    let scratch = Scratch::new();
    let input = scratch.path("gen");
    generate(&input, 1, 8, 120, 5);
    let shop = sql_csv(&input, "SELECT DISTINCT shop FROM sessions")
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let run = zhijian()
        .args([
            "forecast",
            "--reference",
            "2026-11-11",
            "--backtest",
            "2026-11-18",
            "--format",
            "csv",
        ])
        .args(["--capacity", "5", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(scratch.path("fc"))
        .output()
        .expect("runs");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let actual = actual_hours(&input, &shop, "2026-11-18");
    let mut error = 0.0;
    for line in String::from_utf8(run.stdout).unwrap().lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let hour: u32 = cells[0].parse().unwrap();
        let forecast: f64 = cells[2].parse().unwrap();
        error += (forecast - actual.get(&hour).copied().unwrap_or(0.0)).abs();
    }
    let stderr = String::from_utf8(run.stderr).unwrap();
    let said = stderr
        .split("MAE ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no MAE in {stderr}"));
    // The CSV rounds forecasts to 2 decimals: allow that much.
    assert!(
        (said.parse::<f64>().unwrap() - error / 24.0).abs() < 0.01,
        "{said} vs {}",
        error / 24.0
    );
}
