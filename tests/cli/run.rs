//! `zhijian run`: scores against a hand-computed fixture, the published folders,
//! determinism, atomic publishing under `kill -9`, the lock, rejects, masking and
//! every exit code.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use datafusion::arrow::array::AsArray;

use crate::util::{
    FOLDER_FILES, Scratch, assert_complete, date_folders, fixture, generate, plain_rows, read_parquet,
    run_fixture, run_on, strings_of, zhijian, zhijian_in_repo as in_repo,
};

const SCORECARD_COLUMNS: &str = "date,shop,agent_id,sessions,agent_msgs,rounds,first_response_avg_s,\
response_avg_s,response_p90_s,within_30s_rate,within_180s_rate,unanswered,violations,deducted,qa_score,\
critical_sessions";

#[test]
fn fixture_scorecards_match_the_hand_computation() {
    let scratch = Scratch::new();
    let out = scratch.path("out");
    run_fixture(&out).success();
    let folder = out.join("date=2026-11-11");
    assert_eq!(
        date_folders(&out),
        BTreeSet::from(["date=2026-11-11".to_string()])
    );
    let csv = std::fs::read_to_string(folder.join("scorecards.csv")).expect("csv");
    // Worked out in tests/fixtures/scoring/README.md.
    let expected = format!(
        "{SCORECARD_COLUMNS}\n\
         2026-11-11,s1,A,2,6,6,30.0,31.666666666666668,65.0,0.6666666666666666,1.0,0,3,13.5,95.0,0\n\
         2026-11-11,s1,B,2,3,3,45.0,70.0,108.0,0.3333333333333333,1.0,1,3,26.0,47.5,1\n\
         2026-11-11,s1,C,2,3,3,22.5,30.0,42.0,0.6666666666666666,1.0,0,0,0.0,100.0,0\n"
    );
    assert_eq!(csv, expected);

    let rule_hits: Vec<String> = read_parquet(&folder.join("rule_hits.parquet"))
        .iter()
        .flat_map(|b| {
            let agent = b.column(2).as_string::<i32>();
            let rule = b.column(3).as_string::<i32>();
            let hits = b
                .column(4)
                .as_primitive::<datafusion::arrow::datatypes::Int64Type>();
            let points = b
                .column(5)
                .as_primitive::<datafusion::arrow::datatypes::Float64Type>();
            (0..b.num_rows())
                .map(|i| {
                    format!(
                        "{} {} {} {}",
                        agent.value(i),
                        rule.value(i),
                        hits.value(i),
                        points.value(i)
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        rule_hits,
        [
            "(unassigned) unanswered 1 -5",
            "A offplatform 1 -10",
            "A praise 1 4",
            "A rude 1 -2.5",
            "A slow-60s 1 -1",
            "B payment 1 -20",
            "B slow-60s 1 -1",
            "B unanswered 1 -5",
        ]
    );
    let violations: usize = read_parquet(&folder.join("violations.parquet"))
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(violations, 8);
    let manifest = assert_complete(&folder);
    assert_eq!(manifest["counts"]["sessions"], 6);
    assert_eq!(manifest["counts"]["agents"], 3);
    assert_eq!(manifest["counts"]["violations_by_severity"]["critical"], 1);
}

#[test]
fn the_sample_gives_one_complete_folder_per_date_and_identical_files_on_rerun() {
    let scratch = Scratch::new();
    let (a, b) = (scratch.path("a"), scratch.path("b"));
    for out in [&a, &b] {
        in_repo().args(["run", "--out"]).arg(out).assert().success();
    }
    let dates = date_folders(&a);
    assert_eq!(
        dates,
        BTreeSet::from(["date=2026-11-11".to_string(), "date=2026-11-12".to_string()])
    );
    for date in &dates {
        let manifest = assert_complete(&a.join(date));
        assert_eq!(manifest["date"], date.trim_start_matches("date="));
        let files: BTreeSet<&str> = std::fs::read_dir(a.join(date))
            .expect("folder")
            .map(|e| e.expect("entry").file_name())
            .map(|n| {
                FOLDER_FILES
                    .iter()
                    .copied()
                    .find(|f| *f == n.to_str().unwrap_or(""))
                    .unwrap_or("?")
            })
            .collect();
        assert_eq!(files, BTreeSet::from(FOLDER_FILES), "{date}");
        let csv = std::fs::read_to_string(a.join(date).join("scorecards.csv")).expect("csv");
        assert_eq!(csv.lines().next(), Some(SCORECARD_COLUMNS));
        assert!(
            csv.lines().count() > 10,
            "{date}: scorecards of the sample's agents"
        );
        // Everything but the manifest (wall-clock times) is byte-identical.
        for file in FOLDER_FILES.iter().filter(|f| **f != "manifest.json") {
            assert_eq!(
                std::fs::read(a.join(date).join(file)).expect("a"),
                std::fs::read(b.join(date).join(file)).expect("b"),
                "{date}/{file} differs between two runs"
            );
        }
    }
    // The late export's five broken lines are listed in its day's folder.
    let rejects = std::fs::read_to_string(a.join("date=2026-11-12/rejects.jsonl")).expect("rejects");
    assert_eq!(rejects.lines().count(), 5);
}

#[test]
fn a_date_run_publishes_that_date_only_and_a_missing_date_fails() {
    let scratch = Scratch::new();
    let out = scratch.path("out");
    in_repo()
        .args(["run", "--date", "2026-11-12", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        date_folders(&out),
        BTreeSet::from(["date=2026-11-12".to_string()])
    );
    // The same numbers as a run over every date.
    let all = scratch.path("all");
    in_repo().args(["run", "--out"]).arg(&all).assert().success();
    let file = "date=2026-11-12/scorecards.csv";
    assert_eq!(
        std::fs::read(out.join(file)).expect("one date"),
        std::fs::read(all.join(file)).expect("all dates")
    );
    let assert = in_repo()
        .args(["run", "--date", "2026-10-01", "--out"])
        .arg(&out)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("no sessions dated 2026-10-01"), "{stderr}");
}

#[test]
fn evidence_and_rejects_never_show_personal_data() {
    let scratch = Scratch::new();
    let input = scratch.path("in");
    std::fs::create_dir_all(&input).expect("mkdir");
    std::fs::copy(fixture("messages.jsonl"), input.join("a.jsonl")).expect("copy");
    // A broken line with an e-mail address and an id-card number in it.
    scratch.write(
        "in/b.jsonl",
        "{\"shop\":\"s1\",\"session_id\":\"S9\",\"msg_id\":\"x\",\"ts\":\"bad\",\"role\":\"agent\",\
         \"agent_id\":\"A\",\"text\":\"zhang.san@example.com 110101199003071234\"}\n",
    );
    let out = scratch.path("out");
    run_on(&input, &out, &["--max-reject-ratio", "0.5"])
        .assert()
        .success();
    let folder = out.join("date=2026-11-11");
    let evidence: Vec<String> = strings_of(&folder.join("violations.parquet"));
    assert!(
        evidence.iter().any(|s| s.contains("138****5678")),
        "the masked phone number is in the evidence: {evidence:?}"
    );
    let secrets = ["13812345678", "zhang.san@example.com", "110101199003071234"];
    for file in FOLDER_FILES {
        let path = folder.join(file);
        let cells = if file.ends_with(".parquet") {
            strings_of(&path)
        } else {
            vec![std::fs::read_to_string(&path).expect("text")]
        };
        for secret in secrets {
            assert!(!cells.iter().any(|c| c.contains(secret)), "{file} shows {secret}");
        }
    }
    let rejects = std::fs::read_to_string(folder.join("rejects.jsonl")).expect("rejects");
    assert!(
        rejects.contains("z***@example.com") && rejects.contains("110101********1234"),
        "{rejects}"
    );
}

fn broken_export(scratch: &Scratch) -> PathBuf {
    let mut text = std::fs::read_to_string(fixture("messages.jsonl")).expect("fixture");
    text.push_str("not json\n{\"shop\":\"s1\"}\n");
    scratch.write("in/export.jsonl", text)
}

#[test]
fn too_many_rejects_publish_nothing_and_exit_3() {
    let scratch = Scratch::new();
    let input = broken_export(&scratch);
    let out = scratch.path("out");
    let assert = run_on(&input, &out, &[]).assert().code(3);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("2 of 31 records rejected"), "{stderr}");
    assert!(stderr.contains("--max-reject-ratio"), "{stderr}");
    assert!(date_folders(&out).is_empty(), "nothing is published");
    let rejects = std::fs::read_to_string(out.join("_rejects/rejects.jsonl")).expect("rejects kept");
    assert_eq!(rejects.lines().count(), 2);
    // Allowed a higher share, the same input is published.
    run_on(&input, &out, &["--max-reject-ratio", "0.1"])
        .assert()
        .success();
    assert_eq!(date_folders(&out).len(), 1);
}

#[test]
fn exit_codes() {
    let scratch = Scratch::new();
    let out = scratch.path("out");
    // 0: done.
    run_fixture(&out).code(0);
    // 2: a bad command line, a bad rule pack.
    let cases: [(&[&str], &str); 3] = [
        (&["--date", "11/11/2026"], "--date"),
        (&["--max-reject-ratio", "5"], "--max-reject-ratio"),
        (&["--rules", "/nonexistent-pack"], "nonexistent-pack"),
    ];
    for (args, says) in cases {
        let assert = zhijian()
            .arg("run")
            .args(args)
            .arg("--input")
            .arg(fixture("messages.jsonl"))
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    // 1: failed, e.g. the output folder is a file.
    let file = scratch.write("not-a-folder", "x");
    let assert = run_on(&fixture("messages.jsonl"), &file, &[]).assert().code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("not-a-folder"), "{stderr}");
    // 3: too many rejects.
    run_on(&broken_export(&scratch), &scratch.path("out3"), &[])
        .assert()
        .code(3);
}

#[test]
fn a_second_run_is_refused_while_the_first_holds_the_lock_and_a_stale_lock_is_taken_over() {
    let scratch = Scratch::new();
    let out = scratch.path("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    let lock = out.join(".zhijian.lock");
    // This test process holds the lock, as a live run does.
    std::fs::write(
        &lock,
        format!("pid={}\nstarted=2026-11-23T01:00:00Z\n", std::process::id()),
    )
    .expect("lock");
    let holder = std::fs::File::open(&lock).expect("open");
    rustix::fs::flock(&holder, rustix::fs::FlockOperation::NonBlockingLockExclusive).expect("flock");
    let assert = run_fixture(&out).code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        stderr.contains("locked by another zhijian run")
            && stderr.contains(&format!("pid {}", std::process::id())),
        "{stderr}"
    );
    assert!(date_folders(&out).is_empty());
    drop(holder);
    // The file of a run that is gone, which nobody holds: taken over, and released after.
    std::fs::write(&lock, "pid=99999999\nstarted=2026-11-23T01:00:00Z\n").expect("lock");
    let assert = run_fixture(&out).success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        stderr.contains("took over the lock of a run that is gone (pid 99999999"),
        "{stderr}"
    );
    assert!(!lock.exists(), "the lock is released");
    assert_eq!(date_folders(&out).len(), 1);
}

#[test]
fn logs_are_plain_timestamped_lines_without_a_terminal_and_quiet_is_silent() {
    let scratch = Scratch::new();
    let assert = run_fixture(&scratch.path("a")).success();
    let output = assert.get_output();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    for stage in ["read:", "rules:", "write:"] {
        let line = stderr
            .lines()
            .find(|l| l.contains(stage))
            .unwrap_or_else(|| panic!("{stage}: {stderr}"));
        // 2026-11-23 04:41:54 zhijian: read: ...
        assert!(
            line.as_bytes()[4] == b'-' && line.as_bytes()[13] == b':',
            "{line}"
        );
    }
    assert!(
        !stderr.contains('\r') && !stderr.contains('\u{1b}'),
        "no bar drawing: {stderr:?}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        stdout.contains("published 1 date folder(s)") && stdout.contains("violations (critical 1"),
        "{stdout}"
    );
    let quiet = run_on(&fixture("messages.jsonl"), &scratch.path("b"), &["--quiet"])
        .output()
        .expect("runs");
    assert!(quiet.status.success());
    assert!(quiet.stdout.is_empty() && quiet.stderr.is_empty());
}

/// `kill -9` at many moments of a run that replaces earlier folders: every date
/// folder is always complete (the old one or the new one), none disappears, and
/// the next run cleans up and succeeds.
#[test]
fn a_killed_run_leaves_old_or_new_complete_folders() {
    let scratch = Scratch::new();
    let (old_input, new_input) = (scratch.path("old"), scratch.path("new"));
    generate(&old_input, 2, 5, 150, 1);
    generate(&new_input, 2, 5, 150, 2);
    let out = scratch.path("out");
    let run = |input: &Path| {
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("zhijian"));
        command
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["run", "--quiet", "--input"])
            .arg(input)
            .arg("--out")
            .arg(&out);
        command
    };
    let started = Instant::now();
    assert!(run(&old_input).status().expect("runs").success());
    let full = started.elapsed();
    let before = date_folders(&out);
    assert_eq!(before.len(), 5);

    for step in 1..=12 {
        let mut child = run(&new_input).spawn().expect("spawns");
        std::thread::sleep(full.mul_f64(step as f64 / 12.0));
        let _ = child.kill();
        let _ = child.wait();
        let now = date_folders(&out);
        assert!(
            now.is_superset(&before),
            "step {step}: a folder disappeared: {now:?}"
        );
        for date in &now {
            assert_complete(&out.join(date));
        }
    }
    assert!(run(&new_input).status().expect("runs").success());
    let leftovers: Vec<String> = std::fs::read_dir(&out)
        .expect("out")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
    for date in date_folders(&out) {
        let manifest = assert_complete(&out.join(&date));
        let input = manifest["inputs"][0]["path"].as_str().expect("path").to_string();
        assert!(
            input.starts_with(new_input.to_str().expect("utf-8")),
            "{date}: {input}"
        );
    }
}

#[test]
fn the_ingested_dataset_gives_the_same_outputs_and_a_date_reads_its_own_views_only() {
    let scratch = Scratch::new();
    let raw = scratch.path("raw");
    generate(&raw, 2, 5, 20, 5);
    let dataset = scratch.path("dataset");
    zhijian()
        .args(["ingest", "--input"])
        .arg(&raw)
        .arg("--out")
        .arg(&dataset)
        .assert()
        .success();
    let (from_raw, from_dataset) = (scratch.path("a"), scratch.path("b"));
    for (input, out) in [(&raw, &from_raw), (&dataset, &from_dataset)] {
        in_repo()
            .args(["run", "--date", "2026-11-13", "--input"])
            .arg(input)
            .arg("--out")
            .arg(out)
            .assert()
            .success();
    }
    let folder = "date=2026-11-13";
    for file in ["scorecards.csv", "report.html", "rejects.jsonl"] {
        assert_eq!(
            std::fs::read_to_string(from_raw.join(folder).join(file)).expect("raw"),
            std::fs::read_to_string(from_dataset.join(folder).join(file)).expect("dataset"),
            "{file}"
        );
    }
    for table in ["violations", "rounds", "rule_hits", "inquiries"] {
        let rows = |out: &Path| plain_rows(&out.join(folder).join(format!("{table}.parquet")));
        assert_eq!(rows(&from_raw), rows(&from_dataset), "{table}");
    }
    // The prepared views of the date are all it reads: no neighbouring day.
    let manifest = assert_complete(&from_dataset.join(folder));
    let read: Vec<String> = manifest["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .map(|i| {
            let path = i["path"].as_str().expect("path");
            path.rsplit('/')
                .take(3)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    assert_eq!(
        read,
        [
            "date=2026-11-13/_views/messages.parquet",
            "date=2026-11-13/_views/rounds.parquet",
            "date=2026-11-13/_views/sessions.parquet",
            "date=2026-11-13/_views/agent_sessions.parquet"
        ]
    );
}

/// A run cut into units of a few shops (a small `--memory-limit`) spills the rows
/// to disk and reads them back unit by unit, and publishes the same rows, CSV
/// and report as a run that holds everything at once.
#[test]
fn a_run_in_units_of_shops_publishes_what_one_pass_does() {
    let scratch = Scratch::new();
    let input = scratch.path("in");
    generate(&input, 5, 2, 40, 11);
    let (whole, units) = (scratch.path("whole"), scratch.path("units"));
    in_repo()
        .args(["run", "--quiet", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&whole)
        .assert()
        .success();
    let assert = in_repo()
        .args(["run", "--memory-limit", "1MB", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&units)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(stdout.contains("units of shops"), "{stdout}");
    let dates = date_folders(&whole);
    assert_eq!(dates, date_folders(&units));
    for date in &dates {
        for file in ["scorecards.csv", "rejects.jsonl", "report.html"] {
            let text = |out: &Path| std::fs::read_to_string(out.join(date).join(file)).expect("text file");
            let (a, b) = (text(&whole), text(&units));
            let first_difference = a.lines().zip(b.lines()).find(|(x, y)| x != y);
            assert!(a == b, "{date}/{file} differs: {first_difference:?}");
        }
        for table in ["violations", "rounds", "scorecards", "rule_hits", "inquiries"] {
            let rows = |out: &Path| plain_rows(&out.join(date).join(format!("{table}.parquet")));
            assert_eq!(rows(&whole), rows(&units), "{date}/{table}.parquet rows");
        }
        assert_complete(&units.join(date));
    }
    let leftovers: Vec<String> = std::fs::read_dir(&units)
        .expect("out")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "the spill file is removed: {leftovers:?}");
}
