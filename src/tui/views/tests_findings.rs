//! The findings screen: every finding of the run, reachable, at 80×24 and
//! 160×45.

use super::test_support::{act, render};
use crate::app::fixture::refreshed;
use crate::app::{Action, FindingAt, Overlay, Screen};

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 45)];

#[test]
fn findings_screen() {
    for (w, h) in SIZES {
        let mut app = refreshed((w, h));
        act(&mut app, &[Action::ShowFindings, Action::Down]);
        insta::assert_snapshot!(format!("findings_{w}x{h}"), render(&app).backend());
    }
}

#[test]
fn findings_filtered_to_nothing_say_so() {
    let mut app = refreshed((80, 24));
    act(&mut app, &[Action::ShowFindings, Action::StartInput]);
    for c in "zzz".chars() {
        act(&mut app, &[Action::Input(c)]);
    }
    act(&mut app, &[Action::Submit]);
    let screen = format!("{:?}", render(&app).backend());
    assert!(screen.contains("no finding matches"), "{screen}");
}

/// Every finding the run produced is listed once and opens a detail.
#[test]
fn every_finding_is_listed_and_opens() {
    let mut app = refreshed((160, 45));
    act(&mut app, &[Action::ShowFindings]);
    let rows = app.finding_rows();
    let kept: usize = app.checks.iter().map(|c| c.findings.len()).sum::<usize>()
        + app
            .statements
            .iter()
            .map(|s| s.findings.len())
            .sum::<usize>();
    assert_eq!(rows.len(), kept);
    assert!(kept > 0);
    for (i, at) in rows.iter().enumerate() {
        act(&mut app, &[Action::Top]);
        act(&mut app, &vec![Action::PageDown; i / 10]);
        act(&mut app, &vec![Action::Down; i % 10]);
        assert_eq!(app.findings.selected, i);
        act(&mut app, &[Action::Open]);
        match (at, &app.overlay) {
            (FindingAt::Check { check, .. }, Some(Overlay::Check { check: open, .. })) => {
                assert_eq!(check, open)
            }
            (
                FindingAt::Statement { statement, .. },
                Some(Overlay::Statement {
                    statement: open, ..
                }),
            ) => assert_eq!(statement, open),
            (at, overlay) => panic!("{at:?} opened {overlay:?}"),
        }
        act(&mut app, &[Action::Back]);
        assert_eq!(app.screen, Screen::Findings);
    }
}
