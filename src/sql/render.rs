//! Renders checks to SQL for one dialect.
//!
//! A check is a [`Predicate`] over the rows of one table, possibly looking up each
//! row's parent. The same predicate renders these ways:
//! - [`count`]: the check alone, in its best standalone form (`NOT EXISTS` anti-join);
//! - [`scan`]: many predicates on one table counted in a single pass, with one
//!   `LEFT JOIN` per parent (only for parents whose key is unique);
//! - [`sample`]: a bounded sample of the offending rows;
//! - [`offending_rows`] and [`offending_page`]: every offending row with all
//!   its columns, whole or a page at a time in key order.

use super::{Sql, as_text, ident, relation, table};
use crate::cell::CellKind;
use crate::model::{Column, Engine, TableName};
use crate::timeline::{TimeColumn, TimeKind, Unit};
use std::fmt::Write;

/// How a child row finds its parent: `parent.pairs[i].1 = child.pairs[i].0`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lookup {
    pub parent: TableName,
    /// (child column, parent column) pairs.
    pub pairs: Vec<(String, String)>,
    /// Compare as text, because the column types differ.
    pub as_text: bool,
    /// `MATCH FULL`: a reference that is partly NULL is a violation too.
    pub match_full: bool,
    /// Read the parent's own rows only (it has inheritance children).
    pub parent_only: bool,
}

/// A condition on a row of one table that a check counts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Predicate {
    /// Every reference column is non-NULL and no parent row matches (MATCH SIMPLE).
    Orphan(Lookup),
    /// The column is NULL.
    Null(String),
    /// The row's `column` and its parent's `parent_column` are both non-NULL and differ.
    Differs {
        lookup: Lookup,
        column: String,
        parent_column: String,
        /// Compare the two columns as text, because their types differ.
        as_text: bool,
    },
}

impl Predicate {
    pub fn lookup(&self) -> Option<&Lookup> {
        match self {
            Predicate::Orphan(l) | Predicate::Differs { lookup: l, .. } => Some(l),
            Predicate::Null(_) => None,
        }
    }
}

pub(super) const CHILD: &str = "c";

pub(super) fn col(engine: Engine, alias: &str, column: &str) -> String {
    format!("{alias}.{}", ident(engine, column))
}

fn comparable(engine: Engine, expr: String, as_text_: bool) -> String {
    if as_text_ {
        as_text(engine, &expr)
    } else {
        expr
    }
}

/// `p."a" = c."x" AND p."b" = c."y"`
pub(super) fn join_condition(engine: Engine, lookup: &Lookup, parent_alias: &str) -> String {
    lookup
        .pairs
        .iter()
        .map(|(child, parent)| {
            format!(
                "{} = {}",
                comparable(engine, col(engine, parent_alias, parent), lookup.as_text),
                comparable(engine, col(engine, CHILD, child), lookup.as_text)
            )
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// `c."x" IS NOT NULL AND c."y" IS NOT NULL`
fn references_present(engine: Engine, lookup: &Lookup) -> String {
    lookup
        .pairs
        .iter()
        .map(|(child, _)| format!("{} IS NOT NULL", col(engine, CHILD, child)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Under `MATCH FULL` with several columns: some but not all of them NULL
/// (`NOT (all NULL) AND (some NULL)`); None otherwise.
fn partly_null(engine: Engine, lookup: &Lookup) -> Option<String> {
    if !lookup.match_full || lookup.pairs.len() < 2 {
        return None;
    }
    let each = |test: &str, join: &str| {
        lookup
            .pairs
            .iter()
            .map(|(child, _)| format!("{} {test}", col(engine, CHILD, child)))
            .collect::<Vec<_>>()
            .join(join)
    };
    Some(format!(
        "NOT ({}) AND ({})",
        each("IS NULL", " AND "),
        each("IS NULL", " OR ")
    ))
}

/// An orphan condition, widened under `MATCH FULL` to partly NULL references.
fn or_partly_null(engine: Engine, lookup: &Lookup, orphan: String) -> String {
    match partly_null(engine, lookup) {
        Some(partly) => format!("(({orphan})\n  OR ({partly}))"),
        None => orphan,
    }
}

fn differs(
    engine: Engine,
    column: &str,
    parent_alias: &str,
    parent_column: &str,
    as_text_: bool,
) -> String {
    format!(
        "{} <> {}",
        comparable(engine, col(engine, CHILD, column), as_text_),
        comparable(engine, col(engine, parent_alias, parent_column), as_text_)
    )
}

/// The WHERE clause of the standalone form.
pub(super) fn standalone_where(engine: Engine, predicate: &Predicate) -> String {
    match predicate {
        Predicate::Null(column) => format!("{} IS NULL", col(engine, CHILD, column)),
        Predicate::Orphan(lookup) => or_partly_null(
            engine,
            lookup,
            format!(
                "{}\n  AND NOT EXISTS (SELECT 1 FROM {} AS p WHERE {})",
                references_present(engine, lookup),
                relation(engine, &lookup.parent, lookup.parent_only),
                join_condition(engine, lookup, "p")
            ),
        ),
        Predicate::Differs {
            lookup,
            column,
            parent_column,
            as_text,
        } => format!(
            "EXISTS (SELECT 1 FROM {} AS p WHERE {} AND {})",
            relation(engine, &lookup.parent, lookup.parent_only),
            join_condition(engine, lookup, "p"),
            differs(engine, column, "p", parent_column, *as_text)
        ),
    }
}

/// The check alone: `SELECT count(*) … WHERE …` in its best standalone form.
/// `only`: the child's own rows (it has inheritance children).
pub fn count(engine: Engine, child: &TableName, only: bool, predicate: &Predicate) -> Sql {
    Sql::new(format!(
        "SELECT count(*) AS {}\nFROM {} AS {CHILD}\nWHERE {}",
        ident(engine, "count"),
        relation(engine, child, only),
        standalone_where(engine, predicate)
    ))
}

/// A check as a pass reads it: what it counts, and what its sample rows show.
#[derive(Clone, Copy, Debug)]
pub struct Sampled<'a> {
    pub predicate: &'a Predicate,
    /// The table's key, which a sample row starts with.
    pub key_columns: &'a [String],
    /// The parent as reports name it (labels a `Differs` sample's parent value).
    pub parent_label: Option<&'a str>,
    /// The table's time column and breakdown columns: each sample row also
    /// carries the row's time and its values in them (after the labelled
    /// columns), and the pass keeps up to [`FACTS_CAP`] rows, so that when
    /// the rows were written and whose they are comes from the same pass.
    pub time: Option<&'a TimeColumn>,
    pub groups: &'a [GroupBy],
}

/// A breakdown column: one of the row's own, or a column of the row its
/// references reach, hop by hop (`master_flow_id.flow_type`: the flow type
/// of the master flow; `data_import_id.master_flow_id.flow_type`: that of
/// its import's master flow), NULL where that row does not exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupBy {
    /// As reports name it: the column, or `<reference>.….<column>`.
    pub label: String,
    pub column: String,
    /// The references from the row to the one holding `column`, each of one
    /// column; empty: the row's own.
    pub via: Vec<Lookup>,
}

impl GroupBy {
    /// One of the row's own columns.
    pub fn own(column: &str) -> GroupBy {
        GroupBy {
            label: column.to_string(),
            column: column.to_string(),
            via: Vec::new(),
        }
    }
}

/// A breakdown column's value of a row (not yet as text). `joined`: the
/// alias of its first reference's parent where the statement joins it
/// already; every other row on the way is looked up by its key.
fn group_value(engine: Engine, group: &GroupBy, joined: Option<&str>) -> String {
    reached(engine, &group.via, group.via.len(), &group.column, joined)
}

/// `column` of the row `depth` references along `hops` from the child row
/// (0: the child's own).
fn reached(
    engine: Engine,
    hops: &[Lookup],
    depth: usize,
    column: &str,
    joined: Option<&str>,
) -> String {
    match (depth, joined) {
        (0, _) => col(engine, CHILD, column),
        (1, Some(alias)) => col(engine, alias, column),
        _ => {
            let lookup = &hops[depth - 1];
            let (child, parent) = &lookup.pairs[0];
            let key = reached(engine, hops, depth - 1, child, joined);
            let g = format!("g{depth}");
            format!(
                "(SELECT {} FROM {} AS {g} WHERE {} = {} LIMIT 1)",
                col(engine, &g, column),
                relation(engine, &lookup.parent, lookup.parent_only),
                comparable(engine, col(engine, &g, parent), lookup.as_text),
                comparable(engine, key, lookup.as_text)
            )
        }
    }
}

impl<'a> Sampled<'a> {
    /// A check counted without samples.
    pub fn bare(predicate: &'a Predicate) -> Self {
        Sampled {
            predicate,
            key_columns: &[],
            parent_label: None,
            time: None,
            groups: &[],
        }
    }

    /// True when its sample rows carry a time or breakdown values: the pass
    /// then aggregates them even when no sample is kept.
    pub fn has_facts(&self) -> bool {
        self.time.is_some() || !self.groups.is_empty()
    }

    /// True when a pass keeping `limit` sample rows aggregates this check's
    /// rows (`s<i>` after its count): samples are kept, or there are facts
    /// to learn.
    pub fn aggregated(&self, limit: u32) -> bool {
        limit > 0 || self.has_facts()
    }
}

/// The most offending rows a pass keeps per check for its timeline and
/// breakdown: more, and they are read by statements of their own.
pub const FACTS_CAP: u32 = 10_000;

/// A check's sample columns, then (see [`Sampled::time`]) the row's time in
/// whole seconds since 1970, UTC, and its breakdown values, as text.
/// `lookups`: the parents the statement joins (see [`joined_alias`]).
fn sample_and_facts(
    engine: Engine,
    sampled: &Sampled,
    parent_alias: Option<&str>,
    lookups: &[&Lookup],
) -> Vec<(String, String)> {
    let mut columns = sample_columns(engine, sampled, parent_alias);
    if let Some(time) = sampled.time {
        columns.push((String::new(), as_text(engine, &epoch_seconds(engine, time))));
    }
    for value in group_texts(engine, sampled.groups, lookups) {
        columns.push((String::new(), value));
    }
    columns
}

/// Each breakdown column's value of a row, as text; `lookups`: the parents
/// the statement joins, through which a first reference is read.
fn group_texts<'a>(
    engine: Engine,
    groups: &'a [GroupBy],
    lookups: &'a [&'a Lookup],
) -> impl Iterator<Item = String> + 'a {
    groups.iter().map(move |group| {
        let alias = group.via.first().and_then(|l| joined_alias(lookups, l));
        as_text(engine, &group_value(engine, group, alias.as_deref()))
    })
}

/// How many sample rows a pass keeps: `limit`, or with facts [`FACTS_CAP`].
fn kept(sampled: &Sampled, limit: u32) -> u32 {
    if sampled.has_facts() {
        limit.max(FACTS_CAP)
    } else {
        limit
    }
}

/// The columns of a sample row: (label, expression as text). `parent_alias`
/// names the joined parent row; without it (a check run alone), a `Differs`
/// sample reads the parent's value with a subquery.
fn sample_columns(
    engine: Engine,
    sampled: &Sampled,
    parent_alias: Option<&str>,
) -> Vec<(String, String)> {
    let mut columns: Vec<(String, String)> = Vec::new();
    let mut add = |label: &str, expr: String| {
        if !columns.iter().any(|(l, _)| l == label) {
            columns.push((label.to_string(), as_text(engine, &expr)));
        }
    };
    for key in sampled.key_columns {
        add(key, col(engine, CHILD, key));
    }
    match sampled.predicate {
        Predicate::Null(column) => add(column, col(engine, CHILD, column)),
        Predicate::Orphan(lookup) => {
            for (c, _) in &lookup.pairs {
                add(c, col(engine, CHILD, c));
            }
        }
        Predicate::Differs {
            lookup,
            column,
            parent_column,
            as_text,
        } => {
            for (c, _) in &lookup.pairs {
                add(c, col(engine, CHILD, c));
            }
            add(column, col(engine, CHILD, column));
            let label = format!(
                "{}.{parent_column}",
                sampled.parent_label.unwrap_or("parent")
            );
            let value = match parent_alias {
                Some(alias) => col(engine, alias, parent_column),
                None => format!(
                    "(SELECT {} FROM {} AS p WHERE {} AND {} LIMIT 1)",
                    col(engine, "p", parent_column),
                    relation(engine, &lookup.parent, lookup.parent_only),
                    join_condition(engine, lookup, "p"),
                    differs(engine, column, "p", parent_column, *as_text)
                ),
            };
            add(&label, value);
        }
    }
    columns
}

/// The labels of a check's sample columns, in the order a pass returns them.
pub fn sample_labels(sampled: &Sampled) -> Vec<String> {
    sample_columns(Engine::Sqlite, sampled, Some("p"))
        .into_iter()
        .map(|(label, _)| label)
        .collect()
}

/// One sample row as a JSON array of its columns' text.
fn json_row(engine: Engine, columns: &[(String, String)]) -> String {
    let values: Vec<&str> = columns.iter().map(|(_, e)| e.as_str()).collect();
    match engine {
        Engine::Postgres => format!("CAST(json_build_array({}) AS text)", values.join(", ")),
        Engine::Sqlite => format!("json_array({})", values.join(", ")),
        Engine::Mysql => format!("JSON_ARRAY({})", values.join(", ")),
    }
}

/// The sample rows of the rows matching `condition` (all rows when None),
/// aggregated in the pass that counts them: JSON arrays separated by spaces,
/// or NULL. PostgreSQL keeps the first `limit`; MySQL's text stops at the
/// server's `group_concat_max_len`; SQLite's aggregate keeps every match
/// (the reader keeps the first `limit`).
fn sample_aggregate(
    engine: Engine,
    columns: &[(String, String)],
    condition: Option<&str>,
    limit: u32,
) -> String {
    let row = json_row(engine, columns);
    match (engine, condition) {
        (Engine::Postgres, Some(c)) => {
            format!("array_to_string((array_agg({row}) FILTER (WHERE {c}))[1:{limit}], ' ')")
        }
        (Engine::Postgres, None) => format!("array_to_string((array_agg({row}))[1:{limit}], ' ')"),
        (Engine::Mysql, Some(c)) => {
            format!("GROUP_CONCAT(CASE WHEN {c} THEN {row} END SEPARATOR ' ')")
        }
        (Engine::Mysql, None) => format!("GROUP_CONCAT({row} SEPARATOR ' ')"),
        (Engine::Sqlite, Some(c)) => format!("group_concat(CASE WHEN {c} THEN {row} END, ' ')"),
        (Engine::Sqlite, None) => format!("group_concat({row}, ' ')"),
    }
}

/// A predicate as a pass tests it on a row whose parents are joined, each
/// under the alias `alias` gives its lookup.
fn joined_condition(
    engine: Engine,
    predicate: &Predicate,
    alias: &dyn Fn(&Lookup) -> String,
) -> String {
    match predicate {
        Predicate::Null(column) => format!("{} IS NULL", col(engine, CHILD, column)),
        Predicate::Orphan(lookup) => or_partly_null(
            engine,
            lookup,
            format!(
                "{} AND {} IS NULL",
                references_present(engine, lookup),
                col(engine, &alias(lookup), &lookup.pairs[0].1)
            ),
        ),
        Predicate::Differs {
            lookup,
            column,
            parent_column,
            as_text,
        } => differs(engine, column, &alias(lookup), parent_column, *as_text),
    }
}

/// The lookups of `predicates`, each once, in order: a statement joins
/// each parent under the alias `p<n>`, n its place from 1.
fn distinct_lookups<'p>(predicates: impl Iterator<Item = &'p Predicate>) -> Vec<&'p Lookup> {
    let mut lookups: Vec<&Lookup> = Vec::new();
    for lookup in predicates.filter_map(Predicate::lookup) {
        if !lookups.contains(&lookup) {
            lookups.push(lookup);
        }
    }
    lookups
}

/// The alias `p<n>` a statement joins `lookup`'s parent under, n its place
/// in `lookups` from 1; None when the statement does not join it.
fn joined_alias(lookups: &[&Lookup], lookup: &Lookup) -> Option<String> {
    let n = lookups.iter().position(|l| *l == lookup)?;
    Some(format!("p{}", n + 1))
}

/// The alias of each of `lookups` (which must hold it): `p<n>`.
fn aliases<'l>(lookups: &'l [&'l Lookup]) -> impl Fn(&Lookup) -> String + 'l {
    move |lookup: &Lookup| joined_alias(lookups, lookup).expect("lookup listed")
}

/// `LEFT JOIN`s of each of `lookups`' parents, aliased `p<n>`.
fn left_joins(engine: Engine, lookups: &[&Lookup]) -> String {
    let mut text = String::new();
    for (i, lookup) in lookups.iter().enumerate() {
        let a = format!("p{}", i + 1);
        let _ = write!(
            text,
            "\nLEFT JOIN {} AS {a} ON {}",
            relation(engine, &lookup.parent, lookup.parent_only),
            join_condition(engine, lookup, &a)
        );
    }
    text
}

/// Several checks on one table in a single pass. The result has one row: `rows`
/// (the table's row count), then for each check its count `k<i>` and, when
/// `limit` is above 0, its sample rows `s<i>` (see [`sample_aggregate`]).
///
/// Every lookup must target a unique parent key, so the `LEFT JOIN`s keep one row
/// per child row; the caller checks that.
pub fn scan(engine: Engine, child: &TableName, only: bool, checks: &[Sampled], limit: u32) -> Sql {
    let source = format!("{} AS {CHILD}", relation(engine, child, only));
    Sql::new(pass_over(engine, &source, checks, limit, ""))
}

/// [`scan`]'s text over `source`: the child relation and its alias, maybe
/// sampled; `extra` columns follow the checks'.
fn pass_over(engine: Engine, source: &str, checks: &[Sampled], limit: u32, extra: &str) -> String {
    let lookups = distinct_lookups(checks.iter().map(|c| c.predicate));
    let alias = aliases(&lookups);
    let mut text = format!("SELECT count(*) AS {}", ident(engine, "rows"));
    for (i, check) in checks.iter().enumerate() {
        let condition = joined_condition(engine, check.predicate, &alias);
        let count = match engine {
            Engine::Postgres => format!("count(*) FILTER (WHERE {condition})"),
            Engine::Sqlite | Engine::Mysql => format!("count(CASE WHEN {condition} THEN 1 END)"),
        };
        let _ = write!(
            text,
            ",\n       {count} AS {}",
            ident(engine, &format!("k{}", i + 1))
        );
        if check.aggregated(limit) {
            let parent = check.predicate.lookup().map(&alias);
            let columns = sample_and_facts(engine, check, parent.as_deref(), &lookups);
            let _ = write!(
                text,
                ",\n       {} AS {}",
                sample_aggregate(engine, &columns, Some(&condition), kept(check, limit)),
                ident(engine, &format!("s{}", i + 1))
            );
        }
    }
    let _ = write!(
        text,
        "{extra}\nFROM {source}{}",
        left_joins(engine, &lookups)
    );
    text
}

/// A PostgreSQL table of at least this many pages (8 kB each: about 200 MB)
/// is passed over in parts by page (`ctid` ranges) under one `UNION ALL`,
/// which the server runs as a Parallel Append, one part per process. A pass
/// that collects samples (`array_agg`) cannot be split among parallel
/// workers on PostgreSQL 15 (its aggregate has no combine function), so
/// without parts it would run on one core: the 1M demo's `assets` pass took
/// 2.0 s whole and 1.4 s in two parts, on two cores. Each part returns its
/// row as it ends, which is the pass's progress.
pub const PARTS_FROM_PAGES: i64 = 10_000;

/// At most this many parts: each joins every parent again (PostgreSQL hashes
/// each parent once per part).
pub const MAX_PARTS: u32 = 4;

/// A SQLite table of at least this many rows (or of unknown size) is passed
/// over in [`MAX_PARTS`] ranges of its rowid, for progress: SQLite looks
/// each parent row up per child row, so a part costs nothing more than the
/// rows it reads. MySQL is not split: each part would join its parents by
/// hash again, reading them whole.
pub const PARTS_FROM_ROWS: i64 = 100_000;

/// How a large table's pass is read in parts: one result row per part, each
/// sent as its part ends (in any order), numbered by a last column `part`.
/// The first part and the last are open-ended, so the parts cover every row
/// whatever the table holds when the statement runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parts {
    /// PostgreSQL: `count` ranges of the table's `pages` pages (`ctid`).
    Pages { pages: i64, count: u32 },
    /// SQLite: `count` ranges of the whole-number `key` between its least and
    /// greatest value, which the statement reads (two index look-ups).
    Key { key: String, count: u32 },
}

impl Parts {
    pub fn count(&self) -> u32 {
        match self {
            Parts::Pages { count, .. } | Parts::Key { count, .. } => *count,
        }
    }
}

/// How a table's pass is split, if it is large enough to be: see
/// [`PARTS_FROM_PAGES`] and [`PARTS_FROM_ROWS`].
pub fn parts_of(engine: Engine, table: &crate::model::Table) -> Option<Parts> {
    match engine {
        Engine::Postgres => {
            let pages = table.pages.filter(|&p| p >= PARTS_FROM_PAGES)?;
            let count = (pages / PARTS_FROM_PAGES).clamp(2, i64::from(MAX_PARTS)) as u32;
            Some(Parts::Pages { pages, count })
        }
        Engine::Sqlite => {
            let key = table.range_key.clone()?;
            (table
                .row_estimate
                .is_none_or(|rows| rows >= PARTS_FROM_ROWS))
            .then_some(Parts::Key {
                key,
                count: MAX_PARTS,
            })
        }
        Engine::Mysql => None,
    }
}

/// [`scan`], or with `parts`, the same pass over each part of the table
/// under one `UNION ALL`, each part's row ending with its number.
pub fn scan_in_parts(
    engine: Engine,
    child: &TableName,
    only: bool,
    checks: &[Sampled],
    limit: u32,
    parts: Option<&Parts>,
) -> Sql {
    let Some(parts) = parts.filter(|p| p.count() > 1) else {
        return scan(engine, child, only, checks, limit);
    };
    let whole = scan(engine, child, only, checks, limit);
    let n = parts.count();
    // Boundary `i` of `n`, between part i - 1 and part i.
    let bound = |i: u32| match parts {
        Parts::Pages { pages, .. } => format!("'({},0)'", pages / i64::from(n) * i64::from(i)),
        Parts::Key { key, .. } => {
            let key = ident(engine, key);
            let table = relation(engine, child, only);
            let (least, greatest) = (
                format!("(SELECT min({key}) FROM {table})"),
                format!("(SELECT max({key}) FROM {table})"),
            );
            format!("{least} + ({greatest} - {least}) / {n} * {i}")
        }
    };
    let column = match parts {
        Parts::Pages { .. } => format!("{CHILD}.ctid"),
        Parts::Key { key, .. } => col(engine, CHILD, key),
    };
    let members: Vec<String> = (0..n)
        .map(|i| {
            let mut range = Vec::new();
            if i > 0 {
                range.push(format!("{column} >= {}", bound(i)));
            }
            if i + 1 < n {
                range.push(format!("{column} < {}", bound(i + 1)));
            }
            let part = ident(engine, "part");
            format!(
                "SELECT h.*, {} AS {part} FROM (\n{}\nWHERE {}\n) AS h",
                i + 1,
                whole.as_str(),
                range.join(" AND ")
            )
        })
        .collect();
    Sql::new(members.join("\nUNION ALL\n"))
}

/// Rows a sample for an estimate aims to read.
pub const SAMPLE_ROWS: i64 = 50_000;

/// Key blocks a SQLite or MySQL sample reads, evenly spaced over the key.
pub const SAMPLE_BLOCKS: i64 = 50;

/// Consecutive key values in each of those blocks.
pub const BLOCK_KEYS: i64 = SAMPLE_ROWS / SAMPLE_BLOCKS;

/// How a pass reads a sample of its table, for an estimate.
#[derive(Clone, Debug, PartialEq)]
pub enum Sampling {
    /// PostgreSQL: `TABLESAMPLE SYSTEM (percent)`, each page with that
    /// probability, the same pages every time (`REPEATABLE`).
    Pages { percent: f64 },
    /// SQLite and MySQL: [`SAMPLE_BLOCKS`] blocks of [`BLOCK_KEYS`]
    /// consecutive values of the whole-number `key`, evenly spaced from its
    /// least value; the statement returns the spacing as a last column
    /// `step`, so the share read is `BLOCK_KEYS / step` (all when the key
    /// spans no more than the blocks).
    KeyBlocks { key: String },
}

/// How a table's pass would be sampled for an estimate, when the table is
/// larger than a sample and the engine can read one: PostgreSQL by pages
/// (from the catalog's row estimate), SQLite and MySQL by blocks of a
/// whole-number key.
pub fn sampling_of(engine: Engine, table: &crate::model::Table) -> Option<Sampling> {
    match engine {
        Engine::Postgres => {
            let rows = table.row_estimate.filter(|&r| r > SAMPLE_ROWS)?;
            let percent = (100.0 * SAMPLE_ROWS as f64 / rows as f64).clamp(0.01, 100.0);
            // Two significant figures: the text stays the same as the
            // estimate drifts a little.
            let scale = 10f64.powi(1 - percent.log10().floor() as i32);
            Some(Sampling::Pages {
                percent: (percent * scale).round() / scale,
            })
        }
        Engine::Sqlite | Engine::Mysql => {
            let key = table.range_key.clone()?;
            table
                .row_estimate
                .is_none_or(|rows| rows > SAMPLE_ROWS)
                .then_some(Sampling::KeyBlocks { key })
        }
    }
}

/// [`scan`] over a sample of the table (see [`Sampling`]).
pub fn scan_sampled(
    engine: Engine,
    child: &TableName,
    only: bool,
    checks: &[Sampled],
    limit: u32,
    sampling: &Sampling,
) -> Sql {
    let table = relation(engine, child, only);
    match sampling {
        Sampling::Pages { percent } => Sql::new(pass_over(
            engine,
            &format!("{table} AS {CHILD} TABLESAMPLE SYSTEM ({percent}) REPEATABLE (0)"),
            checks,
            limit,
            "",
        )),
        Sampling::KeyBlocks { key } => {
            let k = ident(engine, key);
            let least = format!("(SELECT min({k}) FROM {table})");
            let greatest = format!("(SELECT max({k}) FROM {table})");
            let step = match engine {
                Engine::Mysql => format!(
                    "GREATEST({BLOCK_KEYS}, ({greatest} - {least}) DIV {SAMPLE_BLOCKS} + 1)"
                ),
                _ => format!("max({BLOCK_KEYS}, ({greatest} - {least}) / {SAMPLE_BLOCKS} + 1)"),
            };
            let column = col(engine, CHILD, key);
            let blocks: Vec<String> = (0..SAMPLE_BLOCKS)
                .map(|i| {
                    let from = format!("{least} + {i} * {step}");
                    format!("({column} >= {from} AND {column} < {from} + {BLOCK_KEYS})")
                })
                .collect();
            // The spacing, as the statement computed it, follows the counts.
            let extra = format!(",\n       {step} AS {}", ident(engine, "step"));
            let whole = pass_over(
                engine,
                &format!("{table} AS {CHILD}"),
                checks,
                limit,
                &extra,
            );
            Sql::new(format!("{whole}\nWHERE {}", blocks.join("\n   OR ")))
        }
    }
}

/// One check alone, in its best standalone form, with its sample rows and,
/// when it found any, the table's rows, in one row (`count`, `sample`,
/// `rows`). PostgreSQL and MySQL aggregate the sample in the
/// same pass. On SQLite, reading the sample's columns in the counting pass
/// would turn an index-only anti-join into a scan of the whole table, so the
/// sample is a bounded subquery that runs only when the count is above 0.
/// `limit` 0: the count alone.
pub fn alone(engine: Engine, child: &TableName, only: bool, check: &Sampled, limit: u32) -> Sql {
    if !check.aggregated(limit) {
        return count(engine, child, only, check.predicate);
    }
    let columns = sample_and_facts(engine, check, None, &[]);
    let limit = kept(check, limit);
    let from = format!(
        "FROM {} AS {CHILD}\nWHERE {}",
        relation(engine, child, only),
        standalone_where(engine, check.predicate)
    );
    let sample = match engine {
        Engine::Postgres | Engine::Mysql => sample_aggregate(engine, &columns, None, limit),
        Engine::Sqlite => format!(
            "CASE WHEN count(*) > 0 THEN (SELECT group_concat(s, ' ') FROM (\n         SELECT {} AS s\n         {}\n         LIMIT {limit})) END",
            json_row(engine, &columns),
            from.replace('\n', "\n         ")
        ),
    };
    // The table's rows, for "N of M rows": counted only when there is a finding.
    let rows = format!(
        "CASE WHEN count(*) > 0 THEN (SELECT count(*) FROM {}) END",
        relation(engine, child, only)
    );
    Sql::new(format!(
        "SELECT count(*) AS {},\n       {sample} AS {},\n       {rows} AS {}\n{from}",
        ident(engine, "count"),
        ident(engine, "sample"),
        ident(engine, "rows"),
    ))
}

/// A person's query counted, with up to `limit` of its rows: on PostgreSQL one
/// row (`count`, the rows as JSON objects separated by spaces); elsewhere up
/// to `limit` rows, each the count over all rows (a window) and then the
/// query's own columns.
pub fn counted_rows_of(engine: Engine, query: &Sql, limit: u32) -> Sql {
    match engine {
        Engine::Postgres => over_query(
            &format!(
                "count(*) AS \"count\",\n       array_to_string((array_agg(CAST(row_to_json(q) AS text)))[1:{limit}], ' ') AS \"sample\""
            ),
            query,
            None,
        ),
        Engine::Sqlite | Engine::Mysql => over_query(
            &format!("count(*) OVER () AS {}, q.*", ident(engine, "tether_count")),
            query,
            Some(limit),
        ),
    }
}

/// `SELECT select FROM (query) AS q`, with at most `limit` rows.
fn over_query(select: &str, query: &Sql, limit: Option<u32>) -> Sql {
    let limit = limit.map(|n| format!("\nLIMIT {n}")).unwrap_or_default();
    Sql::new(format!(
        "SELECT {select}\nFROM (\n{}\n) AS q{limit}",
        query.as_str()
    ))
}

/// Up to `limit` offending rows: the row's key columns, then the columns the check
/// looked at, each as text. For `Differs`, the parent's value is labelled
/// `<parent>.<column>`.
pub fn sample(
    engine: Engine,
    child: &TableName,
    only: bool,
    parent_label: Option<&str>,
    predicate: &Predicate,
    key_columns: &[String],
    limit: u32,
) -> Sql {
    let sampled = Sampled {
        predicate,
        key_columns,
        parent_label,
        time: None,
        groups: &[],
    };
    let select: Vec<String> = sample_columns(engine, &sampled, Some("p"))
        .into_iter()
        .map(|(label, expr)| format!("{expr} AS {}", ident(engine, &label)))
        .collect();
    let from = match predicate {
        Predicate::Null(_) | Predicate::Orphan(_) => format!(
            "FROM {} AS {CHILD}\nWHERE {}",
            relation(engine, child, only),
            standalone_where(engine, predicate)
        ),
        Predicate::Differs {
            lookup,
            column,
            parent_column,
            as_text,
        } => format!(
            "FROM {} AS {CHILD}\nJOIN {} AS p ON {}\nWHERE {}",
            relation(engine, child, only),
            relation(engine, &lookup.parent, lookup.parent_only),
            join_condition(engine, lookup, "p"),
            differs(engine, column, "p", parent_column, *as_text)
        ),
    };
    Sql::new(format!(
        "SELECT {}\n{from}\nLIMIT {limit}",
        select.join(", ")
    ))
}

/// A check's offending rows in full, for a person to read: every column of
/// each row and, for `Differs`, the parent's compared value and key.
#[derive(Clone, Copy, Debug)]
pub struct Offending<'a> {
    pub child: &'a TableName,
    /// Read the child's own rows only (it has inheritance children).
    pub only: bool,
    pub predicate: &'a Predicate,
    /// Every column of the child, in the table's order.
    pub columns: &'a [Column],
    /// The child's key, in key order: unique and never NULL. On SQLite it may
    /// be the rowid, which is not among `columns` (it is shown first). Empty:
    /// the rows are listed in no particular order and cannot be paged.
    pub key: &'a [Column],
    /// The parent as reports name it: labels a `Differs` row's parent values.
    pub parent_label: Option<&'a str>,
    /// `Differs`: the parent's columns shown with each row, its compared
    /// column first, then its key. When several parent rows match, the values
    /// come from the first of them in the order of these columns.
    pub parent_columns: &'a [Column],
}

/// One page of offending rows, as [`offending_page`] renders it.
#[derive(Clone, Debug)]
pub struct OffendingPage {
    pub sql: Sql,
    /// For each placeholder in order, the key column whose "after" value it
    /// takes (MySQL needs some of them more than once).
    pub binds: Vec<usize>,
    /// How to read each column: the shown columns as text, then the key's
    /// values as cells, to continue after the last row.
    pub kinds: Vec<CellKind>,
}

/// A value as text a person can read: as [`as_text`], but bytes in hex,
/// `\x0a1b`, as PostgreSQL writes `bytea` (SQLite by each value's storage
/// class, MySQL by the column's type).
fn printable(engine: Engine, column: &Column, expr: &str) -> String {
    let hex = super::literal(engine, "\\x");
    match engine {
        Engine::Postgres => as_text(engine, expr),
        Engine::Sqlite => format!(
            "CASE WHEN typeof({expr}) = 'blob' THEN {hex} || lower(hex({expr})) ELSE {} END",
            as_text(engine, expr)
        ),
        Engine::Mysql if super::fix::cell_kind(engine, column) == CellKind::Bytes => {
            format!("CONCAT({hex}, LOWER(HEX({expr})))")
        }
        Engine::Mysql => as_text(engine, expr),
    }
}

/// The shown columns of an offending row: (label, expression as text).
fn offending_columns(engine: Engine, rows: &Offending) -> Vec<(String, String)> {
    let mut columns: Vec<(String, String)> = Vec::new();
    let mut add = |label: String, expr: String| {
        if !columns.iter().any(|(l, _)| *l == label) {
            columns.push((label, expr));
        }
    };
    let hidden = rows
        .key
        .iter()
        .filter(|k| !rows.columns.iter().any(|c| c.name == k.name));
    for column in hidden.chain(rows.columns) {
        let expr = col(engine, CHILD, &column.name);
        add(column.name.clone(), printable(engine, column, &expr));
    }
    if let Predicate::Differs {
        lookup,
        column,
        parent_column,
        as_text,
    } = rows.predicate
    {
        let order: Vec<String> = rows
            .parent_columns
            .iter()
            .map(|c| col(engine, "p", &c.name))
            .collect();
        let parent = rows.parent_label.unwrap_or("parent");
        for shown in rows.parent_columns {
            let value = format!(
                "(SELECT {} FROM {} AS p WHERE {} AND {} ORDER BY {} LIMIT 1)",
                printable(engine, shown, &col(engine, "p", &shown.name)),
                relation(engine, &lookup.parent, lookup.parent_only),
                join_condition(engine, lookup, "p"),
                differs(engine, column, "p", parent_column, *as_text),
                order.join(", ")
            );
            add(format!("{parent}.{}", shown.name), value);
        }
    }
    columns
}

/// The labels of an offending row's shown columns, in the order the
/// statements return them.
pub fn offending_labels(rows: &Offending) -> Vec<String> {
    offending_columns(Engine::Sqlite, rows)
        .into_iter()
        .map(|(label, _)| label)
        .collect()
}

/// `SELECT … FROM child WHERE predicate`, the predicate in parentheses when
/// more conditions follow.
fn offending_select(
    engine: Engine,
    rows: &Offending,
    extra: &[String],
    parenthesised: bool,
) -> String {
    let mut select: Vec<String> = offending_columns(engine, rows)
        .into_iter()
        .map(|(label, expr)| format!("{expr} AS {}", ident(engine, &label)))
        .collect();
    select.extend_from_slice(extra);
    let predicate = standalone_where(engine, rows.predicate);
    format!(
        "SELECT {}\nFROM {} AS {CHILD}\nWHERE {}",
        select.join(",\n       "),
        relation(engine, rows.child, rows.only),
        if parenthesised {
            format!("({predicate})")
        } else {
            predicate
        }
    )
}

fn order_by_key(engine: Engine, key: &[Column]) -> String {
    if key.is_empty() {
        return String::new();
    }
    let columns: Vec<String> = key.iter().map(|k| col(engine, CHILD, &k.name)).collect();
    format!("\nORDER BY {}", columns.join(", "))
}

/// Every offending row of a check, in key order, each column as text (bytes
/// in hex): the statement a person copies to list them.
pub fn offending_rows(engine: Engine, rows: &Offending) -> Sql {
    Sql::new(format!(
        "{}{}",
        offending_select(engine, rows, &[], false),
        order_by_key(engine, rows.key)
    ))
}

/// Up to `limit` offending rows in key order, after the row whose key is
/// bound (`after`): the shown columns as [`offending_rows`] reads them, then
/// the key's values as cells (see [`OffendingPage`]). The key must be unique
/// and never NULL, so that each row comes exactly once.
pub fn offending_page(engine: Engine, rows: &Offending, after: bool, limit: u32) -> OffendingPage {
    let mut kinds = vec![CellKind::Text; offending_columns(engine, rows).len()];
    let mut extra = Vec::new();
    for (i, key) in rows.key.iter().enumerate() {
        let (read, kind) = key_cell(engine, key);
        extra.push(format!(
            "{read} AS {}",
            ident(engine, &format!("tether key {}", i + 1))
        ));
        kinds.push(kind);
    }
    let mut text = offending_select(engine, rows, &extra, after);
    let mut binds = Vec::new();
    if after {
        let (condition, order) = keyset(engine, rows.key);
        let _ = write!(text, "\n  AND {condition}");
        binds = order;
    }
    let _ = write!(text, "{}\nLIMIT {limit}", order_by_key(engine, rows.key));
    OffendingPage {
        sql: Sql::new(text),
        binds,
        kinds,
    }
}

/// A key column read as a cell, exactly: PostgreSQL whole numbers as
/// `bigint`, `bytea` as bytes, other values as their text form; MySQL dates
/// and times as text, other values as themselves; SQLite by storage class.
fn key_cell(engine: Engine, column: &Column) -> (String, CellKind) {
    let expr = col(engine, CHILD, &column.name);
    let kind = super::fix::cell_kind(engine, column);
    let read = match (engine, kind) {
        (Engine::Postgres, CellKind::Int) => format!("CAST({expr} AS bigint)"),
        (Engine::Postgres, CellKind::Text) => as_text(engine, &expr),
        (Engine::Mysql, _) if is_temporal_mysql(column) => as_text(engine, &expr),
        _ => expr,
    };
    (read, kind)
}

fn is_temporal_mysql(column: &Column) -> bool {
    let t = column.data_type.to_ascii_lowercase();
    let base = t.split(['(', ' ']).next().unwrap_or_default();
    matches!(base, "date" | "datetime" | "timestamp" | "time")
}

/// The placeholder for a key value bound as [`key_cell`] read it, typed as
/// its column: PostgreSQL casts to the column's type; MySQL casts a DECIMAL
/// (it compares a DECIMAL with text as a float).
fn key_param(engine: Engine, column: &Column, n: usize) -> String {
    match engine {
        Engine::Postgres => match super::fix::cell_kind(engine, column) {
            CellKind::Int | CellKind::Bytes => format!("CAST(${n} AS {})", column.data_type),
            _ => format!("CAST(CAST(${n} AS text) AS {})", column.data_type),
        },
        Engine::Sqlite => format!("?{n}"),
        Engine::Mysql => {
            let t = column.data_type.to_ascii_lowercase();
            let base = t.split(['(', ' ']).next().unwrap_or_default();
            if !matches!(base, "decimal" | "numeric" | "dec" | "fixed") {
                return "?".to_string();
            }
            match t.find('(').zip(t.find(')')) {
                Some((open, close)) if open < close => {
                    format!("CAST(? AS DECIMAL{})", &t[open..=close])
                }
                _ => "CAST(? AS DECIMAL(65,30))".to_string(),
            }
        }
    }
}

/// The rows after the bound key, and which key value each placeholder takes.
/// PostgreSQL and SQLite compare row values, `(a, b) > ($1, $2)`; MySQL,
/// which reads a range of an index only for a plain column, spells it out:
/// `a >= ? AND (a > ? OR (a = ? AND b > ?))`.
fn keyset(engine: Engine, key: &[Column]) -> (String, Vec<usize>) {
    let column = |i: usize| col(engine, CHILD, &key[i].name);
    if engine != Engine::Mysql {
        let names: Vec<String> = (0..key.len()).map(column).collect();
        let params: Vec<String> = (0..key.len())
            .map(|i| key_param(engine, &key[i], i + 1))
            .collect();
        let text = match key.len() {
            1 => format!("{} > {}", names[0], params[0]),
            _ => format!("({}) > ({})", names.join(", "), params.join(", ")),
        };
        return (text, (0..key.len()).collect());
    }
    let last = key.len() - 1;
    let param = |i: usize| key_param(engine, &key[i], i + 1);
    let mut text = format!("{} > {}", column(last), param(last));
    let mut binds = vec![last];
    for i in (0..last).rev() {
        let (c, p) = (column(i), param(i));
        text = format!("({c} > {p} OR ({c} = {p} AND {text}))");
        binds.splice(0..0, [i, i]);
    }
    if last > 0 {
        text = format!("{} >= {} AND {text}", column(0), param(0));
        binds.insert(0, 0);
    }
    (text, binds)
}

/// One step down a lineage: rows of `table` whose `pairs` (child column, parent
/// column) reference the rows of the step above.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    pub table: TableName,
    pub pairs: Vec<(String, String)>,
}

/// `EXISTS (…)`: the row `alias` of `hops[i].table` hangs off the root row whose
/// `key` is `value`, through the hops above it.
fn hangs_off(
    engine: Engine,
    hops: &[Hop],
    i: usize,
    alias: &str,
    root: &TableName,
    key: &str,
    value: &str,
) -> String {
    let hop = &hops[i];
    let above = format!("l{i}");
    let (parent_table, extra) = if i == 0 {
        (
            table(engine, root),
            format!(
                "{} = {}",
                col(engine, &above, key),
                super::literal(engine, value)
            ),
        )
    } else {
        (
            table(engine, &hops[i - 1].table),
            hangs_off(engine, hops, i - 1, &above, root, key, value),
        )
    };
    let join: Vec<String> = hop
        .pairs
        .iter()
        .map(|(child, parent)| {
            format!(
                "{} = {}",
                col(engine, &above, parent),
                col(engine, alias, child)
            )
        })
        .collect();
    format!(
        "EXISTS (SELECT 1 FROM {parent_table} AS {above} WHERE {} AND {extra})",
        join.join(" AND ")
    )
}

/// Like [`scan`], over only the rows of the last hop's table that hang off one
/// root row (its `key` column equal to `value`): a lineage node's count, then
/// one count per predicate.
pub fn lineage_scan(
    engine: Engine,
    hops: &[Hop],
    root: &TableName,
    key: &str,
    value: &str,
    predicates: &[Predicate],
) -> Sql {
    let last = hops
        .last()
        .expect("a lineage node is at least one hop down");
    let checks: Vec<Sampled> = predicates.iter().map(Sampled::bare).collect();
    let mut sql = scan(engine, &last.table, false, &checks, 0);
    sql.0.push_str(&format!(
        "\nWHERE {}",
        hangs_off(engine, hops, hops.len() - 1, CHILD, root, key, value)
    ));
    sql
}

/// The most recent rows of a table: its key and a few describing columns, as text.
pub fn recent_rows(
    engine: Engine,
    name: &TableName,
    key: &str,
    labels: &[String],
    order_by: Option<&str>,
    limit: u32,
) -> Sql {
    let mut select = vec![format!(
        "{} AS {}",
        as_text(engine, &col(engine, CHILD, key)),
        ident(engine, key)
    )];
    for label in labels {
        select.push(format!(
            "{} AS {}",
            as_text(engine, &col(engine, CHILD, label)),
            ident(engine, label)
        ));
    }
    let order = order_by.unwrap_or(key);
    Sql::new(format!(
        "SELECT {}\nFROM {} AS {CHILD}\nORDER BY {} DESC\nLIMIT {limit}",
        select.join(", "),
        table(engine, name),
        col(engine, CHILD, order)
    ))
}

/// One row by its key, to check that a typed id exists.
pub fn row_exists(engine: Engine, name: &TableName, key: &str, value: &str) -> Sql {
    Sql::new(format!(
        "SELECT count(*) AS {} FROM {} AS {CHILD} WHERE {} = {}",
        ident(engine, "count"),
        table(engine, name),
        as_text(engine, &col(engine, CHILD, key)),
        super::literal(engine, value)
    ))
}

/// The rows of a lineage node to list: those of the last hop's table that
/// hang off the root row whose `key` is `value` (the root row itself when
/// there are no hops), the columns shown, the key they are ordered by, and
/// the predicates marked on each row.
pub struct NodeListing<'a> {
    pub hops: &'a [Hop],
    pub root: &'a TableName,
    pub key: &'a str,
    pub value: &'a str,
    pub columns: &'a [Column],
    pub order: &'a [Column],
    pub predicates: &'a [Predicate],
}

/// The label of the column of [`node_rows`] that marks predicate `i`.
pub fn node_mark(i: usize) -> String {
    format!("tether broken {}", i + 1)
}

/// Up to `limit` rows of a lineage node, in key order: exactly the rows
/// [`lineage_scan`] counts for the same hops (or [`row_exists`] for the
/// root). Each column as text (bytes in hex), then per predicate its
/// [`node_mark`] column: `'1'` when the row matches it (its standalone
/// form), else NULL.
pub fn node_rows(engine: Engine, listing: &NodeListing, limit: u32) -> Sql {
    let mut select: Vec<String> = listing
        .columns
        .iter()
        .map(|c| {
            let value = printable(engine, c, &col(engine, CHILD, &c.name));
            format!("{value} AS {}", ident(engine, &c.name))
        })
        .collect();
    for (i, predicate) in listing.predicates.iter().enumerate() {
        select.push(format!(
            "CASE WHEN {} THEN {} END AS {}",
            standalone_where(engine, predicate),
            super::literal(engine, "1"),
            ident(engine, &node_mark(i))
        ));
    }
    let (name, condition) = match listing.hops.last() {
        Some(last) => (
            &last.table,
            hangs_off(
                engine,
                listing.hops,
                listing.hops.len() - 1,
                CHILD,
                listing.root,
                listing.key,
                listing.value,
            ),
        ),
        None => (
            listing.root,
            format!(
                "{} = {}",
                as_text(engine, &col(engine, CHILD, listing.key)),
                super::literal(engine, listing.value)
            ),
        ),
    };
    Sql::new(format!(
        "SELECT {}\nFROM {} AS {CHILD}\nWHERE {condition}{}\nLIMIT {limit}",
        select.join(",\n       "),
        table(engine, name),
        order_by_key(engine, listing.order)
    ))
}

/// How many rows a person's query returns, counted on the server.
pub fn count_rows_of(engine: Engine, query: &Sql) -> Sql {
    over_query(
        &format!("count(*) AS {}", ident(engine, "count")),
        query,
        None,
    )
}

/// Up to `limit` rows of a person's query. PostgreSQL returns each row as one JSON
/// text (`row_to_json`), so values of any type arrive intact.
pub fn rows_of(engine: Engine, query: &Sql, limit: u32) -> Sql {
    let select = match engine {
        Engine::Postgres => "CAST(row_to_json(q) AS text)",
        Engine::Sqlite | Engine::Mysql => "*",
    };
    over_query(select, query, Some(limit))
}

// ---------------------------------------------------------------------------
// Timelines: when offending rows were written

/// A time column's value in whole seconds since 1970, UTC; NULL where it
/// holds no time. A date and time without a zone counts as UTC; a day, as
/// its midnight.
fn epoch_seconds(engine: Engine, time: &TimeColumn) -> String {
    let c = col(engine, CHILD, &time.column);
    match (engine, time.kind) {
        // `infinity` and `-infinity` are no time (and would not convert to
        // seconds).
        (Engine::Postgres, _) => {
            format!("CAST(extract(epoch FROM (CASE WHEN isfinite({c}) THEN {c} END)) AS bigint)")
        }
        // A MySQL TIMESTAMP's seconds do not depend on the session's zone.
        // Its zero value ('0000-00-00') gives 0 seconds, which no TIMESTAMP
        // can hold otherwise: no time.
        (Engine::Mysql, TimeKind::TimestampTz) => {
            format!("(CASE WHEN UNIX_TIMESTAMP({c}) > 0 THEN FLOOR(UNIX_TIMESTAMP({c})) END)")
        }
        // Zero and invalid dates ('0000-00-00', '2026-00-10', kept when
        // sql_mode allows them) give NULL.
        (Engine::Mysql, _) => format!("TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', {c})"),
        (Engine::Sqlite, TimeKind::Epoch) => {
            format!("CAST(strftime('%s', {c}, 'unixepoch') AS INTEGER)")
        }
        (Engine::Sqlite, _) => format!("CAST(strftime('%s', {c}) AS INTEGER)"),
    }
}

/// What a facts statement reads of the offending rows of several checks on
/// one table (see [`facts`]).
#[derive(Clone, Copy, Debug)]
pub struct FactsOf<'a> {
    pub child: &'a TableName,
    /// Read the child's own rows only (it has inheritance children).
    pub only: bool,
    pub predicates: &'a [&'a Predicate],
    pub time: Option<&'a TimeColumn>,
    pub groups: &'a [GroupBy],
}

/// Seconds since 1970 `t` rounded down to a multiple of `width` seconds
/// (also below 1970).
fn floor_to(t: &str, width: i64) -> String {
    format!("({t} - (({t} % {width}) + {width}) % {width})")
}

/// The start of the bucket holding `t` (seconds since 1970, UTC), also in
/// seconds, its unit chosen from the span `lo`…`hi` as [`Unit::for_span`]
/// chooses it.
fn bucket_of(engine: Engine, t: &str, lo: &str, hi: &str) -> String {
    const DAY: i64 = 86_400;
    let day = floor_to(t, DAY);
    let days = match engine {
        Engine::Mysql => format!("({day} DIV {DAY})"),
        _ => format!("({day} / {DAY})"),
    };
    // 1970-01-01 was a Thursday: days since a Monday are (days + 3) mod 7.
    let week = format!("({day} - ((({days} + 3) % 7 + 7) % 7) * {DAY})");
    let month = match engine {
        Engine::Postgres => format!(
            "CAST(extract(epoch FROM date_trunc('month', to_timestamp({t}) AT TIME ZONE 'UTC')) AS bigint)"
        ),
        Engine::Mysql => format!(
            "TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', DATE_FORMAT(DATE_ADD('1970-01-01 00:00:00', INTERVAL {t} SECOND), '%Y-%m-01'))"
        ),
        Engine::Sqlite => {
            format!("CAST(strftime('%s', {t}, 'unixepoch', 'start of month') AS INTEGER)")
        }
    };
    let span = format!("({hi} - {lo})");
    let [minute, hour, days_limit, weeks_limit] = Unit::LIMITS;
    format!(
        "CASE WHEN {span} <= {minute} THEN {} WHEN {span} <= {hour} THEN {} WHEN {span} <= {days_limit} THEN {day} WHEN {span} <= {weeks_limit} THEN {week} ELSE {month} END",
        floor_to(t, 60),
        floor_to(t, 3600),
    )
}

/// The timelines and breakdowns of several checks on one table in one
/// statement, computed by the server. The table is read once (`o`: each
/// offending row of any of the checks with its time in seconds since 1970,
/// UTC, its breakdown values as text, and which checks it offends; `s`: each
/// check's first and last time); each row is then counted once per part of
/// each check it offends (`parts`: its span, its bucket, its value in each
/// breakdown column), all in one `GROUP BY`. `o` is named twice only (MariaDB
/// reads a common table again for each name of it; windows over it were
/// slower still there). The result's rows, every column text:
/// - `k` the check (from 1), `what` the part;
/// - `span`: `n` offending rows, `timed` of them with a time, the first `lo`
///   and the last `hi` (seconds);
/// - `bucket`: `n` rows in the bucket starting at `v` (seconds), its unit
///   chosen from the check's span;
/// - `g<j>` (breakdown column j, from 1): a group, `v` its value (NULL a
///   group of its own), `n` its rows, `groups` how many groups there are; the
///   `top` largest, largest first, ties by value (bytes), NULL last.
pub fn facts(engine: Engine, of: &FactsOf, top: u32) -> Sql {
    let checks = of.predicates.len();
    let parts = FactParts::of(engine, of.time.is_some(), checks, of.groups.len());
    let offends = (1..=checks)
        .map(|i| format!("(parts.k = {i} AND x.m{i})"))
        .collect::<Vec<_>>()
        .join(" OR ");
    // Each check's first and last time, for its buckets' unit.
    let (spans, with_spans) = match parts.spans.is_empty() {
        true => (String::new(), ""),
        false => (
            format!(
                ",\ns AS (SELECT {} FROM o)",
                parts.spans.join(",\n              ")
            ),
            " CROSS JOIN s",
        ),
    };
    let by_value = match engine {
        Engine::Postgres => "y.v COLLATE \"C\"",
        Engine::Mysql => "CAST(y.v AS BINARY)",
        Engine::Sqlite => "y.v",
    };
    let text = |e: &str| as_text(engine, e);
    Sql::new(format!(
        "WITH o AS (\n{}\n){spans}\n\
         SELECT z.k, z.what, z.v, z.n, z.timed, z.lo, z.hi, z.groups\n\
         FROM (\n\
         \x20 SELECT {} AS k, y.what, y.v, {} AS n, {} AS timed, {} AS lo, {} AS hi,\n\
         \x20        {} AS groups,\n\
         \x20        row_number() OVER (PARTITION BY y.k, y.what ORDER BY count(*) DESC, y.v IS NULL, {by_value}) AS r\n\
         \x20 FROM (\n\
         \x20   SELECT parts.k, parts.what, x.t, {} AS v\n\
         \x20   FROM o AS x{with_spans}\n\
         \x20   JOIN ({}) AS parts ON {offends}\n\
         \x20   WHERE parts.what <> 'bucket' OR x.t IS NOT NULL\n\
         \x20 ) AS y\n\
         \x20 GROUP BY y.k, y.what, y.v\n\
         ) AS z\n\
         WHERE z.what NOT LIKE 'g%' OR z.r <= {top}",
        facts_rows(engine, of),
        text("y.k"),
        text("count(*)"),
        text("count(y.t)"),
        text("min(y.t)"),
        text("max(y.t)"),
        text("count(*) OVER (PARTITION BY y.k, y.what)"),
        parts.value,
        parts.list.join(" UNION ALL "),
    ))
}

/// The offending rows of any of `of`'s checks, read once for [`facts`]: the
/// time `t`, breakdown values `g<j>` and whether it offends check i, `m<i>`.
fn facts_rows(engine: Engine, of: &FactsOf) -> String {
    let lookups = distinct_lookups(of.predicates.iter().copied());
    let alias = aliases(&lookups);
    let conditions: Vec<String> = of
        .predicates
        .iter()
        .map(|p| joined_condition(engine, p, &alias))
        .collect();
    let mut columns = vec![match of.time {
        Some(time) => format!("{} AS t", epoch_seconds(engine, time)),
        None => format!("{} AS t", no_seconds(engine)),
    }];
    for (j, value) in group_texts(engine, of.groups, &lookups).enumerate() {
        columns.push(format!("{value} AS g{}", j + 1));
    }
    for (i, c) in conditions.iter().enumerate() {
        columns.push(format!("({c}) AS m{}", i + 1));
    }
    let any = conditions
        .iter()
        .map(|c| format!("({c})"))
        .collect::<Vec<_>>()
        .join(" OR ");
    // MySQL and MariaDB would merge `o` into the join with `parts`, and join
    // the parents again for each part; a limit keeps it apart, read once.
    let keep = match engine {
        Engine::Mysql => "\n  LIMIT 18446744073709551615",
        _ => "",
    };
    format!(
        "  SELECT {}\n  FROM {} AS {CHILD}{}\n  WHERE {any}{keep}",
        columns.join(",\n         "),
        relation(engine, of.child, of.only),
        left_joins(engine, &lookups).replace('\n', "\n  "),
    )
}

/// The parts [`facts`] counts of each check: their list (`parts`), a part's
/// value of a row (`v`), and each check's span (`s`).
struct FactParts {
    list: Vec<String>,
    value: String,
    spans: Vec<String>,
}

impl FactParts {
    fn of(engine: Engine, timed: bool, checks: usize, groups: usize) -> FactParts {
        let mut list = Vec::new();
        let mut buckets = Vec::new();
        let mut spans = Vec::new();
        for i in 1..=checks {
            list.push(match i {
                1 => "SELECT 1 AS k, 'span' AS what".to_string(),
                _ => format!("SELECT {i}, 'span'"),
            });
            if timed {
                list.push(format!("SELECT {i}, 'bucket'"));
                let (lo, hi) = (format!("s.lo{i}"), format!("s.hi{i}"));
                buckets.push(format!(
                    "WHEN {i} THEN {}",
                    bucket_of(engine, "x.t", &lo, &hi)
                ));
                spans.push(format!(
                    "min(CASE WHEN m{i} THEN t END) AS lo{i}, max(CASE WHEN m{i} THEN t END) AS hi{i}"
                ));
            }
            list.extend((1..=groups).map(|j| format!("SELECT {i}, 'g{j}'")));
        }
        let mut value = Vec::new();
        if timed {
            let bucket = format!("CASE parts.k {} END", buckets.join(" "));
            value.push(format!("WHEN 'bucket' THEN {}", as_text(engine, &bucket)));
        }
        value.extend((1..=groups).map(|j| format!("WHEN 'g{j}' THEN x.g{j}")));
        let value = match value.is_empty() {
            true => as_text(engine, "NULL"),
            false => format!("CASE parts.what {} END", value.join(" ")),
        };
        FactParts { list, value, spans }
    }
}

/// NULL as whole seconds (a table without a time column).
fn no_seconds(engine: Engine) -> &'static str {
    match engine {
        Engine::Postgres => "CAST(NULL AS bigint)",
        Engine::Mysql => "CAST(NULL AS SIGNED)",
        Engine::Sqlite => "NULL",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup() -> Lookup {
        Lookup {
            match_full: false,
            parent_only: false,
            parent: TableName::new("public", "discovery_flows"),
            pairs: vec![("discovery_flow_id".into(), "flow_id".into())],
            as_text: false,
        }
    }

    fn assets() -> TableName {
        TableName::new("public", "assets")
    }

    #[test]
    fn orphans_use_not_exists() {
        let sql = count(
            Engine::Postgres,
            &assets(),
            false,
            &Predicate::Orphan(lookup()),
        );
        assert_eq!(
            sql.as_str(),
            "SELECT count(*) AS \"count\"\nFROM \"public\".\"assets\" AS c\n\
             WHERE c.\"discovery_flow_id\" IS NOT NULL\n  AND NOT EXISTS (SELECT 1 FROM \
             \"public\".\"discovery_flows\" AS p WHERE p.\"flow_id\" = c.\"discovery_flow_id\")"
        );
        assert!(!sql.as_str().contains("NOT IN"));
    }

    #[test]
    fn a_scan_joins_each_parent_once() {
        let predicates = [
            Predicate::Orphan(lookup()),
            Predicate::Null("engagement_id".into()),
            Predicate::Differs {
                lookup: lookup(),
                column: "engagement_id".into(),
                parent_column: "engagement_id".into(),
                as_text: false,
            },
        ];
        let checks: Vec<Sampled> = predicates.iter().map(Sampled::bare).collect();
        let sql = scan(Engine::Sqlite, &assets(), false, &checks, 0);
        assert_eq!(sql.as_str().matches("LEFT JOIN").count(), 1);
        assert!(sql.as_str().contains("AS \"k3\""));
        assert!(
            sql.as_str()
                .contains("c.\"engagement_id\" <> p1.\"engagement_id\"")
        );
    }

    /// The facts statement of two checks on one table: the offending rows
    /// read once, the parent joined once (and its column grouped through
    /// that join), then per check its span, buckets and largest groups.
    #[test]
    fn facts_read_a_tables_offending_rows_once() {
        let orphan = Predicate::Orphan(lookup());
        let missing = Predicate::Null("engagement_id".into());
        let time = TimeColumn {
            column: "created_at".into(),
            kind: crate::timeline::TimeKind::TimestampTz,
            chosen: crate::timeline::Chosen::Detected,
        };
        let groups = [
            GroupBy::own("client_account_id"),
            GroupBy {
                label: "discovery_flow_id.status".into(),
                column: "status".into(),
                via: vec![lookup()],
            },
        ];
        let of = FactsOf {
            child: &assets(),
            only: false,
            predicates: &[&orphan, &missing],
            time: Some(&time),
            groups: &groups,
        };
        insta::assert_snapshot!(facts(Engine::Postgres, &of, 5).as_str());
        // Grouped through a reference the statement does not join: looked up.
        let of = FactsOf {
            predicates: &[&missing],
            ..of
        };
        // MySQL and MariaDB read the offending rows once, not once per part.
        let sql = facts(Engine::Mysql, &of, 5);
        assert!(
            sql.as_str().contains("LIMIT 18446744073709551615\n)"),
            "{sql}"
        );
        let sql = facts(Engine::Sqlite, &of, 5);
        assert!(
            sql.as_str().contains(
                "(SELECT g1.\"status\" FROM \"public\".\"discovery_flows\" AS g1 WHERE g1.\"flow_id\" = c.\"discovery_flow_id\" LIMIT 1)"
            ),
            "{sql}"
        );
    }

    #[test]
    fn a_pass_reads_each_checks_sample_with_its_count() {
        let orphan = Predicate::Orphan(lookup());
        let keys = ["id".to_string()];
        let sampled = Sampled {
            predicate: &orphan,
            key_columns: &keys,
            parent_label: Some("discovery_flows"),
            time: None,
            groups: &[],
        };
        let sql = scan(Engine::Postgres, &assets(), false, &[sampled], 5);
        let text = sql.as_str();
        let k1 = text.find("AS \"k1\"").unwrap();
        let s1 = text.find("AS \"s1\"").unwrap();
        assert!(k1 < s1, "{text}");
        assert!(text.contains("FILTER (WHERE c.\"discovery_flow_id\" IS NOT NULL AND p1.\"flow_id\" IS NULL))[1:5]"), "{text}");
        assert_eq!(sample_labels(&sampled), ["id", "discovery_flow_id"]);
        // MySQL and SQLite aggregate the same rows, with CASE.
        let sql = scan(Engine::Mysql, &assets(), false, &[sampled], 5);
        assert!(sql.as_str().contains("GROUP_CONCAT(CASE WHEN"), "{sql}");
        // Alone on SQLite, the sample runs only when there are rows to show.
        let sql = alone(Engine::Sqlite, &assets(), false, &sampled, 5);
        assert!(
            sql.as_str().contains("CASE WHEN count(*) > 0 THEN"),
            "{sql}"
        );
        assert!(sql.as_str().contains("LIMIT 5"), "{sql}");
    }

    /// From a flow down to its discovery flows, then to their assets.
    fn flow_hops() -> Vec<Hop> {
        vec![
            Hop {
                table: TableName::new("public", "discovery_flows"),
                pairs: vec![("master_flow_id".into(), "id".into())],
            },
            Hop {
                table: assets(),
                pairs: vec![("discovery_flow_id".into(), "flow_id".into())],
            },
        ]
    }

    #[test]
    fn lineage_scans_follow_the_hops_up_to_the_root() {
        let hops = flow_hops();
        let root = TableName::new("public", "flows");
        let sql = lineage_scan(
            Engine::Postgres,
            &hops,
            &root,
            "id",
            "it's",
            &[Predicate::Null("x".into())],
        );
        assert!(sql.as_str().ends_with(
            "WHERE EXISTS (SELECT 1 FROM \"public\".\"discovery_flows\" AS l1 WHERE l1.\"flow_id\" = c.\"discovery_flow_id\" \
             AND EXISTS (SELECT 1 FROM \"public\".\"flows\" AS l0 WHERE l0.\"id\" = l1.\"master_flow_id\" AND l0.\"id\" = 'it''s'))"
        ), "{sql}");
    }

    #[test]
    fn node_rows_list_what_the_lineage_scan_counts() {
        let hops = flow_hops();
        let root = TableName::new("public", "flows");
        let columns = [column("id", "uuid"), column("name", "text")];
        let orphan = Predicate::Orphan(lookup());
        let listing = NodeListing {
            hops: &hops,
            root: &root,
            key: "id",
            value: "it's",
            columns: &columns,
            order: &columns[..1],
            predicates: std::slice::from_ref(&orphan),
        };
        let sql = node_rows(Engine::Postgres, &listing, 100);
        let scan = lineage_scan(Engine::Postgres, &hops, &root, "id", "it's", &[]);
        let filter = |sql: &str| sql[sql.find("\nWHERE ").unwrap()..].to_string();
        assert!(
            filter(sql.as_str()).starts_with(&filter(scan.as_str())),
            "the same rows as the count:\n{sql}\n{scan}"
        );
        assert!(
            sql.as_str()
                .starts_with("SELECT CAST(c.\"id\" AS text) AS \"id\",\n       CAST(c.\"name\" AS text) AS \"name\",\n       CASE WHEN c.\"discovery_flow_id\" IS NOT NULL"),
            "{sql}"
        );
        assert!(
            sql.as_str()
                .contains("THEN '1' END AS \"tether broken 1\"\nFROM \"public\".\"assets\" AS c\n"),
            "{sql}"
        );
        assert!(
            sql.as_str().ends_with("\nORDER BY c.\"id\"\nLIMIT 100"),
            "{sql}"
        );
        // The root node lists the root row, found as its existence is.
        let listing = NodeListing {
            hops: &[],
            predicates: &[],
            ..listing
        };
        let sql = node_rows(Engine::Mysql, &listing, 100);
        assert!(
            sql.as_str()
                .contains("FROM `public`.`flows` AS c\nWHERE CAST(c.`id` AS CHAR) = 'it''s'\n"),
            "{sql}"
        );
    }

    fn column(name: &str, data_type: &str) -> Column {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            nullable: false,
            generated: false,
            identity: None,
        }
    }

    #[test]
    fn offending_pages_follow_a_composite_key_on_every_engine() {
        let columns = [
            column("part", "integer"),
            column("Nr \"x\"", "text"),
            column("discovery_flow_id", "uuid"),
        ];
        let key = [columns[0].clone(), columns[1].clone()];
        let orphan = Predicate::Orphan(lookup());
        let rows = Offending {
            child: &assets(),
            only: false,
            predicate: &orphan,
            columns: &columns,
            key: &key,
            parent_label: Some("discovery_flows"),
            parent_columns: &[],
        };
        let page = offending_page(Engine::Postgres, &rows, true, 11);
        assert!(page.sql.as_str().contains(
            "\n  AND (c.\"part\", c.\"Nr \"\"x\"\"\") > (CAST($1 AS integer), CAST(CAST($2 AS text) AS text))\nORDER BY c.\"part\", c.\"Nr \"\"x\"\"\"\nLIMIT 11"
        ), "{}", page.sql);
        assert_eq!(page.binds, [0, 1]);
        assert_eq!(
            page.kinds,
            [
                CellKind::Text,
                CellKind::Text,
                CellKind::Text,
                CellKind::Int,
                CellKind::Text
            ]
        );
        let page = offending_page(Engine::Sqlite, &rows, true, 11);
        assert!(
            page.sql
                .as_str()
                .contains("(c.\"part\", c.\"Nr \"\"x\"\"\") > (?1, ?2)"),
            "{}",
            page.sql
        );
        // MySQL spells the comparison out, its first column a range.
        let page = offending_page(Engine::Mysql, &rows, true, 11);
        assert!(
            page.sql.as_str().contains(
                "\n  AND c.`part` >= ? AND (c.`part` > ? OR (c.`part` = ? AND c.`Nr \"x\"` > ?))"
            ),
            "{}",
            page.sql
        );
        assert_eq!(page.binds, [0, 0, 0, 1]);
        // The first page has no keyset; the listing has no LIMIT and no key cells.
        let first = offending_page(Engine::Mysql, &rows, false, 11);
        assert!(!first.sql.as_str().contains('?'), "{}", first.sql);
        let listing = offending_rows(Engine::Mysql, &rows);
        assert!(
            listing
                .as_str()
                .ends_with("ORDER BY c.`part`, c.`Nr \"x\"`"),
            "{listing}"
        );
        assert!(!listing.as_str().contains("tether key"), "{listing}");
        assert_eq!(
            offending_labels(&rows),
            ["part", "Nr \"x\"", "discovery_flow_id"]
        );
    }

    #[test]
    fn offending_mismatches_show_the_parents_value_and_key() {
        let columns = [column("id", "bigint"), column("tenant", "varbinary(16)")];
        let key = [columns[0].clone()];
        let parent = [column("tenant", "varbinary(16)"), column("flow_id", "int")];
        let differs = Predicate::Differs {
            lookup: lookup(),
            column: "tenant".into(),
            parent_column: "tenant".into(),
            as_text: false,
        };
        let rows = Offending {
            child: &assets(),
            only: false,
            predicate: &differs,
            columns: &columns,
            key: &key,
            parent_label: Some("discovery_flows"),
            parent_columns: &parent,
        };
        assert_eq!(
            offending_labels(&rows),
            [
                "id",
                "tenant",
                "discovery_flows.tenant",
                "discovery_flows.flow_id"
            ]
        );
        let sql = offending_rows(Engine::Mysql, &rows);
        assert!(sql.as_str().contains(
            "(SELECT CONCAT(_utf8mb4 X'5C78', LOWER(HEX(p.`tenant`))) FROM `public`.`discovery_flows` AS p \
             WHERE p.`flow_id` = c.`discovery_flow_id` AND c.`tenant` <> p.`tenant` \
             ORDER BY p.`tenant`, p.`flow_id` LIMIT 1) AS `discovery_flows.tenant`"
        ), "{sql}");
        assert!(
            sql.as_str().contains("\nWHERE EXISTS (SELECT 1 FROM"),
            "{sql}"
        );
    }

    #[test]
    fn samples_are_bounded_and_textual() {
        let sql = sample(
            Engine::Mysql,
            &assets(),
            false,
            Some("discovery_flows"),
            &Predicate::Orphan(lookup()),
            &["id".into()],
            5,
        );
        assert!(sql.as_str().starts_with(
            "SELECT CAST(c.`id` AS CHAR) AS `id`, CAST(c.`discovery_flow_id` AS CHAR)"
        ));
        assert!(sql.as_str().ends_with("LIMIT 5"));
    }
}
