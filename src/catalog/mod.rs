//! Reads a database's catalog into the engine-neutral [`Schema`] model.

mod mysql;
mod postgres;
mod sqlite;

use crate::db::{Db, Pool};
use crate::model::Schema;

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
