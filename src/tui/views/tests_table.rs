//! A table's detail: selectable parents and children, partitions with their
//! bounds and own constraints, and the findings that reference it.

use super::test_support::{act, render};
use crate::app::fixture::refreshed;
use crate::app::{Action, App, Overlay};
use crate::model::{
    Column, DeclaredRules, Engine, ForeignKey, MatchType, ReferentialAction, Schema, Table,
    TableKind, TableName,
};
use std::sync::Arc;

fn table(name: &str, kind: TableKind, parent: Option<(&str, &str)>) -> Table {
    let column = |name: &str| Column {
        name: name.into(),
        data_type: "integer".into(),
        nullable: name != "id",
        generated: false,
        identity: None,
    };
    Table {
        name: TableName::new("public", name),
        kind,
        columns: vec![column("id"), column("account_id")],
        primary_key: vec!["id".into()],
        row_estimate: Some(1_000),
        pages: None,
        storage_engine: None,
        range_key: None,
        access: Default::default(),
        inherits_from: parent.map(|(p, _)| TableName::new("public", p)),
        partition_bound: parent.map(|(_, bound)| bound.to_string()),
    }
}

/// `events` partitioned by month into three partitions, one of which also
/// declares a foreign key of its own; `events` references `accounts`.
fn partitioned_schema() -> Schema {
    let fk = |name: &str, child: &str| {
        Arc::new(ForeignKey::immediate(
            name.into(),
            (TableName::new("public", child), vec!["account_id".into()]),
            (TableName::new("public", "accounts"), vec!["id".into()]),
            DeclaredRules {
                on_delete: ReferentialAction::Cascade,
                on_update: ReferentialAction::NoAction,
                match_type: MatchType::Simple,
            },
        ))
    };
    Schema {
        engine: Engine::Postgres,
        default_schema: "public".into(),
        tables: vec![
            table("accounts", TableKind::Table, None),
            table("events", TableKind::Partitioned, None),
            table(
                "events_2026_10",
                TableKind::Partition,
                Some(("events", "FOR VALUES FROM ('2026-10-01') TO ('2026-11-01')")),
            ),
            table(
                "events_2026_11",
                TableKind::Partition,
                Some(("events", "FOR VALUES FROM ('2026-11-01') TO ('2026-12-01')")),
            ),
            table(
                "events_default",
                TableKind::Partition,
                Some(("events", "DEFAULT")),
            ),
        ],
        foreign_keys: vec![
            fk("events_account_id_fkey", "events"),
            fk("events_default_account_audit_fkey", "events_default"),
        ],
        indexes: Vec::new(),
        blind_spots: Vec::new(),
        lookup: Default::default(),
        reads: Default::default(),
    }
}

fn partitioned_app(size: (u16, u16)) -> App {
    crate::app::fixture::app_of(partitioned_schema(), None, size)
}

fn open_table(app: &mut App, label: &str) {
    let node = app
        .graph
        .nodes
        .iter()
        .position(|n| n.label == label)
        .unwrap();
    app.overlay = Some(Overlay::Table { node, scroll: 0 });
    app.table_neighbour = 0;
}

#[test]
fn table_detail_with_partitions() {
    for (w, h) in [(80, 24), (160, 45)] {
        let mut app = partitioned_app((w, h));
        open_table(&mut app, "events");
        insta::assert_snapshot!(format!("table_partitions_{w}x{h}"), render(&app).backend());
    }
}

/// Down selects the next parent or child; Enter opens its detail.
#[test]
fn neighbours_are_selectable_and_open() {
    let mut app = refreshed((160, 45));
    open_table(&mut app, "discovery_flows");
    let neighbours = app.neighbours(match app.overlay {
        Some(Overlay::Table { node, .. }) => node,
        _ => unreachable!(),
    });
    assert_eq!(neighbours.len(), 3, "{neighbours:?}");
    act(&mut app, &[Action::Down, Action::Down, Action::Down]);
    assert_eq!(app.table_neighbour, 2, "clamped at the last one");
    act(&mut app, &[Action::Open]);
    assert_eq!(
        app.overlay,
        Some(Overlay::Table {
            node: neighbours[2].node,
            scroll: 0
        })
    );
    assert_eq!(app.graph.nodes[neighbours[2].node].label, "assets");
}
