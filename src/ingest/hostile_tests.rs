//! Hostile input into every reader (JSON Lines, gzip, CSV, Parquet): random bytes,
//! random JSON values, random CSV shapes and random Parquet files never panic, and
//! every record is accounted for: accepted + rejected = records read, each reject
//! naming its file, a line inside the file and a reason; through the views,
//! messages + duplicates = accepted. CI runs a bounded number of cases
//! (`PROPTEST_CASES`, default 32 here); `benches/fuzz.sh MINUTES` runs them for
//! as long as asked.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use proptest::prelude::*;

use crate::ingest::{Ingested, discover, read_files};
use crate::schema::CANONICAL_NAMES;
use crate::timezone::TimeZones;

pub fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(32);
    // A failure prints its shrunk input; nothing is written into the source tree
    // (a case worth keeping becomes a plain test, like the ones in `limits`).
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn zones() -> TimeZones {
    TimeZones::new(chrono_tz::Asia::Shanghai)
}

/// Reads one file through the readers; an error is allowed only for Parquet
/// (a file that is not Parquet at all stops the command, naming it).
fn read(path: &Path) -> crate::Result<Ingested> {
    read_files(discover(&[path.to_path_buf()])?, &zones(), 2)
}

/// The accounting every reader owes, and what every reject must say.
fn assert_accounted(ingested: &Ingested, path: &Path, lines: u64) {
    let accepted = ingested.accepted();
    assert_eq!(
        accepted + ingested.rejects.len() as u64,
        ingested.records_read,
        "accepted + rejected = records read"
    );
    for reject in &ingested.rejects {
        assert_eq!(reject.file, path.display().to_string());
        assert!(
            reject.line >= 1 && reject.line <= lines.max(1),
            "line {} of {lines}",
            reject.line
        );
        assert!(!reject.reason.trim().is_empty());
    }
    // Duplicates are dropped by the views, and counted.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let views = runtime.block_on(async {
        let ctx = crate::engine::new_context(1);
        crate::views::build(&ctx, ingested.batches.clone(), &zones(), 1).await
    });
    let views = views.expect("views of accepted rows");
    assert_eq!(views.message_count() as u64 + views.duplicates, accepted);
}

/// Non-blank lines of a JSON Lines file: what the reader must count as records.
fn jsonl_records(bytes: &[u8]) -> (u64, u64) {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let lines: Vec<&[u8]> = body.split(|b| *b == b'\n').collect();
    let records = lines
        .iter()
        .filter(|l| {
            !l.strip_suffix(b"\r")
                .unwrap_or(l)
                .iter()
                .all(u8::is_ascii_whitespace)
        })
        .count() as u64;
    (records, lines.len() as u64)
}

/// A canonical-looking record with random values and random fields missing.
fn record() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        "[a-z0-9 :+T.-]{0,24}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("customer"),
            Just("agent"),
            Just("BOT"),
            Just("system"),
            Just("robot")
        ]
        .prop_map(serde_json::Value::from),
        prop_oneof![
            Just("2026-11-11 10:00:03"),
            Just("2026-11-11T10:00:03+08:00"),
            Just("2026-02-30 10:00:00"),
            Just("2026-11-11T10:00:03+08"),
        ]
        .prop_map(serde_json::Value::from),
        (1_700_000_000_000i64..1_800_000_000_000).prop_map(serde_json::Value::from),
    ];
    proptest::collection::vec(proptest::option::of(value), CANONICAL_NAMES.len()).prop_map(|values| {
        let mut object = serde_json::Map::new();
        for (name, value) in CANONICAL_NAMES.iter().zip(values) {
            if let Some(value) = value {
                object.insert((*name).to_string(), value);
            }
        }
        serde_json::Value::Object(object).to_string()
    })
}

/// Any JSON value at all, nested a little.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "\\PC{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn jsonl_of_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "x.jsonl", &bytes);
        let ingested = read(&path).expect("JSON Lines never fail as a whole");
        let (records, lines) = jsonl_records(&bytes);
        prop_assert_eq!(ingested.records_read, records);
        assert_accounted(&ingested, &path, lines);
    }

    #[test]
    fn jsonl_of_random_records_and_values(
        lines in proptest::collection::vec(prop_oneof![record(), json_value().prop_map(|v| v.to_string())], 0..40),
        crlf in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        let path = write(dir.path(), "x.jsonl", text.as_bytes());
        let ingested = read(&path).expect("JSON Lines never fail as a whole");
        let (records, line_count) = jsonl_records(text.as_bytes());
        prop_assert_eq!(ingested.records_read, records);
        assert_accounted(&ingested, &path, line_count);
    }

    #[test]
    fn gzip_cut_anywhere(
        lines in proptest::collection::vec(record(), 1..40),
        cut in any::<prop::sample::Index>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let text = lines.join("\n");
        let packed = gzip(text.as_bytes());
        let packed = &packed[..cut.index(packed.len() + 1)];
        let path = write(dir.path(), "x.jsonl.gz", packed);
        let ingested = read(&path).expect("a cut gzip keeps what it can and rejects the rest");
        assert_accounted(&ingested, &path, text.lines().count() as u64 + 1);
        prop_assert!(ingested.records_read <= lines.len() as u64 + 1);
    }

    #[test]
    fn csv_of_random_shapes(
        header in proptest::collection::vec(prop_oneof![
            prop::sample::select(CANONICAL_NAMES.to_vec()).prop_map(str::to_string),
            "[a-z]{1,6}",
        ], 0..12),
        rows in proptest::collection::vec(proptest::collection::vec(prop_oneof![
            "[a-z0-9 :.-]{0,12}",
            Just("2026-11-11 10:00:03".to_string()),
            prop_oneof![Just("customer"), Just("agent"), Just("bot")].prop_map(str::to_string),
            "\\PC{0,8}",
            Just("\"unclosed".to_string()),
            Just("\"a,\nb\"".to_string()),
        ], 0..14), 0..30),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut text = header.join(",");
        for row in &rows {
            text.push('\n');
            text.push_str(&row.join(","));
        }
        let path = write(dir.path(), "x.csv", text.as_bytes());
        if let Ok(ingested) = read(&path) {
            // A header that cannot be read is an error naming the file.
            assert_accounted(&ingested, &path, text.split('\n').count() as u64);
        }
    }

    #[test]
    fn parquet_of_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "x.parquet", &bytes);
        match read(&path) {
            Ok(ingested) => assert_accounted(&ingested, &path, ingested.records_read),
            Err(e) => prop_assert!(e.to_string().contains("x.parquet"), "{e}"),
        }
    }

    #[test]
    fn parquet_of_random_columns(
        columns in proptest::collection::btree_map(
            prop::sample::select(CANONICAL_NAMES.to_vec()),
            prop_oneof![
                proptest::collection::vec(proptest::option::of("[a-z0-9 :-]{0,20}"), 8).prop_map(|v| {
                    Arc::new(StringArray::from(v)) as ArrayRef
                }),
                proptest::collection::vec(proptest::option::of(any::<i64>()), 8).prop_map(|v| {
                    Arc::new(Int64Array::from(v)) as ArrayRef
                }),
            ],
            1..10,
        ),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.parquet");
        let fields: Vec<Field> = columns
            .iter()
            .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let arrays: Vec<ArrayRef> = columns.values().cloned().collect();
        let batch = if arrays.is_empty() {
            RecordBatch::new_empty(schema.clone())
        } else {
            RecordBatch::try_new(schema.clone(), arrays).unwrap()
        };
        let file = std::fs::File::create(&path).unwrap();
        let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        match read(&path) {
            Ok(ingested) => {
                prop_assert_eq!(ingested.records_read, batch.num_rows() as u64);
                assert_accounted(&ingested, &path, ingested.records_read);
            }
            Err(e) => prop_assert!(e.to_string().contains("x.parquet"), "{e}"),
        }
    }
}

/// Inputs built to exhaust memory or the parser are a reject or one clear error.
mod limits {
    use super::*;

    /// Found by `csv_of_random_shapes`: line breaks inside quoted cells were
    /// counted twice, so rejects named lines past the end of the file.
    #[test]
    fn csv_reject_lines_are_physical_lines() {
        let dir = tempfile::tempdir().unwrap();
        for (text, lines) in [
            ("shop,text\ns,\"a\nb\"\nt\n", vec![2, 4]),
            ("shop,text\r\ns,\"a\r\nb\"\r\n\r\n\r\nt\r\n", vec![2, 6]),
            (
                "\n\n-\n\"unclosed\n\n\n\"unclosed,\"unclosed\n\"a,\nb\"",
                vec![4, 9],
            ),
        ] {
            let path = write(dir.path(), "x.csv", text.as_bytes());
            let ingested = read(&path).unwrap();
            let got: Vec<u64> = ingested.rejects.iter().map(|r| r.line).collect();
            assert_eq!(got, lines, "{text:?}: {:?}", ingested.rejects);
        }
    }

    #[test]
    fn a_line_over_16_mib_is_one_reject() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = b"{\"shop\":\"s\",\"text\":\"".to_vec();
        bytes.resize(17 << 20, b'a');
        bytes.extend_from_slice(b"\"}\n{\"shop\":\"s\"}\n");
        let path = write(dir.path(), "long.jsonl", &bytes);
        let ingested = read(&path).unwrap();
        assert_eq!(ingested.records_read, 2);
        assert_eq!(ingested.rejects.len(), 2);
        assert!(
            ingested.rejects[0].reason.contains("longer than"),
            "{:?}",
            ingested.rejects[0]
        );
        assert!(ingested.rejects[0].raw.len() < 10_000);
    }

    #[test]
    fn json_nested_deeper_than_serde_allows_is_a_reject() {
        let dir = tempfile::tempdir().unwrap();
        for deep in [
            format!("{{\"x\":{}{}}}\n", "[".repeat(100_000), "]".repeat(100_000)),
            format!("{}{}\n", "{\"a\":".repeat(100_000), "}".repeat(100_000)),
        ] {
            let path = write(dir.path(), "deep.jsonl", deep.as_bytes());
            let ingested = read(&path).unwrap();
            assert_eq!((ingested.records_read, ingested.rejects.len()), (1, 1));
            assert!(!ingested.rejects[0].reason.is_empty());
        }
    }

    #[test]
    fn a_csv_row_with_a_million_columns_is_a_reject() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("shop,session_id,msg_id,ts,role,agent_id,text\n");
        text.push_str("s,S1,m1,2026-11-11 10:00:00,customer,,hi\n");
        text.push_str(&"x,".repeat(1_000_000));
        text.push('x');
        text.push_str("\ns,S1,m2,2026-11-11 10:00:05,agent,a,hello\n");
        let path = write(dir.path(), "wide.csv", text.as_bytes());
        let ingested = read(&path).unwrap();
        assert_eq!((ingested.records_read, ingested.accepted()), (3, 2));
        assert_eq!(ingested.rejects.len(), 1);
        assert_eq!(ingested.rejects[0].line, 3);
        assert!(
            ingested.rejects[0].reason.contains("1000001 fields"),
            "{}",
            ingested.rejects[0].reason
        );
    }

    /// A small file that inflates to 2 GiB: without newlines (one endless line)
    /// and as an endless quoted CSV cell. Each is read in bounded memory.
    #[test]
    fn gzip_bombs_are_rejects_not_out_of_memory() {
        let dir = tempfile::tempdir().unwrap();
        let member = gzip(&vec![b'a'; 64 << 20]);
        let bomb: Vec<u8> = member.repeat(32);
        for (name, head) in [
            ("bomb.jsonl.gz", &b""[..]),
            ("bomb.csv.gz", &b"shop,text\ns,\""[..]),
        ] {
            let mut bytes = gzip(head);
            bytes.extend_from_slice(&bomb);
            let path = write(dir.path(), name, &bytes);
            let ingested = read(&path).unwrap();
            assert_eq!(ingested.accepted(), 0, "{name}");
            assert_eq!(ingested.rejects.len(), 1, "{name}: {:?}", ingested.rejects);
            assert_eq!(ingested.records_read, 1, "{name}");
            assert!(
                peak_rss_bytes() < 1 << 30,
                "{name}: peak RSS {} MB",
                peak_rss_bytes() >> 20
            );
        }
    }

    /// The peak resident memory of this process so far (Linux), or 0.
    fn peak_rss_bytes() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
                line.split_whitespace().nth(1)?.parse::<u64>().ok()
            })
            .map_or(0, |kib| kib * 1024)
    }

    /// A column of a type no record field can take stops the file with one clear
    /// error naming the file and the column, rather than rejecting every row.
    #[test]
    fn a_column_of_a_type_we_do_not_read_is_one_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("odd.parquet");
        let schema = Arc::new(Schema::new(vec![
            Field::new("shop", DataType::Utf8, true),
            Field::new("ts", DataType::Binary, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["s"])),
                Arc::new(datafusion::arrow::array::BinaryArray::from(vec![&b"x"[..]])),
            ],
        )
        .unwrap();
        let file = std::fs::File::create(&path).unwrap();
        let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        let err = read(&path).expect_err("an error").to_string();
        assert!(err.contains("odd.parquet") && err.contains("\"ts\""), "{err}");
    }
}
