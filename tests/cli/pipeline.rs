//! The one pipeline: every command cut into units of a few shops (a tiny
//! `--memory-limit`, rows spilled to disk) gives what it gives in one unit, and
//! the prepared dataset `ingest` writes is read as it is, kept current when the
//! next day's exports arrive, and refused when it was made with other time zones.

use std::path::Path;

use crate::util::{Scratch, generate, plain_rows, zhijian, zhijian_in_repo as in_repo};

fn text(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[track_caller]
fn ok(output: std::process::Output) -> std::process::Output {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Every file under a dataset folder (hidden ones aside), with its rows or text.
fn dataset_files(root: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("dir") {
            let path = entry.expect("entry").path();
            let name = path.file_name().expect("name").to_string_lossy().into_owned();
            if name.starts_with('.') || name == "_dataset.json" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                let content = if name.ends_with(".parquet") {
                    plain_rows(&path)
                } else {
                    std::fs::read_to_string(&path).expect("text")
                };
                files.push((
                    path.strip_prefix(root).expect("under").display().to_string(),
                    content,
                ));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn check_sql_and_ingest_in_many_units_give_what_one_unit_gives() {
    let scratch = Scratch::new();
    let input = scratch.path("in");
    generate(&input, 6, 2, 40, 21);
    let query = "SELECT agent_id, count(*) AS rounds, round(avg(latency_s), 6) AS latency \
                 FROM rounds WHERE responder_role = 'agent' GROUP BY agent_id ORDER BY agent_id";
    let mut results = Vec::new();
    for limit in ["1MB", "2GB"] {
        let check = ok(in_repo()
            .args([
                "check",
                "banned-rude",
                "--format",
                "json",
                "--memory-limit",
                limit,
                "--input",
            ])
            .arg(&input)
            .output()
            .expect("runs"));
        let sql = ok(in_repo()
            .args(["sql", "--format", "csv", "--memory-limit", limit, "--input"])
            .arg(&input)
            .arg(query)
            .output()
            .expect("runs"));
        let dataset = scratch.path(&format!("dataset-{limit}"));
        ok(zhijian()
            .args(["ingest", "--memory-limit", limit, "--input"])
            .arg(&input)
            .arg("--out")
            .arg(&dataset)
            .output()
            .expect("runs"));
        results.push((text(&check), text(&sql), dataset_files(&dataset)));
    }
    let (small, large) = (&results[0], &results[1]);
    assert!(small.0.lines().count() > 3, "check found hits: {}", small.0);
    assert_eq!(small.0, large.0, "check");
    assert!(small.1.lines().count() > 6, "{}", small.1);
    assert_eq!(small.1, large.1, "sql");
    assert_eq!(small.2, large.2, "ingest");
}

/// Ingesting day 1, then day 2, gives the dataset that ingesting both at once
/// gives: the sessions of day 1 that ran past midnight are completed with day 2's
/// messages. And a run over the dataset publishes what a run over the exports does.
#[test]
fn the_next_days_exports_complete_the_sessions_crossing_midnight() {
    let scratch = Scratch::new();
    let input = scratch.path("in");
    generate(&input, 3, 2, 60, 33);
    let (daily, once) = (scratch.path("daily"), scratch.path("once"));
    let ingest = |inputs: &[&Path], out: &Path| {
        let mut command = zhijian();
        command.arg("ingest");
        for input in inputs {
            command.arg("--input").arg(input);
        }
        ok(command.arg("--out").arg(out).output().expect("runs"));
    };
    let (day1, day2) = (input.join("date=2026-11-11"), input.join("date=2026-11-12"));
    ingest(&[&day1], &daily);
    ingest(&[&day2], &daily);
    ingest(&[&day1, &day2], &once);
    let crossing = ok(in_repo()
        .args(["sql", "--format", "csv", "--input"])
        .arg(&once)
        .arg("SELECT count(*) AS n FROM sessions WHERE local_date = DATE '2026-11-11' AND ended_at >= TIMESTAMP '2026-11-11T16:00:00Z'")
        .output()
        .expect("runs"));
    assert_ne!(
        text(&crossing),
        "n\n0\n",
        "the generated days have sessions crossing midnight"
    );
    assert_eq!(dataset_files(&daily), dataset_files(&once));
    let (from_dataset, from_exports) = (scratch.path("a"), scratch.path("b"));
    for (input, out) in [(&daily, &from_dataset), (&input, &from_exports)] {
        ok(in_repo()
            .args(["run", "--quiet", "--date", "2026-11-11", "--input"])
            .arg(input)
            .arg("--out")
            .arg(out)
            .output()
            .expect("runs"));
    }
    let folder = "date=2026-11-11";
    for file in ["scorecards.csv", "report.html"] {
        let read = |out: &Path| std::fs::read_to_string(out.join(folder).join(file)).expect("file");
        assert_eq!(read(&from_dataset), read(&from_exports), "{file}");
    }
    for table in ["violations", "rounds", "rule_hits", "inquiries"] {
        let rows = |out: &Path| plain_rows(&out.join(folder).join(format!("{table}.parquet")));
        assert_eq!(rows(&from_dataset), rows(&from_exports), "{table}");
    }
}

#[test]
fn a_dataset_is_never_mixed_with_other_time_zones_or_old_folders() {
    let scratch = Scratch::new();
    let input = scratch.path("in");
    generate(&input, 1, 1, 10, 3);
    let dataset = scratch.path("dataset");
    ok(zhijian()
        .args(["ingest", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&dataset)
        .output()
        .expect("runs"));
    for command in [
        vec!["run", "--timezone", "UTC", "--out", "/dev/null/never"],
        vec!["sql", "--timezone", "UTC", "SELECT 1"],
        vec!["ingest", "--timezone", "UTC", "--out"],
    ] {
        let mut cmd = in_repo();
        cmd.args(&command);
        if command[0] == "ingest" {
            cmd.arg(&dataset).arg("--input").arg(&input);
        } else {
            cmd.arg("--input").arg(&dataset);
        }
        let out = cmd.output().expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {stderr}");
        assert!(
            stderr.contains("made with --timezone Asia/Shanghai"),
            "{command:?}: {stderr}"
        );
    }
    // Date folders without a manifest (an older dataset) are not added to.
    let old = scratch.path("old");
    std::fs::create_dir_all(old.join("date=2026-11-11")).expect("mkdir");
    let out = zhijian()
        .args(["ingest", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&old)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no _dataset.json"), "{stderr}");
}

/// `check` on a prepared dataset reads only the views its rule needs, and finds
/// what it finds on the exports, for a rule of every template that reads a
/// different view (`messages` only, `rounds`, a trainer's SQL).
#[test]
fn check_on_a_dataset_reads_the_views_it_needs_and_finds_what_the_exports_give() {
    let scratch = Scratch::new();
    let input = scratch.path("in");
    generate(&input, 3, 1, 80, 7);
    let dataset = scratch.path("dataset");
    ok(zhijian()
        .args(["ingest", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&dataset)
        .output()
        .expect("runs"));
    for rule in [
        "banned-rude",
        "first-response-30s",
        "unanswered",
        "refund-promise-before-order",
    ] {
        let check = |from: &Path| {
            text(&ok(in_repo()
                .args(["check", rule, "--format", "json", "--limit", "1000", "--input"])
                .arg(from)
                .output()
                .expect("runs")))
        };
        let from_dataset = check(&dataset);
        assert!(!from_dataset.is_empty(), "{rule} finds hits");
        assert_eq!(from_dataset, check(&input), "{rule}");
    }
}
