//! Median time to render one frame of the terminal UI for a synthetic schema of
//! 500 tables (`cargo bench --bench render`).

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};
use tether::app::{Action, App, Pane, SessionInfo};
use tether::checks::plan::{Plan, PlanOptions};
use tether::model::{
    Column, Engine, ForeignKey, Index, MatchType, ReferentialAction as Rule, Schema, Table,
    TableKind, TableName,
};
use tether::runner::{Event, Outcome};
use tether::tui::config::Config;

const TABLES: usize = 500;

fn schema() -> Schema {
    let name = |i: usize| TableName::new("public", format!("table_{i:03}"));
    let column = |n: &str, t: &str| Column {
        name: n.into(),
        data_type: t.into(),
        nullable: true,
        generated: false,
        identity: None,
    };
    let mut tables = Vec::new();
    let mut foreign_keys = Vec::new();
    let mut indexes = Vec::new();
    for i in 0..TABLES {
        tables.push(Table {
            columns: vec![
                column("id", "integer"),
                column("parent_id", "integer"),
                column("other_id", "integer"),
                column("tenant_id", "integer"),
            ],
            primary_key: vec!["id".into()],
            row_estimate: Some((i as i64 + 1) * 1000),
            ..Table::new(name(i), TableKind::Table)
        });
        indexes.push(Index {
            name: format!("table_{i:03}_pkey"),
            table: name(i),
            columns: vec![Some("id".into())],
            unique: true,
            partial: false,
            valid: true,
        });
        // A tree (each table under table i / 2) plus a cross link every third table.
        let mut parents = Vec::new();
        if i > 0 {
            parents.push(("parent_id", i / 2));
        }
        if i % 3 == 0 && i > 10 {
            parents.push(("other_id", i - 7));
        }
        for (col, parent) in parents {
            foreign_keys.push(ForeignKey {
                name: format!("table_{i:03}_{col}_fkey"),
                child: name(i),
                child_columns: vec![col.into()],
                parent: name(parent),
                parent_columns: vec!["id".into()],
                on_delete: Rule::Cascade,
                on_update: Rule::NoAction,
                match_type: MatchType::Simple,
                deferrable: false,
                initially_deferred: false,
                validated: true,
                enforced: true,
                triggers_enabled: true,
            });
        }
    }
    Schema {
        engine: Engine::Postgres,
        default_schema: "public".into(),
        tables,
        foreign_keys: foreign_keys.into_iter().map(std::sync::Arc::new).collect(),
        indexes,
        blind_spots: Vec::new(),
        lookup: Default::default(),
        reads: Default::default(),
    }
}

fn app() -> App {
    let options = PlanOptions {
        tenant_columns: Some(vec!["tenant_id".into()]),
        ..PlanOptions::default()
    };
    let plan = Arc::new(Plan::build(schema(), None, &options));
    let info = SessionInfo {
        engine: "PostgreSQL".into(),
        server_version: "15.20".into(),
        database: "database big".into(),
        address: "app@db:5432".into(),
        demo: false,
        profile: None,
    };
    let now = Instant::now();
    let mut app = App::new(info, plan.clone(), Duration::from_secs(10), (160, 50), now);
    app.update(Action::Tick, now);
    let at = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    for (s, statement) in plan.statements.iter().enumerate() {
        app.update(
            Action::Runner {
                generation: 1,
                event: Event::Started { statement: s },
                at,
            },
            now,
        );
        for &c in &statement.checks {
            let outcome = Outcome {
                count: Some((c % 7) as u64),
                total: Some(1000),
                elapsed: Duration::from_millis(3 + (s % 40) as u64),
                ..Outcome::default()
            };
            app.update(
                Action::Runner {
                    generation: 1,
                    event: Event::Checked { check: c, outcome },
                    at,
                },
                now,
            );
        }
        let done = Event::StatementDone {
            statement: s,
            elapsed: Duration::from_millis(3 + (s % 40) as u64),
            failed: false,
            findings: Vec::new(),
        };
        app.update(
            Action::Runner {
                generation: 1,
                event: done,
                at,
            },
            now,
        );
    }
    let finished = Event::Finished {
        elapsed: Duration::from_millis(900),
        shared_snapshot: true,
        cancelled: false,
    };
    app.update(
        Action::Runner {
            generation: 1,
            event: finished,
            at,
        },
        now,
    );
    app
}

fn median_frame(app: &App, config: &Config, frames: usize) -> Duration {
    let mut terminal = Terminal::new(TestBackend::new(app.size.0, app.size.1)).unwrap();
    let mut times: Vec<Duration> = (0..frames)
        .map(|_| {
            let started = Instant::now();
            terminal
                .draw(|frame| tether::tui::views::draw(frame, app, &config.theme, &config.keymap))
                .unwrap();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let config = Config::load(None, false).unwrap();
    let mut app = app();
    println!(
        "synthetic schema: {} tables, {} relationships, {} checks, {} statements",
        app.plan.schema.tables.len(),
        app.plan.relationships.len(),
        app.plan.checks.len(),
        app.plan.statements.len()
    );
    let now = Instant::now();
    let cases: Vec<(&str, Vec<Action>)> = vec![
        ("dashboard 160x50", vec![]),
        (
            "graph, a table deep in the tree",
            vec![Action::Bottom, Action::Down, Action::Down, Action::Down],
        ),
        (
            "orphans focused",
            vec![Action::FocusPane(Pane::Orphans), Action::PageDown],
        ),
        ("orphan detail", vec![Action::Open]),
    ];
    for (name, actions) in cases {
        for a in actions {
            app.update(a, now);
        }
        let median = median_frame(&app, &config, 200);
        println!(
            "{name:<36} median frame {:>8.3} ms",
            median.as_secs_f64() * 1000.0
        );
    }
    app.update(Action::Resize(80, 24), now);
    app.update(Action::Back, now);
    let median = median_frame(&app, &config, 200);
    println!(
        "{:<36} median frame {:>8.3} ms",
        "dashboard 80x24",
        median.as_secs_f64() * 1000.0
    );
}
