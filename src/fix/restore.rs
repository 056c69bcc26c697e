//! `tether restore`: puts a backup's rows back, in one transaction. Deleted
//! rows are inserted again, parents first (generated columns left to the
//! database, identity values written as they were); updated rows get every
//! value back. A row that changed since the fix is a conflict: by default
//! nothing is restored; `--on-conflict skip` keeps such rows as they are and
//! restores the rest.

use super::FixError;
use super::backup::{self, Backup, BackupRow, RowAction};
use super::rows::{self, Row, Shape};
use crate::cell::Cell;
use crate::db::{Db, Transaction};
use crate::model::{Column, Engine, Identity, Schema, TableName};
use crate::sql::Sql;
use crate::sql::fix as statements;
use std::collections::HashMap;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnConflict {
    /// Restore nothing when any row changed since the fix.
    #[default]
    Refuse,
    /// Keep rows that changed since the fix as they are; restore the rest.
    Skip,
}

/// What a restore did.
#[derive(Debug, Default)]
pub struct Restored {
    /// Deleted rows inserted again.
    pub inserted: u64,
    /// Updated rows given their values back.
    pub updated: u64,
    /// Rows already as they were before the fix.
    pub unchanged: u64,
    /// Rows that changed since the fix, kept as they are (`--on-conflict skip`).
    pub skipped: Vec<String>,
    /// The apply that wrote the backup never committed: nothing to restore.
    pub not_committed: bool,
}

enum Plan {
    Insert,
    Update,
    Nothing,
}

/// One row of the backup, read against its table's shape: the row before the
/// fix, its key, and what the fix did to it.
struct PreImage<'s> {
    shape: &'s Shape,
    pre: Row,
    key: Row,
    action: RowAction,
}

/// The rows as they are now, per table, by key.
type Current = HashMap<TableName, HashMap<Row, Row>>;

/// What the steps of one restore share: the backup's tables checked against
/// the database, and the rows as the fix left them.
struct Restoring<'a> {
    schema: &'a Schema,
    engine: Engine,
    path: &'a Path,
    shapes: HashMap<TableName, Shape>,
    after: HashMap<(TableName, Row), Row>,
}

/// Puts the rows of the backup at `path` back, in one transaction.
pub async fn restore(
    db: &Db,
    schema: &Schema,
    path: &Path,
    on_conflict: OnConflict,
) -> Result<Restored, FixError> {
    let backup = backup::read(path).map_err(FixError::Refused)?;
    let engine = db.engine();
    if backup.header.engine != engine.name() {
        return Err(FixError::Refused(format!(
            "{} is a backup of a {} database, not {}",
            path.display(),
            backup.header.engine,
            engine.name()
        )));
    }
    if backup.committed == Some(false) {
        return Ok(Restored {
            not_committed: true,
            ..Restored::default()
        });
    }
    let shapes = shapes_now(schema, &backup, path)?;
    let after = after_images(&backup, &shapes, path)?;
    let restoring = Restoring {
        schema,
        engine,
        path,
        shapes,
        after,
    };

    let mut tx = db
        .writable()
        .await
        .map_err(|e| FixError::database("opening a write transaction", &e))?;
    let result = restoring.run(&mut tx, &backup, on_conflict).await;
    match result {
        Ok(restored) => {
            tx.finish()
                .await
                .map_err(|e| FixError::database("committing", &e))?;
            Ok(restored)
        }
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e.rolled_back("nothing was restored"))
        }
    }
}

/// The backup's tables as they were, checked against the database now: each
/// must still exist with every column the backup lists.
fn shapes_now(
    schema: &Schema,
    backup: &Backup,
    path: &Path,
) -> Result<HashMap<TableName, Shape>, FixError> {
    let mut shapes: HashMap<TableName, Shape> = HashMap::new();
    for t in &backup.header.tables {
        let name = t.name();
        let now = schema.table(&name).ok_or_else(|| {
            FixError::Refused(format!(
                "{} no longer exists: nothing was restored",
                schema.label(&name)
            ))
        })?;
        let columns: Vec<Column> = t.columns.iter().map(|c| c.to_column()).collect();
        if let Some(gone) = columns.iter().find(|c| now.column(&c.name).is_none()) {
            return Err(FixError::Refused(format!(
                "{} has no column {} any more: nothing was restored",
                schema.label(&name),
                gone.name
            )));
        }
        let key = t
            .key
            .iter()
            .map(|k| columns.iter().position(|c| &c.name == k))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| {
                FixError::Refused(format!(
                    "{}: the backup's key names a column it does not list",
                    path.display()
                ))
            })?;
        shapes.insert(name.clone(), Shape { name, columns, key });
    }
    Ok(shapes)
}

/// The rows as the fix left them (its post-images), by table and key; the
/// first image of a key wins.
fn after_images(
    backup: &Backup,
    shapes: &HashMap<TableName, Shape>,
    path: &Path,
) -> Result<HashMap<(TableName, Row), Row>, FixError> {
    let mut after: HashMap<(TableName, Row), Row> = HashMap::new();
    for a in &backup.after {
        let name = TableName::new(a.schema.clone(), a.table.clone());
        if let Some(shape) = shapes.get(&name) {
            let row = backup::from_object(&shape.columns, &a.row)
                .map_err(|e| FixError::Refused(format!("{}: {e}", path.display())))?;
            after.entry((name, shape.key_of(&row))).or_insert(row);
        }
    }
    Ok(after)
}

/// Sets aside, for this transaction, the constraints that would refuse rows
/// coming back as they were (orphans included), where the engine allows
/// (SQLite: the session has foreign_keys off).
async fn set_constraints_aside(tx: &mut Transaction, engine: Engine) -> Result<(), FixError> {
    match engine {
        Engine::Postgres => {
            // Needs superuser; without it, a refused row stops the restore
            // with the constraint's message.
            tx.execute_fixed("SAVEPOINT tether_restore")
                .await
                .map_err(|e| FixError::database("SAVEPOINT", &e))?;
            if tx
                .execute_fixed("SET LOCAL session_replication_role = replica")
                .await
                .is_err()
            {
                tx.execute_fixed("ROLLBACK TO SAVEPOINT tether_restore")
                    .await
                    .map_err(|e| FixError::database("ROLLBACK TO SAVEPOINT", &e))?;
            }
        }
        Engine::Mysql => {
            tx.execute_fixed("SET FOREIGN_KEY_CHECKS = 0")
                .await
                .map_err(|e| FixError::database("SET FOREIGN_KEY_CHECKS", &e))?;
        }
        Engine::Sqlite => {}
    }
    Ok(())
}

impl Restoring<'_> {
    /// The whole restore inside the open transaction: lock the rows, compare
    /// them with the backup, write back those that may come back.
    async fn run(
        &self,
        tx: &mut Transaction,
        backup: &Backup,
        on_conflict: OnConflict,
    ) -> Result<Restored, FixError> {
        let tables: Vec<TableName> = self.shapes.keys().cloned().collect();
        crate::writes::refuse_non_transactional(tx, self.schema, &tables)
            .await
            .map_err(FixError::Refused)?;
        set_constraints_aside(tx, self.engine).await?;
        let lines = self.pre_images(backup)?;
        let now = self.lock_current(tx, &lines).await?;
        let (decided, conflicts) = self.decide(lines, &now);
        if !conflicts.is_empty() && on_conflict == OnConflict::Refuse {
            return Err(FixError::Conflict(conflicts));
        }
        let mut restored = Restored {
            skipped: conflicts,
            ..Restored::default()
        };
        self.write_back(tx, decided, &mut restored).await?;
        if self.engine == Engine::Mysql {
            tx.execute_fixed("SET FOREIGN_KEY_CHECKS = 1")
                .await
                .map_err(|e| FixError::database("SET FOREIGN_KEY_CHECKS", &e))?;
        }
        Ok(restored)
    }

    /// The shape of the table a backup row belongs to.
    fn shape_of(&self, row: &BackupRow) -> Result<&Shape, FixError> {
        self.shapes
            .get(&TableName::new(row.schema.clone(), row.table.clone()))
            .ok_or_else(|| {
                FixError::Refused(format!(
                    "{}: a row of a table the header does not list",
                    self.path.display()
                ))
            })
    }

    /// The backup's rows: deleted rows first, in the order they were written
    /// (parents first), then updated rows.
    fn pre_images<'s>(&'s self, backup: &Backup) -> Result<Vec<PreImage<'s>>, FixError> {
        let mut lines: Vec<PreImage<'s>> = Vec::new();
        for line in backup
            .rows
            .iter()
            .filter(|r| r.action == RowAction::Delete)
            .chain(backup.rows.iter().filter(|r| r.action == RowAction::Update))
        {
            let shape = self.shape_of(line)?;
            let pre = backup::from_object(&shape.columns, &line.row)
                .map_err(|e| FixError::Refused(format!("{}: {e}", self.path.display())))?;
            let key = shape.key_of(&pre);
            lines.push(PreImage {
                shape,
                pre,
                key,
                action: line.action,
            });
        }
        Ok(lines)
    }

    /// Every row as it is now, locked, read in batches per table.
    async fn lock_current(
        &self,
        tx: &mut Transaction,
        lines: &[PreImage<'_>],
    ) -> Result<Current, FixError> {
        let mut now: Current = HashMap::new();
        for shape in self.shapes.values() {
            let keys: Vec<Row> = lines
                .iter()
                .filter(|l| l.shape.name == shape.name)
                .map(|l| l.key.clone())
                .collect();
            let what = format!("reading {}", self.schema.label(&shape.name));
            let rows = rows::by_key(tx, self.engine, shape, &keys, true, 1000, &what).await?;
            now.insert(
                shape.name.clone(),
                rows.into_iter().map(|r| (shape.key_of(&r), r)).collect(),
            );
        }
        Ok(now)
    }

    /// Compares each backup row with the row now: what to do with it, and the
    /// rows that changed since the fix (conflicts).
    fn decide<'s>(
        &self,
        lines: Vec<PreImage<'s>>,
        now: &Current,
    ) -> (Vec<(&'s Shape, Row, Plan)>, Vec<String>) {
        let mut decided: Vec<(&Shape, Row, Plan)> = Vec::new();
        let mut planned: std::collections::HashSet<(TableName, Row)> = Default::default();
        let mut conflicts: Vec<String> = Vec::new();
        for line in lines {
            let shape = line.shape;
            // A row two remedies updated has two lines with one pre-image.
            if !planned.insert((shape.name.clone(), line.key.clone())) {
                decided.push((shape, line.pre, Plan::Nothing));
                continue;
            }
            let current = now.get(&shape.name).and_then(|rows| rows.get(&line.key));
            match self.plan_row(&line, current) {
                Ok(plan) => decided.push((shape, line.pre, plan)),
                Err(conflict) => conflicts.push(conflict),
            }
        }
        (decided, conflicts)
    }

    /// What to do with one backup row given the row now; Err says why it
    /// changed since the fix.
    fn plan_row(&self, line: &PreImage<'_>, current: Option<&Row>) -> Result<Plan, String> {
        let shape = line.shape;
        let label = || {
            format!(
                "{} ({})",
                self.schema.label(&shape.name),
                describe_key(shape, &line.key)
            )
        };
        match (line.action, current) {
            (_, Some(current)) if same(shape, current, &line.pre) => Ok(Plan::Nothing),
            (RowAction::Delete, None) => Ok(Plan::Insert),
            (RowAction::Delete, Some(_)) => Err(format!(
                "{}: a row with this key now exists with other values",
                label()
            )),
            (RowAction::Update, None) => {
                Err(format!("{}: the row was deleted since the fix", label()))
            }
            (RowAction::Update, Some(current)) => {
                match self.after.get(&(shape.name.clone(), line.key.clone())) {
                    Some(left) if same(shape, current, left) => Ok(Plan::Update),
                    _ => Err(format!("{}: the row was edited since the fix", label())),
                }
            }
        }
    }

    /// Writes the decided rows back, in order: inserts of one table go in
    /// multi-row statements, as do updates of one table.
    async fn write_back(
        &self,
        tx: &mut Transaction,
        decided: Vec<(&Shape, Row, Plan)>,
        restored: &mut Restored,
    ) -> Result<(), FixError> {
        let (engine, schema) = (self.engine, self.schema);
        let mut pending: Vec<(&Shape, Row)> = Vec::new();
        let mut updates: Vec<(&Shape, Row)> = Vec::new();
        for (shape, pre, plan) in decided {
            if updates.first().is_some_and(|(s, _)| s.name != shape.name) {
                restored.updated += write(tx, engine, schema, &mut updates, update).await?;
            }
            if !matches!(plan, Plan::Insert)
                || pending.first().is_some_and(|(s, _)| s.name != shape.name)
            {
                restored.inserted += write(tx, engine, schema, &mut pending, insert).await?;
            }
            match plan {
                Plan::Nothing => restored.unchanged += 1,
                Plan::Insert => {
                    pending.push((shape, pre));
                    let width = shape.columns.len();
                    if pending.len() >= rows::per_statement(width, 1000) {
                        restored.inserted +=
                            write(tx, engine, schema, &mut pending, insert).await?;
                    }
                }
                Plan::Update => {
                    updates.push((shape, pre));
                    let width = shape.columns.len() * (shape.key.len() + 1) + shape.key.len();
                    if updates.len() >= rows::per_statement(width, UPDATES_PER_STATEMENT) {
                        restored.updated += write(tx, engine, schema, &mut updates, update).await?;
                    }
                }
            }
        }
        restored.inserted += write(tx, engine, schema, &mut pending, insert).await?;
        restored.updated += write(tx, engine, schema, &mut updates, update).await?;
        Ok(())
    }
}

/// One statement writing pending rows back, with its values.
struct Statement {
    /// None: nothing to set, and every row counts as written.
    sql: Option<Sql>,
    values: Vec<Cell>,
    /// How the rows were written, for a count that does not match.
    wrote: &'static str,
}

/// Inserts the pending rows (all of `shape`'s table) again.
fn insert(engine: Engine, shape: &Shape, pending: &[(&Shape, Row)]) -> Statement {
    let columns: Vec<&Column> = shape.columns.iter().filter(|c| !c.generated).collect();
    let always = columns.iter().any(|c| c.identity == Some(Identity::Always));
    let mut values = Vec::with_capacity(pending.len() * columns.len());
    for (_, row) in pending.iter() {
        values.extend(writable(shape, row, |_| true).1);
    }
    let sql = statements::insert_rows(engine, &shape.name, &columns, pending.len(), always);
    Statement {
        sql: Some(sql),
        values,
        wrote: "inserted of",
    }
}

/// Rows given their values back per statement, at most (each row costs one
/// `WHEN` per column, which the database tries in turn).
const UPDATES_PER_STATEMENT: usize = 200;

/// Gives the pending rows (all of `shape`'s table) every value back; each
/// must match exactly one row.
fn update(engine: Engine, shape: &Shape, pending: &[(&Shape, Row)]) -> Statement {
    let positions: Vec<usize> = (0..shape.columns.len())
        .filter(|&i| {
            !shape.columns[i].generated
                && !shape.key.contains(&i)
                && shape.columns[i].identity != Some(Identity::Always)
        })
        .collect();
    let columns: Vec<&Column> = positions.iter().map(|&i| &shape.columns[i]).collect();
    let mut values = Vec::new();
    for &i in &positions {
        for (_, row) in pending.iter() {
            values.extend(shape.key_of(row));
            values.push(row[i].clone());
        }
    }
    for (_, row) in pending.iter() {
        values.extend(shape.key_of(row));
    }
    let sql = (!columns.is_empty()).then(|| {
        statements::set_each(
            engine,
            &shape.name,
            &columns,
            &shape.key_columns(),
            pending.len(),
        )
    });
    Statement {
        sql,
        values,
        wrote: "matched the keys of",
    }
}

/// Writes the pending rows (one table's) in `build`'s statement, each once, then empties them.
async fn write(
    tx: &mut Transaction,
    engine: Engine,
    schema: &Schema,
    pending: &mut Vec<(&Shape, Row)>,
    build: fn(Engine, &Shape, &[(&Shape, Row)]) -> Statement,
) -> Result<u64, FixError> {
    let Some((shape, _)) = pending.first() else {
        return Ok(0);
    };
    let statement = build(engine, shape, pending);
    let what = format!("restoring {}", schema.label(&shape.name));
    let n = match statement.sql {
        None => pending.len() as u64,
        Some(sql) => tx
            .execute_with(&sql, &statement.values)
            .await
            .map_err(|e| FixError::database(&what, &e))?,
    };
    if n != pending.len() as u64 {
        return Err(FixError::Drift(format!(
            "{what}: {n} rows {} {}",
            statement.wrote,
            pending.len()
        )));
    }
    pending.clear();
    Ok(n)
}

/// Equal in every column the database does not compute.
fn same(shape: &Shape, a: &Row, b: &Row) -> bool {
    shape
        .columns
        .iter()
        .enumerate()
        .all(|(i, c)| c.generated || a[i] == b[i])
}

/// The columns (and values) a write may set: not generated, and `keep`.
fn writable<'a>(
    shape: &'a Shape,
    row: &Row,
    keep: impl Fn(usize) -> bool,
) -> (Vec<&'a Column>, Vec<Cell>) {
    shape
        .columns
        .iter()
        .enumerate()
        .filter(|(i, c)| !c.generated && keep(*i))
        .map(|(i, c)| (c, row[i].clone()))
        .unzip()
}

fn describe_key(shape: &Shape, key: &Row) -> String {
    shape
        .key_columns()
        .iter()
        .zip(key)
        .map(|(c, v)| format!("{} = {}", c.name, v.display()))
        .collect::<Vec<_>>()
        .join(", ")
}
