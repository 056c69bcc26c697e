//! Reads a database's catalog into the engine-neutral [`Schema`] model.

mod mysql;
mod postgres;
mod sqlite;

use crate::db::{Db, Pool};
use crate::model::{CatalogRead, Schema};
use std::sync::Mutex;
use std::time::Instant;

/// Times each catalog query of one read, to report it with the statements.
#[derive(Default)]
struct Reads(Mutex<Vec<CatalogRead>>);

impl Reads {
    /// Runs `query` (whose text is `sql`) and notes its latency as `key`.
    async fn time<T, E>(
        &self,
        key: &'static str,
        sql: &'static str,
        query: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let started = Instant::now();
        let result = query.await;
        let read = CatalogRead {
            key,
            sql,
            elapsed: started.elapsed(),
        };
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(read);
        result
    }

    /// Runs `sql`, which returns one name (or NULL), timed as `key`: the
    /// schema or database that unqualified names resolve to.
    async fn name<DB>(
        &self,
        key: &'static str,
        sql: &'static str,
        pool: &sqlx::Pool<DB>,
    ) -> Result<Option<String>, sqlx::Error>
    where
        DB: sqlx::Database,
        for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
        for<'r> Option<String>: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
        for<'r> (Option<String>,): sqlx::FromRow<'r, DB::Row>,
        <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    {
        self.time(key, sql, sqlx::query_scalar(sql).fetch_one(pool))
            .await
    }

    fn into_inner(self) -> crate::model::CatalogReads {
        crate::model::CatalogReads(self.0.into_inner().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The schema or database unqualified names resolve to, then the rows of
/// the catalog queries that run together (MySQL's constraints: its foreign
/// keys).
struct CatalogRows<R> {
    current: Option<String>,
    tables: Vec<R>,
    columns: Vec<R>,
    constraints: Vec<R>,
    indexes: Vec<R>,
}

/// The tables read so far, with each one's place in the model.
struct Tables {
    model: Vec<crate::model::Table>,
    position: std::collections::HashMap<crate::model::TableName, usize>,
}

/// Reads the catalog. `schemas` restricts it to the named schemas (empty: all
/// but the system ones).
pub async fn read(db: &Db, schemas: &[String]) -> Result<Schema, sqlx::Error> {
    let mut schema = match &db.pool {
        Pool::Postgres(pool) => postgres::read(pool, schemas).await?,
        Pool::Sqlite(pool) => sqlite::read(pool).await?,
        Pool::Mysql(pool) => mysql::read(pool, schemas).await?,
    };
    schema.tables.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(schema)
}
