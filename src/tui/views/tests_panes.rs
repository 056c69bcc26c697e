//! The dashboard panes as insta snapshots: a refresh in progress, a tiny
//! share, every pane without colour, long names shortened in the middle
//! with the selected row in full, and a schema every table shares.

use super::test_support::{act, render_with, text};
use crate::app::fixture::{self, refreshed};
use crate::app::{Action, App, Pane};
use crate::runner::{Event, Outcome};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use std::time::{Duration, Instant, UNIX_EPOCH};

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 45)];

/// The inside of `pane` on the dashboard, its lines joined by spaces and
/// runs of spaces made one: a text wrapped over lines reads whole.
fn pane_text(app: &App, terminal: &Terminal<TestBackend>, pane: Pane) -> String {
    let areas = crate::app::layout::areas(app.size.0, app.size.1, app.screen, app.focus);
    let (_, rect) = areas.panes.iter().find(|(p, _)| *p == pane).unwrap();
    let buffer = terminal.backend().buffer();
    let lines: Vec<String> = (rect.y + 1..rect.y + rect.height - 1)
        .map(|y| {
            (rect.x + 1..rect.x + rect.width - 1)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect()
        })
        .collect();
    lines
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sends a runner event of the run in flight at `at`.
fn event_at(app: &mut App, event: Event, at: Instant) {
    let generation = app.refresh.generation;
    app.update(
        Action::Runner {
            generation,
            event,
            at: UNIX_EPOCH,
        },
        at,
    );
}

/// Decides `check` with `count` of `total` rows (a finding when some),
/// found now.
fn checked(app: &mut App, check: usize, count: u64, total: u64, at: Instant) {
    let c = &app.plan.checks[check];
    let findings = (count > 0)
        .then(|| {
            let message = crate::wording::count_sentence(c.offending(), count, Some(total), None);
            crate::findings::Finding::new(c.id, c.severity, &c.subject, &c.key, message)
        })
        .into_iter()
        .collect();
    let outcome = Outcome {
        count: Some(count),
        total: Some(total),
        elapsed: Duration::from_millis(12),
        findings,
        ..Outcome::default()
    };
    event_at(app, Event::Checked { check, outcome }, at);
}

/// A third refresh under way at `t0 + 3.2 s`: the largest orphans check
/// started at `t0` reads its table in parts, two of four read; a second
/// statement is done, a third runs. Returns the time and the checks done.
fn refresh_in_progress(app: &mut App) -> (Instant, usize) {
    let t0 = app.now + Duration::from_secs(60);
    app.update(Action::Refresh, t0);
    let top = app.orphan_rows()[0];
    let statement = fixture::statement_of(app, top);
    event_at(app, Event::Started { statement }, t0);
    event_at(
        app,
        Event::Progress {
            statement,
            done: 2,
            parts: 4,
        },
        t0 + Duration::from_millis(1500),
    );
    let others: Vec<usize> = (0..app.plan.statements.len())
        .filter(|&s| s != statement)
        .take(2)
        .collect();
    let t1 = t0 + Duration::from_secs(1);
    event_at(
        app,
        Event::Started {
            statement: others[0],
        },
        t1,
    );
    let done = app.plan.statements[others[0]].checks.clone();
    for &c in &done {
        checked(app, c, 0, 10_000, t1);
    }
    event_at(
        app,
        Event::StatementDone {
            statement: others[0],
            elapsed: Duration::from_millis(12),
            failed: false,
            findings: Vec::new(),
        },
        t1,
    );
    let t2 = t0 + Duration::from_secs(2);
    event_at(
        app,
        Event::Started {
            statement: others[1],
        },
        t2,
    );
    // A tick redraws: time has moved, nothing else.
    let now = t0 + Duration::from_millis(3_200);
    assert!(app.update(Action::Tick, now).is_empty());
    (now, done.len())
}

#[test]
fn a_refresh_in_progress_says_what_is_done_and_for_how_long() {
    for (w, h) in SIZES {
        let mut app = refreshed((w, h));
        act(&mut app, &[Action::FocusPane(Pane::Orphans)]);
        let (now, done) = refresh_in_progress(&mut app);
        let terminal = render_with(&app, false);
        let screen = text(&terminal);
        let runs = app
            .plan
            .checks
            .iter()
            .enumerate()
            .filter(|(c, _)| app.plan.statements.iter().any(|s| s.checks.contains(c)));
        let all = runs.count();
        let header = format!("● refreshing… {done} of {all} checks done");
        assert!(screen.contains(&header), "{screen}");
        assert!(
            screen.contains("┌ Orphans · 0 of 9 checks done"),
            "{screen}"
        );
        assert!(screen.contains("running 50% 3.2 s"), "{screen}");
        insta::assert_snapshot!(format!("refresh_in_progress_{w}x{h}"), terminal.backend());

        // Running rows move with the clock.
        app.update(Action::Tick, now + Duration::from_millis(1_000));
        assert!(text(&render_with(&app, false)).contains("running 50% 4.2 s"));

        // When the refresh ends, the titles go back to what they say.
        event_at(
            &mut app,
            Event::Finished {
                elapsed: Duration::from_secs(5),
                shared_snapshot: true,
                cancelled: false,
            },
            now + Duration::from_secs(2),
        );
        let screen = text(&render_with(&app, false));
        assert!(!screen.contains("checks done"), "{screen}");
        assert!(screen.contains("● connected"), "{screen}");
    }
}

#[test]
fn a_tiny_share_keeps_its_digit() {
    for (w, h) in SIZES {
        let mut app = refreshed((w, h));
        act(&mut app, &[Action::FocusPane(Pane::Orphans)]);
        let t = app.now + Duration::from_secs(10);
        app.update(Action::Refresh, t);
        let top = app.orphan_rows()[0];
        checked(&mut app, top, 7, 1_000_000, t);
        let terminal = render_with(&app, false);
        let screen = text(&terminal);
        assert!(screen.contains("0.0007%"), "{screen}");
        insta::assert_snapshot!(format!("tiny_share_{w}x{h}"), terminal.backend());
    }
}

#[test]
fn without_colour_every_pane_reads_by_its_glyphs() {
    for (w, h) in SIZES {
        for pane in Pane::ALL {
            let mut app = refreshed((w, h));
            act(&mut app, &[Action::FocusPane(pane)]);
            let terminal = render_with(&app, true);
            assert!(
                terminal
                    .backend()
                    .buffer()
                    .content()
                    .iter()
                    .all(|c| c.fg == Color::Reset && c.bg == Color::Reset),
                "a colour under NO_COLOR"
            );
            let name = pane.title().replace(' ', "_").to_lowercase();
            insta::assert_snapshot!(format!("no_color_{name}_{w}x{h}"), terminal.backend());
        }
    }
}

/// Without colour, the graph tells errors, warnings, info and healthy
/// relationships apart by their glyphs. (Every warning and info of the
/// fixture sits beside an error, so the errors are left out for the others.)
#[test]
fn without_colour_severities_differ_by_glyph() {
    use crate::checks::Severity;
    let app_with = |errors: bool| {
        let mut app = refreshed((160, 45));
        for view in app.checks.iter_mut().filter(|_| !errors) {
            view.findings.retain(|f| f.severity != Severity::Error);
        }
        app
    };
    for (errors, severity, glyph) in [
        (true, Some(Severity::Error), "✗"),
        (false, Some(Severity::Warning), "!"),
        (false, Some(Severity::Info), "i"),
        (false, None, "✓"),
    ] {
        let mut app = app_with(errors);
        let edge = app
            .graph
            .edges
            .iter()
            .find(|e| app.worst_for_relationship(e.relationship) == severity)
            .unwrap_or_else(|| panic!("no relationship at {severity:?}"))
            .clone();
        app.selected_node = edge.child;
        let screen = text(&render_with(&app, true));
        let line = format!("  {glyph} ↑ {}", edge.label);
        assert!(screen.contains(&line), "no “{line}” in\n{screen}");
        // A table is marked by the worst of its relationships.
        let worst = app
            .graph
            .edges
            .iter()
            .filter(|e| e.child == edge.child)
            .filter_map(|e| app.worst_for_relationship(e.relationship))
            .max();
        let node = format!(
            "{} {}",
            super::findings::glyph(worst),
            app.graph.nodes[edge.child].label
        );
        assert!(screen.contains(&node), "no “{node}” in\n{screen}");
    }
}

#[test]
fn a_long_name_is_shortened_in_the_middle_and_said_in_full() {
    for (w, h) in SIZES {
        let mut app = refreshed((w, h));
        act(&mut app, &[Action::FocusPane(Pane::Orphans)]);
        let row = app
            .orphan_rows()
            .iter()
            .position(|&c| {
                app.check_label(c)
                    .starts_with("raw_import_records.master_flow_id")
            })
            .unwrap();
        app.orphan_row = row;
        let terminal = render_with(&app, false);
        let screen = text(&terminal);
        let full = "raw_import_records.master_flow_id → crewai_flow_state_extensions";
        assert!(
            screen.contains(full) || pane_text(&app, &terminal, Pane::Orphans).contains(full),
            "the selected row in full, in the border or above it\n{screen}"
        );
        assert!(
            screen
                .lines()
                .any(|l| l.contains("raw_import_") && l.contains('…')),
            "a name shortened in the middle\n{screen}"
        );
        insta::assert_snapshot!(format!("long_name_{w}x{h}"), terminal.backend());
    }
}

#[test]
fn rows_out_of_view_are_counted_and_the_selected_one_stays_in_view() {
    let mut app = refreshed((80, 24));
    act(
        &mut app,
        &[Action::FocusPane(Pane::Tenants), Action::Bottom],
    );
    let last = app.tenant_rows().len() - 1;
    assert_eq!(app.tenant_row, last, "G goes to the last row");
    let terminal = render_with(&app, false);
    let screen = text(&terminal);
    assert!(screen.contains("↑ "), "rows above are counted\n{screen}");
    let label = app.check_label(app.tenant_rows()[last]);
    assert!(
        screen.contains(&label) || pane_text(&app, &terminal, Pane::Tenants).contains(&label),
        "the last row in full\n{screen}"
    );
    act(&mut app, &[Action::PageDown]);
    assert_eq!(app.tenant_row, last, "PageDown stops at the last row");
    act(&mut app, &[Action::Top]);
    let screen = text(&render_with(&app, false));
    assert!(screen.contains("↓ "), "rows below are counted\n{screen}");
    assert!(!screen.contains("↑ "), "{screen}");
}

/// The demo's tables in a schema that is not the database's default one.
fn app_in_one_schema(size: (u16, u16)) -> App {
    let mut schema = fixture::schema();
    schema.default_schema = "elsewhere".into();
    let mut app = fixture::app_of(schema, Some("discovery-flow"), size);
    let now = app.now;
    app.update(Action::Refresh, now);
    fixture::feed_run(&mut app, 1, now);
    app
}

#[test]
fn a_schema_every_table_shares_is_said_once() {
    for (w, h) in SIZES {
        let app = app_in_one_schema((w, h));
        assert!(app.check_label(app.orphan_rows()[0]).starts_with("public."));
        let terminal = render_with(&app, false);
        let screen = text(&terminal);
        assert!(
            screen.lines().next().unwrap().contains("schema public"),
            "{screen}"
        );
        assert!(!screen.contains("public."), "{screen}");
        insta::assert_snapshot!(format!("one_schema_{w}x{h}"), terminal.backend());
    }
}

/// The latency pane says what its percentiles are over: every refresh so
/// far, then the bounded window out of how many.
#[test]
fn latency_says_the_window_of_its_percentiles() {
    let mut app = refreshed((160, 45));
    let says = |app: &App| text(&render_with(app, false));
    assert!(says(&app).contains("Latency (ms) · over 2 refreshes"));
    app.refresh.completed = 3_612;
    assert!(
        says(&app).contains("Latency (ms) · last 60 of 3,612 refreshes"),
        "{}",
        says(&app)
    );
}

/// One more refresh, finished `seconds` after the fixture's clock start:
/// every row check decided, with the count `counts` gives it, else its
/// count so far.
fn refresh_with(app: &mut App, counts: &[(usize, u64)], seconds: u64) {
    let t = app.now + Duration::from_secs(10);
    app.update(Action::Refresh, t);
    let rows = (0..app.plan.checks.len())
        .filter(|&c| matches!(app.plan.checks[c].work, crate::checks::plan::Work::Rows(_)));
    for c in rows.collect::<Vec<_>>() {
        let count = counts
            .iter()
            .find(|(check, _)| *check == c)
            .map_or(app.checks[c].count.unwrap_or(0), |(_, n)| *n);
        checked(app, c, count, 10_000, t);
    }
    let generation = app.refresh.generation;
    let event = Event::Finished {
        elapsed: Duration::from_millis(420),
        shared_snapshot: true,
        cancelled: false,
    };
    let at = UNIX_EPOCH + Duration::from_secs(1_795_000_000 + seconds);
    app.update(
        Action::Runner {
            generation,
            event,
            at,
        },
        t,
    );
}

/// The row check whose label starts with `label`.
fn check_labelled(app: &App, label: &str) -> usize {
    (0..app.plan.checks.len())
        .find(|&c| {
            matches!(app.plan.checks[c].work, crate::checks::plan::Work::Rows(_))
                && app.check_label(c).starts_with(label)
        })
        .unwrap()
}

/// After the fixture's two refreshes (11:06:50 and 11:07:00): assets'
/// discovery flows are fixed at 11:07:10, then broken again from 11:07:20,
/// more each time; a raw record's master flow stays at 21; assets'
/// engagement ids are filled at 11:07:30.
fn with_history(size: (u16, u16)) -> App {
    let mut app = refreshed(size);
    let flows = check_labelled(&app, "assets.discovery_flow_id →");
    let engagement = check_labelled(&app, "assets.engagement_id");
    for (i, flows_count) in [0, 4, 9, 15, 22].into_iter().enumerate() {
        let engagement_count = if i < 2 { 11 } else { 0 };
        let counts = [(flows, flows_count), (engagement, engagement_count)];
        refresh_with(&mut app, &counts, 30 + i as u64 * 10);
    }
    app
}

/// The count history: a trend per row in a wide pane, since when the
/// selected row has had rows under its pane, and the same in its detail.
#[test]
fn count_history_shows_the_trend_and_since_when() {
    for (w, h) in SIZES {
        let mut app = with_history((w, h));
        act(&mut app, &[Action::FocusPane(Pane::Orphans)]);
        assert!(
            app.check_label(app.orphan_rows()[0])
                .starts_with("assets.discovery_flow_id")
        );
        let terminal = render_with(&app, false);
        let screen = text(&terminal);
        let since = "non-zero since 11:07:20 UTC";
        assert!(
            screen.contains(since) || pane_text(&app, &terminal, Pane::Orphans).contains(since),
            "{screen}"
        );
        assert_eq!(screen.contains("trend"), w >= 160, "{screen}");
        insta::assert_snapshot!(format!("count_history_{w}x{h}"), terminal.backend());

        act(&mut app, &[Action::Open]);
        let terminal = render_with(&app, false);
        let screen = text(&terminal);
        for says in [
            "non-zero since 11:07:20 UTC (4 refreshes)",
            "31 → 0 → 4 → 9 → 15 → 22",
        ] {
            assert!(screen.contains(says), "{screen}");
        }
        insta::assert_snapshot!(format!("count_history_detail_{w}x{h}"), terminal.backend());
    }
}

/// A row whose rows are gone says no since, and its detail says so.
#[test]
fn a_count_back_to_zero_says_no_since() {
    let mut app = with_history((160, 45));
    let engagement = check_labelled(&app, "assets.engagement_id");
    let row = app
        .tenant_rows()
        .iter()
        .position(|&c| c == engagement)
        .unwrap();
    app.tenant_row = row;
    act(&mut app, &[Action::FocusPane(Pane::Tenants)]);
    let screen = text(&render_with(&app, false));
    assert!(
        screen.contains("└ ∅ assets.engagement_id ─"),
        "the selected row said without since when\n{screen}"
    );
    act(&mut app, &[Action::Open]);
    let screen = text(&render_with(&app, false));
    assert!(
        screen.contains("no rows in the latest refresh · counts 10 → 11 → 0"),
        "{screen}"
    );
}

/// A click on a scrolled pane picks the row drawn under it, not the row
/// that would be there unscrolled.
#[test]
fn a_click_in_a_scrolled_pane_picks_the_row_under_it() {
    let mut app = refreshed((160, 45));
    let last = app.tenant_rows().len() - 1;
    app.tenant_row = last;
    render_with(&app, false);
    let noted = app.pane_rows.get()[2].expect("the tenant pane's rows were noted");
    assert!(noted.offset > 0, "the pane is scrolled: {noted:?}");
    let x = crate::app::layout::areas(160, 45, app.screen, app.focus)
        .panes
        .iter()
        .find(|(p, _)| *p == Pane::Tenants)
        .map(|(_, r)| r.x + 3)
        .unwrap();
    act(&mut app, &[Action::Click(x, noted.y + 1)]);
    assert_eq!(app.tenant_row, noted.offset + 1);
}
