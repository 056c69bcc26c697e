//! What the database's own declared rules do when tether deletes or updates
//! rows, found row by row before anything is written: the rows a `CASCADE`
//! deletes (and, from them, further down), the rows a `SET NULL` or `SET
//! DEFAULT` updates, the rows a `RESTRICT` or `NO ACTION` would refuse, and
//! the rows of relationships the database does not enforce (profile-only,
//! implied, or unenforced constraints) that would be left referencing nothing.
//! Only declared, enforced constraints are followed; nothing else is.

use super::FixError;
use super::rows::{self, Row, Shape};
use crate::checks::plan::Plan;
use crate::db::Transaction;
use crate::model::{ReferentialAction, RelationshipId, TableName};
use std::collections::{HashMap, HashSet, VecDeque};

/// Shapes of the tables a walk meets, read once.
#[derive(Default)]
pub struct Shapes(HashMap<TableName, Result<Shape, String>>);

impl Shapes {
    /// The shape of a table with a key; Err names the table when it has none.
    pub fn keyed(&mut self, plan: &Plan, name: &TableName) -> Result<&Shape, FixError> {
        self.0
            .entry(name.clone())
            .or_insert_with(|| Shape::of(&plan.schema, name))
            .as_ref()
            .map_err(|e| FixError::Refused(e.clone()))
    }

    /// The shape of any table: without a usable key, every column names the row.
    pub fn any(&mut self, plan: &Plan, name: &TableName) -> Result<Shape, FixError> {
        if let Ok(shape) = self.keyed(plan, name) {
            return Ok(shape.clone());
        }
        let table = plan
            .schema
            .table(name)
            .ok_or_else(|| FixError::Refused(format!("{} no longer exists", plan.label(name))))?;
        Ok(Shape {
            name: name.clone(),
            columns: table.columns.clone(),
            key: (0..table.columns.len()).collect(),
        })
    }
}

/// Rows already deleted or updated by an earlier remedy of the same apply:
/// a later remedy leaves them out, in the preview as in the apply.
#[derive(Default)]
pub struct Seen {
    pub deleted: HashMap<TableName, HashSet<Row>>,
    pub updated: HashMap<TableName, HashSet<Row>>,
}

impl Seen {
    pub fn touched(&self, table: &TableName, key: &Row) -> bool {
        self.deleted.get(table).is_some_and(|s| s.contains(key))
            || self.updated.get(table).is_some_and(|s| s.contains(key))
    }

    pub fn is_deleted(&self, table: &TableName, key: &Row) -> bool {
        self.deleted.get(table).is_some_and(|s| s.contains(key))
    }
}

/// Rows one relationship's declared rule changes.
#[derive(Clone, Debug)]
pub struct Affected {
    pub relationship: RelationshipId,
    pub rule: ReferentialAction,
    /// The child table's shape: the rows' columns and key.
    pub shape: Shape,
    pub rows: Vec<Row>,
}

/// Everything a remedy's change sets off.
#[derive(Clone, Debug, Default)]
pub struct Consequences {
    /// Deleted by `ON DELETE CASCADE`, in the order found (parents first).
    pub cascaded: Vec<Affected>,
    /// Updated by `ON DELETE SET NULL` / `SET DEFAULT`.
    pub nulled: Vec<Affected>,
    /// Rows that would refuse the change (restrict, no action, or a key that
    /// an update would change), per relationship.
    pub blocking: Vec<(usize, u64)>,
    /// Rows of relationships the database does not enforce that would be left
    /// referencing rows that are gone, per relationship.
    pub orphaned: Vec<(RelationshipId, u64)>,
}

/// How a walk reads.
pub struct Reading {
    /// Lock what will change (`FOR UPDATE`): an apply does, a preview does not.
    pub lock: bool,
    pub batch: usize,
}

/// True when the engine applies this relationship's rules on a delete.
fn enforced(plan: &Plan, relationship: usize) -> Option<ReferentialAction> {
    plan.relationships[relationship]
        .constraint
        .as_ref()
        .filter(|c| c.enforced && c.triggers_enabled)
        .map(|c| c.on_delete)
}

/// Rows found referencing deleted rows whose fate waits until the whole
/// cascade is known: a delete further down may take them too.
#[derive(Default)]
struct Pending {
    /// Rows a `SET NULL` or `SET DEFAULT` rule updates.
    nulled: Vec<(usize, ReferentialAction, Shape, Vec<Row>)>,
    /// Rows that would refuse the delete (restrict, no action).
    blocking: Vec<(usize, Shape, Vec<Row>)>,
    /// Rows of relationships the database does not enforce.
    orphaned: Vec<(usize, Shape, Vec<Row>)>,
}

/// The consequences of deleting `rows` of `table` (already known to `seen`).
pub async fn deletes(
    tx: &mut Transaction,
    plan: &Plan,
    shapes: &mut Shapes,
    seen: &mut Seen,
    table: &TableName,
    rows: Vec<Row>,
    reading: &Reading,
) -> Result<Consequences, FixError> {
    let mut out = Consequences::default();
    let mut pending = Pending::default();
    let mut queue: VecDeque<(TableName, Vec<Row>)> = VecDeque::from([(table.clone(), rows)]);
    while let Some((parent, rows)) = queue.pop_front() {
        let parent_shape = shapes.keyed(plan, &parent)?.clone();
        for ri in children_of(plan, &parent) {
            let rule = enforced(plan, ri);
            let lock = reading.lock
                && matches!(
                    rule,
                    Some(
                        ReferentialAction::Cascade
                            | ReferentialAction::SetNull
                            | ReferentialAction::SetDefault
                    )
                );
            let Some(found) =
                referencing(tx, plan, shapes, ri, &parent_shape, &rows, lock, reading).await?
            else {
                continue;
            };
            if let Some(affected) = pending.sort(plan, shapes, seen, ri, rule, found)? {
                let child = plan.relationships[ri].child.clone();
                queue.push_back((child, affected.rows.clone()));
                out.cascaded.push(affected);
            }
        }
    }
    pending.settle(seen, &mut out);
    Ok(out)
}

/// The relationships whose parent is `parent`, by index.
fn children_of(plan: &Plan, parent: &TableName) -> Vec<usize> {
    plan.relationships
        .iter()
        .enumerate()
        .filter(|(_, r)| r.parent == *parent)
        .map(|(i, _)| i)
        .collect()
}

impl Pending {
    /// Files the rows of relationship `ri` that reference deleted rows by what
    /// its enforced `rule` does to them. Rows a cascade deletes are new to
    /// `seen` and returned, to be followed further down.
    fn sort(
        &mut self,
        plan: &Plan,
        shapes: &mut Shapes,
        seen: &mut Seen,
        ri: usize,
        rule: Option<ReferentialAction>,
        (child_shape, found): (Shape, Vec<Row>),
    ) -> Result<Option<Affected>, FixError> {
        let r = &plan.relationships[ri];
        match rule {
            Some(ReferentialAction::Cascade) => {
                let child_shape = shapes.keyed(plan, &r.child)?.clone();
                let deleted = seen.deleted.entry(r.child.clone()).or_default();
                let fresh: Vec<Row> = found
                    .into_iter()
                    .filter(|row| deleted.insert(child_shape.key_of(row)))
                    .collect();
                return Ok((!fresh.is_empty()).then_some(Affected {
                    relationship: RelationshipId::at(ri),
                    rule: ReferentialAction::Cascade,
                    shape: child_shape,
                    rows: fresh,
                }));
            }
            Some(rule @ (ReferentialAction::SetNull | ReferentialAction::SetDefault)) => {
                let child_shape = shapes.keyed(plan, &r.child)?.clone();
                self.nulled.push((ri, rule, child_shape, found));
            }
            Some(ReferentialAction::Restrict | ReferentialAction::NoAction) => {
                self.blocking.push((ri, child_shape, found));
            }
            None => self.orphaned.push((ri, child_shape, found)),
        }
        Ok(None)
    }

    /// Adds the waiting rows to `out` once the whole cascade is known: a row
    /// that a rule would null or that would refuse the delete is no matter
    /// when the delete takes it too.
    fn settle(self, seen: &mut Seen, out: &mut Consequences) {
        for (ri, rule, shape, found) in self.nulled {
            let rows = alive(seen, &shape, found);
            if !rows.is_empty() {
                let updated = seen.updated.entry(shape.name.clone()).or_default();
                for row in &rows {
                    updated.insert(shape.key_of(row));
                }
                out.nulled.push(Affected {
                    relationship: RelationshipId::at(ri),
                    rule,
                    shape,
                    rows,
                });
            }
        }
        for (ri, shape, found) in self.blocking {
            let n = alive(seen, &shape, found).len() as u64;
            if n > 0 {
                out.blocking.push((ri, n));
            }
        }
        for (ri, shape, found) in self.orphaned {
            let n = alive(seen, &shape, found).len() as u64;
            if n > 0 {
                out.orphaned.push((RelationshipId::at(ri), n));
            }
        }
    }
}

/// The rows a delete does not take.
fn alive(seen: &Seen, shape: &Shape, rows: Vec<Row>) -> Vec<Row> {
    rows.into_iter()
        .filter(|row| !seen.is_deleted(&shape.name, &shape.key_of(row)))
        .collect()
}

/// The rows that would refuse an update of `changed` columns of `rows`: rows
/// of declared relationships that reference those columns (tether does not
/// change a key others reference).
pub async fn updates(
    tx: &mut Transaction,
    plan: &Plan,
    shapes: &mut Shapes,
    table: &TableName,
    rows: &[Row],
    changed: &[String],
    reading: &Reading,
) -> Result<Vec<(usize, u64)>, FixError> {
    let shape = shapes.keyed(plan, table)?.clone();
    let mut blocking = Vec::new();
    for (ri, r) in plan.relationships.iter().enumerate() {
        if r.parent != *table
            || r.constraint.is_none()
            || !r.parent_columns.iter().any(|c| changed.contains(c))
        {
            continue;
        }
        let Some((_, found)) =
            referencing(tx, plan, shapes, ri, &shape, rows, false, reading).await?
        else {
            continue;
        };
        if !found.is_empty() {
            blocking.push((ri, found.len() as u64));
        }
    }
    Ok(blocking)
}

/// The rows of relationship `ri`'s child that reference `rows` of its parent
/// (`parent` is the parent's shape), with the child's shape; None when there
/// are none. With `lock`, they are locked for update.
#[allow(clippy::too_many_arguments)]
async fn referencing(
    tx: &mut Transaction,
    plan: &Plan,
    shapes: &mut Shapes,
    ri: usize,
    parent: &Shape,
    rows: &[Row],
    lock: bool,
    reading: &Reading,
) -> Result<Option<(Shape, Vec<Row>)>, FixError> {
    let r = &plan.relationships[ri];
    let Some(parent_positions) = positions(parent, &r.parent_columns) else {
        return Ok(None);
    };
    // Rows the role cannot read cannot be listed, backed up or counted.
    if let Some(reason) = crate::checks::plan::unreadable(&plan.schema, &[&r.child]) {
        return Err(FixError::Refused(format!(
            "what this changes reaches {}, but {reason}",
            plan.label(&r.child)
        )));
    }
    let tuples = rows::tuples_of(rows, &parent_positions);
    if tuples.is_empty() {
        return Ok(None);
    }
    let child = shapes.any(plan, &r.child)?;
    let Some(child_positions) = positions(&child, &r.child_columns) else {
        return Ok(None);
    };
    let what = format!(
        "reading the rows of {} that reference them",
        plan.label(&r.child)
    );
    let found = rows::matching(
        tx,
        plan.engine,
        &child,
        &child_positions,
        &tuples,
        r.lookup().as_text,
        lock,
        reading.batch,
        &what,
    )
    .await?;
    Ok((!found.is_empty()).then_some((child, found)))
}

/// Positions of `columns` in `shape`, or None when one is missing.
pub fn positions(shape: &Shape, columns: &[String]) -> Option<Vec<usize>> {
    columns.iter().map(|c| shape.position(c)).collect()
}
