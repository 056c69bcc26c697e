//! Runs a plan: statements on a pool of read-only sessions, at most `jobs` at a
//! time, each bounded by a timeout. Every result is sent as an [`Event`] the
//! moment it is known, so a UI can show progress; a failed check becomes a
//! `check_failed` finding and the others go on.

use crate::checks::plan::{Check, Plan, Shape, Statement, StatementText, Work};
use crate::checks::{CheckId, Severity};
use crate::db::{self, Backends, Db, PassValue, SampleRow, Transaction};
use crate::findings::{Estimate, Finding, Summary, finding_key};
use crate::sql::Sql;
use crate::sql::render::{BLOCK_KEYS, SAMPLE_BLOCKS, Sampling};
use crate::wording;
use futures::StreamExt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Statements in flight at once.
    pub jobs: usize,
    /// Per-statement limit (the server's statement timeout; also enforced here).
    pub timeout: Duration,
    /// Cancelling it stops the run: queries in flight are cancelled on the server
    /// too, and the run ends with `Finished { cancelled: true, .. }`.
    pub cancel: CancellationToken,
    /// Where transactions list their PostgreSQL backends, for that cancellation.
    pub backends: Backends,
    /// Whether passes over large tables are estimated from a sample.
    pub estimates: Estimates,
}

/// Estimates from a sample of a large table ([`Statement::sampling`]):
/// counts scaled up from a sample, marked as such, never shown as exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Estimates {
    /// Exact counts only.
    #[default]
    Off,
    /// First, for each pass that can be sampled and reads more than `above`
    /// rows (its weight), an estimate ([`Event::Estimated`]); then every
    /// statement exactly, as with `Off`. The UI and `watch` show the
    /// estimate until the exact count replaces it.
    First { above: i64 },
    /// Each pass that can be sampled is estimated instead of counted
    /// (`check --estimate`); the rest are exact.
    Only,
}

impl Estimates {
    /// `First` for statements that would not finish within `interval`,
    /// judged by the rows they read and how many rows a second the engine
    /// reads in a pass that joins parents (measured on the 1M demo,
    /// README "Benchmarks", rounded down).
    pub fn first_within(engine: crate::model::Engine, interval: Duration) -> Estimates {
        let rows_per_second = match engine {
            crate::model::Engine::Postgres => 1_000_000.0,
            crate::model::Engine::Sqlite => 300_000.0,
            crate::model::Engine::Mysql => 100_000.0,
        };
        Estimates::First {
            above: (interval.as_secs_f64() * rows_per_second) as i64,
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            jobs: 4,
            timeout: Duration::from_secs(30),
            cancel: CancellationToken::new(),
            backends: Backends::default(),
            estimates: Estimates::Off,
        }
    }
}

/// What the runner reports, in the order it happens.
#[derive(Clone, Debug)]
pub enum Event {
    /// A statement started; its checks are running.
    Started { statement: usize },
    /// A statement read in parts ended part `done` of `parts` (parts end in
    /// any order; this counts them).
    Progress {
        statement: usize,
        done: u32,
        parts: u32,
    },
    /// With [`Estimates::First`]: a pass over a sample of its table ended;
    /// per check, its estimated outcome (none when the sample failed). The
    /// exact outcome follows as [`Event::Checked`].
    Estimated {
        statement: usize,
        elapsed: Duration,
        checks: Vec<(usize, Outcome)>,
    },
    /// A check is decided.
    Checked { check: usize, outcome: Outcome },
    /// A statement ended; `findings` holds its `slow_check`, if any.
    StatementDone {
        statement: usize,
        elapsed: Duration,
        failed: bool,
        findings: Vec<Finding>,
    },
    /// A shared pass failed and one of its checks ran alone in this
    /// statement instead (reported on its own, with its latency).
    Retried {
        statement: usize,
        key: String,
        sql: crate::sql::Sql,
        elapsed: Duration,
    },
    /// A metric query returned (or failed).
    Metric {
        metric: usize,
        /// Its latency and rows (or why it failed).
        outcome: MetricOutcome,
    },
    /// Everything is done (or the run was cancelled).
    Finished {
        elapsed: Duration,
        shared_snapshot: bool,
        cancelled: bool,
    },
}

/// Why a check could not run: the kind, for callers that branch on it, and
/// the words, for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckError {
    pub kind: CheckFailure,
    pub message: String,
}

/// What kind of failure stopped a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckFailure {
    /// The statement timeout, or the client's backstop after it.
    Timeout,
    /// The role lacks a privilege on what the check reads.
    Permission,
    /// Row-level security would hide rows from the count.
    RowSecurity,
    /// The connection is gone, or none could be had.
    Connection,
    /// Not run: the catalog showed it could not be counted exactly.
    Withheld,
    /// The server refused the statement for another reason.
    Sql,
}

impl CheckError {
    pub fn new(kind: CheckFailure, message: impl Into<String>) -> CheckError {
        CheckError {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// How one check ended.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Rows found (None for catalog checks and failures).
    pub count: Option<u64>,
    /// Rows in the checked table, when the statement counted them.
    pub total: Option<u64>,
    /// Set when `count` and `total` are estimated from a sample (boxed: a
    /// plan of tens of thousands of checks keeps an outcome per check).
    pub estimate: Option<Box<Estimate>>,
    pub elapsed: Duration,
    pub findings: Vec<Finding>,
    pub error: Option<Box<CheckError>>,
}

/// Runs every check of `plan`, sending events to `events`. Returns when all
/// statements are done (or the receiver is gone).
pub async fn run(
    db: &Db,
    plan: Arc<Plan>,
    options: &RunOptions,
    events: mpsc::UnboundedSender<Event>,
) {
    let started = Instant::now();
    send_decided(&plan, &events);

    let coordinator = db.shared_snapshot().await;
    let snapshot = coordinator.as_ref().map(|(_, id)| id.clone());
    let jobs = options.jobs.max(1);

    enum Job {
        Statement(usize),
        Metric(usize),
    }
    let work = exact_order(&plan, options.estimates)
        .into_iter()
        .map(Job::Statement)
        .chain((0..plan.metrics.len()).map(Job::Metric));
    let worker = Worker {
        db,
        plan: &plan,
        snapshot: snapshot.as_deref(),
        options,
        events: &events,
    };
    let estimates = futures::stream::iter(estimated_first(&plan, options.estimates))
        .for_each_concurrent(jobs, |s| estimate_first(worker, s));
    let exact = futures::stream::iter(work).for_each_concurrent(jobs, |job| async move {
        match job {
            Job::Statement(s) => run_statement(worker, s).await,
            Job::Metric(m) => run_metric(worker, m).await,
        }
    });
    let all = async {
        estimates.await;
        exact.await;
    };
    // The backends in flight are read before the work is dropped.
    let cancelled = async {
        options.cancel.cancelled().await;
        options.backends.current()
    };
    let was_cancelled = tokio::select! {
        _ = all => false,
        pids = cancelled => {
            db.cancel_backends(&pids).await;
            true
        }
    };

    if let Some((coordinator, _)) = coordinator {
        let _ = coordinator.finish().await;
    }
    let _ = events.send(Event::Finished {
        elapsed: started.elapsed(),
        shared_snapshot: snapshot.is_some(),
        cancelled: was_cancelled,
    });
}

/// What every statement of a run needs: the database, the plan, the shared
/// snapshot, the options and where events go.
#[derive(Clone, Copy)]
struct Worker<'a> {
    db: &'a Db,
    plan: &'a Plan,
    snapshot: Option<&'a str>,
    options: &'a RunOptions,
    events: &'a mpsc::UnboundedSender<Event>,
}

/// What a [`Worker`] carries, for a statement's steps to use by name.
type WorkerParts<'a> = (
    &'a Db,
    &'a Plan,
    Option<&'a str>,
    &'a RunOptions,
    &'a mpsc::UnboundedSender<Event>,
);

impl<'a> Worker<'a> {
    fn parts(self) -> WorkerParts<'a> {
        (self.db, self.plan, self.snapshot, self.options, self.events)
    }
}

/// Sends the outcomes the plan decided without a statement: catalog checks
/// and withheld ones.
fn send_decided(plan: &Plan, events: &mpsc::UnboundedSender<Event>) {
    for (i, check) in plan.checks.iter().enumerate() {
        let outcome = match &check.work {
            Work::Catalog(findings) => Outcome {
                findings: findings.clone(),
                ..Outcome::default()
            },
            Work::Withheld(reason) => {
                let error = CheckError::new(CheckFailure::Withheld, reason.clone());
                failed(check, "", Duration::ZERO, error)
            }
            Work::Rows(_) | Work::Assertion(_) => continue,
        };
        let _ = events.send(Event::Checked { check: i, outcome });
    }
}

/// The order statements start in: largest first (the plan's order); with
/// estimates first, the statements that end within the interval come
/// before the rest, so the first screen fills with their exact counts
/// beside the estimates.
fn exact_order(plan: &Plan, estimates: Estimates) -> Vec<usize> {
    let mut order: Vec<usize> = (0..plan.statements.len()).collect();
    if let Estimates::First { above } = estimates {
        order.sort_by_key(|&s| plan.statements[s].weight > above);
    }
    order
}

/// With [`Estimates::First`], the statements estimated before they run.
fn estimated_first(plan: &Plan, estimates: Estimates) -> Vec<usize> {
    match estimates {
        Estimates::First { above } => (0..plan.statements.len())
            .filter(|&s| {
                let statement = &plan.statements[s];
                statement.sampling.is_some() && statement.weight > above
            })
            .collect(),
        Estimates::Off | Estimates::Only => Vec::new(),
    }
}

/// Runs profile metric `m` and sends its rows (or why it failed).
async fn run_metric(worker: Worker<'_>, m: usize) {
    let (db, plan, snapshot, options, events) = worker.parts();
    let started = Instant::now();
    let sql = &plan.metrics[m].sql;
    let result = with_reader(db, snapshot, options, async |r: &mut Transaction| {
        r.json_rows(sql).await
    })
    .await
    .map_err(|e| e.message);
    let _ = events.send(Event::Metric {
        metric: m,
        outcome: (started.elapsed(), result),
    });
}

/// Opens a read-only transaction, runs `f` within the timeout, and ends the transaction.
async fn with_reader<T>(
    db: &Db,
    snapshot: Option<&str>,
    options: &RunOptions,
    f: impl AsyncFnOnce(&mut Transaction) -> Result<T, sqlx::Error>,
) -> Result<T, CheckError> {
    let timeout = options.timeout;
    // The server enforces the statement timeout; this is the backstop for engines
    // (and network failures) that do not.
    let limit = timeout + Duration::from_secs(2);
    let work = async {
        let mut reader = db
            .listed_reader(snapshot, &options.backends)
            .await
            .map_err(|e| describe(&e, timeout))?;
        let result = f(&mut reader).await.map_err(|e| describe(&e, timeout));
        let _ = reader.finish().await;
        result
    };
    match tokio::time::timeout(limit, work).await {
        Ok(result) => result,
        Err(_) => Err(CheckError::new(
            CheckFailure::Timeout,
            format!("timed out after {} s", timeout.as_secs_f64()),
        )),
    }
}

/// Why a statement failed, with what to do where tether knows.
fn describe(error: &sqlx::Error, timeout: Duration) -> CheckError {
    match db::Failure::of(error) {
        db::Failure::Timeout | db::Failure::Cancelled => CheckError::new(
            CheckFailure::Timeout,
            format!("timed out after {} s", timeout.as_secs_f64()),
        ),
        db::Failure::RowSecurity => CheckError::new(
            CheckFailure::RowSecurity,
            format!(
                "{}: row-level security hides rows from this role, so no count is given; run as a role with BYPASSRLS, or as the table's owner",
                db::describe(error)
            ),
        ),
        db::Failure::Permission => CheckError::new(
            CheckFailure::Permission,
            format!(
                "{}: the role needs SELECT on it (or pg_read_all_data on PostgreSQL)",
                db::describe(error)
            ),
        ),
        db::Failure::Connection => CheckError::new(CheckFailure::Connection, db::describe(error)),
        _ => CheckError::new(CheckFailure::Sql, db::describe(error)),
    }
}

async fn run_statement(worker: Worker<'_>, s: usize) {
    let (db, plan, snapshot, options, events) = worker.parts();
    let statement = &plan.statements[s];
    let sample_sql = match options.estimates {
        Estimates::Only => plan.estimate_sql(s),
        Estimates::Off | Estimates::First { .. } => None,
    };
    let sampled = sample_sql.is_some();
    let sql = sample_sql.unwrap_or_else(|| plan.sql(s));
    let _ = events.send(Event::Started { statement: s });
    let started = Instant::now();
    let parts = statement.parts();
    let mut progress = |done: u32| {
        let _ = events.send(Event::Progress {
            statement: s,
            done,
            parts,
        });
    };
    let result = with_reader(db, snapshot, options, async |reader: &mut Transaction| {
        if sampled {
            read_sample(reader, plan, statement, &sql).await
        } else {
            read(reader, plan, statement, &sql, &mut progress).await
        }
    })
    .await;
    let elapsed = started.elapsed();

    match result {
        Ok(read) => {
            for (c, outcome) in read.decide(plan, &sql, elapsed) {
                let _ = events.send(Event::Checked { check: c, outcome });
            }
            let slow = slow_check(statement, &sql, elapsed);
            let _ = events.send(Event::StatementDone {
                statement: s,
                elapsed,
                failed: false,
                findings: slow.into_iter().collect(),
            });
        }
        Err(error) if statement.checks.len() > 1 && error.kind != CheckFailure::Timeout => {
            // A shared scan failed: run its checks one by one, so only the broken
            // one fails. Each of those statements is reported with its latency.
            for &c in &statement.checks {
                retry_alone(worker, s, c).await;
            }
            send_failed(s, elapsed, events);
        }
        Err(error) => {
            for &c in &statement.checks {
                let outcome = failed(&plan.checks[c], sql.as_str(), elapsed, error.clone());
                let _ = events.send(Event::Checked { check: c, outcome });
            }
            send_failed(s, elapsed, events);
        }
    }
}

/// Statement `s` ended in failure (its checks' outcomes are sent).
fn send_failed(s: usize, elapsed: Duration, events: &mpsc::UnboundedSender<Event>) {
    let _ = events.send(Event::StatementDone {
        statement: s,
        elapsed,
        failed: true,
        findings: Vec::new(),
    });
}

/// Check `c` of the failed shared pass `s`, run alone in its standalone
/// form and reported with its own latency.
async fn retry_alone(worker: Worker<'_>, s: usize, c: usize) {
    let (db, plan, snapshot, options, events) = worker.parts();
    let statement = &plan.statements[s];
    let check = &plan.checks[c];
    let alone = match &check.work {
        Work::Rows(r) => r.alone_sql(plan.sample),
        _ => return,
    };
    let single = Statement {
        key: check.key.clone(),
        text: StatementText::Rendered(alone.clone()),
        shape: Shape::Count,
        checks: vec![c],
        subject: check.subject.clone(),
        ..statement.clone()
    };
    let started = Instant::now();
    let result = with_reader(db, snapshot, options, async |reader: &mut Transaction| {
        read(reader, plan, &single, &alone, &mut |_| {}).await
    })
    .await;
    let elapsed = started.elapsed();
    let outcome = match result {
        Ok(read) => {
            let total = read.total;
            let (_, count, sample) =
                read.outcomes
                    .into_iter()
                    .next()
                    .unwrap_or((c, 0, Sample::default()));
            decide(
                plan,
                c,
                &alone,
                Found {
                    count,
                    total,
                    sample,
                    estimate: None,
                },
                elapsed,
            )
        }
        Err(e) => failed(check, alone.as_str(), elapsed, e),
    };
    let _ = events.send(Event::Checked { check: c, outcome });
    let _ = events.send(Event::Retried {
        statement: s,
        key: single.key,
        sql: alone,
        elapsed,
    });
}

/// What one statement read: the table's rows (a pass counts them), and per
/// check its count and sample rows; scaled up from a sample when `estimate`
/// says how.
struct Read {
    total: Option<u64>,
    outcomes: Vec<(usize, u64, Sample)>,
    estimate: Option<Estimate>,
}

/// A check's sample rows, and what the pass learnt of every offending row
/// (when it keeps them all: see [`crate::sql::render::FACTS_CAP`]).
#[derive(Default)]
struct Sample {
    rows: Vec<SampleRow>,
    facts: Option<Box<crate::timeline::Facts>>,
}

impl Read {
    /// Each check's outcome from what the statement `sql` read.
    fn decide(self, plan: &Plan, sql: &Sql, elapsed: Duration) -> Vec<(usize, Outcome)> {
        let Read {
            total,
            outcomes,
            estimate,
        } = self;
        outcomes
            .into_iter()
            .map(|(c, count, sample)| {
                let found = Found {
                    count,
                    total,
                    sample,
                    estimate: estimate.as_ref(),
                };
                (c, decide(plan, c, sql, found, elapsed))
            })
            .collect()
    }
}

/// With [`Estimates::First`]: statement `s` over a sample of its table, its
/// outcomes sent as [`Event::Estimated`].
async fn estimate_first(worker: Worker<'_>, s: usize) {
    let (db, plan, snapshot, options, events) = worker.parts();
    let Some(sql) = plan.estimate_sql(s) else {
        return;
    };
    let statement = &plan.statements[s];
    let started = Instant::now();
    let result = with_reader(db, snapshot, options, async |reader: &mut Transaction| {
        read_sample(reader, plan, statement, &sql).await
    })
    .await;
    let elapsed = started.elapsed();
    // A sample that fails says nothing: the exact statement follows.
    let checks = match result {
        Ok(read) => read.decide(plan, &sql, elapsed),
        Err(_) => Vec::new(),
    };
    let _ = events.send(Event::Estimated {
        statement: s,
        elapsed,
        checks,
    });
}

/// A shared pass over a sample of its table ([`Plan::estimate_sql`]), its
/// counts scaled to the whole table. A sample that covered the whole table
/// (a key that spans no more than the sample's blocks) is exact.
async fn read_sample(
    reader: &mut Transaction,
    plan: &Plan,
    statement: &Statement,
    sql: &Sql,
) -> Result<Read, sqlx::Error> {
    let rows = reader.pass(sql).await?;
    let mut read = scan_read(plan, statement, &rows)?;
    let sampled_rows = read.total.unwrap_or(0);
    let (fraction, taken) = match &statement.sampling {
        Some(Sampling::Pages { percent }) => (
            percent / 100.0,
            wording::SampleTaken::Pages { percent: *percent },
        ),
        Some(Sampling::KeyBlocks { key }) => {
            let step = match rows.first().and_then(|r| r.last()) {
                Some(PassValue::Count(step)) if *step > 0 => *step,
                // An empty table: no key, nothing to scale.
                _ => BLOCK_KEYS,
            };
            (
                BLOCK_KEYS as f64 / step as f64,
                wording::SampleTaken::KeyBlocks {
                    blocks: SAMPLE_BLOCKS as u64,
                    keys: BLOCK_KEYS as u64,
                    key,
                    step: step as u64,
                },
            )
        }
        None => return Ok(read),
    };
    if fraction >= 1.0 {
        return Ok(read);
    }
    read.total = Some(Estimate::scaled(sampled_rows, fraction));
    // Each check's own estimate: its sample's count, scaled.
    let basis = wording::sample_basis(sampled_rows, taken);
    read.estimate = Some(Estimate {
        sampled_rows,
        sampled_count: 0,
        fraction,
        basis,
    });
    Ok(read)
}

/// Runs one statement and reads its counts and samples, as its shape says.
async fn read(
    reader: &mut Transaction,
    plan: &Plan,
    statement: &Statement,
    sql: &Sql,
    progress: &mut (dyn FnMut(u32) + Send),
) -> Result<Read, sqlx::Error> {
    let limit = plan.sample as usize;
    let sample =
        |c: usize, n: u64, texts: &mut dyn Iterator<Item = &str>| sample_of(plan, c, n, texts);
    match statement.shape {
        Shape::Scan => {
            // One row per part of the table the pass read, as each part
            // ends; in part order, the samples follow the table's.
            let parts = statement.parts();
            let mut done = 0;
            let mut rows = reader
                .pass_streamed(sql, &mut |_| {
                    done += 1;
                    if parts > 1 {
                        progress(done);
                    }
                })
                .await?;
            if parts > 1 {
                rows.sort_by_key(|r| match r.last() {
                    Some(PassValue::Count(part)) => *part,
                    _ => 0,
                });
            }
            scan_read(plan, statement, &rows)
        }
        Shape::Count => {
            let rows = reader.pass(sql).await?;
            let c = statement.checks[0];
            let n = count(rows.first().and_then(|r| r.first()))?;
            let total = match rows.first().and_then(|r| r.get(2)) {
                Some(PassValue::Count(t)) => Some((*t).max(0) as u64),
                _ => None,
            };
            let mut texts = rows.iter().filter_map(|r| text(r.get(1)));
            let found = sample(c, n, &mut texts);
            Ok(Read {
                total,
                outcomes: vec![(c, n, found)],
                estimate: None,
            })
        }
        Shape::Assertion => {
            let (n, mut rows) = reader.counted_json_rows(sql).await?;
            let c = statement.checks[0];
            let n = n.max(0) as u64;
            let facts = match &plan.checks[c].work {
                Work::Assertion(a) => assertion_facts(a, n, &rows),
                _ => None,
            };
            rows.truncate(limit);
            Ok(Read {
                total: None,
                outcomes: vec![(c, n, Sample { rows, facts })],
                estimate: None,
            })
        }
    }
}

/// A count the statement does not return as a whole number is an error,
/// never a silent 0.
fn count(v: Option<&PassValue>) -> Result<u64, sqlx::Error> {
    match v {
        Some(PassValue::Count(n)) => Ok((*n).max(0) as u64),
        other => Err(sqlx::Error::Decode(
            format!("expected a count, the statement returned {other:?}").into(),
        )),
    }
}

fn text(v: Option<&PassValue>) -> Option<&str> {
    match v {
        Some(PassValue::Text(Some(t))) => Some(t.as_str()),
        _ => None,
    }
}

/// Check `c`'s sample rows from a pass's texts, and what they say of all
/// `n` offending rows when the pass kept every one.
fn sample_of(plan: &Plan, c: usize, n: u64, texts: &mut dyn Iterator<Item = &str>) -> Sample {
    let limit = plan.sample as usize;
    let Work::Rows(r) = &plan.checks[c].work else {
        return Sample::default();
    };
    if !r.sampled().aggregated(plan.sample) {
        return Sample::default();
    }
    let texts: Vec<&str> = texts.collect();
    let labels = r.sample_labels();
    Sample {
        rows: samples(&mut texts.iter().copied(), &labels, limit),
        facts: facts_of(r, labels.len(), n, &texts),
    }
}

/// What the pass learnt of each offending row: its values after the sample's
/// `labelled` columns (time, then breakdown values). None unless the table
/// has a time or breakdown column; when the pass kept fewer than all `n` rows
/// (capped, or cut by MySQL's `group_concat_max_len`), only why not.
fn facts_of(
    r: &crate::checks::plan::RowsCheck,
    labelled: usize,
    n: u64,
    texts: &[&str],
) -> Option<Box<crate::timeline::Facts>> {
    if n == 0 || (r.time.is_none() && r.groups.is_empty()) {
        return None;
    }
    let value = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_string);
    let rows: Vec<crate::timeline::RowFacts> = db::json_values(&mut texts.iter().copied())
        .filter_map(|v| match v {
            serde_json::Value::Array(values) => {
                let mut extra = values.iter().skip(labelled);
                let at = match r.time {
                    Some(_) => value(extra.next()).and_then(|t| t.parse().ok()),
                    None => None,
                };
                let groups = r.groups.iter().map(|_| value(extra.next())).collect();
                Some(crate::timeline::RowFacts { at, groups })
            }
            _ => None,
        })
        .collect();
    if rows.len() as u64 != n {
        // Fewer than all of them: nothing rather than something partial.
        return Some(Box::new(crate::timeline::Facts::omitted(format!(
            "the pass keeps {} of its {} offending rows",
            wording::thousands(rows.len() as u64),
            wording::thousands(n)
        ))));
    }
    let labels: Vec<&str> = r.groups.iter().map(|g| g.label.as_str()).collect();
    let time = r.time.as_ref().map(|t| (t.column.as_str(), t.chosen));
    Some(Box::new(crate::timeline::Facts::of(time, &labels, &rows)))
}

/// When an assertion's `n` rows were written and whose they are, from the
/// rows its statement returned (up to [`crate::sql::render::FACTS_CAP`]):
/// its time column is the profile's, else the first of its columns named as
/// a time column usually is; its breakdown columns are those of the tenant
/// and profile columns the rows have. None when the rows have neither;
/// when the statement returned fewer than all `n`, only why not.
fn assertion_facts(
    a: &crate::checks::plan::AssertionCheck,
    n: u64,
    rows: &[SampleRow],
) -> Option<Box<crate::timeline::Facts>> {
    use crate::timeline::{Chosen, Facts, NAMES, RowFacts};
    let columns = rows.first()?;
    let find = |name: &str| columns.keys().find(|k| k.eq_ignore_ascii_case(name));
    let time = match a.time_column.as_deref() {
        Some("") => None,
        Some(named) => match find(named) {
            Some(column) => Some((column.as_str(), Chosen::Profile)),
            None => {
                return Some(Box::new(Facts::omitted(format!(
                    "time column \"{named}\" is not a column of the query's rows"
                ))));
            }
        },
        None => NAMES
            .iter()
            .find_map(|name| find(name))
            .map(|column| (column.as_str(), Chosen::Detected)),
    };
    let groups: Vec<&str> = a
        .groups
        .iter()
        .filter_map(|g| find(g).map(String::as_str))
        .collect();
    if time.is_none() && groups.is_empty() {
        return None;
    }
    if rows.len() as u64 != n {
        return Some(Box::new(Facts::omitted(format!(
            "the query returned {} rows, and tether reads when and whose of {} at most",
            wording::thousands(n),
            wording::thousands(rows.len() as u64)
        ))));
    }
    let facts: Vec<RowFacts> = rows
        .iter()
        .map(|row| RowFacts {
            at: time.and_then(|(t, _)| seconds_in(row.get(t)?)),
            groups: groups.iter().map(|g| value_text(row.get(*g))).collect(),
        })
        .collect();
    Some(Box::new(Facts::of(time, &groups, &facts)))
}

/// Seconds since 1970 of a time in a query's row: a whole number is seconds
/// (SQLite `unixepoch`), text is read as [`crate::timeline::parse_time`]
/// reads it.
fn seconds_in(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| Some(n.as_f64()?.floor() as i64)),
        serde_json::Value::String(text) => crate::timeline::parse_time(text),
        _ => None,
    }
}

/// A value of a query's row as a breakdown groups it: text as it is, NULL
/// as None, anything else as its JSON.
fn value_text(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// A shared pass's rows, one per part of the table it read, in part order:
/// the table's rows and each check's count add up, samples follow one
/// another.
fn scan_read(
    plan: &Plan,
    statement: &Statement,
    rows: &[Vec<PassValue>],
) -> Result<Read, sqlx::Error> {
    if rows.is_empty() {
        return Err(sqlx::Error::RowNotFound);
    }
    // Each check's count, then its sample rows when the pass aggregates
    // them (samples kept, or a time or breakdown column to learn).
    let mut at = 1;
    let outcomes = statement
        .checks
        .iter()
        .map(|&c| {
            let aggregated = matches!(&plan.checks[c].work,
                Work::Rows(r) if r.sampled().aggregated(plan.sample));
            let here = at;
            at += 1 + usize::from(aggregated);
            let n = rows
                .iter()
                .map(|r| count(r.get(here)))
                .sum::<Result<u64, _>>()?;
            let mut texts = rows.iter().filter_map(|r| {
                if aggregated {
                    text(r.get(here + 1))
                } else {
                    None
                }
            });
            Ok((c, n, sample_of(plan, c, n, &mut texts)))
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(Read {
        total: Some(
            rows.iter()
                .map(|r| count(r.first()))
                .sum::<Result<u64, _>>()?,
        ),
        outcomes,
        estimate: None,
    })
}

/// Sample rows from a pass's texts of JSON arrays, one value per label.
fn samples(
    texts: &mut dyn Iterator<Item = &str>,
    labels: &[String],
    limit: usize,
) -> Vec<SampleRow> {
    db::json_values(texts)
        .filter_map(|v| match v {
            serde_json::Value::Array(values) => {
                Some(labels.iter().cloned().zip(values).collect::<SampleRow>())
            }
            _ => None,
        })
        .take(limit)
        .collect()
}

/// What a statement found for one check.
struct Found<'a> {
    count: u64,
    /// The table's rows, when the statement counted them.
    total: Option<u64>,
    sample: Sample,
    /// Set when the statement read a sample: `count` is the sample's.
    estimate: Option<&'a Estimate>,
}

/// Turns a count into the check's findings.
fn decide(plan: &Plan, c: usize, sql: &Sql, found: Found, elapsed: Duration) -> Outcome {
    let Found {
        count,
        total,
        sample,
        estimate,
    } = found;
    let check = &plan.checks[c];
    let mut findings = Vec::new();
    // A sample's count, scaled to the table (`total` already is).
    let estimate = estimate.map(|e| {
        Box::new(Estimate {
            sampled_count: count,
            ..e.clone()
        })
    });
    let count = match &estimate {
        Some(e) => Estimate::scaled(count, e.fraction),
        None => count,
    };
    if count > 0 {
        let mut f = Finding::new(
            check.id,
            check.severity,
            &check.subject,
            &check.key,
            counted_message(check, count, total, estimate.as_deref()),
        );
        f.count = Some(count);
        f.total = total;
        f.estimate = estimate.clone();
        f.sql = Some(sql.to_string());
        f.category = Some(check.category);
        f.elapsed_ms = Some(round_ms(elapsed));
        f.sample = sample.rows;
        // Learnt from a sample of the table, they would say nothing of it whole.
        f.facts = sample.facts.filter(|_| estimate.is_none());
        f.sample_sql = match &check.work {
            Work::Rows(r) => Some(r.sample_sql().to_string()),
            Work::Assertion(a) => Some(a.sample_sql.to_string()),
            Work::Catalog(_) | Work::Withheld(_) => None,
        };
        let proof = match &check.work {
            Work::Rows(r) => r
                .proves_unenforced
                .as_deref()
                .map(|constraint| proof_of_bypass(check, constraint, &f)),
            _ => None,
        };
        findings.push(f);
        findings.extend(proof);
    }
    Outcome {
        count: Some(count),
        total,
        estimate,
        elapsed,
        findings,
        error: None,
    }
}

/// A count's sentence, `≈` with how it was estimated when it was.
fn counted_message(
    check: &Check,
    count: u64,
    total: Option<u64>,
    estimate: Option<&Estimate>,
) -> String {
    let sampled = estimate.map(|e| wording::Sampled {
        count: e.sampled_count,
        basis: &e.basis,
    });
    wording::count_sentence(check.offending(), count, total, sampled)
}

/// The engine a row check runs on (PostgreSQL for checks without rows,
/// which prove no bypass).
fn check_engine(check: &Check) -> crate::model::Engine {
    match &check.work {
        Work::Rows(r) => r.engine,
        _ => crate::model::Engine::Postgres,
    }
}

/// Orphans of a constraint the catalog calls enforced prove it was bypassed
/// (`fk_not_enforced`), counted as `orphans` is.
fn proof_of_bypass(check: &Check, constraint: &str, orphans: &Finding) -> Finding {
    let count = orphans.count.unwrap_or(0);
    let mut proof = Finding::new(
        CheckId::FkNotEnforced,
        CheckId::FkNotEnforced.default_severity(),
        &check.subject,
        &finding_key(CheckId::FkNotEnforced, &[&check.subject.describe()]),
        wording::bypassed(
            check_engine(check),
            constraint,
            count,
            orphans.estimate.is_some(),
        ),
    );
    proof.constraint = Some(constraint.to_string());
    proof.count = Some(count);
    proof.estimate = orphans.estimate.clone();
    proof.sql = orphans.sql.clone();
    proof.elapsed_ms = orphans.elapsed_ms;
    proof
}

/// A check that could not run: a `check_failed` finding naming why.
pub fn failed(check: &Check, sql: &str, elapsed: Duration, error: CheckError) -> Outcome {
    let mut f = Finding::new(
        CheckId::CheckFailed,
        Severity::Error,
        &check.subject,
        &finding_key(CheckId::CheckFailed, &[&check.key]),
        wording::could_not_run(check.id.as_str(), &error),
    );
    if f.name.is_none() {
        f.name = Some(check.key.clone());
    }
    f.sql = (!sql.is_empty()).then(|| sql.to_string());
    f.category = Some(check.category);
    f.elapsed_ms = Some(round_ms(elapsed));
    Outcome {
        count: None,
        total: None,
        estimate: None,
        elapsed,
        findings: vec![f],
        error: Some(Box::new(error)),
    }
}

fn slow_check(statement: &Statement, sql: &Sql, elapsed: Duration) -> Option<Finding> {
    let ms = round_ms(elapsed);
    if ms <= statement.threshold_ms as f64 {
        return None;
    }
    let mut f = Finding::new(
        CheckId::SlowCheck,
        CheckId::SlowCheck.default_severity(),
        &statement.subject,
        &finding_key(CheckId::SlowCheck, &[&statement.key]),
        wording::slower_than(ms, statement.category.as_str(), statement.threshold_ms),
    );
    f.sql = Some(sql.to_string());
    f.category = Some(statement.category);
    f.elapsed_ms = Some(ms);
    f.threshold_ms = Some(statement.threshold_ms);
    Some(f)
}

fn round_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// A metric's latency and rows (or why it failed).
pub type MetricOutcome = (Duration, Result<Vec<SampleRow>, String>);

/// Everything one run produced, collected from its events.
#[derive(Clone, Debug, Default)]
pub struct RunResult {
    pub findings: Vec<Finding>,
    pub outcomes: Vec<Option<Outcome>>,
    pub metrics: Vec<Option<MetricOutcome>>,
    pub statement_elapsed: Vec<Option<Duration>>,
    /// Checks of a failed shared pass that ran alone: (pass, key, SQL, latency).
    pub retried: Vec<(usize, String, crate::sql::Sql, Duration)>,
    /// With [`Estimates::First`]: the passes estimated from a sample before
    /// they ran exactly, and each sample's latency.
    pub estimated_first: Vec<(usize, Duration)>,
    /// With [`Estimates::Only`]: the passes that can be sampled ran over a
    /// sample instead of the whole table.
    pub sampled: bool,
    pub elapsed: Duration,
    pub shared_snapshot: bool,
    pub checks_run: usize,
    /// Timelines and breakdowns read by statements of their own after the
    /// run (a pass that kept too few of a check's rows): each statement's
    /// key and latency.
    pub read_apart: crate::offending::Sent,
}

impl RunResult {
    pub fn new(plan: &Plan) -> RunResult {
        RunResult {
            outcomes: vec![None; plan.checks.len()],
            metrics: vec![None; plan.metrics.len()],
            statement_elapsed: vec![None; plan.statements.len()],
            checks_run: plan.checks.len(),
            ..RunResult::default()
        }
    }

    /// Folds one event in.
    pub fn apply(&mut self, event: Event) {
        match event {
            Event::Started { .. } | Event::Progress { .. } => {}
            // Interim: the exact outcome follows. The statement was sent.
            Event::Estimated {
                statement, elapsed, ..
            } => self.estimated_first.push((statement, elapsed)),
            Event::Checked { check, mut outcome } => {
                // Kept once, here, each marked with its check (reports by
                // check group by it): a plan of tens of thousands of checks
                // has as many catalog findings.
                let index = u32::try_from(check).ok();
                self.findings
                    .extend(
                        std::mem::take(&mut outcome.findings)
                            .into_iter()
                            .map(|mut f| {
                                f.plan_check = index;
                                f
                            }),
                    );
                self.outcomes[check] = Some(outcome);
            }
            Event::StatementDone {
                statement,
                elapsed,
                findings,
                ..
            } => {
                self.statement_elapsed[statement] = Some(elapsed);
                self.findings.extend(findings);
            }
            Event::Retried {
                statement,
                key,
                sql,
                elapsed,
            } => self.retried.push((statement, key, sql, elapsed)),
            Event::Metric { metric, outcome } => self.metrics[metric] = Some(outcome),
            Event::Finished {
                elapsed,
                shared_snapshot,
                ..
            } => {
                self.elapsed = elapsed;
                self.shared_snapshot = shared_snapshot;
            }
        }
    }

    /// Adds the findings a plan decided from its catalog
    /// ([`Plan::take_catalog_findings`]), each marked with its check.
    pub fn add_catalog_findings(&mut self, taken: Vec<(usize, Vec<Finding>)>) {
        for (check, findings) in taken {
            let index = u32::try_from(check).ok();
            self.findings.extend(findings.into_iter().map(|mut f| {
                f.plan_check = index;
                f
            }));
        }
    }

    /// Findings in a stable order: most severe first, then by check and key.
    /// The order is found on indexes and applied in place, so sorting needs
    /// no second copy of the findings.
    pub fn sorted(mut self) -> RunResult {
        let findings = &self.findings;
        let mut order: Vec<usize> = (0..findings.len()).collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (&findings[a], &findings[b]);
            (b.severity, a.check, &a.key).cmp(&(a.severity, b.check, &b.key))
        });
        permute(&mut self.findings, order);
        self
    }

    /// The sum of the latencies of every statement sent: the catalog reads,
    /// the plan's statements, checks retried alone, and metrics.
    pub fn statements_total(&self, plan: &Plan) -> Duration {
        let catalog: Duration = plan.schema.reads.0.iter().map(|r| r.elapsed).sum();
        let passes: Duration = self.statement_elapsed.iter().flatten().sum();
        let retried: Duration = self.retried.iter().map(|r| r.3).sum::<Duration>()
            + self.estimated_first.iter().map(|e| e.1).sum::<Duration>();
        let metrics: Duration = self.metrics.iter().flatten().map(|m| m.0).sum();
        let apart: Duration = self.read_apart.iter().map(|r| r.elapsed).sum();
        catalog + passes + retried + metrics + apart
    }

    pub fn summary(&self) -> Summary {
        Summary::of(&self.findings, self.checks_run)
    }
}

/// Puts `items[order[i]]` at `i`, in place, following each cycle of the
/// permutation once.
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..items.len() {
        let mut current = start;
        while order[current] != start {
            let next = order[current];
            items.swap(current, next);
            order[current] = current;
            current = next;
        }
        order[current] = current;
    }
}

/// Runs the plan and collects every event; `progress` is told of each statement done.
pub async fn run_to_end(
    db: &Db,
    plan: Arc<Plan>,
    options: &RunOptions,
    mut progress: impl FnMut(&Event),
) -> RunResult {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut result = RunResult::new(&plan);
    let runner = run(db, plan.clone(), options, tx);
    let collect = async {
        while let Some(event) = rx.recv().await {
            progress(&event);
            result.apply(event);
        }
    };
    tokio::join!(runner, collect);
    result.sorted()
}

#[cfg(test)]
mod tests {
    #[test]
    fn permute_puts_each_item_where_the_order_says() {
        let orders: [&[usize]; 5] = [&[], &[0], &[2, 0, 1], &[1, 0, 3, 2], &[4, 3, 0, 1, 2]];
        for order in orders {
            let mut items: Vec<usize> = (0..order.len()).map(|i| i * 10).collect();
            super::permute(&mut items, order.to_vec());
            let expected: Vec<usize> = order.iter().map(|&i| i * 10).collect();
            assert_eq!(items, expected, "{order:?}");
        }
    }
}
