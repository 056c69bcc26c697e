//! The lineage state machine, action by action: roots checked and marked,
//! the tree walked node by node, a node's rows opened, Esc step by step.

use super::super::fixture;
use super::*;
use crate::lineage::{Link, NodeRow};

fn root(key: &str) -> RootRow {
    RootRow {
        key: key.into(),
        fields: vec![("status".into(), "running".into())],
    }
}

fn leaf(table: &str) -> Node {
    Node {
        table: table.into(),
        via: Some("master_flow_id".into()),
        rows: 3,
        broken: vec![],
        children: vec![],
        error: None,
    }
}

/// flows ─ assets, imports ─ raw records: drawn in that order.
fn tree() -> Node {
    let mut imports = leaf("imports");
    imports.children.push(leaf("raw records"));
    Node {
        table: "flows".into(),
        via: None,
        rows: 1,
        broken: vec![],
        children: vec![leaf("assets"), imports],
        error: None,
    }
}

fn node_rows() -> NodeRows {
    NodeRows {
        table: "raw records".into(),
        columns: vec!["id".into(), "import_id".into(), "name".into()],
        rows: (0..3)
            .map(|i| NodeRow {
                values: vec![Some(i.to_string()), Some("7".into()), None],
                broken: vec![],
            })
            .collect(),
        links: vec![Link {
            name: "orphans raw(import_id) → imports(id)".into(),
            short: "no imports".into(),
        }],
        sql: "SELECT …".into(),
    }
}

/// The lineage screen with roots a, b, c listed.
fn listed() -> (Instant, App) {
    let t = Instant::now();
    let mut app = fixture::app((120, 40), t);
    assert_eq!(app.update(Action::ShowLineage, t), vec![Command::LoadRoots]);
    let commands = app.update(
        Action::RootsLoaded(Ok(vec![root("a"), root("b"), root("c")])),
        t,
    );
    assert_eq!(
        commands,
        vec![Command::CheckRoots(vec![
            "a".into(),
            "b".into(),
            "c".into()
        ])],
        "every listed root is checked, the first first"
    );
    (t, app)
}

/// The tree of root `b` loaded.
fn opened() -> (Instant, App) {
    let (t, mut app) = listed();
    app.update(Action::Down, t);
    assert_eq!(
        app.update(Action::Open, t),
        vec![Command::LoadLineage("b".into())]
    );
    app.update(
        Action::LineageLoaded {
            key: "b".into(),
            result: Ok(tree()),
        },
        t,
    );
    (t, app)
}

#[test]
fn marks_are_kept_per_listed_root_and_stale_ones_dropped() {
    let (t, mut app) = listed();
    assert!(
        app.lineage.marks.values().all(|m| *m == Loadable::Loading),
        "checking"
    );
    let checked = |key: &str, result: Result<u64, String>| Action::RootChecked {
        key: key.into(),
        result,
    };
    app.update(checked("b", Ok(3)), t);
    app.update(checked("a", Ok(0)), t);
    app.update(checked("c", Err("timeout".into())), t);
    app.update(checked("gone", Ok(9)), t);
    assert_eq!(app.lineage.marks["a"], Loadable::Loaded(0));
    assert_eq!(app.lineage.marks["b"], Loadable::Loaded(3));
    assert_eq!(app.lineage.marks["c"], Loadable::Failed("timeout".into()));
    assert!(
        !app.lineage.marks.contains_key("gone"),
        "a root not listed keeps no mark"
    );

    // The roots listed again: the marks start over, and a late result for
    // a root that is no longer listed is ignored.
    let commands = app.update(Action::RootsLoaded(Ok(vec![root("c"), root("d")])), t);
    assert_eq!(
        commands,
        vec![Command::CheckRoots(vec!["c".into(), "d".into()])]
    );
    assert_eq!(app.lineage.marks.len(), 2);
    assert_eq!(app.lineage.marks["c"], Loadable::Loading);
    app.update(checked("a", Ok(5)), t);
    assert!(!app.lineage.marks.contains_key("a"));
    app.update(checked("d", Ok(1)), t);
    assert_eq!(app.lineage.marks["d"], Loadable::Loaded(1));

    // Nothing listed, nothing checked.
    assert!(app.update(Action::RootsLoaded(Ok(vec![])), t).is_empty());
    assert!(app.lineage.marks.is_empty());
}

#[test]
fn a_loaded_tree_updates_its_roots_mark() {
    let (t, mut app) = listed();
    app.update(Action::Down, t);
    app.update(Action::Open, t);
    let mut broken = tree();
    broken.children[0].broken = vec![("orphans".into(), 2)];
    app.update(
        Action::LineageLoaded {
            key: "b".into(),
            result: Ok(broken),
        },
        t,
    );
    assert_eq!(app.lineage.marks["b"], Loadable::Loaded(2));
    assert_eq!(app.lineage.marks["a"], Loadable::Loading);
}

#[test]
fn the_tree_selection_moves_in_drawing_order_and_clamps() {
    let (t, mut app) = opened();
    assert_eq!(app.lineage.node, 0, "the root first");
    app.update(Action::Up, t);
    assert_eq!(app.lineage.node, 0);
    for expected in [1, 2, 3, 3] {
        app.update(Action::Down, t);
        assert_eq!(app.lineage.node, expected);
    }
    app.update(Action::Top, t);
    assert_eq!(app.lineage.node, 0);
    app.update(Action::Bottom, t);
    assert_eq!(app.lineage.node, 3);
    assert_eq!(app.lineage.selected, 1, "the picker's selection stays");
}

#[test]
fn enter_on_a_node_reads_its_rows_and_esc_steps_back() {
    let (t, mut app) = opened();
    app.update(Action::Bottom, t);
    assert_eq!(
        app.update(Action::Open, t),
        vec![Command::LoadLineageRows {
            key: "b".into(),
            position: vec![1, 0],
        }],
        "the last node drawn: the first child of the second"
    );
    let shown = app.lineage.rows.clone().unwrap();
    assert_eq!(shown.rows, Loadable::Loading);
    assert!(
        app.update(Action::Open, t).is_empty(),
        "Enter on rows does nothing"
    );

    // Rows of another node or another root are not these.
    for (key, position) in [("a", vec![1, 0]), ("b", vec![0])] {
        app.update(
            Action::LineageRowsLoaded {
                key: key.into(),
                position,
                result: Ok(node_rows()),
            },
            t,
        );
        assert_eq!(app.lineage.rows.as_ref().unwrap().rows, Loadable::Loading);
    }
    app.update(
        Action::LineageRowsLoaded {
            key: "b".into(),
            position: vec![1, 0],
            result: Ok(node_rows()),
        },
        t,
    );
    assert_eq!(
        app.lineage.rows.as_ref().unwrap().rows,
        Loadable::Loaded(node_rows())
    );

    // Up and Down move among the rows, Left and Right across the columns.
    for action in [Action::Down, Action::Down, Action::Down, Action::Right] {
        app.update(action, t);
    }
    let rows = app.lineage.rows.as_ref().unwrap();
    assert_eq!((rows.selected, rows.column), (2, 1));
    assert_eq!(app.lineage.node, 3, "the tree's selection stays");

    app.update(Action::Back, t);
    assert_eq!(app.lineage.rows, None, "back to the tree");
    assert_eq!(app.lineage.key.as_deref(), Some("b"));
    assert_eq!(app.lineage.node, 3);
    app.update(Action::Back, t);
    assert_eq!(app.lineage.key, None, "back to the picker");
    assert_eq!(app.screen, Screen::Lineage);
    assert_eq!(app.lineage.selected, 1);
    app.update(Action::Back, t);
    assert_eq!(app.screen, Screen::Dashboard);
}

#[test]
fn rows_that_arrive_after_esc_are_dropped() {
    let (t, mut app) = opened();
    app.update(Action::Down, t);
    assert_eq!(
        app.update(Action::Open, t),
        vec![Command::LoadLineageRows {
            key: "b".into(),
            position: vec![0],
        }]
    );
    app.update(Action::Back, t);
    app.update(
        Action::LineageRowsLoaded {
            key: "b".into(),
            position: vec![0],
            result: Err("timeout".into()),
        },
        t,
    );
    assert_eq!(app.lineage.rows, None);
}

#[test]
fn nothing_opens_before_the_tree_is_loaded() {
    let (t, mut app) = listed();
    app.update(Action::Open, t);
    assert_eq!(app.lineage.tree, Loadable::Loading);
    assert!(app.update(Action::Open, t).is_empty());
    app.update(Action::Down, t);
    assert_eq!(app.lineage.node, 0);
    app.update(
        Action::LineageLoaded {
            key: "a".into(),
            result: Err("flows has no row with id = a".into()),
        },
        t,
    );
    assert!(app.update(Action::Open, t).is_empty());
    assert_eq!(app.lineage.rows, None);
}
