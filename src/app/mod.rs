//! The terminal UI's state and its pure update: an [`Action`] in, state changed
//! and [`Command`]s out. No I/O and no terminal here, so every behaviour is
//! testable on its own; the shell in `tui` does the I/O and the views draw.

mod action;

pub mod layout;

pub use action::{Action, Command};

use crate::checks::plan::{Plan, Work};
use crate::checks::{CheckId, Severity};
use crate::findings::{Finding, Subject};
use crate::graph::Graph;
use crate::lineage::{Node, RootRow};
use crate::runner::{Estimates, Event, MetricOutcome, Outcome};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Latencies kept per statement for sparklines and percentiles.
pub const HISTORY: usize = 60;
/// Refresh intervals `+` and `-` step through, in seconds.
const INTERVALS: [u64; 10] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600];
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

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
    /// The user asked to apply: Enter confirms, Esc cancels.
    Confirm(Vec<crate::fix::Remedy>),
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
    pub error: Option<String>,
    /// Estimated from a sample while no exact count is known yet (the first
    /// refresh of a large table); the exact count replaces it.
    pub estimate: Option<Outcome>,
    /// Parts of its statement read, of how many, while it runs in parts.
    pub progress: Option<(u32, u32)>,
}

impl CheckView {
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
    pub failed: bool,
    pub slow: bool,
}

impl StatementView {
    pub fn last(&self) -> Option<f64> {
        self.history.back().copied()
    }

    /// The `p`-th percentile (0–100) of the recent latencies.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        percentile(self.history.iter().copied(), p)
    }
}

pub fn percentile(values: impl Iterator<Item = f64>, p: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    Some(v[rank.min(v.len() - 1)])
}

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
    pub last_elapsed: Option<Duration>,
}

/// Something that loads in the background.
#[derive(Clone, Debug, PartialEq)]
pub enum Loadable<T> {
    NotLoaded,
    Loading,
    Loaded(T),
    Failed(String),
}

#[derive(Clone, Debug)]
pub struct LineageState {
    pub roots: Loadable<Vec<RootRow>>,
    pub selected: usize,
    /// An id being typed.
    pub input: Option<String>,
    pub key: Option<String>,
    pub tree: Loadable<Node>,
    pub scroll: u16,
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
    pub lineage: LineageState,
    /// A short note for the footer (e.g. "SQL copied").
    pub note: Option<String>,
    pub quitting: bool,
}

impl App {
    pub fn new(
        info: SessionInfo,
        plan: Arc<Plan>,
        interval: Duration,
        size: (u16, u16),
        now: Instant,
    ) -> App {
        let checks = plan
            .checks
            .iter()
            .map(|c| {
                let (state, findings, error) = match &c.work {
                    Work::Catalog(findings) => (CheckState::Done, findings.clone(), None),
                    Work::Withheld(reason) => {
                        let outcome = crate::runner::failed(c, "", Duration::ZERO, reason.clone());
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
                    error,
                    estimate: None,
                    progress: None,
                }
            })
            .collect();
        let graph = Graph::build(&plan);
        let labels: std::collections::HashMap<_, usize> = plan
            .relationships
            .iter()
            .enumerate()
            .map(|(i, r)| (r.label(&plan.schema), i))
            .collect();
        let mut relationship_checks = vec![Vec::new(); plan.relationships.len()];
        for (c, check) in plan.checks.iter().enumerate() {
            let label = match &check.subject {
                Subject::Relationship(r)
                | Subject::RelationshipColumn {
                    relationship: r, ..
                } => r,
                _ => continue,
            };
            if let Some(&r) = labels.get(label) {
                relationship_checks[r].push(c);
            }
        }
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
                last_elapsed: None,
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
            lineage: LineageState {
                roots: Loadable::NotLoaded,
                selected: 0,
                input: None,
                key: None,
                tree: Loadable::NotLoaded,
                scroll: 0,
            },
            note: None,
            quitting: false,
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
            Connection::Connected => None,
        }
    }

    /// True while text is being typed (keys are text, not commands).
    pub fn typing(&self) -> bool {
        self.filtering || self.lineage.input.is_some()
    }

    /// Applies one action at time `now`; returns what the shell must do.
    pub fn update(&mut self, action: Action, now: Instant) -> Vec<Command> {
        if !matches!(action, Action::Tick | Action::Runner { .. }) {
            self.note = None;
        }
        match action {
            Action::Quit => {
                self.quitting = true;
                vec![Command::CancelRun, Command::Quit]
            }
            Action::Refresh => {
                if let Connection::Lost { pinging, .. } = &mut self.connection {
                    // Retry now, unless an attempt is under way.
                    return if std::mem::replace(pinging, true) {
                        Vec::new()
                    } else {
                        vec![Command::Ping]
                    };
                }
                let mut commands = Vec::new();
                if self.refresh.running {
                    commands.push(Command::CancelRun);
                }
                commands.push(self.start_run(now));
                commands
            }
            Action::TogglePause => {
                self.refresh.paused = !self.refresh.paused;
                if !self.refresh.paused {
                    self.refresh.next_due = now;
                }
                Vec::new()
            }
            Action::IntervalUp | Action::IntervalDown => {
                let current = self.refresh.interval.as_secs();
                let next = if matches!(action, Action::IntervalUp) {
                    INTERVALS
                        .iter()
                        .copied()
                        .find(|&s| s > current)
                        .unwrap_or(INTERVALS[INTERVALS.len() - 1])
                } else {
                    INTERVALS
                        .iter()
                        .rev()
                        .copied()
                        .find(|&s| s < current)
                        .unwrap_or(INTERVALS[0])
                };
                let previous = self.refresh.interval;
                self.refresh.interval = Duration::from_secs(next);
                if !self.refresh.running {
                    self.refresh.next_due =
                        self.refresh.next_due - previous + self.refresh.interval;
                }
                Vec::new()
            }
            Action::NextPane | Action::PrevPane => {
                let i = Pane::ALL.iter().position(|p| *p == self.focus).unwrap_or(0);
                let step = if matches!(action, Action::NextPane) {
                    1
                } else {
                    Pane::ALL.len() - 1
                };
                self.focus = Pane::ALL[(i + step) % Pane::ALL.len()];
                self.screen = Screen::Dashboard;
                self.overlay = None;
                Vec::new()
            }
            Action::FocusPane(pane) => {
                self.focus = pane;
                self.screen = Screen::Dashboard;
                self.overlay = None;
                Vec::new()
            }
            Action::ShowMetrics => {
                self.screen = Screen::Metrics;
                self.overlay = None;
                Vec::new()
            }
            Action::ShowLineage => {
                self.screen = Screen::Lineage;
                self.overlay = None;
                if matches!(
                    self.lineage.roots,
                    Loadable::NotLoaded | Loadable::Failed(_)
                ) {
                    self.lineage.roots = Loadable::Loading;
                    return vec![Command::LoadRoots];
                }
                Vec::new()
            }
            Action::Up | Action::Down if self.graph_selecting() => {
                self.move_across_layers(if matches!(action, Action::Up) { -1 } else { 1 });
                Vec::new()
            }
            Action::Up => self.step(-1),
            Action::Down => self.step(1),
            Action::PageUp => self.step(-10),
            Action::PageDown => self.step(10),
            Action::Top => self.step(-100_000),
            Action::Bottom => self.step(100_000),
            Action::Left | Action::Right => {
                if self.graph_selecting() {
                    return self.step(if matches!(action, Action::Left) {
                        -1
                    } else {
                        1
                    });
                }
                Vec::new()
            }
            Action::Open => self.open(),
            Action::Back => {
                // From a remedy back to its check (a confirmation is cancelled);
                // an apply under way keeps the view until it ends.
                if let Some(Overlay::Fix { check, state }) = &self.overlay {
                    if *state != FixState::Applying {
                        self.overlay = Some(Overlay::Check {
                            check: *check,
                            scroll: 0,
                        });
                    }
                    return Vec::new();
                }
                if self.overlay.take().is_none() {
                    if self.screen == Screen::Lineage && self.lineage.key.is_some() {
                        self.lineage.key = None;
                        self.lineage.tree = Loadable::NotLoaded;
                    } else {
                        self.screen = Screen::Dashboard;
                    }
                }
                Vec::new()
            }
            Action::Sort => {
                if self.screen == Screen::Dashboard && self.focus == Pane::Orphans {
                    let i = OrphanSort::ORDER
                        .iter()
                        .position(|s| *s == self.orphan_sort)
                        .unwrap_or(0);
                    self.orphan_sort = OrphanSort::ORDER[(i + 1) % OrphanSort::ORDER.len()];
                    self.orphan_descending = self.orphan_sort != OrphanSort::Relationship;
                    self.note = Some(format!("sorted by {}", self.orphan_sort.name()));
                }
                Vec::new()
            }
            Action::ReverseSort => {
                self.orphan_descending = !self.orphan_descending;
                Vec::new()
            }
            Action::CopySql => match self.detail_sql() {
                Some(sql) => {
                    self.note = Some("SQL copied to the clipboard".into());
                    vec![Command::Copy(sql)]
                }
                None => Vec::new(),
            },
            Action::Fix => match &self.overlay {
                Some(Overlay::Check { check, .. })
                    if self.plan.checks[*check].id == CheckId::Orphans =>
                {
                    let check = *check;
                    self.overlay = Some(Overlay::Fix {
                        check,
                        state: FixState::Loading,
                    });
                    vec![Command::PreviewFix(check)]
                }
                _ => Vec::new(),
            },
            Action::Apply => {
                if let Some(Overlay::Fix { state, .. }) = &mut self.overlay
                    && let FixState::Preview(remedies) = state
                    && remedies.iter().any(|r| !r.steps.is_empty())
                {
                    *state = FixState::Confirm(remedies.clone());
                }
                Vec::new()
            }
            Action::FixPreviewed { check, result } => {
                if let Some(Overlay::Fix {
                    check: shown,
                    state,
                }) = &mut self.overlay
                    && *shown == check
                {
                    *state = match result {
                        Ok(remedies) => FixState::Preview(remedies),
                        Err(e) => FixState::Failed(e),
                    };
                }
                Vec::new()
            }
            Action::FixApplied(result) => {
                let applied = result.is_ok();
                if let Some(Overlay::Fix { state, .. }) = &mut self.overlay {
                    *state = match result {
                        Ok(done) => FixState::Done(done),
                        Err(e) => FixState::Failed(e),
                    };
                }
                // Show the new counts.
                if applied && self.connection == Connection::Connected {
                    let mut commands = Vec::new();
                    if self.refresh.running {
                        commands.push(Command::CancelRun);
                    }
                    commands.push(self.start_run(now));
                    return commands;
                }
                Vec::new()
            }
            Action::Help => {
                self.overlay = if self.overlay == Some(Overlay::Help) {
                    None
                } else {
                    Some(Overlay::Help)
                };
                Vec::new()
            }
            Action::StartInput => {
                match self.screen {
                    Screen::Lineage => self.lineage.input = Some(String::new()),
                    Screen::Dashboard if self.focus == Pane::Graph => {
                        self.filtering = true;
                        self.graph_filter.get_or_insert_with(String::new);
                    }
                    _ => {}
                }
                Vec::new()
            }
            Action::Input(c) => {
                if let Some(input) = &mut self.lineage.input {
                    input.push(c);
                } else if self.filtering {
                    self.graph_filter.get_or_insert_with(String::new).push(c);
                    self.keep_selection_visible();
                }
                Vec::new()
            }
            Action::Backspace => {
                if let Some(input) = &mut self.lineage.input {
                    input.pop();
                } else if self.filtering {
                    if let Some(f) = &mut self.graph_filter {
                        f.pop();
                    }
                    self.keep_selection_visible();
                }
                Vec::new()
            }
            Action::CancelInput => {
                if self.lineage.input.take().is_none() && self.filtering {
                    self.filtering = false;
                    self.graph_filter = None;
                    self.keep_selection_visible();
                }
                Vec::new()
            }
            Action::Submit => {
                if let Some(input) = self.lineage.input.take() {
                    let key = input.trim().to_string();
                    if !key.is_empty() {
                        return self.load_lineage(key);
                    }
                } else if self.filtering {
                    self.filtering = false;
                    if self.graph_filter.as_deref() == Some("") {
                        self.graph_filter = None;
                    }
                }
                Vec::new()
            }
            Action::Resize(w, h) => {
                self.size = (w, h);
                Vec::new()
            }
            Action::Click(x, y) => self.click(x, y),
            Action::ScrollUp(x, y) | Action::ScrollDown(x, y) => {
                let down = matches!(action, Action::ScrollDown(..));
                if self.overlay.is_none() && self.screen == Screen::Dashboard {
                    if let Some(pane) = self.pane_at(x, y) {
                        self.focus = pane;
                    }
                }
                self.step(if down { 3 } else { -3 })
            }
            Action::Tick => self.tick(now),
            Action::Runner {
                generation,
                event,
                at,
            } => {
                if generation == self.refresh.generation {
                    self.apply(event, at, now);
                }
                Vec::new()
            }
            Action::Connected => {
                let was_lost = matches!(self.connection, Connection::Lost { .. });
                self.connection = Connection::Connected;
                if was_lost && !self.refresh.running {
                    return vec![self.start_run(now)];
                }
                Vec::new()
            }
            Action::ConnectionLost(error) => {
                let attempt = match &self.connection {
                    Connection::Lost { attempt, .. } => attempt + 1,
                    Connection::Connected => 1,
                };
                let backoff = Duration::from_secs(1 << (attempt - 1).min(5)).min(MAX_BACKOFF);
                self.connection = Connection::Lost {
                    error,
                    attempt,
                    retry_at: now + backoff,
                    pinging: false,
                };
                self.refresh.running = false;
                for c in &mut self.checks {
                    if matches!(c.state, CheckState::Running) {
                        c.state = CheckState::Queued;
                    }
                }
                for s in &mut self.statements {
                    s.running = false;
                }
                Vec::new()
            }
            Action::RootsLoaded(result) => {
                self.lineage.roots = match result {
                    Ok(rows) => Loadable::Loaded(rows),
                    Err(e) => Loadable::Failed(e),
                };
                self.lineage.selected = 0;
                Vec::new()
            }
            Action::LineageLoaded { key, result } => {
                if self.lineage.key.as_deref() == Some(key.as_str()) {
                    self.lineage.tree = match result {
                        Ok(node) => Loadable::Loaded(node),
                        Err(e) => Loadable::Failed(e),
                    };
                }
                Vec::new()
            }
        }
    }

    fn start_run(&mut self, now: Instant) -> Command {
        self.refresh.generation += 1;
        self.refresh.running = true;
        self.refresh.next_due = now + self.refresh.interval;
        self.retried.clear();
        self.estimated.clear();
        for (view, check) in self.checks.iter_mut().zip(&self.plan.checks) {
            if !matches!(check.work, Work::Catalog(_) | Work::Withheld(_)) {
                view.state = CheckState::Queued;
            }
        }
        Command::StartRun(self.refresh.generation)
    }

    fn tick(&mut self, now: Instant) -> Vec<Command> {
        match &mut self.connection {
            Connection::Lost {
                retry_at,
                pinging: pinging @ false,
                ..
            } if now >= *retry_at => {
                *pinging = true;
                vec![Command::Ping]
            }
            Connection::Lost { .. } => Vec::new(),
            Connection::Connected => {
                if !self.refresh.paused && !self.refresh.running && now >= self.refresh.next_due {
                    vec![self.start_run(now)]
                } else {
                    Vec::new()
                }
            }
        }
    }

    fn apply(&mut self, event: Event, at: SystemTime, now: Instant) {
        match event {
            Event::Started { statement } => {
                self.statements[statement].running = true;
                for &c in &self.plan.statements[statement].checks {
                    self.checks[c].state = CheckState::Running;
                    self.checks[c].progress = None;
                }
            }
            Event::Progress {
                statement,
                done,
                parts,
            } => {
                for &c in &self.plan.statements[statement].checks {
                    self.checks[c].progress = Some((done, parts));
                }
            }
            Event::Estimated {
                statement,
                elapsed,
                checks,
            } => {
                self.estimated.push((
                    self.plan.statements[statement].key.clone(),
                    elapsed.as_secs_f64() * 1000.0,
                ));
                for (c, outcome) in checks {
                    // An exact count, even an older one, is worth more.
                    if self.checks[c].count.is_none() {
                        self.checks[c].estimate = Some(outcome);
                    }
                }
            }
            Event::Checked { check, outcome } => {
                let view = &mut self.checks[check];
                view.progress = None;
                view.estimate = None;
                if outcome.error.is_some() {
                    // The last known values stay visible, marked failed.
                    view.state = CheckState::Failed;
                    view.error = outcome.error.clone();
                    view.elapsed = Some(outcome.elapsed);
                    view.findings.retain(|f| f.check != CheckId::CheckFailed);
                    view.findings.extend(outcome.findings);
                    return;
                } else {
                    view.state = CheckState::Done;
                    view.error = None;
                    view.previous = view.count.or(view.previous);
                    view.count = outcome.count;
                    view.total = outcome.total.or(view.total);
                }
                view.elapsed = Some(outcome.elapsed);
                view.findings = outcome.findings;
            }
            Event::StatementDone {
                statement,
                elapsed,
                failed,
                findings,
            } => {
                let view = &mut self.statements[statement];
                view.running = false;
                view.failed = failed;
                view.slow = !findings.is_empty();
                if !failed {
                    view.history.push_back(elapsed.as_secs_f64() * 1000.0);
                    while view.history.len() > HISTORY {
                        view.history.pop_front();
                    }
                }
            }
            // The pass shows as failed; its checks' own statements are
            // listed after the plan's.
            Event::Retried { key, elapsed, .. } => {
                self.retried.push((key, elapsed.as_secs_f64() * 1000.0));
            }
            Event::Metric {
                metric,
                elapsed,
                result,
            } => self.metrics[metric] = Some((elapsed, result)),
            Event::Finished {
                elapsed, cancelled, ..
            } => {
                self.refresh.running = false;
                if !cancelled {
                    self.refresh.last_finished = Some(at);
                    self.refresh.last_elapsed = Some(elapsed);
                }
                self.refresh.next_due = self.refresh.next_due.max(now);
            }
        }
    }

    /// How the next refresh estimates: first from samples while a large
    /// table's checks have no exact count yet, so that the first screen
    /// answers within the refresh interval; else exactly.
    pub fn estimates(&self) -> Estimates {
        let waiting = self.plan.statements.iter().any(|s| {
            s.sampling.is_some() && s.checks.iter().any(|&c| self.checks[c].count.is_none())
        });
        if waiting {
            Estimates::first_within(self.plan.engine, self.refresh.interval)
        } else {
            Estimates::Off
        }
    }

    /// Check indexes of the orphans pane, in display order.
    pub fn orphan_rows(&self) -> Vec<usize> {
        let mut rows: Vec<usize> = (0..self.checks.len())
            .filter(|&i| self.plan.checks[i].id == CheckId::Orphans)
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
                )
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
    pub fn worst_for_relationship(&self, relationship: usize) -> Option<Severity> {
        self.relationship_checks
            .get(relationship)?
            .iter()
            .flat_map(|&c| &self.checks[c].findings)
            .map(|f| f.severity)
            .max()
    }

    /// Findings about a table: its relationships (as child), columns, paths and scans.
    pub fn findings_for_table(&self, label: &str) -> Vec<&Finding> {
        self.checks
            .iter()
            .flat_map(|c| &c.findings)
            .filter(|f| {
                f.child_table.as_deref() == Some(label) || f.table.as_deref() == Some(label)
            })
            .collect()
    }

    fn step(&mut self, delta: i64) -> Vec<Command> {
        let clamp = |value: usize, delta: i64, len: usize| -> usize {
            if len == 0 {
                return 0;
            }
            (value as i64 + delta).clamp(0, len as i64 - 1) as usize
        };
        match &mut self.overlay {
            Some(Overlay::Check { scroll, .. }) | Some(Overlay::Table { scroll, .. }) => {
                *scroll = (*scroll as i64 + delta).clamp(0, u16::MAX as i64) as u16;
                return Vec::new();
            }
            Some(Overlay::Help) | Some(Overlay::Fix { .. }) => return Vec::new(),
            None => {}
        }
        match self.screen {
            Screen::Metrics => {
                self.metrics_scroll =
                    (self.metrics_scroll as i64 + delta).clamp(0, u16::MAX as i64) as u16;
            }
            Screen::Lineage => {
                if self.lineage.key.is_some() {
                    self.lineage.scroll =
                        (self.lineage.scroll as i64 + delta).clamp(0, u16::MAX as i64) as u16;
                } else if let Loadable::Loaded(rows) = &self.lineage.roots {
                    self.lineage.selected = clamp(self.lineage.selected, delta, rows.len());
                }
            }
            Screen::Dashboard => match self.focus {
                Pane::Graph => {
                    let (layer, pos) = self.graph.position(
                        self.selected_node
                            .min(self.graph.nodes.len().saturating_sub(1)),
                    );
                    let shown = self.shown_nodes();
                    let in_layer: Vec<usize> =
                        self.graph.layers.get(layer).map_or(Vec::new(), |l| {
                            l.iter().copied().filter(|&n| shown[n]).collect()
                        });
                    if !in_layer.is_empty() {
                        let current = in_layer
                            .iter()
                            .position(|&n| n == self.selected_node)
                            .unwrap_or(pos.min(in_layer.len() - 1));
                        self.selected_node = in_layer[clamp(current, delta, in_layer.len())];
                    }
                }
                Pane::Orphans => {
                    self.orphan_row = clamp(self.orphan_row, delta, self.orphan_rows().len())
                }
                Pane::Tenants => {
                    self.tenant_row = clamp(self.tenant_row, delta, self.tenant_rows().len())
                }
                Pane::Latency => {
                    self.latency_row = clamp(self.latency_row, delta, self.plan.statements.len())
                }
            },
        }
        Vec::new()
    }

    /// True when arrow keys move between graph nodes: layers are rows (up and
    /// down), tables within a layer go left and right.
    fn graph_selecting(&self) -> bool {
        self.overlay.is_none() && self.screen == Screen::Dashboard && self.focus == Pane::Graph
    }

    fn move_across_layers(&mut self, delta: i64) {
        if self.graph.nodes.is_empty() {
            return;
        }
        let shown = self.shown_nodes();
        let (layer, pos) = self.graph.position(self.selected_node);
        let mut target = layer as i64 + delta;
        while target >= 0 && (target as usize) < self.graph.layers.len() {
            let candidates: Vec<usize> = self.graph.layers[target as usize]
                .iter()
                .copied()
                .filter(|&n| shown[n])
                .collect();
            if !candidates.is_empty() {
                self.selected_node = candidates[pos.min(candidates.len() - 1)];
                return;
            }
            target += delta;
        }
    }

    fn keep_selection_visible(&mut self) {
        let visible = self.visible_nodes();
        if !visible.contains(&self.selected_node)
            && let Some(&first) = visible.first()
        {
            self.selected_node = first;
        }
    }

    fn open(&mut self) -> Vec<Command> {
        if let Some(Overlay::Fix { state, .. }) = &mut self.overlay
            && let FixState::Confirm(remedies) = state
        {
            let remedies = remedies.clone();
            *state = FixState::Applying;
            return vec![Command::ApplyFix(remedies)];
        }
        if self.overlay.is_some() {
            return Vec::new();
        }
        match self.screen {
            Screen::Lineage => {
                if self.lineage.key.is_none()
                    && let Loadable::Loaded(rows) = &self.lineage.roots
                    && let Some(row) = rows.get(self.lineage.selected)
                {
                    let key = row.key.clone();
                    return self.load_lineage(key);
                }
            }
            Screen::Metrics => {}
            Screen::Dashboard => match self.focus {
                Pane::Graph => {
                    if self.visible_nodes().contains(&self.selected_node) {
                        self.overlay = Some(Overlay::Table {
                            node: self.selected_node,
                            scroll: 0,
                        });
                    }
                }
                Pane::Orphans => {
                    if let Some(&check) = self.orphan_rows().get(self.orphan_row) {
                        self.overlay = Some(Overlay::Check { check, scroll: 0 });
                    }
                }
                Pane::Tenants => {
                    if let Some(&check) = self.tenant_rows().get(self.tenant_row) {
                        self.overlay = Some(Overlay::Check { check, scroll: 0 });
                    }
                }
                Pane::Latency => {
                    if let Some(&check) = self
                        .plan
                        .statements
                        .get(self.latency_row)
                        .and_then(|s| s.checks.first())
                    {
                        self.overlay = Some(Overlay::Check { check, scroll: 0 });
                    }
                }
            },
        }
        Vec::new()
    }

    fn load_lineage(&mut self, key: String) -> Vec<Command> {
        self.lineage.key = Some(key.clone());
        self.lineage.tree = Loadable::Loading;
        self.lineage.scroll = 0;
        vec![Command::LoadLineage(key)]
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

    /// The pane under a screen position, on the dashboard.
    pub fn pane_at(&self, x: u16, y: u16) -> Option<Pane> {
        let areas = layout::areas(self.size.0, self.size.1, self.screen, self.focus);
        areas
            .panes
            .iter()
            .find(|(_, r)| x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height)
            .map(|(p, _)| *p)
    }

    fn click(&mut self, x: u16, y: u16) -> Vec<Command> {
        if self.overlay.is_some() {
            return Vec::new();
        }
        let areas = layout::areas(self.size.0, self.size.1, self.screen, self.focus);
        if let Some(tabs) = areas.tabs
            && y == tabs.y
        {
            // The tab bar: each title takes its width plus three columns.
            let mut left = tabs.x;
            for pane in Pane::ALL {
                let width = pane.title().len() as u16 + 3;
                if x >= left && x < left + width {
                    self.focus = pane;
                    self.screen = Screen::Dashboard;
                }
                left += width;
            }
            return Vec::new();
        }
        let Some((pane, rect)) = areas
            .panes
            .iter()
            .find(|(_, r)| x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height)
            .cloned()
        else {
            return Vec::new();
        };
        self.focus = pane;
        // Rows start below the border and the header line.
        let row = y.saturating_sub(rect.y + 2) as usize;
        if y >= rect.y + 2 {
            match pane {
                Pane::Orphans => {
                    self.orphan_row = row.min(self.orphan_rows().len().saturating_sub(1))
                }
                Pane::Tenants => {
                    self.tenant_row = row.min(self.tenant_rows().len().saturating_sub(1))
                }
                Pane::Latency => {
                    self.latency_row = row.min(self.plan.statements.len().saturating_sub(1))
                }
                Pane::Graph => {}
            }
        }
        Vec::new()
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
