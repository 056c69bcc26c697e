//! `tether bench`: latency by query category against the profile's thresholds.
//!
//! - simple: a point lookup by key;
//! - join: one root row's children, across a relationship;
//! - constraint: an insert that a foreign key rejects, rolled back (only with
//!   `allow_writes`);
//! - aggregation: the profile's metric queries (else a count);
//! - batch: a 1,000-row insert, rolled back (only with `allow_writes`);
//! - concurrent: several sessions doing simple and join at once, with
//!   deadlocks and timeouts counted.
//!
//! Each write runs in a transaction of its own that is always rolled back. A
//! write category first refuses tables that cannot roll back (it is skipped,
//! saying why); a failure that ends its transaction (deadlock, lock wait
//! timeout, lost connection, …) stops the whole benchmark.

use crate::checks::Category;
use crate::checks::plan::Plan;
use crate::db::{self, Db, Failure, Transaction};
use crate::model::TableName;
use crate::sql::render::{self, Hop};
use crate::sql::{Sql, probe as statements};
use serde::Serialize;
use std::borrow::Borrow;
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
    let at = |p: f64| crate::stats::percentile_of_sorted(&samples, p * 100.0).unwrap_or(0.0);
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
        .map(|r| (r.child.clone(), r.pairs()));
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

/// What a failed run of a category means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OnFailure {
    /// Counted, and the runs go on (reads).
    Count,
    /// Counted, unless it ended the transaction: then everything stops (writes).
    StopWhenTheTransactionEnds,
}

/// Times `runs` calls of `op` after `warmup` unmeasured ones. Returns the
/// samples and the number of failed runs, or the failure that stopped them.
async fn measure(
    warmup: u32,
    runs: u32,
    mut op: impl AsyncFnMut(u32) -> Result<(), sqlx::Error>,
    progress: &indicatif::ProgressBar,
    on_failure: OnFailure,
) -> Result<(Vec<f64>, usize), sqlx::Error> {
    let stops = |e: &sqlx::Error| {
        on_failure == OnFailure::StopWhenTheTransactionEnds && Failure::of(e).ends_the_transaction()
    };
    for i in 0..warmup {
        match op(i).await {
            Err(e) if stops(&e) => return Err(e),
            _ => {}
        }
    }
    let mut samples = Vec::with_capacity(runs as usize);
    let mut errors = 0;
    for i in 0..runs {
        let started = Instant::now();
        match op(warmup + i).await {
            Ok(()) => samples.push(started.elapsed().as_secs_f64() * 1000.0),
            Err(e) if stops(&e) => return Err(e),
            Err(_) => errors += 1,
        }
        progress.inc(1);
    }
    Ok((samples, errors))
}

/// The message of a write category stopped by a failure that ended its
/// transaction.
fn stopped(category: &str, error: &sqlx::Error) -> String {
    format!(
        "bench stopped in the {category} category: {}: {}; its writes were rolled back",
        Failure::of(error).name(),
        db::describe(error)
    )
}

/// Why a write category may not write to `tables` (one that cannot roll
/// back, or a trigger on one writing to such a table), checked before it
/// writes anything; None when it may.
async fn refusal(w: &Db, plan: &Plan, tables: &[TableName]) -> Option<String> {
    let mut tx = match w.writable().await {
        Ok(tx) => tx,
        Err(e) => return Some(format!("no writable transaction: {}", db::describe(&e))),
    };
    let refused = crate::writes::refuse_non_transactional(&mut tx, &plan.schema, tables).await;
    let _ = tx.rollback().await;
    refused.err()
}

/// Runs `statement` in a transaction of its own, and always rolls it back.
/// The statement's own failure is returned first; after it, only the rollback runs.
async fn write_rolled_back(
    w: &Db,
    statement: &Sql,
    accepted: impl Fn(&sqlx::Error) -> bool,
) -> Result<(), sqlx::Error> {
    let mut tx = w.writable().await?;
    let result = tx.execute(statement).await;
    let rolled_back = tx.rollback().await;
    match result {
        Err(e) if !accepted(&e) => Err(e),
        _ => rolled_back,
    }
}

async fn read_once(db: &Db, sql: &Sql) -> Result<(), sqlx::Error> {
    let mut reader = db.reader(None).await?;
    reader.counts(sql).await?;
    reader.finish().await
}

/// A concurrent session's failure: (deadlock, timeout).
fn classify(error: &sqlx::Error) -> (bool, bool) {
    let failure = Failure::of(error);
    (
        failure == Failure::Deadlock,
        matches!(
            failure,
            Failure::LockWait | Failure::Timeout | Failure::Cancelled
        ),
    )
}

/// The writable connection a write category may use, or why it is skipped;
/// `what` says what the category writes.
fn writer<'a>(
    writable: Option<&'a Db>,
    options: &BenchOptions,
    what: &str,
) -> Result<&'a Db, String> {
    match (writable, options.allow_writes) {
        (_, false) => Err(format!("{what} (rolled back): pass --allow-writes")),
        (None, true) => Err("needs a writable connection".into()),
        (Some(w), true) => Ok(w),
    }
}

/// The batch category: 1,000 rows of `table` copied with fresh keys, each
/// run in a transaction of its own that is rolled back.
async fn batch(
    w: &Db,
    plan: &Plan,
    table: &crate::model::Table,
    options: &BenchOptions,
    progress: &indicatif::ProgressBar,
) -> Result<Measured, String> {
    let key = &table.primary_key[0];
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
    let sql = statements::insert_batch(plan.engine, &table.name, &columns, key, kind, 1000);
    let (samples, errors) = measure(
        options.warmup,
        options.iterations.max(1),
        async |_| write_rolled_back(w, &sql, |_| false).await,
        progress,
        OnFailure::StopWhenTheTransactionEnds,
    )
    .await
    .map_err(|e| stopped("batch", &e))?;
    Ok(stats(
        samples,
        errors,
        plan.thresholds.for_category(Category::Batch),
        format!(
            "1,000 {} rows inserted and rolled back",
            plan.label(&table.name)
        ),
    ))
}

/// What every category of one benchmark shares: the connections, the plan,
/// the options, the progress bar and the tables it works on.
struct Bench<'a> {
    db: &'a Db,
    writable: Option<&'a Db>,
    plan: &'a Plan,
    options: &'a BenchOptions,
    progress: &'a indicatif::ProgressBar,
    targets: Targets,
    /// Measured runs of each category (of each session, concurrently).
    runs: u32,
}

/// What one concurrent session counted.
#[derive(Default)]
struct SessionTally {
    samples: Vec<f64>,
    deadlocks: usize,
    timeouts: usize,
    errors: usize,
}

impl<'a> Bench<'a> {
    /// Finds the tables to work on and sets the progress bar's length.
    async fn prepare(
        db: &'a Db,
        writable: Option<&'a Db>,
        plan: &'a Plan,
        options: &'a BenchOptions,
        progress: &'a indicatif::ProgressBar,
    ) -> Result<Bench<'a>, String> {
        let targets = targets(db, plan).await?;
        let runs = options.iterations.max(1);
        progress.set_length(u64::from(runs) * 5 + u64::from(runs) * u64::from(options.sessions));
        Ok(Bench {
            db,
            writable,
            plan,
            options,
            progress,
            targets,
            runs,
        })
    }

    /// The profile's latency threshold for `category`.
    fn threshold(&self, category: Category) -> u64 {
        self.plan.thresholds.for_category(category)
    }

    /// The root key run `i` looks up (the sampled keys in turn).
    fn key_at(&self, i: u32) -> String {
        let keys = &self.targets.keys;
        keys[i as usize % keys.len()].clone()
    }

    /// The root table as the report names it.
    fn root_label(&self) -> String {
        self.plan.label(&self.targets.root)
    }

    /// Run `i`'s point lookup of a root row by key.
    fn lookup(&self, i: u32) -> Sql {
        let t = &self.targets;
        statements::count_where(
            self.plan.engine,
            &t.root,
            &[(t.key.clone(), self.key_at(i))],
        )
    }

    /// The hop from the root to its largest child, when it has one.
    fn child_hop(&self) -> Option<[Hop; 1]> {
        self.targets.child.as_ref().map(|(child, pairs)| {
            [Hop {
                table: child.clone(),
                pairs: pairs.clone(),
            }]
        })
    }

    /// Run `i`'s scan of the child rows of one root row, across `hop`.
    fn child_scan(&self, hop: &[Hop], i: u32) -> Sql {
        let t = &self.targets;
        render::lineage_scan(self.plan.engine, hop, &t.root, &t.key, &self.key_at(i), &[])
    }

    /// A category skipped for `skipped`: its runs count as done.
    fn skip(&self, skipped: String) -> Measured {
        self.progress.inc(u64::from(self.runs));
        Measured::Skipped { skipped }
    }

    /// Times the runs of a read category, `sql(i)` being run `i`'s statement.
    async fn measure_reads<S: Borrow<Sql>>(
        &self,
        category: &str,
        sql: impl Fn(u32) -> S,
    ) -> Result<(Vec<f64>, usize), String> {
        measure(
            self.options.warmup,
            self.runs,
            async |i| read_once(self.db, sql(i).borrow()).await,
            self.progress,
            OnFailure::Count,
        )
        .await
        .map_err(|e| stopped(category, &e))
    }

    /// The simple category: a root row looked up by key.
    async fn simple(&self) -> Result<Measured, String> {
        let (samples, errors) = self.measure_reads("simple", |i| self.lookup(i)).await?;
        Ok(stats(
            samples,
            errors,
            self.threshold(Category::Simple),
            format!("a {} row by {}", self.root_label(), self.targets.key),
        ))
    }

    /// The join category: the rows of the root's largest child under one root row.
    async fn join(&self) -> Result<Measured, String> {
        let (Some(hop), Some((child, _))) = (self.child_hop(), &self.targets.child) else {
            return Ok(Measured::Skipped {
                skipped: format!("{} has no child table", self.root_label()),
            });
        };
        let (samples, errors) = self
            .measure_reads("join", |i| self.child_scan(&hop, i))
            .await?;
        Ok(stats(
            samples,
            errors,
            self.threshold(Category::Join),
            format!(
                "the {} rows of one {} row",
                self.plan.label(child),
                self.root_label()
            ),
        ))
    }

    /// The constraint category: an orphan insert the database rejects, rolled back.
    async fn constraint(&self) -> Result<Measured, String> {
        let w = match writer(self.writable, self.options, "writes an orphan row") {
            Err(skipped) => return Ok(self.skip(skipped)),
            Ok(w) => w,
        };
        let Some(r) = self
            .plan
            .relationships
            .iter()
            .find(|r| r.constraint.is_some())
        else {
            return Ok(self.skip("no foreign-key constraint".into()));
        };
        if let Some(reason) = refusal(w, self.plan, std::slice::from_ref(&r.child)).await {
            return Ok(self.skip(reason));
        }
        let insert = |i: u32| crate::probe::orphan_insert(self.plan, r, u64::from(i));
        insert(0)?;
        // Rejected as intended, or accepted: either way rolled back.
        let rejected = |e: &sqlx::Error| Failure::of(e) == Failure::ForeignKey;
        let (samples, errors) = measure(
            self.options.warmup,
            self.runs,
            async |i| match insert(i) {
                Ok(Some(sql)) => write_rolled_back(w, &sql, rejected).await,
                _ => Ok(()),
            },
            self.progress,
            OnFailure::StopWhenTheTransactionEnds,
        )
        .await
        .map_err(|e| stopped("constraint", &e))?;
        Ok(stats(
            samples,
            errors,
            self.threshold(Category::Constraint),
            format!(
                "an orphan {} row, rejected and rolled back",
                self.plan.label(&r.child)
            ),
        ))
    }

    /// The aggregation category: the profile's metric queries, else a count.
    async fn aggregation(&self) -> Result<Measured, String> {
        let metrics = &self.plan.metrics;
        if metrics.is_empty() {
            let sql = statements::count_where(self.plan.engine, &self.targets.root, &[]);
            let (samples, errors) = self.measure_reads("aggregation", |_| &sql).await?;
            return Ok(stats(
                samples,
                errors,
                self.threshold(Category::Aggregation),
                format!("count(*) of {}", self.root_label()),
            ));
        }
        let (samples, errors) = measure(
            self.options.warmup,
            self.runs,
            async |i| {
                let metric = &metrics[i as usize % metrics.len()];
                let mut reader: Transaction = self.db.reader(None).await?;
                reader.json_rows(&metric.sql).await?;
                reader.finish().await
            },
            self.progress,
            OnFailure::Count,
        )
        .await
        .map_err(|e| stopped("aggregation", &e))?;
        let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
        Ok(stats(
            samples,
            errors,
            self.threshold(Category::Aggregation),
            format!("metrics: {}", names.join(", ")),
        ))
    }

    /// The batch category: 1,000 rows of the largest table with a one-column
    /// key, rolled back.
    async fn batch(&self) -> Result<Measured, String> {
        let w = match writer(self.writable, self.options, "writes 1,000 rows") {
            Err(skipped) => return Ok(self.skip(skipped)),
            Ok(w) => w,
        };
        // The largest table with a one-column key, so there are 1,000 rows to copy.
        let table = self
            .plan
            .schema
            .tables
            .iter()
            .filter(|t| t.primary_key.len() == 1)
            .max_by_key(|t| t.row_estimate.unwrap_or(0))
            .ok_or("no table with a one-column key")?;
        match refusal(w, self.plan, std::slice::from_ref(&table.name)).await {
            Some(reason) => Ok(self.skip(reason)),
            None => batch(w, self.plan, table, self.options, self.progress).await,
        }
    }

    /// One concurrent session: lookups and (when the root has a child) joins
    /// in turn, each failure counted by kind.
    async fn session(&self, s: u32, hop: Option<&[Hop; 1]>) -> SessionTally {
        let mut tally = SessionTally::default();
        for i in 0..self.runs {
            let k = s * 7919 + i;
            let sql = match (hop, i % 2) {
                (Some(hop), 1) => self.child_scan(hop, k),
                _ => self.lookup(k),
            };
            let started = Instant::now();
            match read_once(self.db, &sql).await {
                Ok(()) => tally.samples.push(started.elapsed().as_secs_f64() * 1000.0),
                Err(e) => tally.count_failure(&e),
            }
            self.progress.inc(1);
        }
        tally
    }

    /// The concurrent category: sessions doing lookups and joins at once.
    async fn concurrent(&self) -> Concurrent {
        let sessions = self.options.sessions.max(1);
        let hop = self.child_hop();
        let results =
            futures::future::join_all((0..sessions).map(|s| self.session(s, hop.as_ref()))).await;
        let mut all = SessionTally::default();
        for tally in results {
            all.samples.extend(tally.samples);
            all.deadlocks += tally.deadlocks;
            all.timeouts += tally.timeouts;
            all.errors += tally.errors;
        }
        let operations = all.samples.len() + all.deadlocks + all.timeouts + all.errors;
        Concurrent {
            sessions,
            operations,
            deadlocks: all.deadlocks,
            timeouts: all.timeouts,
            errors: all.errors,
            stats: match stats(
                all.samples,
                all.errors,
                self.threshold(Category::Join),
                format!("{sessions} sessions of lookups and joins"),
            ) {
                Measured::Stats(s) => Some(s),
                Measured::Skipped { .. } => None,
            },
        }
    }
}

impl SessionTally {
    /// Counts a failed run as a deadlock, a timeout or another error.
    fn count_failure(&mut self, error: &sqlx::Error) {
        let (deadlock, timeout) = classify(error);
        if deadlock {
            self.deadlocks += 1;
        } else if timeout {
            self.timeouts += 1;
        } else {
            self.errors += 1;
        }
    }
}

/// Runs the benchmark. `writable` is a read-write connection for the
/// constraint and batch categories (None, or no `allow_writes`: they are
/// skipped). Err: the benchmark could not run, or a write category was
/// stopped by a failure that ended its transaction.
pub async fn run(
    db: &Db,
    writable: Option<&Db>,
    plan: &Plan,
    options: &BenchOptions,
    progress: &indicatif::ProgressBar,
) -> Result<BenchReport, String> {
    let bench = Bench::prepare(db, writable, plan, options, progress).await?;
    progress.set_message("simple");
    let simple = bench.simple().await?;
    progress.set_message("join");
    let join = bench.join().await?;
    progress.set_message("constraint");
    let constraint = bench.constraint().await?;
    progress.set_message("aggregation");
    let aggregation = bench.aggregation().await?;
    progress.set_message("batch");
    let batch = bench.batch().await?;
    progress.set_message("concurrent");
    let concurrent = bench.concurrent().await;
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
