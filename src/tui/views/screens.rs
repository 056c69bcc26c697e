//! Full screens: the profile's metrics, and the lineage of a master flow.

use super::{dim, fit, pane_block, rows_lines, selected_style, severity_style};
use crate::app::{App, LineageState, Loadable};
use crate::checks::Severity;
use crate::lineage::Node;
use crate::tui::config::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

pub fn metrics(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let block = pane_block("Metrics".into(), true, theme);
    let width = area.width.saturating_sub(2) as usize;
    let mut lines = Vec::new();
    if app.plan.metrics.is_empty() {
        lines.push(Line::from(
            "The profile names no metric queries ([[metric]] in the profile).",
        ));
    }
    for (metric, outcome) in app.plan.metrics.iter().zip(&app.metrics) {
        lines.push(Line::from(Span::styled(
            metric.name.clone(),
            Style::new().add_modifier(Modifier::BOLD),
        )));
        if let Some(d) = &metric.description {
            lines.push(Line::from(Span::styled(d.clone(), dim(theme))));
        }
        match outcome {
            None => lines.push(Line::from("  (waiting for the first refresh)")),
            Some((_, Err(e))) => lines.push(Line::from(Span::styled(
                format!("  failed: {e}"),
                severity_style(theme, Some(Severity::Error)),
            ))),
            Some((elapsed, Ok(rows))) => {
                lines.extend(rows_lines(rows, width, "(no rows)"));
                lines.push(Line::from(Span::styled(
                    format!(
                        "  {} rows in {:.1} ms",
                        rows.len(),
                        elapsed.as_secs_f64() * 1000.0
                    ),
                    dim(theme),
                )));
            }
        }
        lines.push(Line::from(""));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((app.metrics_scroll, 0)),
        area,
    );
}

/// The lineage screen's title: the root row shown, or what to pick.
fn lineage_title(app: &App) -> String {
    let root = app.plan.lineage_root.as_ref().map(|t| app.plan.label(t));
    match (&app.lineage.key, &root) {
        (Some(key), Some(root)) => format!("Lineage of {root} {key}"),
        (None, Some(root)) => format!("Lineage · pick a row of {root}"),
        (_, None) => "Lineage".to_string(),
    }
}

/// The tree of the chosen root row under a line of how many links are broken;
/// while loading or failed, a line saying so.
fn lineage_tree_lines(
    state: &LineageState,
    theme: &Theme,
    width: usize,
    lines: &mut Vec<Line<'static>>,
) {
    match &state.tree {
        Loadable::Loading | Loadable::NotLoaded => lines.push(Line::from("loading…")),
        Loadable::Failed(e) => lines.push(Line::from(Span::styled(
            e.clone(),
            severity_style(theme, Some(Severity::Error)),
        ))),
        Loadable::Loaded(node) => {
            let broken = node.broken_total();
            lines.push(Line::from(Span::styled(
                if broken > 0 {
                    format!("{broken} broken or cross-tenant links (✗)")
                } else {
                    "every link holds".to_string()
                },
                severity_style(
                    theme,
                    if broken > 0 {
                        Some(Severity::Error)
                    } else {
                        None
                    },
                ),
            )));
            tree_lines(node, "", true, true, theme, width, lines);
        }
    }
}

/// The recent root rows to pick from, the selected one highlighted; while
/// loading or failed, a line saying so.
fn root_row_lines(
    state: &LineageState,
    theme: &Theme,
    width: usize,
    lines: &mut Vec<Line<'static>>,
) {
    match &state.roots {
        Loadable::NotLoaded | Loadable::Loading => lines.push(Line::from("loading recent rows…")),
        Loadable::Failed(e) => lines.push(Line::from(Span::styled(
            e.clone(),
            severity_style(theme, Some(Severity::Error)),
        ))),
        Loadable::Loaded(rows) => {
            lines.push(Line::from(Span::styled(
                "Enter opens the selected row's lineage · i types an id",
                dim(theme),
            )));
            for (i, row) in rows.iter().enumerate() {
                let fields: Vec<String> = row.fields.iter().map(|(_, v)| v.clone()).collect();
                let text = fit(&format!("{}  {}", row.key, fields.join("  ")), width);
                let style = if i == state.selected {
                    selected_style()
                } else {
                    Style::new()
                };
                lines.push(Line::from(Span::styled(text, style)));
            }
        }
    }
}

pub fn lineage(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let state = &app.lineage;
    let block = pane_block(lineage_title(app), true, theme);
    let width = area.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    if let Some(input) = &state.input {
        lines.push(Line::from(vec![
            Span::styled("id: ", Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(format!("{input}▏")),
        ]));
        lines.push(Line::from(""));
    }
    if state.key.is_some() {
        lineage_tree_lines(state, theme, width, &mut lines);
        frame.render_widget(
            Paragraph::new(lines)
                .block(block)
                .scroll((state.scroll, 0))
                .wrap(Wrap { trim: false }),
            area,
        );
        return;
    }
    root_row_lines(state, theme, width, &mut lines);
    // Keep the selection on screen.
    let visible = area.height.saturating_sub(2) as usize;
    let offset = (state.selected + 2).saturating_sub(visible) as u16;
    frame.render_widget(Paragraph::new(lines).block(block).scroll((offset, 0)), area);
}

fn tree_lines(
    node: &Node,
    prefix: &str,
    last: bool,
    root: bool,
    theme: &Theme,
    width: usize,
    out: &mut Vec<Line<'static>>,
) {
    let branch = if root {
        ""
    } else if last {
        "└─ "
    } else {
        "├─ "
    };
    let via = node
        .via
        .as_deref()
        .map(|v| format!(" via {v}"))
        .unwrap_or_default();
    let rows = match node.rows {
        1 => "1 row".to_string(),
        n => format!("{} rows", crate::wording::thousands(n)),
    };
    let mark = if node.broken.is_empty() && node.error.is_none() {
        ""
    } else {
        " ✗"
    };
    let style = if mark.is_empty() {
        Style::new()
    } else {
        severity_style(theme, Some(Severity::Error))
    };
    out.push(Line::from(vec![
        Span::raw(format!("{prefix}{branch}")),
        Span::styled(
            format!("{}{via}: {rows}{mark}", node.table),
            style.add_modifier(Modifier::BOLD),
        ),
    ]));
    let child_prefix = if root {
        String::new()
    } else {
        format!("{prefix}{}", if last { "   " } else { "│  " })
    };
    for (what, n) in &node.broken {
        out.push(Line::from(Span::styled(
            fit(&format!("{child_prefix}   ✗ {n} {what}"), width),
            severity_style(theme, Some(Severity::Error)),
        )));
    }
    if let Some(e) = &node.error {
        out.push(Line::from(Span::styled(
            format!("{child_prefix}   failed: {e}"),
            severity_style(theme, Some(Severity::Error)),
        )));
    }
    for (i, child) in node.children.iter().enumerate() {
        tree_lines(
            child,
            &child_prefix,
            i + 1 == node.children.len(),
            false,
            theme,
            width,
            out,
        );
    }
}
