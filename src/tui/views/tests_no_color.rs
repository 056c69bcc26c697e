//! Every view under `NO_COLOR`: no cell carries a colour, and what colour
//! would say (severity, selection, state) is still on screen as text, glyphs
//! or attributes.

use super::test_support::{act, render_with};
use crate::app::fixture::refreshed;
use crate::app::{Action, App, Pane};
use ratatui::style::Color;

/// The views, each reached from a refreshed app by these actions.
fn views() -> Vec<(&'static str, Vec<Action>)> {
    vec![
        ("dashboard", vec![]),
        ("graph", vec![Action::FocusPane(Pane::Graph), Action::Down]),
        ("orphans", vec![Action::FocusPane(Pane::Orphans)]),
        (
            "tenants",
            vec![Action::FocusPane(Pane::Tenants), Action::Down],
        ),
        (
            "latency",
            vec![Action::FocusPane(Pane::Latency), Action::Down],
        ),
        (
            "orphan_detail",
            vec![Action::FocusPane(Pane::Orphans), Action::Open],
        ),
        (
            "table_detail",
            vec![Action::FocusPane(Pane::Graph), Action::Open],
        ),
        ("findings", vec![Action::ShowFindings, Action::Down]),
        ("metrics", vec![Action::ShowMetrics]),
        ("help", vec![Action::Help]),
        (
            "lineage",
            vec![
                Action::ShowLineage,
                Action::RootsLoaded(Ok(vec![crate::lineage::RootRow {
                    key: "00000000-0000-4000-8000-000000000001".into(),
                    fields: vec![("status".into(), "running".into())],
                }])),
            ],
        ),
        (
            "search",
            vec![
                Action::FocusPane(Pane::Graph),
                Action::StartInput,
                Action::Input('a'),
                Action::Submit,
            ],
        ),
    ]
}

/// The rows view of the first orphans, with one page read.
fn rows_shown(app: &mut App) {
    act(
        app,
        &[Action::FocusPane(Pane::Orphans), Action::Open, Action::Open],
    );
    let Some(crate::app::Overlay::Rows { check }) = app.overlay else {
        panic!("{:?}", app.overlay)
    };
    let page = crate::offending::Page {
        columns: vec!["id".into(), "discovery_flow_id".into(), "name".into()],
        rows: vec![vec![Some("a1".into()), Some("f-gone".into()), None]],
        last_key: None,
        more: false,
    };
    act(
        app,
        &[Action::RowsLoaded {
            check,
            result: Ok(page),
        }],
    );
}

#[test]
fn rows_view_without_colour() {
    for (w, h) in [(80, 24), (160, 45)] {
        let mut app = refreshed((w, h));
        rows_shown(&mut app);
        let terminal = render_with(&app, true);
        for cell in terminal.backend().buffer().content() {
            assert!(matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset));
        }
        insta::assert_snapshot!(format!("no_color_rows_{w}x{h}"), terminal.backend());
    }
}

#[test]
fn every_view_without_colour() {
    for (w, h) in [(80, 24), (160, 45)] {
        for (name, actions) in views() {
            let mut app = refreshed((w, h));
            act(&mut app, &actions);
            let terminal = render_with(&app, true);
            let buffer = terminal.backend().buffer();
            for (i, cell) in buffer.content().iter().enumerate() {
                assert!(
                    matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
                    "{name} {w}x{h}: a coloured cell at {i}: {cell:?}"
                );
            }
            insta::assert_snapshot!(format!("no_color_{name}_{w}x{h}"), terminal.backend());
        }
    }
}
