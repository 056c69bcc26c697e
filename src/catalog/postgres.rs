//! PostgreSQL's catalog, read from `pg_catalog` in five fixed queries.

use super::{CatalogRows, Reads, Tables};
use crate::model::{
    Access, Column, Engine, ForeignKey, Identity, Index, MatchType, ReferentialAction, Schema,
    Table, TableKind, TableName,
};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use std::collections::HashMap;

/// Tables, partitioned tables and their partitions in user schemas,
/// optionally restricted to the schemas in `$1`.
macro_rules! relation_filter {
    () => {
        "c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
  AND ($1::text[] IS NULL OR n.nspname = ANY($1))"
    };
}

/// Each table with its row estimate, what the connected role can read of it
/// (row-level security applies unless the role is a superuser, has BYPASSRLS,
/// or owns the table and it does not FORCE row security; SELECT on the table
/// or on any of its columns), and the table it is a partition or inheritance
/// child of.
const TABLES: &str = concat!(
    "SELECT n.nspname::text, c.relname::text, c.relkind::text,
  CASE WHEN c.relkind = 'p' THEN
    (SELECT sum(greatest(pc.reltuples, 0))::float8 FROM pg_partition_tree(c.oid) t
       JOIN pg_class pc ON pc.oid = t.relid WHERE t.isleaf)
  ELSE c.reltuples::float8 END,
  c.relrowsecurity AND NOT (
    COALESCE((SELECT r.rolsuper OR r.rolbypassrls FROM pg_roles r WHERE r.rolname = current_user), false)
    OR (pg_has_role(c.relowner, 'USAGE') AND NOT c.relforcerowsecurity)),
  c.relforcerowsecurity,
  has_table_privilege(c.oid, 'SELECT') OR has_any_column_privilege(c.oid, 'SELECT'),
  c.relispartition,
  pn.nspname::text, pc.relname::text,
  CASE WHEN c.relkind = 'r' THEN c.relpages::int8 END,
  CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = c.oid
                   ORDER BY i.inhseqno LIMIT 1) inh ON true
LEFT JOIN pg_class pc ON pc.oid = inh.inhparent
LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace
WHERE ",
    relation_filter!(),
    "\nORDER BY 1, 2"
);

const COLUMNS: &str = concat!(
    "SELECT n.nspname::text, c.relname::text, a.attname::text,
  format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attgenerated::text <> '', a.attidentity::text
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND ",
    relation_filter!(),
    "\nORDER BY 1, 2, a.attnum"
);

/// Primary, unique and foreign keys. `conparentid = 0` keeps the constraints
/// declared on a table itself (one per constraint of a partitioned table, and
/// those declared on a partition), and drops the copies partitions inherit;
/// a partition's primary key is kept whatever its origin. `conenforced` exists
/// from PostgreSQL 18.
const CONSTRAINTS: &str = concat!(
    "WITH RECURSIVE
-- Each foreign key with the copies its partitions inherit, walked once for
-- all constraints (not once per constraint).
family(root, oid) AS (
  SELECT oid, oid FROM pg_constraint WHERE contype = 'f' AND conparentid = 0
  UNION ALL
  SELECT f.root, x.oid FROM pg_constraint x JOIN family f ON x.conparentid = f.oid
),
-- 'D': disabled; 'R': fires only when session_replication_role = replica.
bypassed AS (
  SELECT DISTINCT f.root FROM family f JOIN pg_trigger t ON t.tgconstraint = f.oid
  WHERE t.tgenabled IN ('D', 'R')
)
SELECT con.conname::text, con.contype::text, n.nspname::text, c.relname::text,
  ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord),
  fn.nspname::text, fc.relname::text,
  ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord),
  con.confdeltype::text, con.confupdtype::text, con.confmatchtype::text,
  con.condeferrable, con.condeferred, con.convalidated,
  COALESCE((to_jsonb(con) ->> 'conenforced')::boolean, true),
  b.root IS NULL
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
LEFT JOIN bypassed b ON b.root = con.oid
WHERE con.contype IN ('p', 'u', 'f') AND (con.conparentid = 0 OR con.contype = 'p') AND ",
    relation_filter!(),
    "\nORDER BY 3, 4, 1"
);

/// Indexes with their key columns in order ('' for an expression).
const INDEXES: &str = concat!(
    "SELECT i.relname::text, n.nspname::text, c.relname::text,
  ARRAY(SELECT COALESCE(a.attname::text, '')
        FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
        LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum AND k.attnum <> 0
        WHERE k.ord <= ix.indnkeyatts ORDER BY k.ord),
  ix.indisunique, ix.indpred IS NOT NULL, ix.indisvalid AND ix.indisready
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class c ON c.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE ",
    relation_filter!(),
    "\nORDER BY 2, 3, 1"
);

fn action(code: &str) -> ReferentialAction {
    ReferentialAction::parse_catalog(code).unwrap_or(ReferentialAction::NoAction)
}

const CURRENT_SCHEMA: &str = "SELECT current_schema()::text";

pub async fn read(pool: &PgPool, schemas: &[String]) -> Result<Schema, sqlx::Error> {
    let filter: Option<Vec<String>> = (!schemas.is_empty()).then(|| schemas.to_vec());
    let reads = Reads::default();
    let rows = read_catalog(pool, &reads, &filter).await?;
    let default_schema = rows.current;
    let mut tables = tables_from(rows.tables)?;
    add_columns(&mut tables, rows.columns)?;
    let foreign_keys = add_constraints(&mut tables, rows.constraints)?;
    let index_model = indexes_from(rows.indexes)?;
    Ok(Schema {
        engine: Engine::Postgres,
        default_schema: default_schema.unwrap_or_else(|| "public".into()),
        tables: tables.model,
        foreign_keys: foreign_keys.into_iter().map(std::sync::Arc::new).collect(),
        indexes: index_model,
        blind_spots: Vec::new(),
        lookup: Default::default(),
        reads: reads.into_inner(),
    })
}

/// Reads the current schema, then runs the tables, columns, constraints and
/// indexes queries at once, each restricted to `filter`'s schemas.
async fn read_catalog(
    pool: &PgPool,
    reads: &Reads,
    filter: &Option<Vec<String>>,
) -> Result<CatalogRows<PgRow>, sqlx::Error> {
    let bind = |sql: &'static str| sqlx::query(sql).bind(filter);
    let current = reads
        .name("catalog:current schema", CURRENT_SCHEMA, pool)
        .await?;
    let (tables, columns, constraints, indexes) = tokio::try_join!(
        reads.time("catalog:tables", TABLES, bind(TABLES).fetch_all(pool)),
        reads.time("catalog:columns", COLUMNS, bind(COLUMNS).fetch_all(pool)),
        reads.time(
            "catalog:constraints",
            CONSTRAINTS,
            bind(CONSTRAINTS).fetch_all(pool)
        ),
        reads.time("catalog:indexes", INDEXES, bind(INDEXES).fetch_all(pool)),
    )?;
    Ok(CatalogRows {
        current,
        tables,
        columns,
        constraints,
        indexes,
    })
}

/// The tables, without their columns and keys yet.
fn tables_from(rows: Vec<PgRow>) -> Result<Tables, sqlx::Error> {
    let mut tables = Tables {
        model: Vec::with_capacity(rows.len()),
        position: HashMap::new(),
    };
    for row in rows {
        let table = table(&row)?;
        tables
            .position
            .insert(table.name.clone(), tables.model.len());
        tables.model.push(table);
    }
    Ok(tables)
}

/// One table from its row of [`TABLES`].
fn table(row: &PgRow) -> Result<Table, sqlx::Error> {
    let name = TableName::new(row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?);
    let estimate: Option<f64> = row.try_get(3)?;
    let access = if !row.try_get::<bool, _>(6)? {
        Access::NoSelect
    } else if row.try_get::<bool, _>(4)? {
        Access::RowSecurity {
            forced: row.try_get(5)?,
        }
    } else {
        Access::Whole
    };
    let partition: bool = row.try_get(7)?;
    let inherits_from = match (
        row.try_get::<Option<String>, _>(8)?,
        row.try_get::<Option<String>, _>(9)?,
    ) {
        (Some(schema), Some(table)) => Some(TableName::new(schema, table)),
        _ => None,
    };
    Ok(Table {
        name,
        kind: if row.try_get::<String, _>(2)? == "p" {
            TableKind::Partitioned
        } else if partition {
            TableKind::Partition
        } else {
            TableKind::Table
        },
        columns: Vec::new(),
        primary_key: Vec::new(),
        row_estimate: estimate.filter(|e| *e >= 0.0).map(|e| e as i64),
        pages: row.try_get::<Option<i64>, _>(10)?.filter(|&p| p > 0),
        storage_engine: None,
        range_key: None,
        access,
        inherits_from,
        partition_bound: row.try_get(11)?,
    })
}

/// Adds each column to its table, in column order.
fn add_columns(tables: &mut Tables, rows: Vec<PgRow>) -> Result<(), sqlx::Error> {
    for row in rows {
        let name = TableName::new(row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?);
        if let Some(&i) = tables.position.get(&name) {
            tables.model[i].columns.push(Column {
                name: row.try_get(2)?,
                data_type: row.try_get(3)?,
                nullable: !row.try_get::<bool, _>(4)?,
                generated: row.try_get(5)?,
                identity: match row.try_get::<String, _>(6)?.as_str() {
                    "a" => Some(Identity::Always),
                    "d" => Some(Identity::ByDefault),
                    _ => None,
                },
            });
        }
    }
    Ok(())
}

/// Sets each table's primary key; returns the foreign keys.
fn add_constraints(tables: &mut Tables, rows: Vec<PgRow>) -> Result<Vec<ForeignKey>, sqlx::Error> {
    let mut foreign_keys = Vec::new();
    for row in rows {
        let kind: String = row.try_get(1)?;
        let table = TableName::new(row.try_get::<String, _>(2)?, row.try_get::<String, _>(3)?);
        let columns: Vec<String> = row.try_get(4)?;
        match kind.as_str() {
            "p" => {
                if let Some(&i) = tables.position.get(&table) {
                    tables.model[i].primary_key = columns;
                }
            }
            "f" => foreign_keys.extend(foreign_key(&row, table, columns)?),
            // Unique constraints are backed by unique indexes, read below.
            _ => {}
        }
    }
    Ok(foreign_keys)
}

/// A foreign key from its row of [`CONSTRAINTS`]; None when its parent table
/// is not known.
fn foreign_key(
    row: &PgRow,
    table: TableName,
    columns: Vec<String>,
) -> Result<Option<ForeignKey>, sqlx::Error> {
    let (Some(parent_schema), Some(parent_name)) = (
        row.try_get::<Option<String>, _>(5)?,
        row.try_get::<Option<String>, _>(6)?,
    ) else {
        return Ok(None);
    };
    Ok(Some(ForeignKey {
        name: row.try_get(0)?,
        child: table,
        child_columns: columns,
        parent: TableName::new(parent_schema, parent_name),
        parent_columns: row.try_get(7)?,
        on_delete: action(&row.try_get::<String, _>(8)?),
        on_update: action(&row.try_get::<String, _>(9)?),
        match_type: match row.try_get::<String, _>(10)?.as_str() {
            "f" => MatchType::Full,
            "p" => MatchType::Partial,
            _ => MatchType::Simple,
        },
        deferrable: row.try_get(11)?,
        initially_deferred: row.try_get(12)?,
        validated: row.try_get(13)?,
        enforced: row.try_get(14)?,
        triggers_enabled: row.try_get(15)?,
    }))
}

/// The indexes, their key columns in order (None for an expression).
fn indexes_from(rows: Vec<PgRow>) -> Result<Vec<Index>, sqlx::Error> {
    let mut index_model = Vec::new();
    for row in rows {
        let columns: Vec<String> = row.try_get(3)?;
        index_model.push(Index {
            name: row.try_get(0)?,
            table: TableName::new(row.try_get::<String, _>(1)?, row.try_get::<String, _>(2)?),
            columns: columns
                .into_iter()
                .map(|c| (!c.is_empty()).then_some(c))
                .collect(),
            unique: row.try_get(4)?,
            partial: row.try_get(5)?,
            valid: row.try_get(6)?,
        });
    }
    Ok(index_model)
}
