//! What kind of failure a database error is, for the callers that must branch
//! on it (a write path stops at once on a deadlock; a probe reads a refused
//! row as its answer). Classified by the engine's codes, never by message text.

use sqlx::error::ErrorKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The server chose this transaction as a deadlock victim (it is rolled back).
    Deadlock,
    /// A lock was not granted in time (`lock_timeout`, `innodb_lock_wait_timeout`,
    /// SQLite busy or locked).
    LockWait,
    /// A row this transaction reads or locks was changed by another one since
    /// its snapshot (REPEATABLE READ or SERIALIZABLE).
    Serialization,
    /// The statement timeout.
    Timeout,
    /// The statement was cancelled (Ctrl-C, `KILL QUERY`, `pg_cancel_backend`).
    Cancelled,
    /// The connection is gone, or none could be had.
    Connection,
    /// The session, transaction or server may not write.
    ReadOnly,
    /// The role lacks a privilege on what the statement reads or writes.
    Permission,
    /// Row-level security would filter the statement's rows (PostgreSQL with
    /// `row_security = off`): it fails rather than count part of them.
    RowSecurity,
    /// A foreign key refused the row.
    ForeignKey,
    /// Another constraint refused the row (unique, not null, check).
    Constraint,
    Other,
}

impl Failure {
    pub fn of(error: &sqlx::Error) -> Failure {
        match error {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => Failure::Connection,
            sqlx::Error::Database(e) => {
                let by_kind = match e.kind() {
                    ErrorKind::ForeignKeyViolation => Some(Failure::ForeignKey),
                    ErrorKind::UniqueViolation
                    | ErrorKind::NotNullViolation
                    | ErrorKind::CheckViolation => Some(Failure::Constraint),
                    _ => None,
                };
                if let Some(f) = by_kind {
                    return f;
                }
                if let Some(mysql) = e.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                    return mysql_number(mysql.number());
                }
                if e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    let code: i64 = e.code().and_then(|c| c.parse().ok()).unwrap_or(0);
                    return sqlite_code(code);
                }
                let code = e.code().map(|c| c.to_string()).unwrap_or_default();
                postgres_state(&code, e.message())
            }
            _ => Failure::Other,
        }
    }

    /// True for the failures after which a write path must stop at once: the
    /// transaction is (or may be) gone, or what it locked is no longer sure.
    pub fn ends_the_transaction(self) -> bool {
        matches!(
            self,
            Failure::Deadlock
                | Failure::LockWait
                | Failure::Serialization
                | Failure::Timeout
                | Failure::Cancelled
                | Failure::Connection
                | Failure::ReadOnly
        )
    }

    /// The words a message uses for it.
    pub fn name(self) -> &'static str {
        match self {
            Failure::Deadlock => "deadlock",
            Failure::LockWait => "lock wait timeout",
            Failure::Serialization => "concurrent update",
            Failure::Timeout => "statement timeout",
            Failure::Cancelled => "cancelled",
            Failure::Connection => "connection lost",
            Failure::ReadOnly => "read-only",
            Failure::Permission => "permission denied",
            Failure::RowSecurity => "row-level security",
            Failure::ForeignKey => "foreign key violation",
            Failure::Constraint => "constraint violation",
            Failure::Other => "error",
        }
    }
}

fn postgres_state(code: &str, message: &str) -> Failure {
    match code {
        "40P01" => Failure::Deadlock,
        "55P03" => Failure::LockWait,
        "40001" => Failure::Serialization,
        "57014" if message.contains("statement timeout") => Failure::Timeout,
        "57014" => Failure::Cancelled,
        "25006" => Failure::ReadOnly,
        "42501" if message.contains("row-level security") => Failure::RowSecurity,
        "42501" => Failure::Permission,
        "57P01" | "57P02" | "57P03" => Failure::Connection,
        c if c.starts_with("08") => Failure::Connection,
        c if c.starts_with("23") => Failure::Constraint,
        _ => Failure::Other,
    }
}

fn mysql_number(number: u16) -> Failure {
    match number {
        1213 => Failure::Deadlock,
        1205 => Failure::LockWait,
        // MariaDB max_statement_time; MySQL max_execution_time.
        1969 | 3024 => Failure::Timeout,
        1317 => Failure::Cancelled,
        // In a read-only transaction; the server's --read-only; super_read_only.
        1792 | 1290 | 1836 => Failure::ReadOnly,
        1451 | 1452 | 1216 | 1217 => Failure::ForeignKey,
        // SELECT (or another) command denied on a table, a column, a database.
        1142 | 1143 | 1044 => Failure::Permission,
        1062 | 1048 | 3819 | 4025 | 1364 => Failure::Constraint,
        2006 | 2013 | 1053 | 1927 => Failure::Connection,
        _ => Failure::Other,
    }
}

fn sqlite_code(code: i64) -> Failure {
    match code & 0xff {
        5 | 6 => Failure::LockWait,
        8 => Failure::ReadOnly,
        9 => Failure::Cancelled,
        19 if code == 787 => Failure::ForeignKey,
        19 => Failure::Constraint,
        _ => Failure::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_failures() {
        assert_eq!(postgres_state("40P01", ""), Failure::Deadlock);
        assert_eq!(
            postgres_state("57014", "canceling statement due to statement timeout"),
            Failure::Timeout
        );
        assert_eq!(
            postgres_state("57014", "canceling statement due to user request"),
            Failure::Cancelled
        );
        assert_eq!(postgres_state("08006", ""), Failure::Connection);
        assert_eq!(
            postgres_state(
                "42501",
                "query would be affected by row-level security policy for table \"orders\""
            ),
            Failure::RowSecurity
        );
        assert_eq!(
            postgres_state("42501", "permission denied for table orders"),
            Failure::Permission
        );
        assert_eq!(mysql_number(1142), Failure::Permission);
        assert_eq!(mysql_number(1213), Failure::Deadlock);
        assert_eq!(mysql_number(1205), Failure::LockWait);
        assert_eq!(sqlite_code(517), Failure::LockWait);
        assert_eq!(sqlite_code(787), Failure::ForeignKey);
        assert!(Failure::Deadlock.ends_the_transaction());
        assert!(!Failure::ForeignKey.ends_the_transaction());
    }
}
