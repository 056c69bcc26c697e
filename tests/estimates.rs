//! Estimates first: a pass over a table larger than a sample is estimated
//! from a sample of it (PostgreSQL `TABLESAMPLE SYSTEM`; SQLite and MySQL
//! blocks of the whole-number key), marked as an estimate with its basis,
//! then — unless the run asked for estimates only — replaced by the exact
//! count. Run on all three engines against counts known by construction.

mod common;

use common::TestDb;
use std::sync::Arc;
use tether::checks::plan::{Plan, PlanOptions, Shape};
use tether::db::{Db, SessionOptions};
use tether::runner::{Estimates, Event, RunOptions, run_to_end};
use tether::sql::render::Sampling;

const ROWS: u64 = 200_000;
/// Every 100th event references no account.
const ORPHANS: u64 = ROWS / 100;

/// 1,000 accounts; 200,000 events with an integer key, every 100th an
/// orphan, stored in key order so the orphans are spread evenly over the
/// table's pages (a sample of pages or of key blocks is then fair: clustered
/// orphans make any such sample less exact, which is why it is marked);
/// statistics gathered.
async fn fixture(db: &TestDb) {
    let digits = "CREATE TABLE d (n int);
         INSERT INTO d VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9);";
    let numbers =
        "SELECT a.n + 10 * b.n + 100 * c.n + 1000 * e.n + 10000 * f.n + 100000 * g.n + 1 AS x
                   FROM d a, d b, d c, d e, d f, d g WHERE g.n < 2";
    let (declare, analyze) = if db.is_postgres() {
        (
            "ALTER TABLE events ADD FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;",
            "ANALYZE accounts; ANALYZE events;",
        )
    } else if db.is_mysql() {
        (
            "ALTER TABLE events ADD FOREIGN KEY (account_id) REFERENCES accounts (id);",
            "ANALYZE TABLE accounts; ANALYZE TABLE events;",
        )
    } else {
        ("", "ANALYZE;")
    };
    // SQLite: a rowid table whose key is not the rowid's alias.
    let (key, reference) = if db.is_postgres() || db.is_mysql() {
        ("bigint", "")
    } else {
        ("int", " REFERENCES accounts (id)")
    };
    db.exec(&format!(
        "{digits}
         CREATE TABLE accounts (id int PRIMARY KEY, tenant int);
         INSERT INTO accounts SELECT x, x % 7 FROM ({numbers}) AS t WHERE x <= 1000;
         CREATE TABLE events (id {key} PRIMARY KEY, account_id int{reference}, tenant int);
         INSERT INTO events
           SELECT x, CASE WHEN x % 100 = 0 THEN 1000000 + x ELSE 1 + x % 1000 END, (1 + x % 1000) % 7
           FROM ({numbers}) AS t
           ORDER BY x;
         {declare}
         {analyze}"
    ))
    .await;
}

fn pass_over_events(plan: &Plan) -> (usize, usize) {
    let orphans = plan
        .checks
        .iter()
        .position(|c| c.key == "orphans:events(account_id) → accounts(id)")
        .expect("the orphan check");
    let s = plan
        .statements
        .iter()
        .position(|s| s.shape == Shape::Scan && s.checks.contains(&orphans))
        .expect("a shared pass reads the orphans");
    (orphans, s)
}

async fn estimates_then_exact(db: TestDb) {
    fixture(&db).await;
    let conn = Db::connect(&db.url, SessionOptions::default())
        .await
        .expect("connect");
    let schema = tether::catalog::read(&conn, &[]).await.expect("catalog");
    // On SQLite and MySQL an orphan check shares a pass (and so can be
    // sampled) when a tenant check goes through the same parent.
    let options = PlanOptions {
        tenant_columns: Some(vec!["tenant".into()]),
        ..PlanOptions::default()
    };
    let plan = Arc::new(Plan::build(schema, None, &options));
    let (orphans, s) = pass_over_events(&plan);
    let sampling = plan.statements[s].sampling.clone().expect("a large table");
    match (&sampling, db.is_postgres()) {
        (Sampling::Pages { percent }, true) => assert!(*percent < 100.0, "{percent}"),
        (Sampling::KeyBlocks { .. }, false) => {}
        other => panic!("{}: {other:?}", db.url),
    }
    // The small table is counted whole.
    assert!(
        plan.statements
            .iter()
            .filter(|st| st.key == "scan:accounts")
            .all(|st| st.sampling.is_none()),
        "{:#?}",
        plan.statements
    );

    // Estimates only.
    let only = RunOptions {
        estimates: Estimates::Only,
        ..RunOptions::default()
    };
    let result = run_to_end(&conn, plan.clone(), &only, |_| {}).await;
    let outcome = result.outcomes[orphans].clone().expect("decided");
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let estimate = outcome.estimate.clone().expect("estimated");
    assert!(
        estimate.fraction > 0.0 && estimate.fraction < 1.0,
        "{estimate:?}"
    );
    let count = outcome.count.expect("a count");
    let total = outcome.total.expect("a total");
    assert!(
        count.abs_diff(ORPHANS) <= ORPHANS * 3 / 10,
        "{}: ≈ {count} orphans, exactly {ORPHANS}: {estimate:?}",
        db.url
    );
    assert!(
        total.abs_diff(ROWS) <= ROWS / 5,
        "{}: ≈ {total} rows, exactly {ROWS}: {estimate:?}",
        db.url
    );
    assert!(estimate.sampled_count > 0 && estimate.sampled_rows > 0);
    let finding = result
        .findings
        .iter()
        .find(|f| f.key == "orphans:events(account_id) → accounts(id)")
        .expect("a finding");
    assert!(finding.message.starts_with("≈ "), "{}", finding.message);
    assert!(finding.message.contains("estimated"), "{}", finding.message);
    assert_eq!(finding.estimate.as_ref(), Some(&estimate));
    // The sample rows are real orphans.
    assert!(!finding.sample.is_empty());
    for row in &finding.sample {
        let account = row
            .iter()
            .find(|(label, _)| *label == "account_id")
            .map(|(_, v)| v.to_string())
            .expect("account_id in the sample");
        let account: u64 = account.trim_matches('"').parse().expect("a number");
        assert!(account > 1_000_000, "{row:?}");
    }
    let json = serde_json::to_value(finding).unwrap();
    assert_eq!(json["estimate"]["sampled_count"], estimate.sampled_count);

    // Estimates first, then exact.
    let first = RunOptions {
        estimates: Estimates::First { above: 0 },
        ..RunOptions::default()
    };
    let mut order = Vec::new();
    let result = run_to_end(&conn, plan.clone(), &first, |event| match event {
        Event::Estimated {
            statement, checks, ..
        } if *statement == s => {
            let (_, o) = checks
                .iter()
                .find(|(c, _)| *c == orphans)
                .expect("the orphan check estimated");
            assert!(o.estimate.is_some());
            order.push("estimate");
        }
        Event::Checked { check, outcome } if *check == orphans => {
            assert!(outcome.estimate.is_none());
            order.push("exact");
        }
        _ => {}
    })
    .await;
    assert_eq!(order, ["estimate", "exact"], "{}", db.url);
    let outcome = result.outcomes[orphans].clone().expect("decided");
    assert_eq!((outcome.count, outcome.total), (Some(ORPHANS), Some(ROWS)));
    assert!(result.findings.iter().all(|f| f.estimate.is_none()));
    assert!(
        result.estimated_first.iter().any(|(e, _)| *e == s),
        "{:?}",
        result.estimated_first
    );
    conn.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn estimates_then_exact_on_postgres() {
    estimates_then_exact(TestDb::postgres().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn estimates_then_exact_on_mysql() {
    estimates_then_exact(TestDb::mysql().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn estimates_then_exact_on_sqlite() {
    estimates_then_exact(TestDb::sqlite()).await;
}

fn tether() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("tether").unwrap();
    cmd.env_remove("DATABASE_URL").env("NO_COLOR", "1");
    cmd
}

/// `check --estimate`: the report marks each estimated finding (`estimate`
/// with its basis, `≈` in the text) and lists the sampled pass as an
/// `estimate` statement; without it, the same database is counted exactly.
#[tokio::test(flavor = "multi_thread")]
async fn check_estimate_marks_what_it_estimated() {
    let db = TestDb::sqlite();
    fixture(&db).await;
    let key = "orphans:events(account_id) → accounts(id)";
    let run = |extra: &[&str]| {
        let output = tether()
            .args(["check", "--url", &db.url, "--tenant-columns", "tenant"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let estimated: serde_json::Value =
        serde_json::from_str(&run(&["--estimate", "--format", "json"])).unwrap();
    let finding = estimated["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
        .expect("the orphan finding");
    let count = finding["count"].as_u64().unwrap();
    assert!(count.abs_diff(ORPHANS) <= ORPHANS * 3 / 10, "{finding:#}");
    assert!(finding["estimate"]["fraction"].as_f64().unwrap() < 1.0);
    assert!(
        finding["estimate"]["basis"]
            .as_str()
            .unwrap()
            .contains("blocks"),
        "{finding:#}"
    );
    let kinds: Vec<&str> = estimated["statements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["key"].as_str().unwrap().starts_with("scan:events"))
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["estimate"]);
    assert!(run(&["--estimate"]).contains("≈ "));

    let exact: serde_json::Value = serde_json::from_str(&run(&["--format", "json"])).unwrap();
    let finding = exact["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
        .expect("the orphan finding");
    assert_eq!(finding["count"], ORPHANS);
    assert!(finding.get("estimate").is_none(), "{finding:#}");
    assert!(!run(&[]).contains('≈'));
}

/// `watch`'s first run, when a pass would not finish within the interval:
/// an `estimate` line per finding from the sample comes first, then the
/// exact findings (`new`).
#[tokio::test(flavor = "multi_thread")]
async fn watch_says_the_estimate_first() {
    let db = TestDb::sqlite();
    fixture(&db).await;
    let output = tether()
        .args(["watch", "--url", &db.url, "--tenant-columns", "tenant"])
        .args(["--once", "--interval", "0.1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let key = "orphans:events(account_id) → accounts(id)";
    let events: Vec<(&str, u64)> = lines
        .iter()
        .filter(|l| l["key"] == key)
        .map(|l| (l["event"].as_str().unwrap(), l["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(events.len(), 2, "{lines:#?}");
    assert_eq!(events[0].0, "estimate");
    assert!(events[0].1.abs_diff(ORPHANS) <= ORPHANS * 3 / 10);
    assert_eq!(events[1], ("new", ORPHANS));
    let message = lines.iter().find(|l| l["event"] == "estimate").unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.starts_with("≈ "), "{message}");
}
