//! Regression tests for the defects of the reliability review: each failed before
//! its fix. The fault-injection tests (failpoints, write failures, kills) are in
//! `faults.rs`.

use crate::util::{Scratch, date_folders, fixture, run_fixture, zhijian};

/// A run killed while its rows were spilled leaves its spill file behind (named
/// `.spill.tmp-PID` before this fix); the next run removes it instead of failing
/// on it every night until someone deletes it by hand.
#[test]
fn a_spill_file_left_by_a_killed_run_does_not_block_the_next_run() {
    let scratch = Scratch::new();
    let out = scratch.path("out");
    scratch.write("out/.spill.tmp-4242", b"ARROW1\0\0 half a spill file");
    scratch.write("out/.spill-4243.arrows", b"ARROW1\0\0 half a spill file");
    let assert = run_fixture(&out).success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        stderr.contains(".spill.tmp-4242") && stderr.contains(".spill-4243.arrows"),
        "the log names what it cleaned up: {stderr}"
    );
    let hidden: Vec<String> = std::fs::read_dir(&out)
        .expect("out")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "left behind: {hidden:?}");
    assert_eq!(date_folders(&out).len(), 1);
}

/// An `sql` rule whose rows name a session that does not exist is an error of the
/// rule (exit 2), also when its columns are string views (`CAST(... AS VARCHAR)`).
#[test]
fn an_sql_rule_naming_a_missing_session_is_a_rule_error_not_a_panic() {
    let scratch = Scratch::new();
    scratch.write(
        "rules/ghost.toml",
        "name = \"ghost\"\ntemplate = \"sql\"\n[params]\n\
         sql = \"SELECT CAST('s1' AS VARCHAR) AS shop, CAST('no-such-session' AS VARCHAR) AS session_id, \
         CAST(NULL AS VARCHAR) AS agent_id FROM sessions\"\n",
    );
    let out = zhijian()
        .args(["run", "--input"])
        .arg(fixture("messages.jsonl"))
        .arg("--rules")
        .arg(scratch.path("rules"))
        .arg("--out")
        .arg(scratch.path("out"))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("ghost.toml: rule ghost: key `sql`")
            && stderr.contains("\"no-such-session\"")
            && stderr.contains("does not exist"),
        "{stderr}"
    );
    assert!(date_folders(&scratch.path("out")).is_empty());
}

/// `zhijian ingest` masks the raw text of rejected lines as `run` does.
#[test]
fn ingest_masks_personal_data_in_its_rejects() {
    let scratch = Scratch::new();
    let input = scratch.write(
        "in/a.jsonl",
        "{\"shop\":\"s1\",\"session_id\":\"S9\",\"msg_id\":\"x\",\"ts\":\"bad\",\"role\":\"agent\",\
         \"agent_id\":\"A\",\"text\":\"call 138-1234-5678 or zhang.san@example.com, id 110101199003071234\"}\n",
    );
    let dataset = scratch.path("dataset");
    zhijian()
        .args(["ingest", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&dataset)
        .assert()
        .success();
    let rejects = std::fs::read_to_string(dataset.join("_rejects.jsonl")).expect("rejects");
    for secret in ["138-1234-5678", "zhang.san@example.com", "110101199003071234"] {
        assert!(!rejects.contains(secret), "{secret} in {rejects}");
    }
    assert!(
        rejects.contains("138-****-5678") && rejects.contains("z***@example.com"),
        "{rejects}"
    );
}

/// Numbers that are not finite in `scoring.toml` are refused when the pack loads.
#[test]
fn non_finite_scoring_numbers_are_refused_at_load() {
    for (key, value) in [("base", "nan"), ("floor", "-inf"), ("ceiling", "inf")] {
        let scratch = Scratch::new();
        let pack = scratch.path("rules");
        std::fs::create_dir_all(&pack).expect("mkdir");
        for entry in std::fs::read_dir(fixture("rules")).expect("fixture pack") {
            let path = entry.expect("entry").path();
            std::fs::copy(&path, pack.join(path.file_name().expect("name"))).expect("copy");
        }
        let scoring = std::fs::read_to_string(pack.join("scoring.toml")).expect("scoring");
        let changed: String = scoring
            .lines()
            .map(|l| {
                if l.starts_with(&format!("{key} ")) || l.starts_with(&format!("{key}=")) {
                    format!("{key} = {value}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        let changed = if changed.contains(&format!("{key} = {value}")) {
            changed
        } else {
            format!("{changed}{key} = {value}\n")
        };
        std::fs::write(pack.join("scoring.toml"), changed).expect("write");
        let out = zhijian()
            .args(["run", "--input"])
            .arg(fixture("messages.jsonl"))
            .arg("--rules")
            .arg(&pack)
            .arg("--out")
            .arg(scratch.path("out"))
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{key} = {value}: {stderr}");
        assert!(
            stderr.contains("scoring.toml") && stderr.contains(&format!("`{key}`")),
            "{key} = {value}: {stderr}"
        );
    }
}

/// Numbers that are not finite in `kpi.toml` are refused when it loads, each
/// named by its key.
#[test]
fn non_finite_kpi_numbers_are_refused_at_load() {
    let formula = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kpi/kpi.toml"),
    )
    .expect("fixture");
    let cases = [
        ("weight = 40", "weight = nan", "key `weight`"),
        (
            "curve = [[20, 100], [60, 0]]",
            "curve = [[20, inf], [60, 0]]",
            "key `curve`",
        ),
        ("min_score = 90", "min_score = -inf", "key `min_score`"),
        ("multiplier = 0.9", "multiplier = nan", "key `multiplier`"),
    ];
    for (from, to, key) in cases {
        let scratch = Scratch::new();
        let config = scratch.write("kpi.toml", formula.replacen(from, to, 1));
        let out = zhijian()
            .args(["kpi", "--month", "2026-11", "--out"])
            .arg(scratch.path("out"))
            .arg("--config")
            .arg(&config)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{to}: {stderr}");
        assert!(
            stderr.contains("kpi.toml") && stderr.contains(key),
            "{to}: {stderr}"
        );
    }
}
