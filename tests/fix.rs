//! `tether fix` on PostgreSQL, SQLite and MariaDB databases with known orphans:
//! the preview counts what `check` counts, apply leaves no orphan and changes
//! only the rows it backed up, restore puts them back; a concurrent change
//! aborts an apply; a killed apply changes nothing.

mod common;

use common::TestDb;
use std::collections::BTreeMap;
use std::sync::Arc;
use tether::checks::plan::{Plan, PlanOptions};
use tether::db::{Db, SessionOptions};
use tether::fix::{self, ApplyOptions, FixOptions};
use tether::profile::Profile;

/// Orphans in `child` (5, two of which have grandchildren: 3 rows), tenant gaps
/// and a mismatch, and orphans in `note` whose intended rule is set null.
fn fixture(engine: &str) -> String {
    let text = if engine == "mysql" {
        "VARCHAR(20)"
    } else {
        "TEXT"
    };
    format!(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, tenant {text});
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER, tenant {text});
CREATE TABLE grandchild (id INTEGER PRIMARY KEY, child_id INTEGER,
  CONSTRAINT grandchild_child_id_fkey FOREIGN KEY (child_id) REFERENCES child (id) ON DELETE CASCADE);
CREATE TABLE note (id INTEGER PRIMARY KEY, parent_id INTEGER, body {text});
INSERT INTO parent VALUES (1, 'a'), (2, 'b'), (3, 'a');
INSERT INTO child VALUES (10, 1, 'a'), (11, 2, 'b'), (12, 3, NULL), (13, 1, 'b'), (14, NULL, 'a'),
  (20, 91, 'a'), (21, 92, 'a'), (22, 93, 'b'), (23, 94, 'a'), (24, 95, 'b');
INSERT INTO grandchild VALUES (100, 10), (101, 20), (102, 20), (103, 21), (104, 11);
INSERT INTO note VALUES (1, 1, 'x'), (2, 99, 'y'), (3, 98, 'z'), (4, NULL, 'w');"
    )
}

const PROFILE: &str = "[tenant]\ncolumns = [\"tenant\"]\n\n\
[[relationship]]\nchild = \"child\"\ncolumns = [\"parent_id\"]\nparent = \"parent\"\non_delete = \"cascade\"\n\n\
[[relationship]]\nchild = \"note\"\ncolumns = [\"parent_id\"]\nparent = \"parent\"\non_delete = \"set_null\"\n";

/// Every row of every table, as text, by (table, id).
async fn dump(db: &TestDb) -> BTreeMap<(String, i64), String> {
    use sqlx::{Connection, Row};
    let queries = [
        (
            "parent",
            "SELECT id, CONCAT_WS('|', id, tenant) FROM parent",
        ),
        (
            "child",
            "SELECT id, CONCAT_WS('|', id, COALESCE(parent_id, -1), COALESCE(tenant, '-')) FROM child",
        ),
        (
            "grandchild",
            "SELECT id, CONCAT_WS('|', id, child_id) FROM grandchild",
        ),
        (
            "note",
            "SELECT id, CONCAT_WS('|', id, COALESCE(parent_id, -1), body) FROM note",
        ),
    ];
    let mut out = BTreeMap::new();
    for (table, query) in queries {
        let rows: Vec<(i64, String)> = if db.is_postgres() {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            let q = query.replace("SELECT id,", "SELECT CAST(id AS bigint),");
            sqlx::query(sqlx::AssertSqlSafe(q))
                .fetch_all(&mut c)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect()
        } else if db.is_mysql() {
            let mut c = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
            let q = query
                .replace(
                    "SELECT id, CONCAT_WS(",
                    "SELECT CAST(id AS SIGNED), CAST(CONCAT_WS(",
                )
                .replace(") FROM", ") AS CHAR) FROM");
            sqlx::query(sqlx::AssertSqlSafe(q))
                .fetch_all(&mut c)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect()
        } else {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            let q = query
                .replace("CONCAT_WS('|', ", "(")
                .replace(", ", " || '|' || ")
                .replace("SELECT id || '|' || ", "SELECT id, ")
                .replace(
                    "COALESCE(parent_id || '|' || -1)",
                    "COALESCE(parent_id, -1)",
                )
                .replace("COALESCE(tenant || '|' || '-')", "COALESCE(tenant, '-')");
            sqlx::query(sqlx::AssertSqlSafe(q))
                .fetch_all(&mut c)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect()
        };
        for (id, text) in rows {
            out.insert((table.to_string(), id), text);
        }
    }
    out
}

async fn open(db: &TestDb, read_only: bool) -> Db {
    Db::connect(
        &db.url,
        SessionOptions {
            read_only,
            connections: 2,
            transactional_writes: !read_only,
            ..SessionOptions::default()
        },
    )
    .await
    .unwrap()
}

async fn plan_of(db: &Db) -> Plan {
    let profile = Profile::parse(PROFILE, "fix.toml").unwrap();
    let schema = tether::catalog::read(db, &[]).await.unwrap();
    Plan::build(schema, Some(&profile), &PlanOptions::default())
}

async fn orphan_counts(url: &str) -> BTreeMap<String, Option<u64>> {
    let profile = Some(PROFILE);
    let (_, result) = common::check(url, profile, PlanOptions::default()).await;
    result
        .findings
        .iter()
        .filter(|f| f.check.as_str() == "orphans")
        .map(|f| (f.location(), f.count))
        .collect()
}

async fn round_trip(db: TestDb, engine: &str) {
    db.exec(&fixture(engine)).await;
    let before = dump(&db).await;
    assert_eq!(
        orphan_counts(&db.url).await,
        BTreeMap::from([
            ("child(parent_id) → parent(id)".to_string(), Some(5)),
            ("note(parent_id) → parent(id)".to_string(), Some(2)),
        ])
    );

    let reader = open(&db, true).await;
    let plan = Arc::new(plan_of(&reader).await);
    let remedies = fix::preview(&reader, &plan, &FixOptions::default())
        .await
        .unwrap();
    reader.close().await;
    let summary: Vec<(String, Vec<u64>, Vec<u64>)> = remedies
        .iter()
        .filter(|r| !r.steps.is_empty())
        .map(|r| {
            (
                r.what.clone(),
                r.steps.iter().map(|s| s.count).collect(),
                r.effects.iter().map(|e| e.count).collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "child(parent_id) → parent(id): delete 5 orphan rows".to_string(),
                vec![5],
                vec![3]
            ),
            (
                "note(parent_id) → parent(id): set the reference of 2 orphan rows to NULL"
                    .to_string(),
                vec![2],
                vec![]
            ),
            (
                "child.tenant: copy it from the parent row in parent for 2 rows".to_string(),
                vec![2],
                vec![]
            ),
        ],
        "the preview counts what check counts, and what the cascade takes"
    );
    // Migrations are proposed, never applied: the two missing constraints, and
    // (where the engine does not index foreign keys itself) the index.
    let mut migrations: Vec<String> = remedies
        .iter()
        .filter(|r| r.steps.is_empty())
        .map(|r| format!("{} {}", r.check, r.ddl.len()))
        .collect();
    migrations.sort();
    let constraint_statements = if engine == "postgres" { 2 } else { 1 };
    let mut expected = vec![format!("fk_missing {constraint_statements}"); 2];
    if engine != "mysql" {
        expected.push("fk_unindexed 1".to_string());
    }
    expected.sort();
    assert_eq!(migrations, expected);

    let backup = tempfile::tempdir().unwrap();
    let writer = open(&db, false).await;
    let applied = fix::apply(
        &writer,
        &plan,
        &remedies,
        &ApplyOptions {
            backup_dir: backup.path().to_path_buf(),
            batch_size: 2,
        },
        |rows| rows == 12,
    )
    .await
    .unwrap();
    assert!(
        applied.committed,
        "12 rows: 3 grandchildren, 5 orphans, 2 notes, 2 tenants"
    );
    writer.close().await;
    assert_eq!(
        orphan_counts(&db.url).await,
        BTreeMap::new(),
        "no orphan left"
    );

    // The backup holds exactly the rows that changed, and every other row is as it was.
    let after = dump(&db).await;
    let changed: Vec<(String, i64)> = before
        .keys()
        .filter(|k| after.get(*k) != before.get(*k))
        .cloned()
        .collect();
    let text = std::fs::read_to_string(&applied.backup).unwrap();
    let mut backed_up: Vec<(String, i64)> = text
        .lines()
        .filter(|l| l.contains("\"action\""))
        .map(|l| {
            let row: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                row["table"].as_str().unwrap().to_string(),
                row["row"]["id"].as_i64().unwrap(),
            )
        })
        .collect();
    backed_up.sort();
    assert_eq!(backed_up, changed);
    assert_eq!(
        changed,
        vec![
            ("child".to_string(), 12),
            ("child".to_string(), 13),
            ("child".to_string(), 20),
            ("child".to_string(), 21),
            ("child".to_string(), 22),
            ("child".to_string(), 23),
            ("child".to_string(), 24),
            ("grandchild".to_string(), 101),
            ("grandchild".to_string(), 102),
            ("grandchild".to_string(), 103),
            ("note".to_string(), 2),
            ("note".to_string(), 3),
        ]
    );

    // Restore brings every row back.
    let writer = Db::connect(
        &db.url,
        SessionOptions {
            read_only: false,
            sqlite_foreign_keys: Some(false),
            transactional_writes: true,
            ..SessionOptions::default()
        },
    )
    .await
    .unwrap();
    let restored = fix::restore(
        &writer,
        &plan.schema,
        &applied.backup,
        fix::OnConflict::Refuse,
    )
    .await
    .unwrap();
    writer.close().await;
    assert_eq!((restored.inserted, restored.updated), (8, 4));
    assert_eq!(dump(&db).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_round_trip() {
    round_trip(TestDb::postgres().await, "postgres").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_round_trip() {
    round_trip(TestDb::sqlite(), "sqlite").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_round_trip() {
    round_trip(TestDb::mysql().await, "mysql").await;
}

/// Another session writes a new orphan between preview and apply: the apply
/// aborts and changes nothing.
async fn a_new_orphan_aborts(db: TestDb, engine: &str) {
    db.exec(&fixture(engine)).await;
    let reader = open(&db, true).await;
    let plan = Arc::new(plan_of(&reader).await);
    let remedies = fix::preview(&reader, &plan, &FixOptions::default())
        .await
        .unwrap();
    reader.close().await;
    db.exec("INSERT INTO child VALUES (30, 96, 'a')").await;
    let before = dump(&db).await;
    let backup = tempfile::tempdir().unwrap();
    let writer = open(&db, false).await;
    let error = fix::apply(
        &writer,
        &plan,
        &remedies,
        &ApplyOptions {
            backup_dir: backup.path().to_path_buf(),
            batch_size: 100,
        },
        |_| true,
    )
    .await
    .unwrap_err();
    writer.close().await;
    let error = error.to_string();
    assert!(
        error.contains("child now has 6 rows to change where the preview counted 5")
            && error.contains("the data changed since the preview, nothing was applied"),
        "{error}"
    );
    assert_eq!(dump(&db).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_orphan_after_the_preview_aborts_the_apply_on_postgres() {
    a_new_orphan_aborts(TestDb::postgres().await, "postgres").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_orphan_after_the_preview_aborts_the_apply_on_mariadb() {
    a_new_orphan_aborts(TestDb::mysql().await, "mysql").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_orphan_after_the_preview_aborts_the_apply_on_sqlite() {
    a_new_orphan_aborts(TestDb::sqlite(), "sqlite").await;
}

fn write_profile(dir: &std::path::Path) -> String {
    let profile = dir.join("fix.toml");
    std::fs::write(&profile, PROFILE).unwrap();
    profile.to_str().unwrap().to_string()
}

/// `tether fix --apply --yes` on the orphans, as a child process.
fn spawn_fix(
    url: &str,
    profile: &str,
    backups: &std::path::Path,
    extra: &[&str],
) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_tether"))
        .env_remove("DATABASE_URL")
        .args([
            "fix",
            "--url",
            url,
            "--profile",
            profile,
            "--check",
            "orphans",
        ])
        .args(["--apply", "--yes", "--backup", backups.to_str().unwrap()])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// A process killed in the middle of its apply: the database is as before.
async fn killing_the_apply(db: TestDb, engine: &str) {
    db.exec(&fixture(engine)).await;
    // Many orphans, changed one row per statement: the apply takes a while.
    db.exec(match engine {
        "postgres" => {
            "INSERT INTO child SELECT g, 1000000 + g, 'a' FROM generate_series(1000, 9000) AS g"
        }
        "mysql" => "INSERT INTO child SELECT seq, 1000000 + seq, 'a' FROM seq_1000_to_9000",
        // SQLite changes a row in microseconds: more of them, so that the
        // apply is still under way when it is killed.
        _ => {
            "WITH RECURSIVE g(n) AS (SELECT 1000 UNION ALL SELECT n + 1 FROM g WHERE n < 60000)
              INSERT INTO child SELECT n, 1000000 + n, 'a' FROM g"
        }
    })
    .await;
    let before = dump(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let profile = write_profile(dir.path());
    let backups = dir.path().join("backups");
    let mut child = spawn_fix(&db.url, &profile, &backups, &["--batch-size", "1"]);
    // The backup is written before the first change; kill once changes are under way.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::read_dir(&backups).map(|d| d.count()).unwrap_or(0) == 0 {
        assert!(std::time::Instant::now() < deadline, "no backup appeared");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the apply ended before it could be killed"
    );
    child.kill().unwrap();
    let _ = child.wait();
    // The server rolls the transaction back when the connection goes (SQLite:
    // the next connection rolls the journal back).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if dump(&db).await == before {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the killed apply left changes"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_the_apply_changes_nothing_on_postgres() {
    killing_the_apply(TestDb::postgres().await, "postgres").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_the_apply_changes_nothing_on_mariadb() {
    killing_the_apply(TestDb::mysql().await, "mysql").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_the_apply_changes_nothing_on_sqlite() {
    killing_the_apply(TestDb::sqlite(), "sqlite").await;
}

fn finished(child: std::process::Child) -> (i32, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// A lock held by another session beyond `--lock-timeout`: the apply stops at
/// once, names the lock wait, and nothing changed (MariaDB: tests/write_faults.rs).
#[tokio::test(flavor = "multi_thread")]
async fn a_lock_wait_timeout_stops_the_apply_on_postgres() {
    use sqlx::Connection;
    let db = TestDb::postgres().await;
    db.exec(&fixture("postgres")).await;
    let before = dump(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let profile = write_profile(dir.path());
    let mut other = sqlx::PgConnection::connect(&db.url).await.unwrap();
    for s in [
        "BEGIN",
        "SELECT id FROM grandchild WHERE id = 101 FOR UPDATE",
    ] {
        sqlx::raw_sql(s).execute(&mut other).await.unwrap();
    }
    let backups = dir.path().join("backups");
    let (code, output) = finished(spawn_fix(
        &db.url,
        &profile,
        &backups,
        &["--lock-timeout", "1"],
    ));
    sqlx::raw_sql("ROLLBACK").execute(&mut other).await.unwrap();
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("lock wait timeout") && output.contains("nothing was applied"),
        "{output}"
    );
    assert_eq!(dump(&db).await, before, "nothing changed");
}
