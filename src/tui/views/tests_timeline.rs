//! A row check's detail says when its offending rows were written and whose
//! they are: read once the detail opens, hidden and shown with `t`, said
//! plainly when the table has no time column.

use super::test_support::{commands as run, render, snapshots, text};
use crate::app::fixture::refreshed;
use crate::app::{Action, App, Command, Overlay, Pane};
use crate::timeline::{Breakdown, Facts, Timeline};

/// A burst of orphans in one hour, some without a time, most of one tenant.
fn burst() -> Facts {
    let buckets = [
        ("00:05", 2),
        ("00:10", 9),
        ("00:11", 14),
        ("00:12", 5),
        ("00:40", 1),
    ];
    Facts {
        timeline: Some(Timeline {
            column: "created_at".into(),
            chosen: "detected",
            first_at: Some("2026-12-01 00:05:12".into()),
            last_at: Some("2026-12-01 00:40:00".into()),
            rows: 31,
            untimed: 0,
            unit: crate::timeline::Unit::Minute,
            buckets: buckets
                .iter()
                .map(|(at, n)| (format!("2026-12-01 {at}:00"), *n))
                .collect(),
        }),
        breakdowns: vec![Breakdown {
            column: "client_account_id".into(),
            top: vec![
                (Some("acct-7".into()), 24),
                (Some("acct-2".into()), 5),
                (None, 1),
            ],
            groups: 4,
        }],
        omitted: None,
    }
}

/// The orphan detail of the fixture, opened: the check it is of, and the
/// commands opening it gave.
fn open_detail(app: &mut App) -> (usize, Vec<Command>) {
    let commands = run(app, &[Action::FocusPane(Pane::Orphans), Action::Open]);
    let Some(Overlay::Check { check, .. }) = app.overlay else {
        panic!("the orphan detail is open");
    };
    (check, commands)
}

#[test]
fn orphan_detail_with_its_timeline() {
    snapshots!(
        "orphan_timeline",
        &[(80, 24), (160, 50)],
        |app: &mut App| {
            let (check, _) = open_detail(app);
            run(
                app,
                &[Action::TimelineLoaded {
                    check,
                    result: Ok(burst()),
                }],
            );
        }
    );
}

#[test]
fn the_timeline_is_read_once_per_opening_and_t_hides_it() {
    let mut app = refreshed((160, 50));
    let (check, commands) = open_detail(&mut app);
    assert!(commands.contains(&Command::LoadTimeline { check }));
    assert!(text(&render(&app)).contains("when: reading when these rows were written…"));
    // A late answer for another check is not shown.
    run(
        &mut app,
        &[Action::TimelineLoaded {
            check: check + 1,
            result: Ok(burst()),
        }],
    );
    assert_eq!(app.timeline.result, None);
    let more = run(
        &mut app,
        &[Action::TimelineLoaded {
            check,
            result: Ok(burst()),
        }],
    );
    assert!(
        !more.contains(&Command::LoadTimeline { check }),
        "read once"
    );
    let shown = text(&render(&app));
    assert!(shown.contains("2026-12-01 00:05:12 … 2026-12-01 00:40:00 UTC"));
    assert!(shown.contains("by client_account_id: acct-7 24 · acct-2 5 · (null) 1, and 1 more"));
    run(&mut app, &[Action::ToggleTimeline]);
    assert!(text(&render(&app)).contains("when: hidden (t shows it)"));
    run(&mut app, &[Action::ToggleTimeline]);
    assert!(text(&render(&app)).contains("When (created_at, detected · by minute · t hides)"));
    // Closed and opened again: read again, the rows may have changed.
    run(&mut app, &[Action::Back]);
    let (_, again) = open_detail(&mut app);
    assert!(again.contains(&Command::LoadTimeline { check }));
}

#[test]
fn a_table_without_a_time_column_says_so() {
    let mut app = refreshed((160, 50));
    let (check, _) = open_detail(&mut app);
    let none = Facts::default();
    run(
        &mut app,
        &[Action::TimelineLoaded {
            check,
            result: Ok(none),
        }],
    );
    let shown = text(&render(&app));
    assert!(
        shown.contains("when: no timeline, assets has no time column"),
        "{shown}"
    );
}

#[test]
fn what_the_pass_learnt_is_shown_without_reading_again() {
    let mut app = refreshed((160, 50));
    let (check, _) = open_detail(&mut app);
    run(&mut app, &[Action::Back]);
    app.checks[check].findings[0].facts = Some(Box::new(burst()));
    let (_, commands) = open_detail(&mut app);
    assert!(!commands.contains(&Command::LoadTimeline { check }));
    assert!(text(&render(&app)).contains("When (created_at, detected · by minute · t hides)"));
}

/// A profile assertion's rows say when and whose as a row check's do, from
/// what the run learnt (there is nothing to read apart); without a time
/// column among them, the detail says how to name one.
#[test]
fn an_assertions_detail_says_when_from_its_rows() {
    let mut app = refreshed((160, 50));
    let custom = app
        .plan
        .checks
        .iter()
        .position(|c| c.id == crate::checks::CheckId::Custom && c.key.contains("completed_flow"))
        .expect("the fixture's assertion");
    assert!(app.checks[custom].count.unwrap_or(0) > 0);
    let open = |app: &mut App| {
        app.overlay = Some(Overlay::Check {
            check: custom,
            scroll: 0,
        });
        // Any action: once it is handled, the detail wants its timeline.
        run(app, &[Action::ToggleTimeline, Action::ToggleTimeline])
    };
    let commands = open(&mut app);
    assert!(!commands.contains(&Command::LoadTimeline { check: custom }));
    let shown = text(&render(&app));
    assert!(
        shown.contains("when: no timeline, the query's rows have no time column"),
        "{shown}"
    );
    run(&mut app, &[Action::Back]);
    app.checks[custom].findings[0].facts = Some(Box::new(burst()));
    open(&mut app);
    let shown = text(&render(&app));
    assert!(
        shown.contains("When (created_at, detected · by minute · t hides)"),
        "{shown}"
    );
    assert!(shown.contains("by client_account_id: acct-7 24"), "{shown}");
}
