//! Finding one table among hundreds: the graph's filter lists the matches,
//! exact names first, and Enter opens the one typed.

use super::test_support::{act, render};
use crate::app::{Action, App, Overlay};
use crate::model::{
    Column, DeclaredRules, Engine, ForeignKey, MatchType, ReferentialAction, Schema, Table,
    TableKind, TableName,
};
use std::sync::Arc;

const ENTITIES: [&str; 15] = [
    "artist",
    "release",
    "recording",
    "label",
    "work",
    "area",
    "place",
    "event",
    "instrument",
    "series",
    "url",
    "genre",
    "medium",
    "track",
    "editor",
];
const SUFFIXES: [&str; 20] = [
    "",
    "_alias",
    "_alias_type",
    "_annotation",
    "_attribute",
    "_gid_redirect",
    "_meta",
    "_tag",
    "_rating_raw",
    "_type",
    "_type_allowed_value",
    "_attribute_type",
    "_ipi",
    "_isni",
    "_credit",
    "_credit_name",
    "_tag_raw",
    "_first_release_date",
    "_series",
    "_url",
];

fn column(name: &str) -> Column {
    Column {
        name: name.into(),
        data_type: "integer".into(),
        nullable: name != "id",
        generated: false,
        identity: None,
    }
}

/// 300 tables named like a music catalogue's, each `*_x` table referencing
/// its entity's table.
fn wide_schema() -> Schema {
    let mut tables = Vec::new();
    let mut foreign_keys = Vec::new();
    for entity in ENTITIES {
        for suffix in SUFFIXES {
            let name = TableName::new("musicbrainz", format!("{entity}{suffix}"));
            tables.push(Table {
                columns: vec![column("id"), column(entity)],
                primary_key: vec!["id".into()],
                row_estimate: Some(1_000),
                ..Table::new(name.clone(), TableKind::Table)
            });
            if !suffix.is_empty() {
                let rules = DeclaredRules {
                    on_delete: ReferentialAction::Cascade,
                    on_update: ReferentialAction::NoAction,
                    match_type: MatchType::Simple,
                };
                foreign_keys.push(Arc::new(ForeignKey::immediate(
                    format!("{entity}{suffix}_fkey"),
                    (name, vec![entity.to_string()]),
                    (TableName::new("musicbrainz", entity), vec!["id".into()]),
                    rules,
                )));
            }
        }
    }
    Schema {
        engine: Engine::Postgres,
        default_schema: "musicbrainz".into(),
        tables,
        foreign_keys,
        indexes: Vec::new(),
        blind_spots: Vec::new(),
        lookup: Default::default(),
        reads: Default::default(),
    }
}

fn wide_app(size: (u16, u16)) -> App {
    crate::app::fixture::app_of(wide_schema(), None, size)
}

fn search(app: &mut App, text: &str) {
    act(app, &[Action::StartInput]);
    for c in text.chars() {
        act(app, &[Action::Input(c)]);
    }
}

#[test]
fn filtered_graph_lists_exact_matches_first() {
    for (w, h) in [(80, 24), (160, 45)] {
        let mut app = wide_app((w, h));
        search(&mut app, "artist");
        insta::assert_snapshot!(format!("graph_search_{w}x{h}"), render(&app).backend());
    }
}

#[test]
fn a_filter_that_matches_nothing_says_so() {
    let mut app = wide_app((80, 24));
    search(&mut app, "nothing like it");
    let screen = format!("{:?}", render(&app).backend());
    assert!(screen.contains("no table matches"), "{screen}");
}

/// Any of the 300 tables: its name, Enter to end the filter, Enter to open.
#[test]
fn every_table_is_two_keys_after_its_name() {
    let mut app = wide_app((120, 40));
    let names: Vec<(usize, String)> = app
        .graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (i, n.label.clone()))
        .collect();
    assert_eq!(names.len(), 300);
    for (node, name) in names {
        search(&mut app, &name);
        act(&mut app, &[Action::Submit, Action::Open]);
        assert_eq!(
            app.overlay,
            Some(Overlay::Table { node, scroll: 0 }),
            "{name}"
        );
        act(
            &mut app,
            &[Action::Back, Action::StartInput, Action::CancelInput],
        );
    }
}

#[test]
fn n_steps_through_the_matches() {
    let mut app = wide_app((120, 40));
    search(&mut app, "artist");
    act(&mut app, &[Action::Submit]);
    let first = app.selected_node;
    assert_eq!(app.graph.nodes[first].label, "artist");
    act(&mut app, &[Action::NextMatch]);
    assert_eq!(app.graph.nodes[app.selected_node].label, "artist_alias");
    act(&mut app, &[Action::PrevMatch, Action::PrevMatch]);
    assert!(
        app.graph.nodes[app.selected_node]
            .label
            .starts_with("artist")
    );
}

/// `/` filters the pane in focus too: the orphans pane keeps the rows that
/// match and says so when none does.
#[test]
fn the_filter_narrows_every_pane() {
    let mut app = crate::app::fixture::refreshed((160, 45));
    act(&mut app, &[Action::FocusPane(crate::app::Pane::Orphans)]);
    search(&mut app, "raw_import");
    act(&mut app, &[Action::Submit]);
    let rows = app.orphan_rows();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|&c| app.check_label(c).contains("raw_import")),
        "{rows:?}"
    );
    assert!(app.tenant_rows().len() < 28);
    search(&mut app, "no such relationship");
    let screen = format!("{:?}", render(&app).backend());
    assert!(screen.contains("no row matches"), "{screen}");
}
