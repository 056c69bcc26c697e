//! Shared test harness: throwaway databases on real servers, and running tether's
//! engine against them. Each test gets its own uniquely named database, dropped
//! when the test ends, so tests run in parallel and leave nothing behind.
#![allow(dead_code)]

pub mod pg;
pub mod proxy;

use sqlx::{AssertSqlSafe, Connection};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tether::checks::plan::{Plan, PlanOptions};
use tether::db::{Db, SessionOptions};
use tether::profile::Profile;
use tether::runner::{RunOptions, RunResult};

/// The PostgreSQL server tests use (its `postgres` database, for admin work).
pub fn pg_admin_url() -> String {
    std::env::var("TETHER_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

enum Kind {
    Postgres { name: String },
    Mysql { name: String },
    Sqlite { _dir: tempfile::TempDir },
}

/// The MariaDB/MySQL server tests use (root, no password).
pub fn mysql_admin_url() -> String {
    std::env::var("TETHER_TEST_MYSQL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".into())
}

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    kind: Kind,
}

impl TestDb {
    pub async fn postgres() -> TestDb {
        let name = unique_name("tether_test");
        let mut admin = sqlx::PgConnection::connect(&pg_admin_url())
            .await
            .expect("PostgreSQL for tests (see README: tests)");
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await
            .unwrap();
        let _ = admin.close().await;
        let base = pg_admin_url();
        let url = match base.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => unreachable!("the admin URL names a database"),
        };
        TestDb {
            url,
            kind: Kind::Postgres { name },
        }
    }

    pub async fn mysql() -> TestDb {
        TestDb::mysql_named("tether_test").await
    }

    /// A MariaDB database whose name starts with `prefix` (a second "schema").
    pub async fn mysql_named(prefix: &str) -> TestDb {
        let name = unique_name(prefix);
        let mut admin = sqlx::MySqlConnection::connect(&mysql_admin_url())
            .await
            .expect("MariaDB for tests (see README: tests)");
        sqlx::raw_sql(AssertSqlSafe(format!(
            "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        )))
        .execute(&mut admin)
        .await
        .unwrap();
        let _ = admin.close().await;
        let base = mysql_admin_url();
        let url = match base.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => unreachable!("the admin URL names a database"),
        };
        TestDb {
            url,
            kind: Kind::Mysql { name },
        }
    }

    /// The database's name: the last segment of its URL.
    pub fn name(&self) -> String {
        let path = self.url.split('?').next().unwrap_or_default();
        path.rsplit_once('/')
            .map(|(_, name)| name.to_string())
            .unwrap_or_default()
    }

    pub fn is_mysql(&self) -> bool {
        matches!(self.kind, Kind::Mysql { .. })
    }

    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.sqlite").display());
        TestDb {
            url,
            kind: Kind::Sqlite { _dir: dir },
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.kind, Kind::Postgres { .. })
    }

    /// Runs a script (DDL and data) on a writable connection. SQLite runs it with
    /// `foreign_keys` off, so rows may violate declared constraints.
    pub async fn exec(&self, script: &str) {
        match &self.kind {
            Kind::Postgres { .. } => {
                let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(AssertSqlSafe(script.to_string()))
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("fixture failed: {e}"));
                let _ = conn.close().await;
            }
            Kind::Mysql { .. } => {
                // Foreign-key checks off, so rows may violate declared constraints.
                let mut conn = sqlx::MySqlConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(AssertSqlSafe(format!(
                    "SET FOREIGN_KEY_CHECKS = 0;\n{script}"
                )))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("fixture failed: {e}"));
                let _ = conn.close().await;
            }
            Kind::Sqlite { .. } => {
                let mut conn = sqlx::SqliteConnection::connect(&format!("{}?mode=rwc", self.url))
                    .await
                    .unwrap();
                sqlx::raw_sql(AssertSqlSafe(format!(
                    "PRAGMA foreign_keys = OFF;\n{script}"
                )))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("fixture failed: {e}"));
                let _ = conn.close().await;
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.kind {
            Kind::Postgres { name } => {
                admin_now(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            }
            // Checks off: a table of another test database may reference this one.
            Kind::Mysql { name } => mysql_admin_now(format!(
                "SET FOREIGN_KEY_CHECKS = 0; DROP DATABASE IF EXISTS `{name}`"
            )),
            Kind::Sqlite { .. } => {}
        }
    }
}

/// Runs one statement on the PostgreSQL admin database and waits for it, from a
/// thread of its own: for `Drop`, which cannot await, and whose test runtime may
/// be shutting down. Errors are ignored (it cleans up).
pub fn admin_now(statement: String) {
    on_own_thread(async move {
        if let Ok(mut admin) = sqlx::PgConnection::connect(&pg_admin_url()).await {
            let _ = sqlx::raw_sql(AssertSqlSafe(statement))
                .execute(&mut admin)
                .await;
            let _ = admin.close().await;
        }
    });
}

/// Like [`admin_now`], on the MariaDB server.
pub fn mysql_admin_now(statement: String) {
    on_own_thread(async move {
        if let Ok(mut admin) = sqlx::MySqlConnection::connect(&mysql_admin_url()).await {
            let _ = sqlx::raw_sql(AssertSqlSafe(statement))
                .execute(&mut admin)
                .await;
            let _ = admin.close().await;
        }
    });
}

fn on_own_thread(work: impl std::future::Future<Output = ()> + Send + 'static) {
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(work);
    })
    .join();
}

/// Reads the catalog, plans with `profile` (TOML text) and runs every check.
pub async fn check(url: &str, profile: Option<&str>, options: PlanOptions) -> (Plan, RunResult) {
    let db = Db::connect(url, SessionOptions::default())
        .await
        .expect("connect");
    let profile = profile.map(|text| Profile::parse(text, "test.toml").expect("profile parses"));
    let schema = tether::catalog::read(&db, &[]).await.expect("catalog");
    let plan = Arc::new(Plan::build(schema, profile.as_ref(), &options));
    let result =
        tether::runner::run_to_end(&db, plan.clone(), &RunOptions::default(), |_| {}).await;
    db.close().await;
    (
        Arc::try_unwrap(plan).unwrap_or_else(|p| (*p).clone()),
        result,
    )
}

/// Findings as (check id, location, count): what tests compare exactly.
pub fn summarize(result: &RunResult) -> BTreeSet<(String, String, Option<u64>)> {
    result
        .findings
        .iter()
        .map(|f| (f.check.as_str().to_string(), f.location(), f.count))
        .collect()
}

/// Builds the expected set from string literals.
pub fn expect(rows: &[(&str, &str, Option<u64>)]) -> BTreeSet<(String, String, Option<u64>)> {
    rows.iter()
        .map(|(c, l, n)| (c.to_string(), l.to_string(), *n))
        .collect()
}

/// Roles made for one test, dropped after its database (declare before it).
pub struct Roles(pub Vec<String>);

impl Drop for Roles {
    fn drop(&mut self) {
        for role in &self.0 {
            admin_now(format!("DROP ROLE IF EXISTS \"{role}\""));
        }
    }
}

/// `db`'s URL as `role` (trust authentication: no password).
pub fn role_url(db: &TestDb, role: &str) -> String {
    db.url.replacen("postgres@", &format!("{role}@"), 1)
}

/// A role name no other test uses.
pub fn unique_role(prefix: &str) -> String {
    unique_name(prefix)
}
