//! Statements that build and load a schema (used by `tether demo` and fixtures).

use super::{Sql, ident, table};
use crate::model::{Action, Engine, TableName};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    Uuid,
    Text,
    Integer,
    Timestamp,
}

impl ColumnType {
    fn render(self, engine: Engine, key: bool) -> &'static str {
        match (engine, self) {
            (Engine::Postgres, ColumnType::Uuid) => "uuid",
            (Engine::Postgres, ColumnType::Text) => "text",
            (Engine::Postgres, ColumnType::Integer) => "integer",
            (Engine::Postgres, ColumnType::Timestamp) => "timestamptz",
            (Engine::Sqlite, ColumnType::Integer) => "INTEGER",
            (Engine::Sqlite, _) => "TEXT",
            (Engine::Mysql, ColumnType::Uuid) => "CHAR(36)",
            (Engine::Mysql, ColumnType::Text) if key => "VARCHAR(191)",
            (Engine::Mysql, ColumnType::Text) => "TEXT",
            (Engine::Mysql, ColumnType::Integer) => "INT",
            (Engine::Mysql, ColumnType::Timestamp) => "DATETIME(6)",
        }
    }
}

#[derive(Clone, Debug)]
pub struct ColumnSpec {
    pub name: String,
    pub ty: ColumnType,
    pub nullable: bool,
}

#[derive(Clone, Debug)]
pub struct ForeignKeySpec {
    pub name: String,
    pub columns: Vec<String>,
    pub parent: TableName,
    pub parent_columns: Vec<String>,
    pub on_delete: Action,
    /// PostgreSQL: false adds the constraint `NOT VALID`.
    pub validate: bool,
}

#[derive(Clone, Debug)]
pub struct TableSpec {
    pub name: TableName,
    pub columns: Vec<ColumnSpec>,
    pub primary_key: Vec<String>,
    pub unique: Vec<Vec<String>>,
    pub foreign_keys: Vec<ForeignKeySpec>,
}

#[derive(Clone, Debug)]
pub struct IndexSpec {
    pub name: String,
    pub table: TableName,
    pub columns: Vec<String>,
}

fn list(engine: Engine, columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| ident(engine, c))
        .collect::<Vec<_>>()
        .join(", ")
}

fn action(a: Action) -> &'static str {
    match a {
        Action::Cascade => "CASCADE",
        Action::SetNull => "SET NULL",
        Action::SetDefault => "SET DEFAULT",
        Action::Restrict => "RESTRICT",
        Action::NoAction => "NO ACTION",
    }
}

fn foreign_key_clause(engine: Engine, fk: &ForeignKeySpec) -> String {
    // SQLite's REFERENCES takes a bare table name, resolved in the child's schema.
    let parent = match engine {
        Engine::Sqlite => ident(engine, &fk.parent.name),
        Engine::Postgres | Engine::Mysql => table(engine, &fk.parent),
    };
    format!(
        "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {parent} ({}) ON DELETE {}",
        ident(engine, &fk.name),
        list(engine, &fk.columns),
        list(engine, &fk.parent_columns),
        action(fk.on_delete)
    )
}

/// `CREATE TABLE`, with its keys inline when `with_keys` (PostgreSQL loads faster
/// when they are added after the data) and its foreign keys inline when
/// `with_foreign_keys` (SQLite cannot add them later).
pub fn create_table(
    engine: Engine,
    spec: &TableSpec,
    with_keys: bool,
    with_foreign_keys: bool,
) -> Sql {
    let keyed = |c: &str| {
        spec.primary_key
            .iter()
            .chain(spec.unique.iter().flatten())
            .any(|k| k == c)
    };
    let mut parts: Vec<String> = spec
        .columns
        .iter()
        .map(|c| {
            format!(
                "{} {}{}",
                ident(engine, &c.name),
                c.ty.render(engine, keyed(&c.name)),
                if c.nullable { "" } else { " NOT NULL" }
            )
        })
        .collect();
    if with_keys {
        if !spec.primary_key.is_empty() {
            parts.push(format!("PRIMARY KEY ({})", list(engine, &spec.primary_key)));
        }
        for unique in &spec.unique {
            parts.push(format!("UNIQUE ({})", list(engine, unique)));
        }
    }
    if with_foreign_keys {
        parts.extend(
            spec.foreign_keys
                .iter()
                .map(|fk| foreign_key_clause(engine, fk)),
        );
    }
    let suffix = if engine == Engine::Mysql {
        " ENGINE=InnoDB"
    } else {
        ""
    };
    Sql::new(format!(
        "CREATE TABLE {} (\n  {}\n){suffix}",
        table(engine, &spec.name),
        parts.join(",\n  ")
    ))
}

/// `ALTER TABLE … ADD PRIMARY KEY` and `ADD UNIQUE`, for keys added after a load.
pub fn add_keys(engine: Engine, spec: &TableSpec) -> Vec<Sql> {
    let mut out = Vec::new();
    if !spec.primary_key.is_empty() {
        out.push(Sql::new(format!(
            "ALTER TABLE {} ADD PRIMARY KEY ({})",
            table(engine, &spec.name),
            list(engine, &spec.primary_key)
        )));
    }
    for unique in &spec.unique {
        out.push(Sql::new(format!(
            "ALTER TABLE {} ADD UNIQUE ({})",
            table(engine, &spec.name),
            list(engine, unique)
        )));
    }
    out
}

/// `ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY`, `NOT VALID` on PostgreSQL when asked.
pub fn add_foreign_key(engine: Engine, child: &TableName, fk: &ForeignKeySpec) -> Sql {
    let not_valid = if engine == Engine::Postgres && !fk.validate {
        " NOT VALID"
    } else {
        ""
    };
    Sql::new(format!(
        "ALTER TABLE {} ADD {}{not_valid}",
        table(engine, child),
        foreign_key_clause(engine, fk)
    ))
}

pub fn create_index(engine: Engine, index: &IndexSpec) -> Sql {
    // SQLite qualifies the index name, not the table.
    let (name, on) = match engine {
        Engine::Sqlite => (
            format!(
                "{}.{}",
                ident(engine, &index.table.schema),
                ident(engine, &index.name)
            ),
            ident(engine, &index.table.name),
        ),
        Engine::Postgres | Engine::Mysql => {
            (ident(engine, &index.name), table(engine, &index.table))
        }
    };
    Sql::new(format!(
        "CREATE INDEX {name} ON {on} ({})",
        list(engine, &index.columns)
    ))
}

pub fn drop_table(engine: Engine, name: &TableName) -> Sql {
    let cascade = if engine == Engine::Postgres {
        " CASCADE"
    } else {
        ""
    };
    Sql::new(format!(
        "DROP TABLE IF EXISTS {}{cascade}",
        table(engine, name)
    ))
}

/// PostgreSQL `COPY … FROM STDIN` in text format.
pub fn copy_from_stdin(name: &TableName, columns: &[String]) -> Sql {
    Sql::new(format!(
        "COPY {} ({}) FROM STDIN",
        table(Engine::Postgres, name),
        list(Engine::Postgres, columns)
    ))
}

/// A multi-row `INSERT` with placeholders for `rows` rows.
pub fn insert(engine: Engine, name: &TableName, columns: &[String], rows: usize) -> Sql {
    let mut n = 0;
    let mut tuples = Vec::with_capacity(rows);
    for _ in 0..rows {
        let marks: Vec<String> = columns
            .iter()
            .map(|_| {
                n += 1;
                match engine {
                    Engine::Postgres => format!("${n}"),
                    Engine::Sqlite => format!("?{n}"),
                    Engine::Mysql => "?".to_string(),
                }
            })
            .collect();
        tuples.push(format!("({})", marks.join(", ")));
    }
    Sql::new(format!(
        "INSERT INTO {} ({}) VALUES {}",
        table(engine, name),
        list(engine, columns),
        tuples.join(", ")
    ))
}

/// `ANALYZE` after a bulk load, so planners and row estimates know the sizes.
pub fn analyze(engine: Engine, name: &TableName) -> Sql {
    match engine {
        Engine::Postgres => Sql::new(format!("ANALYZE {}", table(engine, name))),
        Engine::Sqlite => Sql::new(format!("ANALYZE {}", table(engine, name))),
        Engine::Mysql => Sql::new(format!("ANALYZE TABLE {}", table(engine, name))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_table_with_keys() {
        let spec = TableSpec {
            name: TableName::new("main", "kids"),
            columns: vec![
                ColumnSpec {
                    name: "id".into(),
                    ty: ColumnType::Uuid,
                    nullable: false,
                },
                ColumnSpec {
                    name: "mom".into(),
                    ty: ColumnType::Uuid,
                    nullable: true,
                },
            ],
            primary_key: vec!["id".into()],
            unique: vec![],
            foreign_keys: vec![ForeignKeySpec {
                name: "kids_mom_fkey".into(),
                columns: vec!["mom".into()],
                parent: TableName::new("main", "moms"),
                parent_columns: vec!["id".into()],
                on_delete: Action::SetNull,
                validate: true,
            }],
        };
        let sql = create_table(Engine::Sqlite, &spec, true, true);
        assert!(sql.as_str().contains("\"mom\" TEXT,"));
        assert!(
            sql.as_str()
                .contains("REFERENCES \"moms\" (\"id\") ON DELETE SET NULL")
        );
        assert_eq!(
            insert(
                Engine::Postgres,
                &spec.name,
                &["id".into(), "mom".into()],
                2
            )
            .as_str(),
            "INSERT INTO \"main\".\"kids\" (\"id\", \"mom\") VALUES ($1, $2), ($3, $4)"
        );
    }
}
