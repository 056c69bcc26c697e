//! One worker's read transaction, and decoding of the rows checks return.

use super::Pool;
use crate::cell::{Cell, CellKind};
use crate::sql::{self, Sql};
use serde_json::{Map, Value};
use sqlx::{Column, MySql, Postgres, Row, Sqlite, TypeInfo, ValueRef};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One sampled or reported row: column name → value.
pub type SampleRow = Map<String, Value>;

/// One column of a pass's row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PassValue {
    Count(i64),
    /// Sample rows as JSON values separated by whitespace, or NULL.
    Text(Option<String>),
}

/// The JSON values in texts of whitespace-separated values. A text cut short
/// (MySQL stops `GROUP_CONCAT` at `group_concat_max_len`) yields the values
/// before the cut.
pub fn json_values<'a>(texts: impl Iterator<Item = &'a str>) -> impl Iterator<Item = Value> {
    texts.flat_map(|t| {
        serde_json::Deserializer::from_str(t)
            .into_iter::<Value>()
            .map_while(Result::ok)
    })
}

/// A transaction on one connection: read-only for checks (`Db::reader`), or
/// writable for fix, restore, probes and bench (`Db::writable`). Dropped
/// without `finish`, it rolls back.
pub struct Transaction {
    tx: Tx,
    /// While the transaction lives, its PostgreSQL backend is listed in `Backends`.
    _listed: Option<Listed>,
    /// SQLite: what stops this transaction's statements from outside.
    interrupt: Option<Interrupter>,
}

/// How many SQLite virtual-machine steps run between two looks at the
/// deadline: a fraction of a millisecond of work.
const PROGRESS_STEPS: i32 = 1000;

/// Stops a SQLite statement from outside. sqlx runs each SQLite connection on
/// a thread of its own, where a dropped future does not reach: a statement
/// past its timeout, or whose transaction was dropped (a cancelled run, a quit),
/// would run on to its end and hold its lock. A progress handler installed
/// with the transaction looks at this every [`PROGRESS_STEPS`] steps and
/// interrupts the statement (`SQLITE_INTERRUPT`) once its deadline passes or
/// the transaction is gone. The pool removes the handler when the connection comes
/// back (`Db::connect`).
struct Interrupt {
    since: Instant,
    /// Nanoseconds after `since` when the running statement stops; 0: none.
    deadline: AtomicU64,
    /// The transaction is gone: stop whatever still runs for it.
    dropped: AtomicBool,
}

impl Interrupt {
    /// True while the statement may go on (the progress handler's answer).
    fn may_continue(&self) -> bool {
        if self.dropped.load(Ordering::Relaxed) {
            return false;
        }
        let deadline = self.deadline.load(Ordering::Relaxed);
        deadline == 0 || self.since.elapsed().as_nanos() < u128::from(deadline)
    }
}

/// A transaction's hold on its [`Interrupt`]: arms it for each statement, and
/// stops what still runs when the transaction is dropped.
struct Interrupter {
    shared: Arc<Interrupt>,
    timeout: Duration,
}

impl Interrupter {
    /// The next statement may run for the statement timeout from now.
    fn arm(&self) {
        let at = self.shared.since.elapsed() + self.timeout;
        let nanos = u64::try_from(at.as_nanos()).unwrap_or(u64::MAX).max(1);
        self.shared.deadline.store(nanos, Ordering::Relaxed);
    }
}

impl Drop for Interrupter {
    fn drop(&mut self) {
        self.shared.dropped.store(true, Ordering::Relaxed);
    }
}

/// Installs the transaction's progress handler on its SQLite connection.
async fn interrupter(
    tx: &mut sqlx::Transaction<'static, Sqlite>,
    timeout: Duration,
) -> Result<Interrupter, sqlx::Error> {
    let shared = Arc::new(Interrupt {
        since: Instant::now(),
        deadline: AtomicU64::new(0),
        dropped: AtomicBool::new(false),
    });
    let handler = shared.clone();
    tx.lock_handle()
        .await?
        .set_progress_handler(PROGRESS_STEPS, move || handler.may_continue());
    Ok(Interrupter { shared, timeout })
}

/// Removes a transaction's progress handler from a SQLite connection that came
/// back to the pool; it waits for what still runs there to stop.
pub(super) async fn release_sqlite(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    conn.lock_handle().await?.remove_progress_handler();
    Ok(())
}

/// Runs the same code on whichever engine's transaction `tx` is: `$name` is
/// each engine's own `sqlx::Transaction` in turn, so generic sqlx calls are
/// written once.
macro_rules! on_each_engine {
    ($tx:expr, $name:ident => $body:expr) => {
        match $tx {
            Tx::Postgres($name) => $body,
            Tx::Sqlite($name) => $body,
            Tx::Mysql($name) => $body,
        }
    };
}

enum Tx {
    Postgres(sqlx::Transaction<'static, Postgres>),
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Mysql(sqlx::Transaction<'static, MySql>),
}

/// The PostgreSQL backends (process ids) of the transactions in flight, so that
/// their queries can be cancelled on the server from another connection.
#[derive(Clone, Debug, Default)]
pub struct Backends(Arc<Mutex<HashSet<i32>>>);

impl Backends {
    /// The backends in flight now.
    pub fn current(&self) -> Vec<i32> {
        self.0
            .lock()
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default()
    }
}

struct Listed {
    backends: Backends,
    pid: i32,
}

impl Drop for Listed {
    fn drop(&mut self) {
        if let Ok(mut set) = self.backends.0.lock() {
            set.remove(&self.pid);
        }
    }
}

/// Lists a backend id in `backends` for as long as the transaction lives.
fn list(backends: Option<&Backends>, pid: Option<i32>) -> Option<Listed> {
    let (backends, pid) = (backends?, pid?);
    if let Ok(mut set) = backends.0.lock() {
        set.insert(pid);
    }
    Some(Listed {
        backends: backends.clone(),
        pid,
    })
}

impl Transaction {
    /// A read-write transaction for the paths that write (fix, restore, probes,
    /// bench). REPEATABLE READ on PostgreSQL and MySQL (the MySQL session sets
    /// the level), so that a row locked after another session changed it fails
    /// instead of being changed unseen; SQLite takes the write lock at once
    /// (`BEGIN IMMEDIATE`).
    pub(super) async fn open_writable(
        pool: &Pool,
        timeout: Duration,
    ) -> Result<Transaction, sqlx::Error> {
        let (tx, interrupt) = match pool {
            Pool::Postgres(p) => (
                Tx::Postgres(
                    p.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ WRITE")
                        .await?,
                ),
                None,
            ),
            Pool::Sqlite(p) => {
                let mut tx = p.begin_with("BEGIN IMMEDIATE").await?;
                let interrupt = interrupter(&mut tx, timeout).await?;
                (Tx::Sqlite(tx), Some(interrupt))
            }
            Pool::Mysql(p) => (
                Tx::Mysql(p.begin_with("START TRANSACTION READ WRITE").await?),
                None,
            ),
        };
        Ok(Transaction {
            tx,
            _listed: None,
            interrupt,
        })
    }

    /// Opens a read transaction; `timeout` bounds each SQLite statement (the
    /// servers bound theirs with their own statement timeout).
    pub(super) async fn open(
        pool: &Pool,
        snapshot: Option<&str>,
        backends: Option<&Backends>,
        timeout: Duration,
    ) -> Result<Transaction, sqlx::Error> {
        match pool {
            Pool::Postgres(p) => {
                let mut tx = p
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?;
                if let Some(id) = snapshot {
                    sql::set_transaction_snapshot(id)
                        .query()
                        .execute(&mut *tx)
                        .await?;
                }
                let pid = match backends {
                    Some(_) => Some(
                        sqlx::query_scalar("SELECT pg_backend_pid()")
                            .fetch_one(&mut *tx)
                            .await?,
                    ),
                    None => None,
                };
                Ok(Transaction {
                    tx: Tx::Postgres(tx),
                    _listed: list(backends, pid),
                    interrupt: None,
                })
            }
            Pool::Sqlite(p) => {
                let mut tx = p.begin().await?;
                let interrupt = interrupter(&mut tx, timeout).await?;
                Ok(Transaction {
                    tx: Tx::Sqlite(tx),
                    _listed: None,
                    interrupt: Some(interrupt),
                })
            }
            Pool::Mysql(p) => {
                let mut tx = p
                    .begin_with("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
                    .await?;
                let pid = match backends {
                    Some(_) => {
                        let id: i64 = sqlx::query_scalar("SELECT CAST(CONNECTION_ID() AS SIGNED)")
                            .fetch_one(&mut *tx)
                            .await?;
                        Some(id as i32)
                    }
                    None => None,
                };
                Ok(Transaction {
                    tx: Tx::Mysql(tx),
                    _listed: list(backends, pid),
                    interrupt: None,
                })
            }
        }
    }

    /// SQLite: the next statement may run for the statement timeout.
    fn arm(&self) {
        if let Some(interrupt) = &self.interrupt {
            interrupt.arm();
        }
    }

    pub(super) async fn export_snapshot(&mut self) -> Result<String, sqlx::Error> {
        match &mut self.tx {
            Tx::Postgres(tx) => {
                // The coordinator idles for the whole run while workers read
                // its snapshot: the idle-in-transaction limit must not end it.
                sqlx::raw_sql("SET LOCAL idle_in_transaction_session_timeout = 0")
                    .execute(&mut **tx)
                    .await?;
                sqlx::query_scalar("SELECT pg_export_snapshot()")
                    .fetch_one(&mut **tx)
                    .await
            }
            Tx::Sqlite(_) | Tx::Mysql(_) => {
                Err(sqlx::Error::Protocol("no exported snapshots here".into()))
            }
        }
    }

    /// Runs a statement that returns one row of counts.
    pub async fn counts(&mut self, statement: &Sql) -> Result<Vec<i64>, sqlx::Error> {
        self.arm();
        on_each_engine!(&mut self.tx, tx => {
            let row = statement.query().fetch_one(&mut **tx).await?;
            (0..row.len()).map(|i| row.try_get::<i64, _>(i)).collect()
        })
    }

    /// Runs a statement whose columns are all text (samples).
    pub async fn text_rows(&mut self, statement: &Sql) -> Result<Vec<SampleRow>, sqlx::Error> {
        self.arm();
        fn to_map<R: Row>(row: &R) -> Result<SampleRow, sqlx::Error>
        where
            for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            usize: sqlx::ColumnIndex<R>,
        {
            let mut map = Map::new();
            for (i, column) in row.columns().iter().enumerate() {
                let value: Option<String> = row.try_get(i)?;
                map.insert(
                    column.name().to_string(),
                    value.map_or(Value::Null, Value::String),
                );
            }
            Ok(map)
        }
        on_each_engine!(&mut self.tx, tx => statement
            .query()
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(to_map)
            .collect())
    }

    /// Runs a pass (`sql::render::scan`, `alone`): every row, each column a
    /// count (an integer) or a text (samples), by the type the server sends.
    pub async fn pass(&mut self, statement: &Sql) -> Result<Vec<Vec<PassValue>>, sqlx::Error> {
        self.pass_streamed(statement, &mut |_| {}).await
    }

    /// [`Transaction::pass`], calling `on_row` with each row as it arrives (a pass
    /// in parts sends a row as each part ends: its progress).
    pub async fn pass_streamed(
        &mut self,
        statement: &Sql,
        on_row: &mut (dyn FnMut(&[PassValue]) + Send),
    ) -> Result<Vec<Vec<PassValue>>, sqlx::Error> {
        use futures::TryStreamExt;
        self.arm();
        fn decode<R: Row>(row: &R) -> Result<Vec<PassValue>, sqlx::Error>
        where
            for<'r> i64: sqlx::Decode<'r, R::Database>,
            for<'r> String: sqlx::Decode<'r, R::Database>,
            for<'r> Vec<u8>: sqlx::Decode<'r, R::Database>,
            usize: sqlx::ColumnIndex<R>,
        {
            (0..row.len())
                .map(|i| {
                    let (null, integer) = {
                        let raw = row.try_get_raw(i)?;
                        let name = raw.type_info().name().to_ascii_uppercase();
                        // Counts: PostgreSQL int8, MySQL BIGINT, SQLite INTEGER.
                        let integer = matches!(
                            name.as_str(),
                            "INT8" | "INT4" | "BIGINT" | "BIGINT UNSIGNED" | "INTEGER" | "INT"
                        );
                        (raw.is_null(), integer)
                    };
                    Ok(if null {
                        PassValue::Text(None)
                    } else if integer {
                        PassValue::Count(row.try_get_unchecked::<i64, _>(i)?)
                    } else {
                        PassValue::Text(Some(match row.try_get_unchecked::<String, _>(i) {
                            Ok(s) => s,
                            Err(_) => {
                                String::from_utf8_lossy(&row.try_get_unchecked::<Vec<u8>, _>(i)?)
                                    .into_owned()
                            }
                        }))
                    })
                })
                .collect()
        }
        let mut rows = Vec::new();
        let mut keep = |row: Vec<PassValue>| {
            on_row(&row);
            rows.push(row);
        };
        on_each_engine!(&mut self.tx, tx => {
            let mut stream = statement.query().fetch(&mut **tx);
            while let Some(row) = stream.try_next().await? {
                keep(decode(&row)?);
            }
        });
        Ok(rows)
    }

    /// Runs a statement rendered by `sql::render::rows_of` (a person's query) and
    /// returns its rows with their values typed as JSON.
    pub async fn json_rows(&mut self, statement: &Sql) -> Result<Vec<SampleRow>, sqlx::Error> {
        self.typed_rows(statement, false)
            .await
            .map(|(_, rows)| rows)
    }

    /// Runs a statement rendered by `sql::render::counted_rows_of`: how many
    /// rows a person's query returns, and the first of them, typed as JSON.
    pub async fn counted_json_rows(
        &mut self,
        statement: &Sql,
    ) -> Result<(i64, Vec<SampleRow>), sqlx::Error> {
        if let Tx::Postgres(_) = &self.tx {
            let rows = self.pass(statement).await?;
            let count = match rows.first().and_then(|r| r.first()) {
                Some(PassValue::Count(n)) => *n,
                _ => 0,
            };
            let texts = rows.iter().filter_map(|r| match r.get(1) {
                Some(PassValue::Text(Some(t))) => Some(t.as_str()),
                _ => None,
            });
            let sample = json_values(texts)
                .map(|v| match v {
                    Value::Object(map) => map,
                    other => Map::from_iter([("value".to_string(), other)]),
                })
                .collect();
            return Ok((count, sample));
        }
        self.typed_rows(statement, true)
            .await
            .map(|(count, rows)| (count.unwrap_or(0), rows))
    }

    /// Runs a statement and returns its rows typed as JSON. `counted`: the first
    /// column is a count (the same in every row), returned apart.
    async fn typed_rows(
        &mut self,
        statement: &Sql,
        counted: bool,
    ) -> Result<(Option<i64>, Vec<SampleRow>), sqlx::Error> {
        self.arm();
        match &mut self.tx {
            Tx::Postgres(tx) => {
                // Rendered by sql::render::rows_of: one JSON text column per row.
                let rows = statement.query().fetch_all(&mut **tx).await?;
                let texts = rows
                    .iter()
                    .map(|row| row.try_get::<String, _>(0))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((None, texts.into_iter().map(json_row).collect()))
            }
            Tx::Sqlite(tx) => {
                let rows = statement.query().fetch_all(&mut **tx).await?;
                typed_sqlite_rows(&rows, counted)
            }
            Tx::Mysql(tx) => {
                // The text protocol sends every value as text, whatever its type;
                // numbers are turned back into numbers. It would also run a
                // second statement: the text must prepare as exactly one first.
                statement.one_statement_mysql(tx).await?;
                use futures::TryStreamExt;
                let rows: Vec<sqlx::mysql::MySqlRow> =
                    statement.raw().fetch(&mut **tx).try_collect().await?;
                typed_mysql_rows(&rows, counted)
            }
        }
    }

    /// Runs a rendered statement with bound values and reads every row back as
    /// cells, column `i` as `kinds[i]` says (SQLite: by each value's storage
    /// class).
    pub async fn cells(
        &mut self,
        statement: &Sql,
        binds: &[Cell],
        kinds: &[CellKind],
    ) -> Result<Vec<Vec<Cell>>, sqlx::Error> {
        self.arm();
        match &mut self.tx {
            Tx::Postgres(tx) => {
                let query = binds
                    .iter()
                    .fold(statement.query::<Postgres>(), bind_postgres);
                let rows = query.fetch_all(&mut **tx).await?;
                decode_rows(&rows, |row, i| decode_postgres(row, i, kind_at(kinds, i)))
            }
            Tx::Mysql(tx) => {
                let query = binds.iter().fold(statement.query::<MySql>(), bind_mysql);
                let rows = query.fetch_all(&mut **tx).await?;
                decode_rows(&rows, |row, i| decode_mysql(row, i, kind_at(kinds, i)))
            }
            Tx::Sqlite(tx) => {
                let query = binds.iter().fold(statement.query::<Sqlite>(), bind_sqlite);
                let rows = query.fetch_all(&mut **tx).await?;
                decode_rows(&rows, decode_sqlite)
            }
        }
    }

    /// Runs a rendered statement that changes rows, with bound values; returns
    /// how many rows it changed.
    pub async fn execute_with(
        &mut self,
        statement: &Sql,
        binds: &[Cell],
    ) -> Result<u64, sqlx::Error> {
        self.arm();
        Ok(match &mut self.tx {
            Tx::Postgres(tx) => {
                let query = binds
                    .iter()
                    .fold(statement.query::<Postgres>(), bind_postgres);
                query.execute(&mut **tx).await?.rows_affected()
            }
            Tx::Mysql(tx) => {
                let query = binds.iter().fold(statement.query::<MySql>(), bind_mysql);
                query.execute(&mut **tx).await?.rows_affected()
            }
            Tx::Sqlite(tx) => {
                let query = binds.iter().fold(statement.query::<Sqlite>(), bind_sqlite);
                query.execute(&mut **tx).await?.rows_affected()
            }
        })
    }

    /// MySQL/MariaDB: the storage engines that can roll back
    /// (`information_schema.ENGINES.TRANSACTIONS`). None on other engines,
    /// where every table can.
    pub async fn transactional_engines(&mut self) -> Result<Option<Vec<String>>, sqlx::Error> {
        match &mut self.tx {
            Tx::Mysql(tx) => {
                let names: Vec<String> = sqlx::query_scalar(
                    "SELECT CAST(ENGINE AS CHAR) FROM information_schema.ENGINES WHERE TRANSACTIONS = 'YES'",
                )
                .fetch_all(&mut **tx)
                .await?;
                Ok(Some(names))
            }
            Tx::Postgres(_) | Tx::Sqlite(_) => Ok(None),
        }
    }

    /// Runs a statement that changes rows; returns how many. Only probes use
    /// this, on a writable transaction that is rolled back.
    pub async fn execute(&mut self, statement: &Sql) -> Result<u64, sqlx::Error> {
        self.arm();
        Ok(
            on_each_engine!(&mut self.tx, tx => statement.raw().execute(&mut **tx).await?.rows_affected()),
        )
    }

    /// Runs a fixed statement (savepoints and session settings).
    pub async fn execute_fixed(&mut self, statement: &'static str) -> Result<(), sqlx::Error> {
        self.arm();
        on_each_engine!(&mut self.tx, tx => sqlx::raw_sql(statement)
            .execute(&mut **tx)
            .await
            .map(|_| ()))
    }

    /// True when this session may not write: PostgreSQL `transaction_read_only`
    /// or recovery (a standby); MySQL `read_only` or `transaction_read_only`;
    /// SQLite `query_only`.
    pub async fn read_only(&mut self) -> Result<bool, sqlx::Error> {
        self.arm();
        match &mut self.tx {
            Tx::Postgres(tx) => {
                sqlx::query_scalar(
                    "SELECT current_setting('default_transaction_read_only') = 'on' OR pg_is_in_recovery()",
                )
                .fetch_one(&mut **tx)
                .await
            }
            Tx::Sqlite(tx) => {
                let query_only: i64 = sqlx::query_scalar("PRAGMA query_only").fetch_one(&mut **tx).await?;
                Ok(query_only != 0)
            }
            Tx::Mysql(tx) => {
                // MariaDB and MySQL 5.7 call it tx_read_only; MySQL 8 transaction_read_only.
                let flag: Result<i64, _> = sqlx::query_scalar("SELECT CAST(@@read_only OR @@tx_read_only AS SIGNED)")
                    .fetch_one(&mut **tx)
                    .await;
                let flag = match flag {
                    Ok(flag) => flag,
                    Err(_) => {
                        sqlx::query_scalar("SELECT CAST(@@read_only OR @@transaction_read_only AS SIGNED)")
                            .fetch_one(&mut **tx)
                            .await?
                    }
                };
                Ok(flag != 0)
            }
        }
    }

    /// Ends the transaction, undoing everything it did.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        on_each_engine!(self.tx, tx => tx.rollback().await)
    }

    /// Commits (ends) the read transaction and returns the connection to the pool.
    pub async fn finish(self) -> Result<(), sqlx::Error> {
        on_each_engine!(self.tx, tx => tx.commit().await)
    }
}

/// A row from its JSON text: an object as it is, any other value (or a text
/// that is not JSON) under `value`.
fn json_row(text: String) -> SampleRow {
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => map,
        Ok(other) => Map::from_iter([("value".to_string(), other)]),
        Err(_) => Map::from_iter([("value".to_string(), Value::String(text))]),
    }
}

/// SQLite rows typed as JSON. `counted`: the first column is a count,
/// returned apart (the last row's).
fn typed_sqlite_rows(
    rows: &[sqlx::sqlite::SqliteRow],
    counted: bool,
) -> Result<(Option<i64>, Vec<SampleRow>), sqlx::Error> {
    let mut count = None;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if counted {
            count = Some(row.try_get::<i64, _>(0)?);
        }
        let mut map = Map::new();
        for (i, column) in row.columns().iter().enumerate().skip(usize::from(counted)) {
            map.insert(column.name().to_string(), sqlite_json(row, i)?);
        }
        out.push(map);
    }
    Ok((count, out))
}

/// One SQLite value as JSON, by its storage class (a BLOB as hex text).
fn sqlite_json(row: &sqlx::sqlite::SqliteRow, i: usize) -> Result<Value, sqlx::Error> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    Ok(match raw.type_info().name() {
        "INTEGER" => Value::from(row.try_get_unchecked::<i64, _>(i)?),
        "REAL" => Value::from(row.try_get_unchecked::<f64, _>(i)?),
        "BLOB" => Value::String(
            row.try_get_unchecked::<Vec<u8>, _>(i)?
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        ),
        _ => Value::String(row.try_get_unchecked::<String, _>(i)?),
    })
}

/// MySQL rows, read over the text protocol, typed as JSON. `counted`: the
/// first column is a count, returned apart (the last row's).
fn typed_mysql_rows(
    rows: &[sqlx::mysql::MySqlRow],
    counted: bool,
) -> Result<(Option<i64>, Vec<SampleRow>), sqlx::Error> {
    let mut count = None;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if counted {
            count = Some(row.try_get_unchecked::<String, _>(0)?.parse().unwrap_or(0));
        }
        let mut map = Map::new();
        for (i, column) in row.columns().iter().enumerate().skip(usize::from(counted)) {
            let numeric = is_numeric_mysql(column.type_info().name());
            map.insert(column.name().to_string(), mysql_json(row, i, numeric)?);
        }
        out.push(map);
    }
    Ok((count, out))
}

/// True for a MySQL column type whose text is a number.
fn is_numeric_mysql(type_name: &str) -> bool {
    [
        "INT", "DECIMAL", "DOUBLE", "FLOAT", "NUMERIC", "BIT", "YEAR",
    ]
    .iter()
    .any(|t| type_name.contains(t))
}

/// One MySQL value, sent as text, as JSON: in a `numeric` column, a number
/// when the text reads as one; bytes that are not UTF-8 read lossily.
fn mysql_json(row: &sqlx::mysql::MySqlRow, i: usize, numeric: bool) -> Result<Value, sqlx::Error> {
    if row.try_get_raw(i)?.is_null() {
        return Ok(Value::Null);
    }
    let text = match row.try_get_unchecked::<String, _>(i) {
        Ok(s) => s,
        Err(_) => String::from_utf8_lossy(&row.try_get_unchecked::<Vec<u8>, _>(i)?).into_owned(),
    };
    Ok(if numeric {
        text.parse::<i64>()
            .map(Value::from)
            .or_else(|_| text.parse::<f64>().map(Value::from))
            .unwrap_or(Value::String(text))
    } else {
        Value::String(text)
    })
}

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;
type MySqlQuery<'q> = sqlx::query::Query<'q, MySql, sqlx::mysql::MySqlArguments>;
type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments>;

fn kind_at(kinds: &[CellKind], i: usize) -> CellKind {
    kinds.get(i).copied().unwrap_or(CellKind::Text)
}

/// PostgreSQL: values travel as text (the statement casts each one to its
/// column's type), bytes as bytea, numbers as themselves.
/// Every row's columns as cells, each decoded by `decode`.
fn decode_rows<R: sqlx::Row>(
    rows: &[R],
    decode: impl Fn(&R, usize) -> Result<Cell, sqlx::Error>,
) -> Result<Vec<Vec<Cell>>, sqlx::Error> {
    rows.iter()
        .map(|row| (0..row.len()).map(|i| decode(row, i)).collect())
        .collect()
}

fn bind_postgres<'q>(query: PgQuery<'q>, cell: &Cell) -> PgQuery<'q> {
    match cell {
        Cell::Null => query.bind(None::<String>),
        Cell::Int(n) => query.bind(*n),
        Cell::UInt(n) => query.bind(n.to_string()),
        Cell::Real(r) => query.bind(*r),
        Cell::Text(t) => query.bind(t.clone()),
        Cell::Bytes(b) => query.bind(b.clone()),
    }
}

fn bind_mysql<'q>(query: MySqlQuery<'q>, cell: &Cell) -> MySqlQuery<'q> {
    match cell {
        Cell::Null => query.bind(None::<String>),
        Cell::Int(n) => query.bind(*n),
        Cell::UInt(n) => query.bind(*n),
        Cell::Real(r) => query.bind(*r),
        Cell::Text(t) => query.bind(t.clone()),
        Cell::Bytes(b) => query.bind(b.clone()),
    }
}

fn bind_sqlite<'q>(query: SqliteQuery<'q>, cell: &Cell) -> SqliteQuery<'q> {
    match cell {
        Cell::Null => query.bind(None::<i64>),
        Cell::Int(n) => query.bind(*n),
        // Beyond i64: SQLite has no such integer; as text it compares as written.
        Cell::UInt(n) => query.bind(n.to_string()),
        Cell::Real(r) => query.bind(*r),
        Cell::Text(t) => query.bind(t.clone()),
        Cell::Bytes(b) => query.bind(b.clone()),
    }
}

fn decode_postgres(
    row: &sqlx::postgres::PgRow,
    i: usize,
    kind: CellKind,
) -> Result<Cell, sqlx::Error> {
    Ok(match kind {
        CellKind::Bytes => row
            .try_get::<Option<Vec<u8>>, _>(i)?
            .map_or(Cell::Null, Cell::Bytes),
        CellKind::Int => row
            .try_get::<Option<i64>, _>(i)?
            .map_or(Cell::Null, Cell::Int),
        CellKind::Float64 => row
            .try_get::<Option<f64>, _>(i)?
            .map_or(Cell::Null, Cell::Real),
        CellKind::Float32 => row
            .try_get::<Option<f32>, _>(i)?
            .map_or(Cell::Null, |f| Cell::Real(f64::from(f))),
        CellKind::UInt | CellKind::Text | CellKind::Dynamic => row
            .try_get::<Option<String>, _>(i)?
            .map_or(Cell::Null, Cell::Text),
    })
}

/// MySQL's binary protocol: whole numbers and floats arrive as themselves,
/// DECIMAL as its exact text, text in the connection's character set.
fn decode_mysql(
    row: &sqlx::mysql::MySqlRow,
    i: usize,
    kind: CellKind,
) -> Result<Cell, sqlx::Error> {
    if row.try_get_raw(i)?.is_null() {
        return Ok(Cell::Null);
    }
    Ok(match kind {
        CellKind::Int => Cell::Int(row.try_get_unchecked::<i64, _>(i)?),
        CellKind::UInt => Cell::UInt(row.try_get_unchecked::<u64, _>(i)?),
        CellKind::Float32 => Cell::Real(f64::from(row.try_get_unchecked::<f32, _>(i)?)),
        CellKind::Float64 => Cell::Real(row.try_get_unchecked::<f64, _>(i)?),
        CellKind::Bytes => Cell::Bytes(row.try_get_unchecked::<Vec<u8>, _>(i)?),
        CellKind::Text | CellKind::Dynamic => {
            let bytes = row.try_get_unchecked::<Vec<u8>, _>(i)?;
            match String::from_utf8(bytes) {
                Ok(text) => Cell::Text(text),
                Err(e) => Cell::Bytes(e.into_bytes()),
            }
        }
    })
}

/// SQLite: each value as its own storage class.
fn decode_sqlite(row: &sqlx::sqlite::SqliteRow, i: usize) -> Result<Cell, sqlx::Error> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Cell::Null);
    }
    Ok(match raw.type_info().name() {
        "INTEGER" => Cell::Int(row.try_get_unchecked::<i64, _>(i)?),
        "REAL" => Cell::Real(row.try_get_unchecked::<f64, _>(i)?),
        "BLOB" => Cell::Bytes(row.try_get_unchecked::<Vec<u8>, _>(i)?),
        _ => Cell::Text(row.try_get_unchecked::<String, _>(i)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_cut_short_keeps_the_rows_before_the_cut() {
        let texts = [r#"["1", "a b"] ["2",null]"#, r#"["3", "x"] ["4", "unfinis"#];
        let values: Vec<Value> = json_values(texts.into_iter()).collect();
        assert_eq!(
            values,
            [
                serde_json::json!(["1", "a b"]),
                serde_json::json!(["2", null]),
                serde_json::json!(["3", "x"]),
            ]
        );
    }
}
