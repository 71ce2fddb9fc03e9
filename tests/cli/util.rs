//! Small helpers: a scratch folder, transcript writing, running the binary.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use sha2::{Digest, Sha256};

pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, content).expect("write");
        path
    }
}

pub fn zhijian() -> Command {
    Command::cargo_bin("zhijian").expect("binary built")
}

/// The binary, started in the repository (where `sample-logs/` and `rules/` are
/// the defaults).
pub fn zhijian_in_repo() -> Command {
    let mut command = zhijian();
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

/// `zhijian gen --shops S --days D --sessions-per-day N --seed X`, to add `--out` and more to.
pub fn gen_command(shops: u32, days: u32, sessions_per_day: u32, seed: u64) -> Command {
    let mut command = zhijian();
    command
        .args(["gen", "--shops", &shops.to_string(), "--days", &days.to_string()])
        .args([
            "--sessions-per-day",
            &sessions_per_day.to_string(),
            "--seed",
            &seed.to_string(),
        ]);
    command
}

/// Generates transcripts into `dir` (one `date=` folder per day); must succeed.
pub fn generate(dir: &Path, shops: u32, days: u32, sessions_per_day: u32, seed: u64) {
    gen_command(shops, days, sessions_per_day, seed)
        .arg("--out")
        .arg(dir)
        .assert()
        .success();
}

/// One JSON line of a test transcript in shop `s`: `at` is local Shanghai time on
/// 2026-11-11 unless it holds a date itself.
pub fn line(session: &str, msg: &str, at: &str, role: &str, agent: Option<&str>, text: &str) -> String {
    let ts = if at.len() > 8 {
        at.to_string()
    } else {
        format!("2026-11-11 {at}")
    };
    serde_json::json!({
        "shop": "s", "session_id": session, "msg_id": msg, "ts": ts, "role": role,
        "agent_id": agent, "customer_id": if role == "customer" { Some("buyer") } else { None }, "text": text,
    })
    .to_string()
}

/// Runs `zhijian sql --format csv` and returns stdout.
pub fn sql_csv(input: &Path, query: &str) -> String {
    let out = zhijian()
        .args(["sql", "--format", "csv", "--input"])
        .arg(input)
        .arg(query)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "zhijian sql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Every row of a Parquet file.
pub fn read_parquet(path: &Path) -> Vec<datafusion::arrow::array::RecordBatch> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// A Parquet file's rows as CSV text (header included), for exact comparisons.
pub fn parquet_csv(path: &Path, columns: &[&str]) -> String {
    let batches = read_parquet(path);
    let mut out = Vec::new();
    {
        let mut writer = datafusion::arrow::csv::WriterBuilder::new()
            .with_header(true)
            .build(&mut out);
        for batch in &batches {
            let indices: Vec<usize> = columns
                .iter()
                .map(|c| batch.schema().index_of(c).expect("column"))
                .collect();
            writer
                .write(&batch.project(&indices).expect("project"))
                .expect("csv");
        }
    }
    String::from_utf8(out).expect("utf-8")
}

/// The files of every published date folder.
pub const FOLDER_FILES: [&str; 9] = [
    "inquiries.parquet",
    "manifest.json",
    "rejects.jsonl",
    "report.html",
    "rounds.parquet",
    "rule_hits.parquet",
    "scorecards.csv",
    "scorecards.parquet",
    "violations.parquet",
];

/// A file of the hand-computed scoring fixture.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scoring")
        .join(name)
}

/// `zhijian run --input INPUT --rules <fixture pack> --out OUT` plus `extra` flags.
pub fn run_on(input: &Path, out: &Path, extra: &[&str]) -> assert_cmd::Command {
    let mut command = zhijian();
    command
        .arg("run")
        .args(extra)
        .arg("--input")
        .arg(input)
        .arg("--rules")
        .arg(fixture("rules"))
        .arg("--out")
        .arg(out);
    command
}

pub fn run_fixture(out: &Path) -> assert_cmd::assert::Assert {
    run_on(&fixture("messages.jsonl"), out, &[]).assert()
}

/// Every string cell of a Parquet file (list cells included).
pub fn strings_of(path: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for batch in read_parquet(path) {
        for column in batch.columns() {
            collect_strings(column.as_ref(), &mut out);
        }
    }
    out
}

pub fn collect_strings(column: &dyn Array, out: &mut Vec<String>) {
    match column.data_type() {
        DataType::Utf8 => out.extend(column.as_string::<i32>().iter().flatten().map(str::to_string)),
        DataType::List(_) => collect_strings(column.as_list::<i32>().values().as_ref(), out),
        _ => {}
    }
}

pub fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("read");
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn date_folders(out: &Path) -> BTreeSet<String> {
    std::fs::read_dir(out)
        .map(|entries| {
            entries
                .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
                .filter(|n| n.starts_with("date="))
                .collect()
        })
        .unwrap_or_default()
}

/// A published folder is complete: its manifest lists exactly its other files,
/// each with the recorded size and sha256. Returns the manifest.
pub fn assert_complete(folder: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(folder.join("manifest.json"))
        .unwrap_or_else(|e| panic!("{}: no manifest: {e}", folder.display()));
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("manifest is JSON");
    assert_eq!(manifest["status"], "complete");
    let mut listed = BTreeSet::from(["manifest.json".to_string()]);
    for entry in manifest["outputs"].as_array().expect("outputs") {
        let name = entry["file"].as_str().expect("file");
        let path = folder.join(name);
        assert_eq!(
            std::fs::metadata(&path).map(|m| m.len()).ok(),
            entry["bytes"].as_u64(),
            "{}: size differs from the manifest",
            path.display()
        );
        assert_eq!(
            sha256(&path),
            entry["sha256"].as_str().expect("sha"),
            "{}",
            path.display()
        );
        listed.insert(name.to_string());
    }
    let present: BTreeSet<String> = std::fs::read_dir(folder)
        .expect("folder")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .collect();
    assert_eq!(present, listed, "{}: files not in the manifest", folder.display());
    manifest
}

/// Copies a folder and everything in it.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

/// The rows of a Parquet file as CSV, all columns but lists, for comparing two
/// files' rows exactly.
pub fn plain_rows(path: &Path) -> String {
    let mut text = Vec::new();
    {
        let mut writer = datafusion::arrow::csv::WriterBuilder::new().build(&mut text);
        for batch in read_parquet(path) {
            let plain: Vec<usize> = (0..batch.num_columns())
                .filter(|i| !matches!(batch.schema().field(*i).data_type(), DataType::List(_)))
                .collect();
            writer
                .write(&batch.project(&plain).expect("columns"))
                .expect("csv");
        }
    }
    String::from_utf8(text).expect("utf-8")
}
