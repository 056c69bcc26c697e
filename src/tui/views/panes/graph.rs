//! The flow graph pane: tables layer by layer (parents above children),
//! each marked with its worst finding's glyph and colour, and the selected
//! table's relationships below.

use super::PaneView;
use super::list::{Foot, hidden_text};
use crate::app::{App, Pane};
use crate::checks::Severity;
use crate::tui::views::findings::glyph;
use crate::tui::views::names::{middle, shorten};
use crate::tui::views::{dim, fit, pane_block, severity_style};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

/// Names in the graph are not shortened below this many columns.
const MIN_NAME: usize = 12;

/// The worst finding on any relationship of a table as child.
fn node_severity(app: &App, node: usize) -> Option<Severity> {
    app.graph
        .edges
        .iter()
        .filter(|e| e.child == node)
        .filter_map(|e| app.worst_for_relationship(e.relationship))
        .max()
}

/// The flow graph pane's title: while a refresh runs, how many of the
/// relationships' checks are done; its filter while there is one, else its
/// size.
fn graph_title(app: &App) -> String {
    let about_relationships =
        (0..app.checks.len()).filter(|&c| app.plan.checks[c].relationship.is_some());
    let done = super::checks_done(app, about_relationships);
    let says = match (&app.graph_filter, app.filtering) {
        (Some(f), true) => format!("filter: {f}▏"),
        (Some(f), false) => format!("filter: {f}"),
        (None, _) => format!(
            "{} tables, {} relationships",
            app.graph.nodes.len(),
            app.graph.edges.len()
        ),
    };
    super::title("Flow graph", done, &says)
}

/// What drawing the flow graph needs: the pane, the tables the filter
/// shows and the selected one.
struct GraphView<'a> {
    pane: &'a PaneView<'a>,
    shown: Vec<bool>,
    selected: usize,
}

impl GraphView<'_> {
    /// A table's label and rows, as the graph says them.
    fn node_text(&self, n: usize) -> (String, String) {
        let node = &self.pane.app.graph.nodes[n];
        let rows = node
            .rows
            .map(|r| crate::wording::thousands(r.max(0) as u64))
            .unwrap_or_default();
        (self.pane.names.text(&node.label), rows)
    }

    /// A table as its worst finding's glyph and its label with rows, in
    /// that finding's colour; the selected one reversed.
    fn node_span(&self, n: usize, width: usize) -> Span<'static> {
        let (label, rows) = self.node_text(n);
        let rows_width = if rows.is_empty() { 0 } else { rows.width() + 1 };
        let room = width.saturating_sub(2 + rows_width).max(MIN_NAME);
        let label = shorten(&label, room);
        let text = if rows.is_empty() {
            label
        } else {
            format!("{label} {rows}")
        };
        let text = fit(&text, width.saturating_sub(2));
        let severity = node_severity(self.pane.app, n);
        let mut style = severity_style(self.pane.theme, severity);
        if n == self.selected && self.shown[n] {
            style = style.add_modifier(Modifier::REVERSED);
        }
        Span::styled(format!("{} {text}", glyph(severity)), style)
    }

    /// The shown tables, layer by layer top to bottom (parents before
    /// children); a layer wraps when wider than `width`.
    fn layer_lines(&self, width: usize) -> Vec<Line<'static>> {
        let layers = self.pane.app.graph.layers.iter().map(|l| {
            l.iter()
                .copied()
                .filter(|&n| self.shown[n])
                .collect::<Vec<_>>()
        });
        let mut lines: Vec<Line> = Vec::new();
        for (i, layer) in layers.filter(|l| !l.is_empty()).enumerate() {
            let mut line: Vec<Span> = vec![Span::styled(format!("{i:>2} "), dim(self.pane.theme))];
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
        let g = &self.pane.app.graph;
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
            let mut spans = vec![Span::styled(format!("{title:<9}"), dim(self.pane.theme))];
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
                dim(self.pane.theme),
            )),
        ]
    }

    /// The selected table's relationships, labelled with column and delete
    /// rule, each with its worst finding's glyph; in `width` columns, the
    /// other table's name shortened in the middle first.
    fn edge_lines(&self, width: usize) -> Vec<Line<'static>> {
        let (app, g) = (self.pane.app, &self.pane.app.graph);
        let label = |n: usize| self.pane.names.text(&g.nodes[n].label);
        // (edge, text before the other table, the other table, text after).
        let up = g.parents(self.selected).map(|e| {
            let self_ref = if e.parent == e.child { " (self)" } else { "" };
            let before = format!("↑ {} → ", e.label);
            (e, before, label(e.parent), self_ref.to_string())
        });
        let down = g
            .children(self.selected)
            .filter(|e| e.child != e.parent)
            .map(|e| {
                (
                    e,
                    "↓ ".to_string(),
                    label(e.child),
                    format!(" ← {}", e.label),
                )
            });
        up.chain(down)
            .map(|(e, before, table, after)| {
                let worst = app.worst_for_relationship(e.relationship);
                let room = width.saturating_sub(4 + before.width() + after.width());
                let table = middle(&table, room.max(MIN_NAME));
                let text = fit(&format!("{before}{table}{after}"), width.saturating_sub(4));
                Line::from(Span::styled(
                    format!("  {} {text}", glyph(worst)),
                    severity_style(self.pane.theme, worst),
                ))
            })
            .collect()
    }

    /// The selected table in full: its label and rows, then its label alone.
    fn sayings(&self) -> Vec<String> {
        if !self.shown[self.selected] {
            return Vec::new();
        }
        match self.node_text(self.selected) {
            (label, rows) if rows.is_empty() => vec![label],
            (label, rows) => vec![format!("{label} · {rows} rows"), label],
        }
    }
}

impl PaneView<'_> {
    pub(super) fn graph(&self, frame: &mut Frame, area: Rect) {
        let app = self.app;
        if app.searching_tables() {
            return crate::tui::views::table_list::draw(frame, app, self.theme, area);
        }
        let g = &app.graph;
        let block = pane_block(graph_title(app), app.focus == Pane::Graph, self.theme);
        let inner = block.inner(area);
        if inner.width == 0 || inner.height == 0 || g.nodes.is_empty() {
            frame.render_widget(block, area);
            return;
        }
        let view = GraphView {
            pane: self,
            shown: app.shown_nodes(),
            selected: app.selected_node.min(g.nodes.len() - 1),
        };
        let edges = view.edge_lines(inner.width as usize);
        // Relationships take at most half the pane; those left out are counted.
        let edge_height = |height: u16| (edges.len() as u16 + 1).min(height / 2).max(2).min(height);
        let hidden =
            |height: u16| hidden_text(0, edges.len().saturating_sub(edge_height(height) as usize));
        let foot = Foot::new(area.width, &view.sayings(), &hidden(inner.height));
        let [body, foot_area] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(foot.height())]).areas(inner);
        let [top, bottom] = Layout::vertical([
            Constraint::Min(0),
            Constraint::Length(edge_height(body.height)),
        ])
        .areas(body);
        frame.render_widget(foot.block(block, &hidden(body.height), self.theme), area);
        let width = top.width as usize;
        let lines = view.layer_lines(width);
        if lines.len() <= top.height as usize {
            frame.render_widget(Paragraph::new(lines), top);
        } else {
            // Too big to draw whole: the selected table and its neighbourhood.
            frame.render_widget(
                Paragraph::new(view.neighbourhood_lines(width)).wrap(Wrap { trim: false }),
                top,
            );
        }
        frame.render_widget(Paragraph::new(edges), bottom);
        frame.render_widget(foot.paragraph(self.theme), foot_area);
    }
}
