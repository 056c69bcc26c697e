//! Write probes (opt-in, `--probe`): they test what the database actually does,
//! inside one transaction that is always rolled back, each probe under a
//! savepoint so that a row the database refuses does not abort the rest.
//! A failure that ends the transaction (deadlock, lock wait timeout, lost
//! connection, …) or a savepoint that fails stops every probe at once: nothing
//! more runs but the rollback. Tables that cannot roll back are refused before
//! the first write.
//!
//! - *enforcement*: insert a copy of a child row whose reference matches no
//!   parent. Accepted: the constraint does not protect data (`fk_not_enforced`).
//! - *cascade*: delete one parent row that has children, and look at what
//!   happened to them; compared with the profile's `on_delete` (`fk_delete_rule`).

use crate::checks::plan::Plan;
use crate::checks::{Category, CheckId, Severity};
use crate::db::{self, Db, Failure, Transaction};
use crate::findings::{Finding, Subject, finding_key};
use crate::model::{Engine, ReferentialAction, RelationshipId, Schema, TableName};
use crate::relationships::Relationship;
use crate::sql::probe::{self as statements, Value};
use std::time::Instant;

/// Why probes could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("probes write (and roll back), but {0} is read-only: {1}")]
    ReadOnly(String, String),
    #[error("probes could not start on {0}: {1}")]
    Failed(String, String),
    /// A table the probes would write cannot roll back; nothing was written.
    #[error("probes refused on {target}: {reason}")]
    NonTransactional { target: String, reason: String },
    /// A failure that ends the transaction, or a savepoint that failed,
    /// stopped every probe; the transaction was rolled back.
    #[error(
        "probes stopped on {relationship}: {what}: {message}; everything they wrote was rolled back"
    )]
    Stopped {
        relationship: String,
        failure: Failure,
        /// The failure's name, or the savepoint statement that failed.
        what: String,
        /// The server's message.
        message: String,
    },
}

/// Why one probe gave no answer.
enum Stop {
    /// This probe could not tell (a row refused by another constraint, …);
    /// the others go on.
    Inconclusive(String),
    /// The transaction is over or unsure: every probe stops.
    All(Ended),
}

/// A failure after which nothing more may run in the probes' transaction.
struct Ended {
    failure: Failure,
    /// The failure's name, or the savepoint statement that failed.
    what: String,
    message: String,
}

impl Stop {
    /// A statement of the probe's own work failed.
    fn of(error: &sqlx::Error) -> Stop {
        let failure = Failure::of(error);
        if failure.ends_the_transaction() {
            Stop::All(Ended {
                failure,
                what: failure.name().to_string(),
                message: db::describe(error),
            })
        } else {
            Stop::Inconclusive(db::describe(error))
        }
    }

    /// `SAVEPOINT` or `ROLLBACK TO SAVEPOINT` failed: whatever the reason,
    /// the probes cannot know what is still undone.
    fn savepoint(statement: &str, error: &sqlx::Error) -> Stop {
        let failure = Failure::of(error);
        let what = if failure.ends_the_transaction() {
            failure.name().to_string()
        } else {
            format!("{statement} failed")
        };
        Stop::All(Ended {
            failure,
            what,
            message: db::describe(error),
        })
    }
}

/// What a parent delete did to its children.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// The database refused the delete.
    Prevented,
    /// The children went with the parent.
    Cascaded,
    /// The children's references became NULL.
    SetNull,
    /// The children's references changed to something else (a default).
    SetDefault,
    /// Nothing happened to the children: they now reference a missing parent.
    Orphaned,
}

impl DeleteOutcome {
    fn matches(self, rule: ReferentialAction) -> bool {
        match self {
            DeleteOutcome::Prevented => matches!(
                rule,
                ReferentialAction::Restrict | ReferentialAction::NoAction
            ),
            DeleteOutcome::Cascaded => rule == ReferentialAction::Cascade,
            DeleteOutcome::SetNull => rule == ReferentialAction::SetNull,
            DeleteOutcome::SetDefault => rule == ReferentialAction::SetDefault,
            DeleteOutcome::Orphaned => false,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            DeleteOutcome::Prevented => "the delete was refused (restrict / no action)",
            DeleteOutcome::Cascaded => "its children were deleted too (cascade)",
            DeleteOutcome::SetNull => "its children's references became NULL (set null)",
            DeleteOutcome::SetDefault => {
                "its children's references changed to a default (set default)"
            }
            DeleteOutcome::Orphaned => "its children stayed, referencing a parent that is gone",
        }
    }
}

/// The constraint a violation names, where the engine says (PostgreSQL always;
/// MySQL in its message; SQLite never).
fn violated_constraint(error: &sqlx::Error) -> Option<String> {
    let sqlx::Error::Database(e) = error else {
        return None;
    };
    if let Some(name) = e.constraint() {
        return Some(name.to_string());
    }
    // MySQL: "… CONSTRAINT `name` FOREIGN KEY …"
    let message = e.message();
    let start = message.find("CONSTRAINT `")? + "CONSTRAINT `".len();
    let end = message[start..].find('`')?;
    Some(message[start..start + end].to_string())
}

fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    Failure::of(error) == Failure::ForeignKey
}

fn is_read_only(error: &sqlx::Error) -> bool {
    let text = db::describe(error).to_lowercase();
    text.contains("read-only")
        || text.contains("readonly")
        || text.contains("read only")
        || text.contains("recovery")
}

/// A value of a column's kind that no parent has: for a reference, one that
/// matches nothing; for a key, one that clashes with nothing.
fn fresh(data_type: &str, n: u64) -> Option<Value> {
    let t = data_type.to_ascii_lowercase();
    if t.contains("int") || t == "serial" || t == "bigserial" {
        Some(Value::Number(-2_000_000_000 - n as i64))
    } else if t.contains("uuid") || t.starts_with("char(36)") || t.starts_with("character(36)") {
        Some(Value::Literal(format!("00000000-7e7e-4e7e-8e7e-{n:012x}")))
    } else if t.contains("char") || t.contains("text") || t.contains("clob") || t.is_empty() {
        Some(Value::Literal(format!("tether-probe-{n}")))
    } else {
        None
    }
}

/// The tables the probes write: each constraint's child (enforcement), and
/// for a cascade probe the parent and every table its constraints reach,
/// since the engine deletes or updates rows there too.
pub fn written_tables(plan: &Plan) -> Vec<TableName> {
    let mut tables: Vec<TableName> = Vec::new();
    let mut add = |t: &TableName| {
        if !tables.contains(t) {
            tables.push(t.clone());
        }
    };
    for r in plan.relationships.iter().filter(|r| r.constraint.is_some()) {
        add(&r.child);
        if r.expected_on_delete.is_some() {
            for t in reached_by_constraints(&plan.schema, &r.parent) {
                add(&t);
            }
        }
    }
    tables
}

/// `from` and every table that declared foreign keys lead to from it,
/// parent to child, each once (cycles end).
fn reached_by_constraints(schema: &Schema, from: &TableName) -> Vec<TableName> {
    let mut reached = vec![from.clone()];
    let mut next = 0;
    while let Some(parent) = reached.get(next).cloned() {
        next += 1;
        for fk in schema.foreign_keys.iter().filter(|fk| fk.parent == parent) {
            if !reached.contains(&fk.child) {
                reached.push(fk.child.clone());
            }
        }
    }
    reached
}

/// Probes every constraint of the plan on a writable connection to the same
/// database. Returns the findings (and a `check_failed` for each probe that
/// could not tell). A failure that ends the transaction stops them all.
pub async fn run(db: &Db, plan: &Plan) -> Result<Vec<Finding>, ProbeError> {
    let target = db.target.to_string();
    let mut tx = begin(db, plan, &target).await?;
    let mut findings = Vec::new();
    let mut n = 0;
    for (i, r) in plan.relationships.iter().enumerate() {
        if r.constraint.is_none() {
            continue;
        }
        let subject = Subject::Relationship(std::sync::Arc::new(r.label(&plan.schema)));
        let first = findings.len();
        if let Err(ended) = probe(&mut tx, plan, r, &subject, &mut n, &mut findings).await {
            return Err(stopped(tx, &target, &subject, ended).await);
        }
        for f in &mut findings[first..] {
            f.probed = Some(RelationshipId::at(i));
        }
    }
    // Never commit.
    tx.rollback()
        .await
        .map_err(|e| ProbeError::Failed(target, db::describe(&e)))?;
    Ok(findings)
}

/// Opens the probes' transaction: writable, on a session that is not
/// read-only, with every table written able to roll back (checked before the
/// first write) and, on PostgreSQL, every constraint checked at once.
async fn begin(db: &Db, plan: &Plan, target: &str) -> Result<Transaction, ProbeError> {
    let mut tx = db.writable().await.map_err(|e| {
        if is_read_only(&e) {
            ProbeError::ReadOnly(target.to_string(), db::describe(&e))
        } else {
            ProbeError::Failed(target.to_string(), db::describe(&e))
        }
    })?;
    match tx.read_only().await {
        Ok(false) => {}
        Ok(true) => {
            let _ = tx.rollback().await;
            return Err(ProbeError::ReadOnly(
                target.to_string(),
                "the session or server is set read-only".into(),
            ));
        }
        Err(e) => return Err(ProbeError::Failed(target.to_string(), db::describe(&e))),
    }
    // Before the first write: every table written must be able to roll back.
    if let Err(reason) =
        crate::writes::refuse_non_transactional(&mut tx, &plan.schema, &written_tables(plan)).await
    {
        let _ = tx.rollback().await;
        return Err(ProbeError::NonTransactional {
            target: target.to_string(),
            reason,
        });
    }
    if plan.engine == Engine::Postgres {
        // Deferred constraints would only object at a commit that never comes.
        if let Err(e) = tx.execute_fixed("SET CONSTRAINTS ALL IMMEDIATE").await {
            let _ = tx.rollback().await;
            return Err(ProbeError::Failed(target.to_string(), db::describe(&e)));
        }
    }
    Ok(tx)
}

/// Probes one constraint: its enforcement, then, when the profile expects an
/// ON DELETE rule, what a parent delete does. Adds what they find to
/// `findings`; `n` counts the probes run. An error stops every probe.
async fn probe(
    tx: &mut Transaction,
    plan: &Plan,
    r: &Relationship,
    subject: &Subject,
    n: &mut u64,
    findings: &mut Vec<Finding>,
) -> Result<(), Ended> {
    *n += 1;
    let fk = r
        .constraint
        .as_ref()
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let started = Instant::now();
    match enforcement(tx, plan, r, *n).await {
        Ok(Some(true)) => findings.push(not_enforced(subject, &fk, started)),
        Ok(_) => {}
        Err(Stop::Inconclusive(why)) => findings.push(inconclusive(subject, "enforcement", &why)),
        Err(Stop::All(ended)) => return Err(ended),
    }
    let Some(expected) = r.expected_on_delete else {
        return Ok(());
    };
    *n += 1;
    match cascade(tx, plan, r).await {
        Ok(Some(outcome)) if !outcome.matches(expected) => {
            findings.push(delete_rule_differs(plan, r, subject, fk, expected, outcome));
        }
        Ok(_) => {}
        Err(Stop::Inconclusive(why)) => findings.push(inconclusive(subject, "cascade", &why)),
        Err(Stop::All(ended)) => return Err(ended),
    }
    Ok(())
}

/// The constraint `fk` accepted an orphan: it does not protect data.
fn not_enforced(subject: &Subject, fk: &str, started: Instant) -> Finding {
    let mut f = Finding::new(
        CheckId::FkNotEnforced,
        CheckId::FkNotEnforced.default_severity(),
        subject,
        &finding_key(CheckId::FkNotEnforced, &["probe", &subject.describe()]),
        format!("probe: {fk} accepted a row that references no parent (rolled back)"),
    );
    f.constraint = Some(fk.to_string());
    f.category = Some(Category::Constraint);
    f.elapsed_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
    f
}

/// Deleting a parent did something else than the profile's `expected` rule.
fn delete_rule_differs(
    plan: &Plan,
    r: &Relationship,
    subject: &Subject,
    fk: String,
    expected: ReferentialAction,
    outcome: DeleteOutcome,
) -> Finding {
    let mut f = Finding::new(
        CheckId::FkDeleteRule,
        CheckId::FkDeleteRule.default_severity(),
        subject,
        &finding_key(CheckId::FkDeleteRule, &["probe", &subject.describe()]),
        format!(
            "probe: deleting a {} row with children: {}; the profile expects {} (rolled back)",
            plan.label(&r.parent),
            outcome.describe(),
            expected.as_str().replace('_', " ")
        ),
    );
    f.constraint = Some(fk);
    f.expected = Some(expected);
    f.actual = match outcome {
        DeleteOutcome::Prevented => r.constraint.as_ref().map(|c| c.on_delete),
        DeleteOutcome::Cascaded => Some(ReferentialAction::Cascade),
        DeleteOutcome::SetNull => Some(ReferentialAction::SetNull),
        DeleteOutcome::SetDefault => Some(ReferentialAction::SetDefault),
        DeleteOutcome::Orphaned => None,
    };
    f.category = Some(Category::Constraint);
    f
}

/// Every probe stops: the transaction is rolled back (a deadlock victim's
/// already is; a lost connection's is, by the server) and nothing else runs.
async fn stopped(tx: Transaction, target: &str, subject: &Subject, ended: Ended) -> ProbeError {
    let _ = tx.rollback().await;
    match ended.failure {
        Failure::ReadOnly => ProbeError::ReadOnly(target.to_string(), ended.message),
        failure => ProbeError::Stopped {
            relationship: subject.describe(),
            failure,
            what: ended.what,
            message: ended.message,
        },
    }
}

/// A probe that could not tell: reported, as information.
fn inconclusive(subject: &Subject, probe: &str, why: &str) -> Finding {
    Finding::new(
        CheckId::CheckFailed,
        Severity::Info,
        subject,
        &finding_key(CheckId::CheckFailed, &["probe", probe, &subject.describe()]),
        format!("the {probe} probe could not tell: {why}"),
    )
}

/// Runs `work` under a savepoint and rolls back to it. A failure that ends
/// the transaction returns at once, with nothing more run on it.
async fn under_savepoint<T>(
    tx: &mut Transaction,
    work: impl AsyncFnOnce(&mut Transaction) -> Result<T, sqlx::Error>,
) -> Result<T, Stop> {
    tx.execute_fixed(statements::SAVEPOINT)
        .await
        .map_err(|e| Stop::savepoint(statements::SAVEPOINT, &e))?;
    let result = work(tx).await;
    if let Err(e) = &result
        && Failure::of(e).ends_the_transaction()
    {
        return Err(Stop::of(e));
    }
    tx.execute_fixed(statements::ROLLBACK_TO_SAVEPOINT)
        .await
        .map_err(|e| Stop::savepoint(statements::ROLLBACK_TO_SAVEPOINT, &e))?;
    result.map_err(|e| Stop::of(&e))
}

/// `INSERT … SELECT` of a copy of one child row whose reference matches no parent:
/// the references (dangling), the key and every unique column (fresh) are new,
/// so only the foreign key can object. `n` makes the values of one call unique.
pub fn orphan_insert(
    plan: &Plan,
    r: &Relationship,
    n: u64,
) -> Result<Option<crate::sql::Sql>, String> {
    let schema = &plan.schema;
    let Some(table) = schema.table(&r.child) else {
        return Ok(None);
    };
    let unique: Vec<&String> = schema
        .indexes_of(&r.child)
        .filter(|i| i.unique)
        .flat_map(|i| i.columns.iter().flatten())
        .chain(table.primary_key.iter())
        .collect();
    let mut columns = Vec::new();
    for (i, c) in table.columns.iter().enumerate() {
        let value = if r.child_columns.contains(&c.name) || unique.contains(&&c.name) {
            fresh(&c.data_type, n * 100 + i as u64).ok_or_else(|| {
                format!(
                    "no probe value for {}.{} of type {}",
                    plan.label(&r.child),
                    c.name,
                    c.data_type
                )
            })?
        } else {
            Value::Copy
        };
        columns.push((c.name.clone(), value));
    }
    Ok(Some(statements::insert_copy(
        plan.engine,
        &r.child,
        &columns,
    )))
}

/// Some(true) when the database accepted an orphan; Some(false) when it refused
/// it as a foreign-key violation; None when the child table has no row to copy.
async fn enforcement(
    tx: &mut Transaction,
    plan: &Plan,
    r: &Relationship,
    n: u64,
) -> Result<Option<bool>, Stop> {
    let Some(insert) = orphan_insert(plan, r, n).map_err(Stop::Inconclusive)? else {
        return Ok(None);
    };
    under_savepoint(tx, async |tx: &mut Transaction| {
        match tx.execute(&insert).await {
            Ok(0) => Ok(None),
            Ok(_) => Ok(Some(true)),
            Err(e) if is_foreign_key_violation(&e) => Ok(Some(false)),
            Err(e) => Err(e),
        }
    })
    .await
}

/// What deleting one parent row with children does to them; None when no parent
/// has children. Reads and delete all run under the savepoint.
async fn cascade(
    tx: &mut Transaction,
    plan: &Plan,
    r: &Relationship,
) -> Result<Option<DeleteOutcome>, Stop> {
    let engine = plan.engine;
    let pairs: Vec<(String, String)> = r.pairs();
    under_savepoint(tx, async |tx: &mut Transaction| {
        let found = tx
            .text_rows(&statements::parent_with_children(
                engine, &r.parent, &r.child, &pairs,
            ))
            .await?;
        let Some(key) = found.first().and_then(|row| parent_key(r, row)) else {
            return Ok(None);
        };
        let counts = ChildCounts::new(engine, r, &pairs, &key);
        let before = counts.read(tx).await?;
        match tx
            .execute(&statements::delete_where(engine, &r.parent, &key))
            .await
        {
            Err(e) if is_foreign_key_violation(&e) => return refused(plan, r, &e).map(Some),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        let after = counts.read(tx).await?;
        Ok(Some(before.outcome(after)))
    })
    .await
}

/// The parent key of a found row, as (column, value) pairs; None unless
/// every key column has a value.
fn parent_key(r: &Relationship, row: &db::SampleRow) -> Option<Vec<(String, String)>> {
    let key: Vec<(String, String)> = r
        .parent_columns
        .iter()
        .filter_map(|p| {
            row.get(p)
                .and_then(|v| v.as_str())
                .map(|v| (p.clone(), v.to_string()))
        })
        .collect();
    (key.len() == r.parent_columns.len()).then_some(key)
}

/// A delete the database refused as a foreign-key violation: by this
/// constraint (prevented), or by another one somewhere down the cascade,
/// which says nothing about this one (an error).
fn refused(
    plan: &Plan,
    r: &Relationship,
    error: &sqlx::Error,
) -> Result<DeleteOutcome, sqlx::Error> {
    let fk = r.constraint.as_ref();
    let ours = match violated_constraint(error) {
        Some(name) => fk.is_some_and(|fk| fk.name == name),
        None => fk.is_some_and(|fk| {
            matches!(
                fk.on_delete,
                ReferentialAction::Restrict | ReferentialAction::NoAction
            )
        }),
    };
    if !ours {
        let by = violated_constraint(error).unwrap_or_else(|| "another constraint".into());
        return Err(sqlx::Error::Protocol(format!(
            "deleting a {} row was refused by {by}, not by this constraint",
            plan.label(&r.parent)
        )));
    }
    Ok(DeleteOutcome::Prevented)
}

/// The counts on the child table that tell what a parent delete did: the
/// children of the deleted parent, all rows, and rows whose reference is NULL.
struct ChildCounts {
    children: crate::sql::Sql,
    rows: crate::sql::Sql,
    nulls: crate::sql::Sql,
}

/// [`ChildCounts`] at one moment.
struct Counted {
    children: i64,
    rows: i64,
    nulls: i64,
}

impl ChildCounts {
    /// The counts for the children of the parent whose key is `key`.
    fn new(
        engine: Engine,
        r: &Relationship,
        pairs: &[(String, String)],
        key: &[(String, String)],
    ) -> ChildCounts {
        let referencing: Vec<(String, String)> = pairs
            .iter()
            .zip(key)
            .map(|((child, _), (_, value))| (child.clone(), value.clone()))
            .collect();
        ChildCounts {
            children: statements::count_where(engine, &r.child, &referencing),
            rows: statements::count_where(engine, &r.child, &[]),
            nulls: statements::count_null(engine, &r.child, &r.child_columns),
        }
    }

    /// Runs the three counts, in that order.
    async fn read(&self, tx: &mut Transaction) -> Result<Counted, sqlx::Error> {
        Ok(Counted {
            children: count(tx, &self.children).await?,
            rows: count(tx, &self.rows).await?,
            nulls: count(tx, &self.nulls).await?,
        })
    }
}

impl Counted {
    /// What the delete did, from the counts before it (`self`) and after.
    fn outcome(&self, after: Counted) -> DeleteOutcome {
        if after.children == self.children {
            DeleteOutcome::Orphaned
        } else if after.rows < self.rows {
            DeleteOutcome::Cascaded
        } else if after.nulls > self.nulls {
            DeleteOutcome::SetNull
        } else {
            DeleteOutcome::SetDefault
        }
    }
}

/// The first count a statement returns (0 when none).
async fn count(tx: &mut Transaction, sql: &crate::sql::Sql) -> Result<i64, sqlx::Error> {
    Ok(tx.counts(sql).await?.first().copied().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::reached_by_constraints;
    use crate::model::{Engine, ForeignKey, MatchType, ReferentialAction, Schema, TableName};

    fn fk(child: &str, parent: &str) -> ForeignKey {
        ForeignKey {
            name: format!("{child}_{parent}_fkey"),
            child: TableName::new("public", child),
            child_columns: vec![format!("{parent}_id")],
            parent: TableName::new("public", parent),
            parent_columns: vec!["id".into()],
            on_delete: ReferentialAction::Cascade,
            on_update: ReferentialAction::NoAction,
            match_type: MatchType::Simple,
            deferrable: false,
            initially_deferred: false,
            validated: true,
            enforced: true,
            triggers_enabled: true,
        }
    }

    #[test]
    fn a_cascade_reaches_every_table_below_its_parent_once() {
        let schema = Schema {
            engine: Engine::Postgres,
            default_schema: "public".into(),
            tables: vec![],
            // orders → items → notes, and notes back to orders; customers apart.
            foreign_keys: vec![
                fk("items", "orders").into(),
                fk("notes", "items").into(),
                fk("orders", "notes").into(),
                fk("orders", "customers").into(),
            ],
            indexes: vec![],
            blind_spots: Vec::new(),
            lookup: Default::default(),
            reads: Default::default(),
        };
        let names = |tables: Vec<TableName>| -> Vec<String> {
            tables.into_iter().map(|t| t.name).collect()
        };
        assert_eq!(
            names(reached_by_constraints(
                &schema,
                &TableName::new("public", "orders")
            )),
            ["orders", "items", "notes"]
        );
        assert_eq!(
            names(reached_by_constraints(
                &schema,
                &TableName::new("public", "customers")
            )),
            ["customers", "orders", "items", "notes"]
        );
    }
}
