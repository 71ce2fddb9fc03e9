//! End-to-end tests of the generator through its public API.

use super::dialogue as d;
use super::*;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// The generator writes exactly the canonical record, in schema order.
const KEYS: [&str; 10] = crate::schema::CANONICAL_NAMES;

fn cfg(shops: u32, days: u32, sessions_per_day: u32, seed: u64) -> GenConfig {
    GenConfig {
        shops,
        days,
        sessions_per_day,
        seed,
        start_date: NaiveDate::from_ymd_opt(2026, 11, 11).expect("valid date"),
        format: GenFormat::Jsonl,
    }
}

fn bytes_of(c: &GenConfig) -> (Vec<u8>, GenStats) {
    let mut out = Vec::new();
    let stats = generate_to(c, &mut out).expect("generation succeeds");
    (out, stats)
}

fn records(c: &GenConfig) -> Vec<Value> {
    let (out, _) = bytes_of(c);
    let text = String::from_utf8(out).expect("utf8");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("valid json line"))
        .collect()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

/// Records grouped by (shop, session), each session sorted by ts as a
/// consumer would do.
fn sessions(recs: &[Value]) -> BTreeMap<(String, String), Vec<(i64, Value)>> {
    let mut map: BTreeMap<(String, String), Vec<(i64, Value)>> = BTreeMap::new();
    for r in recs {
        let key = (s(r, "shop").to_string(), s(r, "session_id").to_string());
        map.entry(key).or_default().push((ts_secs(r), r.clone()));
    }
    for v in map.values_mut() {
        // stable: equal-second messages keep export order
        v.sort_by_key(|(t, r)| (*t, msg_no(r)));
    }
    map
}

fn msg_no(r: &Value) -> u64 {
    s(r, "msg_id")
        .trim_start_matches('m')
        .parse()
        .expect("numeric msg id")
}

/// Unix seconds of a record's ts, whatever its export style.
fn ts_secs(r: &Value) -> i64 {
    match &r["ts"] {
        Value::Number(n) => n.as_i64().expect("integer millis") / 1000,
        Value::String(t) => {
            if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
                dt.timestamp()
            } else {
                let naive =
                    chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").expect("naive local ts");
                naive.and_utc().timestamp() - 8 * 3600
            }
        }
        other => panic!("bad ts {other}"),
    }
}

fn local_date(secs: i64) -> i64 {
    (secs + 8 * 3600).div_euclid(86_400)
}

#[test]
fn same_config_same_bytes_other_seed_other_bytes() {
    let c = cfg(3, 2, 40, 7);
    let (a, sa) = bytes_of(&c);
    let (b, sb) = bytes_of(&c);
    assert_eq!(a, b);
    assert_eq!(sa, sb);
    let (other, _) = bytes_of(&GenConfig { seed: 8, ..c.clone() });
    assert_ne!(a, other);
    // a day's content depends on its date, not on the first date of the run
    let day2 = GenConfig {
        days: 1,
        start_date: NaiveDate::from_ymd_opt(2026, 11, 12).expect("valid date"),
        ..c
    };
    let (b2, _) = bytes_of(&day2);
    assert!(a.ends_with(&b2));
}

#[test]
fn records_follow_the_canonical_schema() {
    let c = cfg(4, 1, 120, 11);
    let (out, stats) = bytes_of(&c);
    let text = String::from_utf8(out.clone()).expect("utf8");
    assert_eq!(stats.bytes, out.len() as u64);
    assert_eq!(stats.messages, text.lines().count() as u64);
    assert_eq!(stats.sessions, 4 * 120);
    assert_eq!(stats.files, 1);
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).expect("json");
        let obj = v.as_object().expect("object");
        assert_eq!(obj.len(), 10, "{line}");
        // key order: a quoted key followed by ':' cannot occur inside an
        // escaped JSON string, so positions in the raw line are reliable
        let pos: Vec<usize> = KEYS
            .iter()
            .map(|k| line.find(&format!("\"{k}\":")).expect("key present"))
            .collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "key order in {line}");

        let role = s(&v, "role");
        assert!(["customer", "agent", "bot", "system"].contains(&role), "{line}");
        assert_eq!(role == "agent", v["agent_id"].is_string(), "{line}");
        assert_eq!(role == "customer", v["customer_id"].is_string(), "{line}");
        if role == "agent" {
            let shop_name = s(&v, "agent_id").split(':').next().unwrap_or("");
            assert!(shop_name.ends_with('店'), "{line}");
        }
        let kind = s(&v, "msg_type");
        assert!(["text", "image", "card", "order"].contains(&kind), "{line}");
        assert_eq!(kind == "image", s(&v, "text").is_empty(), "{line}");
        assert!(v["text"].is_string());

        let shop = s(&v, "shop");
        let channel = s(&v, "channel");
        assert!(["tmall", "jd", "pdd", "douyin"].contains(&channel));
        assert!(shop.is_ascii() && shop.starts_with("shop-"));
        assert!(s(&v, "session_id").starts_with("S20261111-"));
        match shop {
            "shop-01" | "shop-04" => {
                let t = s(&v, "ts");
                let dt = chrono::DateTime::parse_from_rfc3339(t).expect("rfc3339");
                assert_eq!(dt.offset().local_minus_utc(), 8 * 3600, "{t}");
                assert!(t.ends_with("+08:00"), "{t}");
            }
            "shop-02" => {
                let t = s(&v, "ts");
                chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").expect("naive");
                assert_eq!(t.len(), 19);
            }
            "shop-03" => {
                let ms = v["ts"].as_i64().expect("epoch millis number");
                assert!(ms > 1_794_326_400_000 && ms % 1000 == 0);
            }
            other => panic!("unexpected shop {other}"),
        }
    }
}

#[test]
fn ids_are_unique_and_sessions_time_ordered() {
    let c = cfg(2, 2, 150, 3);
    let recs = records(&c);
    let mut session_ids = HashSet::new();
    let mut last_start: BTreeMap<String, i64> = BTreeMap::new();
    let mut previous: Option<(String, String)> = None;
    for r in &recs {
        let key = (s(r, "shop").to_string(), s(r, "session_id").to_string());
        if previous.as_ref() != Some(&key) {
            // each session is one contiguous block
            assert!(session_ids.insert(key.clone()), "session {key:?} split");
            previous = Some(key);
        }
    }
    let grouped = sessions(&recs);
    assert_eq!(grouped.len(), 2 * 2 * 150);
    let mut swapped = 0;
    let mut lengths = 0usize;
    for ((shop, _), msgs) in &grouped {
        lengths += msgs.len();
        let ids: HashSet<&str> = msgs.iter().map(|(_, r)| s(r, "msg_id")).collect();
        assert_eq!(ids.len(), msgs.len(), "msg ids unique within a session");
        // strictly increasing once sorted: no two messages share a second
        assert!(msgs.windows(2).all(|w| w[0].0 < w[1].0));
        // msg numbers follow time order
        assert!(msgs.windows(2).all(|w| msg_no(&w[0].1) < msg_no(&w[1].1)));
        let start = msgs[0].0;
        let prev = last_start.insert(shop.clone(), start).unwrap_or(i64::MIN);
        assert!(prev <= start, "sessions of a shop in start order");
    }
    // sessions whose export order differs from time order (~1%)
    let mut export_order: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
    for r in &recs {
        let key = (s(r, "shop").to_string(), s(r, "session_id").to_string());
        export_order.entry(key).or_default().push(ts_secs(r));
    }
    for ts in export_order.values() {
        if ts.windows(2).any(|w| w[0] > w[1]) {
            swapped += 1;
        }
    }
    assert!(swapped <= 20, "{swapped} swapped sessions");
    let avg = lengths as f64 / grouped.len() as f64;
    assert!((15.0..=25.0).contains(&avg), "average session length {avg}");
}

#[test]
fn dir_target_writes_one_file_per_date() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let c = cfg(2, 2, 30, 5);
    let stats = generate(&c, &GenTarget::Dir(tmp.path().to_path_buf())).expect("generate");
    assert_eq!(stats.files, 2);
    assert_eq!(stats.sessions, 2 * 2 * 30);
    let mut lines = 0u64;
    let mut bytes = 0u64;
    let mut all = Vec::new();
    for date in ["2026-11-11", "2026-11-12"] {
        let folder = tmp.path().join(format!("date={date}"));
        let names: Vec<String> = fs::read_dir(&folder)
            .expect("date folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["messages.jsonl".to_string()], "no temp left");
        let data = fs::read(folder.join("messages.jsonl")).expect("read");
        bytes += data.len() as u64;
        let text = String::from_utf8(data.clone()).expect("utf8");
        lines += text.lines().count() as u64;
        let compact = date.replace('-', "");
        assert!(text.lines().all(|l| l.contains(&format!("\"S{compact}-"))));
        all.extend(data);
    }
    assert_eq!(stats.messages, lines);
    assert_eq!(stats.bytes, bytes);
    // the same records as a single stream
    let (single, _) = bytes_of(&c);
    assert_eq!(all, single);

    let file = tmp.path().join("nested/all.jsonl");
    let fstats = generate(&c, &GenTarget::File(file.clone())).expect("file target");
    assert_eq!(fs::read(&file).expect("read"), single);
    assert_eq!(fstats.files, 1);
    assert_eq!(fstats.messages, stats.messages);
    assert!(!tmp.path().join("nested/.all.jsonl.tmp").exists());
}

#[test]
fn bad_config_is_rejected() {
    assert!(matches!(
        generate_to(&cfg(0, 1, 1, 1), Vec::new()),
        Err(GenError::Config(_))
    ));
    assert!(matches!(
        generate_to(&cfg(1, 0, 1, 1), Vec::new()),
        Err(GenError::Config(_))
    ));
    let far = GenConfig {
        start_date: NaiveDate::MAX,
        ..cfg(1, 2, 1, 1)
    };
    assert!(matches!(generate_to(&far, Vec::new()), Err(GenError::Config(_))));
    let tmp = tempfile::tempdir().expect("tempdir");
    // a directory where the file should go: an io error naming the path
    let err = generate(&cfg(1, 1, 2, 1), &GenTarget::File(tmp.path().to_path_buf()));
    assert!(err.is_err());
}

fn is_closer(text: &str) -> bool {
    d::CUSTOMER_CLOSERS.contains(&text)
}

#[test]
fn sprinkled_phenomena_are_present() {
    let recs = records(&cfg(2, 1, 200, 42));
    let grouped = sessions(&recs);
    let text_of = |r: &Value| s(r, "text").to_string();

    let off_platform = ["微信", "微 信", "ＶＸ", "支付宝转账", "私下交易", "V信", "vx"];
    assert!(
        recs.iter()
            .any(|r| s(r, "role") == "agent" && off_platform.iter().any(|p| s(r, "text").contains(p))),
        "off-platform phrase"
    );
    assert!(
        recs.iter()
            .any(|r| s(r, "role") == "agent" && d::RUDE.contains(&s(r, "text"))),
        "rude reply"
    );
    assert!(
        recs.iter().any(|r| s(r, "role") == "agent"
            && ["全网最低价", "最好的", "第一品牌", "国家级", "销量第一"]
                .iter()
                .any(|p| s(r, "text").contains(p))),
        "absolute claim"
    );

    let mut identical_run = false;
    let mut varied_run = false;
    let mut unanswered = 0;
    let mut thanked_last = 0;
    let mut crossing = false;
    let mut transfer = false;
    for msgs in grouped.values() {
        let texts: Vec<(String, String)> = msgs
            .iter()
            .map(|(_, r)| (s(r, "role").to_string(), text_of(r)))
            .collect();
        for w in texts.windows(3) {
            if w.iter().all(|(role, _)| role == "agent") {
                if w.iter()
                    .all(|(_, t)| t == &w[0].1 && d::CHASE_IDENTICAL.contains(&t.as_str()))
                {
                    identical_run = true;
                }
                if w.iter().all(|(_, t)| d::CHASE_VARIED.contains(&t.as_str())) {
                    varied_run = true;
                }
            }
        }
        let (_, last) = &msgs[msgs.len() - 1];
        if s(last, "role") == "customer" {
            if is_closer(s(last, "text")) {
                thanked_last += 1;
            } else {
                unanswered += 1;
            }
        }
        if local_date(msgs[0].0) != local_date(msgs[msgs.len() - 1].0) {
            crossing = true;
        }
        // a transfer hands the session to another agent who then speaks
        for (i, (_, r)) in msgs.iter().enumerate() {
            if s(r, "role") == "system" && s(r, "text").starts_with(d::SYSTEM_TRANSFER_PREFIX) {
                let to = &s(r, "text")[d::SYSTEM_TRANSFER_PREFIX.len()..];
                if msgs[i..].iter().any(|(_, x)| s(x, "agent_id") == to) {
                    transfer = true;
                }
            }
        }
    }
    assert!(identical_run, "三连发 identical chase run");
    assert!(varied_run, "varied chase run");
    assert!(unanswered > 0, "unanswered final customer message");
    assert!(thanked_last > unanswered, "closers after the agent are common");
    assert!(crossing, "session crossing local midnight");
    assert!(transfer, "transfer to a second agent");
    assert!(recs.iter().any(|r| s(r, "role") == "bot"), "bot message");
    assert!(recs.iter().any(|r| s(r, "text") == d::SYSTEM_LEFT), "客户已离开");
    assert!(recs.iter().any(|r| s(r, "msg_type") == "image"), "image");
    assert!(recs.iter().any(|r| s(r, "msg_type") == "order"), "order card");
    assert!(recs.iter().any(|r| s(r, "msg_type") == "card"), "card");
    assert!(
        recs.iter().any(|r| {
            let t = s(r, "text");
            t.contains('@')
                || t.as_bytes()
                    .windows(11)
                    .any(|w| w[0] == b'1' && w.iter().all(u8::is_ascii_digit))
        }),
        "phone number or e-mail"
    );
    // an agent who never greets in some session
    assert!(grouped.values().any(|msgs| {
        msgs.iter().any(|(_, r)| s(r, "role") == "agent")
            && !msgs.iter().any(|(_, r)| {
                s(r, "role") == "agent" && s(r, "text").contains("您好") || s(r, "text").contains("在的")
            })
    }));
}

#[test]
fn rates_are_in_the_intended_range() {
    let recs = records(&cfg(6, 1, 1500, 2026));
    let grouped = sessions(&recs);
    let agent: Vec<&str> = recs
        .iter()
        .filter(|r| s(r, "role") == "agent")
        .map(|r| s(r, "text"))
        .collect();
    let share = |f: &dyn Fn(&str) -> bool| agent.iter().filter(|t| f(t)).count() as f64 / agent.len() as f64;
    let off = share(&|t| {
        [
            "微信",
            "微 信",
            "ＶＸ",
            "支付宝转账",
            "私下交易",
            "V信",
            "vx ",
            "扣扣",
        ]
        .iter()
        .any(|p| t.contains(p))
    });
    let rude = share(&|t| d::RUDE.contains(&t));
    let claims = share(&|t| {
        ["全网最低价", "最好的", "第一品牌", "国家级", "销量第一", "顶级"]
            .iter()
            .any(|p| t.contains(p))
    });
    let unanswered = grouped
        .values()
        .filter(|m| {
            let last = &m[m.len() - 1].1;
            s(last, "role") == "customer" && !is_closer(s(last, "text"))
        })
        .count() as f64
        / grouped.len() as f64;
    let transfers = recs
        .iter()
        .filter(|r| s(r, "text").starts_with(d::SYSTEM_TRANSFER_PREFIX))
        .count() as f64
        / grouped.len() as f64;
    let report = format!(
        "off {off:.4} rude {rude:.4} claims {claims:.4} unanswered {unanswered:.4} transfers {transfers:.4}"
    );
    assert!((0.0015..=0.006).contains(&off), "{report}");
    assert!((0.0025..=0.009).contains(&rude), "{report}");
    assert!((0.0025..=0.009).contains(&claims), "{report}");
    assert!((0.02..=0.045).contains(&unanswered), "{report}");
    assert!((0.025..=0.07).contains(&transfers), "{report}");
}

/// Minimal RFC 4180 reader: quoted fields with doubled quotes and embedded
/// newlines, LF record separators.
fn parse_csv(data: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = data.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else {
            match c {
                '"' if field.is_empty() => quoted = true,
                ',' => row.push(std::mem::take(&mut field)),
                '\n' => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                _ => field.push(c),
            }
        }
    }
    assert!(field.is_empty() && row.is_empty(), "file ends with a newline");
    rows
}

#[test]
fn csv_round_trips_and_matches_jsonl() {
    let c = cfg(3, 1, 150, 9);
    let csv_cfg = GenConfig {
        format: GenFormat::Csv,
        ..c.clone()
    };
    let (csv_bytes, stats) = bytes_of(&csv_cfg);
    let data = String::from_utf8(csv_bytes.clone()).expect("utf8");
    assert!(!data.contains('\r'));
    assert_eq!(stats.bytes, csv_bytes.len() as u64);
    let rows = parse_csv(&data);
    assert_eq!(rows[0], KEYS.map(String::from).to_vec());
    let recs = records(&c);
    assert_eq!(rows.len() - 1, recs.len());
    assert_eq!(stats.messages, recs.len() as u64);
    let mut quoted_comma = false;
    let mut quoted_quote = false;
    let mut newline = false;
    for (row, rec) in rows[1..].iter().zip(&recs) {
        assert_eq!(row.len(), 10);
        for (i, key) in KEYS.iter().enumerate() {
            match *key {
                "ts" => {
                    chrono::NaiveDateTime::parse_from_str(&row[i], "%Y-%m-%d %H:%M:%S")
                        .expect("CSV ts is naive local");
                    let naive =
                        chrono::NaiveDateTime::parse_from_str(&row[i], "%Y-%m-%d %H:%M:%S").expect("naive");
                    assert_eq!(naive.and_utc().timestamp() - 8 * 3600, ts_secs(rec));
                }
                _ => assert_eq!(row[i], s(rec, key), "{key}"),
            }
        }
        let t = &row[8];
        quoted_comma |= t.contains(',');
        quoted_quote |= t.contains('"');
        newline |= t.contains('\n');
    }
    assert!(quoted_comma && quoted_quote && newline, "quoting exercised");
}

#[test]
fn throughput_smoke() {
    // Not a benchmark; just guards against accidental quadratic behaviour.
    let c = cfg(3, 1, 3000, 1);
    let t0 = std::time::Instant::now();
    let stats = generate_to(&c, io::sink()).expect("generate");
    let secs = t0.elapsed().as_secs_f64();
    assert!(stats.messages > 100_000);
    eprintln!(
        "{} messages in {secs:.3}s = {:.0} msg/s",
        stats.messages,
        stats.messages as f64 / secs
    );
}
