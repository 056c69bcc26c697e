//! `tether fix`: remediation for findings.
//!
//! A preview says what each remedy changes: the rows tether changes itself,
//! and what the database's own declared rules then do (the rows a `CASCADE`
//! deletes, those a `SET NULL` updates, those a `RESTRICT` would refuse, and
//! those of undeclared relationships that would be left referencing nothing),
//! with the triggers that will fire. Applying it re-reads and locks exactly
//! those rows, aborts if anything differs from the preview, backs every row
//! the transaction will change up to a file synced before the first change,
//! changes the rows, checks the database did what its rules say, and commits
//! only on confirmation. A backup restores (see `restore`).

mod apply;
pub mod backup;
mod restore;
mod rows;
mod walk;

pub use apply::{Applied, ApplyOptions, apply};
pub use restore::{OnConflict, Restored, restore};

use crate::cell::Cell;
use crate::checks::CheckId;
use crate::checks::plan::{Plan, Work, unreadable};
use crate::db::{self, Db, Failure, Transaction};
use crate::findings::Subject;
use crate::model::{ReferentialAction, RelationshipId, TableName};
use crate::relationships::{Relationship, Source};
use crate::sql::Sql;
use crate::sql::fix::{self as statements, Selection};
use crate::sql::render::Predicate;
use crate::writes::Trigger;
use rows::Row;
use walk::{Consequences, Reading, Seen, Shapes};

/// Why a fix, an apply or a restore did not happen. Nothing was written in
/// any case: every change runs in one transaction, rolled back on error.
#[derive(Debug, thiserror::Error)]
pub enum FixError {
    /// The data is not what the preview saw.
    #[error("{0}: the data changed since the preview, nothing was applied; preview again")]
    Drift(String),
    /// A statement failed; `failure` says how (deadlock, lock wait, …).
    #[error("{what}: {}{message}", failure_prefix(*.failure))]
    Database {
        what: String,
        failure: Failure,
        message: String,
    },
    /// Refused before anything was written.
    #[error("{0}")]
    Refused(String),
    /// Restore: rows now differ from what the fix left.
    #[error(
        "{} rows changed since the fix, nothing was restored (--on-conflict skip keeps them as they are and restores the rest): {}",
        .0.len(),
        .0.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
    )]
    Conflict(Vec<String>),
}

fn failure_prefix(failure: Failure) -> String {
    match failure {
        Failure::Other | Failure::ForeignKey | Failure::Constraint => String::new(),
        f => format!("{}: ", f.name()),
    }
}

impl FixError {
    /// Adds what became of the transaction to a database error's message.
    pub(crate) fn rolled_back(self, outcome: &str) -> FixError {
        match self {
            FixError::Database {
                what,
                failure,
                message,
            } => FixError::Database {
                what,
                failure,
                message: format!("{message} (rolled back: {outcome})"),
            },
            other => other,
        }
    }

    pub fn database(what: &str, error: &sqlx::Error) -> FixError {
        FixError::Database {
            what: what.to_string(),
            failure: Failure::of(error),
            message: db::describe(error),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrphanAction {
    Delete,
    SetNull,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Orphans,
    Tenant,
    Index,
    Constraint,
}

#[derive(Clone, Debug, Default)]
pub struct FixOptions {
    /// Only this kind of remedy.
    pub scope: Option<Scope>,
    /// Only relationships (or tables) of `table` or `table.column`, as a person
    /// writes them.
    pub relationship: Option<String>,
    /// Only this relationship (an index into the plan's relationships).
    pub only: Option<RelationshipId>,
    /// For orphans whose intended rule implies neither delete nor set null.
    pub action: Option<OrphanAction>,
}

/// What tether itself does to the rows of its selection.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Delete,
    SetNull(Vec<String>),
    CopyTenant(String),
}

impl Change {
    fn columns(&self) -> Vec<String> {
        match self {
            Change::Delete => Vec::new(),
            Change::SetNull(columns) => columns.clone(),
            Change::CopyTenant(column) => vec![column.clone()],
        }
    }
}

/// Rows tether changes itself: a selection and what to do to it.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub selection: Selection,
    pub change: Change,
    /// Rows it changes, counted at preview.
    pub count: u64,
    /// The set-based statement a person could run instead.
    pub sql: Sql,
}

/// Rows one declared rule changes because of a remedy.
#[derive(Clone, Debug, PartialEq)]
pub struct Effect {
    pub relationship: RelationshipId,
    /// `Cascade` (deleted), `SetNull` or `SetDefault` (updated).
    pub rule: ReferentialAction,
    pub count: u64,
}

/// A remedy for one finding (or one table's tenant column).
#[derive(Clone, Debug, PartialEq)]
pub struct Remedy {
    pub check: CheckId,
    /// The relationship it is about.
    pub relationship: Option<RelationshipId>,
    pub what: String,
    /// Data changes tether makes, in the order they run.
    pub steps: Vec<Step>,
    /// What the database's declared rules do in turn.
    pub effects: Vec<Effect>,
    /// Rows of relationships the database does not enforce that would be left
    /// referencing rows that are gone: (relationship, rows). Read, never followed.
    pub orphaned: Vec<(RelationshipId, u64)>,
    /// Triggers on the tables whose rows change (their effects are not backed up).
    pub triggers: Vec<Trigger>,
    /// Migrations proposed (printed, never applied).
    pub ddl: Vec<Sql>,
    /// Rows left for a person to decide, and why.
    pub undecided: Option<(u64, String)>,
    /// Why nothing can be counted or changed with this connection (row-level
    /// security, a missing privilege).
    pub withheld: Option<String>,
}

impl Remedy {
    fn new(check: CheckId, relationship: Option<RelationshipId>, what: String) -> Remedy {
        Remedy {
            check,
            relationship,
            what,
            steps: Vec::new(),
            effects: Vec::new(),
            orphaned: Vec::new(),
            triggers: Vec::new(),
            ddl: Vec::new(),
            undecided: None,
            withheld: None,
        }
    }

    /// Rows the transaction changes: tether's own and the rules'.
    pub fn rows(&self) -> u64 {
        self.steps.iter().map(|s| s.count).sum::<u64>()
            + self.effects.iter().map(|e| e.count).sum::<u64>()
    }
}

fn matches_filter(filter: &Option<String>, table: &str, columns: &[String]) -> bool {
    match filter {
        None => true,
        Some(f) => match f.rsplit_once('.') {
            Some((t, c)) if t == table => columns.iter().any(|x| x == c),
            _ => f == table,
        },
    }
}

/// The relationships `options` names and its filter matches, with their index.
fn chosen<'p>(
    plan: &'p Plan,
    options: &FixOptions,
) -> impl Iterator<Item = (usize, &'p Relationship)> {
    plan.relationships.iter().enumerate().filter(|(ri, r)| {
        options.only.is_none_or(|only| only.index() == *ri)
            && matches_filter(
                &options.relationship,
                &plan.label(&r.child),
                &r.child_columns,
            )
    })
}

/// A chosen relationship, by index, with its orphan count or why it cannot be counted.
struct Counted<'p> {
    index: usize,
    relationship: &'p Relationship,
    orphans: Result<u64, String>,
}

/// Each chosen relationship that `keep` accepts, in order, with its orphans counted.
async fn count_orphans<'p>(
    reader: &mut Transaction,
    plan: &'p Plan,
    options: &FixOptions,
    keep: impl Fn(&Relationship) -> bool,
) -> Result<Vec<Counted<'p>>, FixError> {
    let mut counted = Vec::new();
    for (index, r) in chosen(plan, options).filter(|(_, r)| keep(r)) {
        let orphans = match unreadable(&plan.schema, &[&r.child, &r.parent]) {
            Some(reason) => Err(reason),
            None => Ok(count(reader, plan, &orphans_of(r)).await?),
        };
        counted.push(Counted {
            index,
            relationship: r,
            orphans,
        });
    }
    Ok(counted)
}

/// The child rows of `r` that match no parent row.
fn orphans_of(r: &Relationship) -> Selection {
    Selection::Matching {
        table: r.child.clone(),
        predicate: Predicate::Orphan(r.lookup()),
    }
}

async fn count(
    reader: &mut Transaction,
    plan: &Plan,
    selection: &Selection,
) -> Result<u64, FixError> {
    let counts = reader
        .counts(&statements::count(plan.engine, selection))
        .await
        .map_err(|e| {
            FixError::database(
                &format!("counting the rows of {}", plan.label(selection.table())),
                &e,
            )
        })?;
    Ok(counts.first().copied().unwrap_or(0).max(0) as u64)
}

/// The relationship an orphans check is about, by identity (not by its
/// printed form).
pub fn relationship_of_check(plan: &Plan, check: usize) -> Option<RelationshipId> {
    let check = plan.checks.get(check)?;
    match &check.work {
        Work::Rows(rows) if matches!(rows.predicate, Predicate::Orphan(_)) => check.relationship,
        _ => None,
    }
}

/// Builds every remedy the plan's findings call for, with what each changes
/// and what the database's rules do in turn (read-only).
pub async fn preview(db: &Db, plan: &Plan, options: &FixOptions) -> Result<Vec<Remedy>, FixError> {
    let mut reader = db
        .reader(None)
        .await
        .map_err(|e| FixError::database("opening a read session", &e))?;
    let result = preview_in(&mut reader, plan, options).await;
    let _ = reader.finish().await;
    result
}

async fn preview_in(
    reader: &mut Transaction,
    plan: &Plan,
    options: &FixOptions,
) -> Result<Vec<Remedy>, FixError> {
    let wanted = |scope: Scope| options.scope.is_none_or(|s| s == scope);
    let mut remedies = Vec::new();
    if wanted(Scope::Orphans) {
        let counted = count_orphans(reader, plan, options, |_| true).await?;
        remedies.extend(orphan_remedies(plan, options, counted));
    }
    if wanted(Scope::Tenant) {
        remedies.extend(tenant_remedies(reader, plan, options).await?);
    }
    // What the rules do. A remedy that the database would refuse (restrict,
    // no action) is left for a person, and the others are counted again
    // without it, as the apply will run them.
    loop {
        let active: Vec<usize> = (0..remedies.len())
            .filter(|&i| !remedies[i].steps.is_empty())
            .collect();
        let reading = Reading {
            lock: false,
            batch: 1000,
        };
        let found = match consequences(reader, plan, &remedies, &active, &reading).await {
            Ok(found) => found,
            // A remedy that cannot be done is left for a person, with why.
            Err((k, FixError::Refused(why))) => {
                let remedy = &mut remedies[active[k]];
                let n = remedy.steps.iter().map(|s| s.count).sum();
                remedy.steps.clear();
                remedy.effects.clear();
                remedy.undecided = Some((n, why));
                continue;
            }
            Err((_, e)) => return Err(e),
        };
        let mut blocked = false;
        for (&i, rows) in active.iter().zip(&found) {
            let remedy = &mut remedies[i];
            if let Some(why) = blocking_reason(plan, &rows.consequences.blocking) {
                let n = remedy.steps.iter().map(|s| s.count).sum();
                remedy.steps.clear();
                remedy.effects.clear();
                remedy.undecided = Some((n, why));
                blocked = true;
                continue;
            }
            for (step, counted) in remedy.steps.iter_mut().zip(&rows.steps) {
                step.count = counted.rows.len() as u64;
            }
            remedy.effects = effects(&rows.consequences);
            remedy.orphaned = rows.consequences.orphaned.clone();
        }
        if !blocked {
            break;
        }
    }
    for remedy in remedies.iter_mut().filter(|r| !r.steps.is_empty()) {
        let tables = changed_tables(plan, remedy);
        remedy.triggers = crate::writes::triggers(reader, &plan.schema, &tables)
            .await
            .map_err(FixError::Refused)?;
    }
    if wanted(Scope::Index) {
        remedies.extend(index_remedies(plan, options));
    }
    if wanted(Scope::Constraint) {
        let profile = |r: &Relationship| r.source == Source::Profile;
        let counted = count_orphans(reader, plan, options, profile).await?;
        remedies.extend(constraint_remedies(plan, counted));
    }
    Ok(remedies)
}

/// The tables whose rows a remedy changes (its own and its rules').
pub(crate) fn changed_tables(plan: &Plan, remedy: &Remedy) -> Vec<TableName> {
    let mut tables: Vec<TableName> = Vec::new();
    let mut add = |t: &TableName| {
        if !tables.contains(t) {
            tables.push(t.clone());
        }
    };
    for step in &remedy.steps {
        add(step.selection.table());
    }
    for effect in &remedy.effects {
        add(&plan.relationships[effect.relationship].child);
    }
    tables
}

fn effects(found: &Consequences) -> Vec<Effect> {
    let mut out: Vec<Effect> = Vec::new();
    for affected in found.cascaded.iter().chain(&found.nulled) {
        match out
            .iter_mut()
            .find(|e| e.relationship == affected.relationship && e.rule == affected.rule)
        {
            Some(e) => e.count += affected.rows.len() as u64,
            None => out.push(Effect {
                relationship: affected.relationship,
                rule: affected.rule,
                count: affected.rows.len() as u64,
            }),
        }
    }
    out
}

fn blocking_reason(plan: &Plan, blocking: &[(usize, u64)]) -> Option<String> {
    let (ri, n) = blocking.first()?;
    let r = &plan.relationships[*ri];
    let rule = r
        .constraint
        .as_ref()
        .map_or(ReferentialAction::NoAction, |c| c.on_delete);
    let name = r
        .constraint
        .as_ref()
        .map_or(String::new(), |c| format!(" {}", c.name));
    Some(format!(
        "{} of {} reference them through{name} (ON DELETE {}): the database would refuse; nothing will change until those rows are dealt with",
        crate::wording::plural(*n, "row"),
        plan.label(&r.child),
        rule.as_str().replace('_', " ").to_uppercase()
    ))
}

/// The rows one step changes, as read in one transaction.
pub(crate) struct StepRows {
    pub shape: rows::Shape,
    pub rows: Vec<Row>,
    /// A tenant copy's new value per row.
    pub new_values: Vec<Cell>,
}

pub(crate) struct RemedyRows {
    pub steps: Vec<StepRows>,
    pub consequences: Consequences,
}

/// Reads, in order, the rows each active remedy changes and what the rules
/// do in turn. A row an earlier remedy changes is left out of later ones.
/// With `reading.lock`, every row that will change is locked, and a target row
/// that differs from its snapshot image is drift.
pub(crate) async fn consequences(
    tx: &mut Transaction,
    plan: &Plan,
    remedies: &[Remedy],
    active: &[usize],
    reading: &Reading,
) -> Result<Vec<RemedyRows>, (usize, FixError)> {
    let mut shapes = Shapes::default();
    let mut seen = Seen::default();
    let mut out = Vec::new();
    for (k, &i) in active.iter().enumerate() {
        let found = remedy_rows(tx, plan, &remedies[i], &mut shapes, &mut seen, reading)
            .await
            .map_err(|e| (k, e))?;
        out.push(found);
    }
    Ok(out)
}

/// The rows one remedy changes and what the rules do in turn.
async fn remedy_rows(
    tx: &mut Transaction,
    plan: &Plan,
    remedy: &Remedy,
    shapes: &mut Shapes,
    seen: &mut Seen,
    reading: &Reading,
) -> Result<RemedyRows, FixError> {
    let mut found = RemedyRows {
        steps: Vec::new(),
        consequences: Consequences::default(),
    };
    for step in &remedy.steps {
        let table = step.selection.table();
        let shape = shapes.keyed(plan, table)?.clone();
        let (rows, new_values) = step_rows(tx, plan, &shape, step, seen, reading).await?;
        let keys: Vec<Row> = rows.iter().map(|r| shape.key_of(r)).collect();
        match &step.change {
            Change::Delete => {
                seen.deleted.entry(table.clone()).or_default().extend(keys);
                let more =
                    walk::deletes(tx, plan, shapes, seen, table, rows.clone(), reading).await?;
                merge(&mut found.consequences, more);
            }
            change => {
                seen.updated.entry(table.clone()).or_default().extend(keys);
                let blocking =
                    walk::updates(tx, plan, shapes, table, &rows, &change.columns(), reading)
                        .await?;
                found.consequences.blocking.extend(blocking);
            }
        }
        found.steps.push(StepRows {
            shape,
            rows,
            new_values,
        });
    }
    Ok(found)
}

fn merge(into: &mut Consequences, more: Consequences) {
    into.cascaded.extend(more.cascaded);
    into.nulled.extend(more.nulled);
    into.blocking.extend(more.blocking);
    for (ri, n) in more.orphaned {
        match into.orphaned.iter_mut().find(|(r, _)| *r == ri) {
            Some((_, m)) => *m += n,
            None => into.orphaned.push((ri, n)),
        }
    }
}

/// The rows of one step: read from the snapshot, without those an earlier
/// remedy changes; with `lock`, then locked by key and compared.
async fn step_rows(
    tx: &mut Transaction,
    plan: &Plan,
    shape: &rows::Shape,
    step: &Step,
    seen: &Seen,
    reading: &Reading,
) -> Result<(Vec<Row>, Vec<Cell>), FixError> {
    let engine = plan.engine;
    let table = step.selection.table();
    let parent_column = match &step.change {
        Change::CopyTenant(column) => match &step.selection {
            Selection::Tenant { first, .. } => plan
                .schema
                .table(&first.parent)
                .and_then(|t| t.column(column))
                .cloned(),
            _ => None,
        },
        _ => None,
    };
    let (sql, kinds) = statements::rows(
        engine,
        &step.selection,
        &shape.columns,
        parent_column.as_ref(),
    );
    let what = format!("reading the rows of {}", plan.label(table));
    let mut rows = rows::fetch(tx, &sql, &[], &kinds, &what).await?;
    // A row an earlier remedy deletes is left out; one it updates is left out
    // of a delete (whose check would not find it) but not of another update
    // (of other columns: every pre-image is read before the first change).
    rows.retain(|r| {
        let key = shape.key_of(r);
        match step.change {
            Change::Delete => !seen.touched(table, &key),
            _ => !seen.is_deleted(table, &key),
        }
    });
    let mut new_values = Vec::new();
    if parent_column.is_some() {
        for row in &mut rows {
            new_values.push(row.pop().unwrap_or(Cell::Null));
        }
    }
    if reading.lock {
        let keys: Vec<Row> = rows.iter().map(|r| shape.key_of(r)).collect();
        let locked = rows::by_key(
            tx,
            engine,
            shape,
            &keys,
            true,
            reading.batch,
            &format!("locking the rows of {}", plan.label(table)),
        )
        .await?;
        let mut now: std::collections::HashMap<Row, Row> =
            locked.into_iter().map(|r| (shape.key_of(&r), r)).collect();
        for row in &rows {
            match now.remove(&shape.key_of(row)) {
                Some(current) if current == *row => {}
                _ => {
                    return Err(FixError::Drift(format!(
                        "a row of {} changed while it was being locked",
                        plan.label(table)
                    )));
                }
            }
        }
    }
    Ok((rows, new_values))
}

/// The orphan remedies of `counted`: withheld where not countable, none where there are none.
fn orphan_remedies(plan: &Plan, options: &FixOptions, counted: Vec<Counted<'_>>) -> Vec<Remedy> {
    let mut remedies = Vec::new();
    for c in counted {
        let label = c.relationship.label(&plan.schema).arrow();
        match c.orphans {
            Err(reason) => {
                let mut remedy =
                    Remedy::new(CheckId::Orphans, Some(RelationshipId::at(c.index)), label);
                remedy.withheld = Some(reason);
                remedies.push(remedy);
            }
            Ok(0) => {}
            Ok(n) => {
                let orphans = orphans_of(c.relationship);
                remedies.push(orphan_remedy(plan, options, c.index, label, orphans, n));
            }
        }
    }
    remedies
}

/// The remedy for the `n` orphan rows of relationship `ri` (`orphans`):
/// delete them, set their reference to NULL, or leave them for a person.
fn orphan_remedy(
    plan: &Plan,
    options: &FixOptions,
    ri: usize,
    label: String,
    orphans: Selection,
    n: u64,
) -> Remedy {
    let r = &plan.relationships[ri];
    let mut remedy = Remedy::new(
        CheckId::Orphans,
        Some(RelationshipId::at(ri)),
        label.clone(),
    );
    if r.source == Source::Implied {
        remedy.undecided = Some((
            n,
            "this relationship is implied (a guess from column names): tether never deletes or unlinks rows for it; declare it in a profile first".into(),
        ));
        return remedy;
    }
    let intended = r
        .expected_on_delete
        .or(r.constraint.as_ref().map(|c| c.on_delete));
    let action = match (intended, options.action) {
        (_, Some(chosen)) => Some(chosen),
        (Some(ReferentialAction::Cascade), None) => Some(OrphanAction::Delete),
        (Some(ReferentialAction::SetNull), None) => Some(OrphanAction::SetNull),
        _ => None,
    };
    match action {
        None => {
            remedy.undecided = Some((
                n,
                format!(
                    "the intended delete rule ({}) implies neither deleting nor unlinking: choose --action delete or --action set-null",
                    intended.map_or("none", |a| a.as_str())
                ),
            ));
        }
        Some(OrphanAction::SetNull) => match not_null_reference(plan, r) {
            Some(column) => {
                remedy.undecided = Some((
                    n,
                    format!("cannot set NOT NULL column {column} to NULL: use --action delete"),
                ));
            }
            None => {
                remedy.what = format!(
                    "{label}: set the reference of {} to NULL",
                    crate::wording::plural(n, "orphan row")
                );
                remedy.steps.push(Step {
                    sql: statements::set_null_where(plan.engine, &orphans, &r.child_columns),
                    selection: orphans,
                    change: Change::SetNull(r.child_columns.clone()),
                    count: n,
                });
            }
        },
        Some(OrphanAction::Delete) => {
            remedy.what = format!(
                "{label}: delete {}",
                crate::wording::plural(n, "orphan row")
            );
            remedy.steps.push(Step {
                sql: statements::delete_where(plan.engine, &orphans),
                selection: orphans,
                change: Change::Delete,
                count: n,
            });
        }
    }
    remedy
}

/// The first column of the relationship's reference that is NOT NULL (and
/// so cannot be unlinked).
fn not_null_reference<'r>(plan: &Plan, r: &'r Relationship) -> Option<&'r String> {
    let table = plan.schema.table(&r.child);
    r.child_columns
        .iter()
        .find(|c| table.and_then(|t| t.column(c)).is_some_and(|c| !c.nullable))
}

async fn tenant_remedies(
    reader: &mut Transaction,
    plan: &Plan,
    options: &FixOptions,
) -> Result<Vec<Remedy>, FixError> {
    let mut remedies = Vec::new();
    for (table, column) in tenant_pairs(plan) {
        let label = plan.label(&table);
        if options.only.is_some()
            || !matches_filter(&options.relationship, &label, std::slice::from_ref(&column))
        {
            continue;
        }
        let parents = tenant_parents(plan, &table, &column);
        let Some(((first_index, first), others)) = parents.split_first() else {
            continue;
        };
        let mut tables = vec![&table];
        tables.extend(parents.iter().map(|(_, r)| &r.parent));
        if let Some(reason) = unreadable(&plan.schema, &tables) {
            let mut remedy = Remedy::new(
                CheckId::TenantMismatch,
                Some(RelationshipId::at(*first_index)),
                format!("{label}.{column}"),
            );
            remedy.withheld = Some(reason);
            remedies.push(remedy);
            continue;
        }
        let tenant = TenantColumn {
            table: &table,
            column: &column,
            first_index: *first_index,
            first,
            others: others.iter().map(|(_, r)| *r).collect(),
        };
        let fixable = count(reader, plan, &tenant.selection(false)).await?;
        let ambiguous = count(reader, plan, &tenant.selection(true)).await?;
        if fixable + ambiguous == 0 {
            continue;
        }
        remedies.push(tenant.remedy(plan, &label, fixable, ambiguous));
    }
    Ok(remedies)
}

/// Each table and tenant column the plan checks, once, in the plan's order.
fn tenant_pairs(plan: &Plan) -> Vec<(TableName, String)> {
    let mut pairs: Vec<(TableName, String)> = Vec::new();
    for check in &plan.checks {
        let (Work::Rows(rows), CheckId::TenantMissing | CheckId::TenantMismatch) =
            (&check.work, check.id)
        else {
            continue;
        };
        let column = match &check.subject {
            Subject::Column { column, .. } | Subject::RelationshipColumn { column, .. } => {
                column.clone()
            }
            _ => continue,
        };
        if !pairs.contains(&(rows.table.clone(), column.clone())) {
            pairs.push((rows.table.clone(), column));
        }
    }
    pairs
}

/// The parents a table's tenant column may be copied from: only those the
/// database declares, unique on the parent side, with the column too; sorted
/// by parent and reference.
fn tenant_parents<'p>(
    plan: &'p Plan,
    table: &TableName,
    column: &str,
) -> Vec<(usize, &'p Relationship)> {
    let has = |t: &TableName| {
        plan.schema
            .table(t)
            .is_some_and(|t| t.column(column).is_some())
    };
    let mut parents: Vec<(usize, &Relationship)> = plan
        .relationships
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.child == *table
                && r.parent != *table
                && r.source != Source::Implied
                && has(&r.parent)
                && !r.child_columns.iter().any(|c| c == column)
        })
        .filter(|(_, r)| r.parent_unique && !r.types_differ)
        .collect();
    parents
        .sort_by(|a, b| (&a.1.parent, &a.1.child_columns).cmp(&(&b.1.parent, &b.1.child_columns)));
    parents
}

/// One table's tenant column and the declared parents it is copied from:
/// the first, and the others that must agree with it.
struct TenantColumn<'a> {
    table: &'a TableName,
    column: &'a String,
    first_index: usize,
    first: &'a Relationship,
    others: Vec<&'a Relationship>,
}

impl TenantColumn<'_> {
    /// The rows whose tenant column differs from their parents' (with
    /// `ambiguous`, those whose parents disagree among themselves).
    fn selection(&self, ambiguous: bool) -> Selection {
        Selection::Tenant {
            table: self.table.clone(),
            column: self.column.clone(),
            first: self.first.lookup(),
            others: self.others.iter().map(|r| r.lookup()).collect(),
            ambiguous,
        }
    }

    /// The remedy: copy the column from the first parent into the `fixable`
    /// rows; the `ambiguous` ones are left for a person.
    fn remedy(&self, plan: &Plan, label: &str, fixable: u64, ambiguous: u64) -> Remedy {
        let column = self.column;
        let mut remedy = Remedy::new(
            CheckId::TenantMismatch,
            Some(RelationshipId::at(self.first_index)),
            format!(
                "{label}.{column}: copy it from the parent row in {} for {}",
                plan.label(&self.first.parent),
                crate::wording::plural(fixable, "row")
            ),
        );
        if fixable > 0 {
            remedy.steps.push(Step {
                sql: statements::copy_where(plan.engine, &self.selection(false), column),
                selection: self.selection(false),
                change: Change::CopyTenant(column.clone()),
                count: fixable,
            });
        }
        remedy.undecided = (ambiguous > 0).then(|| {
            (
                ambiguous,
                format!("their parents disagree on {column}: a person must choose"),
            )
        });
        remedy
    }
}

fn index_remedies(plan: &Plan, options: &FixOptions) -> Vec<Remedy> {
    let mut remedies = Vec::new();
    for (ri, r) in chosen(plan, options) {
        if r.constraint.is_none() || r.indexed {
            continue;
        }
        let rows = plan
            .schema
            .table(&r.child)
            .and_then(|t| t.row_estimate)
            .unwrap_or(0)
            .max(0) as u64;
        let mut remedy = Remedy::new(
            CheckId::FkUnindexed,
            Some(RelationshipId::at(ri)),
            format!(
                "{}: index ({}) — reads about {} rows",
                r.label(&plan.schema).arrow(),
                r.child_columns.join(", "),
                crate::wording::thousands(rows)
            ),
        );
        remedy.ddl = vec![statements::create_index(
            plan.engine,
            &r.child,
            &r.child_columns,
        )];
        remedies.push(remedy);
    }
    remedies
}

/// The missing constraints of `counted`, each saying how many orphans must go first.
fn constraint_remedies(plan: &Plan, counted: Vec<Counted<'_>>) -> Vec<Remedy> {
    let mut remedies = Vec::new();
    for c in counted {
        let r = c.relationship;
        let orphans = match c.orphans {
            Err(_) => "its orphans (count withheld) must go first".to_string(),
            Ok(n) => format!("{} must go first", crate::wording::plural(n, "orphan")),
        };
        let rule = r.expected_on_delete.unwrap_or(ReferentialAction::NoAction);
        let mut remedy = Remedy::new(
            CheckId::FkMissing,
            Some(RelationshipId::at(c.index)),
            format!(
                "{}: add the constraint (validating it checks every row; {orphans})",
                r.label(&plan.schema).arrow()
            ),
        );
        remedy.ddl = statements::add_constraint(
            plan.engine,
            &r.child,
            &r.child_columns,
            &r.parent,
            &r.parent_columns,
            rule,
        );
        remedies.push(remedy);
    }
    remedies
}
