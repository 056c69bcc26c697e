//! Statements that build and load a schema (used by `tether demo` and fixtures).

use super::{Sql, ident, literal, table};
use crate::model::{Engine, ReferentialAction, TableName};

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
    pub on_delete: ReferentialAction,
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

fn action(a: ReferentialAction) -> &'static str {
    match a {
        ReferentialAction::Cascade => "CASCADE",
        ReferentialAction::SetNull => "SET NULL",
        ReferentialAction::SetDefault => "SET DEFAULT",
        ReferentialAction::Restrict => "RESTRICT",
        ReferentialAction::NoAction => "NO ACTION",
    }
}

/// `CONSTRAINT name FOREIGN KEY (…) REFERENCES parent (…) ON DELETE …`.
fn foreign_key_clause(engine: Engine, fk: &ForeignKeySpec) -> String {
    format!(
        "CONSTRAINT {} {}",
        ident(engine, &fk.name),
        references_clause(engine, fk)
    )
}

/// `FOREIGN KEY (…) REFERENCES parent (…) ON DELETE …`.
pub(super) fn references_clause(engine: Engine, fk: &ForeignKeySpec) -> String {
    // SQLite's REFERENCES takes a bare table name, resolved in the child's schema.
    let parent = match engine {
        Engine::Sqlite => ident(engine, &fk.parent.name),
        Engine::Postgres | Engine::Mysql => table(engine, &fk.parent),
    };
    format!(
        "FOREIGN KEY ({}) REFERENCES {parent} ({}) ON DELETE {}",
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

/// Drops exactly these tables, without `CASCADE`: what depends on them from
/// outside makes PostgreSQL refuse, and nothing is dropped. One statement on
/// PostgreSQL and MySQL (foreign keys among the tables do not matter); SQLite
/// drops one table per statement (run them in one transaction).
pub fn drop_tables(engine: Engine, names: &[TableName]) -> Vec<Sql> {
    let quoted: Vec<String> = names.iter().map(|n| table(engine, n)).collect();
    match engine {
        Engine::Postgres | Engine::Mysql => {
            vec![Sql::new(format!(
                "DROP TABLE IF EXISTS {}",
                quoted.join(", ")
            ))]
        }
        Engine::Sqlite => quoted
            .iter()
            .map(|t| Sql::new(format!("DROP TABLE IF EXISTS {t}")))
            .collect(),
    }
}

/// The objects outside `names` (tables of `schema`) that depend on them,
/// as rows of (`object`, `on_table`, `definition`): `object` names it for a
/// person; `on_table` is the table it depends on when the catalog says so,
/// else empty, and `definition` is then SQL that may name one of the tables
/// (a view's or trigger's), for the caller to read.
///
/// - PostgreSQL: `pg_depend` (views, other tables' foreign keys, …), and
///   user triggers on the tables;
/// - MySQL: other tables' foreign keys; views of this schema (or naming it)
///   and triggers of this schema, with their definitions;
/// - SQLite: other tables' foreign keys; views and triggers, with their SQL.
pub fn dependents(engine: Engine, schema: &str, names: &[String]) -> Sql {
    let list = names
        .iter()
        .map(|n| literal(engine, n))
        .collect::<Vec<_>>()
        .join(", ");
    let schema_literal = literal(engine, schema);
    Sql::new(match engine {
        Engine::Postgres => format!(
            "WITH demo AS (
  SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = {schema_literal} AND c.relname IN ({list})
)
SELECT DISTINCT
  CASE WHEN d.classid = 'pg_rewrite'::regclass
       THEN (SELECT pg_describe_object('pg_class'::regclass, r.ev_class, 0) FROM pg_rewrite r WHERE r.oid = d.objid)
       ELSE pg_describe_object(d.classid, d.objid, 0) END AS object,
  d.refobjid::regclass::text AS on_table,
  '' AS definition
FROM pg_depend d
WHERE d.refclassid = 'pg_class'::regclass
  AND d.refobjid IN (SELECT oid FROM demo)
  AND d.deptype = 'n'
  AND NOT (d.classid = 'pg_class'::regclass AND d.objid IN (SELECT oid FROM demo))
  AND NOT (d.classid = 'pg_constraint'::regclass AND EXISTS (
    SELECT 1 FROM pg_constraint k WHERE k.oid = d.objid AND k.conrelid IN (SELECT oid FROM demo)))
  AND NOT (d.classid = 'pg_rewrite'::regclass AND EXISTS (
    SELECT 1 FROM pg_rewrite r WHERE r.oid = d.objid AND r.ev_class IN (SELECT oid FROM demo)))
UNION
SELECT 'trigger ' || t.tgname || ' on ' || t.tgrelid::regclass::text, t.tgrelid::regclass::text, ''
FROM pg_trigger t
WHERE NOT t.tgisinternal AND t.tgrelid IN (SELECT oid FROM demo)
ORDER BY 1"
        ),
        Engine::Mysql => {
            let qualified = literal(engine, &format!("%`{}`.%", schema.replace('`', "``")));
            format!(
                "SELECT CAST(CONCAT('foreign key ', k.CONSTRAINT_NAME, ' on ',
         IF(k.TABLE_SCHEMA = {schema_literal}, k.TABLE_NAME, CONCAT(k.TABLE_SCHEMA, '.', k.TABLE_NAME))) AS CHAR) AS object,
       CAST(k.REFERENCED_TABLE_NAME AS CHAR) AS on_table,
       CAST('' AS CHAR) AS definition
FROM information_schema.KEY_COLUMN_USAGE k
WHERE k.REFERENCED_TABLE_SCHEMA = {schema_literal} AND k.REFERENCED_TABLE_NAME IN ({list})
  AND NOT (k.TABLE_SCHEMA = {schema_literal} AND k.TABLE_NAME IN ({list}))
UNION
SELECT CAST(CONCAT('view ', IF(v.TABLE_SCHEMA = {schema_literal}, v.TABLE_NAME, CONCAT(v.TABLE_SCHEMA, '.', v.TABLE_NAME))) AS CHAR),
       CAST('' AS CHAR),
       CAST(v.VIEW_DEFINITION AS CHAR)
FROM information_schema.VIEWS v
WHERE v.TABLE_SCHEMA = {schema_literal} OR v.VIEW_DEFINITION LIKE {qualified}
UNION
SELECT CAST(CONCAT('trigger ', t.TRIGGER_NAME, ' on ', t.EVENT_OBJECT_TABLE) AS CHAR),
       CAST(IF(t.EVENT_OBJECT_SCHEMA = {schema_literal} AND t.EVENT_OBJECT_TABLE IN ({list}), t.EVENT_OBJECT_TABLE, '') AS CHAR),
       CAST(t.ACTION_STATEMENT AS CHAR)
FROM information_schema.TRIGGERS t
WHERE t.TRIGGER_SCHEMA = {schema_literal}
ORDER BY 1"
            )
        }
        Engine::Sqlite => format!(
            "SELECT 'foreign key ' || m.name || '(' || f.\"from\" || ')' AS object,
       f.\"table\" AS on_table,
       '' AS definition
FROM {schema}.sqlite_master AS m, pragma_foreign_key_list(m.name, {schema_literal}) AS f
WHERE m.type = 'table' AND m.name COLLATE NOCASE NOT IN ({list})
  AND f.\"table\" COLLATE NOCASE IN ({list})
UNION
SELECT m.type || ' ' || m.name, '', m.sql
FROM {schema}.sqlite_master AS m
WHERE m.type IN ('view', 'trigger')
ORDER BY 1",
            schema = ident(engine, schema)
        ),
    })
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
                on_delete: ReferentialAction::SetNull,
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
