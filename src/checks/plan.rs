//! The plan: every check for one database and profile, and the statements that
//! run them. Checks that only need the catalog are decided here; the rest carry
//! their SQL, rendered once, which the runner executes as it is.

use super::{Category, CheckId, Severity};
use crate::findings::{Finding, RelationshipLabel, Subject, finding_key};
use crate::model::{Access, Engine, RelationshipId, Schema, Table, TableId, TableName};
use crate::profile::{Profile, Thresholds};
use crate::relationships::{self, ProfileProblem, Relationship, Source};
use crate::sql::render::{self, GroupBy, Lookup, Predicate};
use crate::sql::{self, Sql};
use crate::timeline::{self, TimeColumn};
use crate::wording;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Choices that shape a plan.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    /// Sample rows per finding (0: none).
    pub sample: u32,
    /// Tenant columns from the command line; replace the profile's when given.
    pub tenant_columns: Option<Vec<String>>,
    /// Count all checks on one table in a single pass (on by default).
    pub shared_scans: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            sample: 5,
            tenant_columns: None,
            shared_scans: true,
        }
    }
}

/// One check: an id, what it is about, and how it is decided.
#[derive(Clone, Debug)]
pub struct Check {
    /// Stable and unique within a plan, e.g. `orphans:assets(discovery_flow_id) → discovery_flows(flow_id)`.
    pub key: String,
    pub id: CheckId,
    pub severity: Severity,
    pub category: Category,
    pub subject: Subject,
    pub work: Work,
    /// The relationship it is about, for lookups by identity, never by
    /// printed form.
    pub relationship: Option<RelationshipId>,
    /// The table whose rows it counts.
    pub table: Option<TableId>,
}

#[derive(Clone, Debug)]
pub enum Work {
    /// Decided from the catalog and profile: these are its findings (maybe none).
    Catalog(Vec<Finding>),
    /// Counts the rows of a table that match a predicate.
    Rows(Box<RowsCheck>),
    /// A profile assertion: a query that must return no rows.
    Assertion(Box<AssertionCheck>),
    /// Cannot be counted exactly with this connection (row-level security, a
    /// missing privilege): never run, reported as `check_failed` with why.
    Withheld(String),
}

#[derive(Clone, Debug)]
pub struct RowsCheck {
    pub engine: Engine,
    pub table: TableName,
    /// Read the table's own rows only (it has inheritance children).
    pub only: bool,
    pub predicate: Predicate,
    /// The table's key, which a sample row starts with.
    pub key_columns: Vec<String>,
    /// Sample rows kept.
    pub sample_limit: u32,
    /// For orphans of a constraint the catalog calls enforced: its name. Orphans
    /// then prove the constraint was bypassed (`fk_not_enforced`).
    pub proves_unenforced: Option<String>,
    /// The table a lookup reaches, as reports name it.
    pub parent_label: Option<String>,
    /// A sentence about the rule, for messages (paths).
    pub rule: Option<String>,
    /// The table's time column and breakdown columns (see
    /// [`Plan::time_columns`], [`Plan::breakdowns`]).
    pub time: Option<TimeColumn>,
    pub groups: Arc<[GroupBy]>,
}

impl RowsCheck {
    /// The check alone, in its best standalone form (rendered when asked: a
    /// plan of tens of thousands of checks keeps no text it does not need).
    pub fn count_sql(&self) -> Sql {
        render::count(self.engine, &self.table, self.only, &self.predicate)
    }

    /// How a pass reads this check: its predicate and its sample's columns.
    pub fn sampled(&self) -> render::Sampled<'_> {
        render::Sampled {
            predicate: &self.predicate,
            key_columns: &self.key_columns,
            parent_label: self.parent_label.as_deref(),
            time: self.time.as_ref(),
            groups: &self.groups,
        }
    }

    /// The check alone with its sample rows, as the runner sends it when the
    /// check is not part of a shared pass (or that pass failed).
    pub fn alone_sql(&self, sample: u32) -> Sql {
        render::alone(self.engine, &self.table, self.only, &self.sampled(), sample)
    }

    /// The labels of a sample row's columns, in the order the pass returns them.
    pub fn sample_labels(&self) -> Vec<String> {
        render::sample_labels(&self.sampled())
    }

    /// A bounded sample of the offending rows, for a person to run (tether
    /// itself reads samples in the pass that counts).
    pub fn sample_sql(&self) -> Sql {
        render::sample(
            self.engine,
            &self.table,
            self.only,
            self.parent_label.as_deref(),
            &self.predicate,
            &self.key_columns,
            self.sample_limit,
        )
    }
}

#[derive(Clone, Debug)]
pub struct AssertionCheck {
    pub query: Sql,
    pub count_sql: Sql,
    /// The count and the first rows in one statement, as the runner sends it
    /// (up to [`render::FACTS_CAP`], for its timeline and breakdowns).
    pub counted_sql: Sql,
    pub sample_sql: Sql,
    pub description: Option<String>,
    /// The profile's `time_column` for its rows (`""`: none); None: the
    /// first of its columns named as in [`timeline::NAMES`].
    pub time_column: Option<String>,
    /// Columns of its rows to group them by: the tenant columns, then the
    /// profile's `breakdown` (those the rows have).
    pub groups: Vec<String>,
}

/// What a statement returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// One row (or one per part of the table, added up): the table's row
    /// count, then per check its count and (when the plan samples) its sample
    /// rows.
    Scan,
    /// One row check alone: rows of (count, sample); see `render::alone`.
    Count,
    /// A profile assertion: see `render::counted_rows_of`.
    Assertion,
}

/// How checks on one table are grouped into passes, chosen per engine by
/// measurement on the demo at 1,000,000 assets (README, "Benchmarks"):
/// - PostgreSQL joins every parent of a table by hash in one pass over it, so
///   every check of a table shares that pass.
/// - MySQL/MariaDB and SQLite: a pass that joins every parent of a table at
///   once is slower than one pass per parent (MariaDB hashes each parent into
///   the same join buffer; SQLite looks each parent row up per child row), so
///   the checks through one parent (tenant and path checks) share a pass of
///   their own. An orphan check joins that pass when there is one (the pass
///   joins the parent anyway); otherwise it runs alone as a `NOT EXISTS`
///   anti-join, which these engines answer from the child's and the parent's
///   key indexes without reading the tables. A table's checks without
///   lookups join its pass through the smallest parent, or have a pass of
///   their own when it has none.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum PassKey {
    Table(TableName),
    Lookup(TableName, Lookup),
}

/// The pass a shared check joins; None for one that runs alone. `joined`:
/// per table, the parents its checks compare with, smallest first (see
/// [`PassKey`]).
fn pass_key(
    engine: Engine,
    table: &TableName,
    predicate: &Predicate,
    joined: &BTreeMap<TableName, Vec<Lookup>>,
) -> Option<PassKey> {
    let lookup = |l: Lookup| PassKey::Lookup(table.clone(), l);
    let passes = joined.get(table);
    match (engine, predicate) {
        (Engine::Postgres, _) => Some(PassKey::Table(table.clone())),
        (_, Predicate::Null(_)) => Some(match passes.and_then(|p| p.first()) {
            Some(l) => lookup(l.clone()),
            None => PassKey::Table(table.clone()),
        }),
        (_, Predicate::Orphan(l)) => passes
            .is_some_and(|p| p.contains(l))
            .then(|| lookup(l.clone())),
        (_, Predicate::Differs { lookup: l, .. }) => Some(lookup(l.clone())),
    }
}

/// Per table, the parents its shared checks compare columns with, the parent
/// with the fewest rows first: the passes through one parent that
/// [`pass_key`] gives MySQL/MariaDB and SQLite.
fn joined_parents(
    schema: &Schema,
    checks: &[Check],
    shared: bool,
) -> BTreeMap<TableName, Vec<Lookup>> {
    let mut joined: BTreeMap<TableName, Vec<Lookup>> = BTreeMap::new();
    if !shared || schema.engine == Engine::Postgres {
        return joined;
    }
    for check in checks {
        if let Work::Rows(rows) = &check.work
            && let Predicate::Differs { lookup, .. } = &rows.predicate
            && shares_a_pass(schema, &rows.predicate)
        {
            let parents = joined.entry(rows.table.clone()).or_default();
            if !parents.contains(lookup) {
                parents.push(lookup.clone());
            }
        }
    }
    let rows = |l: &Lookup| schema.table(&l.parent).and_then(|t| t.row_estimate);
    for parents in joined.values_mut() {
        parents.sort_by(|a, b| rows(a).cmp(&rows(b)).then_with(|| a.cmp(b)));
    }
    joined
}

/// A statement's text: rendered once, or, for a shared pass, rendered each
/// time it is asked for from the plan's checks, so that a plan of thousands
/// of passes keeps none of their text.
#[derive(Clone, Debug)]
pub enum StatementText {
    Rendered(Sql),
    /// A shared pass over `table` (its own rows only when `only`), read in
    /// `parts` when given.
    Pass {
        table: TableName,
        only: bool,
        parts: Option<render::Parts>,
    },
}

/// One query the runner executes; it decides one or more checks.
#[derive(Clone, Debug)]
pub struct Statement {
    pub key: String,
    /// Its text: see [`Plan::sql`].
    pub text: StatementText,
    pub shape: Shape,
    pub category: Category,
    pub threshold_ms: u64,
    /// Indexes into `Plan::checks`, in the order of the statement's counts.
    pub checks: Vec<usize>,
    /// What a `slow_check` or failure of the whole statement is about.
    pub subject: Subject,
    /// Rows the statement reads (estimate: the table and the parents it joins),
    /// to start the largest first.
    pub weight: i64,
    /// A shared pass over a table larger than a sample: how a sample of it is
    /// read for an estimate ([`Plan::estimate_sql`]).
    pub sampling: Option<render::Sampling>,
}

impl Statement {
    /// The parts the statement reads its table in (1 when it is whole).
    pub fn parts(&self) -> u32 {
        match &self.text {
            StatementText::Pass {
                parts: Some(parts), ..
            } => parts.count(),
            _ => 1,
        }
    }
}

/// A profile metric query, ready to run.
#[derive(Clone, Debug)]
pub struct PlannedMetric {
    pub name: String,
    pub description: Option<String>,
    pub category: Category,
    pub sql: Sql,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub engine: Engine,
    pub schema: Schema,
    pub profile: Option<String>,
    pub relationships: Vec<Relationship>,
    pub checks: Vec<Check>,
    pub statements: Vec<Statement>,
    pub metrics: Vec<PlannedMetric>,
    pub thresholds: Thresholds,
    pub sample: u32,
    /// The table whose rows are lineage roots: the profile's, else the table with
    /// the most children that has no parent (and a one-column key).
    pub lineage_root: Option<TableName>,
    /// Each table's time column (by its place in `schema.tables`): the
    /// profile's, else detected; None when it has none.
    pub time_columns: Vec<Option<TimeColumn>>,
    /// Each table's columns to group offending rows by (by its place in
    /// `schema.tables`): the tenant columns it has, then the profile's
    /// `[tables.<name>] breakdown`.
    pub breakdowns: Vec<Arc<[GroupBy]>>,
}

const METRIC_ROW_LIMIT: u32 = 1000;

impl Plan {
    /// Statement `s`'s SQL, exactly as it runs.
    pub fn sql(&self, s: usize) -> Sql {
        let statement = &self.statements[s];
        match &statement.text {
            StatementText::Rendered(sql) => sql.clone(),
            StatementText::Pass { table, only, parts } => render::scan_in_parts(
                self.engine,
                table,
                *only,
                &self.sampled(statement),
                self.sample,
                parts.as_ref(),
            ),
        }
    }

    /// Statement `s` over a sample of its table, for an estimate: None when
    /// it has no [`Statement::sampling`].
    pub fn estimate_sql(&self, s: usize) -> Option<Sql> {
        let statement = &self.statements[s];
        let sampling = statement.sampling.as_ref()?;
        match &statement.text {
            StatementText::Pass { table, only, .. } => Some(render::scan_sampled(
                self.engine,
                table,
                *only,
                &self.sampled(statement),
                self.sample,
                sampling,
            )),
            StatementText::Rendered(_) => None,
        }
    }

    fn sampled<'a>(&'a self, statement: &Statement) -> Vec<render::Sampled<'a>> {
        statement
            .checks
            .iter()
            .filter_map(|&c| match &self.checks[c].work {
                Work::Rows(r) => Some(r.sampled()),
                _ => None,
            })
            .collect()
    }

    /// Moves the findings decided from the catalog out of the plan, by check:
    /// a run that happens once hands them to its result instead of copying
    /// them (on a schema of 16,000 foreign keys there are as many).
    pub fn take_catalog_findings(&mut self) -> Vec<(usize, Vec<Finding>)> {
        self.checks
            .iter_mut()
            .enumerate()
            .filter_map(|(i, check)| match &mut check.work {
                Work::Catalog(findings) if !findings.is_empty() => {
                    Some((i, std::mem::take(findings)))
                }
                _ => None,
            })
            .collect()
    }

    pub fn build(schema: Schema, profile: Option<&Profile>, options: &PlanOptions) -> Plan {
        let empty = Profile::empty();
        let p = profile.unwrap_or(&empty);
        let resolved = relationships::resolve(&schema, p);
        let mut builder = Builder {
            schema: &schema,
            sample: options.sample,
            checks: Vec::new(),
            about: None,
        };
        builder.profile_problems(&resolved.problems);
        builder.blind_spots();
        builder.lineage(p);
        for (i, r) in resolved.relationships.iter().enumerate() {
            builder.about = Some(RelationshipId::at(i));
            builder.relationship(r);
        }
        builder.about = None;
        let tenant_columns = options
            .tenant_columns
            .clone()
            .unwrap_or_else(|| p.tenant.columns.clone());
        builder.tenants(p, &tenant_columns, &resolved.relationships);
        let breakdowns = builder.breakdowns(p, &tenant_columns, &resolved.relationships);
        builder.paths(p, &resolved.relationships);
        builder.assertions(p, &tenant_columns);
        let time_columns = builder.time_columns(p);
        let mut checks = builder.checks;
        checks.shrink_to_fit();
        for check in &mut checks {
            if let (Work::Rows(rows), Some(t)) = (&mut check.work, check.table) {
                rows.time = time_columns[t.index()].clone();
                rows.groups = breakdowns[t.index()].clone();
            }
        }

        let statements = statements(
            &schema,
            &checks,
            &p.thresholds,
            p,
            options.shared_scans,
            options.sample,
        );
        let metrics = p
            .metrics
            .iter()
            .filter_map(|m| {
                let m = m.get_ref();
                let text = m.sql.for_engine(schema.engine)?;
                Some(PlannedMetric {
                    name: m.name.clone(),
                    description: m.description.clone(),
                    category: m.category,
                    sql: render::rows_of(schema.engine, &sql::user(text), METRIC_ROW_LIMIT),
                })
            })
            .collect();
        let lineage_root = lineage_root(&schema, p, &resolved.relationships);
        Plan {
            lineage_root,
            time_columns,
            breakdowns,
            engine: schema.engine,
            profile: profile.map(|p| p.display_name().to_string()),
            relationships: resolved.relationships,
            checks,
            statements,
            metrics,
            thresholds: p.thresholds,
            sample: options.sample,
            schema,
        }
    }

    pub fn label(&self, table: &TableName) -> String {
        self.schema.label(table)
    }
}

struct Builder<'a> {
    schema: &'a Schema,
    sample: u32,
    checks: Vec<Check>,
    /// The relationship whose checks are being planned, if any.
    about: Option<RelationshipId>,
}

impl Builder<'_> {
    fn push(
        &mut self,
        id: CheckId,
        severity: Severity,
        category: Category,
        subject: Subject,
        work: Work,
    ) {
        let key = finding_key(id, &[&subject.describe()]);
        let table = match &work {
            Work::Rows(rows) => self.schema.table_id(&rows.table),
            _ => None,
        };
        // A count over rows the role cannot all read would be partial: withheld.
        let work = match work {
            Work::Rows(rows) => {
                let mut tables = vec![&rows.table];
                tables.extend(rows.predicate.lookup().map(|l| &l.parent));
                match unreadable(self.schema, &tables) {
                    Some(reason) => Work::Withheld(reason),
                    None => Work::Rows(rows),
                }
            }
            other => other,
        };
        self.checks.push(Check {
            key,
            id,
            severity,
            category,
            subject,
            work,
            relationship: self.about,
            table,
        });
    }

    /// A catalog check: one finding when `message` is Some.
    fn catalog(
        &mut self,
        id: CheckId,
        subject: Subject,
        message: Option<String>,
        extra: impl FnOnce(&mut Finding),
    ) {
        let key = finding_key(id, &[&subject.describe()]);
        let findings = message
            .map(|m| {
                let mut f = Finding::new(id, id.default_severity(), &subject, &key, m);
                f.category = Some(Category::Constraint);
                extra(&mut f);
                vec![f]
            })
            .unwrap_or_default();
        self.push(
            id,
            id.default_severity(),
            Category::Constraint,
            subject,
            Work::Catalog(findings),
        );
    }

    fn profile_problems(&mut self, problems: &[ProfileProblem]) {
        for problem in problems {
            let subject = Subject::Named {
                name: format!("profile {}: {}", problem.location, problem.subject),
            };
            let message = format!(
                "{}: {} — {}",
                problem.location, problem.subject, problem.message
            );
            self.catalog(CheckId::CheckFailed, subject, Some(message), |_| {});
        }
    }

    /// What the catalog could not see: each a check_failed.
    fn blind_spots(&mut self) {
        for spot in &self.schema.blind_spots {
            let subject = Subject::Named {
                name: "catalog".into(),
            };
            self.catalog(CheckId::CheckFailed, subject, Some(spot.clone()), |_| {});
        }
    }

    /// The lineage root must be a table the database has.
    fn lineage(&mut self, profile: &Profile) {
        let Some(lineage) = &profile.lineage else {
            return;
        };
        if self.schema.resolve(lineage.root.get_ref()).is_none() {
            self.profile_problems(&[ProfileProblem {
                location: profile.location(lineage.root.span().start),
                subject: "lineage.root".into(),
                message: format!("table \"{}\" does not exist", lineage.root.get_ref()),
            }]);
        }
    }

    /// True when `child.column` and `parent.parent_column` need a cast to compare.
    fn types_differ(
        &self,
        child: &TableName,
        column: &str,
        parent: &TableName,
        parent_column: &str,
    ) -> bool {
        let type_of = |t: &TableName, c: &str| {
            self.schema
                .table(t)
                .and_then(|t| t.column(c))
                .map(|c| relationships::normalise_type(&c.data_type))
        };
        type_of(child, column) != type_of(parent, parent_column)
    }

    fn key_columns(&self, table: &TableName) -> Vec<String> {
        self.schema
            .table(table)
            .map(|t| t.primary_key.clone())
            .unwrap_or_default()
    }

    fn rows(
        &self,
        table: &TableName,
        predicate: Predicate,
        parent_label: Option<String>,
        rule: Option<String>,
        proves: Option<String>,
    ) -> Work {
        Work::Rows(Box::new(RowsCheck {
            engine: self.schema.engine,
            only: self.schema.has_inheritance_children(table),
            key_columns: self.key_columns(table),
            sample_limit: self.sample.max(1),
            table: table.clone(),
            predicate,
            proves_unenforced: proves,
            parent_label,
            rule,
            time: None,
            groups: Arc::from([]),
        }))
    }

    fn relationship(&mut self, r: &Relationship) {
        let label = Arc::new(r.label(self.schema));
        let subject = Subject::Relationship(label.clone());
        let parent = label.parent_table.clone();
        if r.in_profile {
            let missing = (r.source == Source::Profile).then(|| {
                "the profile declares this relationship but no foreign-key constraint enforces it".to_string()
            });
            self.catalog(CheckId::FkMissing, subject.clone(), missing, |_| {});
        }
        if let (Some(expected), Some(fk)) = (r.expected_on_delete, &r.constraint) {
            let differs = (fk.on_delete != expected).then(|| {
                format!(
                    "{} is ON DELETE {} but the profile expects {}",
                    fk.name,
                    fk.on_delete.as_str().replace('_', " ").to_uppercase(),
                    expected.as_str().replace('_', " ").to_uppercase()
                )
            });
            let name = fk.name.clone();
            let actual = fk.on_delete;
            self.catalog(CheckId::FkDeleteRule, subject.clone(), differs, |f| {
                f.constraint = Some(name);
                f.expected = Some(expected);
                f.actual = Some(actual);
            });
        }
        if let Some(fk) = &r.constraint {
            let reason = fk
                .not_enforced_reason()
                .map(|why| format!("{} does not protect data: {why}", fk.name));
            let name = fk.name.clone();
            self.catalog(CheckId::FkNotEnforced, subject.clone(), reason, |f| {
                f.constraint = Some(name)
            });
            let unindexed = (!r.indexed).then(|| {
                format!(
                    "no index leads with ({}): deletes and updates on {parent} scan {}",
                    r.child_columns.join(", "),
                    label.child_table
                )
            });
            let name = fk.name.clone();
            self.catalog(CheckId::FkUnindexed, subject.clone(), unindexed, |f| {
                f.constraint = Some(name)
            });
        }
        if r.source == Source::Implied {
            let message = format!(
                "{}.{} looks like a reference to {}.{} (same type) but no constraint declares it",
                label.child_table, r.child_columns[0], parent, r.parent_columns[0]
            );
            self.catalog(CheckId::ImpliedFk, subject.clone(), Some(message), |_| {});
        }
        let proves = r
            .constraint
            .as_ref()
            .filter(|fk| fk.not_enforced_reason().is_none())
            .map(|fk| fk.name.clone());
        let work = self.rows(
            &r.child,
            Predicate::Orphan(r.lookup()),
            Some(parent),
            None,
            proves,
        );
        self.push(
            CheckId::Orphans,
            CheckId::Orphans.default_severity(),
            Category::Join,
            subject,
            work,
        );
    }

    fn tenants(&mut self, profile: &Profile, columns: &[String], relationships: &[Relationship]) {
        if columns.is_empty() {
            return;
        }
        let exempt = self.tenant_exempt(profile);
        self.tenant_columns_exist(columns);
        self.tenant_gaps(columns, &exempt);
        self.tenant_mismatches(columns, relationships, &exempt);
    }

    /// Every table's breakdown columns: the tenant columns it has, then the
    /// profile's `[tables.<name>] breakdown`, each a column of the table or,
    /// written `<reference>.….<column>`, a column of the row its references
    /// reach (see [`group_by`]). One that is neither is a profile problem.
    fn breakdowns(
        &mut self,
        profile: &Profile,
        tenant_columns: &[String],
        relationships: &[Relationship],
    ) -> Vec<Arc<[GroupBy]>> {
        let schema = self.schema;
        let mut breakdowns: Vec<Vec<GroupBy>> = schema
            .tables
            .iter()
            .map(|t| {
                tenant_columns
                    .iter()
                    .filter(|c| t.column(c).is_some())
                    .map(|c| GroupBy::own(c))
                    .collect()
            })
            .collect();
        for (name, decl) in &profile.tables {
            let Some(table) = schema.resolve(name) else {
                // A time column of it says so already.
                if decl.get_ref().time_column.is_none() {
                    self.profile_problems(&[ProfileProblem {
                        location: profile.location(decl.span().start),
                        subject: format!("tables.{name}"),
                        message: format!("table \"{name}\" does not exist"),
                    }]);
                }
                continue;
            };
            let id = schema.table_id(&table.name).expect("a resolved table");
            for written in &decl.get_ref().breakdown {
                match group_by(schema, table, written, relationships) {
                    Err(message) => self.profile_problems(&[ProfileProblem {
                        location: profile.location(decl.span().start),
                        subject: format!("tables.{name}.breakdown"),
                        message,
                    }]),
                    Ok(group) if !breakdowns[id.index()].contains(&group) => {
                        breakdowns[id.index()].push(group);
                    }
                    Ok(_) => {}
                }
            }
        }
        breakdowns.into_iter().map(Arc::from).collect()
    }

    /// Every table's time column: the profile's `[tables.<name>]
    /// time_column`, else detected from the catalog. A choice that names no
    /// table, no column or no time is a profile problem, and the table then
    /// has none.
    fn time_columns(&mut self, profile: &Profile) -> Vec<Option<TimeColumn>> {
        let schema = self.schema;
        let mut chosen: Vec<Option<&str>> = vec![None; schema.tables.len()];
        for (name, decl) in &profile.tables {
            let Some(column) = decl.get_ref().time_column.as_deref() else {
                continue;
            };
            let subject = format!("tables.{name}.time_column");
            let location = profile.location(decl.span().start);
            match schema.resolve(name).and_then(|t| schema.table_id(&t.name)) {
                Some(id) => chosen[id.index()] = Some(column),
                None => self.profile_problems(&[ProfileProblem {
                    location,
                    subject,
                    message: format!("table \"{name}\" does not exist"),
                }]),
            }
        }
        let mut columns = Vec::with_capacity(schema.tables.len());
        for (table, choice) in schema.tables.iter().zip(chosen) {
            match timeline::choose(schema.engine, table, choice) {
                Ok(column) => columns.push(column),
                Err(message) => {
                    let label = schema.label(&table.name);
                    let decl = profile
                        .tables
                        .iter()
                        .find(|(n, _)| schema.resolve(n).is_some_and(|t| t.name == table.name));
                    let at = decl.map_or(0, |(_, d)| d.span().start);
                    self.profile_problems(&[ProfileProblem {
                        location: profile.location(at),
                        subject: format!("tables.{label}.time_column"),
                        message,
                    }]);
                    columns.push(None);
                }
            }
        }
        columns
    }

    /// The tables the profile exempts from tenant checks; a name that is no
    /// table is a profile problem.
    fn tenant_exempt(&mut self, profile: &Profile) -> Vec<TableName> {
        let mut exempt: Vec<TableName> = Vec::new();
        for name in &profile.tenant.exempt {
            match self.schema.resolve(name.get_ref()) {
                Some(t) => exempt.push(t.name.clone()),
                None => self.profile_problems(&[ProfileProblem {
                    location: profile.location(name.span().start),
                    subject: "tenant.exempt".into(),
                    message: format!("table \"{}\" does not exist", name.get_ref()),
                }]),
            }
        }
        exempt
    }

    /// Reports each tenant column that no table has.
    fn tenant_columns_exist(&mut self, columns: &[String]) {
        for column in columns {
            let anywhere = self
                .schema
                .tables
                .iter()
                .any(|t| t.column(column).is_some());
            if !anywhere {
                let subject = Subject::Named {
                    name: format!("tenant column {column}"),
                };
                let message = format!("tenant column \"{column}\" exists in no table");
                self.catalog(CheckId::CheckFailed, subject, Some(message), |_| {});
            }
        }
    }

    /// A tenant gap check for each tenant column of each table not exempt.
    fn tenant_gaps(&mut self, columns: &[String], exempt: &[TableName]) {
        let schema = self.schema;
        let has = |t: &TableName, c: &str| schema.table(t).is_some_and(|t| t.column(c).is_some());
        // A partition's rows are counted through its partitioned table.
        let tables: Vec<TableName> = schema
            .tables
            .iter()
            .filter(|t| !t.is_partition())
            .map(|t| t.name.clone())
            .collect();
        for table in tables.iter().filter(|t| !exempt.contains(t)) {
            for column in columns.iter().filter(|c| has(table, c)) {
                let subject = Subject::Column {
                    table: schema.label(table),
                    column: column.clone(),
                };
                let work = self.rows(table, Predicate::Null(column.clone()), None, None, None);
                self.push(
                    CheckId::TenantMissing,
                    Severity::Error,
                    Category::Simple,
                    subject,
                    work,
                );
            }
        }
    }

    /// A tenant mismatch check for each tenant column that both sides of a
    /// relationship have (and that is not one of its reference columns),
    /// unless either side is exempt.
    fn tenant_mismatches(
        &mut self,
        columns: &[String],
        relationships: &[Relationship],
        exempt: &[TableName],
    ) {
        let schema = self.schema;
        let has = |t: &TableName, c: &str| schema.table(t).is_some_and(|t| t.column(c).is_some());
        for (i, r) in relationships.iter().enumerate() {
            if exempt.contains(&r.child) || exempt.contains(&r.parent) {
                continue;
            }
            self.about = Some(RelationshipId::at(i));
            let mut label: Option<Arc<_>> = None;
            for column in columns {
                if !has(&r.child, column)
                    || !has(&r.parent, column)
                    || r.child_columns.contains(column)
                {
                    continue;
                }
                let label = label
                    .get_or_insert_with(|| Arc::new(r.label(schema)))
                    .clone();
                self.tenant_mismatch(r, label, column);
            }
        }
        self.about = None;
    }

    /// Children of `r` whose tenant `column` differs from their parent's.
    fn tenant_mismatch(&mut self, r: &Relationship, label: Arc<RelationshipLabel>, column: &str) {
        let parent = label.parent_table.clone();
        let subject = Subject::RelationshipColumn {
            relationship: label,
            column: column.to_string(),
        };
        let predicate = Predicate::Differs {
            lookup: r.lookup(),
            column: column.to_string(),
            parent_column: column.to_string(),
            as_text: self.types_differ(&r.child, column, &r.parent, column),
        };
        let work = self.rows(&r.child, predicate, Some(parent), None, None);
        self.push(
            CheckId::TenantMismatch,
            Severity::Error,
            Category::Join,
            subject,
            work,
        );
    }

    fn paths(&mut self, profile: &Profile, relationships: &[Relationship]) {
        for decl in &profile.paths {
            let d = decl.get_ref();
            let location = profile.location(decl.span().start);
            let problem = |message: String| ProfileProblem {
                location: location.clone(),
                subject: format!("path {}", d.name),
                message,
            };
            let Some(table) = self.schema.resolve(&d.table) else {
                self.profile_problems(&[problem(format!("table \"{}\" does not exist", d.table))]);
                continue;
            };
            if table.column(&d.column).is_none() {
                self.profile_problems(&[problem(format!(
                    "column \"{}\".\"{}\" does not exist",
                    d.table, d.column
                ))]);
                continue;
            }
            let Some(r) = relationships
                .iter()
                .find(|r| r.child == table.name && r.has_child_columns(&d.via))
            else {
                self.profile_problems(&[problem(format!(
                    "no relationship of \"{}\" with columns ({}) to follow",
                    d.table,
                    d.via.join(", ")
                ))]);
                continue;
            };
            let parent_column = d.parent_column.clone().unwrap_or_else(|| d.column.clone());
            if self
                .schema
                .table(&r.parent)
                .and_then(|t| t.column(&parent_column))
                .is_none()
            {
                self.profile_problems(&[problem(format!(
                    "column \"{}\".\"{parent_column}\" does not exist",
                    self.schema.label(&r.parent)
                ))]);
                continue;
            }
            let table_name = table.name.clone();
            let label = self.schema.label(&table_name);
            let parent = self.schema.label(&r.parent);
            let rule = format!(
                "{label}.{} ≠ {parent}.{parent_column} via {}",
                d.column,
                d.via.join(", ")
            );
            let predicate = Predicate::Differs {
                lookup: r.lookup(),
                as_text: self.types_differ(&table_name, &d.column, &r.parent, &parent_column),
                column: d.column.clone(),
                parent_column,
            };
            let subject = Subject::Path {
                table: label,
                name: d.name.clone(),
            };
            let work = self.rows(&table_name, predicate, Some(parent), Some(rule), None);
            self.push(
                CheckId::PathMismatch,
                Severity::Error,
                Category::Join,
                subject,
                work,
            );
        }
    }

    fn assertions(&mut self, profile: &Profile, tenant_columns: &[String]) {
        let engine = self.schema.engine;
        for a in &profile.assertions {
            let a = a.get_ref();
            let Some(text) = a.sql.for_engine(engine) else {
                continue;
            };
            let query = sql::user(text);
            let mut groups = tenant_columns.to_vec();
            for column in &a.breakdown {
                if !groups.contains(column) {
                    groups.push(column.clone());
                }
            }
            let work = Work::Assertion(Box::new(AssertionCheck {
                count_sql: render::count_rows_of(engine, &query),
                counted_sql: render::counted_rows_of(engine, &query, render::FACTS_CAP),
                sample_sql: render::rows_of(engine, &query, self.sample.max(1)),
                query,
                description: a.description.clone(),
                time_column: a.time_column.clone(),
                groups,
            }));
            self.push(
                CheckId::Custom,
                a.severity,
                a.category,
                Subject::Named {
                    name: a.name.clone(),
                },
                work,
            );
        }
    }
}

fn lineage_root(
    schema: &Schema,
    profile: &Profile,
    relationships: &[Relationship],
) -> Option<TableName> {
    if let Some(lineage) = &profile.lineage {
        return schema
            .resolve(lineage.root.get_ref())
            .map(|t| t.name.clone());
    }
    // Which tables have a parent, and how many children each has: once.
    let mut has_parent: std::collections::HashSet<&TableName> = Default::default();
    let mut children: std::collections::HashMap<&TableName, usize> = Default::default();
    for r in relationships.iter().filter(|r| r.child != r.parent) {
        has_parent.insert(&r.child);
        *children.entry(&r.parent).or_default() += 1;
    }
    schema
        .tables
        .iter()
        .filter(|t| t.primary_key.len() == 1 && !t.is_partition())
        .filter(|t| !has_parent.contains(&t.name))
        .map(|t| (children.get(&t.name).copied().unwrap_or(0), &t.name))
        .filter(|(children, _)| *children > 0)
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, name)| name.clone())
}

/// A breakdown column as the profile writes it: a column of `table`, else
/// `<reference>.….<column>`: from `table`, each reference a column that alone
/// references another table (its first such relationship), hop by hop, and
/// `<column>` a column of the table the last one reaches. A name that is a
/// column of the table it is read in is that column, dots and all.
fn group_by(
    schema: &Schema,
    table: &Table,
    written: &str,
    relationships: &[Relationship],
) -> Result<GroupBy, String> {
    if let Some(column) = table.column(written) {
        return Ok(GroupBy::own(&column.name));
    }
    if !written.contains('.') {
        return Err(format!(
            "\"{written}\" is not a column of {}",
            schema.label(&table.name)
        ));
    }
    let mut at = table;
    let mut rest = written;
    let mut via = Vec::new();
    while let Some((reference, more)) = rest.split_once('.') {
        if at.column(rest).is_some() {
            break;
        }
        let reference = at.column(reference).ok_or_else(|| {
            format!(
                "\"{reference}\" is not a column of {}, so \"{written}\" reaches no column",
                schema.label(&at.name)
            )
        })?;
        let relationship = relationships
            .iter()
            .find(|r| r.child == at.name && r.child_columns == [reference.name.clone()])
            .ok_or_else(|| {
                format!(
                    "\"{}\" references no table, so \"{written}\" reaches no column",
                    reference.name
                )
            })?;
        via.push(relationship.lookup());
        at = schema
            .table(&relationship.parent)
            .ok_or_else(|| format!("{} is not in the catalog", relationship.parent.name))?;
        rest = more;
    }
    let column = at.column(rest).ok_or_else(|| {
        format!(
            "\"{rest}\" is not a column of {}, which \"{written}\" reaches",
            schema.label(&at.name)
        )
    })?;
    Ok(GroupBy {
        label: written.to_string(),
        column: column.name.clone(),
        via,
    })
}

/// True when a predicate can be counted in a shared pass: its lookup (if any)
/// reaches a unique parent key compared as it is, so the `LEFT JOIN` keeps one
/// row per child (a cast may match several parent rows).
pub fn shares_a_pass(schema: &Schema, predicate: &Predicate) -> bool {
    predicate.lookup().is_none_or(|l| {
        let parent_columns: Vec<String> = l.pairs.iter().map(|p| p.1.clone()).collect();
        !l.as_text && schema.is_unique(&l.parent, &parent_columns)
    })
}

/// Why the connected role cannot count the rows of these tables exactly, and
/// what to do; None when it can read them whole.
pub fn unreadable(schema: &Schema, tables: &[&TableName]) -> Option<String> {
    tables.iter().find_map(|name| {
        let table = schema.table(name)?;
        let label = schema.label(name);
        match table.access {
            Access::Whole => None,
            Access::RowSecurity { forced } => Some(format!(
                "row-level security on {label} hides rows from this role, so a count would be partial and none is given; run as a role with BYPASSRLS{}",
                if forced {
                    " or a superuser (the table forces row security on its owner too)"
                } else {
                    ", or as the table's owner"
                }
            )),
            Access::NoSelect => Some(format!(
                "this role may not SELECT from {label}; GRANT SELECT on it (or pg_read_all_data), or run as a role that may"
            )),
        }
    })
}

/// Groups row checks into statements: on a table, checks whose lookups reach a
/// unique parent key share passes as [`PassKey`] says; the others, and
/// assertions, run alone. Every statement reads its checks' samples itself.
fn statements(
    schema: &Schema,
    checks: &[Check],
    thresholds: &Thresholds,
    profile: &Profile,
    shared: bool,
    sample: u32,
) -> Vec<Statement> {
    let engine = schema.engine;
    let estimate = |t: &TableName| schema.table(t).and_then(|t| t.row_estimate).unwrap_or(0);
    let mut scans: BTreeMap<PassKey, Vec<usize>> = BTreeMap::new();
    let joined = joined_parents(schema, checks, shared);
    let mut out = Vec::new();
    for (i, check) in checks.iter().enumerate() {
        match &check.work {
            Work::Catalog(_) | Work::Withheld(_) => {}
            Work::Rows(rows) => {
                let key = (shared && shares_a_pass(schema, &rows.predicate))
                    .then(|| pass_key(engine, &rows.table, &rows.predicate, &joined))
                    .flatten();
                match key {
                    Some(key) => scans.entry(key).or_default().push(i),
                    None => out.push(Statement {
                        key: check.key.clone(),
                        text: StatementText::Rendered(rows.alone_sql(sample)),
                        shape: Shape::Count,
                        category: check.category,
                        threshold_ms: thresholds.for_category(check.category),
                        checks: vec![i],
                        subject: check.subject.clone(),
                        weight: estimate(&rows.table)
                            + rows.predicate.lookup().map_or(0, |l| estimate(&l.parent)),
                        sampling: None,
                    }),
                }
            }
            Work::Assertion(a) => {
                let threshold = profile
                    .assertions
                    .iter()
                    .find(|x| matches!(&check.subject, Subject::Named { name } if *name == x.get_ref().name))
                    .and_then(|x| x.get_ref().threshold_ms)
                    .unwrap_or_else(|| thresholds.for_category(check.category));
                out.push(Statement {
                    key: check.key.clone(),
                    text: StatementText::Rendered(if sample > 0 {
                        a.counted_sql.clone()
                    } else {
                        a.count_sql.clone()
                    }),
                    shape: if sample > 0 {
                        Shape::Assertion
                    } else {
                        Shape::Count
                    },
                    category: check.category,
                    threshold_ms: threshold,
                    checks: vec![i],
                    subject: check.subject.clone(),
                    // A profile's own query, of unknown cost: started first,
                    // so one that takes long does not also start late.
                    weight: i64::MAX,
                    sampling: None,
                });
            }
        }
    }
    for (key, members) in scans {
        out.push(pass_statement(schema, checks, thresholds, &key, members));
    }
    // Largest first (the rows of the child and of the parents it joins), so the
    // longest statements start early and the pool stays busy.
    out.sort_by_key(|s| std::cmp::Reverse(s.weight));
    out.shrink_to_fit();
    out
}

/// The statement of one shared pass: its checks (`members`, indexes into
/// `checks`, all row checks on one table) counted and sampled together.
fn pass_statement(
    schema: &Schema,
    checks: &[Check],
    thresholds: &Thresholds,
    key: &PassKey,
    members: Vec<usize>,
) -> Statement {
    let engine = schema.engine;
    let rows: Vec<&RowsCheck> = members
        .iter()
        .map(|&i| match &checks[i].work {
            Work::Rows(r) => r.as_ref(),
            _ => unreachable!("only row checks are scanned"),
        })
        .collect();
    let table = rows[0].table.clone();
    let category = if rows.iter().any(|r| r.predicate.lookup().is_some()) {
        Category::Join
    } else {
        Category::Simple
    };
    let label = schema.label(&table);
    let key = match key {
        PassKey::Lookup(_, lookup) => format!(
            "scan:{label}({}) → {}",
            lookup
                .pairs
                .iter()
                .map(|(c, _)| c.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            schema.label(&lookup.parent)
        ),
        PassKey::Table(_) => format!("scan:{label}"),
    };
    let table_info = schema.table(&table);
    // A join reads (or hashes) its parents too.
    let parent_rows: i64 = rows
        .iter()
        .filter_map(|r| r.predicate.lookup())
        .map(|l| &l.parent)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter_map(|p| schema.table(p).and_then(|t| t.row_estimate))
        .sum();
    Statement {
        key,
        text: StatementText::Pass {
            only: schema.has_inheritance_children(&table),
            parts: table_info.and_then(|t| render::parts_of(engine, t)),
            table,
        },
        sampling: table_info.and_then(|t| render::sampling_of(engine, t)),
        shape: Shape::Scan,
        category,
        threshold_ms: thresholds.for_category(category),
        checks: members,
        subject: Subject::Table { table: label },
        weight: table_info.and_then(|t| t.row_estimate).unwrap_or(0) + parent_rows,
    }
}

impl Plan {
    /// The table a check is about: the one it counts, else its relationship's
    /// child.
    pub fn table_of(&self, check: &Check) -> Option<&TableName> {
        match check.table {
            Some(t) => self.schema.tables.get(t.index()).map(|t| &t.name),
            None => check
                .relationship
                .and_then(|r| self.relationships.get(r.index()))
                .map(|r| &r.child),
        }
    }

    /// The relationship a finding is about: its check's, or the one a probe
    /// tried.
    pub fn relationship_of(&self, finding: &Finding) -> Option<RelationshipId> {
        let of_check = finding
            .plan_check
            .and_then(|c| self.checks.get(c as usize))
            .and_then(|c| c.relationship);
        of_check.or(finding.probed)
    }
}

impl Check {
    /// What a check's count counts, in the words its sentence needs.
    pub fn offending(&self) -> wording::Offending<'_> {
        use wording::Offending;
        match (&self.work, &self.subject) {
            (Work::Rows(r), Subject::Relationship(label)) => Offending::NoParent {
                parent_table: &label.parent_table,
                match_full: r
                    .predicate
                    .lookup()
                    .is_some_and(|l| l.match_full && l.pairs.len() > 1),
            },
            (Work::Rows(_), Subject::Column { column, .. }) => Offending::NoValue { column },
            (
                Work::Rows(_),
                Subject::RelationshipColumn {
                    relationship,
                    column,
                },
            ) => Offending::DifferFromParent {
                parent_table: &relationship.parent_table,
                column,
            },
            (Work::Rows(r), Subject::Path { .. }) => Offending::Disagree {
                rule: r.rule.as_deref().unwrap_or("path"),
            },
            (Work::Assertion(a), _) => Offending::Returned {
                description: a.description.as_deref(),
            },
            _ => Offending::Rows,
        }
    }
}
