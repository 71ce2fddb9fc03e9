//! `zhijian kpi` and `zhijian explain-kpi` on the hand-computed month of
//! `tests/fixtures/kpi/` (its README works every number out), and bad inputs.

use std::path::{Path, PathBuf};

use crate::util::{Scratch, zhijian};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kpi")
        .join(name)
}

/// Publishes the fixture's two days under `out`.
fn run_days(out: &Path) {
    zhijian()
        .args(["run", "--quiet", "--input"])
        .arg(fixture("messages.jsonl"))
        .arg("--rules")
        .arg(fixture("rules"))
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

/// `zhijian kpi` on the fixture month; `replace` swaps one input file for another.
fn kpi(out: &Path, replace: Option<(&str, &Path)>) -> assert_cmd::Command {
    let mut command = zhijian();
    command
        .args(["kpi", "--month", "2026-11", "--allow-missing-days", "--out"])
        .arg(out);
    for (flag, name) in [
        ("--orders", "orders.csv"),
        ("--metrics", "metrics.csv"),
        ("--config", "kpi.toml"),
    ] {
        let path = match replace {
            Some((swapped, path)) if swapped == flag => path.to_path_buf(),
            _ => fixture(name),
        };
        command.arg(flag).arg(path);
    }
    command
}

const PAYROLL: &str = "\u{feff}month,shop,agent_id,days_worked,sessions,response_avg_s,response_avg_s_points,\
inquiry_conversion,inquiry_conversion_points,good_review_rate,good_review_rate_points,complaints,complaints_points,\
kpi_score,multiplier,no_data\r\n\
2026-11,s1,A,1,2,23.33,91.67,0.5000,100.00,0.9900,90.00,0,100.00,94.67,0.9000,\r\n\
2026-11,s1,B,2,2,60.00,0.00,0.0000,0.00,0.9000,0.00,2,50.00,5.00,0.8000,\r\n\
2026-11,s1,C,2,2,20.00,100.00,1.0000,120.00,no data,no data,no data,no data,108.57,1.0857,good_review_rate complaints\r\n";

#[test]
fn the_fixture_month_gives_the_hand_computed_payroll_byte_identical_on_rerun() {
    let scratch = Scratch::new();
    let out = scratch.path("out");
    run_days(&out);
    kpi(&out, None).assert().success();
    let folder = out.join("kpi/month=2026-11");
    let first = std::fs::read(folder.join("payroll.csv")).expect("payroll");
    assert_eq!(String::from_utf8_lossy(&first), PAYROLL);
    kpi(&out, None).assert().success();
    assert_eq!(std::fs::read(folder.join("payroll.csv")).expect("payroll"), first);
    // The month's tables are queried from their files: a small memory budget
    // changes nothing.
    kpi(&out, None)
        .args(["--memory-limit", "32MB"])
        .assert()
        .success();
    assert_eq!(std::fs::read(folder.join("payroll.csv")).expect("payroll"), first);

    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("manifest.json")).expect("manifest"))
            .expect("json");
    assert_eq!(manifest["daily"].as_array().map(Vec::len), Some(2));
    assert_eq!(manifest["missing_days"].as_array().map(Vec::len), Some(28));
    for key in ["config", "orders", "metrics"] {
        assert_eq!(manifest[key]["sha256"].as_str().map(str::len), Some(64), "{key}");
    }

    // Sales are exact cents; B sold nothing that counts.
    let sales = crate::util::parquet_csv(
        &folder.join("kpi.parquet"),
        &[
            "agent_id",
            "agent_sales",
            "orders",
            "inquiries",
            "converted_inquiries",
        ],
    );
    assert_eq!(
        sales,
        "agent_id,agent_sales,orders,inquiries,converted_inquiries\nA,120.0,2,2,1\nB,0.0,0,2,0\nC,210.0,2,2,2\n"
    );
}

#[test]
fn explain_kpi_shows_components_inputs_days_and_costliest_violations() {
    let scratch = Scratch::new();
    let out = scratch.path("out");
    run_days(&out);
    kpi(&out, None).assert().success();
    let output = zhijian()
        .args(["explain-kpi", "--month", "2026-11", "--agent", "B", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("utf-8");
    for expected in [
        "score 5.00 → multiplier 0.8000",
        "2 rounds, average 60.0 s",
        "0 of 2 inquiries converted",
        "90 good of 100 reviews",
        "2026-11-01",
        "2026-11-02",
        "-1     slow-60s [minor] 2026-11-01 11:01:30 session S2",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
    zhijian()
        .args(["explain-kpi", "--month", "2026-11", "--agent", "nobody", "--out"])
        .arg(&out)
        .assert()
        .code(2);
}

#[test]
fn missing_days_are_listed_and_refused_without_the_flag() {
    let scratch = Scratch::new();
    let out = scratch.path("out");
    run_days(&out);
    let assert = zhijian()
        .args(["kpi", "--month", "2026-11", "--out"])
        .arg(&out)
        .arg("--config")
        .arg(fixture("kpi.toml"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        stderr.contains("28 days of 2026-11 have no published folder") && stderr.contains("2026-11-30"),
        "{stderr}"
    );
    assert!(!out.join("kpi/month=2026-11").exists());
}

#[test]
fn bad_inputs_are_clear_errors_and_publish_nothing() {
    let scratch = Scratch::new();
    let out = scratch.path("out");
    run_days(&out);
    let orders = std::fs::read_to_string(fixture("orders.csv")).expect("orders")
        + "s1,o9,c1,2026-11-01 11:00:00,1O.00\n";
    let bad_orders = scratch.write("bad-orders.csv", orders);
    let metrics = std::fs::read_to_string(fixture("metrics.csv")).expect("metrics") + "Z,2026-11,1,1,0\n";
    let bad_metrics = scratch.write("bad-metrics.csv", metrics);
    let config = std::fs::read_to_string(fixture("kpi.toml")).expect("config");
    let unsorted = scratch.write(
        "unsorted.toml",
        config.replace("[[20, 100], [60, 0]]", "[[60, 0], [20, 100]]"),
    );
    let weightless = scratch.write(
        "weightless.toml",
        config
            .replace("weight = 40", "weight = 0")
            .replace("weight = 30", "weight = 0")
            .replace("weight = 20", "weight = 0")
            .replace("weight = 10", "weight = 0"),
    );
    let cases: [(&str, PathBuf, i32, &str); 4] = [
        (
            "--orders",
            bad_orders,
            1,
            "bad-orders.csv:8: field \"amount\": \"1O.00\" is not an amount",
        ),
        (
            "--metrics",
            bad_metrics,
            1,
            "bad-metrics.csv:5: agent \"Z\" has no sessions in 2026-11",
        ),
        (
            "--config",
            unsorted,
            2,
            "unsorted.toml: [[component]] #1 (response_avg_s) key `curve`: not sorted",
        ),
        (
            "--config",
            weightless,
            2,
            "weightless.toml: the component weights sum to zero",
        ),
    ];
    for (flag, path, code, says) in cases {
        let assert = kpi(&out, Some((flag, &path))).assert().code(code);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(stderr.contains(says), "{flag}: {says:?} in {stderr}");
        assert!(
            !out.join("kpi/month=2026-11").exists(),
            "{flag}: nothing published"
        );
    }
}
