//! Write paths under fire, on a real MariaDB: another session makes tether a
//! deadlock victim or keeps it waiting for a lock, in the middle of the probes
//! and of the bench's batch and of a fix's apply; tables that cannot roll back
//! (MyISAM) are refused.
//! Each time tether must stop with a message naming what happened, and every
//! table must be exactly as it was (`CHECKSUM TABLE`).
//!
//! The deadlock victim: InnoDB rolls back the transaction of least weight
//! (rows changed plus locks held), so the other session first changes many
//! rows of a scratch table, then locks a row tether will need; once tether
//! waits for it, the other session asks for a row tether already holds.

mod common;

use common::TestDb;
use sqlx::{AssertSqlSafe, Connection, MySqlConnection, Row};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A deadline for things that must happen (a lock wait, tether's exit).
const DEADLINE: Duration = Duration::from_secs(60);

/// tether running as a child process; killed if the test ends before it does.
struct Tether(Option<Child>);

impl Tether {
    fn start(args: &[&str]) -> Tether {
        let child = Command::new(env!("CARGO_BIN_EXE_tether"))
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tether starts");
        Tether(Some(child))
    }

    /// Panics with tether's output if it has already ended.
    fn still_running(&mut self) {
        let child = self.0.as_mut().unwrap();
        if child.try_wait().unwrap().is_some() {
            let out = self.0.take().unwrap().wait_with_output().unwrap();
            panic!(
                "tether ended before it waited for a lock (exit {:?}):\n{}\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// Waits for tether to end (within the deadline) and returns its output.
    async fn output(mut self) -> Output {
        let child = self.0.take().unwrap();
        let pid = child.id();
        let waited = tokio::time::timeout(
            DEADLINE,
            tokio::task::spawn_blocking(move || child.wait_with_output()),
        )
        .await;
        match waited {
            Ok(out) => out.unwrap().unwrap(),
            Err(_) => {
                let _ = Command::new("kill").arg(pid.to_string()).status();
                panic!("tether did not end within {DEADLINE:?}");
            }
        }
    }
}

impl Drop for Tether {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `CHECKSUM TABLE` of every table of the database, by name.
async fn checksums(db: &TestDb) -> Vec<(String, u64)> {
    let mut conn = MySqlConnection::connect(&db.url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut out = Vec::new();
    for table in tables {
        let row = sqlx::query(AssertSqlSafe(format!("CHECKSUM TABLE `{table}`")))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        let sum: u64 = row
            .try_get::<Option<u64>, _>(1)
            .or_else(|_| {
                row.try_get::<Option<i64>, _>(1)
                    .map(|s| s.map(|s| s as u64))
            })
            .unwrap()
            .expect("a checksum");
        out.push((table, sum));
    }
    let _ = conn.close().await;
    out
}

/// The other session: a transaction of its own, rolled back at the end.
async fn other_session(db: &TestDb) -> (MySqlConnection, i64) {
    let mut conn = MySqlConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql("SET SESSION innodb_lock_wait_timeout = 120, autocommit = 0; START TRANSACTION")
        .execute(&mut conn)
        .await
        .unwrap();
    let id: i64 = sqlx::query_scalar("SELECT CAST(CONNECTION_ID() AS SIGNED)")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    (conn, id)
}

async fn run(conn: &mut MySqlConnection, statement: &str) {
    sqlx::raw_sql(AssertSqlSafe(statement.to_string()))
        .execute(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

/// Waits until a transaction of another connection to this database (tether's)
/// waits for a lock. Read from `SHOW ENGINE INNODB STATUS`: on MariaDB 10.11
/// `information_schema.INNODB_TRX` can lag behind.
async fn until_tether_waits(db: &TestDb, other: i64, tether: &mut Tether) {
    let mut observer = MySqlConnection::connect(&db.url).await.unwrap();
    let started = Instant::now();
    loop {
        let connections: Vec<i64> = sqlx::query_scalar(
            "SELECT CAST(ID AS SIGNED) FROM information_schema.PROCESSLIST
             WHERE DB = ? AND ID <> ? AND ID <> CONNECTION_ID()",
        )
        .bind(db.name())
        .bind(other)
        .fetch_all(&mut observer)
        .await
        .unwrap();
        let status: String = sqlx::query("SHOW ENGINE INNODB STATUS")
            .fetch_one(&mut observer)
            .await
            .unwrap()
            .get(2);
        let waiting = transactions(&status).any(|trx| {
            trx.lines().any(|line| line.starts_with("LOCK WAIT "))
                && connections
                    .iter()
                    .any(|id| trx.contains(&format!(" thread id {id},")))
        });
        if waiting {
            break;
        }
        tether.still_running();
        assert!(
            started.elapsed() < DEADLINE,
            "tether never waited for the lock"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = observer.close().await;
}

/// The transactions of `SHOW ENGINE INNODB STATUS`, one text each (not the
/// sections before, such as the latest deadlock).
fn transactions(status: &str) -> impl Iterator<Item = &str> {
    let list = status
        .split_once("LIST OF TRANSACTIONS FOR EACH SESSION:")
        .map_or("", |(_, rest)| rest);
    let list = list.split("\n--------\n").next().unwrap_or_default();
    list.split("---TRANSACTION").skip(1)
}

/// Makes tether, waiting for a lock the other session holds, the victim of a
/// deadlock: the other session asks for a row tether holds. Its statement
/// succeeds once tether's transaction is rolled back, which proves tether
/// (not the other session) was chosen.
async fn close_the_cycle(other: &mut MySqlConnection, statement: &str) {
    let result = tokio::time::timeout(
        DEADLINE,
        sqlx::raw_sql(AssertSqlSafe(statement.to_string())).execute(&mut *other),
    )
    .await
    .expect("the other session's statement ends");
    if let Err(e) = result {
        panic!("the other session, not tether, was the deadlock victim: {e}");
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

// ---------------------------------------------------------------- probes

/// Two relationships, probed in this order (by child table): orders →
/// customers, then supplies → vendors, each with a cascade probe. Only
/// customer 2 and vendor 3 have children, so they are the rows the cascade
/// probes delete (and the engine deletes their children with them).
const PROBED: &str = "
CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB;
CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT,
  CONSTRAINT orders_customer_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE) ENGINE=InnoDB;
CREATE TABLE vendors (id INT PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB;
CREATE TABLE supplies (id INT PRIMARY KEY, vendor_id INT,
  CONSTRAINT supplies_vendor_fkey FOREIGN KEY (vendor_id) REFERENCES vendors (id) ON DELETE CASCADE) ENGINE=InnoDB;
CREATE TABLE scratch (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
INSERT INTO customers VALUES (1, 'a'), (2, 'b'), (3, 'c');
INSERT INTO orders VALUES (10, 2), (11, 2);
INSERT INTO vendors VALUES (1, 'x'), (2, 'y'), (3, 'z');
INSERT INTO supplies VALUES (20, 3), (21, 3);
INSERT INTO scratch SELECT seq, 0 FROM seq_1_to_2000;
";

const PROBE_PROFILE: &str = "
[[relationship]]
child = \"orders\"
columns = [\"customer_id\"]
parent = \"customers\"
on_delete = \"cascade\"

[[relationship]]
child = \"supplies\"
columns = [\"vendor_id\"]
parent = \"vendors\"
on_delete = \"cascade\"
";

fn start_probes(db: &TestDb, profile: &tempfile::TempDir, extra: &[&str]) -> Tether {
    let path = profile.path().join("p.toml");
    std::fs::write(&path, PROBE_PROFILE).unwrap();
    let mut args = vec![
        "check",
        "--url",
        &db.url,
        "--profile",
        path.to_str().unwrap(),
        "--format",
        "json",
        "--probe",
    ];
    args.extend_from_slice(extra);
    Tether::start(&args)
}

#[tokio::test(flavor = "multi_thread")]
async fn probes_stop_on_a_deadlock_and_change_nothing() {
    let db = TestDb::mysql().await;
    db.exec(PROBED).await;
    let before = checksums(&db).await;
    let (mut other, other_id) = other_session(&db).await;
    run(&mut other, "UPDATE scratch SET v = v + 1").await;
    run(
        &mut other,
        "SELECT id FROM supplies WHERE id = 21 FOR UPDATE",
    )
    .await;

    let profile = tempfile::tempdir().unwrap();
    let mut tether = start_probes(&db, &profile, &["--lock-timeout", "60"]);
    // The cascade probe of supplies deletes vendor 3 (locked by tether) and
    // waits to delete supply 21 with it.
    until_tether_waits(&db, other_id, &mut tether).await;
    close_the_cycle(&mut other, "UPDATE vendors SET name = 'other' WHERE id = 3").await;
    let out = tether.output().await;
    run(&mut other, "ROLLBACK").await;

    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "probes stopped on supplies(vendor_id) → vendors(id): deadlock: Deadlock found"
        ) && err.contains("everything they wrote was rolled back"),
        "{err}"
    );
    assert!(!err.contains("SAVEPOINT"), "{err}");
    assert_eq!(
        checksums(&db).await,
        before,
        "the probes changed the database"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn probes_stop_on_a_lock_wait_timeout_and_change_nothing() {
    let db = TestDb::mysql().await;
    db.exec(PROBED).await;
    let before = checksums(&db).await;
    let (mut other, other_id) = other_session(&db).await;
    run(&mut other, "SELECT id FROM vendors WHERE id = 3 FOR UPDATE").await;

    let profile = tempfile::tempdir().unwrap();
    let mut tether = start_probes(&db, &profile, &["--lock-timeout", "1"]);
    until_tether_waits(&db, other_id, &mut tether).await;
    let out = tether.output().await;
    run(&mut other, "ROLLBACK").await;

    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("probes stopped on supplies(vendor_id) → vendors(id): lock wait timeout: Lock wait timeout exceeded")
            && err.contains("everything they wrote was rolled back"),
        "{err}"
    );
    assert_eq!(
        checksums(&db).await,
        before,
        "the probes changed the database"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn probes_refuse_a_trigger_that_writes_to_myisam() {
    let db = TestDb::mysql().await;
    db.exec(PROBED).await;
    db.exec(
        "CREATE TABLE audit (id INT, note VARCHAR(40)) ENGINE=MyISAM;
         INSERT INTO audit VALUES (1, 'before');
         CREATE TRIGGER supplies_audit AFTER INSERT ON supplies
           FOR EACH ROW INSERT INTO audit VALUES (NEW.id, 'inserted');",
    )
    .await;
    let before = checksums(&db).await;
    let profile = tempfile::tempdir().unwrap();
    let out = start_probes(&db, &profile, &[]).output().await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("trigger supplies_audit on supplies writes to audit, which uses the MyISAM storage engine and cannot roll back: nothing was written"),
        "{err}"
    );
    assert_eq!(
        checksums(&db).await,
        before,
        "the probes changed the database"
    );
}

// ---------------------------------------------------------------- bench

/// `big` is the largest table: the batch copies its first 1,000 rows.
const BENCHED: &str = "
CREATE TABLE parent (id INT PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB;
CREATE TABLE big (id INT PRIMARY KEY, parent_id INT, note VARCHAR(20),
  CONSTRAINT big_parent_fkey FOREIGN KEY (parent_id) REFERENCES parent (id)) ENGINE=InnoDB;
CREATE TABLE scratch (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
INSERT INTO parent SELECT seq, 'p' FROM seq_1_to_10;
INSERT INTO big SELECT seq, 1 + seq % 10, 'n' FROM seq_1_to_3000;
INSERT INTO scratch SELECT seq, 0 FROM seq_1_to_500;
ANALYZE TABLE parent, big, scratch;
";

fn start_bench(db: &TestDb, extra: &[&str]) -> Tether {
    let mut args = vec![
        "bench",
        "--url",
        &db.url,
        "--iterations",
        "2",
        "--warmup",
        "0",
        "--sessions",
        "1",
        "--format",
        "json",
        "--allow-writes",
    ];
    args.extend_from_slice(extra);
    Tether::start(&args)
}

#[tokio::test(flavor = "multi_thread")]
async fn bench_stops_on_a_deadlock_in_the_batch_and_changes_nothing() {
    let db = TestDb::mysql().await;
    db.exec(BENCHED).await;
    let before = checksums(&db).await;
    let (mut other, other_id) = other_session(&db).await;
    run(&mut other, "UPDATE scratch SET v = v + 1").await;
    run(&mut other, "SELECT id FROM big WHERE id = 500 FOR UPDATE").await;

    let mut tether = start_bench(&db, &["--lock-timeout", "60"]);
    // The batch's INSERT … SELECT has share-locked rows 1 to 499 it copies,
    // and waits for row 500.
    until_tether_waits(&db, other_id, &mut tether).await;
    close_the_cycle(&mut other, "UPDATE big SET note = 'other' WHERE id = 1").await;
    let out = tether.output().await;
    run(&mut other, "ROLLBACK").await;

    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bench stopped in the batch category: deadlock: Deadlock found")
            && err.contains("its writes were rolled back"),
        "{err}"
    );
    assert_eq!(
        checksums(&db).await,
        before,
        "the bench changed the database"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bench_stops_on_a_lock_wait_timeout_in_the_batch_and_changes_nothing() {
    let db = TestDb::mysql().await;
    db.exec(BENCHED).await;
    let before = checksums(&db).await;
    let (mut other, other_id) = other_session(&db).await;
    run(&mut other, "SELECT id FROM big WHERE id = 500 FOR UPDATE").await;

    let mut tether = start_bench(&db, &["--lock-timeout", "1"]);
    until_tether_waits(&db, other_id, &mut tether).await;
    let out = tether.output().await;
    run(&mut other, "ROLLBACK").await;

    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "bench stopped in the batch category: lock wait timeout: Lock wait timeout exceeded"
        ),
        "{err}"
    );
    assert_eq!(
        checksums(&db).await,
        before,
        "the bench changed the database"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bench_refuses_a_myisam_batch_and_writes_nothing() {
    let db = TestDb::mysql().await;
    db.exec(BENCHED).await;
    db.exec("ALTER TABLE big DROP FOREIGN KEY big_parent_fkey; ALTER TABLE big ENGINE=MyISAM;")
        .await;
    // An InnoDB child, so the constraint category still has a constraint.
    db.exec(
        "CREATE TABLE items (id INT PRIMARY KEY, parent_id INT,
           CONSTRAINT items_parent_fkey FOREIGN KEY (parent_id) REFERENCES parent (id)) ENGINE=InnoDB;
         INSERT INTO items VALUES (1, 1), (2, 2);
         ANALYZE TABLE big, items;",
    )
    .await;
    let before = checksums(&db).await;
    let out = start_bench(&db, &[]).output().await;
    let err = stderr(&out);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let categories = &json["categories"];
    assert_eq!(
        categories["batch"]["skipped"],
        "big uses the MyISAM storage engine, which cannot roll back: nothing was written",
        "{categories}"
    );
    assert_eq!(categories["constraint"]["iterations"], 2, "{categories}");
    assert_eq!(categories["constraint"]["errors"], 0, "{categories}");
    assert_eq!(
        checksums(&db).await,
        before,
        "the bench changed the database"
    );
}

// ---------------------------------------------------------------- fix --apply

/// Orphans in `child` (20, 21, 22), declared only in the profile; grandchild
/// rows hang off them by a declared cascade, so the apply locks those too.
const FIXED: &str = "
CREATE TABLE parent (id INT PRIMARY KEY) ENGINE=InnoDB;
CREATE TABLE child (id INT PRIMARY KEY, parent_id INT, tenant VARCHAR(10)) ENGINE=InnoDB;
CREATE TABLE grandchild (id INT PRIMARY KEY, child_id INT,
  CONSTRAINT grandchild_child_fkey FOREIGN KEY (child_id) REFERENCES child (id) ON DELETE CASCADE) ENGINE=InnoDB;
CREATE TABLE scratch (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
INSERT INTO parent VALUES (1);
INSERT INTO child VALUES (10, 1, 'a'), (20, 91, 'a'), (21, 92, 'a'), (22, 93, 'a');
INSERT INTO grandchild VALUES (100, 10), (101, 20), (102, 21);
INSERT INTO scratch SELECT seq, 0 FROM seq_1_to_2000;
";

const FIX_PROFILE: &str = "
[[relationship]]
child = \"child\"
columns = [\"parent_id\"]
parent = \"parent\"
on_delete = \"cascade\"
";

fn start_fix(db: &TestDb, dir: &tempfile::TempDir, extra: &[&str]) -> Tether {
    let path = dir.path().join("p.toml");
    std::fs::write(&path, FIX_PROFILE).unwrap();
    let backups = dir.path().join("backups");
    let mut args = vec![
        "fix",
        "--url",
        &db.url,
        "--profile",
        path.to_str().unwrap(),
        "--check",
        "orphans",
        "--apply",
        "--yes",
        "--backup",
        backups.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    Tether::start(&args)
}

#[tokio::test(flavor = "multi_thread")]
async fn fix_stops_on_a_deadlock_and_changes_nothing() {
    let db = TestDb::mysql().await;
    db.exec(FIXED).await;
    let before = checksums(&db).await;
    let (mut other, other_id) = other_session(&db).await;
    run(&mut other, "UPDATE scratch SET v = v + 1").await;
    // Grandchild 101 hangs off orphan 20: the apply locks it after the orphans.
    run(
        &mut other,
        "SELECT id FROM grandchild WHERE id = 101 FOR UPDATE",
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let mut tether = start_fix(&db, &dir, &["--lock-timeout", "60"]);
    until_tether_waits(&db, other_id, &mut tether).await;
    // Orphan 20 is locked by the apply: a cycle.
    close_the_cycle(&mut other, "UPDATE child SET tenant = 'z' WHERE id = 20").await;
    let out = tether.output().await;
    run(&mut other, "ROLLBACK").await;

    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("deadlock: Deadlock found")
            && err.contains("rolled back: nothing was applied"),
        "{err}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Committed"));
    assert_eq!(checksums(&db).await, before, "the fix changed the database");
}

#[tokio::test(flavor = "multi_thread")]
async fn fix_stops_on_a_lock_wait_timeout_and_changes_nothing() {
    let db = TestDb::mysql().await;
    db.exec(FIXED).await;
    let before = checksums(&db).await;
    let (mut other, other_id) = other_session(&db).await;
    run(
        &mut other,
        "SELECT id FROM grandchild WHERE id = 101 FOR UPDATE",
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let mut tether = start_fix(&db, &dir, &["--lock-timeout", "1"]);
    until_tether_waits(&db, other_id, &mut tether).await;
    let out = tether.output().await;
    run(&mut other, "ROLLBACK").await;

    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("lock wait timeout: Lock wait timeout exceeded")
            && err.contains("rolled back: nothing was applied"),
        "{err}"
    );
    assert_eq!(checksums(&db).await, before, "the fix changed the database");
}

#[tokio::test(flavor = "multi_thread")]
async fn fix_refuses_a_myisam_table_and_writes_nothing() {
    let db = TestDb::mysql().await;
    db.exec(FIXED).await;
    // The orphans' own table cannot roll back (its declared key is gone with it).
    db.exec("ALTER TABLE grandchild DROP FOREIGN KEY grandchild_child_fkey; ALTER TABLE child ENGINE = MyISAM")
        .await;
    let before = checksums(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let out = start_fix(&db, &dir, &[]).output().await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "child uses the MyISAM storage engine, which cannot roll back: nothing was written"
        ),
        "{err}"
    );
    assert!(
        !dir.path().join("backups").exists(),
        "refused before the backup"
    );
    assert_eq!(checksums(&db).await, before);
}
