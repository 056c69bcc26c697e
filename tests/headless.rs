//! Headless surfaces on real databases: watch alerts and Prometheus metrics,
//! baselines, the HTML report in Chromium, JUnit, and the graph in Graphviz.

mod common;

use common::TestDb;
use common::pg::{Options, PrivatePg};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether"));
    cmd.env_remove("DATABASE_URL").env("NO_COLOR", "1");
    cmd
}

/// A demo database in SQLite at `scale`; returns its URL (the dir must live).
fn sqlite_demo(scale: u64) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.sqlite").display());
    let out = bin()
        .args(["demo", "--url", &url, "--scale", &scale.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, url)
}

fn sqlite_exec(url: &str, sql: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "PRAGMA foreign_keys = OFF; {sql}"
        )))
        .execute(&mut conn)
        .await
        .unwrap();
        let _ = conn.close().await;
    });
}

/// Stops a child with SIGTERM and returns its exit code.
fn terminate(mut child: Child) -> Option<i32> {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("tether watch did not stop on SIGTERM");
}

/// The address `tether watch --metrics-addr` says it serves on (its first
/// line on stderr). The rest of stderr is read on, so that it stays open.
fn metrics_addr(child: &mut Child) -> String {
    serving(child).0
}

/// Like [`metrics_addr`], and all of stderr (its first line included) once
/// the child has ended.
fn serving(child: &mut Child) -> (String, std::thread::JoinHandle<String>) {
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("tether: metrics on http://")
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("no metrics address in {line:?}"))
        .to_string();
    let rest = std::thread::spawn(move || {
        let mut bytes = line.into_bytes();
        let _ = stderr.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    });
    (addr, rest)
}

fn http_get(addr: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// CPU seconds (user and system) the process has used so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    // Linux reports CPU time in clock ticks of 1/100 s.
    ticks / 100.0
}

/// When the metrics endpoint cannot take a connection (here: out of file
/// descriptors), it waits before trying again instead of spinning.
#[test]
fn metrics_endpoint_out_of_file_descriptors_does_not_spin() {
    let (_dir, url) = sqlite_demo(1000);
    let mut child = Command::new("prlimit")
        .arg("--nofile=40")
        .arg(env!("CARGO_BIN_EXE_tether"))
        .args([
            "watch",
            "--url",
            &url,
            "--interval",
            "3600",
            "--metrics-addr",
            "127.0.0.1:0",
        ])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("prlimit (util-linux)");
    let addr = metrics_addr(&mut child);
    // More connections than descriptors left: the server accepts until it has
    // none, and the others wait in the listen queue.
    let connections: Vec<std::net::TcpStream> = (0..60)
        .filter_map(|_| std::net::TcpStream::connect(&addr).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_seconds(child.id());
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_seconds(child.id()) - before;
    drop(connections);
    let _ = child.kill();
    let _ = child.wait();
    // A loop that retries a failing accept at once uses a whole core (2 s).
    assert!(used < 0.5, "{used} s of CPU in 2 s with nothing to do");
}

/// One response read off a kept-alive connection: its status line and body.
fn read_response(stream: &mut BufReader<std::net::TcpStream>) -> (String, String) {
    let mut status = String::new();
    stream.read_line(&mut status).unwrap();
    let mut length = 0;
    loop {
        let mut header = String::new();
        stream.read_line(&mut header).unwrap();
        if header == "\r\n" {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).unwrap();
    (status.trim().to_string(), String::from_utf8(body).unwrap())
}

/// The endpoint speaks HTTP/1.1 as scrapers do: several requests on one
/// connection, 405 for another method, 400 for a request that is not HTTP.
#[test]
fn metrics_endpoint_keeps_connections_alive_and_refuses_what_it_cannot_answer() {
    let (_dir, url) = sqlite_demo(1000);
    let mut child = bin()
        .args([
            "watch",
            "--url",
            &url,
            "--interval",
            "3600",
            "--metrics-addr",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = metrics_addr(&mut child);
    let stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    for _ in 0..3 {
        write!(writer, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
        let (status, body) = read_response(&mut reader);
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(body.contains("# TYPE tether_up gauge"), "{body}");
    }
    write!(
        writer,
        "POST /metrics HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    assert_eq!(
        read_response(&mut reader).0,
        "HTTP/1.1 405 Method Not Allowed"
    );
    let mut garbage = std::net::TcpStream::connect(&addr).unwrap();
    garbage.write_all(b"HELLO\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = garbage.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer:?}");
    assert_eq!(terminate(child), Some(0));
}

#[test]
fn metrics_endpoint_reports_the_demo_faults() {
    let (_dir, url) = sqlite_demo(1000);
    let mut child = bin()
        .args([
            "watch",
            "--url",
            &url,
            "-p",
            "discovery-flow",
            "--interval",
            "60",
            "--metrics-addr",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = metrics_addr(&mut child);
    let deadline = Instant::now() + Duration::from_secs(20);
    let body = loop {
        let response = http_get(&addr, "/metrics");
        assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
        if response.contains("tether_runs_total 1") {
            break response.split_once("\r\n\r\n").unwrap().1.to_string();
        }
        assert!(Instant::now() < deadline, "no run finished: {response}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(http_get(&addr, "/nope").starts_with("HTTP/1.1 404"));
    assert_eq!(terminate(child), Some(0));

    let scrape = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string()))).unwrap();
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let found: Vec<&prometheus_parse::Sample> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .collect();
        assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
        match found[0].value {
            prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("{name}: {other:?}"),
        }
    };
    // k = 1 at scale 1,000 (see tether::demo::expected).
    assert_eq!(value("tether_up", &[]), 1.0);
    assert_eq!(value("tether_runs_total", &[]), 1.0);
    let relationship =
        |child: &'static str, cols: &'static str, parent: &'static str, pcols: &'static str| {
            [
                ("child_table", child),
                ("child_columns", cols),
                ("parent_table", parent),
                ("parent_columns", pcols),
            ]
        };
    assert_eq!(
        value(
            "tether_orphans",
            &relationship("assets", "discovery_flow_id", "discovery_flows", "flow_id")
        ),
        3.0
    );
    assert_eq!(
        value(
            "tether_orphans",
            &relationship(
                "raw_import_records",
                "master_flow_id",
                "crewai_flow_state_extensions",
                "id"
            )
        ),
        2.0
    );
    assert_eq!(
        value(
            "tether_orphans",
            &relationship(
                "assets",
                "master_flow_id",
                "crewai_flow_state_extensions",
                "id"
            )
        ),
        0.0
    );
    assert_eq!(
        value(
            "tether_tenant_missing",
            &[("table", "assets"), ("column", "engagement_id")]
        ),
        1.0
    );
    assert_eq!(
        value(
            "tether_tenant_missing",
            &[("table", "assets"), ("column", "client_account_id")]
        ),
        0.0
    );
    let mut mismatch =
        relationship("raw_import_records", "data_import_id", "data_imports", "id").to_vec();
    mismatch.push(("column", "engagement_id"));
    assert_eq!(value("tether_tenant_mismatch", &mismatch), 1.0);
    assert_eq!(
        value(
            "tether_path_mismatch",
            &[
                ("table", "raw_import_records"),
                ("name", "raw_record_master_flow")
            ]
        ),
        3.0
    );
    assert_eq!(
        value(
            "tether_findings",
            &[("check", "orphans"), ("severity", "error")]
        ),
        2.0
    );
    assert_eq!(
        value(
            "tether_findings",
            &[("check", "tenant_mismatch"), ("severity", "error")]
        ),
        6.0
    );
    // Every check runs on the demo; its truncated flow state is a finding.
    assert_eq!(
        value(
            "tether_findings",
            &[("check", "check_failed"), ("severity", "error")]
        ),
        0.0
    );
    assert_eq!(
        value(
            "tether_findings",
            &[("check", "custom"), ("severity", "error")]
        ),
        1.0
    );
    assert_eq!(
        value(
            "tether_findings",
            &[("check", "implied_fk"), ("severity", "info")]
        ),
        1.0
    );
    let histogram = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "tether_check_duration_seconds" && s.labels.get("category") == Some("join")
        })
        .expect("a join histogram");
    match &histogram.value {
        prometheus_parse::Value::Histogram(buckets) => {
            // On SQLite the checks through each of the nine relationships
            // (its orphans, tenant and path checks) share a pass of their own,
            // and one assertion is of the join category.
            assert_eq!(buckets.last().unwrap().count, 10.0, "{buckets:?}");
        }
        other => panic!("not a histogram: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_alerts_a_fault_once_then_its_resolution() {
    let db = TestDb::postgres().await;
    db.exec("CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (id int PRIMARY KEY, parent_id int); INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1);").await;
    let profile = tempfile::NamedTempFile::with_suffix(".toml").unwrap();
    std::fs::write(
        profile.path(),
        "[[relationship]]\nchild = \"child\"\ncolumns = [\"parent_id\"]\nparent = \"parent\"\n",
    )
    .unwrap();
    let mut child = watch(&[
        "--url",
        &db.url,
        "--profile",
        profile.path().to_str().unwrap(),
        "--interval",
        "0.3",
    ]);
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<serde_json::Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(serde_json::from_str(&line).unwrap());
        }
    });
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut wait_for = |event: &str, key: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let alert = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("no {event} {key}: {seen:?}"));
            let pair = (
                alert["event"].as_str().unwrap().to_string(),
                alert["key"].as_str().unwrap_or("").to_string(),
            );
            if pair.0 == "new" && pair.1.starts_with("orphans") {
                assert_eq!(alert["count"], 1, "{alert}");
            }
            seen.push(pair.clone());
            if pair == (event.to_string(), key.to_string()) {
                return;
            }
        }
    };
    let missing = "fk_missing:child(parent_id) → parent(id)";
    let orphans = "orphans:child(parent_id) → parent(id)";
    wait_for("new", missing);
    db.exec("INSERT INTO child VALUES (2, 99)").await;
    wait_for("new", orphans);
    // Several runs see the orphan; none alerts it again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    db.exec("DELETE FROM child WHERE id = 2").await;
    wait_for("resolved", orphans);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let code = tokio::task::spawn_blocking(move || terminate(child))
        .await
        .unwrap();
    assert_eq!(code, Some(0));
    while let Ok(alert) = rx.try_recv() {
        seen.push((
            alert["event"].as_str().unwrap().to_string(),
            alert["key"].as_str().unwrap_or("").to_string(),
        ));
    }
    assert_eq!(
        seen,
        vec![
            ("new".to_string(), missing.to_string()),
            ("new".to_string(), orphans.to_string()),
            ("resolved".to_string(), orphans.to_string()),
        ]
    );
}

fn check(url: &str, args: &[&str]) -> (i32, String) {
    let out = bin()
        .args(["check", "--url", url, "-p", "discovery-flow"])
        .args(args)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// (check, location) of the JSON findings, without latency findings (timing).
fn findings(json: &serde_json::Value) -> Vec<(String, String)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] != "slow_check")
        .map(|f| {
            let location = match (f.get("table"), f.get("column")) {
                (Some(t), Some(c)) => format!("{}.{}", t.as_str().unwrap(), c.as_str().unwrap()),
                _ => f["key"].as_str().unwrap().to_string(),
            };
            (f["check"].as_str().unwrap().to_string(), location)
        })
        .collect()
}

#[test]
fn baseline_round_trip() {
    let (dir, url) = sqlite_demo(1000);
    let baseline = dir.path().join("baseline.json");
    let (code, _) = check(
        &url,
        &[
            "--write-baseline",
            baseline.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    assert!(written["findings"].as_array().unwrap().len() >= 20);

    // The same database against its baseline: clean.
    let (code, out) = check(
        &url,
        &["--baseline", baseline.to_str().unwrap(), "--format", "json"],
    );
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(findings(&json), Vec::<(String, String)>::new());
    assert_eq!(code, 0, "{out}");
    assert!(json["baseline"]["accepted"].as_u64().unwrap() >= 20);

    // A new fault, and one of the accepted ones fixed.
    sqlite_exec(
        &url,
        "INSERT INTO assets (id, master_flow_id, discovery_flow_id, raw_import_record_id, data_import_id,
                             client_account_id, engagement_id, name, asset_type, environment, created_at)
         SELECT '00000000-0000-4000-8000-000000000001', master_flow_id, discovery_flow_id, raw_import_record_id,
                data_import_id, NULL, engagement_id, 'new asset', asset_type, environment, created_at
         FROM assets WHERE name = 'asset-0000005';
         UPDATE raw_import_records SET client_account_id =
           (SELECT d.client_account_id FROM data_imports d WHERE d.id = raw_import_records.data_import_id)
         WHERE client_account_id IS NULL;",
    );
    let (code, out) = check(
        &url,
        &["--baseline", baseline.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        findings(&json),
        vec![(
            "tenant_missing".to_string(),
            "assets.client_account_id".to_string()
        )]
    );
    let resolved: Vec<&str> = json["baseline"]["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["check"] != "slow_check")
        .map(|a| a["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        resolved,
        ["tenant_missing:raw_import_records.client_account_id"]
    );
    let (_, text) = check(&url, &["--baseline", baseline.to_str().unwrap()]);
    assert!(
        text.contains("baseline:") && text.contains("resolved"),
        "{text}"
    );
}

#[test]
fn junit_has_one_case_per_check() {
    let (_dir, url) = sqlite_demo(1000);
    let (_, json) = check(&url, &["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let (code, xml) = check(&url, &["--format", "junit"]);
    assert_eq!(code, 1);
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures, mut errors) = (0, 0, 0);
    let mut suite_failures = None;
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    "testcase" => cases += 1,
                    "failure" => failures += 1,
                    "error" => errors += 1,
                    "testsuite" => {
                        let attr = e.try_get_attribute("failures").unwrap().unwrap();
                        suite_failures = Some(attr.value.parse::<usize>().unwrap());
                    }
                    _ => {}
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    let slow = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "slow_check")
        .count();
    assert_eq!(
        cases,
        json["summary"]["checks_run"].as_u64().unwrap() as usize + slow
    );
    assert_eq!(Some(failures), suite_failures);
    assert_eq!(errors, 0, "every check of the demo runs");
    assert!(failures >= 16, "{failures}");
}

#[test]
fn dot_renders_with_graphviz_and_mermaid_is_a_flowchart() {
    let (_dir, url) = sqlite_demo(1000);
    let out = bin()
        .args([
            "graph",
            "--url",
            &url,
            "-p",
            "discovery-flow",
            "--format",
            "dot",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let dot = String::from_utf8(out.stdout).unwrap();
    assert!(dot.contains("\"discovery_flows\" -> \"assets\" [label=\"discovery_flow_id · no action\", color=\"#d62728\""), "{dot}");
    let mut graphviz = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("Graphviz `dot` (./scripts/test installs it)");
    graphviz
        .stdin
        .take()
        .unwrap()
        .write_all(dot.as_bytes())
        .unwrap();
    let svg = graphviz.wait_with_output().unwrap();
    assert!(svg.status.success());
    let svg = String::from_utf8(svg.stdout).unwrap();
    assert!(svg.contains("<svg") && svg.contains("raw_import_records"));

    let out = bin()
        .args([
            "graph",
            "--url",
            &url,
            "-p",
            "discovery-flow",
            "--format",
            "mermaid",
        ])
        .output()
        .unwrap();
    let mermaid = String::from_utf8(out.stdout).unwrap();
    assert!(mermaid.starts_with("flowchart LR\n"));
    assert_eq!(mermaid.matches("linkStyle").count(), 9, "{mermaid}");
}

#[test]
fn html_report_is_self_contained_and_renders_in_chromium() {
    let (dir, url) = sqlite_demo(1000);
    let file = dir.path().join("report.html");
    let (code, _) = check(
        &url,
        &["--format", "html", "--output", file.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for outside in [
        "<script",
        "<link",
        "src=\"http",
        "href=\"http",
        "@import",
        "url(http",
    ] {
        assert!(!html.contains(outside), "{outside} in the report");
    }
    assert!(
        html.contains("<svg")
            && html.contains("SQL that ran")
            && html.contains("Latency by category")
    );

    let screenshot = dir.path().join("report.png");
    let profile = dir.path().join("chromium-profile");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(format!("file://{}", file.display()))
        .output()
        .expect("Debian's chromium (./scripts/test installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = String::from_utf8_lossy(&out.stderr);
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    assert!(
        std::fs::metadata(&screenshot).unwrap().len() > 20_000,
        "an empty screenshot"
    );
    if let Ok(keep) = std::env::var("TETHER_KEEP_SCREENSHOT") {
        std::fs::copy(&screenshot, keep).unwrap();
    }
}

/// A database with one orphan, and a role of its own that may read it: the
/// role (dropped after the database), the database, the role's name and the
/// URL that connects as it.
async fn watched_as_a_role() -> (common::Roles, TestDb, String, String) {
    let role = common::unique_role("tether_watcher");
    let roles = common::Roles(vec![role.clone()]);
    let db = TestDb::postgres().await;
    db.exec(&format!(
        "CREATE TABLE parent (id int PRIMARY KEY); \
         CREATE TABLE child (id int PRIMARY KEY, parent_id int); \
         INSERT INTO child VALUES (1, 7); \
         CREATE ROLE \"{role}\" LOGIN; \
         GRANT SELECT ON parent, child TO \"{role}\";"
    ))
    .await;
    let url = common::role_url(&db, &role);
    (roles, db, role, url)
}

/// The database stops taking connections under `watch` (`block`, then
/// every session of it ended): one `unreachable` event with the server's
/// `reason`, `tether_up 0` on the metrics endpoint while the last good values
/// stay, then, after `unblock`, one `recovered` event with how long it was
/// away, and `tether_up 1` again — without a restart.
async fn cut_off_and_back(
    block: impl Fn(&str) -> String,
    unblock: impl Fn(&str) -> String,
    reason: &str,
) {
    use sqlx::Connection;
    // A role of its own: superusers pass connection limits.
    let (_roles, db, _, url) = watched_as_a_role().await;
    let watched = Watched::start(&["--url", &url, "--interval", "0.5"], &[]);
    let alerts = &watched.alerts;
    let metrics = || Metrics::of(&watched.addr).to_string();
    alerts.next("new");
    let database = db.name();
    let mut admin = sqlx::PgConnection::connect(&common::pg_admin_url())
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(block(&database)))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"
    )))
    .execute(&mut admin)
    .await
    .unwrap();

    let down = alerts.next("unreachable");
    let cause = down["cause"].as_str().unwrap();
    assert!(
        cause.contains(reason),
        "the cause is the server's own: {down}"
    );
    let during = metrics();
    assert!(during.contains("tether_up 0"), "{during}");
    assert!(
        during.contains("tether_orphans{"),
        "the last good values stay: {during}"
    );

    sqlx::raw_sql(sqlx::AssertSqlSafe(unblock(&database)))
        .execute(&mut admin)
        .await
        .unwrap();
    let back = alerts.next("recovered");
    assert!(back["duration_s"].as_f64().unwrap() > 0.0, "{back}");
    watched.metrics_until("tether_up 1", |m| m.to_string().contains("tether_up 1"));
    watched.stop();
    no_session_left(&common::pg_admin_url(), &db.name()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_says_a_database_refusing_connections_and_recovers() {
    cut_off_and_back(
        |db| format!("ALTER DATABASE \"{db}\" ALLOW_CONNECTIONS false"),
        |db| format!("ALTER DATABASE \"{db}\" ALLOW_CONNECTIONS true"),
        "not currently accepting connections",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_says_a_database_out_of_connections_and_recovers() {
    cut_off_and_back(
        |db| format!("ALTER DATABASE \"{db}\" CONNECTION LIMIT 0"),
        |db| format!("ALTER DATABASE \"{db}\" CONNECTION LIMIT -1"),
        "too many connections",
    )
    .await;
}

/// The network path to the database goes silent under `watch` (a proxy that
/// stops forwarding: no reset, no refusal): `unreachable` says there was no
/// answer, and `recovered` follows once the path carries bytes again. The
/// metrics endpoint is tether's own, not behind the proxy: it answers all
/// along, `tether_up 0` with the last run's values while the path is silent,
/// `tether_up 1` and a newer last success after.
#[tokio::test(flavor = "multi_thread")]
async fn watch_says_a_silent_network_and_recovers_by_itself() {
    let db = TestDb::postgres().await;
    db.exec("CREATE TABLE parent (id int PRIMARY KEY); INSERT INTO parent VALUES (1);")
        .await;
    let proxy = common::proxy::Proxy::start("127.0.0.1:5432");
    let url = db.url.replace("127.0.0.1:5432", &proxy.addr.to_string());
    assert_ne!(url, db.url, "the test database is on 127.0.0.1:5432");
    let watched = Watched::start(
        &["--url", &url, "--interval", "0.5", "--connect-timeout", "3"],
        &[],
    );
    // A few runs through the proxy first.
    std::thread::sleep(Duration::from_secs(2));
    let before = watched.metrics_until("a run", |m| m.up() == Some(1.0));
    let paused_at = unix_now();
    proxy.pause();
    let down = watched.alerts.next("unreachable");
    assert!(
        down["cause"].as_str().unwrap().contains("no answer within"),
        "silence is said as silence: {down}"
    );
    let during = watched.metrics_until("tether_up 0", |m| m.up() == Some(0.0));
    assert!(
        during.last_success() <= paused_at,
        "no run succeeded through a silent path: {during}"
    );
    for name in ["tether_checks_run", "tether_findings"] {
        assert_eq!(
            during.samples_of(name),
            before.samples_of(name),
            "the last values stay: {during}"
        );
    }
    let resumed_at = unix_now();
    proxy.resume();
    let back = watched.alerts.next("recovered");
    assert!(back["duration_s"].as_f64().unwrap() > 0.0, "{back}");
    watched.metrics_until("a run after the silence", |m| {
        m.up() == Some(1.0) && m.last_success() > resumed_at
    });
    watched.stop();
    no_session_left(&common::pg_admin_url(), &db.name()).await;
}

/// A lock that stalls every read of a table under `watch`: each run's check
/// of it fails with the lock timeout named (one `check_failed` event, not one
/// per run), and once the lock goes the check is `resolved` and counted again.
#[tokio::test(flavor = "multi_thread")]
async fn watch_says_a_stalling_lock_and_recovers_by_itself() {
    use sqlx::Connection;
    let db = TestDb::postgres().await;
    db.exec(
        "CREATE TABLE parent (id int PRIMARY KEY); \
         CREATE TABLE child (id int PRIMARY KEY, parent_id int); \
         INSERT INTO child VALUES (1, 7);",
    )
    .await;
    let watched = Watched::start(
        &["--url", &db.url, "--interval", "0.5", "--lock-timeout", "1"],
        &[],
    );
    watched.alerts.next("new");
    watched.metrics_until("the orphan counted", |m| m.orphans() == Some(1.0));
    let mut locker = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE child IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .await
        .unwrap();
    let failed = watched.alerts.next("check_failed");
    assert!(
        failed["message"].as_str().unwrap().contains("lock"),
        "the lock is named: {failed}"
    );
    let during = watched.failing("orphans");
    assert_eq!(
        during.orphans(),
        None,
        "an unknown count is absent: {during}"
    );
    sqlx::raw_sql("COMMIT").execute(&mut locker).await.unwrap();
    // The orphan was never gone: only the failure resolves.
    let resolved = watched.alerts.next("resolved");
    assert_eq!(resolved["key"], failed["key"], "{resolved}");
    watched.not_failing("the orphan counted again", |m| m.orphans() == Some(1.0));
    watched.stop();
    no_session_left(&common::pg_admin_url(), &db.name()).await;
}

/// The role `watch` connects as loses its privilege on a table mid-run: the
/// check is one `check_failed` event saying what the role needs (its orphans
/// are not "resolved"); given back, the failure resolves.
#[tokio::test(flavor = "multi_thread")]
async fn watch_says_a_revoked_privilege_and_recovers_by_itself() {
    let (_roles, db, role, url) = watched_as_a_role().await;
    let watched = Watched::start(&["--url", &url, "--interval", "0.5"], &[]);
    let not_resolved = |alert: &serde_json::Value| {
        assert_ne!(
            alert["event"], "resolved",
            "nothing resolves while it fails: {alert}"
        )
    };
    watched.alerts.next("new");
    watched.metrics_until("the orphan counted", |m| m.orphans() == Some(1.0));
    db.exec(&format!("REVOKE SELECT ON child FROM \"{role}\""))
        .await;
    let failed = watched.alerts.next_where("check_failed", not_resolved);
    assert!(
        failed["message"].as_str().unwrap().contains("SELECT"),
        "what the role needs is said: {failed}"
    );
    let during = watched.failing("orphans");
    assert_eq!(
        during.orphans(),
        None,
        "an unknown count is absent: {during}"
    );
    db.exec(&format!("GRANT SELECT ON child TO \"{role}\""))
        .await;
    let resolved = watched.alerts.next("resolved");
    assert_eq!(resolved["key"], failed["key"], "{resolved}");
    watched.not_failing("the orphan counted again", |m| m.orphans() == Some(1.0));
    watched.stop();
    no_session_left(&common::pg_admin_url(), &db.name()).await;
}

/// Waits until no session of tether's is left on `database` of the server
/// `admin_url` connects to (at most 10 s): a watch that stopped leaves
/// nothing behind, whatever fault it met.
async fn no_session_left(admin_url: &str, database: &str) {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(admin_url).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = $1 AND application_name = 'tether'",
        )
        .bind(database)
        .fetch_one(&mut admin)
        .await
        .unwrap();
        if left == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{left} tether sessions left on {database}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `tether watch` with `args`, its alerts on a pipe and its stderr dropped.
fn watch(args: &[&str]) -> Child {
    bin()
        .arg("watch")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The JSON lines `tether watch` prints, read as they come, and all it
/// printed.
struct Alerts {
    rx: mpsc::Receiver<serde_json::Value>,
    text: Arc<Mutex<String>>,
}

impl Alerts {
    /// Reads `child`'s stdout on a thread of its own.
    fn of(child: &mut Child) -> Alerts {
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<serde_json::Value>();
        let text = Arc::new(Mutex::new(String::new()));
        let kept = text.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let alert = serde_json::from_str(&line).unwrap();
                kept.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = tx.send(alert);
            }
        });
        Alerts { rx, text }
    }

    /// The next alert of kind `event`, skipping others; none in 40 s fails.
    fn next(&self, event: &str) -> serde_json::Value {
        self.next_where(event, |_| {})
    }

    /// Like `next`, with `each` looking at every alert on the way.
    fn next_where(&self, event: &str, each: impl Fn(&serde_json::Value)) -> serde_json::Value {
        loop {
            let alert = self
                .rx
                .recv_timeout(Duration::from_secs(40))
                .unwrap_or_else(|_| panic!("no {event} event"));
            each(&alert);
            if alert["event"] == event {
                return alert;
            }
        }
    }

    /// The alerts not read yet, once the output has ended; and all of it.
    fn rest(&self) -> (Vec<serde_json::Value>, String) {
        let mut rest = Vec::new();
        while let Ok(alert) = self.rx.recv_timeout(Duration::from_secs(10)) {
            rest.push(alert);
        }
        (rest, self.text.lock().unwrap().clone())
    }
}

/// A statement that outlives `--timeout` under `watch`: one `check_failed`
/// event saying it timed out, nothing falsely resolved; once it is fast
/// again, the failure resolves.
#[tokio::test(flavor = "multi_thread")]
async fn watch_says_a_statement_timeout_and_recovers_by_itself() {
    let db = TestDb::postgres().await;
    db.exec("CREATE TABLE ctl (s float8); INSERT INTO ctl VALUES (0);")
        .await;
    let profile = tempfile::NamedTempFile::with_suffix(".toml").unwrap();
    std::fs::write(
        profile.path(),
        "[[assertion]]\nname = \"sleeps\"\n\
         sql = \"SELECT 1 FROM ctl WHERE CAST(pg_sleep(ctl.s) AS text) = 'never'\"\n",
    )
    .unwrap();
    let watched = Watched::start(
        &[
            "--url",
            &db.url,
            "--profile",
            profile.path().to_str().unwrap(),
            "--interval",
            "0.5",
            "--timeout",
            "1",
        ],
        &[],
    );
    std::thread::sleep(Duration::from_secs(2));
    db.exec("UPDATE ctl SET s = 3").await;
    let failed = watched.alerts.next("check_failed");
    assert!(
        failed["message"].as_str().unwrap().contains("timed out"),
        "{failed}"
    );
    // An assertion has no count gauge of its own: only its failure shows.
    watched.failing("custom");
    db.exec("UPDATE ctl SET s = 0").await;
    let resolved = watched.alerts.next("resolved");
    assert_eq!(resolved["key"], failed["key"], "{resolved}");
    watched.not_failing("the assertion run again", |_| true);
    watched.stop();
    no_session_left(&common::pg_admin_url(), &db.name()).await;
}

/// Now, in seconds since the Unix epoch (what the metrics' timestamps are).
fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// A running `tether watch` that serves metrics on a free port.
struct Watched {
    /// None once stopped.
    child: Option<Child>,
    alerts: Alerts,
    addr: String,
    stderr: Option<std::thread::JoinHandle<String>>,
}

/// What a stopped `tether watch` printed.
struct Ended {
    /// The alerts not read before it stopped.
    rest: Vec<serde_json::Value>,
    stdout: String,
    stderr: String,
}

impl Watched {
    /// `tether watch` with `args`, `--metrics-addr 127.0.0.1:0` and `env`.
    fn start(args: &[&str], env: &[(&str, &str)]) -> Watched {
        let mut child = bin()
            .arg("watch")
            .args(args)
            .args(["--metrics-addr", "127.0.0.1:0"])
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (addr, stderr) = serving(&mut child);
        let alerts = Alerts::of(&mut child);
        Watched {
            child: Some(child),
            alerts,
            addr,
            stderr: Some(stderr),
        }
    }

    /// Scrapes `/metrics` until `ready` holds; 30 s without fails, naming
    /// `what` was awaited.
    fn metrics_until(&self, what: &str, ready: impl Fn(&Metrics) -> bool) -> Metrics {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let metrics = Metrics::of(&self.addr);
            if ready(&metrics) {
                return metrics;
            }
            assert!(Instant::now() < deadline, "never {what}: {metrics}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// While a check of kind `kind` fails on a server that answers: its
    /// failure is counted, `tether_up` stays 1, and the findings of its kind
    /// are unknown (absent), not the smaller number of the checks that ran.
    fn failing(&self, kind: &str) -> Metrics {
        let during = self.metrics_until("check_failed 1", |m| m.check_failed() == Some(1.0));
        assert_eq!(during.up(), Some(1.0), "the server answers: {during}");
        assert!(
            during
                .values("tether_findings", &[("check", kind)])
                .is_empty(),
            "{kind} findings are unknown while one fails: {during}"
        );
        during
    }

    /// Once the check runs again: no failure counted, and `ready` holds.
    fn not_failing(&self, what: &str, ready: impl Fn(&Metrics) -> bool) -> Metrics {
        let after = self.metrics_until(what, |m| m.check_failed() == Some(0.0) && ready(m));
        assert_eq!(after.up(), Some(1.0), "{after}");
        after
    }

    /// Stops it with SIGTERM, which it exits 0 on; what it printed.
    fn stop(mut self) -> Ended {
        let child = self.child.take().unwrap();
        assert_eq!(terminate(child), Some(0));
        let (rest, stdout) = self.alerts.rest();
        let stderr = self.stderr.take().unwrap().join().unwrap();
        Ended {
            rest,
            stdout,
            stderr,
        }
    }
}

impl Drop for Watched {
    /// A test that failed leaves no watch running.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One scrape of a metrics endpoint.
struct Metrics {
    text: String,
    samples: Vec<prometheus_parse::Sample>,
}

impl std::fmt::Display for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Metrics {
    fn of(addr: &str) -> Metrics {
        let response = http_get(addr, "/metrics");
        assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
        let text = response.split_once("\r\n\r\n").unwrap().1.to_string();
        let lines = text.lines().map(|l| Ok(l.to_string()));
        let samples = prometheus_parse::Scrape::parse(lines).unwrap().samples;
        Metrics { text, samples }
    }

    /// The values of `name`'s samples with `labels` (and maybe others).
    fn values(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        let matches = |s: &&prometheus_parse::Sample| {
            s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))
        };
        let value = |s: &prometheus_parse::Sample| match s.value {
            prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("{name}: {other:?}"),
        };
        self.samples.iter().filter(matches).map(value).collect()
    }

    /// The one sample of `name` with `labels`; None when there is none.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let values = self.values(name, labels);
        assert!(values.len() <= 1, "one {name} {labels:?}: {self}");
        values.first().copied()
    }

    /// `name`'s samples, as written.
    fn samples_of(&self, name: &str) -> Vec<&str> {
        let prefix = [format!("{name} "), format!("{name}{{")];
        let mut lines: Vec<&str> = self
            .text
            .lines()
            .filter(|l| prefix.iter().any(|p| l.starts_with(p.as_str())))
            .collect();
        lines.sort_unstable();
        lines
    }

    fn up(&self) -> Option<f64> {
        self.value("tether_up", &[])
    }

    fn last_success(&self) -> f64 {
        self.value("tether_last_success_timestamp_seconds", &[])
            .unwrap_or_else(|| panic!("no last success: {self}"))
    }

    /// Failed checks of the last run, at every severity.
    fn check_failed(&self) -> Option<f64> {
        let values = self.values("tether_findings", &[("check", "check_failed")]);
        (!values.is_empty()).then(|| values.iter().sum())
    }

    /// The orphans of `child(parent_id) → parent(id)`.
    fn orphans(&self) -> Option<f64> {
        self.value(
            "tether_orphans",
            &[
                ("child_table", "child"),
                ("child_columns", "parent_id"),
                ("parent_table", "parent"),
                ("parent_columns", "id"),
            ],
        )
    }
}

// ---------------------------------------------------------------------------
// A server of the test's own: stopped and started, its passwords changed

/// A private server with the database `watched`: `parent`, `child` and one
/// orphan (a child row whose parent does not exist; no constraint).
fn watched_server(options: Options) -> PrivatePg {
    let pg = PrivatePg::start(options);
    pg.psql("CREATE DATABASE watched");
    pg.psql_in(
        "watched",
        "CREATE TABLE parent (id int PRIMARY KEY); \
         CREATE TABLE child (id int PRIMARY KEY, parent_id int); \
         INSERT INTO child VALUES (1, 7);",
    );
    pg
}

/// The server stops under `watch` (a clean shutdown): one `unreachable`
/// event naming the refused connection, `tether_up 0` with the last counts
/// kept; started again, one `recovered` event, `tether_up 1`, and a run
/// that succeeded after the restart — without restarting watch.
#[tokio::test(flavor = "multi_thread")]
async fn watch_says_a_stopped_server_and_recovers_when_it_starts() {
    let pg = watched_server(Options::default());
    let watched = Watched::start(&["--url", &pg.url("watched"), "--interval", "0.5"], &[]);
    watched.alerts.next("new");
    watched.metrics_until("the orphan counted", |m| m.orphans() == Some(1.0));
    pg.stop();
    let down = watched.alerts.next("unreachable");
    let cause = down["cause"].as_str().unwrap();
    assert!(cause.contains("Connection refused"), "a refusal: {down}");
    assert!(!cause.contains("no answer within"), "not silence: {down}");
    let during = watched.metrics_until("tether_up 0", |m| m.up() == Some(0.0));
    assert_eq!(
        during.orphans(),
        Some(1.0),
        "the last count stays: {during}"
    );

    let restarted_at = unix_now();
    pg.start_again();
    let once = |alert: &serde_json::Value| {
        assert_ne!(alert["event"], "unreachable", "said once: {alert}");
    };
    let back = watched.alerts.next_where("recovered", once);
    assert!(back["duration_s"].as_f64().unwrap() > 0.0, "{back}");
    let after = watched.metrics_until("a run after the restart", |m| {
        m.up() == Some(1.0) && m.last_success() > restarted_at
    });
    assert_eq!(after.orphans(), Some(1.0), "{after}");
    let ended = watched.stop();
    ended.rest.iter().for_each(once);
    no_session_left(&pg.url("postgres"), "watched").await;
}

const FIRST_SECRET: &str = "first-secret";
const SECOND_SECRET: &str = "second-secret";

/// A watched server where `watcher` must give its password over TCP
/// (`postgres` need not), `FIRST_SECRET`, written in a password file: the
/// server, the file's directory and the file.
async fn password_server() -> (PrivatePg, tempfile::TempDir, std::path::PathBuf) {
    let pg = watched_server(Options {
        hba: "local all all trust\n\
              host all postgres 127.0.0.1/32 trust\n\
              host all all 127.0.0.1/32 scram-sha-256\n"
            .into(),
        ..Options::default()
    });
    as_admin(
        &pg,
        &format!("CREATE ROLE watcher LOGIN PASSWORD '{FIRST_SECRET}'"),
    )
    .await;
    pg.psql_in("watched", "GRANT SELECT ON parent, child TO watcher");
    let dir = tempfile::tempdir().unwrap();
    let passfile = dir.path().join("pgpass");
    write_passfile(&passfile, &pg, FIRST_SECRET);
    (pg, dir, passfile)
}

/// Runs `sql` on the private server as `postgres`; a failure is said
/// without the statement, which may hold a password.
async fn as_admin(pg: &PrivatePg, sql: &str) {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&pg.url("postgres"))
        .await
        .unwrap();
    if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut admin)
        .await
    {
        panic!("an admin statement failed: {e}");
    }
    let _ = admin.close().await;
}

/// Writes `watcher`'s line of the password file as an operator rotating it
/// would: a new file, mode 0600, renamed over the old one.
fn write_passfile(path: &std::path::Path, pg: &PrivatePg, password: &str) {
    let new = path.with_extension("new");
    let line = format!("127.0.0.1:{}:watched:watcher:{password}\n", pg.port());
    std::fs::write(&new, line).unwrap();
    common::pg::set_mode(&new, 0o600);
    std::fs::rename(&new, path).unwrap();
}

/// How the password `watch` gives becomes right again.
enum Recovery {
    /// The role's password is set back to the one in the file.
    PasswordBack,
    /// The file is rewritten with the role's new password.
    FileRotated,
}

/// `watcher`'s password changes under `watch` (and its sessions end): one
/// `unreachable` event saying the password failed, `tether_up 0` with the
/// last count kept; after `recovery`, one `recovered` and `tether_up 1`.
/// Neither password is ever printed.
async fn a_password_change(recovery: Recovery) {
    let (pg, _dir, passfile) = password_server().await;
    let watched = Watched::start(
        &[
            "--url",
            &pg.url_as("watched", "watcher"),
            "--interval",
            "0.5",
        ],
        &[("PGPASSFILE", passfile.to_str().unwrap())],
    );
    watched.alerts.next("new");
    watched.metrics_until("the orphan counted", |m| m.orphans() == Some(1.0));
    let change = format!("ALTER ROLE watcher PASSWORD '{SECOND_SECRET}'");
    as_admin(&pg, &change).await;
    as_admin(
        &pg,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'watcher'",
    )
    .await;
    let down = watched.alerts.next("unreachable");
    let cause = down["cause"].as_str().unwrap();
    assert!(cause.contains("password authentication failed"), "{down}");
    assert!(
        cause.contains("(password retrieved from file"),
        "where the password came from, as libpq says: {down}"
    );
    let during = watched.metrics_until("tether_up 0", |m| m.up() == Some(0.0));
    assert_eq!(
        during.orphans(),
        Some(1.0),
        "the last count stays: {during}"
    );

    match recovery {
        Recovery::PasswordBack => {
            let back = format!("ALTER ROLE watcher PASSWORD '{FIRST_SECRET}'");
            as_admin(&pg, &back).await;
        }
        Recovery::FileRotated => write_passfile(&passfile, &pg, SECOND_SECRET),
    }
    let once = |alert: &serde_json::Value| {
        assert_ne!(alert["event"], "unreachable", "said once: {alert}");
    };
    let back = watched.alerts.next_where("recovered", once);
    assert!(back["duration_s"].as_f64().unwrap() > 0.0, "{back}");
    watched.metrics_until("tether_up 1", |m| m.up() == Some(1.0));
    let ended = watched.stop();
    ended.rest.iter().for_each(once);
    for secret in [FIRST_SECRET, SECOND_SECRET] {
        // Not the output itself: it would show what it must not.
        assert!(!ended.stdout.contains(secret), "stdout shows a password");
        assert!(!ended.stderr.contains(secret), "stderr shows a password");
    }
    no_session_left(&pg.url("postgres"), "watched").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_says_a_changed_password_and_recovers_when_it_is_back() {
    a_password_change(Recovery::PasswordBack).await;
}

/// libpq reads the password file on each connection: an operator rotates
/// the password by changing the role and then the file, and watch picks the
/// new one up without a restart.
#[tokio::test(flavor = "multi_thread")]
async fn watch_picks_up_a_rotated_password_from_the_password_file() {
    a_password_change(Recovery::FileRotated).await;
}
