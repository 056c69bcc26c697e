//! Creates the demo tables and bulk-loads their rows: `COPY` on PostgreSQL,
//! batched multi-row `INSERT`s in one transaction on SQLite.

use super::data::{Cell, Rows};
use super::{DemoOptions, indexes, tables};
use crate::catalog;
use crate::db::{self, Db, Pool};
use crate::model::{Engine, Schema, TableName};
use crate::sql::Sql;
use crate::sql::ddl::{self, TableSpec};
use indicatif::ProgressBar;
use sqlx::{Connection, MySqlPool, PgConnection, PgPool, SqlitePool};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{target} is not empty (tables: {tables}); pass --force to replace the demo tables")]
    NotEmpty { target: String, tables: String },
    /// `--force` drops only the demo's own tables; these objects of someone
    /// else's depend on them.
    #[error(
        "the demo tables in {target} cannot be replaced: other objects depend on them: {objects}; \
         --force drops only the demo's own tables, so nothing was dropped (drop or change those objects first)"
    )]
    Dependents { target: String, objects: String },
    #[error("{0}")]
    Failed(String),
}

impl From<sqlx::Error> for DemoError {
    fn from(e: sqlx::Error) -> Self {
        DemoError::Failed(db::describe(&e))
    }
}

/// What a load did.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// (table, rows), in load order.
    pub tables: Vec<(String, u64)>,
    pub elapsed: Duration,
}

/// Creates the demo schema in `db` (opened writable) and loads it.
pub async fn load(
    db: &Db,
    options: &DemoOptions,
    progress: &ProgressBar,
) -> Result<Loaded, DemoError> {
    let started = Instant::now();
    let existing = catalog::read(db, &[]).await?;
    let schema = existing.default_schema.clone();
    let specs = tables(&schema);
    refuse_non_empty(db, options, &existing)?;
    let names: Vec<TableName> = specs.iter().rev().map(|s| s.name.clone()).collect();
    if !existing.tables.is_empty() {
        refuse_dependents(db, &schema, &names).await?;
    }
    let rows = Rows::new(options.scale, options.seed);
    let counts = rows.counts();
    progress.set_length(counts.iter().sum());
    let load = Load {
        db,
        engine: db.engine(),
        schema,
        specs,
        names,
        rows,
        counts,
        progress,
    };
    match &db.pool {
        Pool::Postgres(pool) => load.postgres(pool).await?,
        Pool::Mysql(pool) => load.mysql(pool).await?,
        Pool::Sqlite(pool) => load.sqlite(pool).await?,
    }
    progress.finish_and_clear();
    Ok(Loaded {
        tables: load
            .specs
            .iter()
            .zip(load.counts)
            .map(|(s, n)| (s.name.name.clone(), n))
            .collect(),
        elapsed: started.elapsed(),
    })
}

/// Err when the database already has tables and `--force` was not given,
/// naming the first few.
fn refuse_non_empty(db: &Db, options: &DemoOptions, existing: &Schema) -> Result<(), DemoError> {
    if existing.tables.is_empty() || options.force {
        return Ok(());
    }
    let names: Vec<String> = existing
        .tables
        .iter()
        .take(5)
        .map(|t| existing.label(&t.name))
        .collect();
    let more = existing.tables.len().saturating_sub(5);
    Err(DemoError::NotEmpty {
        target: db.target.to_string(),
        tables: if more > 0 {
            format!("{}, and {more} more", names.join(", "))
        } else {
            names.join(", ")
        },
    })
}

/// Err when objects of someone else's depend on the demo tables `names`,
/// which replacing them would drop.
async fn refuse_dependents(db: &Db, schema: &str, names: &[TableName]) -> Result<(), DemoError> {
    let objects = super::dependents::dependents(db, schema, names).await?;
    if objects.is_empty() {
        return Ok(());
    }
    Err(DemoError::Dependents {
        target: db.target.to_string(),
        objects: objects.join(", "),
    })
}

/// One load of the demo: the database, its default schema, the demo tables
/// and their rows, and the progress bar counting them.
struct Load<'a> {
    db: &'a Db,
    engine: Engine,
    schema: String,
    specs: Vec<TableSpec>,
    /// The demo tables, children first: the order they are dropped in.
    names: Vec<TableName>,
    rows: Rows,
    counts: [u64; 5],
    progress: &'a ProgressBar,
}

impl Load<'_> {
    /// The demo tables' `CREATE TABLE`s, with their keys (`keys`) and foreign
    /// keys (`foreign_keys`) or without.
    fn create_tables(&self, keys: bool, foreign_keys: bool) -> Vec<Sql> {
        let engine = self.engine;
        self.specs
            .iter()
            .map(|s| ddl::create_table(engine, s, keys, foreign_keys))
            .collect()
    }

    /// The demo's secondary indexes.
    fn create_indexes(&self) -> Vec<Sql> {
        let engine = self.engine;
        indexes(&self.schema)
            .iter()
            .map(|i| ddl::create_index(engine, i))
            .collect()
    }

    /// Every demo foreign key, added to its existing table.
    fn add_foreign_keys(&self) -> Vec<Sql> {
        let engine = self.engine;
        self.specs
            .iter()
            .flat_map(|s| {
                s.foreign_keys
                    .iter()
                    .map(move |fk| ddl::add_foreign_key(engine, &s.name, fk))
            })
            .collect()
    }

    /// `ANALYZE` of each demo table.
    fn analyze(&self) -> Vec<Sql> {
        let engine = self.engine;
        self.specs
            .iter()
            .map(|s| ddl::analyze(engine, &s.name))
            .collect()
    }

    /// PostgreSQL: replaces the tables, `COPY`s the rows in, then adds keys,
    /// indexes and foreign keys and analyzes.
    async fn postgres(&self, pool: &PgPool) -> Result<(), DemoError> {
        let engine = self.engine;
        let mut conn = pool.acquire().await?;
        for drop in ddl::drop_tables(engine, &self.names) {
            drop.raw()
                .execute(&mut *conn)
                .await
                .map_err(|e| refused_drop(self.db, e))?;
        }
        run_all::<sqlx::Postgres>(&mut conn, self.create_tables(false, false)).await?;
        for (t, spec) in self.specs.iter().enumerate() {
            self.progress
                .set_message(format!("loading {}", spec.name.name));
            let columns: Vec<String> = spec.columns.iter().map(|c| c.name.clone()).collect();
            copy_table(
                &mut conn,
                &ddl::copy_from_stdin(&spec.name, &columns),
                &self.rows,
                t,
                self.counts[t],
                self.progress,
            )
            .await?;
        }
        self.progress.set_message("keys and indexes");
        self.postgres_keys_and_indexes(pool).await?;
        self.progress.set_message("foreign keys");
        run_all::<sqlx::Postgres>(&mut conn, self.add_foreign_keys()).await?;
        run_all::<sqlx::Postgres>(&mut conn, self.analyze()).await?;
        Ok(())
    }

    /// Builds the keys and indexes of different tables in parallel sessions.
    async fn postgres_keys_and_indexes(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        let engine = self.engine;
        let mut builds: Vec<Vec<Sql>> = self
            .specs
            .iter()
            .map(|s| ddl::add_keys(engine, s))
            .collect();
        for index in indexes(&self.schema) {
            if let Some(i) = self.specs.iter().position(|s| s.name == index.table) {
                builds[i].push(ddl::create_index(engine, &index));
            }
        }
        let runs = builds.into_iter().map(|statements| async move {
            let mut conn = pool.acquire().await?;
            for s in statements {
                s.raw().execute(&mut *conn).await?;
            }
            Ok::<_, sqlx::Error>(())
        });
        futures::future::try_join_all(runs).await?;
        Ok(())
    }

    /// MySQL: replaces the tables and inserts the rows in one transaction with
    /// checks off, then adds indexes and foreign keys and analyzes.
    async fn mysql(&self, pool: &MySqlPool) -> Result<(), sqlx::Error> {
        let engine = self.engine;
        // Checks off for this session: the faults go in, and the constraints
        // added afterwards are not validated (as with a bulk load).
        let mut conn =
            connection_with(pool, "SET FOREIGN_KEY_CHECKS = 0, UNIQUE_CHECKS = 0").await?;
        run_all::<sqlx::MySql>(&mut conn, ddl::drop_tables(engine, &self.names)).await?;
        run_all::<sqlx::MySql>(&mut conn, self.create_tables(true, false)).await?;
        let mut tx = conn.begin().await?;
        insert_all::<sqlx::MySql>(&mut tx, engine, &self.specs, &self.rows, self.progress).await?;
        tx.commit().await?;
        self.progress.set_message("indexes and foreign keys");
        run_all::<sqlx::MySql>(&mut conn, self.create_indexes()).await?;
        // InnoDB indexes every foreign key it is given: the demo's unindexed
        // reference gets one here.
        run_all::<sqlx::MySql>(&mut conn, self.add_foreign_keys()).await?;
        run_all::<sqlx::MySql>(&mut conn, self.analyze()).await?;
        sqlx::raw_sql("SET FOREIGN_KEY_CHECKS = 1, UNIQUE_CHECKS = 1")
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// SQLite: replaces the tables (foreign keys included), inserts the rows
    /// and adds indexes in one transaction, then analyzes.
    async fn sqlite(&self, pool: &SqlitePool) -> Result<(), sqlx::Error> {
        let engine = self.engine;
        let setup = "PRAGMA foreign_keys = OFF; PRAGMA synchronous = OFF";
        let mut conn = connection_with(pool, setup).await?;
        let mut tx = conn.begin().await?;
        run_all::<sqlx::Sqlite>(&mut tx, ddl::drop_tables(engine, &self.names)).await?;
        // SQLite takes foreign keys only in CREATE TABLE.
        run_all::<sqlx::Sqlite>(&mut tx, self.create_tables(true, true)).await?;
        insert_all::<sqlx::Sqlite>(&mut tx, engine, &self.specs, &self.rows, self.progress).await?;
        self.progress.set_message("indexes");
        run_all::<sqlx::Sqlite>(&mut tx, self.create_indexes()).await?;
        tx.commit().await?;
        run_all::<sqlx::Sqlite>(&mut conn, self.analyze()).await?;
        sqlx::raw_sql("PRAGMA synchronous = FULL")
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

/// PostgreSQL refuses to drop a table that other objects depend on (without
/// `CASCADE`), and names them: the same refusal as the one checked before.
fn refused_drop(db: &Db, error: sqlx::Error) -> DemoError {
    if let sqlx::Error::Database(e) = &error
        && let Some(pg) = e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        && pg.code() == "2BP01"
    {
        return DemoError::Dependents {
            target: db.target.to_string(),
            objects: pg.detail().unwrap_or(pg.message()).replace('\n', ", "),
        };
    }
    error.into()
}

/// Appends one value in COPY text format.
fn copy_value(out: &mut String, cell: &Cell) {
    match cell {
        Cell::Null => out.push_str("\\N"),
        Cell::Text(s) => {
            for ch in s.chars() {
                match ch {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
        Cell::Time(_) => {
            out.push_str(&cell.text().unwrap_or_default());
            out.push_str("+00");
        }
        other => out.push_str(&other.text().unwrap_or_default()),
    }
}

async fn copy_table(
    conn: &mut PgConnection,
    statement: &Sql,
    rows: &Rows,
    t: usize,
    count: u64,
    progress: &ProgressBar,
) -> Result<(), sqlx::Error> {
    const CHUNK: usize = 1 << 20;
    let mut copy = conn.copy_in_raw(statement.as_str()).await?;
    let mut buffer = String::with_capacity(CHUNK + 4096);
    let mut pending = 0;
    for index in 0..count {
        for (i, cell) in rows.row(t, index).iter().enumerate() {
            if i > 0 {
                buffer.push('\t');
            }
            copy_value(&mut buffer, cell);
        }
        buffer.push('\n');
        pending += 1;
        if buffer.len() >= CHUNK {
            copy.send(buffer.as_bytes()).await?;
            buffer.clear();
            progress.inc(pending);
            pending = 0;
        }
    }
    if !buffer.is_empty() {
        copy.send(buffer.as_bytes()).await?;
    }
    progress.inc(pending);
    copy.finish().await?;
    Ok(())
}

/// Runs statements one after another on one connection.
/// A connection of `pool` with `setup` (session settings) run on it.
async fn connection_with<DB>(
    pool: &sqlx::Pool<DB>,
    setup: &'static str,
) -> Result<sqlx::pool::PoolConnection<DB>, sqlx::Error>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let mut conn = pool.acquire().await?;
    sqlx::raw_sql(setup).execute(&mut *conn).await?;
    Ok(conn)
}

async fn run_all<DB>(
    conn: &mut DB::Connection,
    statements: impl IntoIterator<Item = Sql>,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    for statement in statements {
        statement.raw().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts the rows of every demo table, in load order, in multi-row
/// INSERTs of 64 rows (for engines without COPY).
async fn insert_all<DB>(
    conn: &mut DB::Connection,
    engine: Engine,
    specs: &[crate::sql::ddl::TableSpec],
    rows: &Rows,
    progress: &ProgressBar,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
{
    const BATCH: u64 = 64;
    let counts = rows.counts();
    for (t, spec) in specs.iter().enumerate() {
        progress.set_message(format!("loading {}", spec.name.name));
        let columns: Vec<String> = spec.columns.iter().map(|c| c.name.clone()).collect();
        let full = ddl::insert(engine, &spec.name, &columns, BATCH as usize);
        let mut start = 0;
        while start < counts[t] {
            let n = BATCH.min(counts[t] - start);
            let partial;
            let statement = if n == BATCH {
                &full
            } else {
                partial = ddl::insert(engine, &spec.name, &columns, n as usize);
                &partial
            };
            let mut query = statement.query::<DB>();
            for index in start..start + n {
                for cell in rows.row(t, index) {
                    query = match cell {
                        Cell::Int(v) => query.bind(v),
                        other => query.bind(other.text()),
                    };
                }
            }
            query.execute(&mut *conn).await?;
            progress.inc(n);
            start += n;
        }
    }
    Ok(())
}
