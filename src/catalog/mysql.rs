//! MySQL's and MariaDB's catalog, read from `information_schema`.

use super::Reads;
use crate::model::{
    Column, Engine, ForeignKey, Identity, Index, MatchType, ReferentialAction, Schema, Table,
    TableKind, TableName,
};
use sqlx::{MySqlPool, Row};
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

pub async fn read(pool: &MySqlPool, schemas: &[String]) -> Result<Schema, sqlx::Error> {
    let scope = schemas.join(",");
    let bind = |sql: &'static str| sqlx::query(sql).bind(scope.clone()).bind(scope.clone());
    let reads = Reads::default();
    const CURRENT: &str = "SELECT CAST(DATABASE() AS CHAR)";
    let current: Option<String> = reads
        .time(
            "catalog:current database",
            CURRENT,
            sqlx::query_scalar(CURRENT).fetch_one(pool),
        )
        .await?;
    let (tables, columns, indexes, fks) = tokio::try_join!(
        reads.time("catalog:tables", TABLES, bind(TABLES).fetch_all(pool)),
        reads.time("catalog:columns", COLUMNS, bind(COLUMNS).fetch_all(pool)),
        reads.time("catalog:indexes", INDEXES, bind(INDEXES).fetch_all(pool)),
        reads.time(
            "catalog:foreign keys",
            FOREIGN_KEYS,
            bind(FOREIGN_KEYS).fetch_all(pool)
        ),
    )?;

    let mut model: Vec<Table> = Vec::new();
    let mut position: HashMap<TableName, usize> = HashMap::new();
    for row in tables {
        let name = TableName::new(row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?);
        position.insert(name.clone(), model.len());
        model.push(Table {
            name,
            kind: TableKind::Table,
            columns: Vec::new(),
            primary_key: Vec::new(),
            row_estimate: row.try_get::<Option<i64>, _>(3)?,
            pages: None,
            storage_engine: row.try_get(2)?,
            range_key: None,
            access: Default::default(),
            inherits_from: None,
        });
    }
    for row in columns {
        let name = TableName::new(row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?);
        if let Some(&i) = position.get(&name) {
            model[i].columns.push(Column {
                name: row.try_get(2)?,
                data_type: row.try_get(3)?,
                nullable: row.try_get::<String, _>(4)? == "YES",
                generated: row.try_get::<i64, _>(5)? != 0,
                identity: (row.try_get::<i64, _>(6)? != 0).then_some(Identity::ByDefault),
            });
        }
    }
    let mut index_model: Vec<Index> = Vec::new();
    for row in indexes {
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
    for index in index_model.iter().filter(|i| i.name == "PRIMARY") {
        if let Some(&t) = position.get(&index.table) {
            let table = &mut model[t];
            table.primary_key = index.columns.iter().flatten().cloned().collect();
            table.range_key = whole_number_key(table);
        }
    }
    let mut foreign_keys: Vec<ForeignKey> = Vec::new();
    for row in fks {
        let name: String = row.try_get(0)?;
        let child = TableName::new(row.try_get::<String, _>(1)?, row.try_get::<String, _>(2)?);
        let column: String = row.try_get(3)?;
        let parent_column: String = row.try_get(6)?;
        match foreign_keys.last_mut() {
            Some(fk) if fk.name == name && fk.child == child => {
                fk.child_columns.push(column);
                fk.parent_columns.push(parent_column);
            }
            _ => foreign_keys.push(ForeignKey {
                name,
                child,
                child_columns: vec![column],
                parent: TableName::new(row.try_get::<String, _>(4)?, row.try_get::<String, _>(5)?),
                parent_columns: vec![parent_column],
                on_delete: ReferentialAction::parse_catalog(&row.try_get::<String, _>(7)?)
                    .unwrap_or(ReferentialAction::NoAction),
                on_update: ReferentialAction::parse_catalog(&row.try_get::<String, _>(8)?)
                    .unwrap_or(ReferentialAction::NoAction),
                match_type: match row.try_get::<String, _>(9)?.as_str() {
                    "FULL" => MatchType::Full,
                    "PARTIAL" => MatchType::Partial,
                    _ => MatchType::Simple,
                },
                deferrable: false,
                initially_deferred: false,
                validated: true,
                enforced: true,
                triggers_enabled: true,
            }),
        }
    }
    // MariaDB and MySQL list a table's constraints in information_schema only
    // to a user with some privilege on it beyond SELECT.
    let beyond_select: i64 = reads
        .time(
            "catalog:privileges",
            PRIVILEGES_BEYOND_SELECT,
            bind(PRIVILEGES_BEYOND_SELECT)
                .bind(scope.clone())
                .bind(scope.clone())
                .fetch_one(pool),
        )
        .await?
        .try_get(0)?;
    let mut blind_spots = Vec::new();
    if beyond_select == 0 && !model.is_empty() {
        blind_spots.push(format!(
            "this user may only SELECT here, and the server hides foreign keys from such a user in information_schema: declared constraints can be missing from this report (and show as implied or missing); GRANT REFERENCES ON `{}`.* to the user (it changes no data)",
            current.clone().unwrap_or_default()
        ));
    }
    Ok(Schema {
        engine: Engine::Mysql,
        default_schema: current.unwrap_or_default(),
        tables: model,
        foreign_keys: foreign_keys.into_iter().map(std::sync::Arc::new).collect(),
        indexes: index_model,
        blind_spots,
        lookup: Default::default(),
        reads: reads.into_inner(),
    })
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
