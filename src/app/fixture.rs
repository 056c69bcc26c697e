//! A deterministic app for tests: the demo's schema as a model (no database),
//! planned with the discovery-flow profile, fed fixed results.

use super::{Action, App, SessionInfo};
use crate::checks::plan::{Plan, PlanOptions, Work};
use crate::findings::Finding;
use crate::model::{Column, Engine, ForeignKey, Index, MatchType, Schema, Table, TableKind};
use crate::profile::Profile;
use crate::runner::{Event, Outcome};
use crate::sql::ddl::ColumnType;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The demo's tables, as the catalog would read them from PostgreSQL.
pub fn schema() -> Schema {
    let specs = crate::demo::tables("public");
    let mut tables = Vec::new();
    let mut foreign_keys = Vec::new();
    let mut indexes = Vec::new();
    for (spec, rows) in specs.iter().zip([500, 500, 12_000, 500, 10_000]) {
        tables.push(table_of(spec, rows));
        indexes.extend(keys_of(spec));
        foreign_keys.extend(spec.foreign_keys.iter().map(|fk| foreign_key_of(spec, fk)));
    }
    for index in crate::demo::indexes("public") {
        indexes.push(Index {
            name: index.name,
            table: index.table,
            columns: index.columns.into_iter().map(Some).collect(),
            unique: false,
            partial: false,
            valid: true,
        });
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

/// A demo table as PostgreSQL's catalog describes it, with `rows` estimated.
fn table_of(spec: &crate::sql::ddl::TableSpec, rows: i64) -> Table {
    Table {
        columns: spec
            .columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                data_type: match c.ty {
                    ColumnType::Uuid => "uuid",
                    ColumnType::Text => "text",
                    ColumnType::Integer => "integer",
                    ColumnType::Timestamp => "timestamp with time zone",
                }
                .into(),
                nullable: c.nullable,
                generated: false,
                identity: None,
            })
            .collect(),
        primary_key: spec.primary_key.clone(),
        row_estimate: Some(rows),
        ..Table::new(spec.name.clone(), TableKind::Table)
    }
}

/// The unique indexes behind a demo table's primary key and unique keys.
fn keys_of(spec: &crate::sql::ddl::TableSpec) -> Vec<Index> {
    std::iter::once(&spec.primary_key)
        .chain(&spec.unique)
        .map(|unique| Index {
            name: format!("{}_{}_key", spec.name.name, unique.join("_")),
            table: spec.name.clone(),
            columns: unique.iter().cloned().map(Some).collect(),
            unique: true,
            partial: false,
            valid: true,
        })
        .collect()
}

/// A demo foreign key as declared (NOT VALID where the demo says so).
fn foreign_key_of(
    spec: &crate::sql::ddl::TableSpec,
    fk: &crate::sql::ddl::ForeignKeySpec,
) -> ForeignKey {
    let rules = crate::model::DeclaredRules {
        on_delete: fk.on_delete,
        on_update: crate::model::ReferentialAction::NoAction,
        match_type: MatchType::Simple,
    };
    ForeignKey {
        validated: fk.validate,
        ..ForeignKey::immediate(
            fk.name.clone(),
            (spec.name.clone(), fk.columns.clone()),
            (fk.parent.clone(), fk.parent_columns.clone()),
            rules,
        )
    }
}

pub fn plan() -> Arc<Plan> {
    let profile = Profile::load("discovery-flow").expect("bundled profile");
    Arc::new(Plan::build(
        schema(),
        Some(&profile),
        &PlanOptions::default(),
    ))
}

pub fn info() -> SessionInfo {
    SessionInfo {
        engine: "PostgreSQL".into(),
        server_version: "15.20".into(),
        database: "database shop".into(),
        address: "app@db.internal:5432".into(),
        demo: false,
        profile: Some("discovery-flow".into()),
    }
}

/// A fresh app of `size` on `schema`, planned with the bundled `profile`
/// (or none), before any refresh.
pub fn app_of(schema: Schema, profile: Option<&str>, size: (u16, u16)) -> App {
    let profile = profile.map(|p| Profile::load(p).expect("bundled profile"));
    let plan = Arc::new(Plan::build(
        schema,
        profile.as_ref(),
        &PlanOptions::default(),
    ));
    App::new(info(), plan, Duration::from_secs(10), size, Instant::now())
}

/// A fresh app at `now`, before any refresh.
pub fn app(size: (u16, u16), now: Instant) -> App {
    App::new(info(), plan(), Duration::from_secs(10), size, now)
}

/// The count a check finds in run `run`: the demo's faults, a little worse each run.
fn count_for(app: &App, check: usize, run: u64) -> u64 {
    let key = &app.plan.checks[check].key;
    let base = crate::demo::expected(10_000, Engine::Postgres)
        .into_iter()
        .find(|f| key.ends_with(&f.location) && key.starts_with(f.check.as_str()))
        .and_then(|f| f.count)
        .unwrap_or(0);
    if base > 0 { base + run - 1 } else { 0 }
}

fn sample(check: &crate::checks::plan::Check) -> Vec<Map<String, Value>> {
    let Work::Rows(rows) = &check.work else {
        return Vec::new();
    };
    let mut columns = vec!["id".to_string()];
    if let Some(lookup) = rows.predicate.lookup() {
        columns.extend(lookup.pairs.iter().map(|p| p.0.clone()));
    }
    (1..=3u32)
        .map(|i| {
            columns
                .iter()
                .enumerate()
                .map(|(c, name)| {
                    (
                        name.clone(),
                        Value::String(format!("{i:08x}-0000-4000-8000-{c:012x}")),
                    )
                })
                .collect()
        })
        .collect()
}

/// The finding of `check` when it counts `count` rows, decided by statement
/// `statement`: its SQL, a sample and the sample's SQL.
fn fed_finding(
    plan: &Plan,
    statement: usize,
    check: &crate::checks::plan::Check,
    count: u64,
) -> Finding {
    let mut f = Finding::new(
        check.id,
        check.severity,
        &check.subject,
        &check.key,
        crate::wording::count_sentence(check.offending(), count, Some(10_000), None),
    );
    f.count = Some(count);
    f.total = Some(10_000);
    f.sql = Some(plan.sql(statement).to_string());
    f.sample = sample(check);
    f.sample_sql = match &check.work {
        Work::Rows(r) => Some(r.sample_sql().to_string()),
        _ => None,
    };
    f
}

/// The rows every metric returns in a fed run: one per flow type.
fn metric_rows() -> Vec<Map<String, Value>> {
    ["assessment", "discovery", "execution", "planning"]
        .iter()
        .enumerate()
        .map(|(i, t)| {
            Map::from_iter([
                ("flow_type".to_string(), Value::from(*t)),
                (
                    "avg_duration_s".to_string(),
                    Value::from(3600.5 + i as f64 * 61.0),
                ),
                ("completed".to_string(), Value::from(100 - i as u64 * 25)),
                ("failed".to_string(), Value::from(i as u64 * 25)),
            ])
        })
        .collect()
}

/// Sends a runner event of run `generation`, which happened at `at`, to the
/// app at `now`.
pub fn send(app: &mut App, generation: u64, event: Event, at: SystemTime, now: Instant) {
    app.update(
        Action::Runner {
            generation,
            event,
            at,
        },
        now,
    );
}

/// Feeds one complete refresh (as run `generation`) into the app.
pub fn feed_run(app: &mut App, generation: u64, now: Instant) {
    let at = UNIX_EPOCH + Duration::from_secs(1_795_000_000 + generation * 10);
    let plan = app.plan.clone();
    let send = |app: &mut App, event: Event| send(app, generation, event, at, now);
    for (s, statement) in plan.statements.iter().enumerate() {
        send(app, Event::Started { statement: s });
        let elapsed =
            Duration::from_micros(1_000 + (s as u64 * 7_919 + generation * 1_301) % 90_000);
        for &c in &statement.checks {
            let count = count_for(app, c, generation);
            let mut findings = Vec::new();
            if count > 0 {
                findings.push(fed_finding(&plan, s, &plan.checks[c], count));
            }
            let outcome = Outcome {
                count: Some(count),
                total: Some(10_000),
                estimate: None,
                elapsed,
                findings,
                error: None,
            };
            send(app, Event::Checked { check: c, outcome });
        }
        send(
            app,
            Event::StatementDone {
                statement: s,
                elapsed,
                failed: false,
                findings: Vec::new(),
            },
        );
    }
    for m in 0..plan.metrics.len() {
        send(
            app,
            Event::Metric {
                metric: m,
                outcome: (Duration::from_millis(3), Ok(metric_rows())),
            },
        );
    }
    send(
        app,
        Event::Finished {
            elapsed: Duration::from_millis(420),
            shared_snapshot: true,
            cancelled: false,
        },
    );
}

/// An app after two refreshes (so changes since the previous one show).
pub fn refreshed(size: (u16, u16)) -> App {
    let now = Instant::now();
    let mut app = app(size, now);
    for generation in 1..=2 {
        app.update(Action::Refresh, now);
        feed_run(&mut app, generation, now);
    }
    app
}

/// Sends one runner event of the run in flight to `app`.
pub fn runner_event(app: &mut App, event: Event) {
    let generation = app.refresh.generation;
    // At the app's own time, so that what is drawn does not depend on how
    // long the test took.
    let now = app.now;
    app.update(
        Action::Runner {
            generation,
            event,
            at: SystemTime::UNIX_EPOCH,
        },
        now,
    );
}

/// The statement that decides `check`.
pub fn statement_of(app: &App, check: usize) -> usize {
    app.plan
        .statements
        .iter()
        .position(|s| s.checks.contains(&check))
        .expect("a statement decides it")
}

/// An estimate from a 5% page sample of 500 rows, `found` of them offending.
pub fn page_estimate(found: u64) -> crate::findings::Estimate {
    crate::findings::Estimate {
        sampled_rows: 500,
        sampled_count: found,
        fraction: 0.05,
        basis: "a sample of 500 rows: 5% of its pages (TABLESAMPLE SYSTEM)".into(),
    }
}
