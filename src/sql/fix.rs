//! Statements of `tether fix`: which rows a remedy touches, the changes, the DDL
//! it proposes, and the statements that restore a backup.

use super::render::{CHILD, Lookup, Predicate, col, join_condition, standalone_where};
use super::{Sql, ident, literal, table};
use crate::model::{Engine, TableName};
use serde_json::{Map, Value};

/// The rows a remedy works on: those of a table matching a check's predicate,
/// or those whose reference points into such rows (their descendants).
#[derive(Clone, Debug, PartialEq)]
pub enum Selection {
    Matching {
        table: TableName,
        predicate: Predicate,
    },
    Under {
        table: TableName,
        /// (this table's column, the parent selection's column)
        pairs: Vec<(String, String)>,
        parent: Box<Selection>,
    },
    /// Rows whose tenant `column` is NULL or differs from the value their parent
    /// through `first` has. With `ambiguous` false, only rows whose other
    /// parents (`others`) do not disagree with that value (the fixable ones);
    /// with true, only those where some other parent does.
    Tenant {
        table: TableName,
        column: String,
        first: Lookup,
        others: Vec<Lookup>,
        ambiguous: bool,
    },
}

/// The alias of the parent a tenant copy reads from.
const SOURCE: &str = "p0";

impl Selection {
    pub fn table(&self) -> &TableName {
        match self {
            Selection::Matching { table, .. }
            | Selection::Under { table, .. }
            | Selection::Tenant { table, .. } => table,
        }
    }

    fn depth(&self) -> usize {
        match self {
            Selection::Matching { .. } | Selection::Tenant { .. } => 0,
            Selection::Under { parent, .. } => parent.depth() + 1,
        }
    }

    fn alias(&self) -> String {
        match self.depth() {
            0 => CHILD.to_string(),
            n => format!("d{n}"),
        }
    }

    /// The condition on this selection's own alias.
    fn condition(&self, engine: Engine) -> String {
        match self {
            Selection::Matching { predicate, .. } => standalone_where(engine, predicate),
            Selection::Tenant {
                column,
                others,
                ambiguous,
                ..
            } => {
                let differs = format!(
                    "{src} IS NOT NULL AND ({own} IS NULL OR {own} <> {src})",
                    src = col(engine, SOURCE, column),
                    own = col(engine, CHILD, column)
                );
                let disagreeing: Vec<String> = others
                    .iter()
                    .enumerate()
                    .map(|(i, lookup)| {
                        let q = format!("q{}", i + 1);
                        format!(
                            "EXISTS (SELECT 1 FROM {} AS {q} WHERE {} AND {} <> {})",
                            table(engine, &lookup.parent),
                            join_condition(engine, lookup, &q),
                            col(engine, &q, column),
                            col(engine, SOURCE, column)
                        )
                    })
                    .collect();
                match (disagreeing.is_empty(), ambiguous) {
                    (true, false) => differs,
                    (true, true) => format!("{differs} AND 1 = 0"),
                    (false, false) => {
                        format!("{differs}\n  AND NOT ({})", disagreeing.join(" OR "))
                    }
                    (false, true) => format!("{differs}\n  AND ({})", disagreeing.join(" OR ")),
                }
            }
            Selection::Under { pairs, parent, .. } => {
                let (alias, up) = (self.alias(), parent.alias());
                let join: Vec<String> = pairs
                    .iter()
                    .map(|(mine, theirs)| {
                        format!(
                            "{} = {}",
                            col(engine, &up, theirs),
                            col(engine, &alias, mine)
                        )
                    })
                    .collect();
                format!(
                    "EXISTS (SELECT 1 FROM {} AS {up} WHERE {} AND {})",
                    table(engine, parent.table()),
                    join.join(" AND "),
                    parent.condition(engine)
                )
            }
        }
    }

    fn source_and_filter(&self, engine: Engine) -> String {
        let join = match self {
            Selection::Tenant { first, .. } => format!(
                "\nJOIN {} AS {SOURCE} ON {}",
                table(engine, &first.parent),
                join_condition(engine, first, SOURCE)
            ),
            _ => String::new(),
        };
        format!(
            "FROM {} AS {}{join}\nWHERE {}",
            table(engine, self.table()),
            self.alias(),
            self.condition(engine)
        )
    }

    /// For a tenant copy: the new value's expression, to fetch with the rows.
    pub fn new_value(&self, engine: Engine) -> Option<String> {
        match self {
            Selection::Tenant { column, .. } => Some(col(engine, SOURCE, column)),
            _ => None,
        }
    }
}

/// How many rows a selection holds.
pub fn count(engine: Engine, selection: &Selection) -> Sql {
    Sql::new(format!(
        "SELECT count(*) AS {}\n{}",
        ident(engine, "count"),
        selection.source_and_filter(engine)
    ))
}

/// Every column of a selection's rows, for the backup (PostgreSQL: one JSON text
/// per row, so values of any type arrive intact).
pub fn rows(engine: Engine, selection: &Selection, extra: Option<(&str, &str)>) -> Sql {
    let alias = selection.alias();
    let extra_column = extra
        .map(|(expr, name)| format!(", {expr} AS {}", ident(engine, name)))
        .unwrap_or_default();
    match engine {
        Engine::Postgres => Sql::new(format!(
            "SELECT CAST(row_to_json(q) AS text) FROM (SELECT {alias}.*{extra_column}\n{}) AS q",
            selection.source_and_filter(engine)
        )),
        Engine::Sqlite | Engine::Mysql => Sql::new(format!(
            "SELECT {alias}.*{extra_column}\n{}",
            selection.source_and_filter(engine)
        )),
    }
}

/// A value as an SQL literal: numbers bare, strings quoted (cast to the
/// column's type on PostgreSQL, where an untyped text would not do), NULL.
fn value(engine: Engine, v: &Value, pg_type: Option<&str>) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => match (engine, pg_type) {
            (Engine::Postgres, Some(t)) => format!("CAST({} AS {t})", literal(engine, s)),
            _ => literal(engine, s),
        },
        other => literal(engine, &other.to_string()),
    }
}

/// `key IN (…)` (or `(a = … AND b = …) OR …` for a composite key) for these rows.
fn key_filter(
    engine: Engine,
    keys: &[String],
    rows: &[&Map<String, Value>],
    types: &dyn Fn(&str) -> Option<String>,
) -> String {
    if let [key] = keys {
        let list: Vec<String> = rows
            .iter()
            .map(|r| {
                value(
                    engine,
                    r.get(key).unwrap_or(&Value::Null),
                    types(key).as_deref(),
                )
            })
            .collect();
        return format!("{} IN ({})", ident(engine, key), list.join(", "));
    }
    let each: Vec<String> = rows
        .iter()
        .map(|r| {
            let parts: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{} = {}",
                        ident(engine, k),
                        value(
                            engine,
                            r.get(k).unwrap_or(&Value::Null),
                            types(k).as_deref()
                        )
                    )
                })
                .collect();
            format!("({})", parts.join(" AND "))
        })
        .collect();
    each.join(" OR ")
}

/// Deletes these rows (by key).
pub fn delete_rows(
    engine: Engine,
    name: &TableName,
    keys: &[String],
    rows: &[&Map<String, Value>],
    types: &dyn Fn(&str) -> Option<String>,
) -> Sql {
    Sql::new(format!(
        "DELETE FROM {} WHERE {}",
        table(engine, name),
        key_filter(engine, keys, rows, types)
    ))
}

/// Sets `columns` to NULL in these rows (by key).
pub fn null_rows(
    engine: Engine,
    name: &TableName,
    columns: &[String],
    keys: &[String],
    rows: &[&Map<String, Value>],
    types: &dyn Fn(&str) -> Option<String>,
) -> Sql {
    let set: Vec<String> = columns
        .iter()
        .map(|c| format!("{} = NULL", ident(engine, c)))
        .collect();
    Sql::new(format!(
        "UPDATE {} SET {} WHERE {}",
        table(engine, name),
        set.join(", "),
        key_filter(engine, keys, rows, types)
    ))
}

/// Sets `column` in each of these rows (by key) to the value the row carries
/// under `new`.
pub fn set_rows(
    engine: Engine,
    name: &TableName,
    column: &str,
    new: &str,
    keys: &[String],
    rows: &[&Map<String, Value>],
    types: &dyn Fn(&str) -> Option<String>,
) -> Sql {
    let cases: Vec<String> = rows
        .iter()
        .map(|r| {
            let when: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{} = {}",
                        ident(engine, k),
                        value(
                            engine,
                            r.get(k).unwrap_or(&Value::Null),
                            types(k).as_deref()
                        )
                    )
                })
                .collect();
            format!(
                "WHEN {} THEN {}",
                when.join(" AND "),
                value(
                    engine,
                    r.get(new).unwrap_or(&Value::Null),
                    types(column).as_deref()
                )
            )
        })
        .collect();
    Sql::new(format!(
        "UPDATE {} SET {} = CASE {} END WHERE {}",
        table(engine, name),
        ident(engine, column),
        cases.join(" "),
        key_filter(engine, keys, rows, types)
    ))
}

/// Puts a deleted row back.
pub fn insert_row(
    engine: Engine,
    name: &TableName,
    row: &Map<String, Value>,
    types: &dyn Fn(&str) -> Option<String>,
) -> Sql {
    let columns: Vec<String> = row.keys().map(|c| ident(engine, c)).collect();
    let values: Vec<String> = row
        .iter()
        .map(|(c, v)| value(engine, v, types(c).as_deref()))
        .collect();
    Sql::new(format!(
        "INSERT INTO {} ({}) VALUES ({})",
        table(engine, name),
        columns.join(", "),
        values.join(", ")
    ))
}

/// Puts an updated row's values back (by key).
pub fn restore_row(
    engine: Engine,
    name: &TableName,
    keys: &[String],
    row: &Map<String, Value>,
    types: &dyn Fn(&str) -> Option<String>,
) -> Sql {
    let set: Vec<String> = row
        .iter()
        .filter(|(c, _)| !keys.contains(c))
        .map(|(c, v)| {
            format!(
                "{} = {}",
                ident(engine, c),
                value(engine, v, types(c).as_deref())
            )
        })
        .collect();
    Sql::new(format!(
        "UPDATE {} SET {} WHERE {}",
        table(engine, name),
        set.join(", "),
        key_filter(engine, keys, &[row], types)
    ))
}

/// The index a foreign key needs (built without blocking writes on PostgreSQL).
pub fn create_index(engine: Engine, name: &TableName, columns: &[String]) -> Sql {
    let index = format!("{}_{}_idx", name.name, columns.join("_"));
    let list: Vec<String> = columns.iter().map(|c| ident(engine, c)).collect();
    match engine {
        Engine::Postgres => Sql::new(format!(
            "CREATE INDEX CONCURRENTLY {} ON {} ({})",
            ident(engine, &index),
            table(engine, name),
            list.join(", ")
        )),
        Engine::Sqlite => Sql::new(format!(
            "CREATE INDEX {}.{} ON {} ({})",
            ident(engine, &name.schema),
            ident(engine, &index),
            ident(engine, &name.name),
            list.join(", ")
        )),
        Engine::Mysql => Sql::new(format!(
            "CREATE INDEX {} ON {} ({}) ALGORITHM=INPLACE LOCK=NONE",
            ident(engine, &index),
            table(engine, name),
            list.join(", ")
        )),
    }
}

/// The constraint a profile relationship lacks: added without checking existing
/// rows (PostgreSQL `NOT VALID`), then validated once the orphans are gone.
pub fn add_constraint(
    engine: Engine,
    child: &TableName,
    columns: &[String],
    parent: &TableName,
    parent_columns: &[String],
    on_delete: &str,
) -> Vec<Sql> {
    let name = format!("{}_{}_fkey", child.name, columns.join("_"));
    let list = |cols: &[String]| {
        cols.iter()
            .map(|c| ident(engine, c))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let rule = on_delete.replace('_', " ").to_uppercase();
    match engine {
        Engine::Postgres => vec![
            Sql::new(format!(
                "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {rule} NOT VALID",
                table(engine, child),
                ident(engine, &name),
                list(columns),
                table(engine, parent),
                list(parent_columns)
            )),
            Sql::new(format!(
                "ALTER TABLE {} VALIDATE CONSTRAINT {}",
                table(engine, child),
                ident(engine, &name)
            )),
        ],
        Engine::Mysql => vec![Sql::new(format!(
            "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {rule}",
            table(engine, child),
            ident(engine, &name),
            list(columns),
            table(engine, parent),
            list(parent_columns)
        ))],
        // SQLite cannot add a constraint to a table: it is rebuilt.
        Engine::Sqlite => vec![Sql::new(format!(
            "-- SQLite cannot add a foreign key to an existing table: rebuild {} with\n-- FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {rule}",
            ident(engine, &child.name),
            list(columns),
            ident(engine, &parent.name),
            list(parent_columns)
        ))],
    }
}

/// The set-based DELETE of a selection, as a person would run it.
pub fn delete_where(engine: Engine, selection: &Selection) -> Sql {
    let alias = selection.alias();
    let target = match engine {
        Engine::Mysql => format!("DELETE {alias} FROM"),
        _ => "DELETE FROM".to_string(),
    };
    Sql::new(format!(
        "{target} {} AS {alias}\nWHERE {}",
        table(engine, selection.table()),
        selection.condition(engine)
    ))
}

/// The set-based UPDATE that unlinks a selection's rows.
pub fn set_null_where(engine: Engine, selection: &Selection, columns: &[String]) -> Sql {
    let alias = selection.alias();
    let set: Vec<String> = columns
        .iter()
        .map(|c| match engine {
            Engine::Mysql => format!("{} = NULL", col(engine, &alias, c)),
            _ => format!("{} = NULL", ident(engine, c)),
        })
        .collect();
    Sql::new(format!(
        "UPDATE {} AS {alias} SET {}\nWHERE {}",
        table(engine, selection.table()),
        set.join(", "),
        selection.condition(engine)
    ))
}

/// The set-based UPDATE that copies a tenant column from the parent.
pub fn copy_where(engine: Engine, selection: &Selection, column: &str) -> Sql {
    let Selection::Tenant { first, .. } = selection else {
        return delete_where(engine, selection);
    };
    let alias = selection.alias();
    let parent = table(engine, &first.parent);
    let join = join_condition(engine, first, SOURCE);
    let condition = selection.condition(engine);
    Sql::new(match engine {
        Engine::Mysql => format!(
            "UPDATE {} AS {alias} JOIN {parent} AS {SOURCE} ON {join}\nSET {} = {}\nWHERE {condition}",
            table(engine, selection.table()),
            col(engine, &alias, column),
            col(engine, SOURCE, column)
        ),
        _ => format!(
            "UPDATE {} AS {alias} SET {} = {}\nFROM {parent} AS {SOURCE}\nWHERE {join} AND {condition}",
            table(engine, selection.table()),
            ident(engine, column),
            col(engine, SOURCE, column)
        ),
    })
}
