//! Honest accounting: every statement tether sends to read data or the
//! catalog is listed in the JSON report's `statements`, counted here on the
//! server side.
//!
//! A private PostgreSQL (initdb as the `postgres` OS user into a temporary
//! directory, its own port) logs every statement it receives
//! (`log_statement = all`); the test counts what the server logged for one
//! `tether check` and compares it with what the report lists. Session and
//! transaction management (`BEGIN`, `SET …`, `SHOW …`, `COMMIT`, the
//! snapshot export and import that give every worker one view of the data,
//! each session's backend id, kept to cancel its query) is not a statement
//! of the run and is left out on both sides.

mod common;

use common::pg::{Options, PrivatePg};
use std::process::Command;

/// A private server that logs every statement, each line prefixed with its
/// database and application (`@@ db app @@ `).
fn logging_pg() -> PrivatePg {
    PrivatePg::start(Options {
        conf: vec![
            "log_statement = 'all'".into(),
            "log_line_prefix = '@@ %d %a @@ '".into(),
        ],
        ..Options::default()
    })
}

/// The statements the server logged for `database` in `log`: the text of each
/// (`statement: …` for the simple protocol, `execute …: …` for prepared ones).
fn logged(log: &str, database: &str) -> Vec<String> {
    let prefix = format!("@@ {database} ");
    let mut out: Vec<String> = Vec::new();
    for line in log.lines() {
        if let Some(rest) = line.strip_prefix(&prefix) {
            let Some((_, message)) = rest.split_once(" @@ ") else {
                continue;
            };
            if let Some(text) = message.strip_prefix("LOG:  statement: ") {
                out.push(text.to_string());
            } else if let Some(text) = message.strip_prefix("LOG:  execute ") {
                let text = text.split_once(": ").map_or(text, |(_, t)| t);
                out.push(text.to_string());
            }
        } else if !line.starts_with("@@ ")
            && let Some(last) = out.last_mut()
        {
            // A statement's further lines.
            last.push('\n');
            last.push_str(line);
        }
    }
    out
}

/// Session and transaction management, which is not a statement of the run.
fn is_session(statement: &str) -> bool {
    let s = statement.trim_start().to_ascii_uppercase();
    [
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SET ",
        "SHOW ",
        "START TRANSACTION",
        "SELECT PG_EXPORT_SNAPSHOT()",
        "SELECT PG_BACKEND_PID()",
    ]
    .iter()
    .any(|p| s.starts_with(p))
}

#[test]
fn every_statement_the_server_receives_is_listed() {
    let pg = logging_pg();
    let tether = env!("CARGO_BIN_EXE_tether");
    let out = Command::new(tether)
        .args(["demo", "--url", &pg.url("postgres"), "--scale", "2000"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "demo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = tempfile::NamedTempFile::new().unwrap();
    let before = pg.log().len();
    let out = Command::new(tether)
        .args(["check", "--url", &pg.url("postgres")])
        .args(["--profile", "discovery-flow", "--format", "json"])
        .args(["--fail-on", "never", "-o"])
        .arg(report.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "check: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The server writes its log as it goes; the check is over once tether exits.
    let log = pg.log();
    let sent: Vec<String> = logged(&log[before..], "postgres")
        .into_iter()
        .filter(|s| !is_session(s))
        .collect();

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.path()).unwrap()).unwrap();
    let listed = report["statements"].as_array().unwrap();
    let kinds = |kind: &str| listed.iter().filter(|s| s["kind"] == kind).count();
    assert!(
        kinds("catalog") >= 4,
        "catalog reads are listed: {listed:#?}"
    );
    assert!(kinds("pass") >= 5, "{listed:#?}");
    assert_eq!(
        sent.len(),
        listed.len(),
        "the server received {} statements, the report lists {}:\n{}\n---\n{listed:#?}",
        sent.len(),
        listed.len(),
        sent.join("\n;;\n")
    );
    // Samples come from the passes: no statement of its own per finding.
    assert!(
        !sent.iter().any(|s| s.contains("LIMIT 5")),
        "{}",
        sent.join("\n;;\n")
    );
    let total = report["statements_ms"].as_f64().unwrap();
    let sum: f64 = listed.iter().filter_map(|s| s["elapsed_ms"].as_f64()).sum();
    assert!((total - sum).abs() < 1.0, "{total} vs {sum}");
}
