//! A pane's rows as a table that fits: columns dropped when narrow, the
//! filling column's width known so names can be shortened to it, the rows
//! scrolled so the selected one shows, and at the pane's foot the selected
//! row in full with how many rows are out of view.

use super::super::names::shorten;
use super::super::{dim, fit, selected_style};
use crate::tui::config::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};
use unicode_width::UnicodeWidthStr;

/// A column: title, width (0 fills), kept when the pane is narrow.
pub(super) type Column<'a> = (&'a str, u16, bool);

/// Panes narrower than this drop their secondary columns.
pub(super) const WIDE: u16 = 72;

/// A column as wide as its title and its widest cell.
pub(super) fn content_width<'a>(title: &str, cells: impl IntoIterator<Item = &'a String>) -> u16 {
    cells
        .into_iter()
        .map(|c| c.width())
        .chain([title.width()])
        .max()
        .unwrap_or(0) as u16
}

/// The columns a pane keeps, wide or narrow.
fn kept(columns: &[Column], wide: bool) -> Vec<bool> {
    columns.iter().map(|c| wide || c.2).collect()
}

/// How wide the filling column is in a table `width` columns wide.
pub(super) fn fill_width(columns: &[Column], wide: bool, width: u16) -> usize {
    let shown: Vec<&Column> = columns
        .iter()
        .zip(kept(columns, wide))
        .filter(|(_, k)| *k)
        .map(|(c, _)| c)
        .collect();
    let fixed: usize = shown.iter().map(|c| c.1 as usize).sum();
    (width as usize).saturating_sub(fixed + shown.len().saturating_sub(1))
}

/// A table that drops its less important columns when the pane is narrow.
pub(super) fn table<'a>(rows: Vec<Vec<Cell<'a>>>, columns: &[Column<'a>], wide: bool) -> Table<'a> {
    let keep = kept(columns, wide);
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

/// A row's first cell: its glyph, then its label shortened in the middle
/// to fit `width` columns.
pub(super) fn label_cell(
    mark: Span<'static>,
    label: &str,
    style: Style,
    width: usize,
) -> Cell<'static> {
    let room = width.saturating_sub(mark.content.width() + 1);
    Cell::from(Line::from(vec![
        mark,
        Span::raw(" "),
        Span::styled(shorten(label, room), style),
    ]))
}

/// `↑ 3 more`, `↓ 12 more`, `↑ 3 ↓ 12 more`: rows out of view.
pub(super) fn hidden_text(above: usize, below: usize) -> String {
    match (above, below) {
        (0, 0) => String::new(),
        (a, 0) => format!("↑ {a} more"),
        (0, b) => format!("↓ {b} more"),
        (a, b) => format!("↑ {a} ↓ {b} more"),
    }
}

/// At most this many lines say a selected row inside its pane.
const FOOT_LINES: usize = 3;

/// Where a pane says its selected row in full: in its bottom border, beside
/// how many rows are out of view, when one of its sayings fits there; else
/// the first, the fullest, on lines just above the border.
pub(super) struct Foot {
    /// In the bottom border.
    border: String,
    /// Else on these lines, inside the pane.
    pub(super) lines: Vec<String>,
}

impl Foot {
    /// For a pane `width` columns wide whose border says `hidden`;
    /// `sayings` are the selected row in full, then shorter ways to say it
    /// that are enough in the border.
    pub(super) fn new(width: u16, sayings: &[String], hidden: &str) -> Foot {
        let beside = if hidden.is_empty() {
            0
        } else {
            hidden.width() + 3
        };
        // Two corners, and a space either side of the saying.
        let room = (width as usize).saturating_sub(4 + beside);
        if let Some(s) = sayings.iter().find(|s| s.width() <= room) {
            return Foot {
                border: s.clone(),
                lines: Vec::new(),
            };
        }
        let full = sayings.first().map(String::as_str).unwrap_or_default();
        Foot {
            border: String::new(),
            lines: wrap(full, width.saturating_sub(2) as usize, FOOT_LINES),
        }
    }

    /// Lines it takes inside the pane.
    pub(super) fn height(&self) -> u16 {
        self.lines.len() as u16
    }

    /// `block` with the selected row and the rows out of view in its
    /// bottom border.
    pub(super) fn block<'a>(&self, block: Block<'a>, hidden: &str, theme: &Theme) -> Block<'a> {
        let mut block = block;
        if !self.border.is_empty() {
            block = block.title_bottom(Line::from(format!(" {} ", self.border)));
        }
        if !hidden.is_empty() {
            block = block.title_bottom(
                Line::from(Span::styled(format!(" {hidden} "), dim(theme))).right_aligned(),
            );
        }
        block
    }

    pub(super) fn paragraph(&self, theme: &Theme) -> Paragraph<'static> {
        Paragraph::new(
            self.lines
                .iter()
                .map(|l| Line::from(Span::styled(l.clone(), dim(theme))))
                .collect::<Vec<_>>(),
        )
    }
}

/// `text` on lines of `width` columns, broken at spaces (a word wider than
/// a line goes on over the next), at most `most` lines, the last one cut
/// with `…` when some is left over.
fn wrap(text: &str, width: usize, most: usize) -> Vec<String> {
    if width == 0 || most == 0 {
        return Vec::new();
    }
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let needed = if line.is_empty() {
            word.width()
        } else {
            line.width() + 1 + word.width()
        };
        if needed <= width {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        // A word wider than a line goes on over the next ones, broken
        // after a `_`, `.` or `:` where one is in the line's second half.
        let mut rest = word;
        while rest.width() > width {
            let cut = first_columns(rest, width);
            let at = cut
                .rfind(['_', '.', ':'])
                .map(|i| i + 1)
                .filter(|&i| i > cut.len() / 2)
                .unwrap_or(cut.len());
            lines.push(rest[..at].to_string());
            rest = &rest[at..];
        }
        line.push_str(rest);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if lines.len() > most {
        let rest = lines.split_off(most - 1).join(" ");
        lines.push(fit(&rest, width));
    }
    lines
}

/// The longest start of `text` in `width` columns (at least one character).
fn first_columns(text: &str, width: usize) -> &str {
    let mut used = 0;
    let end = text
        .char_indices()
        .find(|(i, c)| {
            used += unicode_width::UnicodeWidthChar::width(*c).unwrap_or(0);
            used > width && *i > 0
        })
        .map_or(text.len(), |(i, _)| i);
    &text[..end]
}

/// A pane's rows, the selected one, and the ways to say it in full.
pub(super) struct List<'a> {
    pub(super) table: Table<'a>,
    pub(super) len: usize,
    pub(super) selected: usize,
    /// The selected row in full, then shorter ways to say it.
    pub(super) sayings: Vec<String>,
}

/// Where the rows start so that the selected one shows among `visible`:
/// the first shown and how many are out of view above and below.
fn scrolled(len: usize, selected: usize, visible: usize) -> (usize, usize, usize) {
    let selected = selected.min(len.saturating_sub(1));
    let offset = selected.saturating_sub(visible.saturating_sub(1));
    (offset, offset, len.saturating_sub(offset + visible))
}

/// Draws a pane: its block, `top` (a summary), then its rows scrolled so
/// that the selected one shows, then the selected row in full; the bottom
/// border says how many rows are out of view.
/// Returns where the rows were drawn, for a click to find them.
pub(super) fn draw_list(
    frame: &mut Frame,
    area: Rect,
    block: Block,
    top: Vec<Line>,
    list: List,
    theme: &Theme,
) -> crate::app::PaneRows {
    let inner = block.inner(area);
    // The table's header line is not a row.
    let rows_height = inner.height.saturating_sub(top.len() as u16 + 1) as usize;
    let (_, above, below) = scrolled(list.len, list.selected, rows_height);
    let foot = Foot::new(area.width, &list.sayings, &hidden_text(above, below));
    // Lines inside for the saying hide more rows (never fewer).
    let visible = rows_height.saturating_sub(foot.height() as usize);
    let (offset, above, below) = scrolled(list.len, list.selected, visible);
    let hidden = hidden_text(above, below);
    let [top_area, rows_area, foot_area] = Layout::vertical([
        Constraint::Length(top.len() as u16),
        Constraint::Min(0),
        Constraint::Length(foot.height()),
    ])
    .areas(inner);
    frame.render_widget(foot.block(block, &hidden, theme), area);
    frame.render_widget(Paragraph::new(top), top_area);
    let mut state = TableState::default()
        .with_offset(offset)
        .with_selected(Some(list.selected.min(list.len.saturating_sub(1))));
    frame.render_stateful_widget(list.table, rows_area, &mut state);
    frame.render_widget(foot.paragraph(theme), foot_area);
    // Below the table's header line.
    crate::app::PaneRows {
        y: rows_area.y + 1,
        height: rows_area
            .height
            .saturating_sub(1)
            .min(list.len.saturating_sub(offset) as u16),
        offset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_foot_wraps_at_spaces_and_goes_on_over_long_words() {
        assert_eq!(wrap("a bc def", 4, 3), vec!["a bc", "def"]);
        assert_eq!(
            wrap("custom:completed_flow_with_running_discovery", 20, 3),
            vec!["custom:completed_", "flow_with_running_", "discovery"]
        );
        assert_eq!(wrap("one two three four", 5, 2), vec!["one", "two …"]);
        assert!(wrap("x", 0, 3).is_empty());
    }

    #[test]
    fn the_selected_row_stays_in_view() {
        assert_eq!(scrolled(28, 0, 6), (0, 0, 22));
        assert_eq!(scrolled(28, 27, 6), (22, 22, 0));
        assert_eq!(scrolled(28, 99, 6), (22, 22, 0));
        assert_eq!(scrolled(3, 2, 6), (0, 0, 0));
        assert_eq!(scrolled(0, 0, 6), (0, 0, 0));
    }
}
