//! MySQL's and MariaDB's catalog, read from `information_schema`.

use super::{CatalogRows, Reads, Tables};
use crate::model::{
    Column, DeclaredRules, Engine, ForeignKey, Identity, Index, Schema, Table, TableKind, TableName,
};
use sqlx::mysql::{MySqlArguments, MySqlRow};
use sqlx::query::Query;
use sqlx::{MySql, MySqlPool, Row};
use std::collections::HashMap;

/// The current database, or the schemas in `?` (comma-separated).
macro_rules! in_scope {
    ($column:literal) => {
        concat!(
            "(CASE WHEN ? = '' THEN ",
            $column,
            " = DATABASE() ELSE FIND_IN_SET(",
            $column,
            ", ?) > 0 END)"
        )
    };
}

const TABLES: &str = concat!(
    "SELECT CAST(TABLE_SCHEMA AS CHAR), CAST(TABLE_NAME AS CHAR), CAST(ENGINE AS CHAR), CAST(TABLE_ROWS AS SIGNED)
FROM information_schema.TABLES
WHERE TABLE_TYPE = 'BASE TABLE' AND ",
    in_scope!("TABLE_SCHEMA"),
    "\nORDER BY 1, 2"
);

const COLUMNS: &str = concat!(
    "SELECT CAST(TABLE_SCHEMA AS CHAR), CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR),
       CAST(COLUMN_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR),
       CAST(EXTRA LIKE '%VIRTUAL GENERATED%' OR EXTRA LIKE '%STORED GENERATED%'
            OR EXTRA LIKE '%PERSISTENT GENERATED%' AS SIGNED),
       CAST(EXTRA LIKE '%auto_increment%' AS SIGNED)
FROM information_schema.COLUMNS
WHERE ",
    in_scope!("TABLE_SCHEMA"),
    "\nORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION"
);

/// Index columns in order; `PRIMARY` is the primary key. A prefix index
/// (SUB_PART) cannot prove uniqueness of the whole column.
const INDEXES: &str = concat!(
    "SELECT CAST(TABLE_SCHEMA AS CHAR), CAST(TABLE_NAME AS CHAR), CAST(INDEX_NAME AS CHAR),
       CAST(COLUMN_NAME AS CHAR), CAST(NON_UNIQUE AS SIGNED), CAST(SUB_PART IS NOT NULL AS SIGNED)
FROM information_schema.STATISTICS
WHERE ",
    in_scope!("TABLE_SCHEMA"),
    "\nORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
);

const FOREIGN_KEYS: &str = concat!(
    "SELECT CAST(k.CONSTRAINT_NAME AS CHAR), CAST(k.TABLE_SCHEMA AS CHAR), CAST(k.TABLE_NAME AS CHAR),
       CAST(k.COLUMN_NAME AS CHAR), CAST(k.REFERENCED_TABLE_SCHEMA AS CHAR), CAST(k.REFERENCED_TABLE_NAME AS CHAR),
       CAST(k.REFERENCED_COLUMN_NAME AS CHAR), CAST(r.DELETE_RULE AS CHAR), CAST(r.UPDATE_RULE AS CHAR),
       CAST(r.MATCH_OPTION AS CHAR)
FROM information_schema.KEY_COLUMN_USAGE k
JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
 AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.REFERENCED_TABLE_NAME IS NOT NULL AND ",
    in_scope!("k.TABLE_SCHEMA"),
    "\nORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION"
);

/// How many privileges beyond SELECT the user holds on the database (global,
/// schema or table level).
const PRIVILEGES_BEYOND_SELECT: &str = concat!(
    "SELECT CAST(COUNT(*) AS SIGNED) FROM (
  SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES
  UNION ALL SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE ",
    in_scope!("TABLE_SCHEMA"),
    "
  UNION ALL SELECT PRIVILEGE_TYPE FROM information_schema.TABLE_PRIVILEGES WHERE ",
    in_scope!("TABLE_SCHEMA"),
    "
) p WHERE PRIVILEGE_TYPE NOT IN ('SELECT', 'USAGE')"
);

const CURRENT_DATABASE: &str = "SELECT CAST(DATABASE() AS CHAR)";

pub async fn read(pool: &MySqlPool, schemas: &[String]) -> Result<Schema, sqlx::Error> {
    let scope = schemas.join(",");
    let reads = Reads::default();
    let rows = read_catalog(pool, &reads, &scope).await?;
    let current = rows.current;
    let mut tables = tables_from(rows.tables)?;
    add_columns(&mut tables, rows.columns)?;
    let index_model = indexes_from(rows.indexes)?;
    set_primary_keys(&mut tables, &index_model);
    let foreign_keys = foreign_keys_from(rows.constraints)?;
    let blind_spots = read_blind_spots(pool, &reads, &scope, &tables, current.as_deref()).await?;
    Ok(Schema {
        engine: Engine::Mysql,
        default_schema: current.unwrap_or_default(),
        tables: tables.model,
        foreign_keys: foreign_keys.into_iter().map(std::sync::Arc::new).collect(),
        indexes: index_model,
        blind_spots,
        lookup: Default::default(),
        reads: reads.into_inner(),
    })
}

/// A catalog query with `scope` bound to the two `?` of its [`in_scope!`].
fn scoped<'q>(sql: &'static str, scope: &str) -> Query<'q, MySql, MySqlArguments> {
    sqlx::query(sql)
        .bind(scope.to_string())
        .bind(scope.to_string())
}

/// Reads the current database, then runs the tables, columns, indexes and
/// foreign keys queries at once, each restricted to `scope`.
async fn read_catalog(
    pool: &MySqlPool,
    reads: &Reads,
    scope: &str,
) -> Result<CatalogRows<MySqlRow>, sqlx::Error> {
    let bind = |sql: &'static str| scoped(sql, scope);
    let current = reads
        .name("catalog:current database", CURRENT_DATABASE, pool)
        .await?;
    let (tables, columns, indexes, foreign_keys) = tokio::try_join!(
        reads.time("catalog:tables", TABLES, bind(TABLES).fetch_all(pool)),
        reads.time("catalog:columns", COLUMNS, bind(COLUMNS).fetch_all(pool)),
        reads.time("catalog:indexes", INDEXES, bind(INDEXES).fetch_all(pool)),
        reads.time(
            "catalog:foreign keys",
            FOREIGN_KEYS,
            bind(FOREIGN_KEYS).fetch_all(pool)
        ),
    )?;
    Ok(CatalogRows {
        current,
        tables,
        columns,
        constraints: foreign_keys,
        indexes,
    })
}

/// The base tables, without their columns and keys yet.
fn tables_from(rows: Vec<MySqlRow>) -> Result<Tables, sqlx::Error> {
    let mut tables = Tables {
        model: Vec::new(),
        position: HashMap::new(),
    };
    for row in rows {
        let name = TableName::new(row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?);
        tables.position.insert(name.clone(), tables.model.len());
        tables.model.push(Table {
            row_estimate: row.try_get::<Option<i64>, _>(3)?,
            storage_engine: row.try_get(2)?,
            ..Table::new(name, TableKind::Table)
        });
    }
    Ok(tables)
}

/// Adds each column to its table, in column order.
fn add_columns(tables: &mut Tables, rows: Vec<MySqlRow>) -> Result<(), sqlx::Error> {
    for row in rows {
        let name = TableName::new(row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?);
        if let Some(&i) = tables.position.get(&name) {
            tables.model[i].columns.push(Column {
                name: row.try_get(2)?,
                data_type: row.try_get(3)?,
                nullable: row.try_get::<String, _>(4)? == "YES",
                generated: row.try_get::<i64, _>(5)? != 0,
                identity: (row.try_get::<i64, _>(6)? != 0).then_some(Identity::ByDefault),
            });
        }
    }
    Ok(())
}

/// The indexes, one per (table, name), their columns in order; a prefix of
/// any column makes an index partial.
fn indexes_from(rows: Vec<MySqlRow>) -> Result<Vec<Index>, sqlx::Error> {
    let mut index_model: Vec<Index> = Vec::new();
    for row in rows {
        let table = TableName::new(row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?);
        let name: String = row.try_get(2)?;
        let column: Option<String> = row.try_get(3)?;
        let prefix = row.try_get::<i64, _>(5)? != 0;
        match index_model.last_mut() {
            Some(i) if i.table == table && i.name == name => {
                i.columns.push(column);
                i.partial |= prefix;
            }
            _ => index_model.push(Index {
                name,
                table,
                columns: vec![column],
                unique: row.try_get::<i64, _>(4)? == 0,
                partial: prefix,
                valid: true,
            }),
        }
    }
    Ok(index_model)
}

/// Sets each table's primary key from its `PRIMARY` index, and the range key
/// that key gives.
fn set_primary_keys(tables: &mut Tables, indexes: &[Index]) {
    for index in indexes.iter().filter(|i| i.name == "PRIMARY") {
        if let Some(&t) = tables.position.get(&index.table) {
            let table = &mut tables.model[t];
            table.primary_key = index.columns.iter().flatten().cloned().collect();
            table.range_key = whole_number_key(table);
        }
    }
}

/// The foreign keys, one per (child table, name), their columns in order.
fn foreign_keys_from(rows: Vec<MySqlRow>) -> Result<Vec<ForeignKey>, sqlx::Error> {
    let mut foreign_keys: Vec<ForeignKey> = Vec::new();
    for row in rows {
        let name: String = row.try_get(0)?;
        let child = TableName::new(row.try_get::<String, _>(1)?, row.try_get::<String, _>(2)?);
        let column: String = row.try_get(3)?;
        let parent_column: String = row.try_get(6)?;
        match foreign_keys.last_mut() {
            Some(fk) if fk.name == name && fk.child == child => {
                fk.child_columns.push(column);
                fk.parent_columns.push(parent_column);
            }
            _ => foreign_keys.push(foreign_key(&row, name, child, column, parent_column)?),
        }
    }
    Ok(foreign_keys)
}

/// A foreign key from its first column's row of [`FOREIGN_KEYS`].
fn foreign_key(
    row: &MySqlRow,
    name: String,
    child: TableName,
    column: String,
    parent_column: String,
) -> Result<ForeignKey, sqlx::Error> {
    let rules = DeclaredRules::parse_catalog(
        &row.try_get::<String, _>(7)?,
        &row.try_get::<String, _>(8)?,
        &row.try_get::<String, _>(9)?,
    );
    let parent = TableName::new(row.try_get::<String, _>(4)?, row.try_get::<String, _>(5)?);
    Ok(ForeignKey::immediate(
        name,
        (child, vec![column]),
        (parent, vec![parent_column]),
        rules,
    ))
}

/// MariaDB and MySQL list a table's constraints in information_schema only
/// to a user with some privilege on it beyond SELECT: reads whether this user
/// has one, and says what may be missing when it has none.
async fn read_blind_spots(
    pool: &MySqlPool,
    reads: &Reads,
    scope: &str,
    tables: &Tables,
    current: Option<&str>,
) -> Result<Vec<String>, sqlx::Error> {
    let beyond_select: i64 = reads
        .time(
            "catalog:privileges",
            PRIVILEGES_BEYOND_SELECT,
            scoped(PRIVILEGES_BEYOND_SELECT, scope)
                .bind(scope.to_string())
                .bind(scope.to_string())
                .fetch_one(pool),
        )
        .await?
        .try_get(0)?;
    let mut blind_spots = Vec::new();
    if beyond_select == 0 && !tables.model.is_empty() {
        blind_spots.push(format!(
            "this user may only SELECT here, and the server hides foreign keys from such a user in information_schema: declared constraints can be missing from this report (and show as implied or missing); GRANT REFERENCES ON `{}`.* to the user (it changes no data)",
            current.unwrap_or_default()
        ));
    }
    Ok(blind_spots)
}

/// A single whole-number primary key orders the table's rows (InnoDB
/// clusters them by it): passes can read ranges of it.
fn whole_number_key(table: &Table) -> Option<String> {
    let [key] = table.primary_key.as_slice() else {
        return None;
    };
    let column_type = table.column(key)?.data_type.to_ascii_lowercase();
    ["tinyint", "smallint", "mediumint", "int", "bigint"]
        .iter()
        .any(|i| {
            column_type == *i
                || column_type.starts_with(&format!("{i}("))
                || column_type.starts_with(&format!("{i} "))
        })
        .then(|| key.clone())
}
