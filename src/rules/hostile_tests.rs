//! Hostile rule packs: random bytes and random TOML made of the pack's own keys
//! and values (wrong types, missing keys, non-finite numbers, bad regexes, unknown
//! lexicons) never panic the loader; every problem names its file. Run longer with
//! `benches/fuzz.sh`.

use proptest::prelude::*;

use crate::ingest::hostile_tests::config;
use crate::rules::load;

/// A TOML value as a rule file might hold one, right or wrong.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(vec![
            "\"latency\"",
            "\"phrases\"",
            "\"repeat\"",
            "\"required\"",
            "\"unanswered\"",
            "\"sql\"",
            "\"critical\"",
            "\"minor\"",
            "\"agent\"",
            "\"ignore\"",
            "\"keep\"",
            "\"first\"",
            "\"lexicon\"",
            "\"similar\"",
            "\"greeting\"",
            "\"08:00-24:00\"",
            "\"25:00-08:00\"",
            "\"(unclosed\"",
            "\"SELECT shop, session_id, agent_id FROM rounds\"",
            "\"DROP TABLE messages\"",
            "nan",
            "inf",
            "-inf",
            "-1",
            "0",
            "3",
            "1e308",
            "true",
        ])
        .prop_map(str::to_string),
        "\"\\\\PC{0,10}\"".prop_map(|s| s.replace('\\', "")),
        any::<i32>().prop_map(|n| n.to_string()),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        proptest::collection::vec(inner, 0..4).prop_map(|items| format!("[{}]", items.join(", ")))
    })
}

fn key() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "id",
        "name",
        "description",
        "template",
        "severity",
        "deduct",
        "bonus",
        "enabled",
        "critical",
        "max_seconds",
        "scope",
        "service_hours",
        "lexicon",
        "phrases",
        "patterns",
        "except",
        "separators",
        "role",
        "min_run",
        "match",
        "similarity",
        "max_gap_seconds",
        "within",
        "sql",
        "ignore_phrases",
        "transcript",
        "expect",
        "hits",
        "base",
        "floor",
        "ceiling",
    ])
}

/// A TOML document: top-level keys, then `[params]`, `[[test]]` or `[[rule]]` tables.
fn document() -> impl Strategy<Value = String> {
    let assignments = || proptest::collection::vec((key(), value()), 0..8);
    (
        assignments(),
        proptest::collection::vec(
            (
                prop::sample::select(vec![
                    "[params]",
                    "[[test]]",
                    "[[rule]]",
                    "[rule.params]",
                    "[[rule.test]]",
                ]),
                assignments(),
            ),
            0..4,
        ),
    )
        .prop_map(|(top, tables)| {
            let mut text = String::new();
            let mut line = |(k, v): (&str, String)| text.push_str(&format!("{k} = {v}\n"));
            top.into_iter().for_each(&mut line);
            let mut out = text;
            for (header, keys) in tables {
                out.push_str(header);
                out.push('\n');
                for (k, v) in keys {
                    out.push_str(&format!("{k} = {v}\n"));
                }
            }
            out
        })
}

fn load_pack(files: &[(&str, &[u8])]) -> Result<(), Vec<crate::rules::PackIssue>> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("lexicons")).unwrap();
    std::fs::write(dir.path().join("lexicons/greeting.txt"), "您好\n# comment\n").unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let loaded = load(dir.path(), &[]).map(|_| ());
    if let Err(issues) = &loaded {
        for issue in issues {
            assert!(issue.file.starts_with(dir.path()), "{issue}");
            assert!(!issue.message.is_empty());
        }
    }
    loaded
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes_as_a_rule_file(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = load_pack(&[("x.toml", &bytes), ("lexicons/y.txt", &bytes)]);
    }

    #[test]
    fn random_toml_made_of_rule_keys(rule in document(), scoring in document()) {
        let _ = load_pack(&[("x.toml", rule.as_bytes()), ("scoring.toml", scoring.as_bytes())]);
    }
}
