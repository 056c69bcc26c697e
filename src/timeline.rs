//! When offending rows were written: each table's **time column** (the
//! profile's `[tables.<name>] time_column`, else one detected from the
//! catalog by its name and type) and the **bucket** a span of time reads best
//! in (minute … month).
//!
//! Data only: the SQL that groups rows by bucket is rendered in
//! [`crate::sql::render`], the only place SQL is written.

use crate::model::{Column, Engine, Table};

/// What a time column holds, which decides how it is bucketed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum TimeKind {
    /// A date and time without a zone (PostgreSQL `timestamp`, MySQL
    /// `datetime`).
    Timestamp,
    /// An instant (PostgreSQL `timestamptz`, MySQL `timestamp`): bucketed in UTC.
    TimestampTz,
    /// A day.
    Date,
    /// SQLite text in an ISO 8601 form (`2026-12-06 10:15:00`).
    Text,
    /// SQLite whole seconds since 1970 (`unixepoch`).
    Epoch,
}

/// How the time column of a table was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Chosen {
    /// Named by the profile's `[tables.<name>] time_column`.
    Profile,
    /// Found in the catalog by name and type.
    Detected,
}

/// The column that says when a table's rows were written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeColumn {
    pub column: String,
    pub kind: TimeKind,
    pub chosen: Chosen,
}

/// Names that say when a row was written, the likeliest first: creation
/// before last change.
pub const NAMES: [&str; 14] = [
    "created_at",
    "inserted_at",
    "created",
    "created_on",
    "creation_date",
    "creation_time",
    "date_created",
    "create_time",
    "createdat",
    "updated_at",
    "modified_at",
    "updated",
    "modified",
    "update_time",
];

/// What `column` holds as time on `engine`, from its declared type; None
/// when it is no time. On SQLite (no time type), a column named as in
/// [`NAMES`] holds text when declared text-like or untyped, seconds when
/// declared as an integer.
pub fn kind_of(engine: Engine, column: &Column) -> Option<TimeKind> {
    let t = column.data_type.to_ascii_lowercase();
    match engine {
        Engine::Postgres => match t.as_str() {
            "timestamp with time zone" | "timestamptz" => Some(TimeKind::TimestampTz),
            "timestamp without time zone" | "timestamp" => Some(TimeKind::Timestamp),
            "date" => Some(TimeKind::Date),
            _ => None,
        },
        Engine::Mysql => match t.split('(').next().unwrap_or_default().trim() {
            "timestamp" => Some(TimeKind::TimestampTz),
            "datetime" => Some(TimeKind::Timestamp),
            "date" => Some(TimeKind::Date),
            _ => None,
        },
        Engine::Sqlite => sqlite_kind(&t),
    }
}

/// SQLite's declared type, by its affinity rules: integer affinity is
/// seconds, text (or none, or a date/time name) is ISO text.
fn sqlite_kind(declared: &str) -> Option<TimeKind> {
    if declared.contains("int") {
        Some(TimeKind::Epoch)
    } else if declared.is_empty()
        || ["char", "clob", "text", "date", "time"]
            .iter()
            .any(|w| declared.contains(w))
    {
        Some(TimeKind::Text)
    } else {
        None
    }
}

/// The time column found in the catalog: the first name of [`NAMES`] the
/// table has with a time type (on SQLite, any text or integer column so
/// named).
pub fn detect(engine: Engine, table: &Table) -> Option<TimeColumn> {
    NAMES.iter().find_map(|name| {
        let column = table
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))?;
        Some(TimeColumn {
            column: column.name.clone(),
            kind: kind_of(engine, column)?,
            chosen: Chosen::Detected,
        })
    })
}

/// The time column of `table`: the profile's choice when it makes one
/// (`Some("")` says the table has none), else the one detected. A choice
/// that names no column of the table, or one that holds no time, is an
/// error saying so.
pub fn choose(
    engine: Engine,
    table: &Table,
    profile: Option<&str>,
) -> Result<Option<TimeColumn>, String> {
    let Some(name) = profile else {
        return Ok(detect(engine, table));
    };
    if name.is_empty() {
        return Ok(None);
    }
    let column = table
        .column(name)
        .ok_or_else(|| format!("time column \"{name}\" is not a column of the table"))?;
    let kind = kind_of(engine, column).ok_or_else(|| {
        format!(
            "time column \"{name}\" is {}, not a date or time",
            column.data_type
        )
    })?;
    Ok(Some(TimeColumn {
        column: column.name.clone(),
        kind,
        chosen: Chosen::Profile,
    }))
}

/// A bucket of a timeline: how long each bar of its histogram is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Unit {
    Minute,
    Hour,
    Day,
    /// Weeks starting on Monday (ISO 8601).
    Week,
    Month,
}

impl Unit {
    /// The smallest bucket that keeps a span of `seconds` within about 60
    /// bars: minutes up to an hour, hours up to three days, days up to two
    /// months, weeks up to a year, months beyond.
    pub fn for_span(seconds: f64) -> Unit {
        const HOUR: f64 = 3600.0;
        const DAY: f64 = 24.0 * HOUR;
        match seconds {
            s if s <= HOUR => Unit::Minute,
            s if s <= 3.0 * DAY => Unit::Hour,
            s if s <= 62.0 * DAY => Unit::Day,
            s if s <= 366.0 * DAY => Unit::Week,
            _ => Unit::Month,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Seconds since 1970 of a UTC time written `YYYY-MM-DD HH:MM:SS` (as the
/// timeline statements write them); None when it is not so written.
pub fn seconds_of(text: &str) -> Option<i64> {
    let (date, time) = text.split_once(' ')?;
    let mut d = date.splitn(3, '-').map(str::parse::<i64>);
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut t = time.splitn(3, ':').map(str::parse::<i64>);
    let (h, min, s) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from 1970-01-01 of a proleptic Gregorian date (the civil-from-days
    // inverse: years start in March, so February's length does not matter).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + min * 60 + s)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_utc_times_as_seconds() {
        assert_eq!(super::seconds_of("1970-01-01 00:00:00"), Some(0));
        assert_eq!(super::seconds_of("2000-03-01 00:00:01"), Some(951_868_801));
        assert_eq!(
            super::seconds_of("2026-12-06 21:30:00"),
            Some(1_796_592_600)
        );
        assert_eq!(super::seconds_of("1969-12-31 23:59:59"), Some(-1));
        assert_eq!(super::seconds_of("2026-13-01 00:00:00"), None);
        assert_eq!(super::seconds_of("soon"), None);
    }

    use super::*;
    use crate::model::{TableKind, TableName};

    fn column(name: &str, data_type: &str) -> Column {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            nullable: true,
            generated: false,
            identity: None,
        }
    }

    fn table(columns: Vec<Column>) -> Table {
        let mut t = Table::new(TableName::new("public", "t"), TableKind::Table);
        t.columns = columns;
        t
    }

    #[test]
    fn detects_the_likeliest_time_column_by_name_and_type() {
        let t = table(vec![
            column("updated_at", "timestamp with time zone"),
            column("created", "text"),
            column("created_at", "timestamp without time zone"),
        ]);
        let found = detect(Engine::Postgres, &t).unwrap();
        assert_eq!(found.column, "created_at");
        assert_eq!(found.kind, TimeKind::Timestamp);
        assert_eq!(found.chosen, Chosen::Detected);
        // A name alone is not enough where the engine has time types.
        let t = table(vec![
            column("created_at", "text"),
            column("updated_at", "date"),
        ]);
        assert_eq!(detect(Engine::Postgres, &t).unwrap().column, "updated_at");
        assert_eq!(detect(Engine::Postgres, &table(vec![])), None);
    }

    #[test]
    fn reads_time_kinds_per_engine() {
        let kind = |e, t| kind_of(e, &column("created_at", t));
        assert_eq!(
            kind(Engine::Mysql, "timestamp(6)"),
            Some(TimeKind::TimestampTz)
        );
        assert_eq!(kind(Engine::Mysql, "datetime"), Some(TimeKind::Timestamp));
        assert_eq!(kind(Engine::Mysql, "varchar(20)"), None);
        assert_eq!(kind(Engine::Sqlite, "INTEGER"), Some(TimeKind::Epoch));
        assert_eq!(kind(Engine::Sqlite, "DATETIME"), Some(TimeKind::Text));
        assert_eq!(kind(Engine::Sqlite, ""), Some(TimeKind::Text));
        assert_eq!(kind(Engine::Sqlite, "BLOB"), None);
        assert_eq!(
            kind(Engine::Postgres, "timestamptz"),
            Some(TimeKind::TimestampTz)
        );
    }

    #[test]
    fn the_profile_chooses_or_says_none_or_is_told_what_is_wrong() {
        let t = table(vec![
            column("created_at", "timestamp with time zone"),
            column("seen", "date"),
            column("note", "text"),
        ]);
        let chosen = choose(Engine::Postgres, &t, Some("seen")).unwrap().unwrap();
        assert_eq!(
            (chosen.column.as_str(), chosen.chosen),
            ("seen", Chosen::Profile)
        );
        assert_eq!(choose(Engine::Postgres, &t, Some("")), Ok(None));
        assert_eq!(
            choose(Engine::Postgres, &t, Some("nope")),
            Err("time column \"nope\" is not a column of the table".into())
        );
        assert_eq!(
            choose(Engine::Postgres, &t, Some("note")),
            Err("time column \"note\" is text, not a date or time".into())
        );
        assert_eq!(
            choose(Engine::Postgres, &t, None).unwrap().unwrap().column,
            "created_at"
        );
    }

    #[test]
    fn picks_the_bucket_from_the_span() {
        let hour = 3600.0;
        assert_eq!(Unit::for_span(0.0), Unit::Minute);
        assert_eq!(Unit::for_span(hour), Unit::Minute);
        assert_eq!(Unit::for_span(hour + 1.0), Unit::Hour);
        assert_eq!(Unit::for_span(72.0 * hour), Unit::Hour);
        assert_eq!(Unit::for_span(30.0 * 24.0 * hour), Unit::Day);
        assert_eq!(Unit::for_span(200.0 * 24.0 * hour), Unit::Week);
        assert_eq!(Unit::for_span(400.0 * 24.0 * hour), Unit::Month);
    }
}
