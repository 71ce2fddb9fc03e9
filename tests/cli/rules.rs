//! The rule pack through the binary: its inline tests, mutations that must break
//! them, errors that name file and key, the SQL sandbox, docs drift, `check`.

use std::path::{Path, PathBuf};

use crate::util::{Scratch, copy_dir, zhijian};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `zhijian ARGS` in the repository, where the shipped pack and sample live.
fn in_repo(args: &[&str]) -> std::process::Output {
    zhijian().current_dir(repo()).args(args).output().expect("runs")
}

fn rule_ids() -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(repo().join("rules"))
        .expect("rules/")
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            let id = name.strip_suffix(".toml")?;
            (!["scoring", "kpi"].contains(&id)).then(|| id.to_string())
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn the_shipped_pack_passes_its_own_tests_and_lint() {
    let out = in_repo(&["rules", "test"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    zhijian()
        .current_dir(repo())
        .args(["rules", "lint"])
        .assert()
        .success();
}

/// A rule replaced by SQL that finds nothing must fail its firing test, and one
/// that flags every agent session must fail its quiet test: each rule's tests
/// pin its logic from both sides.
#[test]
fn breaking_any_rule_makes_its_tests_fail() {
    let mutants = [
        (
            "finds nothing",
            "SELECT shop, session_id, agent_id FROM agent_sessions WHERE FALSE",
        ),
        (
            "flags everyone",
            "SELECT shop, session_id, agent_id FROM agent_sessions",
        ),
    ];
    for id in rule_ids() {
        let original =
            std::fs::read_to_string(repo().join("rules").join(format!("{id}.toml"))).expect("rule");
        let tests = &original[original.find("[[test]]").expect("every rule has tests")..];
        for (what, sql) in mutants {
            let scratch = Scratch::new();
            let pack = scratch.path("rules");
            copy_dir(&repo().join("rules"), &pack);
            let mutant = format!(
                "id = \"{id}\"\nname = \"mutant\"\ndescription = \"{what}\"\ntemplate = \"sql\"\ndeduct = 1\n\n[params]\nsql = \"{sql}\"\n\n{tests}"
            );
            std::fs::write(pack.join(format!("{id}.toml")), mutant).expect("write mutant");
            let out = zhijian()
                .args(["rules", "test", "--rules"])
                .arg(&pack)
                .arg(&id)
                .output()
                .expect("runs");
            assert_eq!(
                out.status.code(),
                Some(1),
                "rule {id} still passes its tests when it {what}"
            );
        }
    }
}

fn pack_with(rule_file: &str, content: &str) -> (Scratch, PathBuf) {
    let scratch = Scratch::new();
    let pack = scratch.path("rules");
    scratch.write("rules/lexicons/greeting.txt", "# greetings\n您好\n");
    scratch.write(&format!("rules/{rule_file}"), content);
    (scratch, pack)
}

fn pack_error(rule_file: &str, content: &str) -> String {
    let (_scratch, pack) = pack_with(rule_file, content);
    let out = zhijian()
        .args(["rules", "list", "--rules"])
        .arg(&pack)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "a bad pack exits 2");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_rule_files_get_errors_naming_file_and_key() {
    let cases: [(&str, &str, &[&str]); 6] = [
        (
            "typo.toml",
            "name = \"x\"\ntemplate = \"latency\"\ncritical = true\n[params]\nmax_seconds = 3\n",
            &["typo.toml", "unknown field `critical`"],
        ),
        (
            "params.toml",
            "name = \"x\"\ntemplate = \"latency\"\n[params]\nmax_second = 3\n",
            &["params.toml", "unknown field `max_second`"],
        ),
        (
            "lex.toml",
            "name = \"x\"\ntemplate = \"phrases\"\n[params]\nlexicon = \"nope\"\n",
            &[
                "lex.toml: rule lex: key `lexicon`: no lexicon \"nope\"",
                "known: greeting",
            ],
        ),
        (
            "re.toml",
            "name = \"x\"\ntemplate = \"phrases\"\n[params]\npatterns = [\"(unclosed\"]\n",
            &["re.toml: rule re: key `patterns`: \"(unclosed\" is not a valid regex"],
        ),
        (
            "col.toml",
            "name = \"x\"\ntemplate = \"sql\"\n[params]\nsql = \"SELECT shop, session_id, agent_id, latency FROM rounds\"\n",
            &["col.toml: rule col: key `sql`", "latency_s"],
        ),
        (
            "tpl.toml",
            "name = \"x\"\ntemplate = \"latncy\"\n",
            &["unknown template \"latncy\""],
        ),
    ];
    for (file, content, expected) in cases {
        let err = pack_error(file, content);
        for want in expected {
            assert!(err.contains(want), "{file}: want {want:?} in:\n{err}");
        }
    }
}

#[test]
fn all_problems_of_a_pack_are_reported_together() {
    let (scratch, pack) = pack_with(
        "a.toml",
        "name = \"x\"\ntemplate = \"latency\"\n[params]\nmax_second = 3\n",
    );
    scratch.write(
        "rules/b.toml",
        "name = \"y\"\ntemplate = \"phrases\"\n[params]\nlexicon = \"missing\"\n",
    );
    scratch.write(
        "rules/c.toml",
        "[[rule]]\nid = \"twice\"\nname = \"one\"\ntemplate = \"unanswered\"\n\n\
         [[rule]]\nid = \"twice\"\nname = \"two\"\ntemplate = \"unanswered\"\n",
    );
    let out = zhijian()
        .args(["rules", "list", "--rules"])
        .arg(&pack)
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("3 problem(s)"), "{err}");
    assert!(
        err.contains("a.toml") && err.contains("b.toml") && err.contains("duplicate id"),
        "{err}"
    );
}

#[test]
fn rule_sql_is_read_only() {
    for sql in [
        "DROP TABLE messages",
        "COPY (SELECT * FROM messages) TO '/tmp/zhijian-rule-leak.csv'",
        "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
    ] {
        let err = pack_error(
            "evil.toml",
            &format!("name = \"x\"\ntemplate = \"sql\"\n[params]\nsql = \"{sql}\"\n"),
        );
        assert!(
            err.contains("evil.toml: rule evil: key `sql`") && err.contains("refused"),
            "{sql}: {err}"
        );
    }
    assert!(!Path::new("/tmp/zhijian-rule-leak.csv").exists());
}

#[test]
fn the_rules_readme_is_current() {
    let out = in_repo(&["rules", "list", "--format", "md"]);
    let committed = std::fs::read_to_string(repo().join("rules/README.md")).expect("rules/README.md");
    assert!(
        String::from_utf8_lossy(&out.stdout) == committed,
        "rules/README.md is stale: run `zhijian rules list --format md > rules/README.md`"
    );
}

#[test]
fn the_goodlog_is_clean_under_every_rule() {
    for id in rule_ids() {
        let out = in_repo(&[
            "check",
            &id,
            "--format",
            "json",
            "--input",
            "sample-logs/_goodlog/clean.jsonl",
        ]);
        assert!(
            out.status.success(),
            "{id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stdout.is_empty(),
            "{id} fires on the goodlog: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn check_lists_real_hits_as_json_lines() {
    let out = in_repo(&["check", "banned-offplatform", "--format", "json"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let hits: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert!(!hits.is_empty());
    for hit in &hits {
        for key in [
            "date",
            "time",
            "shop",
            "session_id",
            "agent_id",
            "customer_before",
            "message",
            "detail",
        ] {
            assert!(hit.get(key).is_some(), "{key} missing in {hit}");
        }
        assert!(
            hit["detail"].as_str().is_some_and(|d| d.starts_with("命中: ")),
            "{hit}"
        );
    }
}

#[test]
fn check_runs_a_draft_rule_file_outside_the_pack() {
    let scratch = Scratch::new();
    let draft = scratch.write(
        "draft.toml",
        "name = \"亲字开头\"\ntemplate = \"phrases\"\ndeduct = 1\n[params]\nphrases = [\"亲,有的\"]\n",
    );
    let input = scratch.write(
        "t.jsonl",
        [
            crate::util::line("x", "1", "10:00:00", "customer", None, "有货吗"),
            crate::util::line("x", "2", "10:00:10", "agent", Some("amy"), "亲，有的"),
        ]
        .join("\n"),
    );
    let out = zhijian()
        .current_dir(repo())
        .args(["check", "--format", "csv", "--input"])
        .arg(&input)
        .arg(&draft)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("amy,有货吗,亲，有的,\"命中: 亲,有的\""),
        "{stdout}"
    );
}

/// The SQL each shipped rule compiles to, reviewed as a snapshot: a change to a
/// template shows up in review as a diff of real queries.
#[test]
fn compiled_queries_are_stable() {
    for id in rule_ids() {
        let out = in_repo(&["rules", "explain", &id]);
        assert!(
            out.status.success(),
            "{id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        insta::assert_snapshot!(format!("explain-{id}"), String::from_utf8_lossy(&out.stdout));
    }
}
