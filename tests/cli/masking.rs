//! Personal data never reaches what people read: mobile numbers, e-mail addresses
//! and id-card numbers in the forms people type, put anywhere in random text, do
//! not survive into any file `run` publishes, the rejects `ingest` writes, or what
//! `check` prints. (The dataset `ingest` writes is a copy of the input data, like
//! the exports themselves.)

use std::path::Path;

use proptest::prelude::*;

use crate::util::{Scratch, strings_of, zhijian};

/// Digits in the full-width forms people type on Chinese keyboards.
fn full_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// A personal number or address, as written, and the plain forms that must not
/// appear in any output.
#[derive(Debug, Clone)]
struct Secret {
    written: String,
    plain: Vec<String>,
}

fn digits(n: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, n).prop_map(|d| d.iter().map(|x| char::from(b'0' + x)).collect())
}

fn mobile() -> impl Strategy<Value = Secret> {
    (3u8..10, digits(9), 0usize..7, any::<bool>()).prop_map(|(second, rest, form, wide)| {
        let number = format!("1{second}{rest}");
        let (a, b, c) = (&number[..3], &number[3..7], &number[7..]);
        let written = match form {
            0 => number.clone(),
            1 => format!("{a}-{b}-{c}"),
            2 => format!("{a} {b} {c}"),
            3 => format!("+86 {a} {b} {c}"),
            4 => format!("+86{number}"),
            5 => format!("0086-{a}-{b}-{c}"),
            _ => format!("{a}.{b}.{c}"),
        };
        let written = if wide { full_width(&written) } else { written };
        Secret {
            plain: vec![number.clone(), written.clone(), full_width(&number)],
            written,
        }
    })
}

fn email() -> impl Strategy<Value = Secret> {
    (
        "[a-z][a-z0-9]{3,9}",
        "[a-z]{2,8}",
        prop::sample::select(vec!["com", "cn", "net"]),
        any::<bool>(),
    )
        .prop_map(|(local, domain, tld, wide)| {
            let address = format!("{local}@{domain}.{tld}");
            let written = if wide {
                full_width(&address)
            } else {
                address.clone()
            };
            Secret {
                // The local part must not survive, in any form.
                plain: vec![
                    format!("{local}@"),
                    full_width(&format!("{local}@")),
                    written.clone(),
                ],
                written,
            }
        })
}

fn id_card() -> impl Strategy<Value = Secret> {
    (
        1u8..10,
        digits(5),
        1950u32..2010,
        1u32..13,
        1u32..29,
        digits(3),
        prop::sample::select(vec!["0", "7", "X"]),
        0usize..3,
    )
        .prop_map(|(first, area, year, month, day, seq, check, form)| {
            let number = format!("{first}{area}{year}{month:02}{day:02}{seq}{check}");
            let written = match form {
                0 => number.clone(),
                1 => format!("{} {} {}", &number[..6], &number[6..14], &number[14..]),
                _ => full_width(&number),
            };
            Secret {
                plain: vec![number.clone(), written.clone(), full_width(&number)],
                written,
            }
        })
}

fn secret() -> impl Strategy<Value = Secret> {
    prop_oneof![mobile(), email(), id_card()]
}

/// Random text around a secret: Chinese, letters, punctuation and spaces, but no
/// digits or `@`, which would make the secret part of a longer number or address.
fn filler() -> impl Strategy<Value = String> {
    "[亲您好的哦在吗发货退款加微信，。！？ a-zA-Z:：()（）~·_-]{0,12}"
}

fn transcript(items: &[(String, Secret, String)]) -> String {
    let mut lines = Vec::new();
    for (i, (before, secret, after)) in items.iter().enumerate() {
        let session = format!("S{}", i % 6);
        let at = |second: usize| format!("2026-11-11 10:{:02}:{:02}", i % 60, second);
        let text = format!("{before}{}{after}", secret.written);
        let record = |msg: &str, second: usize, role: &str, agent: Option<&str>, text: &str| {
            serde_json::json!({
                "shop": "s", "session_id": session, "msg_id": format!("{session}-{i}-{msg}"),
                "ts": at(second), "role": role, "agent_id": agent, "customer_id": "buyer", "text": text,
            })
            .to_string()
        };
        // The customer gives it, the agent repeats it with a banned phrase (so it is
        // evidence), and a broken line carries it too (so it is a reject).
        lines.push(record("c", 1, "customer", None, &text));
        lines.push(record(
            "a",
            2,
            "agent",
            Some("s:xiaomei"),
            &format!("加微信 {text}"),
        ));
        lines.push(record("x", 3, "robot", None, &text));
    }
    lines.join("\n") + "\n"
}

/// Every text a person may read in `dir`: text files whole, Parquet string cells.
fn readable(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            readable(&path, out);
        } else if path.extension().is_some_and(|e| e == "parquet") {
            out.extend(strings_of(&path));
        } else {
            out.push(String::from_utf8_lossy(&std::fs::read(&path).expect("read")).into_owned());
        }
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(4)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn personal_data_anywhere_never_survives_into_outputs(
        items in proptest::collection::vec((filler(), secret(), filler()), 1..30),
    ) {
        let scratch = Scratch::new();
        let input = scratch.write("in/day.jsonl", transcript(&items));
        let (out, dataset) = (scratch.path("out"), scratch.path("dataset"));
        let run = zhijian()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["run", "--max-reject-ratio", "0.5", "--input"])
            .arg(&input)
            .arg("--out")
            .arg(&out)
            .output()
            .expect("runs");
        prop_assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let ingest = zhijian()
            .args(["ingest", "--input"])
            .arg(&input)
            .arg("--out")
            .arg(&dataset)
            .output()
            .expect("runs");
        prop_assert!(ingest.status.success());
        let check = zhijian()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["check", "banned-offplatform", "--format", "json", "--input"])
            .arg(&input)
            .output()
            .expect("runs");
        prop_assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));

        let mut texts = Vec::new();
        readable(&out, &mut texts);
        texts.push(std::fs::read_to_string(dataset.join("_rejects.jsonl")).expect("rejects"));
        for output in [&run, &ingest, &check] {
            texts.push(String::from_utf8_lossy(&output.stdout).into_owned());
            texts.push(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        // The evidence is there, masked: the test would pass vacuously otherwise.
        prop_assert!(texts.iter().any(|t| t.contains("加微信")));
        for (_, secret, _) in &items {
            for plain in &secret.plain {
                let leak = texts.iter().find(|t| t.contains(plain.as_str()));
                prop_assert!(leak.is_none(), "{plain:?} (written {:?}) survives in: {}", secret.written,
                    leak.map(|t| t.chars().take(300).collect::<String>()).unwrap_or_default());
            }
        }
    }
}
