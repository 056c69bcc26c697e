//! The latency pane: per category p50 / p95 against its threshold, then
//! every statement's recent latencies, a running one's time so far.

use super::list::{self, Column, List, WIDE, label_cell};
use super::{PaneView, running_for};
use crate::app::{App, HISTORY, Pane, StatementView, percentile};
use crate::checks::{Category, Severity};
use crate::tui::config::Theme;
use crate::tui::views::findings::glyph;
use crate::tui::views::{dim, ms, pane_block, severity_style, sparkline};
use crate::wording::thousands;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Cell;

/// A statement's glyph: `✗` it failed, `!` slow (a `slow_check`, or its
/// last run over its threshold), `✓` within it, `·` not run yet.
fn statement_mark(view: &StatementView, threshold_ms: u64, theme: &Theme) -> Span<'static> {
    let breach = view.last().is_some_and(|l| l > threshold_ms as f64);
    let severity = if view.failed {
        Some(Severity::Error)
    } else if view.slow || breach {
        Some(Severity::Warning)
    } else if view.history.is_empty() {
        return Span::styled("·", dim(theme));
    } else {
        None
    };
    Span::styled(glyph(severity), severity_style(theme, severity))
}

/// While a refresh runs: `n of m statements done`, n those that ended and
/// whose checks are all decided in this refresh.
fn statements_done(view: &PaneView) -> Option<String> {
    let app = view.app;
    if !app.refresh.running {
        return None;
    }
    let done = app
        .plan
        .statements
        .iter()
        .zip(&app.statements)
        .filter(|(s, v)| !v.running && s.checks.iter().all(|&c| view.decided(c)))
        .count();
    Some(format!(
        "{done} of {} statements done",
        app.plan.statements.len()
    ))
}

/// What the percentiles are over: `over 12 refreshes`, or once the bounded
/// history is full, `last 60 of 3,612 refreshes`.
fn window(app: &App) -> String {
    let completed = app.refresh.completed;
    match completed {
        0 => String::new(),
        1 => "over 1 refresh".to_string(),
        n if n as usize <= HISTORY => format!("over {n} refreshes"),
        n => format!("last {HISTORY} of {} refreshes", thousands(n)),
    }
}

impl PaneView<'_> {
    /// Per category: p50 / p95 of every statement's recent runs, against its
    /// threshold (a p95 over it marked `!`, in bold).
    fn category_lines(&self, categories: Vec<Category>) -> Vec<Line<'static>> {
        let app = self.app;
        let mut lines = vec![Line::from(Span::styled(
            "  category      p50      p95   threshold",
            Style::new().add_modifier(Modifier::BOLD),
        ))];
        for category in categories {
            let values = || {
                app.plan
                    .statements
                    .iter()
                    .zip(&app.statements)
                    .filter(move |(s, _)| s.category == category)
                    .flat_map(|(_, v)| v.history.iter().copied())
            };
            let threshold = app.plan.thresholds.for_category(category);
            let p95 = percentile(values(), 95.0);
            let (mark, style) = match p95 {
                Some(p) if p > threshold as f64 => (
                    glyph(Some(Severity::Warning)),
                    severity_style(self.theme, Some(Severity::Warning))
                        .add_modifier(Modifier::BOLD),
                ),
                Some(_) => (glyph(None), Style::new()),
                None => ("·", Style::new()),
            };
            lines.push(Line::from(Span::styled(
                format!(
                    "{mark} {:<11} {:>7}  {:>7}  {:>10}",
                    category.as_str(),
                    ms(percentile(values(), 50.0)),
                    ms(p95),
                    threshold
                ),
                style,
            )));
        }
        lines
    }

    /// A statement's latest latency: while it runs, how long it has so far
    /// (in ms, then `…`); else its last run, over its threshold in the
    /// warning style.
    fn last_cell(&self, view: &StatementView, threshold_ms: u64) -> Cell<'static> {
        if view.running {
            let so_far = view
                .started
                .map(|s| self.app.now.saturating_duration_since(s).as_secs_f64() * 1000.0);
            return Cell::from(Span::styled(
                format!("{}…", ms(so_far)),
                Style::new()
                    .fg(self.theme.accent)
                    .add_modifier(Modifier::ITALIC),
            ));
        }
        let breach = view.last().is_some_and(|l| l > threshold_ms as f64);
        let style = if breach {
            severity_style(self.theme, Some(Severity::Warning))
        } else {
            Style::new()
        };
        Cell::from(Span::styled(ms(view.last()), style))
    }

    /// The plan's statements as rows; their labels in full are added to
    /// `labels`.
    fn statement_rows(
        &self,
        width: usize,
        spark_width: usize,
        labels: &mut Vec<String>,
    ) -> Vec<Vec<Cell<'static>>> {
        let app = self.app;
        let rows = app.plan.statements.iter().zip(&app.statements);
        rows.map(|(s, v)| {
            let key = self.names.text(&s.key);
            let mark = statement_mark(v, s.threshold_ms, self.theme);
            let row = vec![
                label_cell(mark, &key, Style::new(), width),
                Cell::from(Span::styled(
                    sparkline(v.history.iter().copied(), spark_width),
                    Style::new().fg(self.theme.accent),
                )),
                self.last_cell(v, s.threshold_ms),
                Cell::from(ms(v.percentile(50.0))),
                Cell::from(ms(v.percentile(95.0))),
                Cell::from(s.threshold_ms.to_string()),
            ];
            labels.push(match running_for(app, v.started).filter(|_| v.running) {
                Some(elapsed) => format!("{key} · running {elapsed}"),
                None => key,
            });
            row
        })
        .collect()
    }

    pub(super) fn latency(&self, frame: &mut Frame, area: Rect) {
        let app = self.app;
        // While a refresh runs, how much of it is done says more.
        let title = match statements_done(self) {
            Some(done) => super::title("Latency (ms)", Some(done), ""),
            None => super::title("Latency (ms)", None, &window(app)),
        };
        let block = pane_block(title, app.focus == Pane::Latency, self.theme);
        let categories: Vec<Category> = Category::ALL
            .into_iter()
            .filter(|c| app.plan.statements.iter().any(|s| s.category == *c))
            .collect();
        let wide = area.width >= WIDE;
        let spark_width = if wide { 12 } else { 6 };
        let columns: [Column; 6] = [
            ("statement", 0, true),
            ("recent", spark_width as u16, true),
            ("last", 7, true),
            ("p50", 7, false),
            ("p95", 7, true),
            ("limit", 6, true),
        ];
        let width = list::fill_width(&columns, wide, area.width.saturating_sub(2));
        let mut labels = Vec::new();
        let mut rows = self.statement_rows(width, spark_width, &mut labels);
        rows.extend(self.statements_outside_the_plan(width, &mut labels));
        let selected = app.latency_row.min(rows.len().saturating_sub(1));
        let list = List {
            len: rows.len(),
            table: list::table(rows, &columns, wide),
            selected,
            sayings: labels.get(selected).cloned().into_iter().collect(),
        };
        let top = self.category_lines(categories);
        let rows = list::draw_list(frame, area, block, top, list, self.theme);
        app.note_rows(Pane::Latency, rows);
    }

    /// Latency rows after the plan's statements: passes over a sample, for
    /// a first estimate, then the checks of a failed shared pass that the
    /// latest refresh ran alone, then the catalog reads that made the plan.
    /// Their labels in full are added to `labels`.
    fn statements_outside_the_plan(
        &self,
        width: usize,
        labels: &mut Vec<String>,
    ) -> Vec<Vec<Cell<'static>>> {
        let app = self.app;
        let estimated = app
            .estimated
            .iter()
            .map(|(key, elapsed)| (key.as_str(), *elapsed, " (sample)", Style::new()));
        let retried = app
            .retried
            .iter()
            .map(|(key, elapsed)| (key.as_str(), *elapsed, " (alone)", Style::new()));
        let dimmed = Style::new().add_modifier(Modifier::DIM);
        let reads = app.plan.schema.reads.0.iter().map(|r| {
            let elapsed = r.elapsed.as_secs_f64() * 1000.0;
            (r.key, elapsed, "", dimmed)
        });
        estimated
            .chain(retried)
            .chain(reads)
            .map(|(key, elapsed, how, style)| {
                let label = format!("{}{how}", self.names.text(key));
                let cell = label_cell(Span::styled("·", dim(self.theme)), &label, style, width);
                labels.push(label);
                vec![
                    cell,
                    Cell::from(""),
                    Cell::from(Span::styled(ms(Some(elapsed)), style)),
                    Cell::from(""),
                    Cell::from(""),
                    Cell::from(""),
                ]
            })
            .collect()
    }
}
