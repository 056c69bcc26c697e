//! Renders checks to SQL for one dialect.
//!
//! A check is a [`Predicate`] over the rows of one table, possibly looking up each
//! row's parent. The same predicate renders three ways:
//! - [`count`]: the check alone, in its best standalone form (`NOT EXISTS` anti-join);
//! - [`scan`]: many predicates on one table counted in a single pass, with one
//!   `LEFT JOIN` per parent (only for parents whose key is unique);
//! - [`sample`]: a bounded sample of the offending rows.

use super::{Sql, as_text, ident, relation, table};
use crate::model::{Engine, TableName};
use std::fmt::Write;

/// How a child row finds its parent: `parent.pairs[i].1 = child.pairs[i].0`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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

/// Several checks on one table in a single pass. The result has one row: `rows`
/// (the table's row count) followed by one count per predicate, in order.
///
/// Every lookup must target a unique parent key, so the `LEFT JOIN`s keep one row
/// per child row; the caller checks that.
pub fn scan(engine: Engine, child: &TableName, only: bool, predicates: &[Predicate]) -> Sql {
    let mut lookups: Vec<&Lookup> = Vec::new();
    for lookup in predicates.iter().filter_map(Predicate::lookup) {
        if !lookups.contains(&lookup) {
            lookups.push(lookup);
        }
    }
    let alias = |lookup: &Lookup| {
        let n = lookups
            .iter()
            .position(|l| *l == lookup)
            .expect("lookup listed")
            + 1;
        format!("p{n}")
    };
    let mut text = format!("SELECT count(*) AS {}", ident(engine, "rows"));
    for (i, predicate) in predicates.iter().enumerate() {
        let condition = match predicate {
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
        };
        let _ = write!(
            text,
            ",\n       count(CASE WHEN {condition} THEN 1 END) AS {}",
            ident(engine, &format!("k{}", i + 1))
        );
    }
    let _ = write!(text, "\nFROM {} AS {CHILD}", relation(engine, child, only));
    for lookup in &lookups {
        let a = alias(lookup);
        let _ = write!(
            text,
            "\nLEFT JOIN {} AS {a} ON {}",
            relation(engine, &lookup.parent, lookup.parent_only),
            join_condition(engine, lookup, &a)
        );
    }
    Sql::new(text)
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
    let mut columns: Vec<String> = Vec::new();
    let mut select = Vec::new();
    let mut add = |expr: String, label: &str, columns: &mut Vec<String>| {
        if !columns.iter().any(|c| c == label) {
            columns.push(label.to_string());
            select.push(format!(
                "{} AS {}",
                as_text(engine, &expr),
                ident(engine, label)
            ));
        }
    };
    for key in key_columns {
        add(col(engine, CHILD, key), key, &mut columns);
    }
    let from = match predicate {
        Predicate::Null(column) => {
            add(col(engine, CHILD, column), column, &mut columns);
            format!(
                "FROM {} AS {CHILD}\nWHERE {}",
                relation(engine, child, only),
                standalone_where(engine, predicate)
            )
        }
        Predicate::Orphan(lookup) => {
            for (c, _) in &lookup.pairs {
                add(col(engine, CHILD, c), c, &mut columns);
            }
            format!(
                "FROM {} AS {CHILD}\nWHERE {}",
                relation(engine, child, only),
                standalone_where(engine, predicate)
            )
        }
        Predicate::Differs {
            lookup,
            column,
            parent_column,
            as_text,
        } => {
            for (c, _) in &lookup.pairs {
                add(col(engine, CHILD, c), c, &mut columns);
            }
            add(col(engine, CHILD, column), column, &mut columns);
            let parent = parent_label.unwrap_or("parent");
            add(
                col(engine, "p", parent_column),
                &format!("{parent}.{parent_column}"),
                &mut columns,
            );
            format!(
                "FROM {} AS {CHILD}\nJOIN {} AS p ON {}\nWHERE {}",
                relation(engine, child, only),
                relation(engine, &lookup.parent, lookup.parent_only),
                join_condition(engine, lookup, "p"),
                differs(engine, column, "p", parent_column, *as_text)
            )
        }
    };
    Sql::new(format!(
        "SELECT {}\n{from}\nLIMIT {limit}",
        select.join(", ")
    ))
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
    let mut sql = scan(engine, &last.table, false, predicates);
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

/// How many rows a person's query returns, counted on the server.
pub fn count_rows_of(engine: Engine, query: &Sql) -> Sql {
    Sql::new(format!(
        "SELECT count(*) AS {}\nFROM (\n{}\n) AS q",
        ident(engine, "count"),
        query.as_str()
    ))
}

/// Up to `limit` rows of a person's query. PostgreSQL returns each row as one JSON
/// text (`row_to_json`), so values of any type arrive intact.
pub fn rows_of(engine: Engine, query: &Sql, limit: u32) -> Sql {
    match engine {
        Engine::Postgres => Sql::new(format!(
            "SELECT CAST(row_to_json(q) AS text)\nFROM (\n{}\n) AS q\nLIMIT {limit}",
            query.as_str()
        )),
        Engine::Sqlite | Engine::Mysql => Sql::new(format!(
            "SELECT *\nFROM (\n{}\n) AS q\nLIMIT {limit}",
            query.as_str()
        )),
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
        let predicates = vec![
            Predicate::Orphan(lookup()),
            Predicate::Null("engagement_id".into()),
            Predicate::Differs {
                lookup: lookup(),
                column: "engagement_id".into(),
                parent_column: "engagement_id".into(),
                as_text: false,
            },
        ];
        let sql = scan(Engine::Sqlite, &assets(), false, &predicates);
        assert_eq!(sql.as_str().matches("LEFT JOIN").count(), 1);
        assert!(sql.as_str().contains("AS \"k3\""));
        assert!(
            sql.as_str()
                .contains("c.\"engagement_id\" <> p1.\"engagement_id\"")
        );
    }

    #[test]
    fn lineage_scans_follow_the_hops_up_to_the_root() {
        let hops = vec![
            Hop {
                table: TableName::new("public", "discovery_flows"),
                pairs: vec![("master_flow_id".into(), "id".into())],
            },
            Hop {
                table: assets(),
                pairs: vec![("discovery_flow_id".into(), "flow_id".into())],
            },
        ];
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
