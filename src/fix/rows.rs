//! Rows as the write paths handle them: a table's shape (its columns and the
//! key that names a row), rows as exact cells, and reading them in batches of
//! bound keys.

use crate::cell::Cell;
use crate::db::Transaction;
use crate::model::{Column, Engine, Schema, Table, TableName};
use crate::sql::Sql;
use crate::sql::fix as statements;

/// One row: a cell per column of its table's shape, in the same order.
pub type Row = Vec<Cell>;

/// Values bound per statement at most (SQLite allows 32,766; the others more).
const MAX_BINDS: usize = 30_000;

/// A table as a write sees it: every column, and the columns of the key that
/// names one row (the primary key, else a unique key whose columns are all NOT
/// NULL).
#[derive(Clone, Debug)]
pub struct Shape {
    pub name: TableName,
    pub columns: Vec<Column>,
    /// Positions of the key columns in `columns`.
    pub key: Vec<usize>,
}

impl Shape {
    /// The table's shape; Err names the table when it has no usable key.
    pub fn of(schema: &Schema, name: &TableName) -> Result<Shape, String> {
        let table = schema
            .table(name)
            .ok_or_else(|| format!("{} no longer exists", schema.label(name)))?;
        if schema.has_inheritance_children(name) {
            return Err(format!(
                "{} has inheritance children, whose rows a change by key would reach too: change it by hand",
                schema.label(name)
            ));
        }
        let key = row_key(schema, table).ok_or_else(|| {
            format!(
                "{} has no primary key or unique key of NOT NULL columns: its rows cannot be changed and put back one by one",
                schema.label(name)
            )
        })?;
        let key = key
            .iter()
            .filter_map(|k| table.columns.iter().position(|c| &c.name == k))
            .collect();
        Ok(Shape {
            name: name.clone(),
            columns: table.columns.clone(),
            key,
        })
    }

    pub fn position(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == column)
    }

    pub fn key_columns(&self) -> Vec<&Column> {
        self.key.iter().map(|&i| &self.columns[i]).collect()
    }

    pub fn key_of(&self, row: &Row) -> Row {
        self.key.iter().map(|&i| row[i].clone()).collect()
    }

    pub fn columns_at(&self, positions: &[usize]) -> Vec<&Column> {
        positions.iter().map(|&i| &self.columns[i]).collect()
    }
}

/// The primary key, else the shortest unique, valid, non-partial index over
/// NOT NULL columns only.
fn row_key(schema: &Schema, table: &Table) -> Option<Vec<String>> {
    if !table.primary_key.is_empty() {
        return Some(table.primary_key.clone());
    }
    schema
        .indexes_of(&table.name)
        .filter(|i| i.unique && i.valid && !i.partial)
        .filter_map(|i| i.columns.iter().cloned().collect::<Option<Vec<String>>>())
        .filter(|cols| {
            cols.iter()
                .all(|c| table.column(c).is_some_and(|c| !c.nullable))
        })
        .min_by_key(|cols| cols.len())
}

/// Tuples per statement for `width` bound values each.
pub fn per_statement(width: usize, batch: usize) -> usize {
    (MAX_BINDS / width.max(1)).clamp(1, batch.max(1))
}

/// Runs a statement, naming the table in the error.
pub async fn fetch(
    tx: &mut Transaction,
    sql: &Sql,
    binds: &[Cell],
    kinds: &[crate::cell::CellKind],
    what: &str,
) -> Result<Vec<Row>, super::FixError> {
    tx.cells(sql, binds, kinds)
        .await
        .map_err(|e| super::FixError::database(what, &e))
}

/// The rows of `shape` whose `matching` columns equal one of `tuples` (tuples
/// with a NULL never match). `as_text`: compare as text (a relationship whose
/// column types differ). With `lock`, the rows are locked for update.
#[allow(clippy::too_many_arguments)]
pub async fn matching(
    tx: &mut Transaction,
    engine: Engine,
    shape: &Shape,
    matching: &[usize],
    tuples: &[Row],
    as_text: bool,
    lock: bool,
    batch: usize,
    what: &str,
) -> Result<Vec<Row>, super::FixError> {
    let text_column = Column {
        name: String::new(),
        data_type: "text".into(),
        nullable: true,
        generated: false,
        identity: None,
    };
    let columns: Vec<Column> = shape
        .columns_at(matching)
        .into_iter()
        .map(|c| {
            if as_text {
                Column {
                    name: c.name.clone(),
                    ..text_column.clone()
                }
            } else {
                c.clone()
            }
        })
        .collect();
    let column_refs: Vec<&Column> = columns.iter().collect();
    let tuples: Vec<&Row> = tuples
        .iter()
        .filter(|t| t.iter().all(|c| !c.is_null()))
        .collect();
    let mut out = Vec::new();
    for chunk in tuples.chunks(per_statement(matching.len(), batch)) {
        let (sql, kinds) = statements::rows_matching(
            engine,
            &shape.name,
            &shape.columns,
            &column_refs,
            chunk.len(),
            as_text,
            lock,
        );
        let binds: Vec<Cell> = chunk
            .iter()
            .flat_map(|t| t.iter().cloned())
            .map(|c| if as_text { as_text_cell(c) } else { c })
            .collect();
        out.extend(fetch(tx, &sql, &binds, &kinds, what).await?);
    }
    Ok(out)
}

/// The rows of `shape` with these keys (locked for update with `lock`).
#[allow(clippy::too_many_arguments)]
pub async fn by_key(
    tx: &mut Transaction,
    engine: Engine,
    shape: &Shape,
    keys: &[Row],
    lock: bool,
    batch: usize,
    what: &str,
) -> Result<Vec<Row>, super::FixError> {
    matching(
        tx, engine, shape, &shape.key, keys, false, lock, batch, what,
    )
    .await
}

fn as_text_cell(cell: Cell) -> Cell {
    match cell {
        Cell::Int(n) => Cell::Text(n.to_string()),
        Cell::UInt(n) => Cell::Text(n.to_string()),
        other => other,
    }
}

/// Distinct tuples of `positions` of `rows`, without those holding a NULL.
pub fn tuples_of(rows: &[Row], positions: &[usize]) -> Vec<Row> {
    let mut seen = std::collections::HashSet::new();
    rows.iter()
        .map(|r| positions.iter().map(|&i| r[i].clone()).collect::<Row>())
        .filter(|t| t.iter().all(|c| !c.is_null()))
        .filter(|t| seen.insert(t.clone()))
        .collect()
}
