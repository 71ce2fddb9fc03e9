//! `zhijian watch` on a folder that grows while it runs, a restart with `--state`,
//! and a webhook that fails once, on a local HTTP server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use crate::util::Scratch;

const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");

/// One canonical JSON line of shop `店`; `at` is local time on 2026-11-11.
fn line(session: &str, msg: &str, at: &str, role: &str, agent: Option<&str>, text: &str) -> String {
    let mut record = serde_json::json!({
        "shop": "店", "session_id": session, "msg_id": msg, "ts": format!("2026-11-11 {at}"),
        "role": role, "text": text,
    });
    if let Some(agent) = agent {
        record["agent_id"] = agent.into();
    }
    format!("{record}\n")
}

fn append(path: &Path, lines: &[String]) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    file.write_all(lines.concat().as_bytes()).unwrap();
    file.flush().unwrap();
}

/// A running `zhijian watch`, its lines arriving on channels; killed when dropped.
struct Running {
    child: Child,
    stdout: Receiver<(Instant, String)>,
    stderr: Receiver<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines_of(source: impl Read + Send + 'static) -> Receiver<(Instant, String)> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(source).lines().map_while(Result::ok) {
            if tx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    rx
}

fn start(args: &[&str], dir: &Path) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zhijian"))
        .args(["watch", "--rules", RULES, "--input"])
        .arg(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let stdout = lines_of(child.stdout.take().unwrap());
    let (tx, stderr) = channel();
    let errors = lines_of(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        while let Ok((_, line)) = errors.recv() {
            let _ = tx.send(line);
        }
    });
    Running {
        child,
        stdout,
        stderr,
    }
}

/// The next stderr line containing `text`, waiting at most 20 s.
fn wait_stderr(running: &Running, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Ok(line) = running
        .stderr
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
    {
        if line.contains(text) {
            return line;
        }
    }
    panic!("no stderr line with {text:?} within 20 s");
}

/// The next alert, with how long after `since` it came.
fn next_alert(running: &Running, since: Instant) -> (Duration, serde_json::Value) {
    let (when, line) = running
        .stdout
        .recv_timeout(Duration::from_secs(20))
        .expect("an alert within 20 s");
    (
        when.duration_since(since),
        serde_json::from_str(&line).expect("a JSON line"),
    )
}

#[test]
fn alerts_come_within_the_interval_as_the_folder_grows() {
    let scratch = Scratch::new();
    let dir = scratch.path("live");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("export.jsonl");
    let state = scratch.path("state.json");
    append(&file, &[line("A", "1", "10:00:00", "customer", None, "在吗")]);
    let interval = Duration::from_secs(2);
    let running = start(
        &[
            "--interval",
            "2s",
            "--alert-after",
            "100s",
            "--state",
            state.to_str().unwrap(),
        ],
        &dir,
    );
    wait_stderr(&running, "等待 1 人");

    // 90 s is not past 100 s; a reply in another session at 105 s is.
    append(&file, &[line("B", "1", "10:01:30", "customer", None, "有货吗")]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(running.stdout.try_recv().is_err(), "no alert at 90 s");
    let wrote = Instant::now();
    append(
        &file,
        &[line("B", "2", "10:01:45", "agent", Some("小美"), "有的")],
    );
    let (delay, alert) = next_alert(&running, wrote);
    assert!(delay < interval, "waiting alert after {delay:?}");
    assert_eq!(
        alert,
        serde_json::json!({"kind": "waiting", "shop": "店", "session_id": "A", "open_msg_id": "1",
            "opened_at": "2026-11-11T10:00:00+08:00", "waited_s": 105.0, "at": "2026-11-11T10:01:45+08:00"})
    );

    let wrote = Instant::now();
    append(
        &file,
        &[line("A", "2", "10:02:00", "agent", Some("小美"), "亲，在的")],
    );
    let (delay, alert) = next_alert(&running, wrote);
    assert!(delay < interval, "answered alert after {delay:?}");
    assert_eq!(
        alert,
        serde_json::json!({"kind": "answered", "shop": "店", "session_id": "A", "open_msg_id": "1",
            "opened_at": "2026-11-11T10:00:00+08:00", "waited_s": 120.0, "at": "2026-11-11T10:02:00+08:00",
            "agent_id": "小美"})
    );

    let wrote = Instant::now();
    append(
        &file,
        &[line(
            "B",
            "3",
            "10:02:10",
            "agent",
            Some("小美"),
            "支 付 宝 转 账给我，便宜20",
        )],
    );
    let (delay, alert) = next_alert(&running, wrote);
    assert!(delay < interval, "critical alert after {delay:?}");
    assert_eq!(
        alert,
        serde_json::json!({"kind": "critical", "shop": "店", "session_id": "B", "msg_id": "3",
            "agent_id": "小美", "rule_id": "offplatform-payment", "at": "2026-11-11T10:02:10+08:00"})
    );

    // SIGTERM stops it cleanly, with the state saved.
    let pid = running.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let summary = wait_stderr(&running, "watch stopped");
    assert!(summary.contains("1 waiting, 1 answered, 1 critical"), "{summary}");
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    let offset = saved["files"][file.to_str().unwrap()]["offset"].as_u64().unwrap();
    assert_eq!(offset, std::fs::metadata(&file).unwrap().len());
}

fn once(dir: &Path, extra: &[&str]) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_zhijian"))
        .args(["watch", "--once", "--quiet", "--rules", RULES, "--input"])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn summary(alerts: &[serde_json::Value]) -> Vec<String> {
    alerts
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["kind"].as_str().unwrap(),
                a["session_id"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_restart_with_state_neither_repeats_nor_misses() {
    let scratch = Scratch::new();
    let dir = scratch.path("live");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("export.jsonl");
    let state = scratch.path("state.json");
    let state_args = ["--state", state.to_str().unwrap()];
    append(
        &file,
        &[
            line("A", "1", "10:00:00", "customer", None, "在吗"),
            line("B", "1", "10:01:50", "customer", None, "有货吗"),
        ],
    );
    // A partial line is left for the next run.
    let second = [
        line("A", "2", "10:02:10", "agent", Some("小美"), "在的"),
        line("C", "1", "10:03:40", "customer", None, "发货了吗"),
    ]
    .concat();
    let (head, tail) = second.split_at(20);
    append(&file, &[head.to_string()]);
    assert_eq!(summary(&once(&dir, &state_args)), ["waiting A"]);
    append(&file, &[tail.to_string()]);
    assert_eq!(summary(&once(&dir, &state_args)), ["answered A", "waiting B"]);
    assert!(once(&dir, &state_args).is_empty(), "nothing new, nothing again");
    // The same stream read in one go gives the same alerts.
    assert_eq!(
        summary(&once(&dir, &[])),
        ["waiting A", "answered A", "waiting B"]
    );
}

/// Serves HTTP on 127.0.0.1: answers 500 to the first request and 200 to the
/// rest, and hands over every body. Stops by itself after `requests`.
fn flaky_server(requests: usize) -> (String, Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/robot/send?key=test", listener.local_addr().unwrap());
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().take(requests).enumerate() {
            let Ok(mut stream) = stream else { break };
            stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
                if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let (status, answer) = if n == 0 {
                ("500 Internal Server Error", "busy")
            } else {
                ("200 OK", r#"{"errcode":0,"errmsg":"ok"}"#)
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
            let _ = tx.send(String::from_utf8(body).unwrap());
        }
    });
    (url, rx)
}

#[test]
fn webhook_posts_robot_messages_and_retries() {
    let scratch = Scratch::new();
    let dir = scratch.path("live");
    std::fs::create_dir_all(&dir).unwrap();
    append(
        &dir.join("export.jsonl"),
        &[
            line("A", "1", "10:00:00", "customer", None, "在吗"),
            line("B", "1", "10:02:00", "agent", Some("小美"), "私下交易便宜"),
        ],
    );
    let (url, bodies) = flaky_server(3);
    let alerts = once(
        &dir,
        &[
            "--webhook",
            &url,
            "--webhook-format",
            "wecom",
            "--webhook-backoff",
            "100ms",
        ],
    );
    assert_eq!(summary(&alerts), ["waiting A", "critical B"]);
    let got: Vec<serde_json::Value> = (0..3)
        .map(|_| serde_json::from_str(&bodies.recv_timeout(Duration::from_secs(10)).unwrap()).unwrap())
        .collect();
    assert_eq!(got[0], got[1], "the refused post is tried again");
    for body in &got {
        assert_eq!(body["msgtype"], "text");
    }
    let content = |i: usize| got[i]["text"]["content"].as_str().unwrap().to_string();
    assert!(
        content(0).contains("等待提醒") && content(0).contains("120 秒"),
        "{}",
        content(0)
    );
    assert!(
        content(2).contains("一票否决") && content(2).contains("offplatform-payment"),
        "{}",
        content(2)
    );
}
