//! A check's offending rows, page by page on the table's key, on SQLite and on
//! real PostgreSQL and MariaDB servers: every offending row exactly once, in
//! key order, with all its columns as text, and no other row; the statement a
//! person copies returns the same rows; a table without a usable key is an
//! error (SQLite pages it by its rowid).
//!
//! The child table has a composite primary key, quoted and non-ASCII names
//! (`Kind "Ä"`, `Nr "x"`, `daten ß`), NULLs, bytes (`bytea`, BLOB) and JSON.

mod common;

use common::{Roles, TestDb};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use tether::cell::{Cell, CellKind};
use tether::checks::CheckId;
use tether::checks::plan::{Plan, PlanOptions, Work};
use tether::db::{Db, SessionOptions};
use tether::offending::{self, Page};

const CHILD: &str = "Kind \"Ä\"";
const PARENT: &str = "Eltern Ä";
const KEYLESS: &str = "Lose";

/// The fixture's child rows, `i` in 0..90. Key (`Teil`, `Nr "x"`): `i % 3 + 1`,
/// `n{i / 3:02}`, so key order interleaves the kinds of row below.
struct Row {
    i: usize,
    parent_id: Option<i64>,
    tenant: Option<&'static str>,
    bytes: Option<Vec<u8>>,
    note: Option<String>,
}

/// By `i % 10`: 0, 3, 6 orphans (27 rows); 1 a NULL reference (never an
/// orphan); 2 a parent of the other tenant (9 mismatches); 5 no tenant (9
/// gaps); the rest a parent of the same tenant.
fn rows() -> Vec<Row> {
    (0..90)
        .map(|i| {
            let parent = 1 + (i % 2) as i64;
            let own = if parent == 1 { "A" } else { "B" };
            let other = if parent == 1 { "B" } else { "A" };
            let (parent_id, tenant) = match i % 10 {
                0 | 3 | 6 => (Some(900 + i as i64), Some("A")),
                1 => (None, Some("A")),
                2 => (Some(parent), Some(other)),
                5 => (Some(parent), None),
                _ => (Some(parent), Some(own)),
            };
            Row {
                i,
                parent_id,
                tenant,
                bytes: (i % 4 != 0).then(|| vec![0x00, 0xff, i as u8]),
                note: (i % 2 == 0).then(|| format!("Notiz ü {i}")),
            }
        })
        .collect()
}

fn teil(i: usize) -> i64 {
    (i % 3 + 1) as i64
}

fn nr(i: usize) -> String {
    format!("n{:02}", i / 3)
}

fn doc(i: usize) -> Value {
    json!({"i": i, "name": "Zähler 'z'"})
}

#[derive(Clone, Copy, PartialEq)]
enum Dialect {
    Postgres,
    Mysql,
    Sqlite,
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn or_null<T>(value: Option<T>, show: impl Fn(T) -> String) -> String {
    value.map_or("NULL".to_string(), show)
}

/// One child row as an SQL tuple.
fn tuple(row: &Row, dialect: Dialect) -> String {
    let bytes = or_null(row.bytes.clone(), |b| {
        let hex: String = b.iter().map(|x| format!("{x:02X}")).collect();
        match dialect {
            Dialect::Postgres => format!("decode('{hex}', 'hex')"),
            Dialect::Mysql | Dialect::Sqlite => format!("X'{hex}'"),
        }
    });
    format!(
        "({}, '{}', {}, {}, {bytes}, {}, {})",
        teil(row.i),
        nr(row.i),
        or_null(row.parent_id, |p| p.to_string()),
        or_null(row.tenant, quote),
        quote(&doc(row.i).to_string()),
        or_null(row.note.clone(), |n| quote(&n))
    )
}

fn fixture(dialect: Dialect) -> String {
    let (child, parent, nr_col, bytes_col) = match dialect {
        Dialect::Mysql => ("`Kind \"Ä\"`", "`Eltern Ä`", "`Nr \"x\"`", "`daten ß`"),
        _ => (
            "\"Kind \"\"Ä\"\"\"",
            "\"Eltern Ä\"",
            "\"Nr \"\"x\"\"\"",
            "\"daten ß\"",
        ),
    };
    let (text, bytes, json) = match dialect {
        Dialect::Postgres => ("text", "bytea", "jsonb"),
        Dialect::Mysql => ("varchar(40)", "blob", "json"),
        Dialect::Sqlite => ("TEXT", "BLOB", "TEXT"),
    };
    let values: Vec<String> = rows().iter().map(|r| tuple(r, dialect)).collect();
    let fk = |table: &str, name: &str| match dialect {
        Dialect::Postgres => format!(
            "ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY (parent_id) REFERENCES {parent} (id) NOT VALID;"
        ),
        Dialect::Mysql => format!(
            "ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY (parent_id) REFERENCES {parent} (id);"
        ),
        Dialect::Sqlite => String::new(),
    };
    let inline_fk = match dialect {
        Dialect::Sqlite => format!(", FOREIGN KEY (parent_id) REFERENCES {parent} (id)"),
        _ => String::new(),
    };
    format!(
        "CREATE TABLE {parent} (id integer PRIMARY KEY, tenant {text} NOT NULL);
INSERT INTO {parent} VALUES (1, 'A'), (2, 'B');
CREATE TABLE {child} (
    \"Teil\" integer NOT NULL,
    {nr_col} {text} NOT NULL,
    parent_id integer,
    tenant {text},
    {bytes_col} {bytes},
    doc {json},
    note {text},
    PRIMARY KEY (\"Teil\", {nr_col}){inline_fk}
);
INSERT INTO {child} VALUES {};
{}
CREATE TABLE \"Lose\" (code {text} UNIQUE, parent_id integer{inline_fk});
INSERT INTO \"Lose\" VALUES ('a', 1), ('b', 998), (NULL, 999), ('d', NULL);
{}",
        values.join(",\n  "),
        fk(child, "kind_parent"),
        fk("\"Lose\"", "lose_parent"),
    )
}

/// MariaDB reads double-quoted names as strings: its fixture quotes the
/// column names shared with the others in backticks.
fn mysql_fixture() -> String {
    fixture(Dialect::Mysql)
        .replace("\"Teil\"", "`Teil`")
        .replace("\"Lose\"", "`Lose`")
}

/// Reads the catalog and plans, with `tenant` as the tenant column.
async fn plan(db: &TestDb) -> (Db, Plan) {
    let conn = Db::connect(&db.url, SessionOptions::default())
        .await
        .expect("connect");
    let schema = tether::catalog::read(&conn, &[]).await.expect("catalog");
    let options = PlanOptions {
        tenant_columns: Some(vec!["tenant".into()]),
        ..PlanOptions::default()
    };
    (conn, Plan::build(schema, None, &options))
}

/// The index of the row check `id` on `table` (withheld or not).
fn check(plan: &Plan, id: CheckId, table: &str) -> usize {
    plan.checks
        .iter()
        .position(|c| {
            c.id == id
                && c.table.is_some_and(|t| {
                    plan.schema.label(&plan.schema.tables[t.index()].name) == table
                })
        })
        .unwrap_or_else(|| panic!("no {id:?} check on {table}"))
}

/// Every page of a check, `size` rows at a time, from the first.
async fn every_page(db: &Db, plan: &Plan, check: usize, size: u32) -> Vec<Page> {
    let mut pages: Vec<Page> = Vec::new();
    loop {
        let after = pages.last().and_then(|p| p.last_key.clone());
        let page = offending::page(db, plan, check, after.as_deref(), size)
            .await
            .expect("a page");
        let more = page.more;
        pages.push(page);
        if !more {
            return pages;
        }
        assert!(pages.len() < 50, "paging does not end");
    }
}

fn all_rows(pages: &[Page]) -> Vec<Vec<Option<String>>> {
    pages.iter().flat_map(|p| p.rows.clone()).collect()
}

/// A row as the pages show it, with its JSON parsed (engines write it differently).
fn comparable(row: &[Option<String>], json_at: usize) -> Vec<Value> {
    row.iter()
        .enumerate()
        .map(|(i, v)| match v {
            None => Value::Null,
            Some(text) if i == json_at => serde_json::from_str(text).expect("JSON"),
            Some(text) => Value::String(text.clone()),
        })
        .collect()
}

/// The child rows `keep` selects, in key order, as the pages show them.
fn expected(keep: impl Fn(&Row) -> bool) -> Vec<Vec<Value>> {
    let mut rows: Vec<Row> = rows().into_iter().filter(keep).collect();
    rows.sort_by_key(|r| (teil(r.i), nr(r.i)));
    rows.iter()
        .map(|r| {
            let text = |s: String| Value::String(s);
            vec![
                text(teil(r.i).to_string()),
                text(nr(r.i)),
                r.parent_id.map_or(Value::Null, |p| text(p.to_string())),
                r.tenant.map_or(Value::Null, |t| text(t.into())),
                r.bytes.as_ref().map_or(Value::Null, |b| {
                    text(format!(
                        "\\x{}",
                        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
                    ))
                }),
                doc(r.i),
                r.note.clone().map_or(Value::Null, text),
            ]
        })
        .collect()
}

const COLUMNS: [&str; 7] = [
    "Teil",
    "Nr \"x\"",
    "parent_id",
    "tenant",
    "daten ß",
    "doc",
    "note",
];

/// The orphans of the child: 27 rows in pages of 10 (10, 10, 7), each once,
/// in key order; the listing statement returns the same rows, the count
/// statement their number.
async fn orphans_page_by_page(db: &Db, plan: &Plan) {
    let orphans = check(plan, CheckId::Orphans, CHILD);
    let pages = every_page(db, plan, orphans, 10).await;
    let sizes: Vec<(usize, bool)> = pages.iter().map(|p| (p.rows.len(), p.more)).collect();
    assert_eq!(sizes, [(10, true), (10, true), (7, false)]);
    assert!(
        pages.iter().all(|p| p.columns == COLUMNS),
        "{:?}",
        pages[0].columns
    );
    let rows = all_rows(&pages);
    let got: Vec<Vec<Value>> = rows.iter().map(|r| comparable(r, 5)).collect();
    assert_eq!(got, expected(|r| matches!(r.i % 10, 0 | 3 | 6)));

    // What `y` copies: the same rows, in the same order, in one statement.
    let listing = offending::listing_sql(plan, orphans).unwrap();
    assert!(!listing.as_str().contains("LIMIT"), "{listing}");
    let mut tx = db.reader(None).await.unwrap();
    let cells = tx
        .cells(&listing, &[], &[CellKind::Text; COLUMNS.len()])
        .await
        .unwrap();
    let listed: Vec<Vec<Option<String>>> = cells
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|c| match c {
                    Cell::Null => None,
                    Cell::Text(t) => Some(t),
                    other => panic!("not text: {other:?}"),
                })
                .collect()
        })
        .collect();
    assert_eq!(listed, rows);
    // What `Y` copies: their number.
    let count = offending::count_sql(plan, orphans).unwrap();
    assert_eq!(tx.counts(&count).await.unwrap(), [27]);
    tx.finish().await.unwrap();

    // A page goes on from any key it is given, and refuses one that is not a key.
    let after = pages[0].last_key.clone().unwrap();
    let again = offending::page(db, plan, orphans, Some(&after), 10)
        .await
        .unwrap();
    assert_eq!(again, pages[1]);
    let wrong = offending::page(db, plan, orphans, Some(&after[..1]), 10).await;
    assert!(wrong.is_err_and(|e| e.contains("not a key")));
}

/// Tenant mismatches carry both tenant values and the parent's key; tenant
/// gaps are the rows with no tenant.
async fn tenants_page_by_page(db: &Db, plan: &Plan) {
    let mismatches = check(plan, CheckId::TenantMismatch, CHILD);
    let pages = every_page(db, plan, mismatches, 4).await;
    assert_eq!(pages.len(), 3);
    let mut columns: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
    columns.extend([format!("{PARENT}.tenant"), format!("{PARENT}.id")]);
    assert_eq!(pages[0].columns, columns);
    let rows = all_rows(&pages);
    let own: Vec<Vec<Value>> = rows.iter().map(|r| comparable(&r[..7], 5)).collect();
    assert_eq!(own, expected(|r| r.i % 10 == 2));
    for row in &rows {
        let (tenant, parent_tenant) = (row[3].as_deref(), row[7].as_deref());
        assert!(
            tenant.is_some() && parent_tenant.is_some() && tenant != parent_tenant,
            "{row:?}"
        );
        assert_eq!(row[8], row[2], "the parent's key is the row's reference");
    }

    let gaps = check(plan, CheckId::TenantMissing, CHILD);
    let rows = all_rows(&every_page(db, plan, gaps, 100).await);
    let got: Vec<Vec<Value>> = rows.iter().map(|r| comparable(r, 5)).collect();
    assert_eq!(got, expected(|r| r.i % 10 == 5));
}

async fn offending_rows(db: TestDb, fixture: &str) {
    db.exec(fixture).await;
    let (conn, plan) = plan(&db).await;
    orphans_page_by_page(&conn, &plan).await;
    tenants_page_by_page(&conn, &plan).await;

    // `Lose` has no primary key and its unique column may be NULL.
    let keyless = check(&plan, CheckId::Orphans, KEYLESS);
    let page = offending::page(&conn, &plan, keyless, None, 10).await;
    if db.is_postgres() || db.is_mysql() {
        let error = page.expect_err("a table without a key cannot be paged");
        assert!(
            error.contains("Lose") && error.contains("no primary key"),
            "{error}"
        );
    } else {
        // SQLite pages it by its rowid.
        let page = page.unwrap();
        assert_eq!(page.columns, ["rowid", "code", "parent_id"]);
        let codes: BTreeSet<Option<String>> = page.rows.iter().map(|r| r[1].clone()).collect();
        assert_eq!(codes, BTreeSet::from([Some("b".to_string()), None]));
        assert!(!page.more);
    }
    // The listing statement needs no key.
    assert!(offending::listing_sql(&plan, keyless).is_ok());
    conn.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn offending_rows_on_sqlite() {
    offending_rows(TestDb::sqlite(), &fixture(Dialect::Sqlite)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn offending_rows_on_postgres() {
    offending_rows(TestDb::postgres().await, &fixture(Dialect::Postgres)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn offending_rows_on_mariadb() {
    offending_rows(TestDb::mysql().await, &mysql_fixture()).await;
}

/// Reads the catalog and plans as `url`'s role.
async fn plan_at(url: &str) -> (Db, Plan) {
    let conn = Db::connect(url, SessionOptions::default())
        .await
        .expect("connect");
    let schema = tether::catalog::read(&conn, &[]).await.expect("catalog");
    (conn, Plan::build(schema, None, &PlanOptions::default()))
}

/// Row-level security that came after the plan, or a privilege taken away,
/// fails the page instead of returning the rows the role happens to see; a
/// plan made under row-level security withholds the rows from the start.
#[tokio::test(flavor = "multi_thread")]
async fn hidden_rows_fail_the_page_on_postgres() {
    let reader = format!("to_reader_{}_{}", std::process::id(), fastrand::u32(..));
    let _roles = Roles(vec![reader.clone()]);
    let db = TestDb::postgres().await;
    db.exec(&format!(
        r#"CREATE ROLE "{reader}" LOGIN;
CREATE TABLE eltern (id int PRIMARY KEY);
CREATE TABLE kinder (id int PRIMARY KEY, parent_id int, tenant text);
INSERT INTO eltern VALUES (1);
INSERT INTO kinder VALUES (1, 1, 'a'), (2, 7, 'a'), (3, 8, 'b'), (4, 9, 'b');
ALTER TABLE kinder ADD FOREIGN KEY (parent_id) REFERENCES eltern (id) NOT VALID;
GRANT SELECT ON eltern, kinder TO "{reader}";"#
    ))
    .await;
    let url = db.url.replacen("postgres@", &format!("{reader}@"), 1);
    let (conn, plan) = plan_at(&url).await;
    let orphans = check(&plan, CheckId::Orphans, "kinder");
    let page = offending::page(&conn, &plan, orphans, None, 10).await;
    assert_eq!(page.unwrap().rows.len(), 3);

    db.exec(
        "ALTER TABLE kinder ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_a ON kinder USING (tenant = 'a');",
    )
    .await;
    let error = offending::page(&conn, &plan, orphans, None, 10)
        .await
        .expect_err("row-level security fails the page");
    assert!(
        error.contains("kinder") && error.contains("BYPASSRLS"),
        "{error}"
    );
    // A plan made now withholds the rows.
    let (fresh, withheld) = plan_at(&url).await;
    let check_now = check(&withheld, CheckId::Orphans, "kinder");
    assert!(matches!(withheld.checks[check_now].work, Work::Withheld(_)));
    let error = offending::page(&fresh, &withheld, check_now, None, 10)
        .await
        .expect_err("withheld");
    assert!(error.contains("row-level security on kinder"), "{error}");
    fresh.close().await;

    db.exec(&format!(
        "ALTER TABLE kinder DISABLE ROW LEVEL SECURITY; REVOKE SELECT ON eltern FROM \"{reader}\";"
    ))
    .await;
    let error = offending::page(&conn, &plan, orphans, None, 10)
        .await
        .expect_err("a missing privilege fails the page");
    assert!(
        error.contains("permission denied") && error.contains("GRANT SELECT"),
        "{error}"
    );
    conn.close().await;
}
