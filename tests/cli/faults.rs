//! Fault injection: a run, an ingest or a KPI killed or failed at each stage
//! (failpoints, built with `--features failpoints`), real write failures (a
//! file-size limit, a read-only folder) and `kill -9` at random moments. After
//! each, what was published is what it was before (or, once a folder is swapped
//! in, the new complete folder), and the next run cleans up, says so, and
//! publishes what a run that was never disturbed publishes.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::util::{Scratch, assert_complete, copy_dir, gen_command};

/// Every visible file under `dir` (hidden entries are the publisher's), by path,
/// with its content; the wall-clock fields of manifests are left out.
fn published(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    published_in(dir, dir)
}

/// [`published`], with the path of `out` in manifests written as `OUT` (a KPI
/// manifest names the daily manifests it read).
fn published_in(dir: &Path, out: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    collect(dir, dir, out, &mut files);
    files
}

fn collect(root: &Path, dir: &Path, out: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("name").to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, out, files);
            continue;
        }
        let bytes = std::fs::read(&path).expect("read");
        let key = path.strip_prefix(root).expect("under root").display().to_string();
        files.insert(
            key,
            if name == "manifest.json" || name == "_dataset.json" {
                timeless(&bytes, out)
            } else {
                bytes
            },
        );
    }
}

/// A manifest without the times it was made at, and with the path of `out`
/// written as `OUT`.
fn timeless(manifest: &[u8], out: &Path) -> Vec<u8> {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(fields) => {
                for key in ["started_at", "finished_at", "generated_at", "ingested_at"] {
                    fields.remove(key);
                }
                fields.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut value: serde_json::Value =
        serde_json::from_slice(manifest).expect("a published manifest is JSON");
    strip(&mut value);
    value
        .to_string()
        .replace(&out.display().to_string(), "OUT")
        .into_bytes()
}

/// Two sets of published files are the same; the message names the first file
/// that differs rather than printing bytes.
#[track_caller]
fn assert_same(got: &BTreeMap<String, Vec<u8>>, want: &BTreeMap<String, Vec<u8>>, what: &str) {
    let names = |files: &BTreeMap<String, Vec<u8>>| files.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(got), names(want), "{what}: the files differ");
    let differs = got.iter().find(|(name, bytes)| want.get(*name) != Some(*bytes));
    assert!(
        differs.is_none(),
        "{what}: {} differs",
        differs.map_or("", |d| d.0.as_str())
    );
}

/// Names of the hidden entries of `dir` (the lock, staging, spill files).
fn hidden(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default()
}

fn zhijian_at(failpoints: &str) -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("zhijian"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    if !failpoints.is_empty() {
        command.env("FAILPOINTS", failpoints);
    }
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Two generated inputs over the same days ("old" and "new"), and their orders.
struct Inputs {
    scratch: Scratch,
}

impl Inputs {
    fn new(shops: u32, sessions_per_day: u32) -> Self {
        let scratch = Scratch::new();
        for (name, seed) in [("old", 1), ("new", 2)] {
            gen_command(shops, 2, sessions_per_day, seed)
                .arg("--out")
                .arg(scratch.path(name))
                .arg("--orders")
                .arg(scratch.path(&format!("{name}-orders.csv")))
                .arg("--metrics")
                .arg(scratch.path(&format!("{name}-metrics.csv")))
                .assert()
                .success();
        }
        Self { scratch }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.scratch.path(name)
    }

    /// `zhijian run` of input `name` into `out`, spilling (a small memory limit).
    fn run(&self, name: &str, out: &Path, failpoints: &str) -> Output {
        zhijian_at(failpoints)
            .args(["run", "--memory-limit", "1MB", "--input"])
            .arg(self.path(name))
            .arg("--out")
            .arg(out)
            .output()
            .expect("runs")
    }
}

/// Whether a log says what it found of an interrupted run: a lock taken over, a
/// leftover removed, a folder restored.
fn says_it_cleaned_up(log: &str) -> bool {
    ["took over the lock", "removed ", "restored "]
        .iter()
        .any(|said| log.contains(said))
}

/// After a disturbed run, every date folder is complete and is either what it was
/// before or what the undisturbed run publishes.
fn assert_old_or_new(
    out: &Path,
    before: &BTreeMap<String, Vec<u8>>,
    after: &BTreeMap<String, Vec<u8>>,
    what: &str,
) {
    let now = published(out);
    let folders: std::collections::BTreeSet<&str> = now
        .keys()
        .chain(before.keys())
        .filter_map(|k| k.split('/').next())
        .filter(|f| f.starts_with("date="))
        .collect();
    for folder in folders {
        let of = |files: &BTreeMap<String, Vec<u8>>| -> BTreeMap<String, Vec<u8>> {
            files
                .iter()
                .filter(|(k, _)| k.starts_with(&format!("{folder}/")))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        let current = of(&now);
        assert!(
            current == of(before) || current == of(after),
            "{what}: {folder} is neither the old nor the new folder"
        );
        if !current.is_empty() {
            assert_complete(&out.join(folder));
        }
    }
}

/// `run` killed (SIGKILL) at each failpoint: the published folders are the old
/// ones (or, once swapped, the new ones), and the next run cleans up and
/// publishes what an undisturbed run does.
#[test]
fn a_run_killed_at_any_stage_leaves_old_or_new_folders_and_the_next_run_recovers() {
    let inputs = Inputs::new(3, 30);
    let (old, clean) = (inputs.path("out-old"), inputs.path("out-clean"));
    assert!(inputs.run("old", &old, "").status.success());
    assert!(inputs.run("new", &clean, "").status.success());
    let (before, after) = (published(&old), published(&clean));
    assert_ne!(before, after, "the two inputs must publish different folders");
    let stages = [
        ("run::after-read", "run::after-read=return(kill)"),
        ("spill::write", "spill::write=return(kill)"),
        ("outputs::table-written", "outputs::table-written=return(kill)"),
        ("manifest::write", "manifest::write=return(kill)"),
        ("publish::before-swap", "publish::before-swap=return(kill)"),
        ("publish::after-exchange", "publish::after-exchange=return(kill)"),
        (
            "publish::between-renames",
            "publish::no-exchange=return;publish::between-renames=return(kill)",
        ),
    ];
    for (stage, failpoints) in stages {
        let out = inputs.path(&format!("out-{stage}"));
        copy_dir(&old, &out);
        let killed = inputs.run("new", &out, failpoints);
        assert_eq!(
            killed.status.signal(),
            Some(9),
            "{stage}: {}",
            text(&killed.stderr)
        );
        if stage == "publish::between-renames" {
            // The folder being replaced waits beside its place for the next run.
            let aside: Vec<String> = hidden(&out).into_iter().filter(|n| n.contains(".old-")).collect();
            assert_eq!(aside.len(), 1, "{stage}: {:?}", hidden(&out));
            let target = aside[0]
                .trim_start_matches('.')
                .split(".old-")
                .next()
                .expect("name")
                .to_string();
            let kept = published(&out.join(&aside[0]));
            let was: BTreeMap<String, Vec<u8>> = before
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix(&format!("{target}/"))?.to_string(), v.clone())))
                .collect();
            assert_same(
                &kept,
                &was,
                &format!("{stage}: the folder moved aside is the old one, whole"),
            );
        } else {
            assert_old_or_new(&out, &before, &after, stage);
        }
        if !stage.starts_with("publish::") {
            assert_same(
                &published(&out),
                &before,
                &format!("{stage}: nothing published changed"),
            );
        }
        let left = !hidden(&out).is_empty();
        let next = inputs.run("new", &out, "");
        let log = text(&next.stderr);
        assert!(next.status.success(), "{stage}: {log}");
        assert!(
            !left || says_it_cleaned_up(&log),
            "{stage}: the log says what it cleaned up: {log}"
        );
        assert_same(
            &published(&out),
            &after,
            &format!("{stage}: the next run publishes what a clean run does"),
        );
        assert!(hidden(&out).is_empty(), "{stage}: left behind {:?}", hidden(&out));
    }
}

/// `run` failing (an error, not a kill) at a stage exits 1 naming it, changes
/// nothing published and leaves nothing behind.
#[test]
fn a_run_failing_at_any_stage_exits_1_and_changes_nothing() {
    let inputs = Inputs::new(3, 30);
    let old = inputs.path("out-old");
    assert!(inputs.run("old", &old, "").status.success());
    let before = published(&old);
    for stage in [
        "run::after-read",
        "spill::write",
        "outputs::table-written",
        "manifest::write",
        "publish::before-swap",
    ] {
        let out = inputs.path(&format!("out-{stage}"));
        copy_dir(&old, &out);
        let failed = inputs.run("new", &out, &format!("{stage}=return(error)"));
        let stderr = text(&failed.stderr);
        assert_eq!(failed.status.code(), Some(1), "{stage}: {stderr}");
        assert!(
            stderr.contains(&format!("injected fault at {stage}")),
            "{stage}: {stderr}"
        );
        assert_same(&published(&out), &before, stage);
        assert!(hidden(&out).is_empty(), "{stage}: left behind {:?}", hidden(&out));
    }
}

/// `ingest` and `kpi` killed at their stages: the dataset and the KPI folder are
/// the old ones (or the new complete ones), and the next command recovers.
#[test]
fn ingest_and_kpi_killed_at_any_stage_recover_on_the_next_run() {
    let inputs = Inputs::new(2, 20);
    let ingest = |name: &str, out: &Path, failpoints: &str| {
        zhijian_at(failpoints)
            .args(["ingest", "--input"])
            .arg(inputs.path(name))
            .arg("--out")
            .arg(out)
            .output()
            .expect("runs")
    };
    // The new exports ingested into the old dataset: merged in, views rebuilt.
    let (old, clean) = (inputs.path("ds-old"), inputs.path("ds-clean"));
    assert!(ingest("old", &old, "").status.success());
    copy_dir(&old, &clean);
    assert!(ingest("new", &clean, "").status.success());
    let (before, after) = (published(&old), published(&clean));
    for failpoints in [
        "ingest::after-read=return(kill)",
        "dataset::unit-written=return(kill)",
        "publish::before-swap=return(kill)",
        "publish::no-exchange=return;publish::between-renames=return(kill)",
    ] {
        let out = inputs.path(&format!("ds-{}", failpoints.len()));
        copy_dir(&old, &out);
        let killed = ingest("new", &out, failpoints);
        assert_eq!(
            killed.status.signal(),
            Some(9),
            "{failpoints}: {}",
            text(&killed.stderr)
        );
        if !failpoints.starts_with("publish::") {
            assert_same(&published(&out), &before, failpoints);
        }
        let left = !hidden(&out).is_empty();
        let next = ingest("new", &out, "");
        assert!(next.status.success(), "{failpoints}: {}", text(&next.stderr));
        assert!(
            !left || says_it_cleaned_up(&text(&next.stderr)),
            "{failpoints}: {}",
            text(&next.stderr)
        );
        assert_same(&published(&out), &after, failpoints);
        assert!(hidden(&out).is_empty(), "{failpoints}: {:?}", hidden(&out));
    }

    let days = inputs.path("out-days");
    assert!(inputs.run("new", &days, "").status.success());
    // The KPI of the month of the new days, with the orders of the old or the new input.
    let kpi = |out: &Path, orders: &str, failpoints: &str| {
        zhijian_at(failpoints)
            .args(["kpi", "--month", "2026-11", "--allow-missing-days", "--out"])
            .arg(out)
            .arg("--orders")
            .arg(inputs.path(&format!("{orders}-orders.csv")))
            .arg("--metrics")
            .arg(inputs.path("new-metrics.csv"))
            .output()
            .expect("runs")
    };
    let (old, clean) = (inputs.path("kpi-old"), inputs.path("kpi-clean"));
    for (out, orders) in [(&old, "old"), (&clean, "new")] {
        copy_dir(&days, out);
        let done = kpi(out, orders, "");
        assert!(done.status.success(), "{}", text(&done.stderr));
    }
    let (before, after) = (
        published_in(&old.join("kpi"), &old),
        published_in(&clean.join("kpi"), &clean),
    );
    assert_ne!(before, after);
    for failpoints in [
        "kpi::after-read=return(kill)",
        "kpi::payroll-written=return(kill)",
        "publish::no-exchange=return;publish::between-renames=return(kill)",
    ] {
        let out = inputs.path(&format!("kpi-{}", failpoints.len()));
        copy_dir(&old, &out);
        let killed = kpi(&out, "new", failpoints);
        assert_eq!(
            killed.status.signal(),
            Some(9),
            "{failpoints}: {}",
            text(&killed.stderr)
        );
        let left = !hidden(&out.join("kpi")).is_empty();
        let next = kpi(&out, "new", "");
        assert!(next.status.success(), "{failpoints}: {}", text(&next.stderr));
        assert!(
            !left || says_it_cleaned_up(&text(&next.stderr)),
            "{failpoints}: {}",
            text(&next.stderr)
        );
        assert_same(&published_in(&out.join("kpi"), &out), &after, failpoints);
        assert!(hidden(&out.join("kpi")).is_empty(), "{failpoints}");
    }
}

/// Real write failures, no mocks: past a file-size limit (`prlimit --fsize`),
/// and into a folder the job may not write. The job exits 1 with a message
/// naming the file, and nothing published changes.
#[test]
fn write_failures_exit_1_naming_the_file_and_change_nothing() {
    let inputs = Inputs::new(2, 60);
    let out = inputs.path("out");
    assert!(inputs.run("old", &out, "").status.success());
    let before = published(&out);

    let limited = Command::new("prlimit")
        .arg("--fsize=20000")
        .arg("--")
        .arg(assert_cmd::cargo::cargo_bin("zhijian"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "--memory-limit", "1MB", "--input"])
        .arg(inputs.path("new"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("prlimit runs (util-linux)");
    let stderr = text(&limited.stderr);
    assert_eq!(limited.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot write") && stderr.contains(out.to_str().expect("utf-8")),
        "the message names the file: {stderr}"
    );
    assert_same(&published(&out), &before, "past the file-size limit");
    assert!(hidden(&out).is_empty(), "{:?}", hidden(&out));

    // A folder the job may not write in (as root, the job runs as nobody, with
    // its own copy of the binary and the rules where nobody may read them).
    let binary = inputs.path("zhijian");
    if std::fs::hard_link(assert_cmd::cargo::cargo_bin("zhijian"), &binary).is_err() {
        std::fs::copy(assert_cmd::cargo::cargo_bin("zhijian"), &binary).expect("copy the binary");
    }
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"),
        &inputs.path("rules"),
    );
    make_readable_by_all(&inputs.path(""));
    set_writable(&out, false);
    let mut command = as_unprivileged(binary);
    let read_only = command
        .current_dir(inputs.path(""))
        .args(["run", "--input"])
        .arg(inputs.path("new"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    set_writable(&out, true);
    let stderr = text(&read_only.stderr);
    assert_eq!(read_only.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(out.to_str().expect("utf-8")) && stderr.contains("ermission denied"),
        "{stderr}"
    );
    assert_same(&published(&out), &before, "a read-only folder");
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// The binary as an unprivileged user when the tests run as root, whom
/// permissions do not stop.
fn as_unprivileged(binary: PathBuf) -> Command {
    if is_root() {
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(binary);
        command
    } else {
        Command::new(binary)
    }
}

fn make_readable_by_all(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut current = Some(dir);
    // The folders above too, so that an unprivileged user can reach it.
    while let Some(path) = current {
        if path == Path::new("/") {
            break;
        }
        let mode = std::fs::metadata(path).expect("meta").permissions().mode();
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode | 0o555));
        current = path.parent();
    }
    walk(dir, &mut |path| {
        let mode = std::fs::metadata(path).expect("meta").permissions().mode();
        let extra = if path.is_dir() { 0o555 } else { 0o444 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode | extra)).expect("chmod");
    });
}

fn set_writable(dir: &Path, writable: bool) {
    use std::os::unix::fs::PermissionsExt;
    walk(dir, &mut |path| {
        let mode = std::fs::metadata(path).expect("meta").permissions().mode();
        let mode = if writable { mode | 0o200 } else { mode & !0o222 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    });
}

fn walk(dir: &Path, each: &mut dyn FnMut(&Path)) {
    each(dir);
    if dir.is_dir() {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            walk(&entry.expect("entry").path(), each);
        }
    }
}

/// `kill -9` at random moments of a run that spills, for several seeds: every
/// folder stays old or new and complete, and a clean run afterwards publishes
/// exactly what a run that was never killed does.
#[test]
fn kill_9_at_random_moments_of_a_spilling_run() {
    let number = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    // benches/fuzz.sh runs more seeds, from other bases.
    let (seeds, base) = (
        number("ZHIJIAN_KILL_SEEDS", 10),
        number("ZHIJIAN_KILL_SEED_BASE", 0),
    );
    let inputs = Inputs::new(3, 40);
    let (old, clean) = (inputs.path("out-old"), inputs.path("out-clean"));
    assert!(inputs.run("old", &old, "").status.success());
    let started = Instant::now();
    assert!(inputs.run("new", &clean, "").status.success());
    let full = started.elapsed();
    let (before, after) = (published(&old), published(&clean));
    for seed in base + 1..=base + seeds {
        // A small deterministic generator: the moment is a share of a full run.
        let share = (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as f64 / (1u64 << 53) as f64;
        let out = inputs.path(&format!("out-seed-{seed}"));
        copy_dir(&old, &out);
        let mut child = zhijian_at("")
            .args(["run", "--memory-limit", "1MB", "--quiet", "--input"])
            .arg(inputs.path("new"))
            .arg("--out")
            .arg(&out)
            .spawn()
            .expect("spawns");
        std::thread::sleep(full.mul_f64(share).min(Duration::from_secs(30)));
        let _ = child.kill();
        let _ = child.wait();
        assert_old_or_new(&out, &before, &after, &format!("seed {seed} at {share:.2}"));
        let next = inputs.run("new", &out, "");
        assert!(next.status.success(), "seed {seed}: {}", text(&next.stderr));
        assert_same(&published(&out), &after, &format!("seed {seed}"));
        assert!(hidden(&out).is_empty(), "seed {seed}: {:?}", hidden(&out));
    }
}
