//! `tether bench`: latency by query category against the profile's thresholds.
//!
//! - simple: a point lookup by key;
//! - join: one root row's children, across a relationship;
//! - constraint: an insert that a foreign key rejects (rolled back);
//! - aggregation: the profile's metric queries (else a count);
//! - batch: a 1,000-row insert, rolled back (only with `allow_writes`);
//! - concurrent: several sessions doing simple and join at once, with
//!   deadlocks and timeouts counted.

use crate::checks::Category;
use crate::checks::plan::Plan;
use crate::db::{self, Db, Reader};
use crate::model::TableName;
use crate::sql::render::{self, Hop};
use crate::sql::{Sql, probe as statements};
use serde::Serialize;
use std::time::Instant;

#[derive(Clone, Debug)]
pub struct BenchOptions {
    pub iterations: u32,
    pub warmup: u32,
    /// Sessions of the concurrent run.
    pub sessions: u32,
    pub allow_writes: bool,
}

/// Latencies of one category, in milliseconds.
#[derive(Clone, Debug, Serialize)]
pub struct Stats {
    pub iterations: usize,
    pub min_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    pub threshold_ms: u64,
    /// p95 over the threshold.
    pub exceeded: bool,
    pub errors: usize,
    /// What ran, in a few words.
    pub what: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Concurrent {
    pub sessions: u32,
    pub operations: usize,
    pub deadlocks: usize,
    pub timeouts: usize,
    pub errors: usize,
    pub stats: Option<Stats>,
}

/// One category's result: measured, or why not.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Measured {
    Stats(Stats),
    Skipped { skipped: String },
}

#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub simple: Measured,
    pub join: Measured,
    pub constraint: Measured,
    pub aggregation: Measured,
    pub batch: Measured,
    pub concurrent: Concurrent,
}

impl BenchReport {
    pub fn exceeded(&self) -> bool {
        [
            &self.simple,
            &self.join,
            &self.constraint,
            &self.aggregation,
            &self.batch,
        ]
        .iter()
        .any(|m| matches!(m, Measured::Stats(s) if s.exceeded))
            || self.concurrent.stats.as_ref().is_some_and(|s| s.exceeded)
    }
}

fn stats(mut samples: Vec<f64>, errors: usize, threshold_ms: u64, what: String) -> Measured {
    if samples.is_empty() {
        return Measured::Skipped {
            skipped: format!("every run failed ({errors})"),
        };
    }
    samples.sort_by(f64::total_cmp);
    let at = |p: f64| samples[(((samples.len() - 1) as f64) * p).round() as usize];
    let round = |v: f64| (v * 1000.0).round() / 1000.0;
    Measured::Stats(Stats {
        iterations: samples.len(),
        min_ms: round(samples[0]),
        p50_ms: round(at(0.5)),
        p95_ms: round(at(0.95)),
        max_ms: round(samples[samples.len() - 1]),
        threshold_ms,
        exceeded: at(0.95) > threshold_ms as f64,
        errors,
        what,
    })
}

/// The table a benchmark works on: the lineage root (or the table with most
/// children) with a one-column key, and its largest child.
struct Targets {
    root: TableName,
    key: String,
    child: Option<(TableName, Vec<(String, String)>)>,
    keys: Vec<String>,
}

async fn targets(db: &Db, plan: &Plan) -> Result<Targets, String> {
    let root = plan
        .lineage_root
        .clone()
        .or_else(|| {
            plan.schema
                .tables
                .iter()
                .filter(|t| t.primary_key.len() == 1)
                .max_by_key(|t| t.row_estimate.unwrap_or(0))
                .map(|t| t.name.clone())
        })
        .ok_or("no table with a one-column primary key to benchmark")?;
    let table = plan
        .schema
        .table(&root)
        .ok_or("the benchmark table is gone")?;
    let [key] = table.primary_key.as_slice() else {
        return Err(format!(
            "{} has no one-column primary key",
            plan.label(&root)
        ));
    };
    let child = plan
        .relationships
        .iter()
        .filter(|r| r.parent == root && r.child != root)
        .max_by_key(|r| {
            plan.schema
                .table(&r.child)
                .and_then(|t| t.row_estimate)
                .unwrap_or(0)
        })
        .map(|r| {
            (
                r.child.clone(),
                r.child_columns
                    .iter()
                    .cloned()
                    .zip(r.parent_columns.iter().cloned())
                    .collect(),
            )
        });
    let mut reader = db.reader(None).await.map_err(|e| db::describe(&e))?;
    let rows = reader
        .text_rows(&statements::some_keys(plan.engine, &root, key, 200))
        .await
        .map_err(|e| db::describe(&e))?;
    let _ = reader.finish().await;
    let keys: Vec<String> = rows
        .iter()
        .filter_map(|r| r.get(key).and_then(|v| v.as_str()).map(str::to_string))
        .collect();
    if keys.is_empty() {
        return Err(format!(
            "{} is empty: nothing to look up",
            plan.label(&root)
        ));
    }
    Ok(Targets {
        root,
        key: key.clone(),
        child,
        keys,
    })
}

/// Times `runs` calls of `op` after `warmup` unmeasured ones.
async fn measure(
    warmup: u32,
    runs: u32,
    mut op: impl AsyncFnMut(u32) -> Result<(), sqlx::Error>,
    progress: &indicatif::ProgressBar,
) -> (Vec<f64>, usize) {
    for i in 0..warmup {
        let _ = op(i).await;
    }
    let mut samples = Vec::with_capacity(runs as usize);
    let mut errors = 0;
    for i in 0..runs {
        let started = Instant::now();
        match op(warmup + i).await {
            Ok(()) => samples.push(started.elapsed().as_secs_f64() * 1000.0),
            Err(_) => errors += 1,
        }
        progress.inc(1);
    }
    (samples, errors)
}

async fn read_once(db: &Db, sql: &Sql) -> Result<(), sqlx::Error> {
    let mut reader = db.reader(None).await?;
    reader.counts(sql).await?;
    reader.finish().await
}

fn classify(error: &sqlx::Error) -> (bool, bool) {
    let text = db::describe(error).to_lowercase();
    (
        text.contains("deadlock"),
        db::is_timeout(error) || text.contains("timed out") || text.contains("lock wait"),
    )
}

/// Runs the benchmark. `writable` is a read-write connection for the
/// constraint and batch categories (None: they are skipped).
pub async fn run(
    db: &Db,
    writable: Option<&Db>,
    plan: &Plan,
    options: &BenchOptions,
    progress: &indicatif::ProgressBar,
) -> Result<BenchReport, String> {
    let engine = plan.engine;
    let t = targets(db, plan).await?;
    let threshold = |c: Category| plan.thresholds.for_category(c);
    let n = options.iterations.max(1);
    progress.set_length(u64::from(n) * 5 + u64::from(n) * u64::from(options.sessions));
    let key_at = |i: u32| t.keys[i as usize % t.keys.len()].clone();
    let root_label = plan.label(&t.root);

    // simple
    progress.set_message("simple");
    let lookup = |i: u32| statements::count_where(engine, &t.root, &[(t.key.clone(), key_at(i))]);
    let (samples, errors) = measure(
        options.warmup,
        n,
        async |i| read_once(db, &lookup(i)).await,
        progress,
    )
    .await;
    let simple = stats(
        samples,
        errors,
        threshold(Category::Simple),
        format!("a {root_label} row by {}", t.key),
    );

    // join
    progress.set_message("join");
    let join = match &t.child {
        Some((child, pairs)) => {
            let hop = [Hop {
                table: child.clone(),
                pairs: pairs.clone(),
            }];
            let sql = |i: u32| render::lineage_scan(engine, &hop, &t.root, &t.key, &key_at(i), &[]);
            let (samples, errors) = measure(
                options.warmup,
                n,
                async |i| read_once(db, &sql(i)).await,
                progress,
            )
            .await;
            stats(
                samples,
                errors,
                threshold(Category::Join),
                format!("the {} rows of one {root_label} row", plan.label(child)),
            )
        }
        None => Measured::Skipped {
            skipped: format!("{root_label} has no child table"),
        },
    };

    // constraint: an orphan insert the database rejects, rolled back.
    progress.set_message("constraint");
    let constraint = match (
        writable,
        plan.relationships.iter().find(|r| r.constraint.is_some()),
    ) {
        (None, _) => Measured::Skipped {
            skipped: "needs a writable connection".into(),
        },
        (_, None) => Measured::Skipped {
            skipped: "no foreign-key constraint".into(),
        },
        (Some(w), Some(r)) => {
            let insert = |i: u32| crate::probe::orphan_insert(plan, r, u64::from(i));
            insert(0)?;
            let (samples, errors) = measure(
                options.warmup,
                n,
                async |i| {
                    let mut tx = w.writable().await?;
                    // Rejected (as intended) or accepted, it is rolled back.
                    if let Ok(Some(sql)) = insert(i) {
                        let _ = tx.execute(&sql).await;
                    }
                    tx.rollback().await
                },
                progress,
            )
            .await;
            stats(
                samples,
                errors,
                threshold(Category::Constraint),
                format!(
                    "an orphan {} row, rejected and rolled back",
                    plan.label(&r.child)
                ),
            )
        }
    };

    // aggregation: the profile's metric queries, else a count.
    progress.set_message("aggregation");
    let aggregation = if plan.metrics.is_empty() {
        let sql = statements::count_where(engine, &t.root, &[]);
        let (samples, errors) = measure(
            options.warmup,
            n,
            async |_| read_once(db, &sql).await,
            progress,
        )
        .await;
        stats(
            samples,
            errors,
            threshold(Category::Aggregation),
            format!("count(*) of {root_label}"),
        )
    } else {
        let (samples, errors) = measure(
            options.warmup,
            n,
            async |i| {
                let metric = &plan.metrics[i as usize % plan.metrics.len()];
                let mut reader: Reader = db.reader(None).await?;
                reader.json_rows(&metric.sql).await?;
                reader.finish().await
            },
            progress,
        )
        .await;
        let names: Vec<&str> = plan.metrics.iter().map(|m| m.name.as_str()).collect();
        stats(
            samples,
            errors,
            threshold(Category::Aggregation),
            format!("metrics: {}", names.join(", ")),
        )
    };

    // batch: 1,000 rows, rolled back.
    progress.set_message("batch");
    let batch = match (writable, options.allow_writes) {
        (_, false) => {
            progress.inc(u64::from(n));
            Measured::Skipped {
                skipped: "writes 1,000 rows (rolled back): pass --allow-writes".into(),
            }
        }
        (None, true) => Measured::Skipped {
            skipped: "needs a writable connection".into(),
        },
        (Some(w), true) => {
            // The largest table with a one-column key, so there are 1,000 rows to copy.
            let table = plan
                .schema
                .tables
                .iter()
                .filter(|t| t.primary_key.len() == 1)
                .max_by_key(|t| t.row_estimate.unwrap_or(0))
                .ok_or("no table with a one-column key")?;
            let key = &table.primary_key[0];
            let label = plan.label(&table.name);
            let key_type = table
                .column(key)
                .map(|c| c.data_type.to_ascii_lowercase())
                .unwrap_or_default();
            let kind = if key_type.contains("int") {
                statements::FreshKey::Number
            } else if key_type.contains("uuid") || key_type.starts_with("char(36)") {
                statements::FreshKey::Uuid
            } else {
                statements::FreshKey::Text
            };
            let columns: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
            let sql = statements::insert_batch(engine, &table.name, &columns, key, kind, 1000);
            let (samples, errors) = measure(
                options.warmup,
                n,
                async |_| {
                    let mut tx = w.writable().await?;
                    let result = tx.execute(&sql).await;
                    tx.rollback().await?;
                    result.map(|_| ())
                },
                progress,
            )
            .await;
            stats(
                samples,
                errors,
                threshold(Category::Batch),
                format!("1,000 {label} rows inserted and rolled back"),
            )
        }
    };

    // concurrent: sessions doing lookups and joins at once.
    progress.set_message("concurrent");
    let sessions = options.sessions.max(1);
    let hop = t.child.as_ref().map(|(child, pairs)| {
        [Hop {
            table: child.clone(),
            pairs: pairs.clone(),
        }]
    });
    let session = async |s: u32| {
        let mut samples = Vec::new();
        let (mut deadlocks, mut timeouts, mut errors) = (0, 0, 0);
        for i in 0..n {
            let k = s * 7919 + i;
            let sql = match (&hop, i % 2) {
                (Some(hop), 1) => {
                    render::lineage_scan(engine, hop, &t.root, &t.key, &key_at(k), &[])
                }
                _ => lookup(k),
            };
            let started = Instant::now();
            match read_once(db, &sql).await {
                Ok(()) => samples.push(started.elapsed().as_secs_f64() * 1000.0),
                Err(e) => {
                    let (deadlock, timeout) = classify(&e);
                    if deadlock {
                        deadlocks += 1;
                    } else if timeout {
                        timeouts += 1;
                    } else {
                        errors += 1;
                    }
                }
            }
            progress.inc(1);
        }
        (samples, deadlocks, timeouts, errors)
    };
    let results = futures::future::join_all((0..sessions).map(session)).await;
    let mut all = Vec::new();
    let (mut deadlocks, mut timeouts, mut errors) = (0, 0, 0);
    for (samples, d, t, e) in results {
        all.extend(samples);
        deadlocks += d;
        timeouts += t;
        errors += e;
    }
    let operations = all.len() + deadlocks + timeouts + errors;
    let concurrent = Concurrent {
        sessions,
        operations,
        deadlocks,
        timeouts,
        errors,
        stats: match stats(
            all,
            errors,
            threshold(Category::Join),
            format!("{sessions} sessions of lookups and joins"),
        ) {
            Measured::Stats(s) => Some(s),
            Measured::Skipped { .. } => None,
        },
    };
    progress.finish_and_clear();
    Ok(BenchReport {
        simple,
        join,
        constraint,
        aggregation,
        batch,
        concurrent,
    })
}
