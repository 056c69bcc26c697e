//! The rows view: every column of a check's offending rows, scrolled down
//! (pages read on demand) and across.

use super::test_support::{commands as run, render};
use crate::app::fixture::refreshed;
use crate::app::{Action, App, Command, Overlay, Pane};
use crate::offending::Page;

const COLUMNS: [&str; 9] = [
    "id",
    "discovery_flow_id",
    "client_account_id",
    "engagement_id",
    "name",
    "asset_type",
    "created_at",
    "notes",
    "raw_import_record_id",
];

/// Page `n` of offending assets: wide characters, NULLs, long values.
fn page(n: usize, rows: usize, more: bool) -> Page {
    let rows: Vec<Vec<Option<String>>> = (0..rows)
        .map(|i| {
            let id = n * 100 + i;
            vec![
                Some(format!("a{id:04}")),
                Some(format!("f-missing-{id}")),
                Some("acct-1".into()),
                if i % 3 == 0 {
                    None
                } else {
                    Some("eng-7".into())
                },
                Some(if i % 2 == 0 {
                    format!("服务器 {id}")
                } else {
                    format!("server {id}")
                }),
                Some("database".into()),
                Some("2026-11-30 04:12:09+00".into()),
                Some(
                    "moved from the old data centre during the night migration; owner unknown"
                        .into(),
                ),
                Some(format!("r{id}")),
            ]
        })
        .collect();
    Page {
        columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
        last_key: rows
            .last()
            .map(|r| vec![format!("\"{}\"", r[0].clone().unwrap())]),
        rows,
        more,
    }
}

/// The orphans of the first relationship, rows open with the first page.
fn rows_open(size: (u16, u16)) -> (App, usize) {
    let mut app = refreshed(size);
    run(&mut app, &[Action::FocusPane(Pane::Orphans), Action::Open]);
    let Some(Overlay::Check { check, .. }) = app.overlay else {
        panic!("{:?}", app.overlay)
    };
    let commands = run(&mut app, &[Action::Open]);
    assert_eq!(commands, vec![Command::LoadRows { check, after: None }]);
    run(
        &mut app,
        &[Action::RowsLoaded {
            check,
            result: Ok(page(0, 30, true)),
        }],
    );
    (app, check)
}

#[test]
fn orphan_rows_with_every_column() {
    for (w, h) in [(80, 24), (160, 45)] {
        let (app, _) = rows_open((w, h));
        insta::assert_snapshot!(format!("orphan_rows_{w}x{h}"), render(&app).backend());
    }
}

#[test]
fn orphan_rows_scrolled_across() {
    for (w, h) in [(80, 24), (160, 45)] {
        let (mut app, _) = rows_open((w, h));
        run(&mut app, &[Action::Down, Action::Right, Action::Right]);
        insta::assert_snapshot!(
            format!("orphan_rows_across_{w}x{h}"),
            render(&app).backend()
        );
    }
}

/// Reaching the last row read asks for the next page, after its key; the
/// last page asks for nothing more.
#[test]
fn the_next_page_is_read_at_the_last_row() {
    let (mut app, check) = rows_open((120, 40));
    let commands = run(&mut app, &vec![Action::Down; 28]);
    assert!(commands.is_empty(), "{commands:?}");
    let commands = run(&mut app, &[Action::Down]);
    assert_eq!(
        commands,
        vec![Command::LoadRows {
            check,
            after: Some(vec!["\"a0029\"".into()])
        }]
    );
    assert!(
        run(&mut app, &[Action::Down]).is_empty(),
        "one page at a time"
    );
    run(
        &mut app,
        &[Action::RowsLoaded {
            check,
            result: Ok(page(1, 5, false)),
        }],
    );
    assert_eq!(app.rows.rows.len(), 35);
    assert!(run(&mut app, &vec![Action::Down; 10]).is_empty());
    assert_eq!(app.rows.selected, 34);
    run(&mut app, &[Action::Back]);
    assert_eq!(app.overlay, Some(Overlay::Check { check, scroll: 0 }));
}

#[test]
fn y_copies_the_listing_and_capital_y_the_count() {
    let (mut app, _) = rows_open((120, 40));
    let listing = run(&mut app, &[Action::CopySql]);
    let count = run(&mut app, &[Action::CopyCountSql]);
    match (&listing[..], &count[..]) {
        ([Command::Copy(listing)], [Command::Copy(count)]) => {
            assert!(listing.contains("ORDER BY"), "{listing}");
            assert!(count.contains("count(*)"), "{count}");
        }
        other => panic!("{other:?}"),
    }
}
