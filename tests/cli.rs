//! The real binary on bad input and on its exit-code contract: one clear line,
//! exit 2, no panic, and never the password.

mod common;

use assert_cmd::Command;
use common::{TestDb, pg_admin_url};
use sqlx::Connection;
use std::io::Write;

const SECRET: &str = "s3cr3t-Pa55";

fn tether() -> Command {
    let mut cmd = Command::cargo_bin("tether").unwrap();
    cmd.env_remove("DATABASE_URL").env("NO_COLOR", "1");
    cmd
}

/// Runs `tether check` and returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let output = tether().arg("check").args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    (output.status.code().unwrap_or(-1), stdout, stderr)
}

fn assert_no_secret(out: &str, err: &str) {
    assert!(
        !out.contains(SECRET) && !err.contains(SECRET),
        "password shown: {out} {err}"
    );
}

#[test]
fn unreachable_host_is_one_clear_line() {
    let url = format!("postgres://alice:{SECRET}@127.0.0.1:1/shop");
    let (code, out, err) = run(&["--url", &url]);
    assert_eq!(code, 2);
    assert_no_secret(&out, &err);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("tether: error: cannot connect to PostgreSQL at 127.0.0.1:1, database \"shop\", user \"alice\": "),
        "{err}"
    );
    assert!(err.to_lowercase().contains("refused"), "{err}");
}

#[test]
fn silent_server_times_out_with_the_limit_named() {
    // A socket that accepts connections and never answers, like a hung server.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = format!("postgres://alice:{SECRET}@127.0.0.1:{port}/shop");
    let started = std::time::Instant::now();
    let (code, out, err) = run(&["--url", &url, "--connect-timeout", "1"]);
    assert_eq!(code, 2);
    assert_no_secret(&out, &err);
    assert_eq!(
        err.trim_end(),
        format!(
            "tether: error: cannot connect to PostgreSQL at 127.0.0.1:{port}, database \"shop\", user \"alice\": no answer within 1 s"
        )
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    drop(listener);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_names_the_user_not_the_password() {
    // scripts/test configures pg_hba.conf so that this role must give its password.
    let mut admin = sqlx::PgConnection::connect(&pg_admin_url()).await.unwrap();
    sqlx::raw_sql(
        "DO $$ BEGIN CREATE ROLE tether_auth_test LOGIN PASSWORD 'right-password';
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    let _ = admin.close().await;
    let url = format!("postgres://tether_auth_test:{SECRET}@127.0.0.1:5432/postgres");
    let (code, out, err) = tokio::task::spawn_blocking(move || run(&["--url", &url]))
        .await
        .unwrap();
    assert_no_secret(&out, &err);
    assert_eq!(
        code, 2,
        "the server accepted a wrong password: run ./scripts/test, which configures pg_hba.conf ({out}{err})"
    );
    assert!(
        err.contains("password authentication failed for user \"tether_auth_test\""),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn missing_database() {
    let base = pg_admin_url();
    let server = base.rsplit_once('/').unwrap().0;
    let (code, _, err) = run(&["--url", &format!("{server}/tether_no_such_database")]);
    assert_eq!(code, 2);
    assert!(
        err.contains("database \"tether_no_such_database\" does not exist"),
        "{err}"
    );
}

#[test]
fn malformed_urls() {
    for url in [
        format!("postgres://bob:{SECRET}@db.example:notaport/x"),
        format!("oracle://bob:{SECRET}@db.example/x"),
        "not a url".to_string(),
        // A password in the parameters, or with an unencoded '/' or '@'.
        format!("postgres://bob@db.example/x?password={SECRET}&sslmode=bogus"),
        format!("postgres://bob:{SECRET}/x@db.example:notaport/x"),
        format!("postgres://bob:{SECRET}@x@db.example/x?sslmode=bogus"),
    ] {
        let (code, out, err) = run(&["--url", &url]);
        assert_eq!(code, 2, "{url}: {err}");
        assert_no_secret(&out, &err);
        assert!(err.contains("invalid database URL"), "{url}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn missing_sqlite_file() {
    let (code, _, err) = run(&["--url", "sqlite:///tmp/tether-no-such-dir/none.sqlite"]);
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "SQLite database /tmp/tether-no-such-dir/none.sqlite: the database file does not exist"
        ),
        "{err}"
    );
}

fn sqlite_with(script: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = format!("sqlite://{}", path.display());
    rt.block_on(async {
        let mut conn = sqlx::SqliteConnection::connect(&format!("{url}?mode=rwc"))
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "PRAGMA foreign_keys = OFF; {script}"
        )))
        .execute(&mut conn)
        .await
        .unwrap();
        let _ = conn.close().await;
    });
    (dir, url)
}

#[test]
fn malformed_profile_names_file_line_and_column() {
    let (_dir, url) = sqlite_with("CREATE TABLE t (id INTEGER PRIMARY KEY);");
    let mut profile = tempfile::NamedTempFile::with_suffix(".toml").unwrap();
    write!(
        profile,
        "name = \"bad\"\n\n[[relationship]]\nchild = \"t\"\ncolumns = [\"id\"\nparent = \"t\"\n"
    )
    .unwrap();
    let path = profile.path().display().to_string();
    let (code, _, err) = run(&["--url", &url, "--profile", &path]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with(&format!("tether: error: {path}:6:1: missing comma")),
        "{err}"
    );

    let mut profile = tempfile::NamedTempFile::with_suffix(".toml").unwrap();
    write!(profile, "[[relationship]]\nchild = \"t\"\ncolumns = [\"id\"]\nparent = \"t\"\non_delete = \"explode\"\n").unwrap();
    let path = profile.path().display().to_string();
    let (code, _, err) = run(&["--url", &url, "--profile", &path]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("{path}:5:")) && err.contains("explode"),
        "{err}"
    );

    let (code, _, err) = run(&["--url", &url, "--profile", "no-such-profile"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown profile \"no-such-profile\"") && err.contains("discovery-flow"),
        "{err}"
    );
}

#[test]
fn a_profile_naming_missing_tables_reports_check_failed() {
    let (_dir, url) = sqlite_with("CREATE TABLE t (id INTEGER PRIMARY KEY, u_id INTEGER);");
    let mut profile = tempfile::NamedTempFile::with_suffix(".toml").unwrap();
    write!(
        profile,
        "[[relationship]]\nchild = \"ghosts\"\ncolumns = [\"t_id\"]\nparent = \"t\"\n\n\
         [[relationship]]\nchild = \"t\"\ncolumns = [\"nope\"]\nparent = \"t\"\n\n\
         [[path]]\nname = \"p\"\ntable = \"t\"\ncolumn = \"u_id\"\nvia = [\"u_id\"]\n"
    )
    .unwrap();
    let path = profile.path().display().to_string();
    let (code, out, err) = run(&["--url", &url, "--profile", &path, "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let failed: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "check_failed")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(failed.len(), 3, "{failed:?}");
    assert!(
        failed
            .iter()
            .any(|m| m
                .contains(":1:1: relationship ghosts(t_id) → t — table \"ghosts\" does not exist")),
        "{failed:?}"
    );
    assert!(
        failed
            .iter()
            .any(|m| m
                .contains(":6:1: relationship t(nope) → t — column \"t\".\"nope\" does not exist")),
        "{failed:?}"
    );
    assert!(
        failed
            .iter()
            .any(|m| m.contains("path p — no relationship of \"t\" with columns (u_id)")),
        "{failed:?}"
    );
}

#[test]
fn exit_codes_follow_fail_on() {
    let (_dir, clean) = sqlite_with(
        "CREATE TABLE a (id INTEGER PRIMARY KEY); CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id)); CREATE INDEX b_a ON b(a_id);",
    );
    let (code, out, _) = run(&["--url", &clean]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("all relationships hold"), "{out}");
    assert!(!out.contains('\u{1b}'), "colour in a pipe: {out:?}");

    // Only a warning (unindexed FK): exit 0 by default, 1 with --fail-on warning.
    let (_dir2, warned) = sqlite_with(
        "CREATE TABLE a (id INTEGER PRIMARY KEY); CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id));",
    );
    assert_eq!(run(&["--url", &warned]).0, 0);
    assert_eq!(run(&["--url", &warned, "--fail-on", "warning"]).0, 1);
    assert_eq!(run(&["--url", &warned, "--fail-on", "never"]).0, 0);

    // An orphan: an error, exit 1 unless --fail-on never.
    let (_dir3, broken) = sqlite_with(
        "CREATE TABLE a (id INTEGER PRIMARY KEY); CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id)); CREATE INDEX b_a ON b(a_id); INSERT INTO b VALUES (1, 42);",
    );
    assert_eq!(run(&["--url", &broken]).0, 1);
    assert_eq!(run(&["--url", &broken, "--fail-on", "never"]).0, 0);
}

#[test]
fn json_report_follows_the_contract_and_writes_to_a_file() {
    let (dir, url) = sqlite_with(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id) ON DELETE SET NULL);
         INSERT INTO customers VALUES (1); INSERT INTO orders VALUES (10, 1), (11, 7), (12, NULL);",
    );
    let file = dir.path().join("report.json");
    let (code, out, _) = run(&[
        "--url",
        &url,
        "--format",
        "json",
        "--output",
        file.to_str().unwrap(),
        "--sample",
        "3",
    ]);
    assert_eq!(code, 1);
    assert!(out.is_empty(), "{out}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(json["tether"], env!("CARGO_PKG_VERSION"));
    assert_eq!(json["database"]["engine"], "sqlite");
    assert!(
        json["database"]["server_version"]
            .as_str()
            .unwrap()
            .starts_with('3')
    );
    let orphans: Vec<&serde_json::Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "orphans")
        .collect();
    assert_eq!(orphans.len(), 1);
    let o = orphans[0];
    assert_eq!(o["severity"], "error");
    assert_eq!(o["child_table"], "orders");
    assert_eq!(o["child_columns"], serde_json::json!(["customer_id"]));
    assert_eq!(o["parent_table"], "customers");
    assert_eq!(o["parent_columns"], serde_json::json!(["id"]));
    assert_eq!(o["count"], 1);
    assert_eq!(
        o["sample"],
        serde_json::json!([{"id": "11", "customer_id": "7"}])
    );
    assert!(o["sql"].as_str().unwrap().starts_with("SELECT"));
    assert!(o["elapsed_ms"].as_f64().unwrap() >= 0.0);
    let rel = &json["relationships"][0];
    assert_eq!(rel["source"], "constraint");
    assert_eq!(rel["constraint"], "orders_customer_id_fkey");
    assert_eq!(rel["on_delete"], "set_null");
    assert_eq!(rel["enforced"], false, "orphans prove it was not enforced");
    assert_eq!(rel["indexed"], false);
    assert_eq!(json["summary"]["error"], 1);
    assert_eq!(
        json["summary"]["warning"], 2,
        "fk_unindexed and fk_not_enforced"
    );
    assert!(json["summary"]["checks_run"].as_u64().unwrap() >= 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_sessions_are_read_only_and_named() {
    let db = TestDb::postgres().await;
    db.exec("CREATE TABLE t (id int PRIMARY KEY)").await;
    let profile = tempfile::NamedTempFile::with_suffix(".toml").unwrap();
    std::fs::write(
        profile.path(),
        "[[assertion]]\nname = \"writes\"\nsql = \"SELECT 1 AS x FROM (SELECT setting FROM pg_settings WHERE name = 'default_transaction_read_only' AND setting = 'on') s\"\n",
    )
    .unwrap();
    let url = db.url.clone();
    let path = profile.path().display().to_string();
    let (code, out, _) = tokio::task::spawn_blocking(move || {
        run(&["--url", &url, "--profile", &path, "--format", "json"])
    })
    .await
    .unwrap();
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let custom = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "custom")
        .unwrap();
    assert_eq!(custom["count"], 1, "the session is read-only");
    assert_eq!(json["consistent_snapshot"], true);
}

#[test]
fn a_tenant_column_no_table_has_is_reported() {
    let (_dir, url) = sqlite_with("CREATE TABLE t (id INTEGER PRIMARY KEY, account_id INTEGER);");
    let (code, out, _) = run(&[
        "--url",
        &url,
        "--tenant-columns",
        "acount_id",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let failed: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "check_failed")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["tenant column \"acount_id\" exists in no table"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn schema_option_restricts_the_catalog() {
    let db = TestDb::postgres().await;
    db.exec(
        "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY, a_id int);
         CREATE SCHEMA \"Audit\"; CREATE TABLE \"Audit\".a (id int PRIMARY KEY);
         CREATE TABLE \"Audit\".c (id int PRIMARY KEY, a_id int REFERENCES \"Audit\".a(id));
         INSERT INTO b VALUES (1, 7);",
    )
    .await;
    let url = db.url.clone();
    let (everything, audit) = tokio::task::spawn_blocking(move || {
        (
            run(&["--url", &url, "--format", "json"]),
            run(&["--url", &url, "--format", "json", "--schema", "Audit"]),
        )
    })
    .await
    .unwrap();
    let parse = |out: &str| -> Vec<String> {
        let json: serde_json::Value = serde_json::from_str(out).unwrap();
        json["relationships"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{} -> {}",
                    r["child_table"].as_str().unwrap(),
                    r["parent_table"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        everything.0, 1,
        "b has an orphan through its implied relationship"
    );
    assert_eq!(parse(&everything.1), ["Audit.c -> Audit.a", "b -> a"]);
    assert_eq!(
        audit.0, 0,
        "only a warning (Audit.c is unindexed): the orphan in b is out of scope"
    );
    assert_eq!(parse(&audit.1), ["Audit.c -> Audit.a"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_cancels_the_queries_on_the_server() {
    let db = TestDb::postgres().await;
    db.exec("CREATE TABLE t (id int PRIMARY KEY)").await;
    let profile = tempfile::NamedTempFile::with_suffix(".toml").unwrap();
    std::fs::write(
        profile.path(),
        "[[assertion]]\nname = \"sleeps\"\nsql = \"SELECT 1 AS x FROM pg_sleep(60) AS s WHERE random() >= 0\"\n",
    )
    .unwrap();
    // Killed if the test fails before the process ends.
    struct KillOnDrop(Option<std::process::Child>);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            if let Some(child) = &mut self.0 {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_tether"))
        .env_remove("DATABASE_URL")
        .args([
            "check",
            "--url",
            &db.url,
            "--profile",
            profile.path().to_str().unwrap(),
            "--timeout",
            "120",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut guard = KillOnDrop(Some(child));
    let name = db.name();
    let mut admin = sqlx::PgConnection::connect(&pg_admin_url()).await.unwrap();
    let sleeping = "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query LIKE '%pg_sleep(60)%' AND state = 'active' AND pid <> pg_backend_pid()";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let n: i64 = sqlx::query_scalar(sleeping)
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .unwrap();
        if n > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the query never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
    let child = guard.0.take().unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("interrupted"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // pg_cancel_backend signals the backend, which stops at its next check
    // for interrupts: on a loaded machine, a moment after tether has exited.
    // Uncancelled, pg_sleep(60) would run for a minute.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let n: i64 = sqlx::query_scalar(sleeping)
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .unwrap();
        if n == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the query still runs on the server"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = admin.close().await;
}

// ---------------------------------------------------------------------------
// Numeric flags

/// Runs tether with `args` (no subcommand implied) and returns (exit code, stderr).
fn run_args(args: &[&str]) -> (i32, String) {
    let output = tether().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap_or(-1), stderr)
}

#[test]
fn every_numeric_flag_refuses_what_it_cannot_use_in_one_line() {
    let cases: &[(&[&str], &str)] = &[
        // What users reported: a panic on each.
        (&["check", "--timeout", "-1"], "--timeout"),
        (&["check", "--timeout=-1"], "--timeout"),
        (&["check", "--timeout", "inf"], "--timeout"),
        (&["check", "--timeout", "nan"], "--timeout"),
        (&["check", "--timeout", "1e20"], "--timeout"),
        (&["check", "--timeout", "0"], "--timeout"),
        (&["check", "--timeout", "86401"], "--timeout"),
        (&["check", "--timeout", "soon"], "--timeout"),
        (&["check", "--connect-timeout", "-0.5"], "--connect-timeout"),
        (&["check", "--connect-timeout", "1e20"], "--connect-timeout"),
        (&["check", "--lock-timeout", "NaN"], "--lock-timeout"),
        (&["check", "--lock-timeout", "-inf"], "--lock-timeout"),
        (&["check", "--jobs", "0"], "--jobs"),
        (&["check", "--jobs", "65"], "--jobs"),
        (&["check", "-j", "-1"], "--jobs"),
        (&["check", "--jobs", "2.5"], "--jobs"),
        (&["check", "--sample", "-1"], "--sample"),
        (&["check", "--sample", "1e20"], "--sample"),
        (&["check", "--sample", "10001"], "--sample"),
        (
            &["check", "--sample", "99999999999999999999999"],
            "--sample",
        ),
        (&["sql", "--sample", "-5"], "--sample"),
        (&["graph", "--jobs", "1000"], "--jobs"),
        (&["--interval", "0"], "--interval"),
        (&["--interval", "0.5"], "--interval"),
        (&["--interval", "inf"], "--interval"),
        (&["--interval", "-10"], "--interval"),
        (&["watch", "--interval", "0"], "--interval"),
        (&["watch", "--interval", "-1"], "--interval"),
        (&["watch", "--interval", "nan"], "--interval"),
        (&["watch", "--interval", "1e20"], "--interval"),
        (&["watch", "--metrics-addr", "9187"], "--metrics-addr"),
        (
            &["watch", "--metrics-addr", "127.0.0.1:99999"],
            "--metrics-addr",
        ),
        (
            &["watch", "--metrics-addr", "127.0.0.1:-1"],
            "--metrics-addr",
        ),
        (&["watch", "--metrics-addr", ":9187"], "--metrics-addr"),
        (&["watch", "--metrics-addr", "a b:9187"], "--metrics-addr"),
        (&["bench", "--iterations", "0"], "--iterations"),
        (&["bench", "--iterations", "-3"], "--iterations"),
        (&["bench", "--iterations", "1e9"], "--iterations"),
        (&["bench", "--warmup", "-1"], "--warmup"),
        (&["bench", "--sessions", "0"], "--sessions"),
        (&["bench", "--sessions", "4294967296"], "--sessions"),
        (&["demo", "--scale", "99"], "--scale"),
        (&["demo", "--scale", "-100"], "--scale"),
        (&["demo", "--scale", "1e20"], "--scale"),
        (&["demo", "--scale", "18446744073709551615"], "--scale"),
        (&["demo", "--seed", "-1"], "--seed"),
        (&["demo", "--seed", "1.5"], "--seed"),
        (&["demo", "--seed", "18446744073709551616"], "--seed"),
        (&["fix", "--batch-size", "0"], "--batch-size"),
        (&["fix", "--batch-size", "-1"], "--batch-size"),
        (&["fix", "--timeout", "nan"], "--timeout"),
        (
            &["restore", "backup.jsonl", "--lock-timeout", "0"],
            "--lock-timeout",
        ),
    ];
    for (args, flag) in cases {
        let (code, err) = run_args(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("tether: error: invalid value ") && err.contains(flag),
            "{args:?}: {err}"
        );
        for noise in ["panicked", "backtrace", "RUST_BACKTRACE"] {
            assert!(!err.contains(noise), "{args:?}: {err}");
        }
    }
    // Any other mistake on the command line is one line too, with clap's tip.
    let (code, err) = run_args(&["check", "--timout", "3"]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim_end(),
        "tether: error: unexpected argument '--timout' found (tip: a similar argument exists: '--timeout')"
    );
}

#[test]
fn numeric_flags_take_their_whole_range_and_say_what_zero_means() {
    let (_dir, url) = sqlite_with(
        "CREATE TABLE a (id INTEGER PRIMARY KEY); CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id)); INSERT INTO b VALUES (1, 42);",
    );
    let (code, out, err) = run(&[
        "--url",
        &url,
        "--format",
        "json",
        "--sample",
        "0",
        "--jobs",
        "64",
        "--timeout",
        "86400",
        "--connect-timeout",
        "0.5",
        "--lock-timeout",
        "86400",
    ]);
    assert_eq!(code, 1, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let orphans = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "orphans")
        .unwrap();
    assert_eq!(orphans["count"], 1);
    assert!(
        orphans
            .get("sample")
            .is_none_or(|s| s.as_array().unwrap().is_empty()),
        "--sample 0 keeps none: {orphans}"
    );

    let help = |args: &[&str]| {
        let out = tether().args(args).arg("--help").output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(
        help(&["check"]).contains("0 (none) to 10000"),
        "{}",
        help(&["check"])
    );
    assert!(help(&["bench"]).contains("0 (none) to 1000000"));
    assert!(help(&["watch"]).contains("port 0 picks one"));
    assert!(help(&["demo"]).contains("any whole number from 0"));
}

// ---------------------------------------------------------------------------
// Ctrl-C when the server does not take the cancel

/// A TCP proxy in front of a server that can stop answering: once frozen, it
/// still accepts connections but never forwards them, so a new connection
/// (the cancel's) waits for an answer that never comes, while the
/// connections made before go on.
struct Proxy {
    port: u16,
    frozen: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Proxy {
    fn to(upstream: &str) -> Proxy {
        use std::net::{TcpListener, TcpStream};
        use std::sync::atomic::Ordering;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let frozen = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = frozen.clone();
        let upstream = upstream.to_string();
        std::thread::spawn(move || {
            // Held open, unanswered, until the test process ends.
            let mut silent: Vec<TcpStream> = Vec::new();
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if flag.load(Ordering::SeqCst) {
                    silent.push(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Proxy { port, frozen }
    }

    /// From now on, new connections get no answer.
    fn freeze(&self) {
        self.frozen.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// `url` with its host and port replaced by the proxy's.
    fn url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (authority, path) = rest.split_once('/').unwrap();
        let user = authority.rsplit_once('@').map(|(u, _)| format!("{u}@"));
        format!(
            "{scheme}://{}127.0.0.1:{}/{path}",
            user.unwrap_or_default(),
            self.port
        )
    }
}

/// Kills the child if the test fails before it ends.
struct KillOnDrop(Option<std::process::Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits for the child to end, for `limit` at most; its exit code and stderr.
async fn ended_within(
    mut guard: KillOnDrop,
    limit: std::time::Duration,
) -> Option<(Option<i32>, String)> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let child = guard.0.as_mut().unwrap();
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            use std::io::Read;
            let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
            guard.0 = None;
            return Some((status.code(), stderr));
        }
        if std::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn interrupt(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
}

/// Starts `tether <command>` through a proxy to `db` with a profile whose one
/// assertion sleeps a minute; returns once the sleep runs on the server.
async fn sleeping_through(
    db: &TestDb,
    proxy: &Proxy,
    command: &[&str],
    profile: &std::path::Path,
) -> KillOnDrop {
    std::fs::write(
        profile,
        "[[assertion]]\nname = \"sleeps\"\nsql = \"SELECT 1 AS x FROM pg_sleep(60) AS s WHERE random() >= 0\"\n",
    )
    .unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_tether"))
        .env_remove("DATABASE_URL")
        .args(command)
        .args([
            "--url",
            &proxy.url(&db.url),
            "--profile",
            profile.to_str().unwrap(),
            "--timeout",
            "120",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let guard = KillOnDrop(Some(child));
    let mut admin = sqlx::PgConnection::connect(&pg_admin_url()).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query LIKE '%pg_sleep(60)%' AND state = 'active' AND pid <> pg_backend_pid()",
        )
        .bind(db.name())
        .fetch_one(&mut admin)
        .await
        .unwrap();
        if n > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the query never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = admin.close().await;
    guard
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_gives_up_on_a_server_that_does_not_take_the_cancel() {
    let db = TestDb::postgres().await;
    db.exec("CREATE TABLE t (id int PRIMARY KEY)").await;
    let proxy = Proxy::to("127.0.0.1:5432");
    let dir = tempfile::tempdir().unwrap();
    let guard = sleeping_through(&db, &proxy, &["check"], &dir.path().join("p.toml")).await;
    proxy.freeze();
    interrupt(guard.0.as_ref().unwrap().id());
    // The cancel waits for the server 5 s at most; nothing else holds the exit.
    let (code, stderr) = ended_within(guard, std::time::Duration::from_secs(30))
        .await
        .expect("tether still waits for a cancel the server never answers");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("tether: error: interrupted"), "{stderr}");
}

/// Ctrl-C twice: the first asks the server to cancel (which never answers),
/// the second leaves without waiting for it.
async fn second_ctrl_c_leaves_at_once(command: &[&str]) {
    let db = TestDb::postgres().await;
    db.exec("CREATE TABLE t (id int PRIMARY KEY)").await;
    let proxy = Proxy::to("127.0.0.1:5432");
    let dir = tempfile::tempdir().unwrap();
    let guard = sleeping_through(&db, &proxy, command, &dir.path().join("p.toml")).await;
    proxy.freeze();
    let pid = guard.0.as_ref().unwrap().id();
    interrupt(pid);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    interrupt(pid);
    let (code, stderr) = ended_within(guard, std::time::Duration::from_secs(30))
        .await
        .expect("a second Ctrl-C did not end it");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("Ctrl-C again leaves at once")
            && stderr.contains("tether: interrupted: leaving at once"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_ctrl_c_leaves_check_at_once_while_the_cancel_waits() {
    second_ctrl_c_leaves_at_once(&["check"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_ctrl_c_leaves_watch_at_once_while_the_cancel_waits() {
    second_ctrl_c_leaves_at_once(&["watch", "--interval", "3600"]).await;
}

// ---------------------------------------------------------------------------
// SQLite statements stop at their timeout and on Ctrl-C

/// A SQLite file with a table to write to, and a profile whose one assertion
/// reads it, then counts for hours (a recursive CTE): while it runs, its
/// transaction holds the file's shared lock, and no writer can commit.
fn slow_sqlite() -> (tempfile::TempDir, String, String) {
    let (dir, url) = sqlite_with("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);");
    let profile = dir.path().join("slow.toml");
    std::fs::write(
        &profile,
        "[[assertion]]\nname = \"slow\"\nsql = \"\"\"\n\
         WITH RECURSIVE r(n) AS (SELECT count(*) FROM t UNION ALL SELECT n + 1 FROM r WHERE n < 1000000000000)\n\
         SELECT n FROM r WHERE n < 0\n\"\"\"\n",
    )
    .unwrap();
    let profile = profile.display().to_string();
    (dir, url, profile)
}

/// One write, waiting at most `busy` for the locks: it commits only when no
/// reader holds the file (SQLite's rollback journal).
async fn write_sqlite(url: &str, busy: std::time::Duration) -> Result<(), sqlx::Error> {
    use std::str::FromStr;
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?.busy_timeout(busy);
    let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
    let written = sqlx::query("INSERT INTO t (v) VALUES ('written')")
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
    written.map(|_| ())
}

/// Waits until a reader holds the file: a write that does not wait fails.
async fn until_a_reader_holds(url: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while write_sqlite(url, std::time::Duration::ZERO).await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the slow statement never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn spawn_tether(args: &[&str]) -> KillOnDrop {
    KillOnDrop(Some(
        std::process::Command::new(env!("CARGO_BIN_EXE_tether"))
            .env_remove("DATABASE_URL")
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sqlite_statement_stops_at_its_timeout() {
    let (_dir, url, profile) = tokio::task::spawn_blocking(slow_sqlite).await.unwrap();
    let args = ["--url", &url, "--profile", &profile, "--timeout", "1"];

    // check: the assertion is a check that could not run, and the run ends.
    let mut check = spawn_tether(&[&["check", "--format", "json"][..], &args].concat());
    let stdout = check.0.as_mut().unwrap().stdout.take().unwrap();
    let (code, stderr) = ended_within(check, std::time::Duration::from_secs(30))
        .await
        .expect("check went on past the timeout");
    assert_eq!(code, Some(1), "{stderr}");
    let json: serde_json::Value = serde_json::from_reader(stdout).unwrap();
    let failed: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "check_failed")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["custom check could not run: timed out after 1 s"]);
    write_sqlite(&url, std::time::Duration::from_secs(2))
        .await
        .expect("a writer can write after the check");

    // watch stays up after its run: the statement that timed out no longer
    // holds the file, so a writer writes while tether still runs.
    let mut watch = spawn_tether(&[&["watch", "--interval", "3600"][..], &args].concat());
    let stdout = watch.0.as_mut().unwrap().stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let alert = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("no alert from watch");
    assert!(
        alert.contains("\"event\":\"check_failed\"") && alert.contains("timed out after 1 s"),
        "{alert}"
    );
    write_sqlite(&url, std::time::Duration::from_secs(2))
        .await
        .expect("the statement past its timeout still holds the file");
    assert!(watch.0.as_mut().unwrap().try_wait().unwrap().is_none());
    interrupt(watch.0.as_ref().unwrap().id());
    let (code, stderr) = ended_within(watch, std::time::Duration::from_secs(30))
        .await
        .expect("watch did not stop on Ctrl-C");
    assert_eq!(code, Some(0), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_stops_a_sqlite_statement() {
    let (_dir, url, profile) = tokio::task::spawn_blocking(slow_sqlite).await.unwrap();
    let check = spawn_tether(&[
        "check",
        "--url",
        &url,
        "--profile",
        &profile,
        "--timeout",
        "600",
    ]);
    until_a_reader_holds(&url).await;
    interrupt(check.0.as_ref().unwrap().id());
    let (code, stderr) = ended_within(check, std::time::Duration::from_secs(30))
        .await
        .expect("check went on after Ctrl-C");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("tether: error: interrupted"), "{stderr}");
    write_sqlite(&url, std::time::Duration::from_secs(2))
        .await
        .expect("a writer can write right after");
}
