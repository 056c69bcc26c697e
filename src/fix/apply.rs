//! Applying remedies: one transaction that re-reads and locks exactly the rows
//! the preview counted, aborts on any difference, backs them up, changes them,
//! checks the database did what its declared rules say, and commits only on
//! confirmation. Any error rolls the whole transaction back.

use super::backup::{
    self, AfterImage, BackupColumn, BackupRow, BackupTable, Cause, Line, RowAction,
};
use super::rows::{self, Row, Shape};
use super::walk::Reading;
use super::{Change, FixError, Remedy, RemedyRows, effects};
use crate::cell::Cell;
use crate::checks::plan::Plan;
use crate::db::{Db, Transaction};
use crate::model::{Engine, ReferentialAction, TableName};
use crate::sql::fix as statements;
use std::path::PathBuf;

pub struct ApplyOptions {
    pub backup_dir: PathBuf,
    pub batch_size: usize,
}

/// What an apply did.
#[derive(Debug)]
pub struct Applied {
    pub backup: PathBuf,
    /// Rows the transaction changed: tether's and the declared rules'.
    pub rows: u64,
    pub committed: bool,
}

/// Applies the remedies' data changes in one transaction and commits only
/// when `confirm` (given the number of rows changed) says so. Nothing is
/// committed on any error.
pub async fn apply(
    db: &Db,
    plan: &Plan,
    remedies: &[Remedy],
    options: &ApplyOptions,
    confirm: impl FnOnce(u64) -> bool,
) -> Result<Applied, FixError> {
    let mut tx = db
        .writable()
        .await
        .map_err(|e| FixError::database("opening a write transaction", &e))?;
    let mut backup: Option<backup::Writer> = None;
    let result = run(&mut tx, db, plan, remedies, options, &mut backup).await;
    let changed = match result {
        Ok(changed) => changed,
        Err(e) => {
            let _ = tx.rollback().await;
            return Err(end(backup, false, e.rolled_back("nothing was applied")));
        }
    };
    let path = backup.as_ref().map(|b| b.path.clone()).unwrap_or_default();
    if !confirm(changed) {
        let rolled_back = tx.rollback().await;
        finish(&mut backup, false);
        rolled_back.map_err(|e| FixError::database("rolling back", &e))?;
        return Ok(Applied {
            backup: path,
            rows: changed,
            committed: false,
        });
    }
    match tx.finish().await {
        Ok(()) => {
            finish(&mut backup, true);
            Ok(Applied {
                backup: path,
                rows: changed,
                committed: true,
            })
        }
        Err(e) => Err(end(
            backup,
            false,
            FixError::database("committing", &e).rolled_back("nothing was applied"),
        )),
    }
}

/// Records the outcome at the end of the backup (best effort: the database is
/// what it is either way).
fn finish(backup: &mut Option<backup::Writer>, committed: bool) {
    if let Some(b) = backup {
        let _ = b.line(&Line::End { committed });
        let _ = b.sync();
    }
}

fn end(mut backup: Option<backup::Writer>, committed: bool, error: FixError) -> FixError {
    finish(&mut backup, committed);
    error
}

/// The active remedies (those with steps) and the rows read for each, in the
/// order they run.
struct Locked<'a> {
    plan: &'a Plan,
    remedies: &'a [Remedy],
    active: &'a [usize],
    found: &'a [RemedyRows],
}

impl<'a> Locked<'a> {
    /// Each active remedy with its rows.
    fn each(&self) -> impl Iterator<Item = (&'a Remedy, &'a RemedyRows)> + '_ {
        self.active
            .iter()
            .map(|&i| &self.remedies[i])
            .zip(self.found)
    }
}

/// Everything an apply does inside its transaction, short of the commit:
/// lock and compare, back up, change, verify, record the post-images.
async fn run(
    tx: &mut Transaction,
    db: &Db,
    plan: &Plan,
    remedies: &[Remedy],
    options: &ApplyOptions,
    backup: &mut Option<backup::Writer>,
) -> Result<u64, FixError> {
    prepare_session(tx, db, plan.engine).await?;
    let active: Vec<usize> = (0..remedies.len())
        .filter(|&i| !remedies[i].steps.is_empty())
        .collect();
    let tables = tables_changed(plan, remedies, &active);
    crate::writes::refuse_non_transactional(tx, &plan.schema, &tables)
        .await
        .map_err(FixError::Refused)?;
    let reading = Reading {
        lock: true,
        batch: options.batch_size.max(1),
    };
    let found = super::consequences(tx, plan, remedies, &active, &reading)
        .await
        .map_err(|(_, e)| e)?;
    let locked = Locked {
        plan,
        remedies,
        active: &active,
        found: &found,
    };
    for (remedy, rows) in locked.each() {
        same_as_preview(plan, remedy, rows)?;
    }
    // Back up every row the transaction will change, before the first change.
    *backup = Some(back_up(db, &locked, &options.backup_dir)?);
    // Change exactly those rows; the rules do the rest.
    let changed = change_rows(tx, &locked, reading.batch).await?;
    // The database did what its rules say.
    for (remedy, rows) in locked.each() {
        verify(tx, plan, remedy, rows, reading.batch).await?;
    }
    // The post-image of every updated row, for restore to recognise it.
    let after = post_images(tx, &locked, reading.batch).await?;
    if let Some(writer) = backup.as_mut() {
        for a in after {
            writer
                .line(&Line::After { after: a })
                .map_err(FixError::Refused)?;
        }
        writer.sync().map_err(FixError::Refused)?;
    }
    Ok(changed)
}

/// Refuses a read-only session, and makes deferred constraints (PostgreSQL)
/// object at once rather than at the commit.
async fn prepare_session(tx: &mut Transaction, db: &Db, engine: Engine) -> Result<(), FixError> {
    if tx
        .read_only()
        .await
        .map_err(|e| FixError::database("checking the session", &e))?
    {
        return Err(FixError::Refused(format!(
            "{} is read-only: fix --apply needs a session that may write",
            db.target
        )));
    }
    if engine == Engine::Postgres {
        // Deferred constraints would object only at the commit: object now.
        tx.execute_fixed("SET CONSTRAINTS ALL IMMEDIATE")
            .await
            .map_err(|e| FixError::database("SET CONSTRAINTS ALL IMMEDIATE", &e))?;
    }
    Ok(())
}

/// The tables whose rows the active remedies change, each once, in order.
fn tables_changed(plan: &Plan, remedies: &[Remedy], active: &[usize]) -> Vec<TableName> {
    let mut tables: Vec<TableName> = Vec::new();
    for &i in active {
        for t in super::changed_tables(plan, &remedies[i]) {
            if !tables.contains(&t) {
                tables.push(t);
            }
        }
    }
    tables
}

/// Writes the backup of every row the transaction will change (header, then
/// each remedy's pre-images) and syncs it to disk.
fn back_up(
    db: &Db,
    locked: &Locked<'_>,
    dir: &std::path::Path,
) -> Result<backup::Writer, FixError> {
    let mut writer = backup::Writer::create(dir).map_err(FixError::Refused)?;
    let header = header(db, locked.plan, locked.found);
    writer
        .line(&Line::Header(header))
        .map_err(FixError::Refused)?;
    for (remedy, rows) in locked.each() {
        for line in pre_images(locked.plan, remedy, rows) {
            writer.line(&Line::Row(line)).map_err(FixError::Refused)?;
        }
    }
    writer.sync().map_err(FixError::Refused)?;
    Ok(writer)
}

/// Runs tether's own changes of every active remedy, in order; returns the
/// number of rows the transaction changed (tether's and the rules'), each
/// counted once.
async fn change_rows(
    tx: &mut Transaction,
    locked: &Locked<'_>,
    batch: usize,
) -> Result<u64, FixError> {
    let mut distinct: std::collections::HashSet<(TableName, Row)> = Default::default();
    for (remedy, rows) in locked.each() {
        for (step, step_rows) in remedy.steps.iter().zip(&rows.steps) {
            change(tx, locked.plan, &step.change, step_rows, batch).await?;
            distinct.extend(table_keys(&step_rows.shape, &step_rows.rows));
        }
        for affected in rows
            .consequences
            .cascaded
            .iter()
            .chain(&rows.consequences.nulled)
        {
            distinct.extend(table_keys(&affected.shape, &affected.rows));
        }
    }
    Ok(distinct.len() as u64)
}

/// Each of `rows` (of `shape`'s table) by its table and key.
fn table_keys<'a>(
    shape: &'a Shape,
    rows: &'a [Row],
) -> impl Iterator<Item = (TableName, Row)> + 'a {
    rows.iter().map(|r| (shape.name.clone(), shape.key_of(r)))
}

/// Every updated row as the transaction left it, read back by key.
async fn post_images(
    tx: &mut Transaction,
    locked: &Locked<'_>,
    batch: usize,
) -> Result<Vec<AfterImage>, FixError> {
    let plan = locked.plan;
    let mut after = Vec::new();
    for (remedy, rows) in locked.each() {
        for (shape, updated) in updated_rows(remedy, rows) {
            let keys: Vec<Row> = updated.iter().map(|r| shape.key_of(r)).collect();
            let now = rows::by_key(
                tx,
                plan.engine,
                &shape,
                &keys,
                false,
                batch,
                &format!("reading back {}", plan.label(&shape.name)),
            )
            .await?;
            for row in now {
                after.push(AfterImage {
                    schema: shape.name.schema.clone(),
                    table: shape.name.name.clone(),
                    row: backup::to_object(&shape.columns, &row),
                });
            }
        }
    }
    Ok(after)
}

/// The counts read under lock must be the preview's.
fn same_as_preview(plan: &Plan, remedy: &Remedy, rows: &RemedyRows) -> Result<(), FixError> {
    for (step, found) in remedy.steps.iter().zip(&rows.steps) {
        let now = found.rows.len() as u64;
        if now != step.count {
            return Err(FixError::Drift(format!(
                "{} now has {now} rows to change where the preview counted {}",
                plan.label(step.selection.table()),
                step.count
            )));
        }
    }
    if let Some(why) = super::blocking_reason(plan, &rows.consequences.blocking) {
        return Err(FixError::Drift(why));
    }
    let now = effects(&rows.consequences);
    if now != remedy.effects {
        return Err(FixError::Drift(format!(
            "what the declared rules change differs from the preview ({}: {} rows now, {} then)",
            remedy.what,
            now.iter().map(|e| e.count).sum::<u64>(),
            remedy.effects.iter().map(|e| e.count).sum::<u64>()
        )));
    }
    if rows.consequences.orphaned != remedy.orphaned {
        return Err(FixError::Drift(format!(
            "{}: the rows of undeclared relationships that reference them changed",
            remedy.what
        )));
    }
    Ok(())
}

fn header(db: &Db, plan: &Plan, found: &[RemedyRows]) -> backup::Header {
    let mut shapes: Vec<Shape> = Vec::new();
    for rows in found {
        let affected = rows
            .consequences
            .cascaded
            .iter()
            .chain(&rows.consequences.nulled)
            .map(|a| a.shape.clone());
        for shape in rows.steps.iter().map(|s| s.shape.clone()).chain(affected) {
            if !shapes.iter().any(|s| s.name == shape.name) {
                shapes.push(shape);
            }
        }
    }
    backup::Header {
        tether_backup: backup::FORMAT,
        engine: plan.engine.name().to_string(),
        database: db.target.to_string(),
        created: crate::clock::rfc3339(std::time::SystemTime::now()),
        tables: shapes
            .iter()
            .map(|s| BackupTable {
                schema: s.name.schema.clone(),
                name: s.name.name.clone(),
                key: s.key_columns().iter().map(|c| c.name.clone()).collect(),
                columns: s.columns.iter().map(BackupColumn::of).collect(),
            })
            .collect(),
    }
}

/// The backup lines of one remedy: deleted rows parents first (tether's, then
/// each cascade level), then updated rows.
fn pre_images(plan: &Plan, remedy: &Remedy, rows: &RemedyRows) -> Vec<BackupRow> {
    let line = |shape: &Shape,
                action,
                cause,
                constraint: Option<String>,
                changed: Vec<String>,
                row: &Row| BackupRow {
        schema: shape.name.schema.clone(),
        table: shape.name.name.clone(),
        action,
        cause,
        constraint,
        changed,
        row: backup::to_object(&shape.columns, row),
    };
    let mut deleted = Vec::new();
    let mut updated = Vec::new();
    for (step, found) in remedy.steps.iter().zip(&rows.steps) {
        for row in &found.rows {
            match &step.change {
                Change::Delete => deleted.push(line(
                    &found.shape,
                    RowAction::Delete,
                    Cause::Fix,
                    None,
                    Vec::new(),
                    row,
                )),
                change => updated.push(line(
                    &found.shape,
                    RowAction::Update,
                    Cause::Fix,
                    None,
                    change.columns(),
                    row,
                )),
            }
        }
    }
    for affected in &rows.consequences.cascaded {
        let r = &plan.relationships[affected.relationship];
        let shape = &affected.shape;
        let name = r.constraint.as_ref().map(|c| c.name.clone());
        for row in &affected.rows {
            deleted.push(line(
                shape,
                RowAction::Delete,
                Cause::Cascade,
                name.clone(),
                Vec::new(),
                row,
            ));
        }
    }
    for affected in &rows.consequences.nulled {
        let r = &plan.relationships[affected.relationship];
        let shape = &affected.shape;
        let name = r.constraint.as_ref().map(|c| c.name.clone());
        let cause = if affected.rule == ReferentialAction::SetDefault {
            Cause::SetDefault
        } else {
            Cause::SetNull
        };
        for row in &affected.rows {
            updated.push(line(
                shape,
                RowAction::Update,
                cause,
                name.clone(),
                r.child_columns.clone(),
                row,
            ));
        }
    }
    deleted.extend(updated);
    deleted
}

/// Runs tether's own change of one step, by key, in batches; every statement
/// must change exactly the rows it names.
async fn change(
    tx: &mut Transaction,
    plan: &Plan,
    change: &Change,
    step: &super::StepRows,
    batch: usize,
) -> Result<(), FixError> {
    let engine = plan.engine;
    let shape = &step.shape;
    let key = shape.key_columns();
    let what = format!("changing the rows of {}", plan.label(&shape.name));
    let width = key.len()
        * if matches!(change, Change::CopyTenant(_)) {
            3
        } else {
            1
        };
    let per = rows::per_statement(width, batch);
    for (n, chunk) in step.rows.chunks(per).enumerate() {
        let keys: Vec<Row> = chunk.iter().map(|r| shape.key_of(r)).collect();
        let (sql, binds) = match change {
            Change::Delete => (
                statements::delete_rows(engine, &shape.name, &key, chunk.len()),
                keys.concat(),
            ),
            Change::SetNull(columns) => (
                statements::null_rows(engine, &shape.name, columns, &key, chunk.len()),
                keys.concat(),
            ),
            Change::CopyTenant(column) => {
                let target = shape
                    .position(column)
                    .map(|i| &shape.columns[i])
                    .ok_or_else(|| {
                        FixError::Refused(format!(
                            "{} has no column {column}",
                            plan.label(&shape.name)
                        ))
                    })?;
                let values = &step.new_values[n * per..n * per + chunk.len()];
                let mut binds: Vec<Cell> = Vec::new();
                for (k, v) in keys.iter().zip(values) {
                    binds.extend(k.iter().cloned());
                    binds.push(v.clone());
                }
                binds.extend(keys.concat());
                (
                    statements::set_each(engine, &shape.name, &[target], &key, chunk.len()),
                    binds,
                )
            }
        };
        let done = tx
            .execute_with(&sql, &binds)
            .await
            .map_err(|e| FixError::database(&what, &e))?;
        if done != chunk.len() as u64 {
            return Err(FixError::Drift(format!(
                "{what}: {done} rows changed where {} were named",
                chunk.len()
            )));
        }
    }
    Ok(())
}

/// Checks, inside the transaction, that every row is as the preview said it
/// would be: deleted rows gone, unlinked references NULL, copied values set.
async fn verify(
    tx: &mut Transaction,
    plan: &Plan,
    remedy: &Remedy,
    rows: &RemedyRows,
    batch: usize,
) -> Result<(), FixError> {
    let engine = plan.engine;
    for (step, found) in remedy.steps.iter().zip(&rows.steps) {
        let shape = &found.shape;
        let now = rows_now(tx, engine, shape, &found.rows, batch).await?;
        if let Some(what) = step_left_undone(&step.change, found, found.rows.len(), &now) {
            return Err(wrong(plan, &shape.name, what));
        }
    }
    for affected in rows
        .consequences
        .cascaded
        .iter()
        .chain(&rows.consequences.nulled)
    {
        let r = &plan.relationships[affected.relationship];
        let shape = &affected.shape;
        let now = rows_now(tx, engine, shape, &affected.rows, batch).await?;
        let at = super::walk::positions(shape, &r.child_columns).unwrap_or_default();
        if let Some(what) = rule_left_undone(affected, &at, &now) {
            return Err(wrong(plan, &shape.name, what));
        }
    }
    Ok(())
}

/// The rows of `shape` at the keys of `rows`, as the transaction sees them now.
async fn rows_now(
    tx: &mut Transaction,
    engine: Engine,
    shape: &Shape,
    rows: &[Row],
    batch: usize,
) -> Result<Vec<Row>, FixError> {
    let keys: Vec<Row> = rows.iter().map(|r| shape.key_of(r)).collect();
    rows::by_key(
        tx,
        engine,
        shape,
        &keys,
        false,
        batch,
        "checking the change",
    )
    .await
}

/// A table's rows are not as its declared rules say they should be.
fn wrong(plan: &Plan, table: &TableName, what: &str) -> FixError {
    FixError::Drift(format!(
        "{}: {what}, unlike what its declared rules say",
        plan.label(table)
    ))
}

/// What tether's own change of one step left undone, judged by the rows of
/// its `expected` keys as they are `now`; None when it is all done.
fn step_left_undone(
    change: &Change,
    found: &super::StepRows,
    expected: usize,
    now: &[Row],
) -> Option<&'static str> {
    let shape = &found.shape;
    match change {
        Change::Delete if !now.is_empty() => Some("deleted rows are still there"),
        Change::SetNull(columns) => {
            let at = super::walk::positions(shape, columns).unwrap_or_default();
            (now.len() != expected || now.iter().any(|r| at.iter().any(|&i| !r[i].is_null())))
                .then_some("references were not all set to NULL")
        }
        Change::CopyTenant(column) => {
            let at = shape.position(column).unwrap_or_default();
            let wanted: std::collections::HashMap<Row, &Cell> = found
                .rows
                .iter()
                .zip(&found.new_values)
                .map(|(r, v)| (shape.key_of(r), v))
                .collect();
            (now.len() != expected
                || now
                    .iter()
                    .any(|r| wanted.get(&shape.key_of(r)).is_none_or(|v| **v != r[at])))
            .then_some("copied values were not all set")
        }
        Change::Delete => None,
    }
}

/// What a declared rule left undone, judged by its rows as they are `now`
/// (`at`: the positions of the child columns); None when it is all done.
fn rule_left_undone(
    affected: &super::walk::Affected,
    at: &[usize],
    now: &[Row],
) -> Option<&'static str> {
    let shape = &affected.shape;
    match affected.rule {
        ReferentialAction::Cascade if !now.is_empty() => {
            Some("rows its cascade should delete are still there")
        }
        ReferentialAction::SetNull
            if now.iter().any(|row| at.iter().any(|&i| !row[i].is_null())) =>
        {
            Some("references it should set to NULL are not NULL")
        }
        ReferentialAction::SetDefault => {
            let before: std::collections::HashMap<Row, &Row> = affected
                .rows
                .iter()
                .map(|row| (shape.key_of(row), row))
                .collect();
            let unchanged = now.iter().any(|row| {
                before
                    .get(&shape.key_of(row))
                    .is_some_and(|old| at.iter().all(|&i| old[i] == row[i]))
            });
            unchanged.then_some("references it should set to their default did not change")
        }
        _ => None,
    }
}

/// The updated rows of a remedy, per table shape.
fn updated_rows(remedy: &Remedy, rows: &RemedyRows) -> Vec<(Shape, Vec<Row>)> {
    let mut out: Vec<(Shape, Vec<Row>)> = Vec::new();
    for (step, found) in remedy.steps.iter().zip(&rows.steps) {
        if step.change != Change::Delete {
            out.push((found.shape.clone(), found.rows.clone()));
        }
    }
    for affected in &rows.consequences.nulled {
        out.push((affected.shape.clone(), affected.rows.clone()));
    }
    out
}
