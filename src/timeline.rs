//! When offending rows were written: each table's **time column** (the
//! profile's `[tables.<name>] time_column`, else one detected from the
//! catalog by its name and type) and the **bucket** a span of time reads best
//! in (minute … month).
//!
//! Data only: the SQL that groups rows by bucket is rendered in
//! [`crate::sql::render`], the only place SQL is written.

use crate::clock::{civil_from_days, days_from_civil};
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
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    strum::IntoStaticStr,
    strum::Display,
    serde::Serialize,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
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
    pub fn for_span(seconds: i64) -> Unit {
        let [minutes, hours, days, weeks] = Unit::LIMITS;
        match seconds {
            s if s <= minutes => Unit::Minute,
            s if s <= hours => Unit::Hour,
            s if s <= days => Unit::Day,
            s if s <= weeks => Unit::Week,
            _ => Unit::Month,
        }
    }

    /// The longest span (seconds) read in minutes, hours, days and weeks.
    pub const LIMITS: [i64; 4] = [3600, 3 * 86_400, 62 * 86_400, 366 * 86_400];

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// When a check's offending rows were written: the first and last time of
/// those with one, and how many there are per bucket (its size chosen from
/// that span), all exact.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Timeline {
    /// The table's time column, and how it was chosen (`profile`, `detected`).
    pub column: String,
    pub chosen: &'static str,
    /// UTC, `YYYY-MM-DD HH:MM:SS`; None when no offending row has a time
    /// (reports say them once, beside the timeline).
    #[serde(skip)]
    pub first_at: Option<String>,
    #[serde(skip)]
    pub last_at: Option<String>,
    /// Offending rows, and those of them without a time (NULL, or on SQLite
    /// text that is no time).
    pub rows: u64,
    pub untimed: u64,
    /// Each bucket's length (`minute` … `month`) and, in time order, the
    /// start of each that has rows (UTC) with its count.
    pub unit: Unit,
    pub buckets: Vec<(String, u64)>,
}

/// A check's offending rows grouped by one column: the largest groups.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Breakdown {
    pub column: String,
    /// The largest groups, largest first (ties by value): the value as text
    /// (None: NULL) and its rows.
    pub top: Vec<(Option<String>, u64)>,
    /// Groups in all; those beyond `top` are "and N more".
    pub groups: u64,
}

/// When a check's offending rows were written and whose they are, as one
/// pass over its table learnt them (every offending row of it, exactly):
/// reports carry `first_at` and `last_at` (the timeline's), `timeline` and
/// `breakdown`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub timeline: Option<Timeline>,
    pub breakdowns: Vec<Breakdown>,
    /// Why there is no timeline or breakdown although the table has the
    /// columns for one (the pass kept too few of the rows to be exact).
    pub omitted: Option<String>,
}

impl serde::Serialize for Facts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Json<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            first_at: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            last_at: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            timeline: Option<&'a Timeline>,
            #[serde(skip_serializing_if = "<[Breakdown]>::is_empty")]
            breakdown: &'a [Breakdown],
            #[serde(skip_serializing_if = "Option::is_none")]
            timeline_omitted: Option<&'a str>,
        }
        let t = self.timeline.as_ref();
        Json {
            first_at: t.and_then(|t| t.first_at.as_deref()),
            last_at: t.and_then(|t| t.last_at.as_deref()),
            timeline: t,
            breakdown: &self.breakdowns,
            timeline_omitted: self.omitted.as_deref(),
        }
        .serialize(serializer)
    }
}

impl Facts {
    /// None, and why (`timeline_omitted`).
    pub fn omitted(why: String) -> Facts {
        Facts {
            omitted: Some(why),
            ..Facts::default()
        }
    }

    /// From what was learnt of each offending row: the timeline when the
    /// table has a time column, a breakdown per column of `groups`.
    pub fn of(time: Option<(&str, Chosen)>, groups: &[&str], rows: &[RowFacts]) -> Facts {
        Facts {
            timeline: time.map(|(column, chosen)| timeline_of(column, chosen, rows)),
            breakdowns: breakdowns_of(groups, rows),
            omitted: None,
        }
    }
}

/// How many groups a breakdown lists.
pub const BREAKDOWN_TOP: usize = 5;

/// What a pass learnt of one offending row: its time (seconds since 1970,
/// UTC; None without one) and its value in each breakdown column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowFacts {
    pub at: Option<i64>,
    pub groups: Vec<Option<String>>,
}

/// The timeline of offending rows from what was learnt of each of them;
/// `column` is their time column, chosen as `chosen`.
pub fn timeline_of(column: &str, chosen: Chosen, rows: &[RowFacts]) -> Timeline {
    let times: Vec<i64> = rows.iter().filter_map(|r| r.at).collect();
    let (first, last) = (times.iter().min().copied(), times.iter().max().copied());
    let unit = match (first, last) {
        (Some(f), Some(l)) => Unit::for_span(l - f),
        _ => Unit::Day,
    };
    let mut counts: std::collections::BTreeMap<i64, u64> = std::collections::BTreeMap::new();
    for &t in &times {
        *counts.entry(bucket_start(t, unit)).or_default() += 1;
    }
    Timeline {
        column: column.to_string(),
        chosen: chosen.into(),
        first_at: first.map(utc_text),
        last_at: last.map(utc_text),
        rows: rows.len() as u64,
        untimed: (rows.len() - times.len()) as u64,
        unit,
        buckets: counts.into_iter().map(|(b, n)| (utc_text(b), n)).collect(),
    }
}

/// The breakdown of offending rows by the `i`th of `columns`.
pub fn breakdowns_of(columns: &[&str], rows: &[RowFacts]) -> Vec<Breakdown> {
    columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let mut counts: std::collections::BTreeMap<Option<&str>, u64> =
                std::collections::BTreeMap::new();
            for r in rows {
                let value = r.groups.get(i).and_then(|v| v.as_deref());
                *counts.entry(value).or_default() += 1;
            }
            let groups = counts.len() as u64;
            let mut top: Vec<(Option<String>, u64)> = counts
                .into_iter()
                .map(|(v, n)| (v.map(str::to_string), n))
                .collect();
            order_groups(&mut top);
            top.truncate(BREAKDOWN_TOP);
            Breakdown {
                column: column.to_string(),
                top,
                groups,
            }
        })
        .collect()
}

/// Groups in a breakdown's order: largest first; ties by value (its bytes),
/// NULL last, as the facts statement orders them on every engine.
pub fn order_groups(groups: &mut [(Option<String>, u64)]) {
    groups.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| a.0.is_none().cmp(&b.0.is_none()))
            .then_with(|| a.0.cmp(&b.0))
    });
}

impl Timeline {
    /// Every bucket from the first to the last, those without rows at 0:
    /// the histogram as a time axis.
    pub fn series(&self) -> Vec<(i64, u64)> {
        let unit = self.unit;
        let counts: Vec<(i64, u64)> = self
            .buckets
            .iter()
            .filter_map(|(b, n)| Some((parse_time(b)?, *n)))
            .collect();
        let (Some(&(first, _)), Some(&(last, _))) = (counts.first(), counts.last()) else {
            return Vec::new();
        };
        let mut series = Vec::new();
        let mut at = first;
        let mut given = counts.iter().peekable();
        while at <= last {
            let n = match given.peek() {
                Some(&&(b, n)) if b == at => {
                    given.next();
                    n
                }
                _ => 0,
            };
            series.push((at, n));
            // A bucket's start plus a bucket and a half is in the next one.
            at = bucket_start(at + length(unit) * 3 / 2, unit);
        }
        series
    }
}

/// About how long a bucket of `unit` is, in seconds.
fn length(unit: Unit) -> i64 {
    match unit {
        Unit::Minute => 60,
        Unit::Hour => 3600,
        Unit::Day => 86_400,
        Unit::Week => 7 * 86_400,
        Unit::Month => 28 * 86_400,
    }
}

/// The start of the bucket of `unit` holding `t` (seconds since 1970, UTC):
/// the minute, hour or day; the Monday of its week; the first of its month.
pub fn bucket_start(t: i64, unit: Unit) -> i64 {
    const DAY: i64 = 86_400;
    match unit {
        Unit::Minute => t - t.rem_euclid(60),
        Unit::Hour => t - t.rem_euclid(3600),
        Unit::Day => t - t.rem_euclid(DAY),
        Unit::Week => {
            let days = t.div_euclid(DAY);
            // 1970-01-01 was a Thursday: days since a Monday are (days + 3) % 7.
            (days - (days + 3).rem_euclid(7)) * DAY
        }
        Unit::Month => {
            let (y, m, _) = civil_from_days(t.div_euclid(DAY));
            days_from_civil(y, m, 1) * DAY
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS` of `t` seconds since 1970, UTC.
pub fn utc_text(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// Seconds since 1970 (UTC) of a time a query's row gives as text, whatever
/// the column's type: ISO 8601 — a day (`2026-03-14`), or a day and a time of day
/// (`2026-03-14 02:00`, `T`, seconds and their fraction optional), read as
/// UTC unless it names its offset (`Z`, `+05:30`, `-0500`, `+05`); None for
/// anything else (`infinity`, MySQL's zero dates, text that is no time).
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    let number = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<i64>().ok())
            .flatten()
    };
    let (date, rest) = text.split_at(text.len().min(10));
    let mut parts = date.splitn(3, '-');
    let (y, m, d) = (
        number(parts.next()?, 4)?,
        number(parts.next()?, 2)?,
        number(parts.next()?, 2)?,
    );
    let days_in = [
        31,
        if is_leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > days_in[(m - 1) as usize] {
        return None;
    }
    let day = days_from_civil(y, m, d) * 86_400;
    if rest.is_empty() {
        return Some(day);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    // The time of day, then its offset (if any) from where `+`, `-`, `Z` starts.
    let zone_at = rest.find(['+', '-', 'Z', 'z']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let mut hms = clock.trim_end().splitn(3, ':');
    let (h, min) = (number(hms.next()?, 2)?, number(hms.next()?, 2)?);
    let s = match hms.next() {
        Some(sec) => number(sec.split('.').next()?, 2)?,
        None => 0,
    };
    if h > 23 || min > 59 || s > 60 {
        return None;
    }
    Some(day + h * 3600 + min * 60 + s - offset_seconds(zone)?)
}

/// A UTC offset written `Z`, `+05`, `+05:30` or `-0500` in seconds east of
/// UTC; `""` is UTC.
fn offset_seconds(zone: &str) -> Option<i64> {
    if zone.is_empty() || zone.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let (sign, digits) = match zone.split_at(1) {
        ("+", d) => (1, d),
        ("-", d) => (-1, d),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let h: i64 = digits[..2].parse().ok()?;
    let m: i64 = match digits.len() {
        4 => digits[2..].parse().ok()?,
        _ => 0,
    };
    Some(sign * (h * 3600 + m * 60))
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_times_as_query_rows_give_them() {
        use super::parse_time;
        let at = super::parse_time("2026-03-14 02:00:00").unwrap();
        for text in [
            "2026-03-14 02:00:00",
            "2026-03-14T02:00:00",
            "2026-03-14T02:00:00.123456",
            "2026-03-14T02:00:00Z",
            "2026-03-14T07:30:00+05:30",
            "2026-03-14T07:30:00+0530",
            "2026-03-13T21:00:00-05",
            "2026-03-14 02:00",
            " 2026-03-14 02:00:00 ",
        ] {
            assert_eq!(parse_time(text), Some(at), "{text}");
        }
        assert_eq!(
            parse_time("2026-03-14"),
            super::parse_time("2026-03-14 00:00:00")
        );
        assert_eq!(
            parse_time("2024-02-29"),
            super::parse_time("2024-02-29 00:00:00")
        );
        for text in [
            "infinity",
            "-infinity",
            "0000-00-00 00:00:00",
            "2026-00-10 00:00:00",
            "2026-02-30",
            "2025-02-29",
            "2026-03-14 25:00:00",
            "2026-03-14X02:00",
            "soon",
            "",
            "2026-03-14T02:00:00+5",
        ] {
            assert_eq!(parse_time(text), None, "{text}");
        }
        // Digits alone are no text time (a number is read as seconds apart).
        assert_eq!(parse_time("1773453600"), None);
    }

    #[test]
    fn buckets_start_on_the_minute_hour_day_monday_and_first() {
        use super::{Unit, bucket_start, parse_time, utc_text};
        let t = parse_time("2026-01-18 23:59:59").unwrap(); // a Sunday
        let at = |unit| utc_text(bucket_start(t, unit));
        assert_eq!(at(Unit::Minute), "2026-01-18 23:59:00");
        assert_eq!(at(Unit::Hour), "2026-01-18 23:00:00");
        assert_eq!(at(Unit::Day), "2026-01-18 00:00:00");
        assert_eq!(at(Unit::Week), "2026-01-12 00:00:00");
        assert_eq!(at(Unit::Month), "2026-01-01 00:00:00");
        let leap = parse_time("2024-02-29 12:00:00").unwrap();
        assert_eq!(
            utc_text(bucket_start(leap, Unit::Month)),
            "2024-02-01 00:00:00"
        );
        assert_eq!(utc_text(-1), "1969-12-31 23:59:59");
        let monday = parse_time("2026-01-19 00:00:00").unwrap();
        assert_eq!(bucket_start(monday, Unit::Week), monday);
    }

    #[test]
    fn a_series_fills_the_buckets_without_rows() {
        let t = super::Timeline {
            column: "c".into(),
            chosen: "detected",
            first_at: None,
            last_at: None,
            rows: 3,
            untimed: 0,
            unit: Unit::Month,
            buckets: vec![
                ("2025-12-01 00:00:00".into(), 2),
                ("2026-03-01 00:00:00".into(), 1),
            ],
        };
        let months: Vec<(String, u64)> = t
            .series()
            .into_iter()
            .map(|(at, n)| (super::utc_text(at)[..7].to_string(), n))
            .collect();
        let expected = [
            ("2025-12", 2),
            ("2026-01", 0),
            ("2026-02", 0),
            ("2026-03", 1),
        ];
        assert_eq!(months, expected.map(|(m, n)| (m.to_string(), n)));
    }

    #[test]
    fn reads_utc_times_as_seconds() {
        assert_eq!(super::parse_time("1970-01-01 00:00:00"), Some(0));
        assert_eq!(super::parse_time("2000-03-01 00:00:01"), Some(951_868_801));
        assert_eq!(
            super::parse_time("2026-12-06 21:30:00"),
            Some(1_796_592_600)
        );
        assert_eq!(super::parse_time("1969-12-31 23:59:59"), Some(-1));
        assert_eq!(super::parse_time("2026-13-01 00:00:00"), None);
        assert_eq!(super::parse_time("soon"), None);
    }

    use super::*;
    use crate::model::{TableKind, TableName};

    fn column(name: &str, data_type: &str) -> Column {
        Column::of_type(name, data_type)
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
        let hour = 3600;
        assert_eq!(Unit::for_span(0), Unit::Minute);
        assert_eq!(Unit::for_span(hour), Unit::Minute);
        assert_eq!(Unit::for_span(hour + 1), Unit::Hour);
        assert_eq!(Unit::for_span(72 * hour), Unit::Hour);
        assert_eq!(Unit::for_span(30 * 24 * hour), Unit::Day);
        assert_eq!(Unit::for_span(200 * 24 * hour), Unit::Week);
        assert_eq!(Unit::for_span(400 * 24 * hour), Unit::Month);
    }
}
