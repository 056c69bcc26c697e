//! Lineage of a master flow on the demo database: counts per table, broken
//! links marked; each table's rows are the rows it counted; each root's mark
//! is its tree's total of broken links.

mod common;

use common::TestDb;
use sqlx::Connection;
use std::sync::Arc;
use tether::checks::plan::{Plan, PlanOptions};
use tether::db::{Db, SessionOptions};
use tether::demo::{self, DemoOptions};
use tether::profile::Profile;

async fn demo_db(db: &TestDb) -> Db {
    let sqlite = db.url.starts_with("sqlite:");
    let url = if sqlite {
        format!("{}?mode=rwc", db.url)
    } else {
        db.url.clone()
    };
    let writable = Db::connect(
        &url,
        SessionOptions {
            read_only: false,
            create_if_missing: sqlite,
            ..SessionOptions::default()
        },
    )
    .await
    .unwrap();
    let options = DemoOptions {
        scale: 2000,
        ..DemoOptions::default()
    };
    demo::load(&writable, &options, &indicatif::ProgressBar::hidden())
        .await
        .unwrap();
    writable.close().await;
    Db::connect(&db.url, SessionOptions::default())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_master_flow_with_an_orphaned_asset() {
    let test = TestDb::sqlite();
    let db = demo_db(&test).await;
    let profile = Profile::load("discovery-flow").unwrap();
    let schema = tether::catalog::read(&db, &[]).await.unwrap();
    let plan = Arc::new(Plan::build(schema, Some(&profile), &PlanOptions::default()));
    assert_eq!(
        plan.lineage_root.as_ref().unwrap().name,
        "crewai_flow_state_extensions"
    );

    let roots = tether::lineage::recent(&db, &plan, 10).await.unwrap();
    assert_eq!(roots.len(), 10);
    let fields: Vec<&str> = roots[0].fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(fields, ["flow_type", "status", "updated_at", "created_at"]);

    // A master flow one of whose assets points at a deleted discovery flow.
    let mut conn = sqlx::SqliteConnection::connect(&test.url).await.unwrap();
    let flow: String = sqlx::query_scalar(
        "SELECT a.master_flow_id FROM assets a WHERE NOT EXISTS
           (SELECT 1 FROM discovery_flows d WHERE d.flow_id = a.discovery_flow_id) ORDER BY a.id LIMIT 1",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let assets_of_flow: i64 =
        sqlx::query_scalar("SELECT count(*) FROM assets WHERE master_flow_id = ?")
            .bind(&flow)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let orphaned: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM assets a WHERE a.master_flow_id = ? AND NOT EXISTS
           (SELECT 1 FROM discovery_flows d WHERE d.flow_id = a.discovery_flow_id)",
    )
    .bind(&flow)
    .fetch_one(&mut conn)
    .await
    .unwrap();

    let tree = tether::lineage::tree(&db, &plan, &flow).await.unwrap();
    assert_eq!(tree.table, "crewai_flow_state_extensions");
    let children: Vec<(&str, Option<&str>)> = tree
        .children
        .iter()
        .map(|n| (n.table.as_str(), n.via.as_deref()))
        .collect();
    assert_eq!(
        children,
        [
            ("assets", Some("master_flow_id")),
            ("data_imports", Some("master_flow_id")),
            ("discovery_flows", Some("master_flow_id")),
            ("raw_import_records", Some("master_flow_id")),
        ]
    );
    let assets = &tree.children[0];
    assert_eq!(assets.rows, assets_of_flow as u64);
    assert!(
        assets.broken.contains(&(
            "orphans assets(discovery_flow_id) → discovery_flows(flow_id)".to_string(),
            orphaned as u64
        )),
        "{:?}",
        assets.broken
    );
    assert!(tree.broken_total() >= orphaned as u64);

    let missing = tether::lineage::tree(&db, &plan, "no-such-flow")
        .await
        .unwrap_err();
    assert_eq!(
        missing,
        "crewai_flow_state_extensions has no row with id = no-such-flow"
    );
    db.close().await;
}

/// The values of a query's one text column, read on the test's own connection.
async fn texts(test: &TestDb, sql: &str) -> Vec<String> {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    if test.is_postgres() {
        let mut conn = sqlx::PgConnection::connect(&test.url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
    } else if test.is_mysql() {
        let mut conn = sqlx::MySqlConnection::connect(&test.url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&test.url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
    }
}

/// The demo's plan, and a master flow one of whose assets points at a
/// deleted discovery flow, with how many of its assets do.
async fn plan_and_broken_flow(test: &TestDb, db: &Db) -> (Arc<Plan>, String, u64) {
    let profile = Profile::load("discovery-flow").unwrap();
    let schema = tether::catalog::read(db, &[]).await.unwrap();
    let plan = Arc::new(Plan::build(schema, Some(&profile), &PlanOptions::default()));
    let text = |column: &str| tether::sql::as_text(plan.engine, column);
    let orphaned = "FROM assets a WHERE a.discovery_flow_id IS NOT NULL AND NOT EXISTS \
                    (SELECT 1 FROM discovery_flows d WHERE d.flow_id = a.discovery_flow_id)";
    let flow = texts(
        test,
        &format!(
            "SELECT {} {orphaned} ORDER BY a.id LIMIT 1",
            text("a.master_flow_id")
        ),
    )
    .await
    .remove(0);
    let count = texts(
        test,
        &format!(
            "SELECT {} {orphaned} AND {} = '{flow}'",
            text("count(*)"),
            text("a.master_flow_id")
        ),
    )
    .await;
    (plan, flow, count[0].parse().unwrap())
}

/// Each table of a flow's lineage lists exactly the rows its count counted,
/// each marked with the links it breaks as the counts say; the root lists
/// its own row; and each listed root's mark is its tree's broken links.
async fn rows_are_what_was_counted(test: TestDb) {
    let db = demo_db(&test).await;
    let (plan, flow, orphaned) = plan_and_broken_flow(&test, &db).await;
    assert!(orphaned > 0);
    let tree = tether::lineage::tree(&db, &plan, &flow).await.unwrap();
    assert!(tree.children.len() >= 4, "{tree:?}");
    for (position, node) in tree.in_order() {
        let listed = tether::lineage::rows(&db, &plan, &flow, &position)
            .await
            .unwrap();
        assert_eq!(listed.table, node.table);
        assert_eq!(
            listed.rows.len() as u64,
            node.rows.min(tether::lineage::NODE_ROWS as u64),
            "{}",
            listed.sql
        );
        if node.rows > tether::lineage::NODE_ROWS as u64 {
            continue;
        }
        // Each link: as many rows marked as the count found.
        for (i, link) in listed.links.iter().enumerate() {
            let marked = listed.rows.iter().filter(|r| r.broken.contains(&i)).count() as u64;
            let counted = node
                .broken
                .iter()
                .find(|(name, _)| *name == link.name)
                .map_or(0, |(_, n)| *n);
            assert_eq!(marked, counted, "{} on {}", link.name, node.table);
        }
    }

    // The assets of the flow, found independently.
    let text = |column: &str| tether::sql::as_text(plan.engine, column);
    let mut expected = texts(
        &test,
        &format!(
            "SELECT {} FROM assets WHERE {} = '{flow}'",
            text("id"),
            text("master_flow_id")
        ),
    )
    .await;
    expected.sort();
    let assets = tree
        .children
        .iter()
        .position(|n| n.table == "assets")
        .unwrap();
    let listed = tether::lineage::rows(&db, &plan, &flow, &[assets])
        .await
        .unwrap();
    let id = listed.columns.iter().position(|c| c == "id").unwrap();
    let mut ids: Vec<String> = listed
        .rows
        .iter()
        .map(|r| r.values[id].clone().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, expected);
    let orphan = listed
        .links
        .iter()
        .position(|l| l.name == "orphans assets(discovery_flow_id) → discovery_flows(flow_id)")
        .unwrap();
    let marked = listed
        .rows
        .iter()
        .filter(|r| r.broken.contains(&orphan))
        .count() as u64;
    assert_eq!(marked, orphaned);
    assert_eq!(listed.links[orphan].short, "no discovery_flows");

    // The root lists its own row.
    let root = tether::lineage::rows(&db, &plan, &flow, &[]).await.unwrap();
    let id = root.columns.iter().position(|c| c == "id").unwrap();
    assert_eq!(root.rows.len(), 1);
    assert_eq!(root.rows[0].values[id].as_deref(), Some(flow.as_str()));

    // Each root's mark, as the picker shows it, is its tree's total.
    let roots = tether::lineage::recent(&db, &plan, 8).await.unwrap();
    for key in roots.iter().map(|r| r.key.clone()).chain([flow.clone()]) {
        let mark = tether::lineage::broken(&db, &plan, &key).await.unwrap();
        let tree = tether::lineage::tree(&db, &plan, &key).await.unwrap();
        assert_eq!(mark, tree.broken_total(), "{key}");
        if key == flow {
            assert!(mark >= orphaned);
        }
    }
    assert!(
        tether::lineage::broken(&db, &plan, "no-such-flow")
            .await
            .is_err()
    );
    db.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_rows_are_what_was_counted() {
    rows_are_what_was_counted(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_rows_are_what_was_counted() {
    rows_are_what_was_counted(TestDb::postgres().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_rows_are_what_was_counted() {
    rows_are_what_was_counted(TestDb::mysql().await).await;
}
