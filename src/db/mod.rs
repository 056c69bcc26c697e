//! Connecting to a database: URL parsing, read-only sessions, pools, and the
//! transactions the runner, fix and probes use. Passwords never leave this module in any message.

mod failure;
pub mod libpq;
mod pgpass;
mod postgres;
mod secrets;
mod target;
pub mod tls;
mod transaction;

pub use failure::Failure;
pub use target::Target;
pub use transaction::{Backends, PassValue, SampleRow, Transaction, json_values};

use crate::model::Engine;
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

/// How much of a SQLite file a read-only session maps: SQLite's own upper
/// bound (`SQLITE_MAX_MMAP_SIZE`, just under 2 GiB).
const SQLITE_MMAP_SIZE: &str = "2147418112";
use sqlx::{Connection, Executor, MySqlPool, PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// The longest a cancel request waits for the server.
pub const CANCEL_LIMIT: Duration = Duration::from_secs(5);

/// How to open a session.
#[derive(Clone, Debug)]
pub struct SessionOptions {
    /// Per-statement limit, enforced by the server where it can be.
    pub statement_timeout: Duration,
    /// How long a statement waits for a lock another session holds
    /// (PostgreSQL `lock_timeout`, InnoDB `innodb_lock_wait_timeout`, SQLite's
    /// busy timeout).
    pub lock_timeout: Duration,
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// Connections in the pool (workers plus one coordinator).
    pub connections: u32,
    /// Checks run read-only; `demo` opens a writable session.
    pub read_only: bool,
    /// SQLite: create the file when it does not exist (writable sessions only).
    pub create_if_missing: bool,
    /// SQLite: set `PRAGMA foreign_keys` on every connection (None: as sqlx does, on).
    pub sqlite_foreign_keys: Option<bool>,
    /// Writes happen only inside explicit transactions that tether ends itself
    /// (fix, restore, probes, bench). MySQL sessions then run with autocommit
    /// off, so that no statement can ever commit on its own after the server
    /// has ended a transaction (a deadlock victim's), strict, in UTC.
    pub transactional_writes: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            statement_timeout: Duration::from_secs(30),
            lock_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
            connections: 4,
            read_only: true,
            create_if_missing: false,
            sqlite_foreign_keys: None,
            transactional_writes: false,
        }
    }
}

/// Why a connection could not be made; its message names the target and what
/// failed, and never the password.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("invalid database URL {url}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("{engine} is not supported yet ({url})")]
    Unsupported { engine: &'static str, url: String },
    #[error("cannot connect to {target}: {reason}")]
    Failed { target: String, reason: String },
}

#[derive(Clone, Debug)]
pub enum Pool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
    Mysql(MySqlPool),
}

/// An open database: a pool of read-only (or, for `demo`, writable) sessions.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: Pool,
    pub target: Target,
    pub server_version: String,
    pub options: SessionOptions,
}

/// How long a ping waits on the pool alone before it also tries a
/// connection of its own to learn why the pool does not answer.
const PING_GRACE: Duration = Duration::from_millis(300);
impl Db {
    pub fn engine(&self) -> Engine {
        self.target.engine
    }

    pub async fn connect(url: &str, options: SessionOptions) -> Result<Db, ConnectError> {
        let target = Target::parse(url)?;
        match target.engine {
            Engine::Postgres => Db::connect_postgres(target, options).await,
            Engine::Sqlite => Db::connect_sqlite(url, target, options).await,
            Engine::Mysql => Db::connect_mysql(url, target, options).await,
        }
    }

    /// Opens a PostgreSQL pool whose sessions go where the first one did, with
    /// its search path.
    async fn connect_postgres(
        mut target: Target,
        options: SessionOptions,
    ) -> Result<Db, ConnectError> {
        let conninfo = target
            .conninfo()
            .expect("a PostgreSQL target is resolved")
            .clone();
        // One direct connection first: it reports the real cause (refused,
        // authentication, missing database, certificate) where a pool
        // would only time out; and it finds which host, and which of
        // sslmode's attempts, work: the pool uses the same.
        let opened = postgres::open(
            &conninfo,
            &postgres_session_settings(&options),
            options.connect_timeout,
        )
        .await
        .map_err(|reason| failed(&target, reason))?;
        let (mut first, opts) = (opened.connection, opened.options);
        target.connected_to(&opened.endpoint);
        let (version, search_path) = postgres_first_session(&mut first)
            .await
            .map_err(|e| failed(&target, describe(&e)))?;
        let _ = first.close().await;
        let mut opts = opts.options([("search_path", search_path)]);
        if major_version(&version) >= 14 {
            // A backend whose client went away mid-query (tether killed, or
            // its cancel lost on the way) notices within 2 s and ends,
            // instead of running on to the statement timeout.
            opts = opts.options([("client_connection_check_interval", "2000")]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.connections.max(1))
            .acquire_timeout(options.connect_timeout)
            .connect_lazy_with(opts);
        Ok(Db {
            pool: Pool::Postgres(pool),
            server_version: version
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string(),
            target,
            options,
        })
    }

    /// Opens a pool on a SQLite file (or in memory), after checking that the
    /// file exists unless it is to be created.
    async fn connect_sqlite(
        url: &str,
        target: Target,
        options: SessionOptions,
    ) -> Result<Db, ConnectError> {
        let opts = sqlite_options(url, &target, &options)?;
        // A reader installs a progress handler that interrupts its
        // statements (timeout, cancel); it goes when the connection
        // comes back, so that nothing else is ever interrupted by it.
        let pool = SqlitePoolOptions::new()
            .max_connections(options.connections.max(1))
            .acquire_timeout(options.connect_timeout)
            .after_release(|conn, _| {
                Box::pin(async move {
                    transaction::release_sqlite(conn).await?;
                    Ok(true)
                })
            })
            .connect_with(opts)
            .await
            .map_err(|e| failed(&target, describe(&e)))?;
        let version: String = sqlx::query_scalar("SELECT sqlite_version()")
            .fetch_one(&pool)
            .await
            .map_err(|e| failed(&target, describe(&e)))?;
        Ok(Db {
            pool: Pool::Sqlite(pool),
            server_version: version,
            target,
            options,
        })
    }

    /// Opens a MySQL or MariaDB pool, each session set up as
    /// [`crate::sql::mysql_session`] says for the server's kind.
    async fn connect_mysql(
        url: &str,
        target: Target,
        options: SessionOptions,
    ) -> Result<Db, ConnectError> {
        let opts = MySqlConnectOptions::from_str(url).map_err(|e| ConnectError::InvalidUrl {
            url: target.redacted_url.clone(),
            reason: target.redact(&describe(&e)),
        })?;
        let version = mysql_version(&opts, &target, &options).await?;
        // Every session: read-only when asked, and the statement timeout
        // (MariaDB: max_statement_time in seconds; MySQL: max_execution_time in ms).
        let session = crate::sql::mysql_session(
            version.contains("MariaDB"),
            crate::sql::MysqlSession {
                timeout_ms: options.statement_timeout.as_millis() as u64,
                lock_wait_secs: options.lock_timeout.as_secs().max(1),
                read_only: options.read_only,
                transactional_writes: options.transactional_writes && !options.read_only,
            },
        );
        let pool = MySqlPoolOptions::new()
            .max_connections(options.connections.max(1))
            .acquire_timeout(options.connect_timeout)
            .after_connect(move |conn, _| {
                let session = session.clone();
                Box::pin(async move {
                    conn.execute(session.raw()).await?;
                    Ok(())
                })
            })
            .connect_lazy_with(opts);
        Ok(Db {
            pool: Pool::Mysql(pool),
            server_version: version.split('-').next().unwrap_or_default().to_string()
                + if version.contains("MariaDB") {
                    " (MariaDB)"
                } else {
                    ""
                },
            target,
            options,
        })
    }

    /// Opens a read-only transaction for one unit of work. On PostgreSQL, one
    /// given a snapshot id reads exactly that snapshot.
    pub async fn reader(&self, snapshot: Option<&str>) -> Result<Transaction, sqlx::Error> {
        Transaction::open(&self.pool, snapshot, None, self.options.statement_timeout).await
    }

    /// A read-write transaction for probes; the caller rolls it back.
    pub async fn writable(&self) -> Result<Transaction, sqlx::Error> {
        Transaction::open_writable(&self.pool, self.options.statement_timeout).await
    }

    /// A reader whose PostgreSQL backend is listed in `backends` while it lives.
    pub async fn listed_reader(
        &self,
        snapshot: Option<&str>,
        backends: &Backends,
    ) -> Result<Transaction, sqlx::Error> {
        Transaction::open(
            &self.pool,
            snapshot,
            Some(backends),
            self.options.statement_timeout,
        )
        .await
    }

    /// Cancels, on the server, the queries of these backends (PostgreSQL
    /// process ids, MySQL connection ids), from a connection of its own (the
    /// pool's may all be busy). sqlx has no cancel request, so this is
    /// `pg_cancel_backend` or `KILL QUERY`. It never waits longer than
    /// [`Db::cancel_limit`]: a server that does not answer is given up on.
    /// Returns how many were signalled. (SQLite statements stop when their
    /// reader is dropped: see `Transaction`.)
    pub async fn cancel_backends(&self, pids: &[i32]) -> usize {
        if pids.is_empty() {
            return 0;
        }
        tokio::time::timeout(self.cancel_limit(), self.cancel_now(pids))
            .await
            .unwrap_or(0)
    }

    /// How long a cancel may take, connection included: the connect timeout,
    /// at most [`CANCEL_LIMIT`].
    pub fn cancel_limit(&self) -> Duration {
        self.options.connect_timeout.min(CANCEL_LIMIT)
    }

    async fn cancel_now(&self, pids: &[i32]) -> usize {
        if let Pool::Mysql(pool) = &self.pool {
            // KILL QUERY from a connection of its own.
            let Ok(mut conn) = sqlx::MySqlConnection::connect_with(&pool.connect_options()).await
            else {
                return 0;
            };
            let mut killed = 0;
            for &pid in pids {
                if conn
                    .execute(crate::sql::mysql_kill_query(pid).raw())
                    .await
                    .is_ok()
                {
                    killed += 1;
                }
            }
            let _ = conn.close().await;
            return killed;
        }
        let Pool::Postgres(pool) = &self.pool else {
            return 0;
        };
        let options = pool.connect_options();
        let Ok(mut conn) = sqlx::PgConnection::connect_with(&options).await else {
            return 0;
        };
        let cancelled: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM unnest($1::int4[]) AS p(pid) WHERE pg_cancel_backend(p.pid)",
        )
        .bind(pids)
        .fetch_one(&mut conn)
        .await
        .unwrap_or(0);
        let _ = conn.close().await;
        cancelled as usize
    }

    /// True when the database answers a trivial query within `limit`.
    pub async fn ping(&self, limit: Duration) -> Result<(), String> {
        let query = async {
            match &self.pool {
                Pool::Postgres(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ()),
                Pool::Sqlite(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ()),
                Pool::Mysql(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ()),
            }
        };
        tokio::pin!(query);
        // The pool gives up waiting for a connection at the connect timeout:
        // the server did not answer in that time.
        let answered = |r: Result<(), sqlx::Error>| {
            r.map_err(|e| match e {
                sqlx::Error::PoolTimedOut => format!(
                    "no answer within {} s",
                    self.options.connect_timeout.as_secs_f64()
                ),
                e => self.explain(&e),
            })
        };
        // A pool with an open connection answers at once. One that has to
        // connect retries a refused connection until its acquire timeout,
        // which hides why: a connection of its own, tried alongside, says it.
        if let Ok(r) = tokio::time::timeout(PING_GRACE.min(limit), &mut query).await {
            return match r {
                Err(e) if is_wrong_password(&e) && self.password_rotated().await => Ok(()),
                r => answered(r),
            };
        }
        let own = self.connect_once();
        tokio::pin!(own);
        let deadline = tokio::time::sleep(limit.saturating_sub(PING_GRACE));
        tokio::pin!(deadline);
        tokio::select! {
            r = &mut query => answered(r),
            r = &mut own => match r {
                Err(cause) => Err(cause),
                // It connects: the server answers; the pool is only busy.
                Ok(()) => Ok(()),
            },
            _ = &mut deadline => Err(format!("no answer within {} s", limit.as_secs_f64())),
        }
    }

    /// Pings every `period` while the caller's work goes on; returns why the
    /// database stopped answering, and never while it answers. A statement
    /// waiting for a connection says nothing until the connect timeout: run
    /// beside it, this says at once.
    pub async fn until_unreachable(&self, period: Duration, limit: Duration) -> String {
        // A SQLite file has no server to lose; a busy pool there is not a fault.
        if let Pool::Sqlite(_) = self.pool {
            return std::future::pending().await;
        }
        loop {
            tokio::time::sleep(period).await;
            if let Err(e) = self.ping(limit).await {
                return e;
            }
        }
    }

    /// One connection of its own, closed at once: Ok when the server takes
    /// it, else why not (refused, unknown host, authentication, …). SQLite
    /// has no server to ask.
    async fn connect_once(&self) -> Result<(), String> {
        use sqlx::Connection;
        let result = match &self.pool {
            Pool::Postgres(p) => match sqlx::PgConnection::connect_with(&p.connect_options()).await
            {
                Ok(c) => c.close().await,
                Err(e) if is_wrong_password(&e) && self.password_rotated().await => Ok(()),
                Err(e) => Err(e),
            },
            Pool::Mysql(p) => match sqlx::MySqlConnection::connect_with(&p.connect_options()).await
            {
                Ok(c) => c.close().await,
                Err(e) => Err(e),
            },
            Pool::Sqlite(_) => return std::future::pending().await,
        };
        result.map_err(|e| self.explain(&e))
    }

    /// A failure to reach the server, said as libpq would (a refused
    /// password with where it came from), without the password.
    fn explain(&self, error: &sqlx::Error) -> String {
        let mut reason = describe(error);
        if is_wrong_password(error) {
            reason.push_str(&self.target.password_hint());
        }
        self.target.redact(&reason)
    }

    /// After a refused password: true when the password file now holds
    /// another password for this server and it logs in; the pool then uses
    /// it for every new connection (an operator rotated the password and
    /// the file, as libpq-based tools expect).
    async fn password_rotated(&self) -> bool {
        use sqlx::Connection;
        let Pool::Postgres(pool) = &self.pool else {
            return false;
        };
        let Some(password) = self.target.reread_password() else {
            return false;
        };
        let options = (*pool.connect_options()).clone().password(&password);
        match sqlx::PgConnection::connect_with(&options).await {
            Ok(connection) => {
                let _ = connection.close().await;
                pool.set_connect_options(options);
                true
            }
            Err(_) => false,
        }
    }

    /// Starts a run on PostgreSQL: a coordinator transaction exports its snapshot,
    /// which every worker imports, so all checks of the run see the same data (as
    /// pg_dump does). Elsewhere, or if the export fails (e.g. on some proxies),
    /// there is no shared snapshot.
    pub async fn shared_snapshot(&self) -> Option<(Transaction, String)> {
        let Pool::Postgres(_) = &self.pool else {
            return None;
        };
        let mut coordinator = self.reader(None).await.ok()?;
        let id = coordinator.export_snapshot().await.ok()?;
        Some((coordinator, id))
    }

    /// Closes the pool, waiting at most two seconds: a connection whose query
    /// was abandoned (cancelled, timed out) may never come back to it.
    pub async fn close(&self) {
        let close = async {
            match &self.pool {
                Pool::Postgres(p) => p.close().await,
                Pool::Sqlite(p) => p.close().await,
                Pool::Mysql(p) => p.close().await,
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), close).await;
    }
}

/// A connection failure, its reason scrubbed of the target's secrets.
fn failed(target: &Target, reason: String) -> ConnectError {
    ConnectError::Failed {
        target: target.to_string(),
        reason: target.redact(&reason),
    }
}

/// Reads the server version and the search path from the first PostgreSQL
/// session. Every session of the pool resolves names alike: the search path
/// the first one got is pinned for all of them.
async fn postgres_first_session(
    first: &mut sqlx::PgConnection,
) -> Result<(String, String), sqlx::Error> {
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut *first)
        .await?;
    let search_path: String = sqlx::query_scalar("SHOW search_path")
        .fetch_one(&mut *first)
        .await?;
    Ok((version, search_path))
}

/// How to open a SQLite session: the URL's options with the session's
/// foreign keys, memory map, read-only mode and busy timeout. A file that
/// does not exist is an error unless a writable session may create it.
fn sqlite_options(
    url: &str,
    target: &Target,
    options: &SessionOptions,
) -> Result<SqliteConnectOptions, ConnectError> {
    let opts = SqliteConnectOptions::from_str(url).map_err(|e| ConnectError::InvalidUrl {
        url: target.redacted_url.clone(),
        reason: describe(&e),
    })?;
    let path = opts.get_filename().to_path_buf();
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let create = options.create_if_missing && !options.read_only;
    if !in_memory && !create && !path.exists() {
        return Err(failed(target, "the database file does not exist".into()));
    }
    let opts = match options.sqlite_foreign_keys {
        Some(on) => opts.foreign_keys(on),
        None => opts,
    };
    // Checks read whole tables and indexes through SQLite's small
    // page cache: mapping the file instead of a read() per 4 KB page
    // made the 1M demo's check 2.5 times as fast (README,
    // "Benchmark"). The mapped pages are the OS's file cache,
    // shared and reclaimable, yet they count in the process's RSS.
    let opts = if options.read_only {
        opts.pragma("mmap_size", SQLITE_MMAP_SIZE)
    } else {
        opts
    };
    Ok(opts
        .read_only(options.read_only)
        .create_if_missing(create)
        .busy_timeout(options.lock_timeout.min(options.statement_timeout)))
}

/// Connects once to a MySQL or MariaDB server, within the connect timeout,
/// and reads its version (MariaDB's names itself).
async fn mysql_version(
    opts: &MySqlConnectOptions,
    target: &Target,
    options: &SessionOptions,
) -> Result<String, ConnectError> {
    let fail = |reason: String| failed(target, reason);
    let mut first = tokio::time::timeout(
        options.connect_timeout,
        sqlx::MySqlConnection::connect_with(opts),
    )
    .await
    .map_err(|_| {
        fail(format!(
            "no answer within {} s",
            options.connect_timeout.as_secs_f64()
        ))
    })?
    .map_err(|e| fail(describe(&e)))?;
    let version: String = sqlx::query_scalar("SELECT CAST(VERSION() AS CHAR)")
        .fetch_one(&mut first)
        .await
        .map_err(|e| fail(describe(&e)))?;
    let _ = first.close().await;
    Ok(version)
}

fn postgres_session_settings(options: &SessionOptions) -> Vec<(&'static str, String)> {
    let mut settings = vec![
        (
            "statement_timeout",
            options.statement_timeout.as_millis().to_string(),
        ),
        (
            "lock_timeout",
            options.lock_timeout.as_millis().max(1).to_string(),
        ),
        // Checks are short scans: compiling them costs more than it saves.
        ("jit", "off".to_string()),
        ("idle_in_transaction_session_timeout", "300000".to_string()),
        // A query that row-level security would filter fails instead of
        // returning part of the rows: a count is whole or not given.
        ("row_security", "off".to_string()),
        // String literals read the same whatever the server's default.
        ("standard_conforming_strings", "on".to_string()),
        // Text forms that read back to the same value: ISO dates, shortest
        // exact floats, hex bytea.
        ("DateStyle", "ISO, MDY".to_string()),
        ("IntervalStyle", "postgres".to_string()),
        ("extra_float_digits", "3".to_string()),
        ("bytea_output", "hex".to_string()),
    ];
    if options.read_only {
        settings.push(("default_transaction_read_only", "on".to_string()));
    }
    settings
}

/// The major version in PostgreSQL's `server_version` (`15.20 (Debian …)`,
/// `17beta1`, `9.6.24`: 15, 17, 9); 0 when it cannot be read.
fn major_version(server_version: &str) -> u32 {
    let digits: String = server_version
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap_or(0)
}

/// The server refused the password (PostgreSQL's `invalid_password`).
fn is_wrong_password(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.code().as_deref() == Some("28P01"))
}

/// A one-line description of a sqlx error, without sqlx's prefixes.
pub fn describe(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(e) => e.message().to_string(),
        sqlx::Error::Io(e) => e.to_string(),
        sqlx::Error::Tls(e) => format!("TLS: {e}"),
        sqlx::Error::Configuration(e) => e.to_string(),
        sqlx::Error::PoolTimedOut => "timed out waiting for a connection".to_string(),
        sqlx::Error::PoolClosed => "the connection pool was closed".to_string(),
        sqlx::Error::Protocol(message) => message.clone(),
        other => other.to_string(),
    }
}

/// True when an error is the server cancelling a statement for its timeout
/// (or a cancellation, which the runner asks for when its own timer ends).
pub fn is_timeout(error: &sqlx::Error) -> bool {
    matches!(Failure::of(error), Failure::Timeout | Failure::Cancelled)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_major_version_of_server_version() {
        for (text, major) in [
            ("15.20 (Debian 15.20-1.pgdg120+1)", 15),
            ("17beta1", 17),
            ("9.6.24", 9),
            ("", 0),
        ] {
            assert_eq!(super::major_version(text), major, "{text}");
        }
    }
}
