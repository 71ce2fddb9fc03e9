//! The HTML reports: content, escaping, no network, and (with Chromium) a real
//! browser rendering them.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Scratch, zhijian, zhijian_in_repo as in_repo};

/// The sample's two days, their KPI and the month report, under `out`.
fn publish_sample(out: &Path) {
    in_repo()
        .args(["run", "--quiet", "--out"])
        .arg(out)
        .assert()
        .success();
    in_repo()
        .args(["kpi", "--month", "2026-11", "--allow-missing-days", "--out"])
        .arg(out)
        .args([
            "--orders",
            "sample-logs/_shop-data/orders.csv",
            "--metrics",
            "sample-logs/_shop-data/metrics.csv",
        ])
        .assert()
        .success();
    zhijian()
        .args(["report", "--month", "2026-11", "--out"])
        .arg(out)
        .assert()
        .success();
}

fn assert_offline(html: &str, what: &str) {
    for fetch in ["http://", "https://", " src=", " href=", "@import", "url("] {
        assert!(!html.contains(fetch), "{what} would fetch something: {fetch}");
    }
}

#[test]
fn day_and_month_reports_show_the_figures_and_fetch_nothing() {
    let scratch = Scratch::new();
    let out = scratch.path("out");
    publish_sample(&out);
    let day = std::fs::read_to_string(out.join("date=2026-11-12/report.html")).expect("day report");
    for expected in [
        "<meta charset=\"utf-8\">",
        "质检日报 2026-11-12",
        "平均质检分 QA score",
        "30秒应答率",
        "vs the day before",
        "class=\"sortable\"",
        "hits per rule",
        "response latency histogram",
        "response latency per agent",
        "The ten lowest-scoring conversations",
        "class=\"evidence\"",
    ] {
        assert!(day.contains(expected), "day report lacks {expected:?}");
    }
    assert_eq!(day.matches("<div class=\"conversation\">").count(), 10);
    // The first day has no day before it in the folder.
    let first = std::fs::read_to_string(out.join("date=2026-11-11/report.html")).expect("day report");
    assert!(!first.contains("vs the day before"));
    let month = std::fs::read_to_string(out.join("report/month=2026-11/report.html")).expect("month report");
    for expected in [
        "质检月报 2026-11",
        "QA score trend",
        "response time trend",
        "KPI 排名 ranking",
        "multiplier",
    ] {
        assert!(month.contains(expected), "month report lacks {expected:?}");
    }
    for (html, what) in [
        (&day, "day report"),
        (&first, "day report"),
        (&month, "month report"),
    ] {
        assert_offline(html, what);
    }
    let manifest = std::fs::read_to_string(out.join("date=2026-11-12/manifest.json")).expect("manifest");
    assert!(manifest.contains("\"file\": \"report.html\""));
}

#[test]
fn markup_in_transcripts_and_ids_renders_as_text() {
    let scratch = Scratch::new();
    let evil = "<script>alert(1)</script></td><img src=x onerror=alert(2)>";
    let mut lines = Vec::new();
    for (msg, at, role, agent, text) in [
        ("m1", "10:00:00", "customer", None, evil.to_string()),
        (
            "m2",
            "10:05:00",
            "agent",
            Some("A</td><b>"),
            format!("加微信 {evil}"),
        ),
    ] {
        lines.push(crate::util::line("S1", msg, at, role, agent, &text));
    }
    let input = scratch.write("in.jsonl", lines.join("\n") + "\n");
    let out = scratch.path("out");
    in_repo()
        .args(["run", "--quiet", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let html = std::fs::read_to_string(out.join("date=2026-11-11/report.html")).expect("report");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;/td&gt;&lt;img src=x onerror=alert(2)&gt;")
    );
    assert!(html.contains("A&lt;/td&gt;&lt;b&gt;"));
    assert!(!html.contains("<script>alert") && !html.contains("<img") && !html.contains("</td><b>"));
    assert_eq!(
        html.matches("<script>").count(),
        1,
        "only the page's own sorting script"
    );
}

fn chromium() -> Option<PathBuf> {
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .find_map(|name| {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {name}"))
            .output()
            .ok()?;
        let path = String::from_utf8(found.stdout).ok()?.trim().to_string();
        (found.status.success() && !path.is_empty()).then(|| PathBuf::from(path))
    })
}

fn headless(browser: &Path, args: &[&str], page: &Path) -> std::process::Output {
    Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"])
        .args(["--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000"])
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs")
}

/// PNG width and height from the IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    (be(16), be(20))
}

/// Renders the day and month reports of the sample in headless Chromium: a
/// screenshot is taken, the page logs no console message (errors included), and
/// every chart has a size. Run by ci.sh, which installs Chromium when missing
/// (`cargo test -- --ignored`); without Chromium it says it was skipped.
#[test]
#[ignore = "needs Chromium; ci.sh runs it"]
fn reports_render_in_a_real_browser() {
    let Some(browser) = chromium() else {
        eprintln!("SKIPPED reports_render_in_a_real_browser: no chromium on PATH (apt install chromium)");
        return;
    };
    let scratch = Scratch::new();
    let out = scratch.path("out");
    publish_sample(&out);
    let pages = [
        (out.join("date=2026-11-12/report.html"), 3),
        (out.join("report/month=2026-11/report.html"), 5),
    ];
    for (page, charts) in pages {
        let shot = scratch.path("shot.png");
        let screenshot = format!("--screenshot={}", shot.display());
        let taken = headless(&browser, &["--window-size=1280,2000", &screenshot], &page);
        assert!(
            taken.status.success(),
            "{}",
            String::from_utf8_lossy(&taken.stderr)
        );
        assert_eq!(png_size(&std::fs::read(&shot).expect("screenshot")), (1280, 2000));

        let dom = headless(&browser, &["--window-size=1280,2000", "--dump-dom"], &page);
        assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
        let stderr = String::from_utf8_lossy(&dom.stderr);
        let console: Vec<&str> = stderr.lines().filter(|l| l.contains(":CONSOLE")).collect();
        assert!(
            console.is_empty(),
            "{}: console output {console:?}",
            page.display()
        );
        let html = String::from_utf8_lossy(&dom.stdout);
        let sizes = html
            .split("data-charts=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("{}: the page script did not run", page.display()));
        let sizes: Vec<(u32, u32)> = sizes
            .split_whitespace()
            .map(|s| {
                let (w, h) = s.split_once('x').expect("WxH");
                (w.parse().expect("width"), h.parse().expect("height"))
            })
            .collect();
        assert_eq!(sizes.len(), charts, "{}: {sizes:?}", page.display());
        assert!(
            sizes.iter().all(|(w, h)| *w > 100 && *h > 50),
            "{}: {sizes:?}",
            page.display()
        );
    }
}
