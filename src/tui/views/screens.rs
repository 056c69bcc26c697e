//! Full screens: the profile's metrics (the lineage has a module of its own).

use super::{dim, pane_block, rows_lines, severity_style};
use crate::app::App;
use crate::checks::Severity;
use crate::tui::config::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

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
