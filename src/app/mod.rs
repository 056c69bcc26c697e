//! The terminal UI's state and its pure update: an [`Action`] in, state changed
//! and [`Command`]s out. No I/O and no terminal here, so every behaviour is
//! testable on its own; the shell in `tui` does the I/O and the views draw.
//!
//! [`App::update`] hands each action to the state machine it belongs to
//! ([`Action::machine`]), each in a module of its own with its own update:
//! `refresh` (runs, their events, the connection), `navigation` (panes,
//! screens, selection, overlays, the mouse), `input` (typing a filter or an
//! id), `fix` (a remedy previewed, confirmed, applied) and `lineage`.

mod action;
mod findings;
mod fix;
mod history;
mod input;
mod lineage;
mod navigation;
mod refresh;
mod rows;
mod search;
mod table_detail;

pub mod layout;

pub use action::{Action, Command, Machine};
pub use findings::{FindingAt, FindingSort, FindingsView};
pub use fix::{APPLY_NEEDS_WRITES, Writes};
pub use history::{CountHistory, Streak};
pub use lineage::{LineageRows, LineageState};
pub use rows::{PAGE_ROWS, RowsView, TimelineView};
pub use search::TableMatch;
pub use table_detail::Neighbour;

use crate::checks::plan::{Plan, Work};
use crate::checks::{CheckId, Severity};
use crate::findings::{Finding, Subject};
use crate::graph::Graph;
use crate::lineage::{Node, RootRow};
use crate::model::{RelationshipId, TableName};
use crate::runner::{CheckError, CheckFailure, Estimates, Event, MetricOutcome, Outcome};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Latencies kept per statement for sparklines and percentiles.
pub const HISTORY: usize = 60;
/// Exact counts kept per row check, one per refresh that counted it.
pub const COUNT_HISTORY: usize = 32;
/// Refresh intervals `+` and `-` step through, in seconds.
const INTERVALS: [u64; 10] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600];
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often the screen is redrawn while a run is in flight, so that the
/// elapsed times of running statements move.
pub const RUNNING_TICK: Duration = Duration::from_millis(200);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pane {
    Graph,
    Orphans,
    Tenants,
    Latency,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Graph, Pane::Orphans, Pane::Tenants, Pane::Latency];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Graph => "Flow graph",
            Pane::Orphans => "Orphans",
            Pane::Tenants => "Tenant isolation",
            Pane::Latency => "Latency",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Dashboard,
    Metrics,
    Lineage,
    /// Every finding of the run in one list.
    Findings,
}

/// What is shown over the screen.
#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    Help,
    /// A check's findings, samples and SQL.
    Check {
        check: usize,
        scroll: u16,
    },
    /// A table: parents, children, rows, findings.
    Table {
        node: usize,
        scroll: u16,
    },
    /// A row check's offending rows, every column, page by page.
    Rows {
        check: usize,
    },
    /// A statement's own findings (`slow_check`), its SQL and latencies.
    Statement {
        statement: usize,
        scroll: u16,
    },
    /// The remedy for a check's orphans: preview, confirmation, result.
    Fix {
        check: usize,
        state: FixState,
    },
}

/// Where a fix from the UI stands.
#[derive(Clone, Debug, PartialEq)]
pub enum FixState {
    Loading,
    Preview(Vec<crate::fix::Remedy>),
    /// The user asked to apply (writes are allowed): typing the word
    /// ([`Writes::word`]) and Enter applies, Esc cancels.
    Confirm {
        remedies: Vec<crate::fix::Remedy>,
        /// What has been typed so far.
        typed: String,
        /// The last word submitted that was not the one asked for (empty for
        /// Enter alone): nothing was applied.
        rejected: Option<String>,
    },
    Applying,
    Done(String),
    Failed(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckState {
    /// Not run yet in this refresh (its last values stay visible).
    Queued,
    Running,
    Done,
    Failed,
}

/// The latest known state of one check.
#[derive(Clone, Debug)]
pub struct CheckView {
    pub state: CheckState,
    pub count: Option<u64>,
    /// The count of the refresh before.
    pub previous: Option<u64>,
    pub total: Option<u64>,
    pub elapsed: Option<Duration>,
    pub findings: Vec<Finding>,
    /// Why it could not run, in this refresh, in words…
    pub error: Option<String>,
    /// …and its kind.
    pub failure: Option<CheckFailure>,
    /// Estimated from a sample while no exact count is known yet (the first
    /// refresh of a large table); the exact count replaces it.
    pub estimate: Option<Outcome>,
    /// Parts of its statement read, of how many, while it runs in parts.
    pub progress: Option<(u32, u32)>,
    /// When its statement started in this refresh (kept after it ends).
    pub started: Option<Instant>,
    /// Its exact counts over the session (row checks, once counted).
    pub history: Option<Box<CountHistory>>,
    /// Counted exactly in the refresh in flight: the count goes into its
    /// history if that refresh runs to the end.
    counted: bool,
}

impl CheckView {
    /// Before the first refresh: decided from the catalog, withheld (with
    /// why), or queued.
    fn initial(check: &crate::checks::plan::Check) -> CheckView {
        let (state, findings, error) = match &check.work {
            Work::Catalog(findings) => (CheckState::Done, findings.clone(), None),
            Work::Withheld(reason) => {
                let error = CheckError::new(CheckFailure::Withheld, reason.clone());
                let outcome = crate::runner::failed(check, "", Duration::ZERO, error);
                (CheckState::Failed, outcome.findings, outcome.error)
            }
            _ => (CheckState::Queued, Vec::new(), None),
        };
        CheckView {
            state,
            count: None,
            previous: None,
            total: None,
            elapsed: None,
            findings,
            failure: error.as_ref().map(|e| e.kind),
            error: error.map(|e| e.message),
            estimate: None,
            progress: None,
            started: None,
            history: None,
            counted: false,
        }
    }

    /// The check's outcome in this refresh. A failure keeps the last known
    /// values visible, marked failed.
    fn decided(&mut self, outcome: Outcome) {
        self.progress = None;
        self.estimate = None;
        self.elapsed = Some(outcome.elapsed);
        if outcome.error.is_some() {
            self.state = CheckState::Failed;
            self.counted = false;
            self.failure = outcome.error.as_ref().map(|e| e.kind);
            self.error = outcome.error.map(|e| e.message);
            self.findings.retain(|f| f.check != CheckId::CheckFailed);
            self.findings.extend(outcome.findings);
        } else {
            self.state = CheckState::Done;
            self.error = None;
            self.failure = None;
            self.previous = self.count.or(self.previous);
            self.counted = outcome.count.is_some() && outcome.estimate.is_none();
            self.count = outcome.count;
            self.total = outcome.total.or(self.total);
            self.findings = outcome.findings;
        }
    }

    /// A refresh that finished at `at` ran to the end: the count it found
    /// exactly goes into the history of a row check (`kept`).
    fn refreshed(&mut self, at: SystemTime, kept: bool) {
        let counted = std::mem::take(&mut self.counted);
        if let (true, true, Some(count)) = (counted, kept, self.count) {
            self.history.get_or_insert_default().record(count, at);
        }
    }

    /// The count to show: the exact one, else an estimate (true when it is).
    pub fn shown_count(&self) -> (Option<u64>, Option<u64>, bool) {
        match (&self.count, &self.estimate) {
            (None, Some(e)) => (e.count, e.total, e.estimate.is_some()),
            _ => (self.count, self.total, false),
        }
    }
}

/// Recent latencies of one statement.
#[derive(Clone, Debug, Default)]
pub struct StatementView {
    pub history: VecDeque<f64>,
    pub running: bool,
    /// When it started in this refresh (kept after it ends).
    pub started: Option<Instant>,
    pub failed: bool,
    pub slow: bool,
    /// Its own findings in the last run (`slow_check`).
    pub findings: Vec<Finding>,
}

impl StatementView {
    /// The statement ended; a latency is kept unless it failed.
    fn done(&mut self, elapsed: Duration, failed: bool, findings: Vec<Finding>) {
        self.running = false;
        self.failed = failed;
        self.slow = !findings.is_empty();
        self.findings = findings;
        if !failed {
            self.history.push_back(elapsed.as_secs_f64() * 1000.0);
            while self.history.len() > HISTORY {
                self.history.pop_front();
            }
        }
    }

    pub fn last(&self) -> Option<f64> {
        self.history.back().copied()
    }

    /// The `p`-th percentile (0–100) of the recent latencies.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        percentile(self.history.iter().copied(), p)
    }
}

pub use crate::stats::percentile;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Connection {
    Connected,
    /// Lost; the next attempt is at `retry_at`, unless one is under way
    /// (`pinging`): one attempt at a time.
    Lost {
        error: String,
        attempt: u32,
        retry_at: Instant,
        pinging: bool,
    },
}

#[derive(Clone, Debug)]
pub struct Refresh {
    pub interval: Duration,
    pub paused: bool,
    /// The run in flight, if any.
    pub running: bool,
    pub generation: u64,
    pub next_due: Instant,
    pub last_finished: Option<SystemTime>,
    /// The same moment on the app's clock, for the values' age.
    pub last_finished_at: Option<Instant>,
    pub last_elapsed: Option<Duration>,
    /// Refreshes that ran to the end since the start.
    pub completed: u64,
}

/// Where a pane's rows were drawn: the screen row of the first one shown,
/// how many show, and which row that first one is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PaneRows {
    pub y: u16,
    pub height: u16,
    pub offset: usize,
}

impl App {
    /// Notes where `pane`'s rows were drawn (see [`App::pane_rows`]).
    pub fn note_rows(&self, pane: Pane, rows: PaneRows) {
        let mut all = self.pane_rows.get();
        if let Some(i) = Pane::ALL.iter().position(|p| *p == pane) {
            all[i] = Some(rows);
        }
        self.pane_rows.set(all);
    }

    /// The row of `pane` drawn at screen row `y`, if one is.
    fn row_at(&self, pane: Pane, y: u16) -> Option<usize> {
        let i = Pane::ALL.iter().position(|p| *p == pane)?;
        let rows = self.pane_rows.get()[i]?;
        (y >= rows.y && y < rows.y + rows.height).then(|| rows.offset + (y - rows.y) as usize)
    }
}

/// Something that loads in the background.
#[derive(Clone, Debug, PartialEq)]
pub enum Loadable<T> {
    NotLoaded,
    Loading,
    Loaded(T),
    Failed(String),
}

/// A sortable column of the orphans table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrphanSort {
    Relationship,
    Count,
    Share,
    Change,
    State,
    Latency,
}

impl OrphanSort {
    const ORDER: [OrphanSort; 6] = [
        OrphanSort::Count,
        OrphanSort::Share,
        OrphanSort::Change,
        OrphanSort::Latency,
        OrphanSort::State,
        OrphanSort::Relationship,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OrphanSort::Relationship => "relationship",
            OrphanSort::Count => "orphans",
            OrphanSort::Share => "share",
            OrphanSort::Change => "change",
            OrphanSort::State => "state",
            OrphanSort::Latency => "latency",
        }
    }
}

/// Who we are talking to, for the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    pub engine: String,
    pub server_version: String,
    pub database: String,
    /// `user@host:port`, never a password.
    pub address: String,
    /// The bundled demo database.
    pub demo: bool,
    pub profile: Option<String>,
}

/// The checks about each relationship (by index into `plan.relationships`).
fn relationship_checks(plan: &Plan) -> Vec<Vec<usize>> {
    let mut relationship_checks = vec![Vec::new(); plan.relationships.len()];
    for (c, check) in plan.checks.iter().enumerate() {
        if let Some(r) = check.relationship {
            relationship_checks[r.index()].push(c);
        }
    }
    relationship_checks
}

pub struct App {
    pub info: SessionInfo,
    pub plan: Arc<Plan>,
    pub graph: Graph,
    /// The checks about each relationship (by index into `plan.relationships`).
    relationship_checks: Vec<Vec<usize>>,
    pub checks: Vec<CheckView>,
    pub statements: Vec<StatementView>,
    /// The checks of a failed shared pass that ran alone in the latest
    /// refresh: their key and latency in ms.
    pub retried: Vec<(String, f64)>,
    /// The passes estimated from a sample in the latest refresh: their key
    /// and latency in ms.
    pub estimated: Vec<(String, f64)>,
    pub metrics: Vec<Option<MetricOutcome>>,
    pub connection: Connection,
    pub refresh: Refresh,
    pub screen: Screen,
    pub focus: Pane,
    pub overlay: Option<Overlay>,
    pub size: (u16, u16),
    /// Selected row per pane (the graph's is a node index).
    pub selected_node: usize,
    pub graph_filter: Option<String>,
    pub filtering: bool,
    pub orphan_row: usize,
    pub orphan_sort: OrphanSort,
    pub orphan_descending: bool,
    pub tenant_row: usize,
    pub latency_row: usize,
    pub metrics_scroll: u16,
    pub findings: FindingsView,
    /// In a table's detail: the selected parent or child.
    pub table_neighbour: usize,
    /// The offending rows being looked at.
    pub rows: RowsView,
    /// When the offending rows of the check whose detail is open were
    /// written, and their largest groups.
    pub timeline: rows::TimelineView,
    /// How far the open overlay can scroll, as it was last drawn (None until
    /// then): one of the two things a view notes back, so that `G` and
    /// PageDown stop at the end of what is shown.
    pub scroll_limit: std::cell::Cell<Option<u16>>,
    /// Where each pane's rows were last drawn (by [`Pane::ALL`]'s order): the
    /// other thing a view notes back, so that a click picks the row under it
    /// however far the pane is scrolled.
    pub pane_rows: std::cell::Cell<[Option<PaneRows>; 4]>,
    /// The help's scroll.
    pub help_scroll: u16,
    pub lineage: LineageState,
    /// A short note for the footer (e.g. "SQL copied").
    pub note: Option<String>,
    pub quitting: bool,
    /// Whether fixes may be applied (`--allow-writes`), and the word that
    /// confirms one. Off until the shell says otherwise.
    pub writes: Writes,
    /// The time of the latest update: what the views measure running
    /// statements against.
    pub now: Instant,
}

impl App {
    pub fn new(
        info: SessionInfo,
        plan: Arc<Plan>,
        interval: Duration,
        size: (u16, u16),
        now: Instant,
    ) -> App {
        let checks = plan.checks.iter().map(CheckView::initial).collect();
        let graph = Graph::build(&plan);
        let relationship_checks = relationship_checks(&plan);
        let selected_node = graph
            .layers
            .first()
            .and_then(|l| l.first())
            .copied()
            .unwrap_or(0);
        App {
            info,
            statements: vec![StatementView::default(); plan.statements.len()],
            retried: Vec::new(),
            estimated: Vec::new(),
            metrics: vec![None; plan.metrics.len()],
            graph,
            relationship_checks,
            checks,
            plan,
            connection: Connection::Connected,
            refresh: Refresh {
                interval,
                paused: false,
                running: false,
                generation: 0,
                next_due: now,
                last_finished: None,
                last_finished_at: None,
                last_elapsed: None,
                completed: 0,
            },
            screen: Screen::Dashboard,
            focus: Pane::Graph,
            overlay: None,
            size,
            selected_node,
            graph_filter: None,
            filtering: false,
            orphan_row: 0,
            orphan_sort: OrphanSort::Count,
            orphan_descending: true,
            tenant_row: 0,
            latency_row: 0,
            metrics_scroll: 0,
            findings: FindingsView::default(),
            table_neighbour: 0,
            rows: RowsView::default(),
            timeline: rows::TimelineView::default(),
            scroll_limit: std::cell::Cell::new(None),
            pane_rows: std::cell::Cell::new([None; 4]),
            help_scroll: 0,
            lineage: LineageState::default(),
            note: None,
            quitting: false,
            writes: Writes::Off,
            now,
        }
    }

    /// When the shell should send the next [`Action::Tick`].
    pub fn next_wakeup(&self) -> Option<Instant> {
        match &self.connection {
            Connection::Lost { pinging: true, .. } => None,
            Connection::Lost { retry_at, .. } => Some(*retry_at),
            Connection::Connected if !self.refresh.paused && !self.refresh.running => {
                Some(self.refresh.next_due)
            }
            // While a run is in flight, often enough for its elapsed times to move.
            Connection::Connected if self.refresh.running => Some(self.now + RUNNING_TICK),
            Connection::Connected => None,
        }
    }

    /// True while text is being typed (keys are text, not commands).
    pub fn typing(&self) -> bool {
        self.filtering || self.lineage.input.is_some() || self.confirming_fix()
    }

    /// Applies one action at time `now`; returns what the shell must do.
    pub fn update(&mut self, action: Action, now: Instant) -> Vec<Command> {
        self.now = self.now.max(now);
        if !matches!(action, Action::Tick | Action::Runner { .. }) {
            self.note = None;
        }
        let mut commands = match action.machine() {
            Machine::Quit => {
                self.quitting = true;
                return vec![Command::CancelRun, Command::Quit];
            }
            Machine::Refresh => self.update_refresh(action, now),
            Machine::Navigation => self.update_navigation(action),
            Machine::Input => self.update_input(action),
            Machine::Fix => self.update_fix(action, now),
            Machine::Lineage => self.update_lineage(action),
            Machine::Rows => self.update_rows(action),
        };
        commands.extend(self.timeline_wanted());
        commands
    }

    /// Check indexes of the orphans pane, in display order.
    pub fn orphan_rows(&self) -> Vec<usize> {
        let mut rows: Vec<usize> = (0..self.checks.len())
            .filter(|&i| self.plan.checks[i].id == CheckId::Orphans && self.shown_by_filter(i))
            .collect();
        // Estimates sort among the counts they stand for.
        let share = |i: usize| match self.checks[i].shown_count() {
            (Some(c), Some(t), _) if t > 0 => c as f64 / t as f64,
            _ => 0.0,
        };
        let change = |i: usize| {
            let v = &self.checks[i];
            v.count.unwrap_or(0) as i64 - v.previous.or(v.count).unwrap_or(0) as i64
        };
        rows.sort_by(|&a, &b| {
            let by = match self.orphan_sort {
                OrphanSort::Relationship => self.plan.checks[a].key.cmp(&self.plan.checks[b].key),
                OrphanSort::Count => self.checks[a]
                    .shown_count()
                    .0
                    .cmp(&self.checks[b].shown_count().0),
                OrphanSort::Share => share(a).total_cmp(&share(b)),
                OrphanSort::Change => change(a).cmp(&change(b)),
                OrphanSort::State => {
                    (self.checks[a].state as u8).cmp(&(self.checks[b].state as u8))
                }
                OrphanSort::Latency => self.checks[a].elapsed.cmp(&self.checks[b].elapsed),
            };
            let by = if self.orphan_descending {
                by.reverse()
            } else {
                by
            };
            by.then_with(|| self.plan.checks[a].key.cmp(&self.plan.checks[b].key))
        });
        rows
    }

    /// Check indexes of the tenant pane: gaps first, then mismatches, by name.
    pub fn tenant_rows(&self) -> Vec<usize> {
        let mut rows: Vec<usize> = (0..self.checks.len())
            .filter(|&i| {
                matches!(
                    self.plan.checks[i].id,
                    CheckId::TenantMissing | CheckId::TenantMismatch
                ) && self.shown_by_filter(i)
            })
            .collect();
        rows.sort_by(|&a, &b| {
            let key = |i: usize| {
                (
                    self.plan.checks[i].id != CheckId::TenantMissing,
                    &self.plan.checks[i].key,
                )
            };
            key(a).cmp(&key(b))
        });
        rows
    }

    /// While the connection is lost, how old the values shown are.
    pub fn stale_for(&self) -> Option<Duration> {
        match self.connection {
            Connection::Lost { .. } => self
                .refresh
                .last_finished_at
                .map(|at| self.now.saturating_duration_since(at)),
            Connection::Connected => None,
        }
    }

    /// True when check `i` matches the `/` filter (or there is none).
    fn shown_by_filter(&self, i: usize) -> bool {
        let filter = self.filter_text();
        filter.is_empty() || self.check_label(i).to_lowercase().contains(&filter)
    }

    /// Rows of the latency pane: the plan's statements, then the passes
    /// estimated and the checks retried alone in this refresh, then the
    /// catalog reads.
    pub fn latency_len(&self) -> usize {
        self.plan.statements.len()
            + self.estimated.len()
            + self.retried.len()
            + self.plan.schema.reads.0.len()
    }

    /// Graph nodes shown under the current filter.
    pub fn visible_nodes(&self) -> Vec<usize> {
        let shown = self.shown_nodes();
        self.graph
            .layers
            .iter()
            .flatten()
            .copied()
            .filter(|&n| shown[n])
            .collect()
    }

    /// Per graph node: shown under the current filter.
    pub fn shown_nodes(&self) -> Vec<bool> {
        let filter = self.graph_filter.as_deref().unwrap_or("").to_lowercase();
        self.graph
            .nodes
            .iter()
            .map(|n| filter.is_empty() || n.label.to_lowercase().contains(&filter))
            .collect()
    }

    /// The worst finding about a relationship (by index into `plan.relationships`).
    pub fn worst_for_relationship(&self, relationship: RelationshipId) -> Option<Severity> {
        self.relationship_checks
            .get(relationship.index())?
            .iter()
            .flat_map(|&c| &self.checks[c].findings)
            .map(|f| f.severity)
            .max()
    }

    /// Findings about a table: its relationships (as child), columns, paths and scans.
    pub fn findings_for_table(&self, table: &TableName) -> Vec<&Finding> {
        self.plan
            .checks
            .iter()
            .zip(&self.checks)
            .filter(|(check, _)| self.plan.table_of(check) == Some(table))
            .flat_map(|(_, view)| &view.findings)
            .collect()
    }

    /// The SQL of the check shown in the detail view: what ran for its count.
    pub fn detail_sql(&self) -> Option<String> {
        let Some(Overlay::Check { check, .. }) = &self.overlay else {
            return None;
        };
        let check = *check;
        let statement = self
            .plan
            .statements
            .iter()
            .position(|s| s.checks.contains(&check));
        let view = &self.checks[check];
        // While an estimate is shown, the sample pass that gave it.
        let findings = match (&view.estimate, view.shown_count().2) {
            (Some(estimate), true) => &estimate.findings,
            _ => &view.findings,
        };
        if let Some(sql) = findings.iter().find_map(|f| f.sql.clone()) {
            return Some(sql);
        }
        statement.map(|s| self.plan.sql(s).to_string())
    }

    /// Counts for the tab bar and titles: findings by severity.
    pub fn severity_counts(&self) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for f in self.checks.iter().flat_map(|c| &c.findings) {
            match f.severity {
                Severity::Error => counts.0 += 1,
                Severity::Warning => counts.1 += 1,
                Severity::Info => counts.2 += 1,
            }
        }
        for s in &self.statements {
            if s.slow {
                counts.1 += 1;
            }
        }
        counts
    }

    /// The subject label of a check, for lists.
    pub fn check_label(&self, check: usize) -> String {
        match &self.plan.checks[check].subject {
            Subject::Relationship(r) => format!(
                "{}.{} → {}",
                r.child_table,
                r.child_columns.join(","),
                r.parent_table
            ),
            // The compared column first: it tells rows of one relationship apart.
            Subject::RelationshipColumn {
                relationship: r,
                column,
            } => format!(
                "{}.{column} vs {} (via {})",
                r.child_table,
                r.parent_table,
                r.child_columns.join(",")
            ),
            other => other.describe(),
        }
    }
}

#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
mod tests;
