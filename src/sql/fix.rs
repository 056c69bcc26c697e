//! Statements of `tether fix`: which rows a remedy touches, the changes, the DDL
//! it proposes, and the statements that restore a backup.

use super::render::{CHILD, Lookup, Predicate, col, join_condition, standalone_where};
use super::{Sql, as_text, ident, table};
use crate::cell::CellKind;
use crate::model::{Column, Engine, TableName};

/// The rows a remedy changes itself: those of a table matching a check's
/// predicate. What hangs off them is the database's to handle, by its
/// declared rules (see `fix::walk`).
#[derive(Clone, Debug, PartialEq)]
pub enum Selection {
    Matching {
        table: TableName,
        predicate: Predicate,
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
            Selection::Matching { table, .. } | Selection::Tenant { table, .. } => table,
        }
    }

    fn alias(&self) -> String {
        CHILD.to_string()
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

    /// For a tenant copy: the parent column the new value is read from.
    fn new_value(&self) -> Option<(&TableName, &str)> {
        match self {
            Selection::Tenant { first, column, .. } => Some((&first.parent, column.as_str())),
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

/// How one column's values are read and written back exactly, per dialect.
///
/// - PostgreSQL: whole numbers as `i64`, `bytea` as bytes, every other value
///   as its own text form (`CAST(… AS text)`), cast back to the column's type
///   on the way in.
/// - MySQL/MariaDB: whole numbers as `i64`/`u64`, `FLOAT`/`DOUBLE` as their
///   binary value, `DECIMAL` as its exact text, binary strings, `BIT` and
///   spatial values as bytes, dates and times as text, other text as text.
/// - SQLite: each value as its storage class.
pub fn cell_kind(engine: Engine, column: &Column) -> CellKind {
    let t = column.data_type.to_ascii_lowercase();
    match engine {
        Engine::Sqlite => CellKind::Dynamic,
        Engine::Postgres if t == "bytea" => CellKind::Bytes,
        Engine::Postgres if matches!(t.as_str(), "smallint" | "integer" | "bigint") => {
            CellKind::Int
        }
        Engine::Postgres => CellKind::Text,
        Engine::Mysql => {
            let base = t.split(['(', ' ']).next().unwrap_or_default();
            match base {
                "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year"
                | "bool" | "boolean" => {
                    if t.contains("unsigned") {
                        CellKind::UInt
                    } else {
                        CellKind::Int
                    }
                }
                "float" => CellKind::Float32,
                "double" | "real" => CellKind::Float64,
                "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob"
                | "bit" | "geometry" | "point" | "linestring" | "polygon" | "multipoint"
                | "multilinestring" | "multipolygon" | "geometrycollection" => CellKind::Bytes,
                _ => CellKind::Text,
            }
        }
    }
}

fn is_temporal_mysql(column: &Column) -> bool {
    let t = column.data_type.to_ascii_lowercase();
    let base = t.split(['(', ' ']).next().unwrap_or_default();
    matches!(base, "date" | "datetime" | "timestamp" | "time")
}

/// The expression that reads a column as [`cell_kind`] says.
fn read(engine: Engine, alias: &str, column: &Column) -> String {
    let expr = col(engine, alias, &column.name);
    match (engine, cell_kind(engine, column)) {
        (Engine::Postgres, CellKind::Text) => format!("CAST({expr} AS text)"),
        (Engine::Postgres, CellKind::Int) => format!("CAST({expr} AS bigint)"),
        (Engine::Mysql, _) if is_temporal_mysql(column) => format!("CAST({expr} AS CHAR)"),
        _ => expr,
    }
}

/// Placeholders for bound cells, numbered in the order they are rendered.
struct Params {
    engine: Engine,
    n: usize,
}

impl Params {
    fn new(engine: Engine) -> Self {
        Params { engine, n: 0 }
    }

    /// The next placeholder, for a value of `column`. `compare`: it is compared
    /// with the column (MySQL compares a DECIMAL with text as a float, so the
    /// text is cast first).
    fn next(&mut self, column: &Column, compare: bool) -> String {
        self.n += 1;
        let n = self.n;
        match self.engine {
            Engine::Postgres => match cell_kind(Engine::Postgres, column) {
                // A NULL travels as text: the cast types it.
                CellKind::Bytes | CellKind::Int => format!("CAST(${n} AS {})", column.data_type),
                _ => format!("CAST(CAST(${n} AS text) AS {})", column.data_type),
            },
            Engine::Sqlite => format!("?{n}"),
            Engine::Mysql => {
                let t = column.data_type.to_ascii_lowercase();
                let base = t.split(['(', ' ']).next().unwrap_or_default();
                if compare && matches!(base, "decimal" | "numeric" | "dec" | "fixed") {
                    let precision: String = t
                        .chars()
                        .skip_while(|c| *c != '(')
                        .take_while(|c| *c != ')')
                        .chain(std::iter::once(')'))
                        .collect();
                    let precision = if precision.len() > 2 {
                        precision
                    } else {
                        "(65,30)".to_string()
                    };
                    format!("CAST(? AS DECIMAL{precision})")
                } else {
                    "?".to_string()
                }
            }
        }
    }

    /// `(a, b) IN ((?, ?), (?, ?))`, or `a IN (?, ?)` for one column: `tuples`
    /// tuples of values for `columns`, bound in that order.
    fn any_of(&mut self, alias: Option<&str>, columns: &[&Column], tuples: usize) -> String {
        self.any_of_as(alias, columns, tuples, false)
    }

    /// [`Params::any_of`]; with `text`, the columns are compared as text.
    fn any_of_as(
        &mut self,
        alias: Option<&str>,
        columns: &[&Column],
        tuples: usize,
        text: bool,
    ) -> String {
        let engine = self.engine;
        let names: Vec<String> = columns
            .iter()
            .map(|c| match alias {
                Some(alias) => col(engine, alias, &c.name),
                None => ident(engine, &c.name),
            })
            .map(|expr| if text { as_text(engine, &expr) } else { expr })
            .collect();
        let mut list = Vec::with_capacity(tuples);
        for _ in 0..tuples {
            let values: Vec<String> = columns.iter().map(|c| self.next(c, true)).collect();
            list.push(if values.len() == 1 {
                values[0].clone()
            } else {
                format!("({})", values.join(", "))
            });
        }
        if names.len() == 1 {
            format!("{} IN ({})", names[0], list.join(", "))
        } else {
            format!("({}) IN ({})", names.join(", "), list.join(", "))
        }
    }
}

fn lock_clause(engine: Engine) -> &'static str {
    match engine {
        // BEGIN IMMEDIATE already holds the database's write lock.
        Engine::Sqlite => "",
        Engine::Postgres | Engine::Mysql => "\nFOR UPDATE",
    }
}

/// Every column of the rows a selection holds, as cells (a snapshot read), and
/// for a tenant copy the new value last. Returns the statement and how to read
/// each column.
pub fn rows(
    engine: Engine,
    selection: &Selection,
    columns: &[Column],
    parent: Option<&Column>,
) -> (Sql, Vec<CellKind>) {
    let alias = selection.alias();
    let mut exprs: Vec<String> = columns.iter().map(|c| read(engine, &alias, c)).collect();
    let mut kinds: Vec<CellKind> = columns.iter().map(|c| cell_kind(engine, c)).collect();
    if let (Some((_, _)), Some(column)) = (selection.new_value(), parent) {
        exprs.push(read(engine, SOURCE, column));
        kinds.push(cell_kind(engine, column));
    }
    (
        Sql::new(format!(
            "SELECT {}\n{}",
            exprs.join(", "),
            selection.source_and_filter(engine)
        )),
        kinds,
    )
}

/// Every column of the rows of `name` whose `matching` columns equal one of
/// `tuples` bound tuples (compared as text with `text`); with `lock`, locked
/// for update (and on MySQL read as last committed). NULL never matches.
pub fn rows_matching(
    engine: Engine,
    name: &TableName,
    columns: &[Column],
    matching: &[&Column],
    tuples: usize,
    text: bool,
    lock: bool,
) -> (Sql, Vec<CellKind>) {
    let exprs: Vec<String> = columns.iter().map(|c| read(engine, CHILD, c)).collect();
    let kinds = columns.iter().map(|c| cell_kind(engine, c)).collect();
    let mut params = Params::new(engine);
    let filter = params.any_of_as(Some(CHILD), matching, tuples, text);
    (
        Sql::new(format!(
            "SELECT {}\nFROM {} AS {CHILD}\nWHERE {filter}{}",
            exprs.join(", "),
            table(engine, name),
            if lock { lock_clause(engine) } else { "" }
        )),
        kinds,
    )
}

/// Deletes the rows of `name` whose `key` is one of `tuples` bound tuples.
pub fn delete_rows(engine: Engine, name: &TableName, key: &[&Column], tuples: usize) -> Sql {
    let mut params = Params::new(engine);
    Sql::new(format!(
        "DELETE FROM {} WHERE {}",
        table(engine, name),
        params.any_of(None, key, tuples)
    ))
}

/// Sets `columns` to NULL in the rows whose `key` is one of `tuples` bound tuples.
pub fn null_rows(
    engine: Engine,
    name: &TableName,
    columns: &[String],
    key: &[&Column],
    tuples: usize,
) -> Sql {
    let set: Vec<String> = columns
        .iter()
        .map(|c| format!("{} = NULL", ident(engine, c)))
        .collect();
    let mut params = Params::new(engine);
    Sql::new(format!(
        "UPDATE {} SET {} WHERE {}",
        table(engine, name),
        set.join(", "),
        params.any_of(None, key, tuples)
    ))
}

/// Sets `columns` of each of `rows` rows to the row's own bound values:
/// binds are, per column and per row, the key values then the new value;
/// then every key again for the filter.
pub fn set_each(
    engine: Engine,
    name: &TableName,
    columns: &[&Column],
    key: &[&Column],
    rows: usize,
) -> Sql {
    let mut params = Params::new(engine);
    let mut set = Vec::with_capacity(columns.len());
    for column in columns {
        let mut cases = Vec::with_capacity(rows);
        for _ in 0..rows {
            let when: Vec<String> = key
                .iter()
                .map(|k| format!("{} = {}", ident(engine, &k.name), params.next(k, true)))
                .collect();
            cases.push(format!(
                "WHEN {} THEN {}",
                when.join(" AND "),
                params.next(column, false)
            ));
        }
        set.push(format!(
            "{} = CASE {} END",
            ident(engine, &column.name),
            cases.join(" ")
        ));
    }
    Sql::new(format!(
        "UPDATE {} SET {} WHERE {}",
        table(engine, name),
        set.join(", "),
        params.any_of(None, key, rows)
    ))
}

/// Puts `rows` rows back: `columns` bound in order, row after row.
/// `override_identity`: PostgreSQL `OVERRIDING SYSTEM VALUE`, for a
/// `GENERATED ALWAYS` identity column.
pub fn insert_rows(
    engine: Engine,
    name: &TableName,
    columns: &[&Column],
    rows: usize,
    override_identity: bool,
) -> Sql {
    let mut params = Params::new(engine);
    let names: Vec<String> = columns.iter().map(|c| ident(engine, &c.name)).collect();
    let tuples: Vec<String> = (0..rows)
        .map(|_| {
            let values: Vec<String> = columns.iter().map(|c| params.next(c, false)).collect();
            format!("({})", values.join(", "))
        })
        .collect();
    let overriding = if override_identity && engine == Engine::Postgres {
        " OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    Sql::new(format!(
        "INSERT INTO {} ({}){overriding} VALUES {}",
        table(engine, name),
        names.join(", "),
        tuples.join(", ")
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
/// Rendered by the one DDL renderer ([`super::ddl`]).
pub fn add_constraint(
    engine: Engine,
    child: &TableName,
    columns: &[String],
    parent: &TableName,
    parent_columns: &[String],
    on_delete: crate::model::ReferentialAction,
) -> Vec<Sql> {
    let fk = super::ddl::ForeignKeySpec {
        name: format!("{}_{}_fkey", child.name, columns.join("_")),
        columns: columns.to_vec(),
        parent: parent.clone(),
        parent_columns: parent_columns.to_vec(),
        on_delete,
        validate: false,
    };
    match engine {
        Engine::Postgres => vec![
            super::ddl::add_foreign_key(engine, child, &fk),
            Sql::new(format!(
                "ALTER TABLE {} VALIDATE CONSTRAINT {}",
                table(engine, child),
                ident(engine, &fk.name)
            )),
        ],
        Engine::Mysql => vec![super::ddl::add_foreign_key(engine, child, &fk)],
        // SQLite cannot add a constraint to a table: it is rebuilt.
        Engine::Sqlite => vec![Sql::new(format!(
            "-- SQLite cannot add a foreign key to an existing table: rebuild {} with\n-- {}",
            ident(engine, &child.name),
            super::ddl::references_clause(engine, &fk)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, data_type: &str) -> Column {
        Column::of_type(name, data_type)
    }

    #[test]
    fn each_engine_reads_values_exactly() {
        let pg = |t: &str| cell_kind(Engine::Postgres, &column("c", t));
        assert_eq!(pg("bigint"), CellKind::Int);
        assert_eq!(pg("numeric(30,10)"), CellKind::Text);
        assert_eq!(pg("bytea"), CellKind::Bytes);
        assert_eq!(pg("text[]"), CellKind::Text);
        let my = |t: &str| cell_kind(Engine::Mysql, &column("c", t));
        assert_eq!(my("bigint(20) unsigned"), CellKind::UInt);
        assert_eq!(my("tinyint(1)"), CellKind::Int);
        assert_eq!(my("decimal(30,10)"), CellKind::Text);
        assert_eq!(my("double"), CellKind::Float64);
        assert_eq!(my("float"), CellKind::Float32);
        assert_eq!(my("longblob"), CellKind::Bytes);
        assert_eq!(my("bit(3)"), CellKind::Bytes);
        assert_eq!(my("datetime(6)"), CellKind::Text);
        assert_eq!(
            cell_kind(Engine::Sqlite, &column("c", "INTEGER")),
            CellKind::Dynamic
        );
    }

    #[test]
    fn keys_are_bound_and_cast_to_their_columns() {
        let name = TableName::new("public", "Kind \"Ä\"");
        let key = [
            column("id", "bigint"),
            column("at", "timestamp with time zone"),
        ];
        let refs: Vec<&Column> = key.iter().collect();
        assert_eq!(
            delete_rows(Engine::Postgres, &name, &refs, 2).as_str(),
            "DELETE FROM \"public\".\"Kind \"\"Ä\"\"\" WHERE (\"id\", \"at\") IN ((CAST($1 AS bigint), CAST(CAST($2 AS text) AS timestamp with time zone)), (CAST($3 AS bigint), CAST(CAST($4 AS text) AS timestamp with time zone)))"
        );
        let amount = column("amount", "decimal(30,10) unsigned");
        assert_eq!(
            delete_rows(Engine::Mysql, &TableName::new("db", "t"), &[&amount], 2).as_str(),
            "DELETE FROM `db`.`t` WHERE `amount` IN (CAST(? AS DECIMAL(30,10)), CAST(? AS DECIMAL(30,10)))"
        );
        let id = column("id", "INTEGER");
        assert_eq!(
            delete_rows(Engine::Sqlite, &TableName::new("main", "t"), &[&id], 2).as_str(),
            "DELETE FROM \"main\".\"t\" WHERE \"id\" IN (?1, ?2)"
        );
    }

    #[test]
    fn an_identity_always_row_goes_back_with_its_value() {
        let id = column("id", "bigint");
        let v = column("v", "jsonb");
        assert_eq!(
            insert_rows(
                Engine::Postgres,
                &TableName::new("public", "t"),
                &[&id, &v],
                2,
                true
            )
            .as_str(),
            "INSERT INTO \"public\".\"t\" (\"id\", \"v\") OVERRIDING SYSTEM VALUE VALUES (CAST($1 AS bigint), CAST(CAST($2 AS text) AS jsonb)), (CAST($3 AS bigint), CAST(CAST($4 AS text) AS jsonb))"
        );
    }
}
