//! The graph pane while `/` filters it: the tables the filter matches, exact
//! names first, each with its worst finding, findings and rows.

use super::findings::glyph;
use super::{count, pane_block, selected_style, severity_style};
use crate::app::{App, Pane};
use crate::tui::config::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

/// Draws the matching tables over the graph pane's `area`.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let matches = app.table_matches();
    let filter = app.filter_text();
    let title = match matches.len() {
        0 => format!("Flow graph · no table matches “{filter}”"),
        1 => format!("Flow graph · 1 table matches “{filter}”"),
        n => format!("Flow graph · {n} tables match “{filter}” · n/N next"),
    };
    let mut block = pane_block(title, app.focus == Pane::Graph, theme);
    let inner = block.inner(area);
    let height = inner.height as usize;
    let selected = matches
        .iter()
        .position(|m| m.node == app.selected_node)
        .unwrap_or(0);
    block = border_notes(block, app, &matches, selected, height.saturating_sub(1));
    frame.render_widget(block, area);
    if height == 0 {
        return;
    }
    if matches.is_empty() {
        let line = Line::from(Span::styled(
            "no match: Esc clears the filter",
            Style::new().fg(theme.warning),
        ));
        frame.render_widget(Paragraph::new(line), inner);
        return;
    }
    // Columns: glyph, name (what is left, names cut in the middle),
    // findings, and rows when the pane is wide enough.
    let width = inner.width as usize;
    let with_rows = width >= 56;
    let rows_width = if with_rows { 2 + 11 } else { 0 };
    let name_width = width.saturating_sub(2 + 2 + 8 + rows_width).max(8);
    let mut heading = format!("  {:<name_width$}  {:>8}", "table", "findings");
    if with_rows {
        heading.push_str(&format!("  {:>11}", "rows"));
    }
    let header = Line::from(Span::styled(
        heading,
        Style::new().add_modifier(Modifier::BOLD),
    ));
    let height = height - 1;
    let offset = selected.saturating_sub(height.saturating_sub(1));
    let mut lines = vec![header];
    lines.extend(
        matches
            .iter()
            .enumerate()
            .skip(offset)
            .take(height)
            .map(|(i, m)| {
                let node = &app.graph.nodes[m.node];
                let name = middle_cut(&node.label, name_width);
                let pad = " ".repeat(name_width.saturating_sub(name.width()));
                let mut text = format!("{} {name}{pad}  {:>8}", glyph(m.worst), m.findings);
                if with_rows {
                    let rows = node
                        .rows
                        .map_or("?".into(), |r| count(Some(r.max(0) as u64)));
                    text.push_str(&format!("  {rows:>11}"));
                }
                let style = if i == selected {
                    selected_style()
                } else {
                    severity_style(theme, m.worst)
                };
                Line::from(Span::styled(text, style))
            }),
    );
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The bottom border: the selected table in full, and how many matches are
/// below the `list_height` rows shown.
fn border_notes<'b>(
    mut block: ratatui::widgets::Block<'b>,
    app: &App,
    matches: &[crate::app::TableMatch],
    selected: usize,
    list_height: usize,
) -> ratatui::widgets::Block<'b> {
    if let Some(m) = matches.get(selected) {
        block = block.title_bottom(Line::from(format!(" {} ", app.graph.nodes[m.node].label)));
    }
    let below = matches
        .len()
        .saturating_sub(selected.saturating_sub(list_height.saturating_sub(1)) + list_height);
    if below > 0 {
        block = block.title_bottom(Line::from(format!(" ↓ {below} more ")).right_aligned());
    }
    block
}

/// `text` in at most `width` columns: cut in the middle with `…`, so that
/// its start and its end stay readable.
pub(crate) fn middle_cut(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    if width <= 1 {
        return "…".chars().take(width).collect();
    }
    let keep = width - 1;
    let (head_width, tail_width) = (keep - keep / 2, keep / 2);
    let mut head = String::new();
    for c in text.chars() {
        if head.width() + c.to_string().width() > head_width {
            break;
        }
        head.push(c);
    }
    let mut tail: Vec<char> = Vec::new();
    let mut tail_cols = 0;
    for c in text.chars().rev() {
        let w = c.to_string().width();
        if tail_cols + w > tail_width {
            break;
        }
        tail_cols += w;
        tail.push(c);
    }
    tail.reverse();
    format!("{head}…{}", tail.into_iter().collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::middle_cut;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn names_are_cut_in_the_middle() {
        assert_eq!(middle_cut("artist", 10), "artist");
        assert_eq!(
            middle_cut("crewai_flow_state_extensions", 15),
            "crewai_…ensions"
        );
        let wide = middle_cut("表名表名表名表名", 7);
        assert!(wide.width() <= 7, "{wide}");
    }
}
