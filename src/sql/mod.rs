//! The one place that writes SQL at run time.
//!
//! Every identifier is quoted here, every check is rendered here, and this is the
//! only module that hands run-time text to sqlx (`AssertSqlSafe`). Callers get an
//! [`Sql`] value, which can only be made in this module: the text a user sees
//! (`sql` in a finding, `tether sql`) is the text that runs.

pub mod ddl;
pub mod fix;
pub mod probe;
pub mod render;

use crate::model::{Engine, TableName};
use sqlx::{AssertSqlSafe, Database};
use std::fmt;

/// A statement rendered by this module, ready to run or show.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sql(String);

impl Sql {
    fn new(text: String) -> Self {
        Sql(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A prepared query for sqlx. Parameters may be bound with `.bind(..)`.
    pub fn query<'a, DB: Database>(
        &self,
    ) -> sqlx::query::Query<'a, DB, <DB as Database>::Arguments> {
        sqlx::query(AssertSqlSafe(self.0.clone()))
    }

    /// Fails unless the text is exactly one statement: MySQL prepares only
    /// single statements. Run before a text-protocol query whose text a person
    /// wrote, so that it cannot carry a second statement out of the session's
    /// read-only transaction.
    pub async fn one_statement_mysql(
        &self,
        conn: &mut sqlx::MySqlConnection,
    ) -> Result<(), sqlx::Error> {
        use sqlx::Executor;
        use sqlx::SqlSafeStr;
        conn.prepare(AssertSqlSafe(self.0.clone()).into_sql_str())
            .await
            .map(|_| ())
    }

    /// The same text as a simple-protocol statement, for DDL and multi-statement scripts.
    pub fn raw(&self) -> sqlx::RawSql {
        sqlx::raw_sql(AssertSqlSafe(self.0.clone()))
    }
}

impl fmt::Display for Sql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Quotes one identifier for `engine`: `"a ""b"""` or `` `a``b` ``.
pub fn ident(engine: Engine, name: &str) -> String {
    match engine {
        Engine::Postgres | Engine::Sqlite => format!("\"{}\"", name.replace('"', "\"\"")),
        Engine::Mysql => format!("`{}`", name.replace('`', "``")),
    }
}

/// Quotes a schema-qualified table name.
pub fn table(engine: Engine, name: &TableName) -> String {
    format!(
        "{}.{}",
        ident(engine, &name.schema),
        ident(engine, &name.name)
    )
}

/// A table to read from: `ONLY "s"."t"` for a PostgreSQL table with
/// old-style inheritance children, whose own rows are what its constraints
/// cover (a plain read would add its children's rows).
pub fn relation(engine: Engine, name: &TableName, only: bool) -> String {
    if only && engine == Engine::Postgres {
        format!("ONLY {}", table(engine, name))
    } else {
        table(engine, name)
    }
}

/// Quotes a string literal for `engine`. On PostgreSQL a value with a
/// backslash is written `E'…'`, which reads the same whatever
/// `standard_conforming_strings` says; on MySQL, as hex, which reads the same
/// whatever `NO_BACKSLASH_ESCAPES` says.
pub fn literal(engine: Engine, value: &str) -> String {
    match engine {
        Engine::Postgres if value.contains('\\') => {
            format!("E'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
        }
        Engine::Postgres | Engine::Sqlite => format!("'{}'", value.replace('\'', "''")),
        // Hex reads the same whatever NO_BACKSLASH_ESCAPES says.
        Engine::Mysql if value.contains('\\') => {
            let hex: String = value.bytes().map(|b| format!("{b:02X}")).collect();
            format!("_utf8mb4 X'{hex}'")
        }
        Engine::Mysql => format!("'{}'", value.replace('\'', "''")),
    }
}

/// An expression converted to text, so samples of any type decode the same way.
pub fn as_text(engine: Engine, expr: &str) -> String {
    match engine {
        Engine::Postgres => format!("CAST({expr} AS text)"),
        Engine::Sqlite => format!("CAST({expr} AS TEXT)"),
        Engine::Mysql => format!("CAST({expr} AS CHAR)"),
    }
}

/// `SET TRANSACTION SNAPSHOT '…'`: lets a PostgreSQL worker read the snapshot another
/// session exported, so every check of one run sees the same data.
pub fn set_transaction_snapshot(snapshot_id: &str) -> Sql {
    Sql::new(format!(
        "SET TRANSACTION SNAPSHOT {}",
        literal(Engine::Postgres, snapshot_id)
    ))
}

/// The most a MariaDB check session's joins may buffer in one statement
/// (256 MiB): on the server, per session, and only while a join needs it.
/// MariaDB buffers the child's rows and hashes them; a pass that finds the
/// child's rows all in the buffer reads the parent once. Hashing the
/// 1,000,000-row `assets` against the 1,300,000-row `raw_import_records` of
/// the demo took, alone, 21 s with 64 MiB, 15 s with 128 MiB and 8 s with
/// 512 MiB, and in a whole check (four jobs on two cores) 27–28 s with
/// 128 MiB, too near the default 30 s timeout, and 20–23 s with 256 MiB. At
/// the default 4 jobs this allows up to 1 GiB of server memory; `--jobs`
/// bounds it.
pub const MARIADB_JOIN_BUFFER: u64 = 256 * 1024 * 1024;

/// What a MySQL/MariaDB session is set up for.
#[derive(Clone, Copy, Debug)]
pub struct MysqlSession {
    pub timeout_ms: u64,
    pub lock_wait_secs: u64,
    pub read_only: bool,
    /// Writes only in explicit transactions: autocommit off, strict, UTC.
    pub transactional_writes: bool,
}

/// The settings of every MySQL/MariaDB session: the statement timeout (MariaDB
/// `max_statement_time` in seconds, MySQL `max_execution_time` in ms), the lock
/// wait limits, 16 MB for `GROUP_CONCAT`, and, for checks, a read-only
/// transaction mode. Sessions that
/// write in transactions turn autocommit off (after a deadlock the server has
/// ended the transaction; a statement that still ran would otherwise commit
/// by itself), make truncation an error, keep explicit zero ids, and read and
/// write times in UTC (no daylight-saving hour read twice).
///
/// MariaDB's read-only sessions may also join by hashing (`join_cache_level =
/// 4`) with a join buffer of up to [`MARIADB_JOIN_BUFFER`]. By default MariaDB
/// joins only by looking each child row's parent up in its primary key; when
/// the parent is larger than the buffer pool every lookup reads a page from
/// disk. On the 1,000,000-asset demo with the default 128 MB buffer pool the
/// `assets` → `raw_import_records` tenant pass took 76–95 s that way, and
/// 8–15 s hashed; a pass through a small parent 8.9 s by lookups and 5.4 s
/// hashed. The buffer is allocated as far as a join needs it
/// (`optimize_join_buffer_size`), so small joins take little.
pub fn mysql_session(mariadb: bool, session: MysqlSession) -> Sql {
    let timeout = if mariadb {
        format!(
            "max_statement_time = {:.3}",
            session.timeout_ms as f64 / 1000.0
        )
    } else {
        format!("max_execution_time = {}", session.timeout_ms)
    };
    // A pass's sample rows are one GROUP_CONCAT per check: up to
    // `render::FACTS_CAP` rows with their times (MySQL's default stops at
    // 1 KB; a cut text is noticed, and the timeline then read apart).
    let mut text = format!(
        "SET SESSION {timeout}, innodb_lock_wait_timeout = {secs}, lock_wait_timeout = {secs}, \
         group_concat_max_len = 16777216",
        secs = session.lock_wait_secs.max(1)
    );
    if session.read_only {
        text.push_str("; SET SESSION TRANSACTION READ ONLY");
        if mariadb {
            text.push_str(&format!(
                "; SET SESSION join_cache_level = 4, join_buffer_size = {MARIADB_JOIN_BUFFER}, \
                 join_buffer_space_limit = {MARIADB_JOIN_BUFFER}"
            ));
        }
    }
    if session.transactional_writes {
        text.push_str(
            "; SET SESSION autocommit = 0, time_zone = '+00:00', \
             sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES', 'NO_AUTO_VALUE_ON_ZERO')\
             ; SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        );
    }
    Sql::new(text)
}

/// The user triggers on one table, with their definitions: bind the schema
/// and the table name. Columns: name, events, definition.
pub fn triggers(engine: Engine) -> Sql {
    Sql::new(
        match engine {
            Engine::Postgres => {
                "SELECT t.tgname::text, '', pg_get_triggerdef(t.oid)
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND n.nspname = $1 AND c.relname = $2
ORDER BY 1"
            }
            Engine::Mysql => {
                "SELECT CAST(TRIGGER_NAME AS CHAR), CAST(EVENT_MANIPULATION AS CHAR), CAST(ACTION_STATEMENT AS CHAR)
FROM information_schema.TRIGGERS
WHERE EVENT_OBJECT_SCHEMA = ? AND EVENT_OBJECT_TABLE = ?
ORDER BY 1"
            }
            Engine::Sqlite => {
                "SELECT name, '', sql FROM sqlite_master
WHERE type = 'trigger' AND ?1 = 'main' AND tbl_name = ?2
ORDER BY 1"
            }
        }
        .to_string(),
    )
}

/// `KILL QUERY n`: stops a MySQL/MariaDB connection's statement.
pub fn mysql_kill_query(connection_id: i32) -> Sql {
    Sql::new(format!("KILL QUERY {connection_id}"))
}

/// SQL written by a person (a profile's assertion or metric), taken as it is.
/// Trailing semicolons and whitespace are removed so it can be wrapped.
pub fn user(text: &str) -> Sql {
    Sql::new(text.trim().trim_end_matches(';').trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_every_awkward_identifier() {
        assert_eq!(ident(Engine::Postgres, r#"we"ird"#), r#""we""ird""#);
        assert_eq!(ident(Engine::Sqlite, "order"), r#""order""#);
        assert_eq!(ident(Engine::Mysql, "a`b"), "`a``b`");
        assert_eq!(ident(Engine::Postgres, "Zähler id"), r#""Zähler id""#);
        assert_eq!(
            table(Engine::Postgres, &TableName::new("my schema", "T")),
            r#""my schema"."T""#
        );
    }

    #[test]
    fn quotes_literals() {
        assert_eq!(literal(Engine::Postgres, "it's"), "'it''s'");
        assert_eq!(literal(Engine::Postgres, r"a\'b"), r"E'a\\''b'");
        assert_eq!(literal(Engine::Mysql, r"a\'"), "_utf8mb4 X'615C27'");
        assert_eq!(literal(Engine::Mysql, "it's"), "'it''s'");
    }

    #[test]
    fn user_sql_loses_its_semicolon() {
        assert_eq!(user(" SELECT 1;  \n").as_str(), "SELECT 1");
    }
}
