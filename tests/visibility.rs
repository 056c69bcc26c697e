//! Counts that are exact or openly unknown: row-level security and missing
//! privileges withhold a count (with the table and the remedy) instead of
//! giving a partial one; constraints declared on partitions are relationships
//! of their own; `MATCH FULL` and the constraint's own equality decide what an
//! orphan is; sessions read literals, snapshots and statements safely.

mod common;

use common::{Roles, TestDb, role_url};
use sqlx::{AssertSqlSafe, Connection};
use std::process::Command;
use tether::checks::plan::PlanOptions;

fn tether(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `orders` is under row-level security (the reader sees tenant a only) and
/// has 3 real orphans; `notes` → `orders` has 2 real orphans and 6 notes of
/// tenant b's orders the policy hides; the reader may not SELECT `secret`.
fn rls_fixture(reader: &str, owner: &str) -> String {
    format!(
        r#"
CREATE ROLE "{reader}" LOGIN;
CREATE ROLE "{owner}" LOGIN;
CREATE TABLE customers (id int PRIMARY KEY, tenant text);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int, tenant text);
CREATE TABLE notes (id int PRIMARY KEY, order_id int, body text);
CREATE TABLE secret (id int PRIMARY KEY, customer_id int REFERENCES customers (id));
INSERT INTO customers VALUES (1, 'a'), (2, 'b'), (3, 'a');
INSERT INTO orders VALUES (1, 1, 'a'), (2, 3, 'a'), (3, 1, 'a'), (4, 2, 'b'), (5, 2, 'b'), (6, 2, 'b'),
  (7, 97, 'a'), (8, 98, 'b'), (9, 99, 'b');
INSERT INTO notes VALUES (1, 1, 'x'), (2, 2, 'x'), (3, 3, 'x'), (4, 4, 'x'), (5, 5, 'x'), (6, 6, 'x'),
  (7, 8, 'x'), (8, 9, 'x'), (9, 4, 'x'), (10, 5, 'x'), (11, 500, 'x'), (12, 501, 'x');
SET session_replication_role = replica;
INSERT INTO secret VALUES (1, 1), (2, 77);
RESET session_replication_role;
ALTER TABLE orders OWNER TO "{owner}";
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_a ON orders USING (tenant = 'a');
GRANT SELECT ON customers, orders, notes TO "{reader}";
GRANT SELECT ON customers, notes, secret TO "{owner}";
"#
    )
}

const RLS_PROFILE: &str = "[[relationship]]\nchild = \"orders\"\ncolumns = [\"customer_id\"]\nparent = \"customers\"\n\n\
[[relationship]]\nchild = \"notes\"\ncolumns = [\"order_id\"]\nparent = \"orders\"\n";

fn check_json(url: &str, profile: &std::path::Path) -> serde_json::Value {
    let (code, out, err) = tether(&[
        "check",
        "--url",
        url,
        "--profile",
        profile.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// (child, count) of every orphans finding, and the messages of check_failed.
fn orphans_and_failures(json: &serde_json::Value) -> (Vec<(String, u64)>, Vec<String>) {
    let findings = json["findings"].as_array().unwrap();
    let mut orphans: Vec<(String, u64)> = findings
        .iter()
        .filter(|f| f["check"] == "orphans")
        .map(|f| {
            (
                f["child_table"].as_str().unwrap().to_string(),
                f["count"].as_u64().unwrap(),
            )
        })
        .collect();
    orphans.sort();
    let failures = findings
        .iter()
        .filter(|f| f["check"] == "check_failed")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    (orphans, failures)
}

#[tokio::test(flavor = "multi_thread")]
async fn row_level_security_and_missing_privileges_withhold_counts() {
    let suffix = format!("{}_{}", std::process::id(), fastrand::u32(..));
    let (reader, owner) = (format!("tr_reader_{suffix}"), format!("tr_owner_{suffix}"));
    let all_data = format!("tr_all_{suffix}");
    let _roles = Roles(vec![reader.clone(), owner.clone(), all_data.clone()]);
    let db = TestDb::postgres().await;
    db.exec(&rls_fixture(&reader, &owner)).await;
    db.exec(&format!(
        "CREATE ROLE \"{all_data}\" LOGIN; GRANT pg_read_all_data TO \"{all_data}\";"
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p.toml");
    std::fs::write(&profile, RLS_PROFILE).unwrap();

    // As a superuser: exact counts over every row.
    let (orphans, failures) = orphans_and_failures(&check_json(&db.url, &profile));
    assert_eq!(
        orphans,
        vec![
            ("notes".to_string(), 2),
            ("orders".to_string(), 3),
            ("secret".to_string(), 1)
        ]
    );
    assert!(failures.is_empty(), "{failures:?}");

    // As the SELECT-only reader: nothing counted over hidden rows.
    let reader_url = role_url(&db, &reader);
    let json = check_json(&reader_url, &profile);
    let (orphans, failures) = orphans_and_failures(&json);
    assert_eq!(
        orphans,
        vec![],
        "no count over rows the role cannot all see"
    );
    let rls = |table: &str| {
        failures.iter().any(|m| {
            m.contains(&format!(
                "row-level security on {table} hides rows from this role"
            )) && m.contains("BYPASSRLS")
        })
    };
    assert!(rls("orders"), "orders as a child: {failures:?}");
    assert_eq!(
        failures
            .iter()
            .filter(|m| m.starts_with("orphans check could not run: row-level security on orders"))
            .count(),
        2,
        "orders as a child and as a parent: {failures:?}"
    );
    assert!(
        failures
            .iter()
            .any(|m| m.contains("this role may not SELECT from secret")
                && m.contains("GRANT SELECT")),
        "{failures:?}"
    );
    // The other checks still run: customers' implied and catalog checks.
    assert!(json["summary"]["checks_run"].as_u64().unwrap() > 3);
    // No surface shows a count for them: text, HTML, JUnit.
    for format in ["text", "html", "junit"] {
        let (_, out, _) = tether(&[
            "check",
            "--url",
            &reader_url,
            "--profile",
            profile.to_str().unwrap(),
            "--format",
            format,
            "--fail-on",
            "never",
        ]);
        assert!(
            !out.contains("reference no customers row") && !out.contains("reference no orders row"),
            "{format}: {out}"
        );
        assert!(
            out.contains("row-level security on orders"),
            "{format}: {out}"
        );
    }
    // Nor does fix.
    let (_, out, _) = tether(&[
        "fix",
        "--url",
        &reader_url,
        "--profile",
        profile.to_str().unwrap(),
        "--check",
        "orphans",
    ]);
    assert!(
        out.contains("count withheld: row-level security on orders")
            && !out.contains("deleted by tether"),
        "{out}"
    );

    // pg_read_all_data reads every table, but row-level security still applies.
    let (orphans, failures) =
        orphans_and_failures(&check_json(&role_url(&db, &all_data), &profile));
    assert_eq!(orphans, vec![("secret".to_string(), 1)]);
    assert!(
        failures
            .iter()
            .any(|m| m.contains("row-level security on orders")),
        "{failures:?}"
    );
    assert!(
        !failures.iter().any(|m| m.contains("may not SELECT")),
        "{failures:?}"
    );

    // As the table's owner: exact, since the table does not force row security.
    let owner_url = role_url(&db, &owner);
    let (orphans, failures) = orphans_and_failures(&check_json(&owner_url, &profile));
    assert_eq!(
        orphans,
        vec![
            ("notes".to_string(), 2),
            ("orders".to_string(), 3),
            ("secret".to_string(), 1)
        ]
    );
    assert!(failures.is_empty(), "{failures:?}");
    // Forced: the owner is filtered too, and told only BYPASSRLS helps.
    db.exec("ALTER TABLE orders FORCE ROW LEVEL SECURITY").await;
    let (orphans, failures) = orphans_and_failures(&check_json(&owner_url, &profile));
    assert_eq!(orphans, vec![("secret".to_string(), 1)]);
    assert!(
        failures
            .iter()
            .any(|m| m.contains("forces row security on its owner too")),
        "{failures:?}"
    );
}

/// A query the catalog did not foresee (a profile assertion) still fails
/// rather than count part of the rows: the session has row_security off.
#[tokio::test(flavor = "multi_thread")]
async fn an_assertion_over_hidden_rows_fails_and_says_why() {
    let suffix = format!("{}_{}", std::process::id(), fastrand::u32(..));
    let (reader, owner) = (format!("tr_reader_{suffix}"), format!("tr_owner_{suffix}"));
    let _roles = Roles(vec![reader.clone(), owner.clone()]);
    let db = TestDb::postgres().await;
    db.exec(&rls_fixture(&reader, &owner)).await;
    let profile =
        "[[assertion]]\nname = \"b_orders\"\nsql = \"SELECT id FROM orders WHERE tenant = 'b'\"\n";
    let (_, result) = common::check(
        &role_url(&db, &reader),
        Some(profile),
        PlanOptions::default(),
    )
    .await;
    let failed: Vec<&str> = result
        .findings
        .iter()
        .filter(|f| f.check.as_str() == "check_failed")
        .map(|f| f.message.as_str())
        .collect();
    assert!(
        failed.iter().any(
            |m| m.contains("row-level security policy for table \"orders\"")
                && m.contains("BYPASSRLS")
        ),
        "{failed:?}"
    );
    assert!(
        !result.findings.iter().any(|f| f.check.as_str() == "custom"),
        "no partial count of the assertion"
    );
}

/// A pagila-shaped schema: `payment` is partitioned; one foreign key is
/// declared on the partitioned table (its partitions' copies are folded into
/// it), the others on each partition. An old-style inheritance child declares
/// one of its own.
#[tokio::test(flavor = "multi_thread")]
async fn constraints_declared_on_partitions_are_relationships() {
    let db = TestDb::postgres().await;
    db.exec(
        "CREATE TABLE customer (id int PRIMARY KEY);
         CREATE TABLE staff (id int PRIMARY KEY);
         INSERT INTO customer VALUES (1), (2);
         INSERT INTO staff VALUES (1);
         CREATE TABLE payment (payment_id int, customer_id int, staff_id int, amount numeric,
           payment_date date NOT NULL, PRIMARY KEY (payment_date, payment_id)) PARTITION BY RANGE (payment_date);
         CREATE TABLE payment_p2022_01 PARTITION OF payment FOR VALUES FROM ('2022-01-01') TO ('2022-02-01');
         CREATE TABLE payment_p2022_02 PARTITION OF payment FOR VALUES FROM ('2022-02-01') TO ('2022-03-01');
         CREATE TABLE payment_p2022_03 PARTITION OF payment FOR VALUES FROM ('2022-03-01') TO ('2022-04-01');
         ALTER TABLE payment ADD CONSTRAINT payment_staff_fkey FOREIGN KEY (staff_id) REFERENCES staff (id);
         CREATE INDEX ON payment (staff_id);
         ALTER TABLE payment_p2022_01 ADD CONSTRAINT p01_customer_fkey FOREIGN KEY (customer_id) REFERENCES customer (id);
         ALTER TABLE payment_p2022_02 ADD CONSTRAINT p02_customer_fkey FOREIGN KEY (customer_id) REFERENCES customer (id);
         ALTER TABLE payment_p2022_03 ADD CONSTRAINT p03_customer_fkey FOREIGN KEY (customer_id) REFERENCES customer (id);
         CREATE INDEX ON payment_p2022_01 (customer_id);
         CREATE INDEX ON payment_p2022_03 (customer_id);
         CREATE TABLE event_log (id int PRIMARY KEY, customer_id int);
         CREATE TABLE event_log_2022 (LIKE event_log INCLUDING ALL) INHERITS (event_log);
         ALTER TABLE event_log_2022 ADD CONSTRAINT log22_customer_fkey FOREIGN KEY (customer_id) REFERENCES customer (id);
         SET session_replication_role = replica;
         INSERT INTO payment VALUES (1, 1, 1, 5, '2022-01-05'), (2, 9, 1, 5, '2022-01-06'), (3, 8, 7, 5, '2022-01-07'),
           (4, 2, 1, 5, '2022-02-05'), (5, 9, 1, 5, '2022-02-06'), (6, 7, 1, 5, '2022-02-07'), (7, 6, 1, 5, '2022-02-08'),
           (8, 1, 9, 5, '2022-03-05');
         INSERT INTO event_log_2022 VALUES (1, 1), (2, 42);",
    )
    .await;
    let (plan, result) = common::check(&db.url, None, PlanOptions::default()).await;

    // Every constraint pg_constraint declares (not an inherited copy) is a relationship.
    let mut admin = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let mut declared: Vec<String> = sqlx::query_scalar(
        "SELECT conname::text FROM pg_constraint WHERE contype = 'f' AND conparentid = 0",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    declared.sort();
    let mut known: Vec<String> = plan
        .relationships
        .iter()
        .filter_map(|r| r.constraint.as_ref().map(|c| c.name.clone()))
        .collect();
    known.sort();
    assert_eq!(known, declared);
    assert_eq!(declared.len(), 5);
    // No guess for what the partitions declare.
    assert!(
        !plan
            .relationships
            .iter()
            .any(|r| r.source == tether::relationships::Source::Implied
                && r.child.name.starts_with("payment")),
        "{:?}",
        plan.relationships
    );

    // Exact orphans per partition, the parent's over all partitions, and the
    // inheritance child's own.
    let summary = common::summarize(&result);
    let orphans: Vec<(String, Option<u64>)> = summary
        .iter()
        .filter(|(check, ..)| check == "orphans")
        .map(|(_, location, count)| (location.clone(), *count))
        .collect();
    assert_eq!(
        orphans,
        vec![
            (
                "event_log_2022(customer_id) → customer(id)".to_string(),
                Some(1)
            ),
            ("payment(staff_id) → staff(id)".to_string(), Some(2)),
            (
                "payment_p2022_01(customer_id) → customer(id)".to_string(),
                Some(2)
            ),
            (
                "payment_p2022_02(customer_id) → customer(id)".to_string(),
                Some(3)
            ),
        ]
    );
    // Unindexed: only the partition without an index on its reference (the
    // partitioned table's index serves staff_id on every partition).
    let unindexed: Vec<&String> = summary
        .iter()
        .filter(|(check, ..)| check == "fk_unindexed")
        .map(|(_, location, _)| location)
        .collect();
    assert_eq!(
        unindexed,
        vec![
            "event_log_2022(customer_id) → customer(id)",
            "payment_p2022_02(customer_id) → customer(id)"
        ]
    );
    // A partition's rows are counted once, through its table: no tenant or
    // other table check runs on a partition by itself.
    assert!(
        !summary
            .iter()
            .any(|(_, location, _)| location.starts_with("payment_p2022_03")),
        "{summary:?}"
    );
}

/// `MATCH FULL`: a partly NULL reference is a violation, said as such;
/// `MATCH SIMPLE` over the same rows counts only the full orphan.
#[tokio::test(flavor = "multi_thread")]
async fn match_full_counts_partly_null_references() {
    let db = TestDb::postgres().await;
    db.exec(
        "CREATE TABLE parent (a int, b int, PRIMARY KEY (a, b));
         CREATE TABLE full_child (id int PRIMARY KEY, a int, b int,
           CONSTRAINT full_fkey FOREIGN KEY (a, b) REFERENCES parent (a, b) MATCH FULL);
         CREATE TABLE simple_child (id int PRIMARY KEY, a int, b int,
           CONSTRAINT simple_fkey FOREIGN KEY (a, b) REFERENCES parent (a, b));
         INSERT INTO parent VALUES (1, 1);
         SET session_replication_role = replica;
         INSERT INTO full_child VALUES (1, 1, 1), (2, 1, NULL), (3, 9, 9), (4, NULL, NULL);
         INSERT INTO simple_child VALUES (1, 1, 1), (2, 1, NULL), (3, 9, 9), (4, NULL, NULL);",
    )
    .await;
    let (_, result) = common::check(&db.url, None, PlanOptions::default()).await;
    let orphans: Vec<(String, Option<u64>, String)> = result
        .findings
        .iter()
        .filter(|f| f.check.as_str() == "orphans")
        .map(|f| (f.location(), f.count, f.message.clone()))
        .collect();
    assert_eq!(orphans.len(), 2, "{orphans:?}");
    let full = orphans
        .iter()
        .find(|o| o.0.starts_with("full_child"))
        .unwrap();
    assert_eq!(full.1, Some(2));
    assert!(
        full.2.contains("or are partly NULL (MATCH FULL)"),
        "{}",
        full.2
    );
    let simple = orphans
        .iter()
        .find(|o| o.0.starts_with("simple_child"))
        .unwrap();
    assert_eq!(simple.1, Some(1));
}

/// A declared constraint is compared with the database's own equality, not
/// as text: `real` 0.1 references `double precision` 0.1::real, a `timestamp`
/// references a `timestamptz`, and `citext` ignores case.
#[tokio::test(flavor = "multi_thread")]
async fn a_constraint_compares_with_its_own_equality() {
    let db = TestDb::postgres().await;
    db.exec(
        "CREATE EXTENSION IF NOT EXISTS citext;
         SET TimeZone = 'UTC';
         CREATE TABLE parent (id double precision PRIMARY KEY, at timestamptz UNIQUE, code citext UNIQUE);
         CREATE TABLE child (id int PRIMARY KEY, parent_id real REFERENCES parent (id),
           at timestamp REFERENCES parent (at), code citext REFERENCES parent (code));
         INSERT INTO parent VALUES (CAST(CAST(0.1 AS real) AS double precision), '2024-01-01 00:00:00+00', 'ABC'),
           (2, '2024-01-02 00:00:00+00', 'Def');
         SET session_replication_role = replica;
         INSERT INTO child VALUES (1, 0.1, '2024-01-01 00:00:00', 'abc'), (2, 2, '2024-01-02 00:00:00', 'DEF'),
           (3, 3, '2024-01-03 00:00:00', 'xyz');",
    )
    .await;
    let (_, result) = common::check(&db.url, None, PlanOptions::default()).await;
    let orphans: Vec<(String, Option<u64>)> = result
        .findings
        .iter()
        .filter(|f| f.check.as_str() == "orphans")
        .map(|f| (f.location(), f.count))
        .collect();
    assert_eq!(
        orphans,
        vec![
            ("child(at) → parent(at)".to_string(), Some(1)),
            ("child(code) → parent(code)".to_string(), Some(1)),
            ("child(parent_id) → parent(id)".to_string(), Some(1)),
        ]
    );
}

/// A literal tether renders reads the same with `standard_conforming_strings`
/// off or on.
#[tokio::test(flavor = "multi_thread")]
async fn literals_read_alike_in_every_mode() {
    let db = TestDb::postgres().await;
    let value = r"C:\new\table's \\ end";
    let literal = tether::sql::literal(tether::model::Engine::Postgres, value);
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    for mode in ["off", "on"] {
        sqlx::raw_sql(AssertSqlSafe(format!(
            "SET standard_conforming_strings = {mode}"
        )))
        .execute(&mut conn)
        .await
        .unwrap();
        let back: String = sqlx::query_scalar(AssertSqlSafe(format!("SELECT {literal}")))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(back, value, "standard_conforming_strings = {mode}");
    }
    let db = TestDb::mysql().await;
    let literal = tether::sql::literal(tether::model::Engine::Mysql, value);
    let mut conn = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
    for mode in ["NO_BACKSLASH_ESCAPES", ""] {
        sqlx::raw_sql(AssertSqlSafe(format!("SET SESSION sql_mode = '{mode}'")))
            .execute(&mut conn)
            .await
            .unwrap();
        let back: String =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT CAST({literal} AS CHAR)")))
                .fetch_one(&mut conn)
                .await
                .unwrap();
        assert_eq!(back, value, "sql_mode = '{mode}'");
    }
}

/// The run's snapshot is held by a coordinator that idles for the whole run:
/// its session cannot be ended by the idle-in-transaction limit.
#[tokio::test(flavor = "multi_thread")]
async fn the_snapshot_outlives_the_idle_limit() {
    let db = TestDb::postgres().await;
    db.exec(&format!(
        "ALTER DATABASE \"{}\" SET idle_in_transaction_session_timeout = '1s'",
        db.name()
    ))
    .await;
    let session = tether::db::Db::connect(&db.url, tether::db::SessionOptions::default())
        .await
        .unwrap();
    let (mut coordinator, id) = session.shared_snapshot().await.expect("a snapshot");
    let limit = coordinator
        .text_rows(&tether::sql::user(
            "SHOW idle_in_transaction_session_timeout",
        ))
        .await
        .unwrap();
    assert_eq!(limit[0].values().next().unwrap(), "0");
    // Idle past a short limit, the snapshot can still be imported.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let mut worker = session
        .reader(Some(&id))
        .await
        .expect("the snapshot is alive");
    worker
        .counts(&tether::sql::user("SELECT count(*) FROM pg_class"))
        .await
        .unwrap();
    let _ = worker.finish().await;
    let _ = coordinator.finish().await;
    session.close().await;
}

/// MySQL: a metric's text cannot carry a second statement past the
/// read-only session.
#[tokio::test(flavor = "multi_thread")]
async fn a_metric_is_one_statement_on_mariadb() {
    let db = TestDb::mysql().await;
    db.exec("CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1), (2);")
        .await;
    let profile = "[[metric]]\nname = \"sneaky\"\nsql = \"SELECT 1 AS x) AS a; COMMIT; SET SESSION TRANSACTION READ WRITE; DELETE FROM t; SELECT * FROM (SELECT 1 AS x\"\n";
    let (_, result) = common::check(&db.url, Some(profile), PlanOptions::default()).await;
    let outcome = result.metrics[0].as_ref().expect("the metric ran");
    assert!(outcome.1.is_err(), "{:?}", outcome.1);
    let mut conn = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows, 2, "nothing was deleted");
}

/// MariaDB: a user with SELECT on the database alone runs every check, but
/// the server hides its foreign keys from it: tether says so, with the grant
/// that shows them; with it, the user gets exactly what root gets.
#[tokio::test(flavor = "multi_thread")]
async fn a_select_only_user_runs_every_check_on_mariadb() {
    let user = format!("tr_ro_{}_{}", std::process::id(), fastrand::u32(..));
    let db = TestDb::mysql().await;
    db.exec(
        "CREATE TABLE parent (id INT PRIMARY KEY);
         CREATE TABLE child (id INT PRIMARY KEY, parent_id INT, FOREIGN KEY (parent_id) REFERENCES parent (id));
         INSERT INTO parent VALUES (1);
         INSERT INTO child VALUES (1, 1), (2, 9);",
    )
    .await;
    common::mysql_admin_now(format!(
        "CREATE USER '{user}'@'%'; GRANT SELECT ON `{}`.* TO '{user}'@'%'",
        db.name()
    ));
    let summary = |url: String| async move {
        let (_, result) = common::check(&url, None, PlanOptions::default()).await;
        common::summarize(&result)
    };
    let reader_url = db.url.replacen("root@", &format!("{user}@"), 1);
    let as_root = summary(db.url.clone()).await;
    let (_, result) = common::check(&reader_url, None, PlanOptions::default()).await;
    let said = result
        .findings
        .iter()
        .any(|f| f.check.as_str() == "check_failed" && f.message.contains("GRANT REFERENCES"));
    common::mysql_admin_now(format!(
        "GRANT REFERENCES ON `{}`.* TO '{user}'@'%'",
        db.name()
    ));
    let as_reader = summary(reader_url).await;
    common::mysql_admin_now(format!("DROP USER '{user}'@'%'"));
    assert!(said, "{:?}", common::summarize(&result));
    assert_eq!(as_reader, as_root);
    assert!(
        as_root
            .iter()
            .any(|(check, _, count)| check == "orphans" && *count == Some(1))
    );
    assert!(
        !as_reader.iter().any(|(check, ..)| check == "check_failed"),
        "{as_reader:?}"
    );
}

/// The search path the first session got is pinned for every session of the
/// pool, even if the database's default changes meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn the_search_path_is_pinned_for_every_session() {
    let db = TestDb::postgres().await;
    let name = db.name();
    db.exec(&format!(
        "CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY);
         ALTER DATABASE \"{name}\" SET search_path = app, public;"
    ))
    .await;
    let session = tether::db::Db::connect(
        &db.url,
        tether::db::SessionOptions {
            connections: 8,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let schema = tether::catalog::read(&session, &[]).await.unwrap();
    assert_eq!(schema.default_schema, "app");
    db.exec(&format!(
        "ALTER DATABASE \"{name}\" SET search_path = public"
    ))
    .await;
    // New sessions of the same pool (the catalog read opened at most five;
    // eight are held at once) still resolve names as the first did.
    let mut readers = Vec::new();
    for _ in 0..8 {
        let mut reader = session.reader(None).await.unwrap();
        let path = reader
            .text_rows(&tether::sql::user("SHOW search_path"))
            .await
            .unwrap();
        assert_eq!(path[0].values().next().unwrap(), "app, public");
        readers.push(reader);
    }
    for reader in readers {
        let _ = reader.finish().await;
    }
    session.close().await;
}
