//! The four dashboard panes: flow graph, orphans, tenant isolation, latency.

use super::{count, dim, fit, ms, pane_block, selected_style, severity_style, sparkline};
use crate::app::{App, CheckState, CheckView, Pane, percentile};
use crate::checks::{Category, Severity};
use crate::tui::config::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};
use unicode_width::UnicodeWidthStr;

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme, pane: Pane, area: Rect) {
    match pane {
        Pane::Graph => graph(frame, app, theme, area),
        Pane::Orphans => orphans(frame, app, theme, area),
        Pane::Tenants => tenants(frame, app, theme, area),
        Pane::Latency => latency(frame, app, theme, area),
    }
}

fn state_cell(view: &CheckView, theme: &Theme) -> Cell<'static> {
    let (text, style) = match view.state {
        CheckState::Queued if view.count.is_some() => ("refreshing".into(), dim(theme)),
        CheckState::Queued => ("queued".into(), dim(theme)),
        CheckState::Running => (
            match view.progress {
                // A statement read in parts: how many have ended.
                Some((done, parts)) if parts > 0 => {
                    format!("running {}%", done * 100 / parts)
                }
                _ => "running".into(),
            },
            Style::new().fg(theme.accent),
        ),
        CheckState::Done => ("done".into(), Style::new()),
        CheckState::Failed => (
            "failed".into(),
            severity_style(theme, Some(Severity::Error)),
        ),
    };
    Cell::from(Span::styled(text, style))
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

/// A count's share of its table's rows, `≈` when estimated.
fn share(view: &CheckView) -> String {
    match view.shown_count() {
        (Some(c), Some(t), estimated) if t > 0 => format!(
            "{}{:.2}%",
            if estimated { "≈" } else { "" },
            c as f64 * 100.0 / t as f64
        ),
        _ => "".into(),
    }
}

fn change(view: &CheckView) -> String {
    match (view.count, view.previous) {
        (Some(now), Some(before)) if now > before => format!("+{}", now - before),
        (Some(now), Some(before)) if now < before => format!("-{}", before - now),
        (Some(_), Some(_)) => "=".into(),
        _ => "".into(),
    }
}

/// A table that drops its less important columns when the pane is narrow:
/// `columns` are (title, width, kept when narrow); width 0 fills.
fn table<'a>(rows: Vec<Vec<Cell<'a>>>, columns: &[(&'a str, u16, bool)], wide: bool) -> Table<'a> {
    let keep: Vec<bool> = columns.iter().map(|c| wide || c.2).collect();
    let pick = |cells: Vec<Cell<'a>>| -> Vec<Cell<'a>> {
        cells
            .into_iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(c, _)| c)
            .collect()
    };
    let widths: Vec<Constraint> = columns
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|((_, w, _), _)| {
            if *w == 0 {
                Constraint::Fill(1)
            } else {
                Constraint::Length(*w)
            }
        })
        .collect();
    let header = Row::new(pick(columns.iter().map(|c| Cell::from(c.0)).collect()))
        .style(Style::new().add_modifier(Modifier::BOLD));
    Table::new(rows.into_iter().map(|r| Row::new(pick(r))), widths)
        .header(header)
        .row_highlight_style(selected_style())
}

/// Panes narrower than this drop their secondary columns.
const WIDE: u16 = 72;

fn orphans(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let rows_idx = app.orphan_rows();
    let broken = rows_idx
        .iter()
        .filter(|&&i| app.checks[i].count.unwrap_or(0) > 0)
        .count();
    let arrow = if app.orphan_descending { "↓" } else { "↑" };
    let title = format!(
        "Orphans · {broken}/{} relationships broken · by {} {arrow}",
        rows_idx.len(),
        app.orphan_sort.name()
    );
    let block = pane_block(title, app.focus == Pane::Orphans, theme);
    let rows = rows_idx
        .iter()
        .map(|&i| {
            let v = &app.checks[i];
            vec![
                Cell::from(app.check_label(i)),
                count_cell(v, theme),
                Cell::from(share(v)),
                Cell::from(change(v)),
                state_cell(v, theme),
                Cell::from(ms(v.elapsed.map(|d| d.as_secs_f64() * 1000.0))),
            ]
        })
        .collect();
    let columns = [
        ("child.column → parent", 0, true),
        ("orphans", 8, true),
        ("share", 7, true),
        ("Δ", 5, true),
        ("state", 11, false),
        ("ms", 6, false),
    ];
    let table = table(rows, &columns, area.width >= WIDE).block(block);
    let mut state = TableState::default().with_selected(Some(app.orphan_row));
    frame.render_stateful_widget(table, area, &mut state);
}

fn tenants(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let rows_idx = app.tenant_rows();
    let title = if rows_idx.is_empty() {
        "Tenant isolation · no tenant columns (profile [tenant] or --tenant-columns)".to_string()
    } else {
        let bad = rows_idx
            .iter()
            .filter(|&&i| app.checks[i].count.unwrap_or(0) > 0)
            .count();
        format!("Tenant isolation · {bad}/{} with rows", rows_idx.len())
    };
    let block = pane_block(title, app.focus == Pane::Tenants, theme);
    let rows = rows_idx
        .iter()
        .map(|&i| {
            let v = &app.checks[i];
            // ∅ a missing tenant id; ≠ a parent of another tenant.
            let kind = match app.plan.checks[i].id {
                crate::checks::CheckId::TenantMissing => "∅",
                _ => "≠",
            };
            vec![
                Cell::from(format!("{kind} {}", app.check_label(i))),
                count_cell(v, theme),
                Cell::from(change(v)),
                state_cell(v, theme),
            ]
        })
        .collect();
    let columns = [
        ("∅ missing · ≠ mismatch", 0, true),
        ("rows", 8, true),
        ("Δ", 5, true),
        ("state", 11, false),
    ];
    let table = table(rows, &columns, area.width >= WIDE).block(block);
    let mut state = TableState::default().with_selected(Some(app.tenant_row));
    frame.render_stateful_widget(table, area, &mut state);
}

/// Per category: p50 / p95 of every statement's recent runs, against its
/// threshold (a p95 over it in bold).
fn category_lines(app: &App, theme: &Theme, categories: Vec<Category>) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(Span::styled(
        "category      p50      p95   threshold",
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
        let style = if p95.is_some_and(|p| p > threshold as f64) {
            severity_style(theme, Some(Severity::Warning)).add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        lines.push(Line::from(Span::styled(
            format!(
                "{:<11} {:>7}  {:>7}  {:>10}",
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

fn latency(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let block = pane_block("Latency (ms)".into(), app.focus == Pane::Latency, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let categories: Vec<Category> = Category::ALL
        .into_iter()
        .filter(|c| app.plan.statements.iter().any(|s| s.category == *c))
        .collect();
    let [summary, list] = Layout::vertical([
        Constraint::Length(categories.len() as u16 + 1),
        Constraint::Min(0),
    ])
    .areas(inner);
    let lines = category_lines(app, theme, categories);
    frame.render_widget(Paragraph::new(lines), summary);

    let wide = area.width >= WIDE;
    let spark_width = if wide { 12 } else { 6 };
    let rows = app
        .plan
        .statements
        .iter()
        .zip(&app.statements)
        .map(|(s, v)| {
            // Over its threshold: highlighted.
            let breach = v.last().is_some_and(|l| l > s.threshold_ms as f64);
            let style = if breach {
                severity_style(theme, Some(Severity::Warning))
            } else {
                Style::new()
            };
            let name = if v.running {
                format!("{} …", s.key)
            } else {
                s.key.clone()
            };
            vec![
                Cell::from(name),
                Cell::from(Span::styled(
                    sparkline(v.history.iter().copied(), spark_width),
                    Style::new().fg(theme.accent),
                )),
                Cell::from(Span::styled(ms(v.last()), style)),
                Cell::from(ms(v.percentile(50.0))),
                Cell::from(ms(v.percentile(95.0))),
                Cell::from(s.threshold_ms.to_string()),
            ]
        })
        .chain(statements_outside_the_plan(app))
        .collect();
    let columns = [
        ("statement", 0, true),
        ("recent", spark_width as u16, true),
        ("last", 7, true),
        ("p50", 7, false),
        ("p95", 7, true),
        ("limit", 6, true),
    ];
    let table = table(rows, &columns, wide);
    let mut state = TableState::default().with_selected(Some(app.latency_row));
    frame.render_stateful_widget(table, list, &mut state);
}

/// Latency rows after the plan's statements: the checks of a failed shared
/// pass that the latest refresh ran alone, then the catalog reads.
fn statements_outside_the_plan(app: &App) -> impl Iterator<Item = Vec<Cell<'_>>> + '_ {
    // Passes over a sample, for a first estimate, then checks of a failed
    // shared pass, each run alone in this refresh.
    let estimated = app
        .estimated
        .iter()
        .map(|(key, elapsed)| (key, elapsed, "sample"));
    let retried = app
        .retried
        .iter()
        .map(|(key, elapsed)| (key, elapsed, "alone"));
    estimated
        .chain(retried)
        .map(|(key, elapsed, how)| {
            vec![
                Cell::from(format!("{key} ({how})")),
                Cell::from(""),
                Cell::from(ms(Some(*elapsed))),
                Cell::from(""),
                Cell::from(""),
                Cell::from(""),
            ]
        })
        // The catalog reads that made the plan, once, at the end.
        .chain(app.plan.schema.reads.0.iter().map(|r| {
            let dim = Style::new().add_modifier(Modifier::DIM);
            vec![
                Cell::from(Span::styled(r.key, dim)),
                Cell::from(""),
                Cell::from(Span::styled(
                    ms(Some(r.elapsed.as_secs_f64() * 1000.0)),
                    dim,
                )),
                Cell::from(""),
                Cell::from(""),
                Cell::from(""),
            ]
        }))
}

/// The worst finding on any edge touching a node, as its colour.
fn node_severity(app: &App, node: usize) -> Option<Severity> {
    app.graph
        .edges
        .iter()
        .filter(|e| e.child == node)
        .filter_map(|e| app.worst_for_relationship(e.relationship))
        .max()
}

/// The flow graph pane's title: its filter while there is one, else its size.
fn graph_title(app: &App) -> String {
    match (&app.graph_filter, app.filtering) {
        (Some(f), true) => format!("Flow graph · filter: {f}▏"),
        (Some(f), false) => format!("Flow graph · filter: {f}"),
        (None, _) => format!(
            "Flow graph · {} tables, {} relationships",
            app.graph.nodes.len(),
            app.graph.edges.len()
        ),
    }
}

/// What drawing the flow graph needs: the app, the theme, the tables the
/// filter shows and the selected one.
struct GraphView<'a> {
    app: &'a App,
    theme: &'a Theme,
    shown: Vec<bool>,
    selected: usize,
}

impl GraphView<'_> {
    /// A table as a dot and its label with rows, coloured by its worst
    /// finding; the selected one reversed.
    fn node_span(&self, n: usize, width: usize) -> Span<'static> {
        let node = &self.app.graph.nodes[n];
        let rows = node
            .rows
            .map(|r| format!(" {}", crate::wording::thousands(r.max(0) as u64)))
            .unwrap_or_default();
        let text = fit(&format!("{}{rows}", node.label), width.saturating_sub(2));
        let mut style = severity_style(self.theme, node_severity(self.app, n));
        if n == self.selected && self.shown[n] {
            style = style.add_modifier(Modifier::REVERSED);
        }
        Span::styled(format!("● {text}"), style)
    }

    /// The shown tables, layer by layer top to bottom (parents before
    /// children); a layer wraps when wider than `width`.
    fn layer_lines(&self, width: usize) -> Vec<Line<'static>> {
        let layers = self.app.graph.layers.iter().map(|l| {
            l.iter()
                .copied()
                .filter(|&n| self.shown[n])
                .collect::<Vec<_>>()
        });
        let mut lines: Vec<Line> = Vec::new();
        for (i, layer) in layers.filter(|l| !l.is_empty()).enumerate() {
            let mut line: Vec<Span> = vec![Span::styled(format!("{i:>2} "), dim(self.theme))];
            let mut used = 3;
            for n in layer {
                let span = self.node_span(n, width.saturating_sub(3));
                let w = span.content.width() + 2;
                if used + w > width && line.len() > 1 {
                    lines.push(Line::from(std::mem::take(&mut line)));
                    line.push(Span::raw("   "));
                    used = 3;
                }
                line.push(span);
                line.push(Span::raw("  "));
                used += w;
            }
            lines.push(Line::from(line));
        }
        lines
    }

    /// The selected table between its parents and its children, for a graph
    /// too big to draw whole.
    fn neighbourhood_lines(&self, width: usize) -> Vec<Line<'static>> {
        let g = &self.app.graph;
        let selected = self.selected;
        let parents: Vec<usize> = g
            .parents(selected)
            .map(|e| e.parent)
            .filter(|&p| p != selected)
            .collect();
        let children: Vec<usize> = g
            .children(selected)
            .map(|e| e.child)
            .filter(|&c| c != selected)
            .collect();
        let row = |title: &str, nodes: &[usize]| {
            let mut spans = vec![Span::styled(format!("{title:<9}"), dim(self.theme))];
            for &n in nodes {
                spans.push(self.node_span(n, width.saturating_sub(9)));
                spans.push(Span::raw("  "));
            }
            Line::from(spans)
        };
        let visible_count = self.shown.iter().filter(|s| **s).count();
        vec![
            row("parents", &parents),
            row("table", &[selected]),
            row("children", &children),
            Line::from(Span::styled(
                format!("{visible_count} tables: / filters, ↑↓ ←→ move"),
                dim(self.theme),
            )),
        ]
    }

    /// The selected table's edges, labelled with column and delete rule.
    fn edge_lines(&self) -> Vec<Line<'static>> {
        let (app, g) = (self.app, &self.app.graph);
        let mut lines = Vec::new();
        for e in g.parents(self.selected) {
            let worst = app.worst_for_relationship(e.relationship);
            let self_ref = if e.parent == e.child { " (self)" } else { "" };
            lines.push(Line::from(Span::styled(
                format!("  ↑ {} → {}{self_ref}", e.label, g.nodes[e.parent].label),
                severity_style(self.theme, worst),
            )));
        }
        for e in g.children(self.selected).filter(|e| e.child != e.parent) {
            let worst = app.worst_for_relationship(e.relationship);
            lines.push(Line::from(Span::styled(
                format!("  ↓ {} ← {}", g.nodes[e.child].label, e.label),
                severity_style(self.theme, worst),
            )));
        }
        lines
    }
}

fn graph(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    if app.searching_tables() {
        return super::table_list::draw(frame, app, theme, area);
    }
    let g = &app.graph;
    let block = pane_block(graph_title(app), app.focus == Pane::Graph, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 || g.nodes.is_empty() {
        return;
    }
    let view = GraphView {
        app,
        theme,
        shown: app.shown_nodes(),
        selected: app.selected_node.min(g.nodes.len() - 1),
    };
    let edges_of_selected = g.parents(view.selected).count() + g.children(view.selected).count();
    let edge_lines = (edges_of_selected as u16 + 1).min(inner.height / 2).max(2);
    let [top, bottom] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(edge_lines.min(inner.height)),
    ])
    .areas(inner);
    let width = top.width as usize;
    let lines = view.layer_lines(width);
    if lines.len() <= top.height as usize {
        frame.render_widget(Paragraph::new(lines), top);
    } else {
        // Too big to draw whole: the selected table and its neighbourhood.
        frame.render_widget(
            Paragraph::new(view.neighbourhood_lines(width))
                .wrap(ratatui::widgets::Wrap { trim: false }),
            top,
        );
    }
    frame.render_widget(Paragraph::new(view.edge_lines()), bottom);
}
