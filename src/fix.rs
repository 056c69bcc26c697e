//! `tether fix`: remediation for findings. A preview says what each remedy would
//! change and how many rows; applying it backs every touched row up first, then
//! changes exactly those rows in one transaction, and commits only once the
//! counts still match the preview and the user confirms. A backup restores.

use crate::checks::CheckId;
use crate::checks::plan::{Plan, Work};
use crate::db::{self, Db, Reader, SampleRow};
use crate::findings::Subject;
use crate::model::{Action, Engine, TableName};
use crate::relationships::{Relationship, Source};
use crate::sql::Sql;
use crate::sql::fix::{self as statements, Selection};
use crate::sql::render::{Lookup, Predicate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// How deep a delete follows the orphans' own children.
const MAX_DEPTH: usize = 4;
/// The column a tenant copy's new value is fetched under.
const NEW: &str = "__tether_new";

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
    /// Only relationships (or tables) of `table` or `table.column`.
    pub relationship: Option<String>,
    /// For orphans whose intended rule implies neither delete nor set null.
    pub action: Option<OrphanAction>,
}

/// What a change does to the rows of its selection.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Delete,
    SetNull(Vec<String>),
    CopyTenant(String),
}

/// One statement's worth of work: a selection of rows and what to do to them.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub selection: Selection,
    pub change: Change,
    /// Rows it touches, counted at preview.
    pub count: u64,
    /// The set-based statement a person could run instead.
    pub sql: Sql,
}

/// A remedy for one finding (or one table's tenant column).
#[derive(Clone, Debug, PartialEq)]
pub struct Remedy {
    pub check: CheckId,
    pub what: String,
    /// Data changes, in the order they apply (children before parents).
    pub steps: Vec<Step>,
    /// Migrations proposed (printed, never applied).
    pub ddl: Vec<Sql>,
    /// Rows left for a person to decide, and why.
    pub undecided: Option<(u64, String)>,
}

impl Remedy {
    pub fn rows(&self) -> u64 {
        self.steps.iter().map(|s| s.count).sum()
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

fn lookup(r: &Relationship) -> Lookup {
    Lookup {
        parent: r.parent.clone(),
        pairs: r
            .child_columns
            .iter()
            .cloned()
            .zip(r.parent_columns.iter().cloned())
            .collect(),
        as_text: r.types_differ,
    }
}

async fn count(reader: &mut Reader, engine: Engine, selection: &Selection) -> Result<u64, String> {
    let counts = reader
        .counts(&statements::count(engine, selection))
        .await
        .map_err(|e| db::describe(&e))?;
    Ok(counts.first().copied().unwrap_or(0).max(0) as u64)
}

/// Builds every remedy the plan's findings call for, with counts (read-only).
pub async fn preview(db: &Db, plan: &Plan, options: &FixOptions) -> Result<Vec<Remedy>, String> {
    let engine = plan.engine;
    let mut reader = db.reader(None).await.map_err(|e| db::describe(&e))?;
    let mut remedies = Vec::new();
    let wanted = |scope: Scope| options.scope.is_none_or(|s| s == scope);

    if wanted(Scope::Orphans) {
        for r in &plan.relationships {
            let child = plan.label(&r.child);
            if !matches_filter(&options.relationship, &child, &r.child_columns) {
                continue;
            }
            let orphans = Selection::Matching {
                table: r.child.clone(),
                predicate: Predicate::Orphan(lookup(r)),
            };
            let n = count(&mut reader, engine, &orphans).await?;
            if n == 0 {
                continue;
            }
            let intended = r
                .expected_on_delete
                .or(r.constraint.as_ref().map(|c| c.on_delete));
            let action = match (intended, options.action) {
                (_, Some(chosen)) => Some(chosen),
                (Some(Action::Cascade), None) => Some(OrphanAction::Delete),
                (Some(Action::SetNull), None) => Some(OrphanAction::SetNull),
                _ => None,
            };
            let label = r.label(&plan.schema).arrow();
            let mut remedy = Remedy {
                check: CheckId::Orphans,
                what: label.clone(),
                steps: Vec::new(),
                ddl: Vec::new(),
                undecided: None,
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
                Some(OrphanAction::SetNull) => {
                    let table = plan.schema.table(&r.child);
                    let not_null: Vec<&String> = r
                        .child_columns
                        .iter()
                        .filter(|c| table.and_then(|t| t.column(c)).is_some_and(|c| !c.nullable))
                        .collect();
                    if not_null.is_empty() {
                        remedy.what =
                            format!("{label}: set the reference of {n} orphan rows to NULL");
                        remedy.steps.push(Step {
                            sql: crate::sql::fix::set_null_where(
                                engine,
                                &orphans,
                                &r.child_columns,
                            ),
                            selection: orphans,
                            change: Change::SetNull(r.child_columns.clone()),
                            count: n,
                        });
                    } else {
                        remedy.undecided = Some((
                            n,
                            format!(
                                "cannot set NOT NULL column {} to NULL: use --action delete",
                                not_null[0]
                            ),
                        ));
                    }
                }
                Some(OrphanAction::Delete) => {
                    // The orphans' own children (and theirs) go first.
                    let mut levels = vec![orphans.clone()];
                    let mut frontier = vec![orphans];
                    for _ in 0..MAX_DEPTH {
                        let mut next = Vec::new();
                        for selection in &frontier {
                            for down in plan
                                .relationships
                                .iter()
                                .filter(|d| &d.parent == selection.table())
                            {
                                let under = Selection::Under {
                                    table: down.child.clone(),
                                    pairs: down
                                        .child_columns
                                        .iter()
                                        .cloned()
                                        .zip(down.parent_columns.iter().cloned())
                                        .collect(),
                                    parent: Box::new(selection.clone()),
                                };
                                if count(&mut reader, engine, &under).await? > 0 {
                                    next.push(under);
                                }
                            }
                        }
                        if next.is_empty() {
                            break;
                        }
                        levels.extend(next.iter().cloned());
                        frontier = next;
                    }
                    let mut total = 0;
                    for selection in levels.into_iter().rev() {
                        let rows = count(&mut reader, engine, &selection).await?;
                        total += rows;
                        remedy.steps.push(Step {
                            sql: crate::sql::fix::delete_where(engine, &selection),
                            selection,
                            change: Change::Delete,
                            count: rows,
                        });
                    }
                    remedy.what = if total > n {
                        format!(
                            "{label}: delete {n} orphan rows and {} rows that hang off them",
                            total - n
                        )
                    } else {
                        format!("{label}: delete {n} orphan rows")
                    };
                }
            }
            remedies.push(remedy);
        }
    }

    if wanted(Scope::Tenant) {
        // Each table and tenant column the plan checks.
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
        for (table, column) in pairs {
            let label = plan.label(&table);
            if !matches_filter(&options.relationship, &label, std::slice::from_ref(&column)) {
                continue;
            }
            let has = |t: &TableName| {
                plan.schema
                    .table(t)
                    .is_some_and(|t| t.column(&column).is_some())
            };
            let mut parents: Vec<&Relationship> = plan
                .relationships
                .iter()
                .filter(|r| {
                    r.child == table
                        && r.parent != table
                        && has(&r.parent)
                        && !r.child_columns.contains(&column)
                })
                .filter(|r| r.parent_unique && !r.types_differ)
                .collect();
            parents
                .sort_by(|a, b| (&a.parent, &a.child_columns).cmp(&(&b.parent, &b.child_columns)));
            let Some((first, others)) = parents.split_first() else {
                continue;
            };
            let selection = |ambiguous| Selection::Tenant {
                table: table.clone(),
                column: column.clone(),
                first: lookup(first),
                others: others.iter().map(|r| lookup(r)).collect(),
                ambiguous,
            };
            let fixable = count(&mut reader, engine, &selection(false)).await?;
            let ambiguous = count(&mut reader, engine, &selection(true)).await?;
            if fixable + ambiguous == 0 {
                continue;
            }
            remedies.push(Remedy {
                check: CheckId::TenantMismatch,
                what: format!(
                    "{label}.{column}: copy it from the parent row in {} for {fixable} rows",
                    plan.label(&first.parent)
                ),
                steps: if fixable > 0 {
                    vec![Step {
                        sql: crate::sql::fix::copy_where(engine, &selection(false), &column),
                        selection: selection(false),
                        change: Change::CopyTenant(column.clone()),
                        count: fixable,
                    }]
                } else {
                    Vec::new()
                },
                ddl: Vec::new(),
                undecided: (ambiguous > 0).then(|| {
                    (
                        ambiguous,
                        format!("their parents disagree on {column}: a person must choose"),
                    )
                }),
            });
        }
    }

    if wanted(Scope::Index) {
        for r in plan
            .relationships
            .iter()
            .filter(|r| r.constraint.is_some() && !r.indexed)
        {
            let label = plan.label(&r.child);
            if !matches_filter(&options.relationship, &label, &r.child_columns) {
                continue;
            }
            let rows = plan
                .schema
                .table(&r.child)
                .and_then(|t| t.row_estimate)
                .unwrap_or(0)
                .max(0) as u64;
            remedies.push(Remedy {
                check: CheckId::FkUnindexed,
                what: format!(
                    "{}: index ({}) — reads about {} rows",
                    r.label(&plan.schema).arrow(),
                    r.child_columns.join(", "),
                    crate::findings::thousands(rows)
                ),
                steps: Vec::new(),
                ddl: vec![statements::create_index(engine, &r.child, &r.child_columns)],
                undecided: None,
            });
        }
    }

    if wanted(Scope::Constraint) {
        for r in plan
            .relationships
            .iter()
            .filter(|r| r.source == Source::Profile)
        {
            let label = plan.label(&r.child);
            if !matches_filter(&options.relationship, &label, &r.child_columns) {
                continue;
            }
            let orphans = count(
                &mut reader,
                engine,
                &Selection::Matching {
                    table: r.child.clone(),
                    predicate: Predicate::Orphan(lookup(r)),
                },
            )
            .await?;
            let rule = r.expected_on_delete.map_or("no_action", |a| a.as_str());
            remedies.push(Remedy {
                check: CheckId::FkMissing,
                what: format!(
                    "{}: add the constraint (validating it checks every row; {orphans} orphans must go first)",
                    r.label(&plan.schema).arrow()
                ),
                steps: Vec::new(),
                ddl: statements::add_constraint(engine, &r.child, &r.child_columns, &r.parent, &r.parent_columns, rule),
                undecided: None,
            });
        }
    }
    let _ = reader.finish().await;
    Ok(remedies)
}

/// One line of a backup file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BackupRow {
    pub schema: String,
    pub table: String,
    /// `delete` (restore re-inserts it) or `update` (restore puts values back).
    pub action: String,
    pub key: Vec<String>,
    pub row: Map<String, Value>,
}

pub struct ApplyOptions {
    pub backup_dir: PathBuf,
    pub batch_size: usize,
}

/// What an apply did.
#[derive(Debug)]
pub struct Applied {
    pub backup: PathBuf,
    pub rows: u64,
    pub committed: bool,
}

fn pg_types(plan: &Plan, table: &TableName) -> impl Fn(&str) -> Option<String> + use<> {
    let types: Vec<(String, String)> = if plan.engine == Engine::Postgres {
        plan.schema
            .table(table)
            .map(|t| {
                t.columns
                    .iter()
                    .map(|c| (c.name.clone(), c.data_type.clone()))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    move |column: &str| {
        types
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, t)| t.clone())
    }
}

/// Applies the remedies' data changes in one transaction: re-counts, backs up
/// the rows, changes exactly those rows in batches, and commits only when
/// `confirm` says so. Nothing is committed on any error.
pub async fn apply(
    db: &Db,
    plan: &Plan,
    remedies: &[Remedy],
    options: &ApplyOptions,
    confirm: impl FnOnce(u64) -> bool,
) -> Result<Applied, String> {
    let engine = plan.engine;
    let mut tx = db.writable().await.map_err(|e| db::describe(&e))?;
    if tx.read_only().await.map_err(|e| db::describe(&e))? {
        let _ = tx.rollback().await;
        return Err(format!(
            "{} is read-only: fix --apply needs a session that may write",
            db.target
        ));
    }
    let steps: Vec<&Step> = remedies.iter().flat_map(|r| &r.steps).collect();
    // The data must still be what the preview saw.
    for step in &steps {
        let now = count(&mut tx, engine, &step.selection).await?;
        if now != step.count {
            let _ = tx.rollback().await;
            return Err(format!(
                "{} now has {now} rows to change where the preview counted {}: the data changed, nothing was applied; preview again",
                plan.label(step.selection.table()),
                step.count
            ));
        }
    }
    // Back up every row before changing any.
    std::fs::create_dir_all(&options.backup_dir)
        .map_err(|e| format!("{}: {e}", options.backup_dir.display()))?;
    let stamp = crate::clock::rfc3339(std::time::SystemTime::now()).replace([':', '.'], "-");
    let path = options.backup_dir.join(format!("tether-fix-{stamp}.jsonl"));
    let mut fetched: Vec<(usize, Vec<SampleRow>)> = Vec::new();
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?,
    );
    for (i, step) in steps.iter().enumerate() {
        let table = step.selection.table();
        let keys = plan
            .schema
            .table(table)
            .map(|t| t.primary_key.clone())
            .unwrap_or_default();
        if keys.is_empty() {
            let _ = tx.rollback().await;
            return Err(format!(
                "{} has no primary key: its rows cannot be changed one by one",
                plan.label(table)
            ));
        }
        let new = step.selection.new_value(engine);
        let sql = statements::rows(engine, &step.selection, new.as_deref().map(|e| (e, NEW)));
        let rows = tx.json_rows(&sql).await.map_err(|e| db::describe(&e))?;
        for row in &rows {
            let mut saved = row.clone();
            saved.remove(NEW);
            let line = BackupRow {
                schema: table.schema.clone(),
                table: table.name.clone(),
                action: if step.change == Change::Delete {
                    "delete"
                } else {
                    "update"
                }
                .into(),
                key: keys.clone(),
                row: saved,
            };
            writeln!(
                file,
                "{}",
                serde_json::to_string(&line).expect("rows serialise")
            )
            .map_err(|e| e.to_string())?;
        }
        fetched.push((i, rows));
    }
    file.flush().map_err(|e| e.to_string())?;
    file.get_ref().sync_all().map_err(|e| e.to_string())?;
    drop(file);

    // Change exactly the backed-up rows, at most `batch_size` per statement.
    let mut changed = 0;
    for (i, rows) in &fetched {
        let step = steps[*i];
        let table = step.selection.table();
        let keys = plan
            .schema
            .table(table)
            .map(|t| t.primary_key.clone())
            .unwrap_or_default();
        let types = pg_types(plan, table);
        for batch in rows.chunks(options.batch_size.max(1)) {
            let refs: Vec<&Map<String, Value>> = batch.iter().collect();
            let sql = match &step.change {
                Change::Delete => statements::delete_rows(engine, table, &keys, &refs, &types),
                Change::SetNull(columns) => {
                    statements::null_rows(engine, table, columns, &keys, &refs, &types)
                }
                Change::CopyTenant(column) => {
                    statements::set_rows(engine, table, column, NEW, &keys, &refs, &types)
                }
            };
            match tx.execute(&sql).await {
                Ok(n) => changed += n,
                Err(e) => {
                    let _ = tx.rollback().await;
                    return Err(format!(
                        "{}: {} (nothing was applied; backup at {})",
                        plan.label(table),
                        db::describe(&e),
                        path.display()
                    ));
                }
            }
        }
    }
    if !confirm(changed) {
        tx.rollback().await.map_err(|e| db::describe(&e))?;
        return Ok(Applied {
            backup: path,
            rows: changed,
            committed: false,
        });
    }
    tx.finish().await.map_err(|e| db::describe(&e))?;
    Ok(Applied {
        backup: path,
        rows: changed,
        committed: true,
    })
}

/// Puts a backup's rows back, in one transaction: updated rows get their old
/// values, deleted rows are inserted again (parents before children).
pub async fn restore(db: &Db, plan: &Plan, backup: &Path) -> Result<usize, String> {
    let engine = plan.engine;
    let file = std::fs::File::open(backup).map_err(|e| format!("{}: {e}", backup.display()))?;
    let mut rows: Vec<BackupRow> = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| e.to_string())?;
        if line.trim().is_empty() {
            continue;
        }
        rows.push(
            serde_json::from_str(&line)
                .map_err(|e| format!("{}:{}: {e}", backup.display(), n + 1))?,
        );
    }
    let mut tx = db.writable().await.map_err(|e| db::describe(&e))?;
    // The rows come back as they were, orphans included: constraints that
    // would refuse them are not checked for this transaction where the engine
    // allows it (SQLite: the connection is opened with foreign_keys off).
    match engine {
        Engine::Postgres => {
            // Needs superuser (or pg_write_server_files-like rights); without it,
            // a refused row stops the restore with the constraint's message.
            let _ = tx.execute_fixed("SAVEPOINT tether_restore").await;
            if tx
                .execute_fixed("SET LOCAL session_replication_role = replica")
                .await
                .is_err()
            {
                let _ = tx
                    .execute_fixed("ROLLBACK TO SAVEPOINT tether_restore")
                    .await;
            }
        }
        Engine::Mysql => {
            let _ = tx.execute_fixed("SET FOREIGN_KEY_CHECKS = 0").await;
        }
        Engine::Sqlite => {}
    }
    // Deletes ran children first; their rows come back parents first.
    for row in rows.iter().rev() {
        let table = TableName::new(row.schema.clone(), row.table.clone());
        let types = pg_types(plan, &table);
        let sql = match row.action.as_str() {
            "delete" => statements::insert_row(engine, &table, &row.row, &types),
            _ => statements::restore_row(engine, &table, &row.key, &row.row, &types),
        };
        if let Err(e) = tx.execute(&sql).await {
            let _ = tx.rollback().await;
            return Err(format!(
                "restoring {}: {} (nothing was restored)",
                plan.label(&table),
                db::describe(&e)
            ));
        }
    }
    if engine == Engine::Mysql {
        let _ = tx.execute_fixed("SET FOREIGN_KEY_CHECKS = 1").await;
    }
    tx.finish().await.map_err(|e| db::describe(&e))?;
    Ok(rows.len())
}
