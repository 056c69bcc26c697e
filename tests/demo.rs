//! `tether demo` then `tether check --profile discovery-flow` reports exactly the
//! documented faults, and no check that could not run, on PostgreSQL, MariaDB
//! and SQLite; `--force` replaces
//! only the demo's own tables, and refuses when other objects depend on them.

mod common;

use assert_cmd::Command;
use common::TestDb;
use std::collections::BTreeSet;
use tether::checks::CheckId;
use tether::model::Engine;

fn tether() -> Command {
    let mut cmd = Command::cargo_bin("tether").unwrap();
    cmd.env_remove("DATABASE_URL").env("NO_COLOR", "1");
    cmd
}

fn demo(url: &str, scale: u64, force: bool) -> (i32, String, String) {
    let mut cmd = tether();
    cmd.args(["demo", "--url", url, "--scale", &scale.to_string()]);
    if force {
        cmd.arg("--force");
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn check_json(url: &str) -> serde_json::Value {
    let out = tether()
        .args([
            "check",
            "--url",
            url,
            "--profile",
            "discovery-flow",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (check, location, count) of every finding, as in `tether::demo::expected`.
fn findings(json: &serde_json::Value) -> BTreeSet<(String, String, Option<u64>)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let finding = Finding::from_json(f);
            (finding.check, finding.location, finding.count)
        })
        .collect()
}

/// The parts of a JSON finding the comparison needs.
struct Finding;

struct Parsed {
    check: String,
    location: String,
    count: Option<u64>,
}

impl Finding {
    fn from_json(f: &serde_json::Value) -> Parsed {
        let s = |k: &str| f.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let list = |k: &str| {
            f.get(k).and_then(|v| v.as_array()).map(|a| {
                a.iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
        };
        let location = match (
            s("child_table"),
            list("child_columns"),
            s("parent_table"),
            list("parent_columns"),
        ) {
            (Some(c), Some(cc), Some(p), Some(pc)) => {
                let arrow = format!("{c}({cc}) → {p}({pc})");
                match s("column") {
                    Some(col) => format!("{arrow} [{col}]"),
                    None => arrow,
                }
            }
            _ => match (s("table"), s("column"), s("name")) {
                (Some(t), Some(c), _) => format!("{t}.{c}"),
                (Some(t), None, Some(n)) => format!("{t}: {n}"),
                (Some(t), None, None) => t,
                (None, _, Some(n)) => n,
                _ => String::new(),
            },
        };
        Parsed {
            check: s("check").unwrap(),
            location,
            count: f.get("count").and_then(|c| c.as_u64()),
        }
    }
}

fn expected(scale: u64, engine: Engine) -> BTreeSet<(String, String, Option<u64>)> {
    tether::demo::expected(scale, engine)
        .into_iter()
        .filter(|f| !f.timing)
        .map(|f| (f.check.as_str().to_string(), f.location, f.count))
        .collect()
}

fn assert_documented_faults(json: &serde_json::Value, scale: u64, engine: Engine) {
    // Every check of the bundled profile runs on the demo: nothing could not run.
    let failed: Vec<&serde_json::Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "check_failed")
        .collect();
    assert!(failed.is_empty(), "checks that could not run: {failed:#?}");
    let mut found = findings(json);
    // Latency depends on the machine: at the default scale the planted slow_check
    // (a 1 ms budget) must be there; any other is reported but not compared.
    let slow: Vec<_> = found
        .iter()
        .filter(|f| f.0 == "slow_check")
        .cloned()
        .collect();
    if scale >= 10_000 {
        assert!(
            slow.iter().any(|f| f.1 == "import_totals_match"),
            "the planted slow_check is missing: {slow:?}"
        );
        let ids: BTreeSet<&str> = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["check"].as_str().unwrap())
            .collect();
        // InnoDB indexes every foreign key: MySQL has no unindexed one. Every
        // check runs, so none is check_failed.
        for id in CheckId::ALL.into_iter().filter(|id| {
            *id != CheckId::CheckFailed && !(engine == Engine::Mysql && *id == CheckId::FkUnindexed)
        }) {
            assert!(ids.contains(id.as_str()), "no {id} finding");
        }
    }
    found.retain(|f| f.0 != "slow_check");
    assert_eq!(found, expected(scale, engine));
    demo_story_is_told(json);
    // The metric query ran: four flow types, each with counts.
    let metric = &json["metrics"][0];
    assert_eq!(metric["name"], "flow_metrics");
    assert_eq!(metric["rows"].as_array().unwrap().len(), 4, "{metric}");
}

/// A finding's breakdown by `column`.
fn breakdown<'f>(finding: &'f serde_json::Value, column: &str) -> &'f serde_json::Value {
    finding["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["column"] == column)
        .unwrap_or_else(|| panic!("by {column}: {finding}"))
}

/// The demo's orphans tell a story: the orphaned assets were written in one
/// hour, 2026-03-14 02:00 UTC, and one client holds most of them (the
/// burst's first two thirds); they are grouped by their master flow's type
/// too, and the demo's assertion says when and whose as well.
fn demo_story_is_told(json: &serde_json::Value) {
    let findings = json["findings"].as_array().unwrap();
    let orphans = findings
        .iter()
        .find(|f| f["check"] == "orphans" && f["child_table"] == "assets")
        .expect("the orphaned assets");
    let rows = orphans["count"].as_u64().unwrap();
    assert!(
        orphans["first_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-14 02:")
    );
    assert!(
        orphans["last_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-14 02:")
    );
    assert_eq!(orphans["timeline"]["unit"], "minute");
    let by = |column: &str| breakdown(orphans, column);
    let clients = by("client_account_id");
    let hardest = clients["top"][0][1].as_u64().unwrap();
    assert!(3 * hardest >= 2 * rows, "one client holds most: {clients}");
    assert!(by("master_flow_id.flow_type")["groups"].as_u64().unwrap() >= 1);
    // The raw records whose master flow was deleted have none to say their
    // flow's type; their import's master flow, two references away, does.
    let raw = findings
        .iter()
        .find(|f| f["check"] == "orphans" && f["child_table"] == "raw_import_records")
        .expect("the orphaned raw records");
    let types = |column: &str| breakdown(raw, column)["top"].as_array().unwrap().clone();
    let direct = types("master_flow_id.flow_type");
    assert_eq!(direct.len(), 1, "{direct:?}");
    assert!(direct[0][0].is_null(), "{direct:?}");
    let through_import = types("data_import_id.master_flow_id.flow_type");
    assert!(
        !through_import.is_empty() && through_import.iter().all(|g| g[0].is_string()),
        "{through_import:?}"
    );
    let custom = findings
        .iter()
        .find(|f| f["key"] == "custom:completed_flow_with_running_discovery")
        .expect("the demo's assertion");
    assert_eq!(custom["timeline"]["column"], "created_at", "{custom}");
    assert_eq!(custom["breakdown"][2]["column"], "flow_type", "{custom}");
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_demo_reports_exactly_the_documented_faults() {
    let db = TestDb::postgres().await;
    let url = db.url.clone();
    let json = tokio::task::spawn_blocking(move || {
        let (code, out, err) = demo(&url, 10_000, false);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains("assets") && out.contains("10,000 rows"),
            "{out}"
        );
        check_json(&url)
    })
    .await
    .unwrap();
    assert_eq!(json["database"]["engine"], "postgres");
    assert_eq!(json["consistent_snapshot"], true);
    assert_documented_faults(&json, 10_000, Engine::Postgres);
    // The catalog reason for PostgreSQL: NOT VALID.
    let unenforced = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "fk_not_enforced")
        .unwrap();
    assert!(
        unenforced["message"]
            .as_str()
            .unwrap()
            .contains("NOT VALID"),
        "{unenforced}"
    );

    // A second run refuses the non-empty database, and --force replaces the demo.
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || {
        let (code, _, err) = demo(&url, 500, false);
        assert_eq!(code, 2);
        assert!(
            err.contains("is not empty") && err.contains("--force"),
            "{err}"
        );
        let (code, _, err) = demo(&url, 500, true);
        assert_eq!(code, 0, "{err}");
        assert_documented_faults(&check_json(&url), 500, Engine::Postgres);
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_demo_reports_exactly_the_documented_faults() {
    let db = TestDb::mysql().await;
    let url = db.url.clone();
    let json = tokio::task::spawn_blocking(move || {
        let (code, _, err) = demo(&url, 10_000, false);
        assert_eq!(code, 0, "{err}");
        check_json(&url)
    })
    .await
    .unwrap();
    assert_eq!(json["database"]["engine"], "mysql");
    assert_documented_faults(&json, 10_000, Engine::Mysql);
    let unenforced = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "fk_not_enforced")
        .unwrap();
    assert_eq!(
        unenforced["count"], 30,
        "proven by the orphans: {unenforced}"
    );
}

#[test]
fn sqlite_demo_reports_exactly_the_documented_faults() {
    let db = TestDb::sqlite();
    let (code, _, err) = demo(&db.url, 10_000, false);
    assert_eq!(code, 0, "{err}");
    let json = check_json(&db.url);
    assert_eq!(json["database"]["engine"], "sqlite");
    assert_documented_faults(&json, 10_000, Engine::Sqlite);
    let unenforced = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "fk_not_enforced")
        .unwrap();
    assert_eq!(
        unenforced["count"], 30,
        "proven by the orphans: {unenforced}"
    );
}

#[test]
fn check_without_a_url_creates_the_demo_and_shows_every_check() {
    let home = tempfile::tempdir().unwrap();
    let out = tether()
        .arg("check")
        .env("XDG_DATA_HOME", home.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("creating the demo database at"), "{stderr}");
    assert!(home.path().join("tether/demo.sqlite").exists());
    for id in CheckId::ALL {
        if id == CheckId::CheckFailed {
            assert!(
                !stdout.contains(id.as_str()),
                "a check could not run:\n{stdout}"
            );
        } else {
            assert!(stdout.contains(id.as_str()), "{id} missing from:\n{stdout}");
        }
    }
    // The second run reuses it.
    let out = tether()
        .arg("check")
        .env("XDG_DATA_HOME", home.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("using the demo database"));
}

/// A count from the test's own connection.
async fn count(db: &TestDb, sql: &str) -> i64 {
    use sqlx::{AssertSqlSafe, Connection};
    let sql = AssertSqlSafe(sql.to_string());
    if db.is_postgres() {
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
    } else if db.is_mysql() {
        let mut conn = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
    }
}

async fn demo_in_thread(url: &str, scale: u64, force: bool) -> (i32, String, String) {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || demo(&url, scale, force))
        .await
        .unwrap()
}

/// `--force` replaces only the demo's own tables. A user's view of a demo
/// table and a user's table with a foreign key to one make it refuse, naming
/// them, with nothing dropped; without them it replaces the demo, and the
/// user's other tables stay.
async fn force_replaces_only_the_demo(db: TestDb, note_key_type: &str, engine_suffix: &str) {
    let (code, _, err) = demo_in_thread(&db.url, 100, false).await;
    assert_eq!(code, 0, "{err}");
    db.exec(&format!(
        "CREATE TABLE keep (id INT PRIMARY KEY){engine_suffix};
         INSERT INTO keep VALUES (1);
         CREATE VIEW asset_names AS SELECT id, name FROM assets;
         CREATE TABLE asset_notes (id INT PRIMARY KEY, asset_id {note_key_type},
           CONSTRAINT asset_notes_asset_fkey FOREIGN KEY (asset_id) REFERENCES assets (id)){engine_suffix};
         INSERT INTO asset_notes SELECT 1, id FROM assets ORDER BY id LIMIT 1;"
    ))
    .await;

    let (code, out, err) = demo_in_thread(&db.url, 200, true).await;
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("cannot be replaced: other objects depend on them")
            && err.contains("view asset_names (on assets)")
            && err.contains("asset_notes")
            && err.contains("nothing was dropped"),
        "{err}"
    );
    // Nothing was dropped: the user's objects and the demo are as they were.
    assert_eq!(count(&db, "SELECT count(*) FROM asset_names").await, 100);
    assert_eq!(count(&db, "SELECT count(*) FROM asset_notes").await, 1);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM asset_notes n JOIN assets a ON a.id = n.asset_id"
        )
        .await,
        1
    );

    db.exec("DROP VIEW asset_names; DROP TABLE asset_notes;")
        .await;
    let (code, _, err) = demo_in_thread(&db.url, 200, true).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(count(&db, "SELECT count(*) FROM assets").await, 200);
    assert_eq!(count(&db, "SELECT count(*) FROM keep").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_force_replaces_only_the_demo() {
    force_replaces_only_the_demo(TestDb::postgres().await, "uuid", "").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_force_replaces_only_the_demo() {
    force_replaces_only_the_demo(TestDb::mysql().await, "CHAR(36)", " ENGINE=InnoDB").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_force_replaces_only_the_demo() {
    force_replaces_only_the_demo(TestDb::sqlite(), "TEXT", "").await;
}

/// A profile holding only the bundled profile's `flow_state_names_its_flow`
/// assertion, exactly as shipped.
fn flow_state_profile(dir: &std::path::Path) -> String {
    let bundled: toml::Table =
        toml::from_str(include_str!("../assets/profiles/discovery-flow.toml")).unwrap();
    let assertion = bundled["assertion"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"].as_str() == Some("flow_state_names_its_flow"))
        .unwrap()
        .clone();
    let mut profile = toml::Table::new();
    profile.insert("name".into(), "flow-states".into());
    profile.insert("assertion".into(), toml::Value::Array(vec![assertion]));
    let path = dir.join("flow-states.toml");
    std::fs::write(&path, toml::to_string(&profile).unwrap()).unwrap();
    path.display().to_string()
}

/// Flow states a person might find: (state, whether the assertion reports it).
const FLOW_STATES: &[(Option<&str>, bool)] = &[
    (Some(r#"{"flow_id": "f1"}"#), false),
    (
        Some(r#"{"flow_id":"f2","phase":"x","n":-1.5e3,"ok":true,"none":null}"#),
        false,
    ),
    (
        Some(r#"{"flow_id": "f3", "steps": [1, {"at": [null, "a\"b"]}], "meta": {}}"#),
        false,
    ),
    (Some(r#"{"flow_id": "caf\u00e9 \ud83d\ude00"}"#), false),
    (Some(r#"{"phase": "data_import"}"#), true),
    (Some(r#"{"flow_id": null}"#), true),
    (Some(r#"["flow_id", "f4"]"#), true),
    (Some(r#"{"flow_id": "f5", "phase": "data_imp"#), true),
    (Some(r#"{"flow_id": "f6",}"#), true),
    (Some(r#"{"flow_id": "f7"} trailing"#), true),
    (Some(""), true),
    (None, false),
];

/// The bundled assertion on each engine: every state that is not valid JSON,
/// or names no flow, is counted; none makes the query fail.
async fn flow_states_are_counted(db: TestDb) {
    let mut script = String::from(
        "CREATE TABLE crewai_flow_state_extensions (id INT PRIMARY KEY, flow_persistence_data TEXT);\n",
    );
    for (i, (state, _)) in FLOW_STATES.iter().enumerate() {
        let value = match state {
            None => "NULL".to_string(),
            // MySQL reads a backslash in a string literal as an escape.
            Some(s) if db.is_mysql() => {
                format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
            }
            Some(s) => format!("'{}'", s.replace('\'', "''")),
        };
        script.push_str(&format!(
            "INSERT INTO crewai_flow_state_extensions VALUES ({i}, {value});\n"
        ));
    }
    db.exec(&script).await;
    let dir = tempfile::tempdir().unwrap();
    let profile = flow_state_profile(dir.path());
    let url = db.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        tether()
            .args([
                "check",
                "--url",
                &url,
                "--profile",
                &profile,
                "--format",
                "json",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let finding = &findings[0];
    assert_eq!(finding["check"], "custom", "{finding:#}");
    let expected = FLOW_STATES.iter().filter(|(_, reported)| *reported).count();
    assert_eq!(finding["count"], expected, "{finding:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_flow_states_that_are_not_json_are_counted() {
    flow_states_are_counted(TestDb::postgres().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_flow_states_that_are_not_json_are_counted() {
    flow_states_are_counted(TestDb::mysql().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_flow_states_that_are_not_json_are_counted() {
    flow_states_are_counted(TestDb::sqlite()).await;
}
