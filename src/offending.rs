//! The offending rows of a row-level check (orphans, tenant gaps and
//! mismatches, path disagreements), every one of them with all its columns,
//! read a page at a time in the order of the table's key (keyset paging: each
//! page starts after the last key of the one before, so a row comes exactly
//! once however deep the page).

use crate::cell::Cell;
use crate::checks::plan::{Plan, RowsCheck, Work};
use crate::db::{self, Db, Failure};
use crate::model::{Column, Engine, Schema, Table};
use crate::sql::Sql;
use crate::sql::render::{self, Offending, Predicate};
use crate::timeline::{self, Breakdown, Facts, Timeline, Unit};

/// One page of a check's offending rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// The rows' column labels: every column of the table (on SQLite its
    /// rowid first when that is its key), then for tenant and path
    /// mismatches the parent's compared column and key, each
    /// `<parent>.<column>`.
    pub columns: Vec<String>,
    /// Each value as text (bytes in hex, `\x0a1b`); None is NULL.
    pub rows: Vec<Vec<Option<String>>>,
    /// The last row's key, to pass back as `after` for the next page: each
    /// key value exactly, as a cell's JSON text. None when the page is empty.
    pub last_key: Option<Vec<String>>,
    /// More offending rows follow this page.
    pub more: bool,
}

/// What a check's offending rows are read with.
struct Listing<'a> {
    rows: &'a RowsCheck,
    columns: &'a [Column],
    /// Unique and never NULL; empty when the table has no such key.
    key: Vec<Column>,
    /// `Differs`: the parent's compared column, then its key.
    parent_columns: Vec<Column>,
    /// The table as reports name it.
    label: String,
}

/// Check `check` of `plan` when it is a check of rows; else why it has no
/// offending rows to read.
fn rows_check(plan: &Plan, check: usize) -> Result<&RowsCheck, String> {
    let found = plan
        .checks
        .get(check)
        .ok_or_else(|| format!("there is no check {check} in the plan"))?;
    match &found.work {
        Work::Rows(rows) => Ok(rows),
        Work::Withheld(reason) => Err(reason.clone()),
        Work::Catalog(_) | Work::Assertion(_) => Err(format!(
            "{} is not a check of rows: it has no offending rows to list",
            found.key
        )),
    }
}

impl<'a> Listing<'a> {
    fn of(plan: &'a Plan, check: usize) -> Result<Listing<'a>, String> {
        let rows = rows_check(plan, check)?;
        let schema = &plan.schema;
        let label = schema.label(&rows.table);
        let table = schema
            .table(&rows.table)
            .ok_or_else(|| format!("{label} is not in the catalog any more; refresh it"))?;
        let key = paging_key(schema, table, &rows.key_columns).unwrap_or_default();
        Ok(Listing {
            rows,
            columns: &table.columns,
            key,
            parent_columns: parent_columns(schema, &rows.predicate)?,
            label,
        })
    }

    fn offending(&self) -> Offending<'_> {
        Offending {
            child: &self.rows.table,
            only: self.rows.only,
            predicate: &self.rows.predicate,
            columns: self.columns,
            key: &self.key,
            parent_label: self.rows.parent_label.as_deref(),
            parent_columns: &self.parent_columns,
        }
    }
}

/// True when no row of `table` holds NULL in `name`: a NOT NULL column, or
/// on SQLite a primary-key column that is the rowid or belongs to a table
/// without one (whose primary key SQLite keeps NOT NULL).
fn never_null(schema: &Schema, table: &Table, name: &str) -> bool {
    let Some(column) = table.column(name) else {
        return false;
    };
    if !column.nullable {
        return true;
    }
    let in_primary_key = table.primary_key.iter().any(|k| k == name);
    let rowid = schema
        .indexes_of(&table.name)
        .any(|i| i.name == "rowid" && i.columns == [Some(name.to_string())]);
    schema.engine == Engine::Sqlite && in_primary_key && (rowid || table.range_key.is_none())
}

/// The key a table's rows are paged by, unique and never NULL, in key order:
/// `primary` (the check's key, the primary key) when none of its columns may
/// be NULL; else the unique index over the fewest NOT NULL columns; else on
/// SQLite the rowid. None: the table has no such key.
fn paging_key(schema: &Schema, table: &Table, primary: &[String]) -> Option<Vec<Column>> {
    let columns = |names: &[String]| -> Option<Vec<Column>> {
        names
            .iter()
            .map(|n| {
                never_null(schema, table, n)
                    .then(|| table.column(n).cloned())
                    .flatten()
            })
            .collect()
    };
    if !primary.is_empty()
        && let Some(key) = columns(primary)
    {
        return Some(key);
    }
    let mut unique: Vec<Vec<String>> = schema
        .indexes_of(&table.name)
        .filter(|i| i.unique && i.valid && !i.partial)
        .filter_map(|i| i.columns.iter().cloned().collect::<Option<Vec<String>>>())
        .filter(|names| !names.is_empty())
        .collect();
    unique.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    if let Some(key) = unique.iter().find_map(|names| columns(names)) {
        return Some(key);
    }
    let rowid = table
        .range_key
        .as_ref()
        .filter(|_| schema.engine == Engine::Sqlite)?;
    Some(vec![Column {
        name: rowid.clone(),
        data_type: "INTEGER".into(),
        nullable: false,
        generated: false,
        identity: None,
    }])
}

/// For a `Differs` check, the parent's columns shown with each row: the
/// compared column, then the parent's key (when it has one).
fn parent_columns(schema: &Schema, predicate: &Predicate) -> Result<Vec<Column>, String> {
    let Predicate::Differs {
        lookup,
        parent_column,
        ..
    } = predicate
    else {
        return Ok(Vec::new());
    };
    let label = schema.label(&lookup.parent);
    let parent = schema
        .table(&lookup.parent)
        .ok_or_else(|| format!("{label} is not in the catalog any more; refresh it"))?;
    let compared = parent
        .column(parent_column)
        .ok_or_else(|| format!("{label} has no column {parent_column}"))?;
    let mut shown = vec![compared.clone()];
    let key = paging_key(schema, parent, &parent.primary_key).unwrap_or_default();
    shown.extend(key.into_iter().filter(|k| k.name != compared.name));
    Ok(shown)
}

/// The statement a person copies to list every offending row of a check, in
/// key order, with the same columns as [`page`] returns.
pub fn listing_sql(plan: &Plan, check: usize) -> Result<Sql, String> {
    let listing = Listing::of(plan, check)?;
    Ok(render::offending_rows(plan.engine, &listing.offending()))
}

/// The statement that counts a check's offending rows.
pub fn count_sql(plan: &Plan, check: usize) -> Result<Sql, String> {
    Listing::of(plan, check).map(|listing| listing.rows.count_sql())
}

/// The key values of `after` as cells, one per key column.
fn after_cells(after: &[String], listing: &Listing) -> Result<Vec<Cell>, String> {
    let cells: Result<Vec<Cell>, _> = after.iter().map(|t| serde_json::from_str(t)).collect();
    match cells {
        Ok(cells) if cells.len() == listing.key.len() && !cells.iter().any(Cell::is_null) => {
            Ok(cells)
        }
        _ => Err(format!(
            "the key to continue after is not a key of {} ({} values, as `Page::last_key` gives them)",
            listing.label,
            listing.key.len()
        )),
    }
}

/// What went wrong reading the rows, and what to do.
fn read_failed(label: &str, error: &sqlx::Error) -> String {
    let hint = match Failure::of(error) {
        Failure::RowSecurity => {
            "; row-level security hides rows from this role: run as a role with BYPASSRLS or as the table's owner"
        }
        Failure::Permission => {
            "; GRANT SELECT on the tables the check reads, or run as a role that may"
        }
        Failure::Timeout => "; a larger --timeout gives the statement longer",
        _ => "",
    };
    format!(
        "reading the offending rows of {label}: {}{hint}",
        db::describe(error)
    )
}

/// Up to `size` offending rows of check `check` (an index into
/// `plan.checks`), in the order of its table's key, after the row whose key
/// is `after` (a previous page's `last_key`; None: from the first row). Read
/// in one read-only transaction; a table without a key that is unique and
/// never NULL cannot be paged, and an error (permission, row-level security,
/// timeout) fails the whole page.
pub async fn page(
    db: &Db,
    plan: &Plan,
    check: usize,
    after: Option<&[String]>,
    size: u32,
) -> Result<Page, String> {
    let listing = Listing::of(plan, check)?;
    if listing.key.is_empty() {
        return Err(format!(
            "the offending rows of {} cannot be read page by page: it has no primary key and no unique index over NOT NULL columns to order them by",
            listing.label
        ));
    }
    let after = after.map(|a| after_cells(a, &listing)).transpose()?;
    let size = size.max(1);
    let offending = listing.offending();
    let statement = render::offending_page(
        plan.engine,
        &offending,
        after.is_some(),
        size.saturating_add(1),
    );
    let binds: Vec<Cell> = match &after {
        Some(cells) => statement.binds.iter().map(|&i| cells[i].clone()).collect(),
        None => Vec::new(),
    };
    let failed = |e: sqlx::Error| read_failed(&listing.label, &e);
    let mut tx = db.reader(None).await.map_err(failed)?;
    let mut cells = tx
        .cells(&statement.sql, &binds, &statement.kinds)
        .await
        .map_err(failed)?;
    tx.finish().await.map_err(failed)?;
    let more = cells.len() > size as usize;
    cells.truncate(size as usize);
    let shown = statement.kinds.len() - listing.key.len();
    let last_key = cells.last().map(|row| {
        row[shown..]
            .iter()
            .map(|cell| serde_json::to_string(cell).unwrap_or_default())
            .collect()
    });
    let rows = cells
        .into_iter()
        .map(|row| row.into_iter().take(shown).map(text).collect())
        .collect();
    Ok(Page {
        columns: render::offending_labels(&offending),
        rows,
        last_key,
        more,
    })
}

/// A shown value as text (the statement reads them all as text).
fn text(cell: Cell) -> Option<String> {
    match cell {
        Cell::Null => None,
        Cell::Text(t) => Some(t),
        Cell::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        other => Some(other.display()),
    }
}

/// A statement that read timelines and breakdowns apart: its key
/// (`timeline:<table>`), how many checks it read them of, how long it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Apart {
    pub key: String,
    pub checks: usize,
    pub elapsed: std::time::Duration,
}

/// The statements a read of timelines and breakdowns sent (none when the
/// table has neither a time nor a breakdown column).
pub type Sent = Vec<Apart>;

/// Everything the pass would have learnt of check `check`'s offending rows,
/// read by a statement of its own (when the pass kept too few of them):
/// see [`facts_of_table`].
pub async fn facts(db: &Db, plan: &Plan, check: usize) -> Result<(Facts, Sent), String> {
    let (mut facts, sent) = facts_of_table(db, plan, &[check]).await?;
    Ok((facts.pop().unwrap_or_default(), sent))
}

/// How many groups a breakdown lists.
pub const BREAKDOWN_TOP: u32 = timeline::BREAKDOWN_TOP as u32;

/// The timelines and breakdowns of `checks`, row checks on one table, in
/// their order: one statement over the table, computed by the server (the
/// first and last time, the rows per bucket, the largest groups of each
/// breakdown column; see [`render::facts`]), in a read-only transaction;
/// an error (permission, row-level security, timeout) fails it whole. A
/// table without a time column has no timeline; without breakdown columns,
/// no breakdowns. Listed in the statements sent as `timeline:<table>`.
pub async fn facts_of_table(
    db: &Db,
    plan: &Plan,
    checks: &[usize],
) -> Result<(Vec<Facts>, Sent), String> {
    let rows = checks
        .iter()
        .map(|&c| rows_check(plan, c))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(first) = rows.first() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let table = &first.table;
    let label = plan.schema.label(table);
    if let Some(other) = rows.iter().find(|r| r.table != *table) {
        return Err(format!(
            "{label} and {} are two tables",
            plan.schema.label(&other.table)
        ));
    }
    let (time, groups) = (first.time.as_ref(), &first.groups);
    if time.is_none() && groups.is_empty() {
        return Ok((vec![Facts::default(); checks.len()], Vec::new()));
    }
    let predicates: Vec<&Predicate> = rows.iter().map(|r| &r.predicate).collect();
    let of = render::FactsOf {
        child: table,
        only: first.only,
        predicates: &predicates,
        time,
        groups,
    };
    let sql = render::facts(plan.engine, &of, BREAKDOWN_TOP);
    let failed = |e: sqlx::Error| read_failed(&label, &e);
    let mut tx = db.reader(None).await.map_err(failed)?;
    let started = std::time::Instant::now();
    let rows = tx.text_rows(&sql).await.map_err(failed)?;
    let sent = Apart {
        key: format!("timeline:{label}"),
        checks: checks.len(),
        elapsed: started.elapsed(),
    };
    tx.finish().await.map_err(failed)?;
    let labels: Vec<&str> = groups.iter().map(|g| g.label.as_str()).collect();
    Ok((facts_from(&rows, checks.len(), time, &labels), vec![sent]))
}

/// What a facts statement said of one check.
#[derive(Default)]
struct Said {
    rows: u64,
    timed: u64,
    first: Option<i64>,
    last: Option<i64>,
    buckets: Vec<(i64, u64)>,
    /// Per breakdown column: its largest groups, and how many there are.
    groups: Vec<Breakdown>,
}

/// The facts of `n` checks from a facts statement's rows (see
/// [`render::facts`]).
fn facts_from(
    rows: &[db::SampleRow],
    n: usize,
    time: Option<&timeline::TimeColumn>,
    groups: &[&str],
) -> Vec<Facts> {
    let mut said: Vec<Said> = (0..n)
        .map(|_| Said {
            groups: groups
                .iter()
                .map(|column| Breakdown {
                    column: column.to_string(),
                    top: Vec::new(),
                    groups: 0,
                })
                .collect(),
            ..Said::default()
        })
        .collect();
    for row in rows {
        let text = |name: &str| row.get(name).and_then(|v| v.as_str());
        let number = |name: &str| text(name).and_then(|v| v.parse::<i64>().ok());
        let count = |name: &str| number(name).map_or(0, |v| v.unsigned_abs());
        let Some(check) = number("k").and_then(|k| said.get_mut(usize::try_from(k - 1).ok()?))
        else {
            continue;
        };
        match text("what").unwrap_or_default() {
            "span" => {
                (check.rows, check.timed) = (count("n"), count("timed"));
                (check.first, check.last) = (number("lo"), number("hi"));
            }
            "bucket" => check.buckets.extend(number("v").map(|at| (at, count("n")))),
            what => {
                let j = what.strip_prefix('g').and_then(|j| j.parse::<usize>().ok());
                if let Some(b) = j.and_then(|j| check.groups.get_mut(j.checked_sub(1)?)) {
                    b.top.push((text("v").map(str::to_string), count("n")));
                    b.groups = count("groups");
                }
            }
        }
    }
    said.into_iter()
        .map(|mut s| {
            s.buckets.sort_unstable();
            let timeline = time.map(|t| Timeline {
                column: t.column.clone(),
                chosen: t.chosen.into(),
                first_at: s.first.map(timeline::utc_text),
                last_at: s.last.map(timeline::utc_text),
                rows: s.rows,
                untimed: s.rows.saturating_sub(s.timed),
                unit: match (s.first, s.last) {
                    (Some(f), Some(l)) => Unit::for_span(l - f),
                    _ => Unit::Day,
                },
                buckets: s
                    .buckets
                    .iter()
                    .map(|&(at, n)| (timeline::utc_text(at), n))
                    .collect(),
            });
            let mut breakdowns = s.groups;
            for b in &mut breakdowns {
                timeline::order_groups(&mut b.top);
            }
            Facts {
                timeline,
                breakdowns,
                omitted: None,
            }
        })
        .collect()
}
