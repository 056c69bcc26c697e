//! Statements of the write probes. They run inside a transaction that is always
//! rolled back, each under a savepoint.

use super::{Sql, as_text, ident, literal, table};
use crate::model::{Engine, TableName};

/// A value for a column in a probe row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Copied from the row the probe starts from.
    Copy,
    /// A literal, as text (the database converts it to the column's type).
    Literal(String),
    /// A whole number.
    Number(i64),
}

fn render(engine: Engine, column: &str, value: &Value) -> String {
    match value {
        Value::Copy => format!("c.{}", ident(engine, column)),
        Value::Literal(text) => literal(engine, text),
        Value::Number(n) => n.to_string(),
    }
}

/// `INSERT INTO child (…) SELECT … FROM child AS c LIMIT 1`: a copy of one
/// existing row with some columns replaced.
pub fn insert_copy(engine: Engine, child: &TableName, columns: &[(String, Value)]) -> Sql {
    let names: Vec<String> = columns.iter().map(|(c, _)| ident(engine, c)).collect();
    let values: Vec<String> = columns.iter().map(|(c, v)| render(engine, c, v)).collect();
    // MySQL cannot select from the table it inserts into without a derived table.
    let from = match engine {
        Engine::Mysql => format!("(SELECT * FROM {} LIMIT 1) AS c", table(engine, child)),
        _ => format!("{} AS c", table(engine, child)),
    };
    let limit = if engine == Engine::Mysql {
        ""
    } else {
        " LIMIT 1"
    };
    Sql::new(format!(
        "INSERT INTO {} ({}) SELECT {} FROM {from}{limit}",
        table(engine, child),
        names.join(", "),
        values.join(", ")
    ))
}

/// The key (as text) of one parent row that has children.
pub fn parent_with_children(
    engine: Engine,
    parent: &TableName,
    child: &TableName,
    pairs: &[(String, String)],
) -> Sql {
    let keys: Vec<String> = pairs
        .iter()
        .map(|(_, p)| {
            format!(
                "{} AS {}",
                as_text(engine, &format!("p.{}", ident(engine, p))),
                ident(engine, p)
            )
        })
        .collect();
    let join: Vec<String> = pairs
        .iter()
        .map(|(c, p)| format!("c.{} = p.{}", ident(engine, c), ident(engine, p)))
        .collect();
    Sql::new(format!(
        "SELECT {} FROM {} AS p WHERE EXISTS (SELECT 1 FROM {} AS c WHERE {}) LIMIT 1",
        keys.join(", "),
        table(engine, parent),
        table(engine, child),
        join.join(" AND ")
    ))
}

fn equals(engine: Engine, alias: &str, columns: &[(String, String)]) -> String {
    columns
        .iter()
        .map(|(column, value)| {
            format!(
                "{alias}.{} = {}",
                ident(engine, column),
                literal(engine, value)
            )
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// How many rows of `name` have these column values; with no values, all rows.
pub fn count_where(engine: Engine, name: &TableName, values: &[(String, String)]) -> Sql {
    let filter = if values.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", equals(engine, "t", values))
    };
    Sql::new(format!(
        "SELECT count(*) FROM {} AS t{filter}",
        table(engine, name)
    ))
}

/// How many rows of `name` have NULL in every one of `columns`.
pub fn count_null(engine: Engine, name: &TableName, columns: &[String]) -> Sql {
    let filter: Vec<String> = columns
        .iter()
        .map(|c| format!("t.{} IS NULL", ident(engine, c)))
        .collect();
    Sql::new(format!(
        "SELECT count(*) FROM {} AS t WHERE {}",
        table(engine, name),
        filter.join(" AND ")
    ))
}

/// Deletes the parent row with these key values.
pub fn delete_where(engine: Engine, name: &TableName, values: &[(String, String)]) -> Sql {
    // MySQL's DELETE takes no alias on the table in this form.
    let filter: Vec<String> = values
        .iter()
        .map(|(column, value)| format!("{} = {}", ident(engine, column), literal(engine, value)))
        .collect();
    Sql::new(format!(
        "DELETE FROM {} WHERE {}",
        table(engine, name),
        filter.join(" AND ")
    ))
}

pub const SAVEPOINT: &str = "SAVEPOINT tether_probe";
pub const ROLLBACK_TO_SAVEPOINT: &str = "ROLLBACK TO SAVEPOINT tether_probe";

/// How a benchmark batch makes a fresh key per copied row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreshKey {
    /// Whole numbers: the old key plus an offset above every key.
    Number,
    /// A new random uuid.
    Uuid,
    /// Text: the old key with a suffix.
    Text,
}

/// `INSERT INTO t (…) SELECT … FROM t LIMIT n`: `n` copies of existing rows with
/// fresh keys (the benchmark's batch; always rolled back).
pub fn insert_batch(
    engine: Engine,
    name: &TableName,
    columns: &[String],
    key: &str,
    kind: FreshKey,
    rows: u32,
) -> Sql {
    let values: Vec<String> = columns
        .iter()
        .map(|c| {
            let column = format!("c.{}", ident(engine, c));
            if c != key {
                return column;
            }
            match (kind, engine) {
                (FreshKey::Number, _) => format!(
                    "{column} + (SELECT max(m.{k}) + 1 FROM {} AS m)",
                    table(engine, name),
                    k = ident(engine, key)
                ),
                (FreshKey::Uuid, Engine::Postgres) => "gen_random_uuid()".into(),
                (FreshKey::Uuid, Engine::Mysql) => "UUID()".into(),
                (FreshKey::Uuid, Engine::Sqlite) => "lower(hex(randomblob(16)))".into(),
                (FreshKey::Text, Engine::Mysql) => format!("CONCAT({column}, '-bench')"),
                (FreshKey::Text, _) => format!("{column} || '-bench'"),
            }
        })
        .collect();
    let names: Vec<String> = columns.iter().map(|c| ident(engine, c)).collect();
    let from = match engine {
        Engine::Mysql => format!("(SELECT * FROM {} LIMIT {rows}) AS c", table(engine, name)),
        _ => format!("{} AS c", table(engine, name)),
    };
    let limit = if engine == Engine::Mysql {
        String::new()
    } else {
        format!(" LIMIT {rows}")
    };
    Sql::new(format!(
        "INSERT INTO {} ({}) SELECT {} FROM {from}{limit}",
        table(engine, name),
        names.join(", "),
        values.join(", ")
    ))
}

/// A few keys of a table, as text, to look rows up by.
pub fn some_keys(engine: Engine, name: &TableName, key: &str, limit: u32) -> Sql {
    Sql::new(format!(
        "SELECT {} AS {} FROM {} AS t LIMIT {limit}",
        as_text(engine, &format!("t.{}", ident(engine, key))),
        ident(engine, key),
        table(engine, name)
    ))
}
