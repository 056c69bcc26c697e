//! Lineage of a master flow on the demo database: counts per table, broken links marked.

mod common;

use common::TestDb;
use sqlx::Connection;
use std::sync::Arc;
use tether::checks::plan::{Plan, PlanOptions};
use tether::db::{Db, SessionOptions};
use tether::demo::{self, DemoOptions};
use tether::profile::Profile;

async fn demo_db(db: &TestDb) -> Db {
    let writable = Db::connect(
        &format!("{}?mode=rwc", db.url),
        SessionOptions {
            read_only: false,
            create_if_missing: true,
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
