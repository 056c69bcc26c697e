//! The lineage screen as insta snapshots at 80×24 and 160×45: the picker
//! with its columns named and each root marked, the tree with a table
//! selected, and that table's rows with the broken ones marked.

use super::test_support::render;
use crate::app::fixture::refreshed;
use crate::app::{Action, App, Loadable};
use crate::lineage::{Link, Node, NodeRow, NodeRows, RootRow};

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 45)];

fn snapshot(name: &str, setup: impl Fn(&mut App)) {
    super::test_support::snapshots!(name, &SIZES, setup);
}

fn act(app: &mut App, actions: Vec<Action>) {
    super::test_support::act(app, &actions);
}

fn key(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

fn roots() -> Vec<RootRow> {
    (0..6)
        .map(|i| RootRow {
            key: key(i),
            fields: vec![
                (
                    "flow_type".into(),
                    ["discovery", "assessment"][i % 2].into(),
                ),
                (
                    "status".into(),
                    ["completed", "failed", "running"][i % 3].into(),
                ),
                ("updated_at".into(), format!("2025-01-0{} 10:00:00", i + 1)),
                ("created_at".into(), format!("2025-01-0{} 09:30:00", i + 1)),
            ],
        })
        .collect()
}

/// The roots listed and checked: ✓, ✗ 3, ✓, failed, then two still checking.
fn checked(app: &mut App) {
    act(
        app,
        vec![Action::ShowLineage, Action::RootsLoaded(Ok(roots()))],
    );
    let results: [Result<u64, String>; 4] = [
        Ok(0),
        Ok(3),
        Ok(0),
        Err("assets: canceling statement due to statement timeout".into()),
    ];
    for (i, result) in results.into_iter().enumerate() {
        act(
            app,
            vec![Action::RootChecked {
                key: key(i),
                result,
            }],
        );
    }
}

fn tree() -> Node {
    let leaf = |table: &str, rows: u64, broken: Vec<(String, u64)>| Node {
        table: table.into(),
        via: Some("master_flow_id".into()),
        rows,
        broken,
        children: vec![],
        error: None,
    };
    Node {
        table: "crewai_flow_state_extensions".into(),
        via: None,
        rows: 1,
        broken: vec![],
        children: vec![
            leaf(
                "assets",
                4,
                vec![("orphans assets(discovery_flow_id) → discovery_flows(flow_id)".into(), 2)],
            ),
            leaf("data_imports", 1, vec![]),
            leaf("discovery_flows", 1, vec![]),
            leaf(
                "raw_import_records",
                24,
                vec![("tenant_mismatch raw_import_records(data_import_id) → data_imports(id) [engagement_id]".into(), 1)],
            ),
        ],
        error: None,
    }
}

/// The tree of the second root, with `assets` selected.
fn tree_open(app: &mut App) {
    checked(app);
    act(
        app,
        vec![
            Action::Down,
            Action::Open,
            Action::LineageLoaded {
                key: key(1),
                result: Ok(tree()),
            },
            Action::Down,
        ],
    );
    assert!(matches!(app.lineage.tree, Loadable::Loaded(_)));
}

fn assets_rows() -> NodeRows {
    let row = |i: usize, flow: Option<&str>, broken: Vec<usize>| NodeRow {
        values: vec![
            Some(format!("10000000-0000-4000-8000-{i:012}")),
            Some("acme".into()),
            Some(key(1)),
            flow.map(str::to_string),
            Some(format!("server-{i:02}")),
        ],
        broken,
    };
    NodeRows {
        table: "assets".into(),
        columns: vec![
            "id".into(),
            "client_account_id".into(),
            "master_flow_id".into(),
            "discovery_flow_id".into(),
            "name".into(),
        ],
        rows: vec![
            row(1, Some("20000000-0000-4000-8000-000000000001"), vec![]),
            row(2, Some("20000000-0000-4000-8000-00000000dead"), vec![0]),
            row(3, None, vec![]),
            row(4, Some("20000000-0000-4000-8000-00000000beef"), vec![0]),
        ],
        links: vec![
            Link {
                name: "orphans assets(discovery_flow_id) → discovery_flows(flow_id)".into(),
                short: "no discovery_flows".into(),
            },
            Link {
                name: "orphans assets(raw_import_record_id) → raw_import_records(id)".into(),
                short: "no raw_import_records".into(),
            },
        ],
        sql: "SELECT …".into(),
    }
}

#[test]
fn picker_with_labels_and_marks() {
    snapshot("picker", |app| {
        checked(app);
        act(app, vec![Action::Down]);
    });
}

#[test]
fn picker_says_why_a_check_failed() {
    snapshot("picker_failed", |app| {
        checked(app);
        act(app, vec![Action::Down, Action::Down, Action::Down]);
    });
}

#[test]
fn tree_with_a_selected_node() {
    snapshot("tree_selected", tree_open);
}

/// The tree open, the first node's rows read, then `then`.
fn rows_open(app: &mut App, then: Vec<Action>) {
    tree_open(app);
    let mut actions = vec![
        Action::Open,
        Action::LineageRowsLoaded {
            key: key(1),
            position: vec![0],
            result: Ok(assets_rows()),
        },
    ];
    actions.extend(then);
    act(app, actions);
}

#[test]
fn a_nodes_rows() {
    snapshot("node_rows", |app| {
        rows_open(app, vec![Action::Down]);
        assert!(matches!(
            app.lineage.rows.as_ref().map(|r| &r.rows),
            Some(Loadable::Loaded(_))
        ));
    });
}

#[test]
fn a_nodes_rows_scrolled_across() {
    snapshot("node_rows_across", |app| {
        rows_open(app, vec![Action::Right, Action::Right]);
    });
}

#[test]
fn a_nodes_rows_being_read() {
    snapshot("node_rows_reading", |app| {
        tree_open(app);
        act(app, vec![Action::Open]);
    });
}

/// A long tree keeps the selected table in view.
#[test]
fn a_long_tree_scrolls_to_the_selection() {
    let mut app = refreshed((80, 24));
    checked(&mut app);
    let mut big = tree();
    big.children = (0..40)
        .map(|i| Node {
            table: format!("table_{i:02}"),
            via: Some("flow_id".into()),
            rows: i,
            broken: vec![],
            children: vec![],
            error: None,
        })
        .collect();
    act(
        &mut app,
        vec![
            Action::Open,
            Action::LineageLoaded {
                key: key(0),
                result: Ok(big),
            },
            Action::Bottom,
        ],
    );
    let terminal = render(&app);
    let buffer = terminal.backend().buffer();
    let screen: String = (0..buffer.area.height)
        .map(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect::<String>()
                + "\n"
        })
        .collect();
    assert!(
        screen.contains("▸ └─ table_39 via flow_id: 39 rows"),
        "{screen}"
    );
    assert!(!screen.contains("table_00"), "{screen}");
}
