//! Rendered frames on a `TestBackend`, as insta snapshots: every pane and view
//! at 80×24 and 160×50, and tiny terminals without a panic.

use super::test_support::{act, render};
use crate::app::fixture::{self, refreshed};
use crate::app::{Action, App, Loadable, Pane};
use crate::lineage::{Node, RootRow};
use std::time::Instant;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 50)];

fn snapshot(name: &str, setup: impl Fn(&mut App)) {
    super::test_support::snapshots!(name, &SIZES, setup);
}

#[test]
fn dashboard() {
    snapshot("dashboard", |_| {});
}

#[test]
fn each_pane_focused() {
    for (i, pane) in Pane::ALL.into_iter().enumerate() {
        snapshot(
            &format!("pane_{i}_{}", pane.title().replace(' ', "_").to_lowercase()),
            |app| {
                act(app, &[Action::FocusPane(pane), Action::Down]);
            },
        );
    }
}

#[test]
fn orphan_detail() {
    snapshot("orphan_detail", |app| {
        act(app, &[Action::FocusPane(Pane::Orphans), Action::Open])
    });
}

#[test]
fn tenant_detail() {
    snapshot("tenant_detail", |app| {
        let row = app
            .tenant_rows()
            .iter()
            .position(|&c| app.checks[c].count.unwrap_or(0) > 0)
            .unwrap();
        app.tenant_row = row;
        act(app, &[Action::FocusPane(Pane::Tenants), Action::Open]);
    });
}

#[test]
fn table_detail() {
    snapshot("table_detail", |app| {
        act(app, &[Action::Down, Action::Down, Action::Open])
    });
}

#[test]
fn help() {
    snapshot("help", |app| act(app, &[Action::Help]));
}

#[test]
fn metrics() {
    snapshot("metrics", |app| act(app, &[Action::ShowMetrics]));
}

fn roots() -> Vec<RootRow> {
    (0..12)
        .map(|i| RootRow {
            key: format!("00000000-0000-4000-8000-{i:012}"),
            fields: vec![
                (
                    "flow_type".into(),
                    ["discovery", "assessment"][i % 2].into(),
                ),
                (
                    "status".into(),
                    ["completed", "failed", "running"][i % 3].into(),
                ),
            ],
        })
        .collect()
}

#[test]
fn lineage_list() {
    snapshot("lineage_list", |app| {
        act(
            app,
            &[
                Action::ShowLineage,
                Action::RootsLoaded(Ok(roots())),
                Action::Down,
            ],
        );
    });
}

#[test]
fn lineage_tree() {
    let leaf = |table: &str, via: &str, rows: u64, broken: Vec<(String, u64)>| Node {
        table: table.into(),
        via: Some(via.into()),
        rows,
        broken,
        children: vec![],
        error: None,
    };
    let tree = Node {
        table: "crewai_flow_state_extensions".into(),
        via: None,
        rows: 1,
        broken: vec![],
        children: vec![
            leaf(
                "assets",
                "master_flow_id",
                20,
                vec![("orphans assets(discovery_flow_id) → discovery_flows(flow_id)".into(), 2)],
            ),
            leaf("data_imports", "master_flow_id", 1, vec![]),
            leaf("discovery_flows", "master_flow_id", 1, vec![]),
            leaf(
                "raw_import_records",
                "master_flow_id",
                24,
                vec![("tenant_mismatch raw_import_records(data_import_id) → data_imports(id) [engagement_id]".into(), 1)],
            ),
        ],
        error: None,
    };
    snapshot("lineage_tree", |app| {
        let key = "00000000-0000-4000-8000-000000000001".to_string();
        act(
            app,
            &[
                Action::ShowLineage,
                Action::RootsLoaded(Ok(roots())),
                Action::Down,
                Action::Open,
                Action::LineageLoaded {
                    key,
                    result: Ok(tree.clone()),
                },
            ],
        );
        assert!(matches!(app.lineage.tree, Loadable::Loaded(_)));
    });
}

#[test]
fn small_terminals_show_tabs() {
    let mut app = refreshed((60, 20));
    act(&mut app, &[Action::FocusPane(Pane::Orphans)]);
    insta::assert_snapshot!("small_60x20_orphans", render(&app).backend());
}

#[test]
fn connection_lost_and_paused() {
    snapshot("connection_lost", |app| {
        act(
            app,
            &[
                Action::TogglePause,
                Action::ConnectionLost("Connection refused (os error 111)".into()),
            ],
        );
    });
}

#[test]
fn tiny_terminals_do_not_panic() {
    for (w, h) in [(20, 5), (1, 1), (0, 0), (2, 2), (79, 3), (200, 2)] {
        let mut app = refreshed((w, h));
        let _ = render(&app);
        for actions in [
            vec![Action::Help],
            vec![Action::Help, Action::FocusPane(Pane::Orphans), Action::Open],
            vec![Action::ShowMetrics],
            vec![Action::ShowLineage, Action::RootsLoaded(Ok(roots()))],
            vec![Action::Open],
        ] {
            act(&mut app, &actions);
            let _ = render(&app);
        }
    }
    let app = refreshed((20, 5));
    insta::assert_snapshot!("tiny_20x5", render(&app).backend());
    let app = fixture::app((1, 1), Instant::now());
    insta::assert_snapshot!("tiny_1x1", render(&app).backend());
}

/// A table the role cannot read whole: its orphans row says failed, and the
/// table's detail says why its counts are withheld.
#[test]
fn withheld_counts_are_shown_with_why() {
    let mut schema = fixture::schema();
    let flows = schema
        .tables
        .iter_mut()
        .find(|t| t.name.name == "discovery_flows")
        .unwrap();
    flows.access = crate::model::Access::RowSecurity { forced: false };
    let mut app = fixture::app_of(schema, Some("discovery-flow"), (160, 50));
    let text = |app: &App| super::test_support::text(&render(app));
    act(&mut app, &[Action::FocusPane(Pane::Orphans)]);
    let screen = text(&app);
    assert!(
        screen
            .lines()
            .any(|l| l.contains("assets.discovery_flow_id") && l.contains("failed")),
        "{screen}"
    );
    app.selected_node = app
        .graph
        .nodes
        .iter()
        .position(|n| n.label == "discovery_flows")
        .unwrap();
    act(&mut app, &[Action::FocusPane(Pane::Graph), Action::Open]);
    let screen = text(&app);
    assert!(
        screen.contains("counts withheld: row-level security on discovery_flows"),
        "{screen}"
    );
}

#[test]
fn first_refresh_with_estimates() {
    use crate::runner::{Event, Outcome};
    use std::time::Duration;
    snapshot("first_refresh_with_estimates", |app| {
        *app = fixture::app(app.size, Instant::now());
        act(app, &[Action::Tick, Action::FocusPane(Pane::Orphans)]);
        let orphans: Vec<usize> = app.orphan_rows();
        for (n, &check) in orphans.iter().enumerate().take(3) {
            let statement = fixture::statement_of(app, check);
            let outcome = Outcome {
                count: Some(n as u64 * 20),
                total: Some(10_000),
                estimate: Some(Box::new(fixture::page_estimate(n as u64))),
                ..Outcome::default()
            };
            for event in [
                Event::Estimated {
                    statement,
                    elapsed: Duration::from_millis(20),
                    checks: vec![(check, outcome)],
                },
                Event::Started { statement },
                Event::Progress {
                    statement,
                    done: n as u32 + 1,
                    parts: 4,
                },
            ] {
                fixture::runner_event(app, event);
            }
        }
    });
}
