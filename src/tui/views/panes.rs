//! The four dashboard panes: flow graph, orphans, tenant isolation, latency.
//!
//! While a refresh runs each title says how much of it is done, and running
//! rows say for how long. Severity is a glyph as well as a colour, so the
//! panes read the same without colour. Names are shortened in the middle to
//! fit, and the selected row is said in full at the foot of its pane, with
//! how many rows are scrolled out of view. Wide orphans and tenant panes show
//! each check's count history as a `trend`, and the selected row says since
//! when it has had rows.

mod graph;
mod latency;
mod list;

use super::findings::glyph;
use super::names::Names;
use super::{count, dim, ms, pane_block, severity_style, sparkline};
use crate::app::{App, CheckState, CheckView, Pane};
use crate::checks::plan::Work;
use crate::checks::{CheckId, Severity};
use crate::tui::config::Theme;
use list::{Column, List, WIDE, content_width, label_cell};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::Cell;
use std::time::{Duration, Instant};

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme, pane: Pane, area: Rect) {
    let view = PaneView {
        app,
        theme,
        names: Names::of(app),
    };
    match pane {
        Pane::Graph => view.graph(frame, area),
        Pane::Orphans => view.orphans(frame, area),
        Pane::Tenants => view.tenants(frame, area),
        Pane::Latency => view.latency(frame, area),
    }
}

/// What every pane draws from: the app, the theme and how names are shown.
struct PaneView<'a> {
    app: &'a App,
    theme: &'a Theme,
    names: Names,
}

// ---------------------------------------------------------------------------
// What is partial while a refresh runs

impl PaneView<'_> {
    /// Whether a check is decided in this refresh: done, or failed.
    fn decided(&self, check: usize) -> bool {
        decided(self.app, check)
    }
}

fn decided(app: &App, check: usize) -> bool {
    matches!(
        app.checks[check].state,
        CheckState::Done | CheckState::Failed
    )
}

/// While a refresh runs: `n of m checks done`, m the checks of `checks`
/// that run statements (not decided from the catalog, nor withheld) and n
/// those done or failed in this refresh.
pub(super) fn checks_done(app: &App, checks: impl IntoIterator<Item = usize>) -> Option<String> {
    if !app.refresh.running {
        return None;
    }
    let runs = |&c: &usize| {
        !matches!(
            app.plan.checks[c].work,
            Work::Catalog(_) | Work::Withheld(_)
        )
    };
    let (mut done, mut all) = (0, 0);
    for c in checks.into_iter().filter(runs) {
        all += 1;
        done += usize::from(decided(app, c));
    }
    Some(format!("{done} of {all} checks done"))
}

/// A pane's title: its name, what of the refresh is done while one runs,
/// then what it says of its rows.
/// A pane's summary, with the `/` filter it shows when there is one.
fn filtered(app: &App, says: &str) -> String {
    let filter = app.filter_text();
    if filter.is_empty() {
        says.to_string()
    } else {
        format!("{says} · matching “{filter}”")
    }
}

/// While a filter hides every row of a pane, says so; false without one.
fn no_match(
    frame: &mut Frame,
    app: &App,
    theme: &Theme,
    block: ratatui::widgets::Block,
    area: Rect,
) -> bool {
    let filter = app.filter_text();
    if filter.is_empty() {
        return false;
    }
    let line = ratatui::text::Line::from(ratatui::text::Span::styled(
        format!("no row matches “{filter}” (Esc clears the filter)"),
        Style::new().fg(theme.warning),
    ));
    frame.render_widget(ratatui::widgets::Paragraph::new(line).block(block), area);
    true
}

fn title(name: &str, done: Option<String>, says: &str) -> String {
    let mut parts = vec![name.to_string()];
    parts.extend(done);
    if !says.is_empty() {
        parts.push(says.to_string());
    }
    parts.join(" · ")
}

/// How long a statement has run, against the app's now: `3.2 s`,
/// `2 min 05 s`.
fn running_for(app: &App, started: Option<Instant>) -> Option<String> {
    let elapsed = app.now.saturating_duration_since(started?);
    Some(if elapsed < Duration::from_secs(60) {
        format!("{:.1} s", elapsed.as_secs_f64())
    } else {
        format!(
            "{} min {:02} s",
            elapsed.as_secs() / 60,
            elapsed.as_secs() % 60
        )
    })
}

/// The same in at most five columns: `3.2s`, `42s`, `2m05s`, `12m`.
fn running_for_short(app: &App, started: Option<Instant>) -> Option<String> {
    let s = app.now.saturating_duration_since(started?).as_secs_f64();
    Some(match s {
        s if s < 9.95 => format!("{s:.1}s"),
        s if s < 99.5 => format!("{s:.0}s"),
        s if s < 600.0 => format!("{}m{:02}s", s as u64 / 60, s as u64 % 60),
        s => format!("{}m", s as u64 / 60),
    })
}

// ---------------------------------------------------------------------------
// A check's cells

/// A check's state: `running 50% 3.2 s` while it runs (with the share of
/// its statement's parts read, when read in parts).
fn state_text(app: &App, view: &CheckView, theme: &Theme) -> (String, Style) {
    // While the database is away, a count shown is the last one read.
    if let Some(age) = app.stale_for()
        && view.count.is_some()
    {
        let text = format!("stale {}", super::age_text(age));
        return (text, Style::new().fg(theme.warning));
    }
    match view.state {
        CheckState::Queued if view.count.is_some() => ("refreshing".into(), dim(theme)),
        CheckState::Queued => ("queued".into(), dim(theme)),
        CheckState::Running => {
            let mut text = "running".to_string();
            if let Some((done, parts)) = view.progress.filter(|p| p.1 > 0) {
                text.push_str(&format!(" {}%", done * 100 / parts));
            }
            if let Some(elapsed) = running_for(app, view.started) {
                text.push_str(&format!(" {elapsed}"));
            }
            (text, Style::new().fg(theme.accent))
        }
        CheckState::Done => ("done".into(), Style::new()),
        CheckState::Failed => (
            "failed".into(),
            severity_style(theme, Some(Severity::Error)),
        ),
    }
}

/// The glyph a check's row starts with: its worst finding (the estimate's
/// while one is shown), `✓` when it found nothing, `·` before it is known.
fn check_mark(view: &CheckView, theme: &Theme) -> Span<'static> {
    let (shown, _, estimated) = view.shown_count();
    let findings = match &view.estimate {
        Some(e) if estimated => &e.findings,
        _ => &view.findings,
    };
    let worst = findings.iter().map(|f| f.severity).max();
    if worst.is_none() && shown.is_none() && view.state != CheckState::Done {
        return Span::styled("·", dim(theme));
    }
    Span::styled(glyph(worst), severity_style(theme, worst))
}

/// The count, `≈` an estimate while the exact count is not known yet, or
/// `failed` when there is none because the check could not run (so a narrow
/// pane without the state column still says so).
fn count_cell(view: &CheckView, theme: &Theme) -> Cell<'static> {
    if view.count.is_none() && view.state == CheckState::Failed {
        return Cell::from(Span::styled(
            "failed",
            severity_style(theme, Some(Severity::Error)),
        ));
    }
    let (shown, _, estimated) = view.shown_count();
    let text = if estimated {
        format!("≈{}", count(shown))
    } else {
        count(shown)
    };
    Cell::from(Span::styled(text, count_style(view, theme)))
}

fn count_style(view: &CheckView, theme: &Theme) -> Style {
    let style = match view.shown_count() {
        (Some(n), _, _) if n > 0 => severity_style(theme, Some(Severity::Error)),
        (Some(_), _, _) => Style::new().fg(theme.ok),
        (None, _, _) => dim(theme),
    };
    if view.shown_count().2 {
        style.add_modifier(Modifier::ITALIC)
    } else {
        style
    }
}

/// How many recent counts the `trend` column shows.
const TREND: u16 = 8;

/// The check's recent exact counts as a sparkline, at most [`TREND`];
/// empty before its first.
fn trend(view: &CheckView) -> String {
    view.history.as_deref().map_or(String::new(), |history| {
        sparkline(history.counts().map(|c| c as f64), TREND as usize)
    })
}

/// The `trend` column, while a row has counts to show (a first refresh
/// has none): as wide as its widest sparkline.
fn trend_column(trends: &[String]) -> Option<Column<'static>> {
    trends
        .iter()
        .any(|t| !t.is_empty())
        .then(|| ("trend", content_width("trend", trends), false))
}

/// The trend in the accent colour, dim while each count was 0.
fn trend_cell(view: &CheckView, theme: &Theme) -> Cell<'static> {
    let style = match view.history.as_deref() {
        Some(history) if !history.held() => Style::new().fg(theme.accent),
        _ => dim(theme),
    };
    Cell::from(Span::styled(trend(view), style))
}

/// Since when a check shown with rows has had them, when that was before
/// the latest refresh: `11:06:50 UTC`.
fn non_zero_since(app: &App, view: &CheckView) -> Option<String> {
    let since = view.history.as_deref()?.streak()?.since;
    let latest = app.refresh.last_finished?;
    (view.count.unwrap_or(0) > 0 && since < latest)
        .then(|| format!("{} UTC", crate::clock::time_of_day(since)))
}

/// A count's share of its table's rows, `≈` when estimated, with enough
/// digits not to read as zero when it is not.
fn share(view: &CheckView) -> String {
    match view.shown_count() {
        (Some(c), Some(t), estimated) if t > 0 => format!(
            "{}{}",
            if estimated { "≈" } else { "" },
            crate::wording::percent_in_column(c, t)
        ),
        _ => "".into(),
    }
}

impl PaneView<'_> {
    /// The change since the refresh before; in a pane too narrow for the
    /// state column, how long a running check has run instead (its change
    /// is not known until it ends).
    fn change_cell(&self, view: &CheckView, wide: bool) -> Cell<'static> {
        if !wide
            && view.state == CheckState::Running
            && let Some(elapsed) = running_for_short(self.app, view.started)
        {
            return Cell::from(Span::styled(elapsed, Style::new().fg(self.theme.accent)));
        }
        Cell::from(match (view.count, view.previous) {
            (Some(now), Some(before)) if now > before => format!("+{}", now - before),
            (Some(now), Some(before)) if now < before => format!("-{}", before - now),
            (Some(_), Some(_)) => "=".into(),
            _ => "".into(),
        })
    }

    /// A check's label as its row shows it, whole.
    fn label(&self, check: usize) -> String {
        self.names.text(&self.app.check_label(check))
    }

    /// The ways to say a selected check in full: its label; while it runs,
    /// when it failed or while its count is stale, its state; since when it
    /// has had rows. Then shorter: the same without the last of these, down
    /// to its label alone.
    fn sayings(&self, label: String, check: usize) -> Vec<String> {
        let view = &self.app.checks[check];
        let stale = self.app.stale_for().is_some() && view.count.is_some();
        let mut says = Vec::new();
        if stale || matches!(view.state, CheckState::Running | CheckState::Failed) {
            says.push(state_text(self.app, view, self.theme).0);
        }
        if let Some(since) = non_zero_since(self.app, view) {
            says.push(format!("non-zero since {since}"));
        }
        let mut sayings: Vec<String> = (1..=says.len())
            .rev()
            .map(|n| format!("{label} · {}", says[..n].join(" · ")))
            .collect();
        sayings.push(label);
        sayings
    }

    /// A table of checks: `labels` beside each check's first cells, then
    /// its `rest` (made from the check and whether the pane is wide).
    fn check_list(
        &self,
        checks: &[usize],
        labels: Vec<String>,
        columns: &[Column<'static>],
        selected: usize,
        area: Rect,
        rest: impl Fn(usize, bool) -> Vec<Cell<'static>>,
    ) -> List<'static> {
        let wide = area.width >= WIDE;
        let width = list::fill_width(columns, wide, area.width.saturating_sub(2));
        let rows = checks
            .iter()
            .zip(&labels)
            .map(|(&c, label)| {
                let mark = check_mark(&self.app.checks[c], self.theme);
                let mut row = vec![label_cell(mark, label, Style::new(), width)];
                row.extend(rest(c, wide));
                row
            })
            .collect();
        let selected = selected.min(checks.len().saturating_sub(1));
        let sayings = match (checks.get(selected), labels.into_iter().nth(selected)) {
            (Some(&c), Some(label)) => self.sayings(label, c),
            _ => Vec::new(),
        };
        List {
            table: list::table(rows, columns, wide),
            len: checks.len(),
            selected,
            sayings,
        }
    }

    fn orphans(&self, frame: &mut Frame, area: Rect) {
        let app = self.app;
        let checks = app.orphan_rows();
        let broken = checks
            .iter()
            .filter(|&&i| app.checks[i].count.unwrap_or(0) > 0)
            .count();
        let arrow = if app.orphan_descending { "↓" } else { "↑" };
        let says = format!(
            "{broken}/{} relationships broken · by {} {arrow}",
            checks.len(),
            app.orphan_sort.name()
        );
        let done = checks_done(app, checks.iter().copied());
        let block = pane_block(
            title("Orphans", done, &filtered(app, &says)),
            app.focus == Pane::Orphans,
            self.theme,
        );
        let any = app.plan.checks.iter().any(|c| c.id == CheckId::Orphans);
        if checks.is_empty() && any && no_match(frame, app, self.theme, block.clone(), area) {
            return;
        }
        let states: Vec<String> = checks
            .iter()
            .map(|&c| state_text(app, &app.checks[c], self.theme).0)
            .collect();
        let shares: Vec<String> = checks.iter().map(|&c| share(&app.checks[c])).collect();
        let trends: Vec<String> = checks.iter().map(|&c| trend(&app.checks[c])).collect();
        let trend = trend_column(&trends);
        let columns: Vec<Column> = [
            ("child.column → parent", 0, true),
            ("orphans", 8, true),
            ("share", content_width("share", &shares), true),
            ("Δ", 5, true),
        ]
        .into_iter()
        .chain(trend)
        .chain([
            ("state", content_width("state", &states), false),
            ("ms", 6, false),
        ])
        .collect();
        let labels = checks.iter().map(|&c| self.label(c)).collect();
        let list = self.check_list(
            &checks,
            labels,
            &columns,
            app.orphan_row,
            area,
            |c, wide| {
                let v = &app.checks[c];
                let (state, style) = state_text(app, v, self.theme);
                let mut cells = vec![
                    count_cell(v, self.theme),
                    Cell::from(share(v)),
                    self.change_cell(v, wide),
                ];
                cells.extend(trend.map(|_| trend_cell(v, self.theme)));
                cells.push(Cell::from(Span::styled(state, style)));
                cells.push(Cell::from(ms(v.elapsed.map(|d| d.as_secs_f64() * 1000.0))));
                cells
            },
        );
        let rows = list::draw_list(frame, area, block, Vec::new(), list, self.theme);
        self.app.note_rows(Pane::Orphans, rows);
    }

    fn tenants(&self, frame: &mut Frame, area: Rect) {
        let app = self.app;
        let checks = app.tenant_rows();
        let says = if checks.is_empty() {
            "no tenant columns (profile [tenant] or --tenant-columns)".to_string()
        } else {
            let bad = checks
                .iter()
                .filter(|&&i| app.checks[i].count.unwrap_or(0) > 0)
                .count();
            format!("{bad}/{} with rows", checks.len())
        };
        let done = checks_done(app, checks.iter().copied());
        let title = title("Tenant isolation", done, &filtered(app, &says));
        let block = pane_block(title, app.focus == Pane::Tenants, self.theme);
        let any = app
            .plan
            .checks
            .iter()
            .any(|c| matches!(c.id, CheckId::TenantMissing | CheckId::TenantMismatch));
        if checks.is_empty() && any && no_match(frame, app, self.theme, block.clone(), area) {
            return;
        }
        let states: Vec<String> = checks
            .iter()
            .map(|&c| state_text(app, &app.checks[c], self.theme).0)
            .collect();
        let trends: Vec<String> = checks.iter().map(|&c| trend(&app.checks[c])).collect();
        let trend = trend_column(&trends);
        let columns: Vec<Column> = [
            ("∅ missing · ≠ mismatch", 0, true),
            ("rows", 8, true),
            ("Δ", 5, true),
        ]
        .into_iter()
        .chain(trend)
        .chain([("state", content_width("state", &states), false)])
        .collect();
        // ∅ a missing tenant id; ≠ a parent of another tenant.
        let labels = checks
            .iter()
            .map(|&c| match app.plan.checks[c].id {
                CheckId::TenantMissing => format!("∅ {}", self.label(c)),
                _ => format!("≠ {}", self.label(c)),
            })
            .collect();
        let list = self.check_list(
            &checks,
            labels,
            &columns,
            app.tenant_row,
            area,
            |c, wide| {
                let v = &app.checks[c];
                let (state, style) = state_text(app, v, self.theme);
                let mut cells = vec![count_cell(v, self.theme), self.change_cell(v, wide)];
                cells.extend(trend.map(|_| trend_cell(v, self.theme)));
                cells.push(Cell::from(Span::styled(state, style)));
                cells
            },
        );
        let rows = list::draw_list(frame, area, block, Vec::new(), list, self.theme);
        self.app.note_rows(Pane::Tenants, rows);
    }
}
