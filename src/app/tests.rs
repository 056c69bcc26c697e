//! The app's update, action by action: no terminal and no database.

use super::fixture::{self, feed_run, refreshed};
use super::*;
use crate::lineage::Node;

fn now() -> Instant {
    Instant::now()
}

fn orphans_of_assets_discovery(app: &App) -> usize {
    app.plan
        .checks
        .iter()
        .position(|c| c.key == "orphans:assets(discovery_flow_id) → discovery_flows(flow_id)")
        .unwrap()
}

#[test]
fn the_first_tick_starts_a_run_and_the_next_waits() {
    let t = now();
    let mut app = fixture::app((120, 40), t);
    assert_eq!(app.next_wakeup(), Some(t));
    assert_eq!(app.update(Action::Tick, t), vec![Command::StartRun(1)]);
    assert!(app.refresh.running);
    assert_eq!(
        app.next_wakeup(),
        Some(t + RUNNING_TICK),
        "while a run is in flight, ticks only redraw its elapsed times"
    );
    assert!(app.update(Action::Tick, t + RUNNING_TICK).is_empty());
    assert_eq!(app.next_wakeup(), Some(t + RUNNING_TICK * 2));
    feed_run(&mut app, 1, t);
    assert!(!app.refresh.running);
    assert_eq!(app.next_wakeup(), Some(t + Duration::from_secs(10)));
    assert!(
        app.update(Action::Tick, t + Duration::from_secs(9))
            .is_empty()
    );
    assert_eq!(
        app.update(Action::Tick, t + Duration::from_secs(10)),
        vec![Command::StartRun(2)]
    );
}

#[test]
fn runner_events_update_checks_and_keep_the_previous_count() {
    let t = now();
    let mut app = fixture::app((120, 40), t);
    let check = orphans_of_assets_discovery(&app);
    app.update(Action::Tick, t);
    assert_eq!(app.checks[check].state, CheckState::Queued);
    let statement = fixture::statement_of(&app, check);
    app.update(
        Action::Runner {
            generation: 1,
            event: Event::Started { statement },
            at: SystemTime::UNIX_EPOCH,
        },
        t,
    );
    assert_eq!(app.checks[check].state, CheckState::Running);
    assert!(app.statements[statement].running);
    feed_run(&mut app, 1, t);
    assert_eq!(app.checks[check].state, CheckState::Done);
    assert_eq!(app.checks[check].count, Some(30));
    assert_eq!(app.checks[check].previous, None);
    assert_eq!(app.statements[statement].history.len(), 1);

    // The next refresh: old values stay, marked queued, until the new ones arrive.
    app.update(Action::Refresh, t);
    assert_eq!(app.checks[check].state, CheckState::Queued);
    assert_eq!(app.checks[check].count, Some(30));
    feed_run(&mut app, 2, t);
    assert_eq!(app.checks[check].count, Some(31));
    assert_eq!(app.checks[check].previous, Some(30));
    assert!(app.refresh.last_finished.is_some());
}

#[test]
fn events_of_a_cancelled_run_are_ignored() {
    let t = now();
    let mut app = fixture::app((120, 40), t);
    app.update(Action::Tick, t);
    assert_eq!(
        app.update(Action::Refresh, t),
        vec![Command::CancelRun, Command::StartRun(2)]
    );
    feed_run(&mut app, 1, t);
    assert!(
        app.checks.iter().all(|c| c.count.is_none()),
        "generation 1 was cancelled"
    );
    assert!(app.refresh.running);
    feed_run(&mut app, 2, t);
    assert!(!app.refresh.running);
}

#[test]
fn a_failed_check_keeps_its_last_values() {
    let t = now();
    let mut app = refreshed((120, 40));
    let check = orphans_of_assets_discovery(&app);
    let generation = app.refresh.generation;
    let outcome = crate::runner::Outcome {
        error: Some(Box::new(crate::runner::CheckError::new(
            crate::runner::CheckFailure::Timeout,
            "timed out after 30 s",
        ))),
        ..Default::default()
    };
    app.update(
        Action::Runner {
            generation,
            event: Event::Checked { check, outcome },
            at: SystemTime::UNIX_EPOCH,
        },
        t,
    );
    let view = &app.checks[check];
    assert_eq!(view.state, CheckState::Failed);
    assert_eq!(view.count, Some(31));
    assert_eq!(view.error.as_deref(), Some("timed out after 30 s"));
    assert_eq!(view.findings.len(), 1, "the stale orphans finding stays");
}

#[test]
fn pause_interval_and_quit() {
    let t = now();
    let mut app = fixture::app((120, 40), t);
    app.update(Action::TogglePause, t);
    assert!(app.refresh.paused);
    assert_eq!(app.next_wakeup(), None);
    assert!(
        app.update(Action::Tick, t + Duration::from_secs(60))
            .is_empty()
    );
    app.update(Action::TogglePause, t + Duration::from_secs(61));
    assert_eq!(app.next_wakeup(), Some(t + Duration::from_secs(61)));

    app.update(Action::IntervalUp, t);
    assert_eq!(app.refresh.interval, Duration::from_secs(15));
    for _ in 0..3 {
        app.update(Action::IntervalDown, t);
    }
    assert_eq!(app.refresh.interval, Duration::from_secs(2));
    for _ in 0..5 {
        app.update(Action::IntervalDown, t);
    }
    assert_eq!(
        app.refresh.interval,
        Duration::from_secs(1),
        "the shortest interval"
    );
    assert_eq!(
        app.update(Action::Quit, t),
        vec![Command::CancelRun, Command::Quit]
    );
    assert!(app.quitting);
}

#[test]
fn panes_and_screens() {
    let t = now();
    let mut app = fixture::app((120, 40), t);
    assert_eq!(app.focus, Pane::Graph);
    app.update(Action::NextPane, t);
    assert_eq!(app.focus, Pane::Orphans);
    app.update(Action::PrevPane, t);
    app.update(Action::PrevPane, t);
    assert_eq!(app.focus, Pane::Latency);
    app.update(Action::FocusPane(Pane::Tenants), t);
    assert_eq!(app.focus, Pane::Tenants);
    app.update(Action::ShowMetrics, t);
    assert_eq!(app.screen, Screen::Metrics);
    app.update(Action::Back, t);
    assert_eq!(app.screen, Screen::Dashboard);
    assert_eq!(app.update(Action::ShowLineage, t), vec![Command::LoadRoots]);
    assert_eq!(app.lineage.roots, Loadable::Loading);
    assert!(
        app.update(Action::ShowLineage, t).is_empty(),
        "already loading"
    );
    app.update(Action::NextPane, t);
    assert_eq!(app.screen, Screen::Dashboard);
    app.update(Action::Help, t);
    assert_eq!(app.overlay, Some(Overlay::Help));
    app.update(Action::Help, t);
    assert_eq!(app.overlay, None);
    app.update(Action::Resize(60, 20), t);
    assert_eq!(app.size, (60, 20));
}

/// A refreshed app at 120×40 with `pane` in focus.
fn focused(pane: Pane) -> (Instant, App) {
    let t = now();
    let mut app = refreshed((120, 40));
    app.update(Action::FocusPane(pane), t);
    (t, app)
}

#[test]
fn orphans_sort_select_open_and_copy() {
    let (t, mut app) = focused(Pane::Orphans);
    let rows = app.orphan_rows();
    let counts: Vec<Option<u64>> = rows.iter().map(|&i| app.checks[i].count).collect();
    assert_eq!(&counts[..2], &[Some(31), Some(21)], "most orphans first");
    app.update(Action::ReverseSort, t);
    assert_eq!(
        app.checks[app.orphan_rows()[rows.len() - 1]].count,
        Some(31)
    );
    app.update(Action::ReverseSort, t);
    app.update(Action::Sort, t);
    assert_eq!(app.orphan_sort, OrphanSort::Share);
    assert_eq!(app.note.as_deref(), Some("sorted by share"));
    for _ in 0..4 {
        app.update(Action::Sort, t);
    }
    assert_eq!(app.orphan_sort, OrphanSort::Relationship);
    assert!(!app.orphan_descending);
    app.update(Action::Sort, t);
    assert_eq!(app.orphan_sort, OrphanSort::Count);

    app.update(Action::Down, t);
    assert_eq!(app.orphan_row, 1);
    app.update(Action::Bottom, t);
    assert_eq!(app.orphan_row, rows.len() - 1);
    app.update(Action::Top, t);
    assert_eq!(app.orphan_row, 0);
    app.update(Action::Up, t);
    assert_eq!(app.orphan_row, 0);

    assert!(
        app.update(Action::CopySql, t).is_empty(),
        "nothing to copy outside a detail"
    );
    app.update(Action::Open, t);
    let check = orphans_of_assets_discovery(&app);
    assert_eq!(app.overlay, Some(Overlay::Check { check, scroll: 0 }));
    app.update(Action::Down, t);
    assert_eq!(app.overlay, Some(Overlay::Check { check, scroll: 1 }));
    let copied = app.update(Action::CopySql, t);
    let statement = fixture::statement_of(&app, check);
    assert_eq!(
        copied,
        vec![Command::Copy(app.plan.sql(statement).to_string())]
    );
    assert_eq!(app.note.as_deref(), Some("SQL copied to the clipboard"));
    app.update(Action::Back, t);
    assert_eq!(app.overlay, None);
    assert_eq!(app.note, None);
}

#[test]
fn tenants_and_latency_open_their_checks() {
    let (t, mut app) = focused(Pane::Tenants);
    let rows = app.tenant_rows();
    assert!(app.plan.checks[rows[0]].id == CheckId::TenantMissing);
    assert!(app.plan.checks[*rows.last().unwrap()].id == CheckId::TenantMismatch);
    app.update(Action::PageDown, t);
    assert_eq!(app.tenant_row, 10);
    app.update(Action::Open, t);
    assert_eq!(
        app.overlay,
        Some(Overlay::Check {
            check: rows[10],
            scroll: 0
        })
    );
    app.update(Action::Back, t);
    app.update(Action::FocusPane(Pane::Latency), t);
    app.update(Action::Down, t);
    app.update(Action::Open, t);
    let first = app.plan.statements[1].checks[0];
    assert_eq!(
        app.overlay,
        Some(Overlay::Check {
            check: first,
            scroll: 0
        })
    );
}

#[test]
fn graph_moves_by_layer_and_within_a_layer() {
    let t = now();
    let mut app = fixture::app((120, 40), t);
    let label = |app: &App| app.graph.nodes[app.selected_node].label.clone();
    assert_eq!(label(&app), "crewai_flow_state_extensions");
    app.update(Action::Down, t);
    assert_eq!(label(&app), "data_imports");
    app.update(Action::Down, t);
    assert_eq!(label(&app), "discovery_flows");
    app.update(Action::Right, t);
    assert_eq!(label(&app), "raw_import_records");
    app.update(Action::Right, t);
    assert_eq!(label(&app), "raw_import_records", "the end of the layer");
    app.update(Action::Down, t);
    assert_eq!(label(&app), "assets");
    app.update(Action::Down, t);
    assert_eq!(label(&app), "assets", "the last layer");
    app.update(Action::Up, t);
    app.update(Action::Left, t);
    assert_eq!(label(&app), "discovery_flows");
    app.update(Action::Open, t);
    let node = app.selected_node;
    assert_eq!(app.overlay, Some(Overlay::Table { node, scroll: 0 }));
}

#[test]
fn graph_filter() {
    let t = now();
    let mut app = fixture::app((120, 40), t);
    app.update(Action::StartInput, t);
    assert!(app.typing());
    for c in "raw".chars() {
        app.update(Action::Input(c), t);
    }
    assert_eq!(app.visible_nodes().len(), 1);
    assert_eq!(
        app.graph.nodes[app.selected_node].label, "raw_import_records",
        "selection follows the filter"
    );
    app.update(Action::Backspace, t);
    assert_eq!(app.graph_filter.as_deref(), Some("ra"));
    app.update(Action::Submit, t);
    assert!(!app.typing());
    assert_eq!(app.graph_filter.as_deref(), Some("ra"));
    app.update(Action::StartInput, t);
    app.update(Action::Input('x'), t);
    app.update(Action::CancelInput, t);
    assert!(!app.typing());
    assert_eq!(app.graph_filter, None, "Esc drops the filter");
    assert_eq!(app.visible_nodes().len(), 5);
}

#[test]
fn lineage_pick_type_load_and_back() {
    let t = now();
    let mut app = fixture::app((120, 40), t);
    app.update(Action::ShowLineage, t);
    let rows = vec![
        RootRow {
            key: "a".into(),
            fields: vec![],
        },
        RootRow {
            key: "b".into(),
            fields: vec![],
        },
    ];
    app.update(Action::RootsLoaded(Ok(rows)), t);
    app.update(Action::Down, t);
    app.update(Action::Down, t);
    assert_eq!(app.lineage.selected, 1);
    assert_eq!(
        app.update(Action::Open, t),
        vec![Command::LoadLineage("b".into())]
    );
    assert_eq!(app.lineage.tree, Loadable::Loading);
    let node = Node {
        table: "flows".into(),
        via: None,
        rows: 1,
        broken: vec![],
        children: vec![],
        error: None,
    };
    // A late answer for another key is dropped.
    app.update(
        Action::LineageLoaded {
            key: "a".into(),
            result: Ok(node.clone()),
        },
        t,
    );
    assert_eq!(app.lineage.tree, Loadable::Loading);
    app.update(
        Action::LineageLoaded {
            key: "b".into(),
            result: Ok(node.clone()),
        },
        t,
    );
    assert_eq!(app.lineage.tree, Loadable::Loaded(node));
    app.update(Action::Back, t);
    assert_eq!(app.lineage.key, None);
    assert_eq!(app.screen, Screen::Lineage);
    app.update(Action::StartInput, t);
    for c in " 42 ".chars() {
        app.update(Action::Input(c), t);
    }
    assert_eq!(
        app.update(Action::Submit, t),
        vec![Command::LoadLineage("42".into())]
    );
    app.update(
        Action::LineageLoaded {
            key: "42".into(),
            result: Err("flows has no row with id = 42".into()),
        },
        t,
    );
    assert_eq!(
        app.lineage.tree,
        Loadable::Failed("flows has no row with id = 42".into())
    );
    app.update(Action::Back, t);
    app.update(Action::Back, t);
    assert_eq!(app.screen, Screen::Dashboard);
}

/// Where `pane` stands in `areas`.
fn pane_area(areas: &layout::Areas, pane: Pane) -> ratatui::layout::Rect {
    areas.panes.iter().find(|(p, _)| *p == pane).unwrap().1
}

#[test]
fn mouse_selects_panes_and_rows_and_scrolls() {
    let t = now();
    let mut app = refreshed((120, 40));
    let areas = layout::areas(120, 40, Screen::Dashboard, Pane::Graph);
    let orphans = pane_area(&areas, Pane::Orphans);
    app.update(Action::Click(orphans.x + 3, orphans.y + 4), t);
    assert_eq!(app.focus, Pane::Orphans);
    assert_eq!(app.orphan_row, 2, "border, header, then rows 0, 1, 2");
    let latency = pane_area(&areas, Pane::Latency);
    app.update(Action::ScrollDown(latency.x + 1, latency.y + 1), t);
    assert_eq!(app.focus, Pane::Latency);
    assert_eq!(app.latency_row, 3);
    app.update(Action::ScrollUp(latency.x + 1, latency.y + 1), t);
    assert_eq!(app.latency_row, 0);

    // Small terminals: the tab bar selects panes.
    let mut small = refreshed((60, 20));
    let tabs = layout::areas(60, 20, Screen::Dashboard, Pane::Graph)
        .tabs
        .unwrap();
    let tenants_x =
        tabs.x + (Pane::Graph.title().len() + 3 + Pane::Orphans.title().len() + 3) as u16 + 1;
    small.update(Action::Click(tenants_x, tabs.y), t);
    assert_eq!(small.focus, Pane::Tenants);
}

/// The attempt and next retry of a lost connection.
fn lost(app: &App) -> (&u32, &Instant) {
    let Connection::Lost {
        attempt, retry_at, ..
    } = &app.connection
    else {
        panic!("not lost")
    };
    (attempt, retry_at)
}

#[test]
fn losing_the_connection_backs_off_and_recovers() {
    let t = now();
    let mut app = fixture::app((120, 40), t);
    app.update(Action::Tick, t);
    app.update(Action::ConnectionLost("connection refused".into()), t);
    assert!(!app.refresh.running);
    let (attempt, retry_at) = lost(&app);
    assert_eq!((*attempt, *retry_at), (1, t + Duration::from_secs(1)));
    assert!(app.update(Action::Tick, t).is_empty());
    assert_eq!(
        app.update(Action::Tick, t + Duration::from_secs(1)),
        vec![Command::Ping]
    );
    app.update(Action::ConnectionLost("connection refused".into()), t);
    app.update(Action::ConnectionLost("connection refused".into()), t);
    let (attempt, retry_at) = lost(&app);
    assert_eq!((*attempt, *retry_at), (3, t + Duration::from_secs(4)));
    for _ in 0..10 {
        app.update(Action::ConnectionLost("down".into()), t);
    }
    let (_, retry_at) = lost(&app);
    assert_eq!(*retry_at, t + MAX_BACKOFF);
    assert_eq!(
        app.update(Action::Refresh, t),
        vec![Command::Ping],
        "r retries at once"
    );
    assert_eq!(app.update(Action::Connected, t), vec![Command::StartRun(2)]);
    assert_eq!(app.connection, Connection::Connected);
}

#[test]
fn percentiles() {
    assert_eq!(percentile([5.0, 1.0, 3.0].into_iter(), 50.0), Some(3.0));
    assert_eq!(
        percentile([1.0, 2.0, 3.0, 4.0, 100.0].into_iter(), 95.0),
        Some(100.0)
    );
    assert_eq!(percentile(std::iter::empty(), 50.0), None);
}

#[test]
fn history_is_bounded() {
    let t = now();
    let mut app = fixture::app((120, 40), t);
    for generation in 1..=(HISTORY as u64 + 5) {
        app.update(Action::Refresh, t);
        feed_run(&mut app, generation, t);
    }
    assert!(app.statements.iter().all(|s| s.history.len() == HISTORY));
    assert_eq!(app.refresh.completed, HISTORY as u64 + 5);
}

/// Opens the detail of the orphans check of assets' discovery flows from the
/// orphans pane; returns that check.
fn open_orphan_detail(app: &mut App, t: Instant) -> usize {
    app.update(Action::FocusPane(Pane::Orphans), t);
    app.update(Action::Open, t);
    orphans_of_assets_discovery(app)
}

/// A remedy for `check` that sets the reference of its 31 orphan rows to NULL.
fn set_null_remedy(app: &App, check: usize) -> crate::fix::Remedy {
    let plan = &app.plan;
    let rows = plan.checks[check].clone();
    let crate::checks::plan::Work::Rows(work) = &rows.work else {
        panic!()
    };
    crate::fix::Remedy {
        check: CheckId::Orphans,
        relationship: crate::fix::relationship_of_check(plan, check),
        effects: vec![],
        orphaned: vec![],
        triggers: vec![],
        what: "assets(discovery_flow_id) → discovery_flows(flow_id): set the reference of 31 orphan rows to NULL".into(),
        steps: vec![crate::fix::Step {
            selection: crate::sql::fix::Selection::Matching {
                table: work.table.clone(),
                predicate: work.predicate.clone(),
            },
            change: crate::fix::Change::SetNull(vec!["discovery_flow_id".into()]),
            count: 31,
            sql: work.count_sql(),
        }],
        ddl: vec![],
        undecided: None,
        withheld: None,
    }
}

/// The preview of `check`'s fix arrives with `remedy`.
fn preview_arrives(app: &mut App, check: usize, remedy: &crate::fix::Remedy, t: Instant) {
    app.update(
        Action::FixPreviewed {
            check,
            result: Ok(vec![remedy.clone()]),
        },
        t,
    );
}

/// Asks for the fix of `check` again, gets `remedy` previewed, and asks to
/// apply it: with writes allowed, the confirmation shows.
fn preview_again_to_confirmation(
    app: &mut App,
    check: usize,
    remedy: &crate::fix::Remedy,
    t: Instant,
) {
    app.update(Action::Fix, t);
    preview_arrives(app, check, remedy, t);
    app.update(Action::Apply, t);
}

/// Types `text` into the app, one character at a time; returns the commands.
fn type_text(app: &mut App, text: &str, t: Instant) -> Vec<Command> {
    text.chars()
        .flat_map(|c| app.update(Action::Input(c), t))
        .collect()
}

/// The confirmation of `remedy` with `typed` so far and `rejected`.
fn confirmation(
    check: usize,
    remedy: &crate::fix::Remedy,
    typed: &str,
    rejected: Option<&str>,
) -> Option<Overlay> {
    Some(Overlay::Fix {
        check,
        state: FixState::Confirm {
            remedies: vec![remedy.clone()],
            typed: typed.into(),
            rejected: rejected.map(str::to_string),
        },
    })
}

/// The fix overlay of `check` in `state`.
fn fix_overlay(check: usize, state: FixState) -> Option<Overlay> {
    Some(Overlay::Fix { check, state })
}

#[test]
fn fix_from_the_orphan_detail_previews_then_applies_on_confirmation() {
    let t = now();
    let mut app = refreshed((120, 40));
    app.writes = Writes::allowed("shop");
    assert!(
        app.update(Action::Fix, t).is_empty(),
        "only from an orphan detail"
    );
    let check = open_orphan_detail(&mut app, t);
    assert_eq!(app.update(Action::Fix, t), vec![Command::PreviewFix(check)]);
    assert_eq!(app.overlay, fix_overlay(check, FixState::Loading));
    // Apply before the preview arrived does nothing.
    app.update(Action::Apply, t);
    assert_eq!(app.overlay, fix_overlay(check, FixState::Loading));
    let remedy = set_null_remedy(&app, check);
    preview_arrives(&mut app, check, &remedy, t);
    assert_eq!(
        app.overlay,
        fix_overlay(check, FixState::Preview(vec![remedy.clone()]))
    );
    // The confirmation takes text; Esc cancels back to the preview.
    app.update(Action::Apply, t);
    assert_eq!(app.overlay, confirmation(check, &remedy, "", None));
    assert!(app.typing(), "keys are text while confirming");
    assert!(type_text(&mut app, "sh", t).is_empty());
    assert_eq!(app.overlay, confirmation(check, &remedy, "sh", None));
    app.update(Action::CancelInput, t);
    assert_eq!(
        app.overlay,
        fix_overlay(check, FixState::Preview(vec![remedy.clone()]))
    );
    assert!(!app.typing());
    app.update(Action::Back, t);
    assert_eq!(app.overlay, Some(Overlay::Check { check, scroll: 0 }));
    // Confirmed by typing the database's name: the shell applies, then a
    // refresh shows the counts.
    preview_again_to_confirmation(&mut app, check, &remedy, t);
    assert!(type_text(&mut app, "shop", t).is_empty());
    assert_eq!(
        app.update(Action::Submit, t),
        vec![Command::ApplyFix(vec![remedy])]
    );
    assert_eq!(app.overlay, fix_overlay(check, FixState::Applying));
    app.update(Action::Back, t);
    assert_eq!(
        app.overlay,
        fix_overlay(check, FixState::Applying),
        "stays while applying"
    );
    let generation = app.refresh.generation;
    assert_eq!(
        app.update(Action::FixApplied(Ok("committed".into())), t),
        vec![Command::StartRun(generation + 1)]
    );
    assert_eq!(
        app.overlay,
        fix_overlay(check, FixState::Done("committed".into()))
    );
}

/// Without `--allow-writes` the preview shows, and asking to apply only says
/// how to allow it: no confirmation, no command, whatever is pressed next.
#[test]
fn without_allow_writes_a_fix_is_previewed_never_applied() {
    let t = now();
    let mut app = refreshed((120, 40));
    assert_eq!(app.writes, Writes::Off, "off unless the shell allows it");
    let check = open_orphan_detail(&mut app, t);
    app.update(Action::Fix, t);
    let remedy = set_null_remedy(&app, check);
    preview_arrives(&mut app, check, &remedy, t);
    let preview = Some(Overlay::Fix {
        check,
        state: FixState::Preview(vec![remedy]),
    });
    assert!(app.update(Action::Apply, t).is_empty());
    assert_eq!(app.overlay, preview);
    let note = app.note.clone().unwrap_or_default();
    assert!(
        note.contains("--allow-writes") && note.contains("restart tether"),
        "{note:?}"
    );
    assert!(!app.typing());
    for action in [Action::Open, Action::Submit, Action::Apply] {
        assert!(app.update(action, t).is_empty());
        assert_eq!(app.overlay, preview);
    }
}

/// With writes allowed, only the exact word applies: Enter alone and a
/// wrong word are refused (and say so), Backspace corrects.
#[test]
fn only_the_typed_word_confirms_a_fix() {
    let t = now();
    let mut app = refreshed((120, 40));
    app.writes = Writes::allowed("shop");
    let check = open_orphan_detail(&mut app, t);
    let remedy = set_null_remedy(&app, check);
    preview_again_to_confirmation(&mut app, check, &remedy, t);
    assert!(app.update(Action::Submit, t).is_empty(), "Enter alone");
    assert_eq!(app.overlay, confirmation(check, &remedy, "", Some("")));
    assert!(app.update(Action::Open, t).is_empty(), "Enter as a command");
    type_text(&mut app, "shp", t);
    assert!(app.update(Action::Submit, t).is_empty(), "a wrong word");
    assert_eq!(app.overlay, confirmation(check, &remedy, "", Some("shp")));
    type_text(&mut app, "SHOP", t);
    assert!(app.update(Action::Submit, t).is_empty(), "another case");
    // 'q' is text here, not quit; Backspace takes it back.
    type_text(&mut app, "shoq", t);
    assert!(!app.quitting);
    app.update(Action::Backspace, t);
    assert_eq!(
        app.overlay,
        confirmation(check, &remedy, "sho", Some("SHOP"))
    );
    type_text(&mut app, "p", t);
    assert_eq!(
        app.update(Action::Submit, t),
        vec![Command::ApplyFix(vec![remedy])]
    );
}

/// A database without a name is confirmed by typing `apply`.
#[test]
fn a_database_without_a_name_is_confirmed_with_apply() {
    let t = now();
    let mut app = refreshed((120, 40));
    app.writes = Writes::allowed(" ");
    assert_eq!(app.writes.word(), Some("apply"));
    let check = open_orphan_detail(&mut app, t);
    let remedy = set_null_remedy(&app, check);
    preview_again_to_confirmation(&mut app, check, &remedy, t);
    type_text(&mut app, "apply", t);
    assert_eq!(
        app.update(Action::Submit, t),
        vec![Command::ApplyFix(vec![remedy])]
    );
}

#[test]
fn checks_retried_alone_are_kept_for_the_refresh_that_ran_them() {
    let t = now();
    let mut app = fixture::app((120, 40), t);
    assert_eq!(app.update(Action::Tick, t), vec![Command::StartRun(1)]);
    let event = crate::runner::Event::Retried {
        statement: 0,
        key: "orphans:assets(discovery_flow_id) → discovery_flows(flow_id)".into(),
        sql: app.plan.sql(0),
        elapsed: Duration::from_millis(12),
    };
    app.update(
        Action::Runner {
            generation: 1,
            event,
            at: std::time::UNIX_EPOCH,
        },
        t,
    );
    assert_eq!(app.retried.len(), 1);
    assert_eq!(app.retried[0].1, 12.0);
    feed_run(&mut app, 1, t);
    // The next refresh starts with none.
    let later = t + Duration::from_secs(10);
    assert_eq!(app.update(Action::Tick, later), vec![Command::StartRun(2)]);
    assert!(app.retried.is_empty());
}

/// The first refresh of a large table: an estimate shows (`≈`) while no
/// exact count is known, parts read show as progress, and the exact count
/// replaces both. Later estimates never hide an exact count.
#[test]
fn an_estimate_shows_until_the_exact_count_arrives() {
    let t = now();
    let mut app = fixture::app((120, 40), t);
    let check = orphans_of_assets_discovery(&app);
    let statement = fixture::statement_of(&app, check);
    app.update(Action::Tick, t);
    let estimated = |app: &mut App| {
        let outcome = Outcome {
            count: Some(40),
            total: Some(10_000),
            estimate: Some(Box::new(fixture::page_estimate(2))),
            ..Outcome::default()
        };
        fixture::runner_event(
            app,
            Event::Estimated {
                statement,
                elapsed: Duration::from_millis(20),
                checks: vec![(check, outcome)],
            },
        );
    };
    estimated(&mut app);
    assert_eq!(
        app.checks[check].shown_count(),
        (Some(40), Some(10_000), true)
    );
    assert_eq!(app.estimated.len(), 1);
    for event in [
        Event::Started { statement },
        Event::Progress {
            statement,
            done: 1,
            parts: 4,
        },
    ] {
        fixture::runner_event(&mut app, event);
    }
    assert_eq!(app.checks[check].progress, Some((1, 4)));
    feed_run(&mut app, 1, t);
    let view = &app.checks[check];
    assert_eq!(view.shown_count(), (Some(30), view.total, false));
    assert!(view.estimate.is_none() && view.progress.is_none());
    // Exact counts known: the app asks for no more estimates, and one that
    // comes anyway does not hide them.
    assert_eq!(app.estimates(), crate::runner::Estimates::Off);
    estimated(&mut app);
    assert!(!app.checks[check].shown_count().2);
}

// ---------------------------------------------------------------------------
// Count history

/// When the fixture's run `generation` finishes.
fn finished_at(generation: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000 + generation * 10)
}

/// A row check that finds no rows in the fixture.
fn holding_row_check(app: &App) -> usize {
    (0..app.checks.len())
        .find(|&c| {
            matches!(app.plan.checks[c].work, Work::Rows(_)) && app.checks[c].count == Some(0)
        })
        .expect("a row check that holds")
}

fn history_of(app: &App, check: usize) -> Vec<u64> {
    app.checks[check]
        .history
        .as_ref()
        .map(|h| h.counts().collect())
        .unwrap_or_default()
}

/// Sends `event` to the run in flight, finished at `at`.
fn event_at(app: &mut App, event: Event, at: SystemTime) {
    let (generation, now) = (app.refresh.generation, app.now);
    fixture::send(app, generation, event, at, now);
}

fn finished(app: &mut App, cancelled: bool, at: SystemTime) {
    let event = Event::Finished {
        elapsed: Duration::from_millis(300),
        shared_snapshot: true,
        cancelled,
    };
    event_at(app, event, at);
}

/// Every completed refresh adds a row check's exact count, up to
/// COUNT_HISTORY of them; checks without rows to count keep none.
#[test]
fn count_history_is_bounded_and_kept_for_row_checks_only() {
    let t = now();
    let mut app = fixture::app((120, 40), t);
    let broken = orphans_of_assets_discovery(&app);
    let runs = COUNT_HISTORY as u64 + 5;
    for generation in 1..=runs {
        app.update(Action::Refresh, t);
        feed_run(&mut app, generation, t);
    }
    // The fixture finds 30 in run 1, one more each run: the last 32 runs.
    let expected: Vec<u64> = (runs - COUNT_HISTORY as u64 + 1..=runs)
        .map(|run| 29 + run)
        .collect();
    assert_eq!(history_of(&app, broken), expected);
    let holding = holding_row_check(&app);
    let history = app.checks[holding].history.as_deref().unwrap();
    assert_eq!(history.len(), COUNT_HISTORY);
    assert!(history.held() && history.streak().is_none());
    assert!(history.counts().all(|c| c == 0));
    let catalog = (0..app.checks.len())
        .find(|&c| matches!(app.plan.checks[c].work, Work::Catalog(_)))
        .unwrap();
    assert!(app.checks[catalog].history.is_none());
}

/// A streak of non-zero counts starts at its first refresh and keeps that
/// time; a 0 ends it, and the next non-zero count starts a new one.
#[test]
fn a_non_zero_streak_keeps_its_start_and_ends_at_zero() {
    let at = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
    let mut history = CountHistory::default();
    assert!(history.is_empty());
    history.record(0, at(10));
    assert_eq!(history.streak(), None);
    history.record(3, at(20));
    history.record(5, at(30));
    history.record(9, at(40));
    let streak = history.streak().unwrap();
    assert_eq!((streak.since, streak.refreshes), (at(20), 3));
    assert_eq!(history.counts().collect::<Vec<_>>(), [0, 3, 5, 9]);
    history.record(0, at(50));
    assert_eq!(history.streak(), None);
    history.record(2, at(60));
    let streak = history.streak().unwrap();
    assert_eq!((streak.since, streak.refreshes), (at(60), 1));
    assert_eq!(history.counts().collect::<Vec<_>>(), [0, 3, 5, 9, 0, 2]);
    // Once the non-zero counts slide out of the window, it holds again.
    for s in 0..COUNT_HISTORY as u64 {
        history.record(0, at(70 + s));
    }
    assert!(history.held());
    assert_eq!(history.len(), COUNT_HISTORY);
    // The streak outlives the window.
    for s in 0..COUNT_HISTORY as u64 + 3 {
        history.record(7, at(200 + s));
    }
    let streak = history.streak().unwrap();
    assert_eq!((streak.since, streak.refreshes), (at(200), 35));
    assert_eq!(history.counts().collect::<Vec<_>>(), [7; COUNT_HISTORY]);
}

/// In the app: the streak of the fixture's broken relationship started with
/// its first refresh, and stays there while it is counted non-zero.
#[test]
fn the_streak_starts_at_the_first_refresh_that_found_rows() {
    let mut app = refreshed((120, 40));
    let broken = orphans_of_assets_discovery(&app);
    let streak = |app: &App| app.checks[broken].history.as_ref().unwrap().streak();
    assert_eq!(
        streak(&app),
        Some(Streak {
            since: finished_at(1),
            refreshes: 2
        })
    );
    let t = app.now;
    app.update(Action::Refresh, t);
    feed_run(&mut app, 3, t);
    assert_eq!(streak(&app).unwrap().since, finished_at(1));
    assert_eq!(streak(&app).unwrap().refreshes, 3);
    assert_eq!(history_of(&app, broken), [30, 31, 32]);
}

/// A refresh in which the check failed, a cancelled refresh and an
/// estimate add nothing; nor do checks a refresh did not reach.
#[test]
fn failed_cancelled_and_estimated_counts_are_not_kept() {
    let mut app = refreshed((120, 40));
    let broken = orphans_of_assets_discovery(&app);
    let holding = holding_row_check(&app);
    let t = app.now;
    let before = (history_of(&app, broken), history_of(&app, holding));

    // The check fails; the others are never reached; the refresh ends.
    app.update(Action::Refresh, t);
    let outcome = Outcome {
        error: Some(Box::new(crate::runner::CheckError::new(
            crate::runner::CheckFailure::Timeout,
            "timed out after 30 s",
        ))),
        ..Outcome::default()
    };
    event_at(
        &mut app,
        Event::Checked {
            check: broken,
            outcome,
        },
        finished_at(3),
    );
    finished(&mut app, false, finished_at(3));
    assert_eq!(app.refresh.last_finished, Some(finished_at(3)));
    assert_eq!(
        (history_of(&app, broken), history_of(&app, holding)),
        before
    );

    // Counted, but the refresh is cancelled.
    app.update(Action::Refresh, t);
    let counted = |count: u64, estimate: bool| Outcome {
        count: Some(count),
        total: Some(10_000),
        estimate: estimate.then(|| Box::new(fixture::page_estimate(2))),
        ..Outcome::default()
    };
    let checked = Event::Checked {
        check: broken,
        outcome: counted(40, false),
    };
    event_at(&mut app, checked, finished_at(4));
    finished(&mut app, true, finished_at(4));
    assert_eq!(history_of(&app, broken), before.0);

    // Only estimated, before and in place of a count.
    app.update(Action::Refresh, t);
    let statement = fixture::statement_of(&app, broken);
    let estimated = Event::Estimated {
        statement,
        elapsed: Duration::from_millis(20),
        checks: vec![(broken, counted(40, true))],
    };
    event_at(&mut app, estimated, finished_at(5));
    let checked = Event::Checked {
        check: broken,
        outcome: counted(40, true),
    };
    event_at(&mut app, checked, finished_at(5));
    finished(&mut app, false, finished_at(5));
    assert_eq!(history_of(&app, broken), before.0);
    let streak = app.checks[broken].history.as_ref().unwrap().streak();
    assert_eq!(
        streak.map(|s| (s.since, s.refreshes)),
        Some((finished_at(1), 2))
    );

    // The next complete refresh is kept.
    app.update(Action::Refresh, t);
    feed_run(&mut app, 6, t);
    assert_eq!(history_of(&app, broken), [30, 31, 35]);
}
