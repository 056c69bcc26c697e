//! When offending rows were written, on PostgreSQL, MariaDB and SQLite: the
//! time column each table has (detected by name and type, or the profile's),
//! the first and last time of a check's offending rows and every bucket of
//! its histogram, against times written by hand.
//!
//! Three child tables, each with a reference no constraint holds, so that
//! orphans can be planted with known times, and a time column of each kind the
//! engine has: an instant (`timestamptz`, MySQL `TIMESTAMP`, SQLite ISO text
//! with `T` and `Z`), a local date and time (`timestamp`, `DATETIME`, SQLite
//! seconds since 1970) and a day (`date`, `DATE`, SQLite text). Their spans
//! pick minutes, weeks (which start on Monday: a Sunday belongs to the week
//! before) and months. The PostgreSQL sessions run in a zone five and a half
//! hours east of UTC, the MariaDB rows are written in one five hours west:
//! times come out in UTC whatever the session's zone.

mod common;

use common::TestDb;
use tether::checks::CheckId;
use tether::checks::plan::{Plan, PlanOptions};
use tether::db::{Db, SessionOptions};
use tether::offending;
use tether::profile::Profile;
use tether::timeline::{Facts, Timeline};

#[derive(Clone, Copy, PartialEq)]
enum Dialect {
    Postgres,
    Mysql,
    Sqlite,
}

const PROFILE: &str = r#"
[tenant]
columns = ["tenant_id"]

[tables.children]
breakdown = ["kind", "owner_id.tier", "owner_id.region_id.name"]

[[relationship]]
child = "children"
columns = ["owner_id"]
parent = "owners"

[[relationship]]
child = "owners"
columns = ["region_id"]
parent = "regions"

[[relationship]]
child = "children"
columns = ["parent_id"]
parent = "parents"

[[relationship]]
child = "events"
columns = ["parent_id"]
parent = "parents"

[[relationship]]
child = "logs"
columns = ["parent_id"]
parent = "parents"

[[relationship]]
child = "plain"
columns = ["parent_id"]
parent = "parents"

[[relationship]]
child = "notes"
columns = ["parent_id"]
parent = "parents"

[tables.notes]
time_column = "written"

# The children's orphans again, as a query: its created_at found by name,
# its tenant_id and kind grouped.
[[assertion]]
name = "stray_children"
breakdown = ["kind"]
sql = "SELECT c.id, c.created_at, c.tenant_id, c.kind FROM children c WHERE c.parent_id = 99"

# A time column the query names otherwise, named by the profile.
[[assertion]]
name = "stray_events"
time_column = "seen"
sql = "SELECT e.id, e.inserted_at AS seen FROM events e WHERE e.parent_id = 99"

[[assertion]]
name = "stray_logs"
time_column = "day"
sql = "SELECT l.created AS day FROM logs l WHERE l.parent_id = 99"

[[assertion]]
name = "stray_plain"
time_column = ""
sql = "SELECT p.id FROM plain p WHERE p.parent_id = 99"
"#;

/// The tables, in the dialect's types; orphans reference parent 99.
fn schema(dialect: Dialect) -> String {
    let (instant, local, day, text) = match dialect {
        Dialect::Postgres => ("timestamptz", "timestamp", "date", "timestamp"),
        Dialect::Mysql => ("TIMESTAMP NULL", "DATETIME", "DATE", "DATETIME"),
        Dialect::Sqlite => ("TEXT", "INTEGER", "DATE", "TEXT"),
    };
    format!(
        "CREATE TABLE parents (id int PRIMARY KEY);
         CREATE TABLE regions (id int PRIMARY KEY, name varchar(10));
         CREATE TABLE owners (id int PRIMARY KEY, tier varchar(10), region_id int);
         CREATE TABLE children (id int PRIMARY KEY, parent_id int, created_at {instant},
                                tenant_id varchar(20), kind varchar(10), owner_id int);
         CREATE TABLE events (id int PRIMARY KEY, parent_id int, inserted_at {local});
         CREATE TABLE logs (id int PRIMARY KEY, parent_id int, created {day});
         CREATE TABLE plain (id int PRIMARY KEY, parent_id int, label varchar(20));
         CREATE TABLE notes (id int PRIMARY KEY, parent_id int, created_at {text}, written {text});
         INSERT INTO parents VALUES (1);
         INSERT INTO regions VALUES (1, 'north'), (2, 'south');
         INSERT INTO owners VALUES (1, 'gold', 2), (2, 'silver', 1), (3, NULL, NULL);"
    )
}

/// The rows: valid ones at other times (never counted), orphans at known ones.
fn rows(dialect: Dialect) -> String {
    let instant = |t: &str| match dialect {
        // Written in the session's zone (-05:00) as the same instants.
        Dialect::Mysql => format!("CONVERT_TZ('{t}', '+00:00', '-05:00')"),
        Dialect::Sqlite => format!("'{}Z'", t.replace(' ', "T")),
        Dialect::Postgres => format!("'{t}+00'"),
    };
    let local = |t: &str| match dialect {
        Dialect::Sqlite => format!("unixepoch('{t}')"),
        _ => format!("'{t}'"),
    };
    let mut sql = String::new();
    // Owners: the orphans' tiers are gold 3, silver 2, and NULL 2 (an owner
    // without a tier, and no owner); their owners' regions south 3, north 2,
    // NULL 2 (an owner without a region, and no owner).
    for (id, parent, at, tenant, owner) in [
        (1, 1, Some("2025-01-01 00:00:00"), "'acme'", "2"),
        (2, 99, Some("2026-11-30 23:58:00"), "'acme'", "1"),
        (3, 99, Some("2026-12-01 00:10:00"), "'acme'", "1"),
        (4, 99, Some("2026-12-01 00:10:59"), "'acme'", "2"),
        (5, 99, Some("2026-12-01 00:40:00"), "NULL", "1"),
        (6, 99, None, "NULL", "3"),
        (7, 99, None, "'globex'", "NULL"),
        (8, 99, None, "'initech'", "2"),
    ] {
        let at = at.map_or("NULL".to_string(), instant);
        sql.push_str(&format!(
            "INSERT INTO children VALUES ({id}, {parent}, {at}, {tenant}, 'k{id}', {owner});\n"
        ));
    }
    for (id, parent, at) in [
        (1, 1, "2020-01-01 00:00:00"),
        (2, 99, "2026-01-15 08:00:00"),
        (3, 99, "2026-01-18 23:59:59"),
        (4, 99, "2026-01-19 00:00:00"),
        (5, 99, "2026-06-01 12:00:00"),
    ] {
        let at = local(at);
        sql.push_str(&format!(
            "INSERT INTO events VALUES ({id}, {parent}, {at});\n"
        ));
    }
    for (id, parent, day) in [
        (1, 1, "2019-05-05"),
        (2, 99, "2024-02-29"),
        (3, 99, "2024-02-01"),
        (4, 99, "2025-06-30"),
    ] {
        sql.push_str(&format!(
            "INSERT INTO logs VALUES ({id}, {parent}, '{day}');\n"
        ));
    }
    sql.push_str("INSERT INTO plain VALUES (1, 99, 'no time');\n");
    sql.push_str(
        "INSERT INTO notes VALUES (1, 99, '2026-01-01 00:00:00', '2026-02-03 04:05:06');\n",
    );
    sql
}

/// The orphans check of `child`'s reference to `parents`.
fn orphans_of(plan: &Plan, child: &str) -> usize {
    plan.checks
        .iter()
        .position(|c| c.id == CheckId::Orphans && c.key.contains(&format!(":{child}(parent_id)")))
        .unwrap_or_else(|| panic!("an orphans check of {child}"))
}

/// What the statement of their own reads of check `check`'s offending rows
/// (the server groups them).
async fn read_apart(db: &Db, plan: &Plan, check: usize) -> Facts {
    offending::facts(db, plan, check)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", plan.checks[check].key))
        .0
}

/// The timeline of the orphans of `child`'s reference to `parents`.
async fn orphans_timeline(db: &Db, plan: &Plan, child: &str) -> Option<Timeline> {
    read_apart(db, plan, orphans_of(plan, child)).await.timeline
}

/// A breakdown's largest groups: value (None: NULL) and rows.
type Groups<'a> = Vec<(Option<&'a str>, u64)>;

/// The children's orphans by tenant (NULL a group of its own), by the
/// profile's `kind`, by their owner's tier (through `owner_id`; NULL where
/// the owner has none or there is no owner) and by their owner's region's
/// name (two references away): the largest groups
/// first, ties by value, five at most, and how many groups there are; a
/// table with neither has none.
async fn breakdowns_are_exact(db: &Db, plan: &Plan) {
    let found = read_apart(db, plan, orphans_of(plan, "children"))
        .await
        .breakdowns;
    let groups: Vec<(&str, Groups, u64)> = found
        .iter()
        .map(|b| {
            let top = b.top.iter().map(|(v, n)| (v.as_deref(), *n)).collect();
            (b.column.as_str(), top, b.groups)
        })
        .collect();
    let tenants = vec![
        (Some("acme"), 3),
        (None, 2),
        (Some("globex"), 1),
        (Some("initech"), 1),
    ];
    let kinds = ["k2", "k3", "k4", "k5", "k6"]
        .map(|k| (Some(k), 1))
        .to_vec();
    let tiers = vec![(Some("gold"), 3), (Some("silver"), 2), (None, 2)];
    let regions = vec![(Some("south"), 3), (Some("north"), 2), (None, 2)];
    assert_eq!(
        groups,
        [
            ("tenant_id", tenants, 4),
            ("kind", kinds, 7),
            ("owner_id.tier", tiers, 3),
            ("owner_id.region_id.name", regions, 3)
        ]
    );
    let none = read_apart(db, plan, orphans_of(plan, "plain")).await;
    assert_eq!(none, Facts::default());
}

fn buckets(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|(b, n)| (b.to_string(), *n)).collect()
}

/// What every engine must say, whatever its types and session zone.
async fn timelines_are_exact(url: &str) {
    let db = Db::connect(url, SessionOptions::default())
        .await
        .expect("connect");
    let profile = Profile::parse(PROFILE, "timeline.toml").expect("profile parses");
    let schema = tether::catalog::read(&db, &[]).await.expect("catalog");
    let plan = Plan::build(schema, Some(&profile), &PlanOptions::default());

    let t = orphans_timeline(&db, &plan, "children").await.unwrap();
    assert_eq!(
        (t.column.as_str(), t.chosen, t.unit.as_str()),
        ("created_at", "detected", "minute")
    );
    assert_eq!(t.first_at.as_deref(), Some("2026-11-30 23:58:00"));
    assert_eq!(t.last_at.as_deref(), Some("2026-12-01 00:40:00"));
    assert_eq!((t.rows, t.untimed), (7, 3));
    assert_eq!(
        t.buckets,
        buckets(&[
            ("2026-11-30 23:58:00", 1),
            ("2026-12-01 00:10:00", 2),
            ("2026-12-01 00:40:00", 1),
        ])
    );

    breakdowns_are_exact(&db, &plan).await;

    let t = orphans_timeline(&db, &plan, "events").await.unwrap();
    assert_eq!(
        (t.column.as_str(), t.unit.as_str()),
        ("inserted_at", "week")
    );
    assert_eq!(t.first_at.as_deref(), Some("2026-01-15 08:00:00"));
    assert_eq!(t.last_at.as_deref(), Some("2026-06-01 12:00:00"));
    assert_eq!(
        t.buckets,
        buckets(&[
            ("2026-01-12 00:00:00", 2),
            ("2026-01-19 00:00:00", 1),
            ("2026-06-01 00:00:00", 1),
        ])
    );

    let t = orphans_timeline(&db, &plan, "logs").await.unwrap();
    assert_eq!((t.column.as_str(), t.unit.as_str()), ("created", "month"));
    assert_eq!(t.first_at.as_deref(), Some("2024-02-01 00:00:00"));
    assert_eq!(t.last_at.as_deref(), Some("2025-06-30 00:00:00"));
    assert_eq!(
        t.buckets,
        buckets(&[("2024-02-01 00:00:00", 2), ("2025-06-01 00:00:00", 1)])
    );

    // No time column: no timeline, and nothing fails.
    assert_eq!(orphans_timeline(&db, &plan, "plain").await, None);

    // The profile's choice wins over the detected `created_at`.
    let t = orphans_timeline(&db, &plan, "notes").await.unwrap();
    assert_eq!((t.column.as_str(), t.chosen), ("written", "profile"));
    assert_eq!(t.first_at.as_deref(), Some("2026-02-03 04:05:06"));
    assert_eq!(t.buckets, buckets(&[("2026-02-03 04:05:00", 1)]));
    db.close().await;
}

/// The pass that counts the orphans learns the same, from every offending
/// row it reads: each finding of a table with a time or breakdown column
/// carries them, equal to what the statements of their own read.
async fn the_pass_learns_the_same(url: &str) {
    let (plan, result) = common::check(url, Some(PROFILE), PlanOptions::default()).await;
    let db = Db::connect(url, SessionOptions::default())
        .await
        .expect("connect");
    for child in ["children", "events", "logs", "notes"] {
        let check = orphans_of(&plan, child);
        let finding = result
            .findings
            .iter()
            .find(|f| f.check == CheckId::Orphans && f.key == plan.checks[check].key)
            .unwrap_or_else(|| panic!("the orphans of {child}"));
        let facts = finding
            .facts
            .as_deref()
            .unwrap_or_else(|| panic!("{child}: no timeline from the pass"));
        let read = read_apart(&db, &plan, check).await;
        assert_eq!(*facts, read, "{child}");
    }
    // Every row check of a table read together, in one statement: each as
    // read alone (and as its pass learnt it).
    let children: Vec<usize> = (0..plan.checks.len())
        .filter(|&c| {
            plan.checks[c].table == plan.checks[orphans_of(&plan, "children")].table
                && matches!(plan.checks[c].work, tether::checks::plan::Work::Rows(_))
        })
        .collect();
    assert!(children.len() >= 3, "{children:?}");
    let (together, sent) = offending::facts_of_table(&db, &plan, &children)
        .await
        .unwrap();
    assert_eq!(sent.len(), 1);
    for (check, facts) in children.iter().zip(&together) {
        assert_eq!(*facts, read_apart(&db, &plan, *check).await);
        if let Some(f) = result
            .findings
            .iter()
            .find(|f| f.key == plan.checks[*check].key)
        {
            assert_eq!(f.facts.as_deref(), Some(facts), "{}", f.key);
        }
    }
    // No sample kept (`--sample 0`): the pass still learns when and whose.
    let none_kept = PlanOptions {
        sample: 0,
        ..PlanOptions::default()
    };
    let (bare_plan, bare) = common::check(url, Some(PROFILE), none_kept).await;
    let check = orphans_of(&bare_plan, "children");
    let finding = bare
        .findings
        .iter()
        .find(|f| f.key == bare_plan.checks[check].key)
        .unwrap();
    assert!(finding.sample.is_empty());
    let read = read_apart(&db, &bare_plan, check).await;
    assert_eq!(finding.facts.as_deref().unwrap(), &read);
    // Neither a time nor a breakdown column: nothing to say, and nothing fails.
    let plain = orphans_of(&plan, "plain");
    let finding = result
        .findings
        .iter()
        .find(|f| f.key == plan.checks[plain].key)
        .unwrap();
    assert_eq!(finding.facts, None);
    let json = serde_json::to_value(
        result
            .findings
            .iter()
            .find(|f| f.key == plan.checks[orphans_of(&plan, "children")].key)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(json["first_at"], "2026-11-30 23:58:00");
    assert_eq!(json["last_at"], "2026-12-01 00:40:00");
    assert_eq!(json["timeline"]["unit"], "minute");
    assert_eq!(
        json["timeline"]["buckets"][1],
        serde_json::json!(["2026-12-01 00:10:00", 2])
    );
    assert_eq!(json["breakdown"][0]["column"], "tenant_id");
    db.close().await;
}

/// A profile's choice that cannot hold is said, with its line, as a
/// `check_failed` finding; everything else still runs.
async fn wrong_choices_are_said(url: &str) {
    let profile = "[tables.plain]\ntime_column = \"label\"\n\n\
                   [tables.children]\nbreakdown = [\"missing\", \"kind.x\", \"parent_id.nope\"]\n\n\
                   [tables.nope]\nbreakdown = [\"x\"]\n\n\
                   [[relationship]]\nchild = \"children\"\ncolumns = [\"parent_id\"]\nparent = \"parents\"\n";
    let (_, result) = common::check(url, Some(profile), PlanOptions::default()).await;
    let said: Vec<&str> = result
        .findings
        .iter()
        .filter(|f| f.check == CheckId::CheckFailed)
        .map(|f| f.message.as_str())
        .collect();
    for expected in [
        "time column \"label\" is character varying(20), not a date or time",
        "\"missing\" is not a column of children",
        "\"kind\" references no table, so \"kind.x\" reaches no column",
        "\"nope\" is not a column of parents, which \"parent_id.nope\" reaches",
        "table \"nope\" does not exist",
    ] {
        assert!(
            said.iter().any(|m| m.contains(expected)),
            "{expected}: {said:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_timelines_are_exact_in_utc() {
    let db = TestDb::postgres().await;
    // tether's sessions read in +05:30; the instants still come out in UTC.
    db.exec(&format!(
        "ALTER DATABASE \"{}\" SET timezone = 'Asia/Kolkata'",
        db.name()
    ))
    .await;
    db.exec(&schema(Dialect::Postgres)).await;
    db.exec(&rows(Dialect::Postgres)).await;
    timelines_are_exact(&db.url).await;
    the_pass_learns_the_same(&db.url).await;
    assertions_say_when_and_whose(&db.url).await;
    wrong_choices_are_said(&db.url).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mysql_timelines_are_exact_in_utc() {
    let db = TestDb::mysql().await;
    db.exec(&schema(Dialect::Mysql)).await;
    db.exec(&format!(
        "SET time_zone = '-05:00';\n{}",
        rows(Dialect::Mysql)
    ))
    .await;
    timelines_are_exact(&db.url).await;
    the_pass_learns_the_same(&db.url).await;
    assertions_say_when_and_whose(&db.url).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_timelines_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.sqlite?mode=rwc", dir.path().display());
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let script = format!("{}{}", schema(Dialect::Sqlite), rows(Dialect::Sqlite));
        sqlx::raw_sql(sqlx::AssertSqlSafe(script))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    let url = url.trim_end_matches("?mode=rwc").to_string();
    timelines_are_exact(&url).await;
    the_pass_learns_the_same(&url).await;
    assertions_say_when_and_whose(&url).await;
}

/// A profile assertion that returns rows has a timeline and breakdowns as
/// a row check does: the same rows as the orphans of `children`, `events`
/// and `logs`, returned by queries, say the same, whatever type the time
/// has on the engine (an instant read in +05:30 on PostgreSQL, whole
/// seconds on SQLite, a day).
async fn assertions_say_when_and_whose(url: &str) {
    let (plan, result) = common::check(url, Some(PROFILE), PlanOptions::default()).await;
    let facts_of = |key: &str| {
        result
            .findings
            .iter()
            .find(|f| f.key == key)
            .unwrap_or_else(|| panic!("{key}: {:?}", result.findings))
            .facts
            .as_deref()
            .cloned()
    };
    let orphans = |child: &str| facts_of(&plan.checks[orphans_of(&plan, child)].key).unwrap();
    let stray = facts_of("custom:stray_children").unwrap();
    let children = orphans("children");
    let timeline = stray.timeline.clone().unwrap();
    assert_eq!(
        (timeline.column.as_str(), timeline.chosen),
        ("created_at", "detected")
    );
    assert_eq!(
        (
            timeline.buckets,
            timeline.first_at,
            timeline.rows,
            timeline.untimed
        ),
        {
            let t = children.timeline.clone().unwrap();
            (t.buckets, t.first_at, t.rows, t.untimed)
        }
    );
    assert_eq!(stray.breakdowns, children.breakdowns[..2]);
    for (name, child, column) in [
        ("stray_events", "events", "seen"),
        ("stray_logs", "logs", "day"),
    ] {
        let t = facts_of(&format!("custom:{name}"))
            .unwrap()
            .timeline
            .unwrap();
        let expected = orphans(child).timeline.unwrap();
        assert_eq!((t.column.as_str(), t.chosen), (column, "profile"), "{name}");
        assert_eq!(
            (t.unit, t.buckets, t.first_at, t.last_at),
            (
                expected.unit,
                expected.buckets,
                expected.first_at,
                expected.last_at
            ),
            "{name}"
        );
    }
    // No time column, no tenant column: nothing to say.
    assert_eq!(facts_of("custom:stray_plain"), None);
}

/// More offending rows than a pass keeps: the run's finding says there is
/// no timeline and why, never a timeline of part of them; statements of
/// their own read it whole, and `tether check` does so, listing them.
#[tokio::test(flavor = "multi_thread")]
async fn beyond_what_a_pass_keeps_the_timeline_is_omitted_not_partial() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/many.sqlite?mode=rwc", dir.path().display());
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let script = "CREATE TABLE parents (id int PRIMARY KEY);
             CREATE TABLE many (id INTEGER PRIMARY KEY, parent_id int, created_at TEXT);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10001)
             INSERT INTO many SELECT i, 99, datetime(1767225600 + i, 'unixepoch') FROM n;
             CREATE TABLE more AS SELECT * FROM many;";
        sqlx::raw_sql(script).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    }
    let url = url.trim_end_matches("?mode=rwc").to_string();
    let profile = "[[relationship]]\nchild = \"many\"\ncolumns = [\"parent_id\"]\nparent = \"parents\"\n\n\
                   [[relationship]]\nchild = \"more\"\ncolumns = [\"parent_id\"]\nparent = \"parents\"\n";
    let (plan, result) = common::check(&url, Some(profile), PlanOptions::default()).await;
    let check = orphans_of(&plan, "many");
    let finding = result
        .findings
        .iter()
        .find(|f| f.check == CheckId::Orphans)
        .unwrap();
    assert_eq!(finding.count, Some(10_001));
    let facts = finding.facts.as_deref().unwrap();
    assert_eq!(facts.timeline, None);
    assert_eq!(
        facts.omitted.as_deref(),
        Some("the pass keeps 10,000 of its 10,001 offending rows")
    );
    let db = Db::connect(&url, SessionOptions::default()).await.unwrap();
    let whole = read_apart(&db, &plan, check).await.timeline.unwrap();
    assert_eq!((whole.rows, whole.unit.as_str()), (10_001, "hour"));
    assert_eq!(whole.buckets.iter().map(|(_, n)| n).sum::<u64>(), 10_001);
    db.close().await;

    // `tether check` reads it apart, and lists the statements it sent.
    let file = dir.path().join("p.toml");
    std::fs::write(&file, profile).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["check", "--url", &url, "--format", "json", "--profile"])
        .arg(&file)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let orphans: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "orphans")
        .collect();
    assert_eq!(orphans.len(), 2);
    for orphans in orphans {
        assert_eq!(orphans["timeline"]["rows"], 10_001, "{orphans}");
        assert_eq!(orphans["timeline_omitted"], serde_json::Value::Null);
    }
    let apart: Vec<&str> = report["statements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "timeline")
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        apart,
        ["timeline:many", "timeline:more"],
        "one statement per table"
    );
}

/// PostgreSQL's `infinity` and `-infinity` are no time: rows holding them
/// count as rows without a time, in the pass and apart, and nothing fails.
#[tokio::test(flavor = "multi_thread")]
async fn infinite_timestamps_are_rows_without_a_time() {
    let db = TestDb::postgres().await;
    db.exec(
        "CREATE TABLE parents (id int PRIMARY KEY);
         CREATE TABLE children (id int PRIMARY KEY, parent_id int, created_at timestamptz, day date);
         INSERT INTO children VALUES
           (1, 99, 'infinity', 'infinity'), (2, 99, '-infinity', '-infinity'),
           (3, 99, '2026-12-01 10:00:00+00', '2026-12-01');",
    )
    .await;
    one_timed_of_three(&db.url, &["created_at", "day"]).await;
}

/// MySQL's zero and invalid dates (kept when `sql_mode` allows them) are no
/// time: rows holding them count as rows without a time, in the pass and
/// apart, and a zero `TIMESTAMP` is not read as 1970.
#[tokio::test(flavor = "multi_thread")]
async fn mysql_zero_dates_are_rows_without_a_time() {
    let db = TestDb::mysql().await;
    db.exec(
        "SET SESSION sql_mode = '';
         CREATE TABLE parents (id int PRIMARY KEY);
         CREATE TABLE children (id int PRIMARY KEY, parent_id int, created_at DATETIME, at TIMESTAMP NULL);
         INSERT INTO children VALUES
           (1, 99, '0000-00-00 00:00:00', '0000-00-00 00:00:00'),
           (2, 99, '2026-00-10 00:00:00', NULL),
           (3, 99, '2026-12-01 10:00:00', '2026-12-01 10:00:00');",
    )
    .await;
    one_timed_of_three(&db.url, &["created_at", "at"]).await;
}

/// Three orphans of `children`, one with a time in each of `columns` (named
/// the time column in turn): the pass and the statements apart both count
/// three rows, two without a time.
async fn one_timed_of_three(url: &str, columns: &[&str]) {
    let profile =
        "[[relationship]]\nchild = \"children\"\ncolumns = [\"parent_id\"]\nparent = \"parents\"\n";
    for column in columns {
        let profile = format!("{profile}\n[tables.children]\ntime_column = \"{column}\"\n");
        let (plan, result) = common::check(url, Some(&profile), PlanOptions::default()).await;
        let finding = result
            .findings
            .iter()
            .find(|f| f.check == CheckId::Orphans)
            .unwrap_or_else(|| panic!("{column}: the orphans: {:?}", result.findings));
        let t = finding.facts.as_deref().unwrap().timeline.clone().unwrap();
        assert_eq!((t.rows, t.untimed), (3, 2), "{column}");
        assert_eq!(t.first_at, t.last_at, "{column}");
        let db = Db::connect(url, SessionOptions::default()).await.unwrap();
        let apart = read_apart(&db, &plan, orphans_of(&plan, "children"))
            .await
            .timeline
            .unwrap();
        assert_eq!(apart, t, "{column}");
        db.close().await;
    }
}
