//! SQLite's catalog, read through its table-valued pragmas.

use super::Reads;
use crate::model::{
    Column, DeclaredRules, Engine, ForeignKey, Index, Schema, Table, TableKind, TableName,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};
use std::collections::HashMap;

const MAIN: &str = "main";

const TABLES: &str = "SELECT m.name, m.sql,
  (SELECT max(CAST(substr(s.stat, 1, instr(s.stat || ' ', ' ') - 1) AS INTEGER))
     FROM sqlite_stat1 s WHERE s.tbl = m.name)
FROM sqlite_master m
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
ORDER BY m.name";

const TABLES_WITHOUT_STATS: &str = "SELECT m.name, m.sql, NULL
FROM sqlite_master m
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
ORDER BY m.name";

/// `table_xinfo` lists generated columns too (hidden 2: virtual, 3: stored).
const COLUMNS: &str = "SELECT m.name, p.name, p.type, p.\"notnull\", p.pk, p.hidden IN (2, 3)
FROM sqlite_master m JOIN pragma_table_xinfo(m.name) p
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND p.hidden <> 1
ORDER BY m.name, p.cid";

const FOREIGN_KEYS: &str =
    "SELECT m.name, f.id, f.\"table\", f.\"from\", f.\"to\", f.on_update, f.on_delete, f.\"match\"
FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
ORDER BY m.name, f.id, f.seq";

const INDEXES: &str = "SELECT m.name, il.name, il.\"unique\", il.partial, ii.name
FROM sqlite_master m
JOIN pragma_index_list(m.name) il
JOIN pragma_index_xinfo(il.name) ii
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND ii.key = 1
ORDER BY m.name, il.name, ii.seqno";

/// The tables read so far, with each one's `CREATE TABLE` text and its place
/// in the model, by name.
struct Tables {
    model: Vec<Table>,
    create_sql: HashMap<String, String>,
    position: HashMap<String, usize>,
}

impl Tables {
    /// The `CREATE TABLE` text of a table ("" when unknown).
    fn create_sql(&self, table: &str) -> &str {
        self.create_sql.get(table).map_or("", String::as_str)
    }
}

/// Primary key columns by table, each with its position in the key.
type PrimaryKeys = HashMap<String, Vec<(i64, String)>>;

/// Foreign keys by (child table, pragma id), in the order read.
type Grouped = Vec<(String, i64, ForeignKey)>;

pub async fn read(pool: &SqlitePool) -> Result<Schema, sqlx::Error> {
    let reads = Reads::default();
    let mut tables = read_tables(pool, &reads).await?;
    let pk = read_columns(pool, &reads, &mut tables).await?;
    let mut indexes = set_primary_keys(&mut tables, pk);
    set_range_keys(&mut tables);
    let grouped = read_foreign_keys(pool, &reads).await?;
    let foreign_keys = complete_foreign_keys(&tables, grouped);
    read_indexes(pool, &reads, &mut indexes).await?;

    Ok(Schema {
        engine: Engine::Sqlite,
        default_schema: MAIN.into(),
        tables: tables.model,
        foreign_keys: foreign_keys.into_iter().map(std::sync::Arc::new).collect(),
        indexes,
        blind_spots: Vec::new(),
        lookup: Default::default(),
        reads: reads.into_inner(),
    })
}

/// Reads the tables with their row estimates (from `sqlite_stat1` when
/// `ANALYZE` has made it) and their `CREATE TABLE` text.
async fn read_tables(pool: &SqlitePool, reads: &Reads) -> Result<Tables, sqlx::Error> {
    const HAS_STATS: &str = "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1')";
    let has_stats: bool = reads
        .time(
            "catalog:statistics",
            HAS_STATS,
            sqlx::query_scalar(HAS_STATS).fetch_one(pool),
        )
        .await?;
    let tables_sql = if has_stats {
        TABLES
    } else {
        TABLES_WITHOUT_STATS
    };
    let rows = reads
        .time(
            "catalog:tables",
            tables_sql,
            sqlx::query(tables_sql).fetch_all(pool),
        )
        .await?;

    let mut tables = Tables {
        model: Vec::with_capacity(rows.len()),
        create_sql: HashMap::new(),
        position: HashMap::new(),
    };
    for row in rows {
        let name: String = row.try_get(0)?;
        let sql: Option<String> = row.try_get(1)?;
        tables
            .create_sql
            .insert(name.clone(), sql.unwrap_or_default());
        tables.position.insert(name.clone(), tables.model.len());
        tables.model.push(Table {
            row_estimate: row.try_get::<Option<i64>, _>(2)?,
            ..Table::new(TableName::new(MAIN, name), TableKind::Table)
        });
    }
    Ok(tables)
}

/// Reads every table's columns into the model; returns the primary key
/// columns by table.
async fn read_columns(
    pool: &SqlitePool,
    reads: &Reads,
    tables: &mut Tables,
) -> Result<PrimaryKeys, sqlx::Error> {
    let mut pk = PrimaryKeys::new();
    let rows = reads
        .time(
            "catalog:columns",
            COLUMNS,
            sqlx::query(COLUMNS).fetch_all(pool),
        )
        .await?;
    for row in rows {
        let table: String = row.try_get(0)?;
        let name: String = row.try_get(1)?;
        let key: i64 = row.try_get(4)?;
        if key > 0 {
            pk.entry(table.clone())
                .or_default()
                .push((key, name.clone()));
        }
        if let Some(&i) = tables.position.get(&table) {
            tables.model[i].columns.push(Column {
                name,
                data_type: row.try_get(2)?,
                nullable: row.try_get::<i64, _>(3)? == 0,
                generated: row.try_get(5)?,
                identity: None,
            });
        }
    }
    Ok(pk)
}

/// Sets each table's primary key, in key order; returns the `rowid` index of
/// each table whose key is its rowid.
fn set_primary_keys(tables: &mut Tables, pk: PrimaryKeys) -> Vec<Index> {
    let mut indexes = Vec::new();
    for (table, mut keys) in pk {
        keys.sort();
        let Some(&i) = tables.position.get(&table) else {
            continue;
        };
        tables.model[i].primary_key = keys.into_iter().map(|(_, c)| c).collect();
        indexes.extend(rowid_index(&tables.model[i], tables.create_sql(&table)));
    }
    indexes
}

/// An INTEGER PRIMARY KEY is the rowid: indexed and unique without an index entry.
fn rowid_index(table: &Table, create_sql: &str) -> Option<Index> {
    let sql = create_sql.to_ascii_uppercase();
    let [only] = table.primary_key.as_slice() else {
        return None;
    };
    let integer = table
        .column(only)
        .is_some_and(|c| c.data_type.eq_ignore_ascii_case("INTEGER"));
    (integer && !sql.contains("WITHOUT ROWID")).then(|| Index {
        name: "rowid".into(),
        table: table.name.clone(),
        columns: vec![Some(only.clone())],
        unique: true,
        partial: false,
        valid: true,
    })
}

/// Sets each table's range key: its rowid, under a name no column takes.
fn set_range_keys(tables: &mut Tables) {
    for table in &mut tables.model {
        let sql = tables
            .create_sql
            .get(&table.name.name)
            .map_or("", String::as_str);
        table.range_key = rowid_name(table, sql);
    }
}

/// Reads the foreign keys, one per (table, pragma id), their columns in order.
async fn read_foreign_keys(pool: &SqlitePool, reads: &Reads) -> Result<Grouped, sqlx::Error> {
    let mut grouped: Grouped = Vec::new();
    let rows = reads
        .time(
            "catalog:foreign keys",
            FOREIGN_KEYS,
            sqlx::query(FOREIGN_KEYS).fetch_all(pool),
        )
        .await?;
    for row in rows {
        let table: String = row.try_get(0)?;
        let id: i64 = row.try_get(1)?;
        let from: String = row.try_get(3)?;
        let to: Option<String> = row.try_get(4)?;
        match grouped.last_mut() {
            Some((t, i, fk)) if *t == table && *i == id => {
                fk.child_columns.push(from);
                fk.parent_columns.extend(to);
            }
            _ => {
                let fk = foreign_key(&row, table.clone(), from, to)?;
                grouped.push((table, id, fk));
            }
        }
    }
    Ok(grouped)
}

/// A foreign key from its first column's row of `pragma_foreign_key_list`;
/// its name and deferral come from the `CREATE TABLE` text later.
fn foreign_key(
    row: &SqliteRow,
    table: String,
    from: String,
    to: Option<String>,
) -> Result<ForeignKey, sqlx::Error> {
    let parent: String = row.try_get(2)?;
    let rules = DeclaredRules::parse_catalog(
        &row.try_get::<String, _>(6)?,
        &row.try_get::<String, _>(5)?,
        &row.try_get::<String, _>(7)?,
    );
    Ok(ForeignKey::immediate(
        String::new(),
        (TableName::new(MAIN, table), vec![from]),
        (TableName::new(MAIN, parent), to.into_iter().collect()),
        rules,
    ))
}

/// Completes the foreign keys from the tables: the parent's primary key for
/// a reference without columns, and the name and deferral the `CREATE TABLE`
/// text declares.
fn complete_foreign_keys(tables: &Tables, grouped: Grouped) -> Vec<ForeignKey> {
    let mut foreign_keys = Vec::with_capacity(grouped.len());
    for (table, _, mut fk) in grouped {
        // A reference without columns names the parent's primary key.
        if fk.parent_columns.is_empty()
            && let Some(parent) = tables.model.iter().find(|t| t.name == fk.parent)
        {
            fk.parent_columns = parent.primary_key.clone();
        }
        let sql = tables.create_sql(&table);
        fk.name = declared_name(sql, &fk.child_columns)
            .unwrap_or_else(|| format!("{}_{}_fkey", table, fk.child_columns.join("_")));
        let text = sql.to_ascii_uppercase();
        fk.deferrable = text.contains("DEFERRABLE") && !text.contains("NOT DEFERRABLE");
        fk.initially_deferred = text.contains("INITIALLY DEFERRED");
        foreign_keys.push(fk);
    }
    foreign_keys
}

/// The name `CREATE TABLE` text gives the foreign key on these columns.
fn declared_name(create_table: &str, columns: &[String]) -> Option<String> {
    constraint_names(create_table)
        .into_iter()
        .find(|(cols, _)| {
            cols.len() == columns.len()
                && cols
                    .iter()
                    .zip(columns)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
        })
        .map(|(_, name)| name)
}

/// Reads the indexes, their key columns in order, after `indexes`.
async fn read_indexes(
    pool: &SqlitePool,
    reads: &Reads,
    indexes: &mut Vec<Index>,
) -> Result<(), sqlx::Error> {
    let rows = reads
        .time(
            "catalog:indexes",
            INDEXES,
            sqlx::query(INDEXES).fetch_all(pool),
        )
        .await?;
    for row in rows {
        let table: String = row.try_get(0)?;
        let name: String = row.try_get(1)?;
        let column: Option<String> = row.try_get(4)?;
        match indexes.last_mut() {
            Some(i) if i.name == name && i.table.name == table => i.columns.push(column),
            _ => indexes.push(Index {
                name,
                table: TableName::new(MAIN, table),
                columns: vec![column],
                unique: row.try_get::<i64, _>(2)? != 0,
                partial: row.try_get::<i64, _>(3)? != 0,
                valid: true,
            }),
        }
    }
    Ok(())
}

/// Names of foreign keys declared as `CONSTRAINT name FOREIGN KEY (cols)` or as a
/// column constraint `col TYPE CONSTRAINT name REFERENCES …`, with their columns.
/// The pragmas do not report constraint names.
fn constraint_names(create_table: &str) -> Vec<(Vec<String>, String)> {
    let tokens = tokenize(create_table);
    let mut found = Vec::new();
    let word = |i: usize, w: &str| tokens.get(i).is_some_and(|t| t.eq_ignore_ascii_case(w));
    // The start of the current column definition: the token after '(' or ',' at depth 1.
    let mut depth = 0;
    let mut column_start: Option<usize> = None;
    for i in 0..tokens.len() {
        match tokens[i].as_str() {
            "(" => {
                depth += 1;
                if depth == 1 {
                    column_start = Some(i + 1);
                }
                continue;
            }
            ")" => {
                depth -= 1;
                continue;
            }
            "," if depth == 1 => {
                column_start = Some(i + 1);
                continue;
            }
            _ => {}
        }
        if depth != 1 || !word(i, "CONSTRAINT") {
            continue;
        }
        let Some(name) = tokens.get(i + 1).map(|t| unquote(t)) else {
            continue;
        };
        if word(i + 2, "FOREIGN")
            && word(i + 3, "KEY")
            && tokens.get(i + 4).is_some_and(|t| t == "(")
        {
            let cols: Vec<String> = tokens[i + 5..]
                .iter()
                .take_while(|t| *t != ")")
                .filter(|t| *t != ",")
                .map(|t| unquote(t))
                .collect();
            found.push((cols, name));
        } else if word(i + 2, "REFERENCES")
            && let Some(start) = column_start
            && start < i
        {
            found.push((vec![unquote(&tokens[start])], name));
        }
    }
    found
}

fn unquote(token: &str) -> String {
    let bytes = token.as_bytes();
    match bytes.first() {
        Some(b'"') => token[1..token.len() - 1].replace("\"\"", "\""),
        Some(b'`') => token[1..token.len() - 1].replace("``", "`"),
        Some(b'[') => token[1..token.len() - 1].to_string(),
        Some(b'\'') => token[1..token.len() - 1].replace("''", "'"),
        _ => token.to_string(),
    }
}

/// Splits SQL into words, quoted identifiers or strings, and single punctuation.
fn tokenize(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if matches!(c, '"' | '`' | '\'' | '[') {
            let close = if c == '[' { ']' } else { c };
            let start = i;
            i += 1;
            loop {
                if i >= chars.len() {
                    break;
                }
                if chars[i] == close {
                    if close != ']' && chars.get(i + 1) == Some(&close) {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
            out.push(chars[start..i.min(chars.len())].iter().collect());
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else {
            out.push(c.to_string());
            i += 1;
        }
    }
    out
}

/// Every table but a WITHOUT ROWID one has a rowid, under one of three names
/// that no column of its own takes.
fn rowid_name(table: &Table, create_sql: &str) -> Option<String> {
    if create_sql.to_ascii_uppercase().contains("WITHOUT ROWID") {
        return None;
    }
    ["rowid", "_rowid_", "oid"]
        .into_iter()
        .find(|alias| {
            !table
                .columns
                .iter()
                .any(|c| c.name.eq_ignore_ascii_case(alias))
        })
        .map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_declared_constraint_names() {
        let sql = r#"CREATE TABLE "a b" (
            id INTEGER PRIMARY KEY,
            "p""id" INTEGER CONSTRAINT "col fk" REFERENCES p(id),
            x TEXT, y TEXT,
            CONSTRAINT [tbl_fk] FOREIGN KEY ("x", y) REFERENCES q(a, b) ON DELETE CASCADE
        )"#;
        let names = constraint_names(sql);
        assert_eq!(
            names,
            vec![
                (vec!["p\"id".to_string()], "col fk".to_string()),
                (vec!["x".to_string(), "y".to_string()], "tbl_fk".to_string()),
            ]
        );
    }
}
