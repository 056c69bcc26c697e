//! Runs a plan: statements on a pool of read-only sessions, at most `jobs` at a
//! time, each bounded by a timeout. Every result is sent as an [`Event`] the
//! moment it is known, so a UI can show progress; a failed check becomes a
//! `check_failed` finding and the others go on.

use crate::checks::plan::{Check, Plan, Shape, Statement, StatementText, Work};
use crate::checks::{CheckId, Severity};
use crate::db::{self, Backends, Db, PassValue, Reader, SampleRow};
use crate::findings::{Finding, Summary};
use crate::sql::Sql;
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
    /// Where readers list their PostgreSQL backends, for that cancellation.
    pub backends: Backends,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            jobs: 4,
            timeout: Duration::from_secs(30),
            cancel: CancellationToken::new(),
            backends: Backends::default(),
        }
    }
}

/// What the runner reports, in the order it happens.
#[derive(Clone, Debug)]
pub enum Event {
    /// A statement started; its checks are running.
    Started { statement: usize },
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
        elapsed: Duration,
        result: Result<Vec<SampleRow>, String>,
    },
    /// Everything is done (or the run was cancelled).
    Finished {
        elapsed: Duration,
        shared_snapshot: bool,
        cancelled: bool,
    },
}

/// How one check ended.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Rows found (None for catalog checks and failures).
    pub count: Option<u64>,
    /// Rows in the checked table, when the statement counted them.
    pub total: Option<u64>,
    pub elapsed: Duration,
    pub findings: Vec<Finding>,
    pub error: Option<String>,
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
    for (i, check) in plan.checks.iter().enumerate() {
        match &check.work {
            Work::Catalog(findings) => {
                let outcome = Outcome {
                    findings: findings.clone(),
                    ..Outcome::default()
                };
                let _ = events.send(Event::Checked { check: i, outcome });
            }
            Work::Withheld(reason) => {
                let outcome = failed(check, "", Duration::ZERO, reason.clone());
                let _ = events.send(Event::Checked { check: i, outcome });
            }
            _ => {}
        }
    }

    let coordinator = db.shared_snapshot().await;
    let snapshot = coordinator.as_ref().map(|(_, id)| id.clone());
    let jobs = options.jobs.max(1);

    enum Job {
        Statement(usize),
        Metric(usize),
    }
    let work = (0..plan.statements.len())
        .map(Job::Statement)
        .chain((0..plan.metrics.len()).map(Job::Metric));
    let all = futures::stream::iter(work).for_each_concurrent(jobs, |job| {
        let events = events.clone();
        let plan = plan.clone();
        let snapshot = snapshot.clone();
        async move {
            match job {
                Job::Statement(s) => {
                    run_statement(db, &plan, s, snapshot.as_deref(), options, &events).await;
                }
                Job::Metric(m) => {
                    let started = Instant::now();
                    let sql = &plan.metrics[m].sql;
                    let result =
                        with_reader(db, snapshot.as_deref(), options, async |r: &mut Reader| {
                            r.json_rows(sql).await
                        })
                        .await;
                    let _ = events.send(Event::Metric {
                        metric: m,
                        elapsed: started.elapsed(),
                        result,
                    });
                }
            }
        }
    });
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

/// Opens a reader, runs `f` within the timeout, and ends the transaction.
async fn with_reader<T>(
    db: &Db,
    snapshot: Option<&str>,
    options: &RunOptions,
    f: impl AsyncFnOnce(&mut Reader) -> Result<T, sqlx::Error>,
) -> Result<T, String> {
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
        Err(_) => Err(format!("timed out after {} s", timeout.as_secs_f64())),
    }
}

/// Why a statement failed, with what to do where tether knows.
fn describe(error: &sqlx::Error, timeout: Duration) -> String {
    match db::Failure::of(error) {
        db::Failure::Timeout | db::Failure::Cancelled => {
            format!("timed out after {} s", timeout.as_secs_f64())
        }
        db::Failure::RowSecurity => format!(
            "{}: row-level security hides rows from this role, so no count is given; run as a role with BYPASSRLS, or as the table's owner",
            db::describe(error)
        ),
        db::Failure::Permission => format!(
            "{}: the role needs SELECT on it (or pg_read_all_data on PostgreSQL)",
            db::describe(error)
        ),
        _ => db::describe(error),
    }
}

async fn run_statement(
    db: &Db,
    plan: &Plan,
    s: usize,
    snapshot: Option<&str>,
    options: &RunOptions,
    events: &mpsc::UnboundedSender<Event>,
) {
    let statement = &plan.statements[s];
    let sql = plan.sql(s);
    let _ = events.send(Event::Started { statement: s });
    let started = Instant::now();
    let result = with_reader(db, snapshot, options, async |reader: &mut Reader| {
        read(reader, plan, statement, &sql).await
    })
    .await;
    let elapsed = started.elapsed();

    match result {
        Ok(read) => {
            for (c, count, sample) in read.outcomes {
                let outcome = decide(plan, c, &sql, count, read.total, sample, elapsed);
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
        Err(error) if statement.checks.len() > 1 && !error.starts_with("timed out") => {
            // A shared scan failed: run its checks one by one, so only the broken
            // one fails. Each of those statements is reported with its latency.
            for &c in &statement.checks {
                let check = &plan.checks[c];
                let alone = match &check.work {
                    Work::Rows(r) => r.alone_sql(plan.sample),
                    _ => continue,
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
                let result = with_reader(db, snapshot, options, async |reader: &mut Reader| {
                    read(reader, plan, &single, &alone).await
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
                                .unwrap_or((c, 0, Vec::new()));
                        decide(plan, c, &alone, count, total, sample, elapsed)
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
            let _ = events.send(Event::StatementDone {
                statement: s,
                elapsed,
                failed: true,
                findings: Vec::new(),
            });
        }
        Err(error) => {
            for &c in &statement.checks {
                let outcome = failed(&plan.checks[c], sql.as_str(), elapsed, error.clone());
                let _ = events.send(Event::Checked { check: c, outcome });
            }
            let _ = events.send(Event::StatementDone {
                statement: s,
                elapsed,
                failed: true,
                findings: Vec::new(),
            });
        }
    }
}

/// What one statement read: the table's rows (a pass counts them), and per
/// check its count and sample rows.
struct Read {
    total: Option<u64>,
    outcomes: Vec<(usize, u64, Vec<SampleRow>)>,
}

/// Runs one statement and reads its counts and samples, as its shape says.
async fn read(
    reader: &mut Reader,
    plan: &Plan,
    statement: &Statement,
    sql: &Sql,
) -> Result<Read, sqlx::Error> {
    // A count the statement does not return as a whole number is an error,
    // never a silent 0.
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
    let limit = plan.sample as usize;
    let sample = |c: usize, texts: &mut dyn Iterator<Item = &str>| match &plan.checks[c].work {
        Work::Rows(r) if limit > 0 => samples(texts, &r.sample_labels(), limit),
        _ => Vec::new(),
    };
    match statement.shape {
        Shape::Scan => {
            // One row per part of the table the pass read (a large table's
            // halves): counts add up, samples follow one another.
            let rows = reader.pass(sql).await?;
            let stride = if limit > 0 { 2 } else { 1 };
            if rows.is_empty() {
                return Err(sqlx::Error::RowNotFound);
            }
            let outcomes = statement
                .checks
                .iter()
                .enumerate()
                .map(|(i, &c)| {
                    let at = 1 + i * stride;
                    let n = rows
                        .iter()
                        .map(|r| count(r.get(at)))
                        .sum::<Result<u64, _>>()?;
                    let mut texts = rows
                        .iter()
                        .filter_map(|r| if limit > 0 { text(r.get(at + 1)) } else { None });
                    Ok((c, n, sample(c, &mut texts)))
                })
                .collect::<Result<_, sqlx::Error>>()?;
            Ok(Read {
                total: Some(
                    rows.iter()
                        .map(|r| count(r.first()))
                        .sum::<Result<u64, _>>()?,
                ),
                outcomes,
            })
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
            let found = sample(c, &mut texts);
            Ok(Read {
                total,
                outcomes: vec![(c, n, found)],
            })
        }
        Shape::Assertion => {
            let (n, mut rows) = reader.counted_json_rows(sql).await?;
            rows.truncate(limit);
            Ok(Read {
                total: None,
                outcomes: vec![(statement.checks[0], n.max(0) as u64, rows)],
            })
        }
    }
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

/// Turns a count into the check's findings.
fn decide(
    plan: &Plan,
    c: usize,
    sql: &Sql,
    count: u64,
    total: Option<u64>,
    sample: Vec<SampleRow>,
    elapsed: Duration,
) -> Outcome {
    let check = &plan.checks[c];
    let elapsed_ms = Some(round_ms(elapsed));
    let mut findings = Vec::new();
    if count > 0 {
        let message = check.describe_count(count, total);
        let mut f = Finding::new(
            check.id,
            check.severity,
            &check.subject,
            &check.key,
            String::new(),
        );
        f.count = Some(count);
        f.total = total;
        f.sql = Some(sql.to_string());
        f.category = Some(check.category);
        f.elapsed_ms = elapsed_ms;
        f.sample = sample;
        f.sample_sql = match &check.work {
            Work::Rows(r) => Some(r.sample_sql().to_string()),
            Work::Assertion(a) => Some(a.sample_sql.to_string()),
            Work::Catalog(_) | Work::Withheld(_) => None,
        };
        f.message = message;
        if let Work::Rows(r) = &check.work
            && let Some(constraint) = &r.proves_unenforced
        {
            let mut proof = Finding::new(
                CheckId::FkNotEnforced,
                CheckId::FkNotEnforced.default_severity(),
                &check.subject,
                &format!("fk_not_enforced:{}", check.subject.describe()),
                format!(
                    "{constraint} is declared, yet {} violate it: it was not enforced when they were written \
                     (e.g. SQLite with foreign_keys off, or triggers bypassed)",
                    crate::findings::thousands(count)
                ),
            );
            proof.constraint = Some(constraint.clone());
            proof.count = Some(count);
            proof.sql = f.sql.clone();
            proof.elapsed_ms = elapsed_ms;
            findings.push(f);
            findings.push(proof);
        } else {
            findings.push(f);
        }
    }
    Outcome {
        count: Some(count),
        total,
        elapsed,
        findings,
        error: None,
    }
}

/// A check that could not run: a `check_failed` finding naming why.
pub fn failed(check: &Check, sql: &str, elapsed: Duration, error: String) -> Outcome {
    let mut f = Finding::new(
        CheckId::CheckFailed,
        Severity::Error,
        &check.subject,
        &format!("check_failed:{}", check.key),
        format!("{} check could not run: {error}", check.id),
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
        elapsed,
        findings: vec![f],
        error: Some(error),
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
        &format!("slow_check:{}", statement.key),
        format!(
            "took {ms:.1} ms, over the {} threshold of {} ms",
            statement.category, statement.threshold_ms
        ),
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
    pub elapsed: Duration,
    pub shared_snapshot: bool,
    pub checks_run: usize,
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
            Event::Started { .. } => {}
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
            Event::Metric {
                metric,
                elapsed,
                result,
            } => self.metrics[metric] = Some((elapsed, result)),
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
        let retried: Duration = self.retried.iter().map(|r| r.3).sum();
        let metrics: Duration = self.metrics.iter().flatten().map(|m| m.0).sum();
        catalog + passes + retried + metrics
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
