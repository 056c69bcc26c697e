//! The fix overlay on a `TestBackend`, as insta snapshots: the preview with
//! and without `--allow-writes`, and the typed confirmation naming the engine,
//! server and database it writes to.

use super::test_support::{act, render};
use crate::app::fixture::refreshed;
use crate::app::{Action, App, Overlay, Pane, Writes};

/// The remedy of `check`: its 31 orphan rows set to NULL, with a trigger
/// that fires.
fn remedy(app: &App, check: usize) -> crate::fix::Remedy {
    let crate::checks::plan::Work::Rows(work) = app.plan.checks[check].work.clone() else {
        panic!("an orphans check counts rows")
    };
    let selection = crate::sql::fix::Selection::Matching {
        table: work.table.clone(),
        predicate: work.predicate,
    };
    crate::fix::Remedy {
        check: crate::checks::CheckId::Orphans,
        relationship: crate::fix::relationship_of_check(&app.plan, check),
        effects: vec![],
        orphaned: vec![],
        triggers: vec![crate::writes::Trigger {
            table: work.table,
            name: "assets_audit".into(),
            definition: String::new(),
        }],
        what: "assets(discovery_flow_id) → discovery_flows(flow_id): set the reference of 31 orphan rows to NULL".into(),
        steps: vec![crate::fix::Step {
            sql: crate::sql::fix::set_null_where(
                app.plan.engine,
                &selection,
                &["discovery_flow_id".to_string()],
            ),
            selection,
            change: crate::fix::Change::SetNull(vec!["discovery_flow_id".into()]),
            count: 31,
        }],
        ddl: vec![],
        undecided: None,
        withheld: None,
    }
}

/// An app of `size` showing the preview of the orphans of assets' discovery
/// flows, with `writes`.
fn previewed(size: (u16, u16), writes: Writes) -> App {
    let mut app = refreshed(size);
    app.writes = writes;
    act(
        &mut app,
        &[Action::FocusPane(Pane::Orphans), Action::Open, Action::Fix],
    );
    let Some(Overlay::Fix { check, .. }) = app.overlay.clone() else {
        panic!("no fix overlay")
    };
    let result = Ok(vec![remedy(&app, check)]);
    act(&mut app, &[Action::FixPreviewed { check, result }]);
    app
}

fn typed(app: &mut App, text: &str) {
    let actions: Vec<Action> = text.chars().map(Action::Input).collect();
    act(app, &actions);
}

/// Without `--allow-writes`: the preview, and after `A` the hint.
#[test]
fn fix_preview_without_writes() {
    for (w, h) in [(80, 24), (160, 50)] {
        let mut app = previewed((w, h), Writes::Off);
        insta::assert_snapshot!(
            format!("fix_preview_without_writes_{w}x{h}"),
            render(&app).backend()
        );
        act(&mut app, &[Action::Apply]);
        insta::assert_snapshot!(format!("fix_apply_refused_{w}x{h}"), render(&app).backend());
    }
}

#[test]
fn fix_preview_with_writes() {
    let app = previewed((80, 24), Writes::allowed("shop"));
    insta::assert_snapshot!("fix_preview_with_writes_80x24", render(&app).backend());
}

/// The confirmation: where it writes, how many rows, the word, what is typed.
#[test]
fn fix_confirmation_typed() {
    for (w, h) in [(80, 24), (160, 50)] {
        let mut app = previewed((w, h), Writes::allowed("shop"));
        act(&mut app, &[Action::Apply]);
        typed(&mut app, "sho");
        insta::assert_snapshot!(format!("fix_confirm_typed_{w}x{h}"), render(&app).backend());
    }
}

/// A wrong word submitted: the confirmation says nothing was applied.
#[test]
fn fix_confirmation_wrong_word() {
    let mut app = previewed((80, 24), Writes::allowed("shop"));
    act(&mut app, &[Action::Apply]);
    typed(&mut app, "shp");
    act(&mut app, &[Action::Submit]);
    insta::assert_snapshot!("fix_confirm_wrong_word_80x24", render(&app).backend());
}
