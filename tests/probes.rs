//! Write probes on all three engines: what they catch, that they refuse a
//! read-only connection, and that the database is unchanged afterwards.

mod common;

use common::TestDb;
use std::process::Command;

const FIXTURE: &str = "CREATE TABLE parent (id INTEGER PRIMARY KEY, name VARCHAR(20));
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER, note VARCHAR(20),
  CONSTRAINT child_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE NO ACTION);
CREATE INDEX child_parent ON child (parent_id);
INSERT INTO parent VALUES (1, 'one'), (2, 'two');
INSERT INTO child VALUES (10, 1, 'a'), (11, 1, 'b'), (12, 2, 'c'), (13, NULL, 'd');";

const PROFILE: &str = "[[relationship]]\nchild = \"child\"\ncolumns = [\"parent_id\"]\nparent = \"parent\"\non_delete = \"cascade\"\n";

fn probe(url: &str, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p.toml");
    std::fs::write(&profile, PROFILE).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .env_remove("DATABASE_URL")
        .args([
            "check",
            "--url",
            url,
            "--profile",
            profile.to_str().unwrap(),
            "--format",
            "json",
            "--probe",
        ])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), json, stderr)
}

/// Probe findings as (check, message).
fn probed(json: &serde_json::Value) -> Vec<(String, String)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["key"].as_str().unwrap().contains(":probe:"))
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Every row of both tables, in order, as text: equal before and after means unchanged.
async fn contents(db: &TestDb) -> String {
    use sqlx::Connection;
    let query = "SELECT 'p' || ':' || id || ':' || name AS r FROM parent
                 UNION ALL SELECT 'c' || ':' || id || ':' || COALESCE(CAST(parent_id AS CHAR(12)), '-') || ':' || note FROM child
                 ORDER BY r";
    if db.is_postgres() {
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let rows: Vec<String> = sqlx::query_scalar(query)
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let sum: String = sqlx::query_scalar(
            "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) || md5(string_agg(p::text, ',' ORDER BY p::text))
             FROM child t, (SELECT * FROM parent) p",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        format!("{rows:?} {sum}")
    } else if db.is_mysql() {
        let mut conn = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT CONCAT('p:', id, ':', name) AS r FROM parent
             UNION ALL SELECT CONCAT('c:', id, ':', COALESCE(parent_id, '-'), ':', note) FROM child ORDER BY r",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        use sqlx::Row;
        let sums: Vec<String> = sqlx::query("CHECKSUM TABLE parent, child")
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| format!("{:?}", r.try_get::<Option<i64>, _>(1).ok()))
            .collect();
        format!("{rows:?} {sums:?}")
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        let rows: Vec<String> = sqlx::query_scalar(query)
            .fetch_all(&mut conn)
            .await
            .unwrap();
        format!("{rows:?}")
    }
}

async fn run(db: TestDb, extra: &[&str]) -> (Vec<(String, String)>, String) {
    db.exec(FIXTURE).await;
    let before = contents(&db).await;
    let url = db.url.clone();
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let (code, json, stderr) = tokio::task::spawn_blocking(move || {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        probe(&url, &extra)
    })
    .await
    .unwrap();
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        contents(&db).await,
        before,
        "the probes changed the database"
    );
    (probed(&json), stderr)
}

const REFUSED: &str =
    "probe: child_parent_id_fkey accepted a row that references no parent (rolled back)";

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_with_foreign_keys_off_is_caught() {
    let (found, _) = run(TestDb::sqlite(), &[]).await;
    assert_eq!(
        found,
        vec![
            ("fk_delete_rule".to_string(), "probe: deleting a parent row with children: its children stayed, referencing a parent that is gone; the profile expects cascade (rolled back)".to_string()),
            ("fk_not_enforced".to_string(), REFUSED.to_string()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_with_foreign_keys_on_enforces() {
    let (found, _) = run(TestDb::sqlite(), &["--sqlite-foreign-keys", "on"]).await;
    assert_eq!(found, vec![("fk_delete_rule".to_string(), prevented())]);
}

fn prevented() -> String {
    "probe: deleting a parent row with children: the delete was refused (restrict / no action); the profile expects cascade (rolled back)".to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_no_action_where_the_profile_says_cascade() {
    let (found, _) = run(TestDb::postgres().await, &[]).await;
    assert_eq!(found, vec![("fk_delete_rule".to_string(), prevented())]);
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_no_action_where_the_profile_says_cascade() {
    let (found, _) = run(TestDb::mysql().await, &[]).await;
    assert_eq!(found, vec![("fk_delete_rule".to_string(), prevented())]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_connection_is_refused() {
    let db = TestDb::postgres().await;
    db.exec(FIXTURE).await;
    let name = db.name();
    db.exec(&format!(
        "ALTER DATABASE \"{name}\" SET default_transaction_read_only = on"
    ))
    .await;
    let url = db.url.clone();
    let (code, _, stderr) = tokio::task::spawn_blocking(move || probe(&url, &[]))
        .await
        .unwrap();
    assert_eq!(code, 2);
    assert!(
        stderr.contains("probes write (and roll back), but PostgreSQL at")
            && stderr.contains("is read-only"),
        "{stderr}"
    );
}
