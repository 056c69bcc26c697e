//! A check's offending rows with every column: widths from the content,
//! wide characters aligned, scrolled down (pages read on demand) and across.

use super::{dim, pane_block, popup, selected_style};
use crate::app::{App, RowsView};
use crate::checks::plan::Work;
use crate::sql::render::Predicate;
use crate::tui::config::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

/// The widest a column gets; longer values are cut with `…`.
const MAX_COLUMN: usize = 40;

/// Draws the rows view of check `check` over `area`.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme, check: usize, area: Rect) {
    let rect = popup(area, 96);
    frame.render_widget(Clear, rect);
    let view = &app.rows;
    let read = view.rows.len();
    let more = if view.next.is_some() {
        "more follow"
    } else {
        "all of them"
    };
    let title = format!(
        "Rows · {} · {} · {read} read, {more}",
        app.plan.checks[check].id,
        app.check_label(check)
    );
    let block = pane_block(title, true, theme);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    if inner.height < 2 {
        return;
    }
    let body_height = inner.height as usize - 1;
    let order = display_order(app, view);
    let mut lines = table_lines(view, &order, inner.width as usize, body_height, theme);
    while lines.len() < body_height {
        lines.push(Line::from(""));
    }
    lines.push(status_line(app, view, theme));
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The order columns are shown in: the row's key, then the columns the
/// check looked at (the reference, the compared or missing column), then the
/// parent's values, then every other column in table order.
fn display_order(app: &App, view: &RowsView) -> Vec<usize> {
    let mut first: Vec<&str> = Vec::new();
    if let Work::Rows(r) = &app.plan.checks[view.check].work {
        first.extend(r.key_columns.iter().map(String::as_str));
        match &r.predicate {
            Predicate::Orphan(l) => first.extend(l.pairs.iter().map(|(c, _)| c.as_str())),
            Predicate::Null(c) => first.push(c),
            Predicate::Differs { lookup, column, .. } => {
                first.extend(lookup.pairs.iter().map(|(c, _)| c.as_str()));
                first.push(column);
            }
        }
    }
    let mut order: Vec<usize> = Vec::new();
    for name in first {
        if let Some(i) = view.columns.iter().position(|c| c == name)
            && !order.contains(&i)
        {
            order.push(i);
        }
    }
    // The parent's values (`<parent>.<column>`) next to the child's.
    let parent = |c: &String| c.contains('.');
    for pass in [true, false] {
        for (i, c) in view.columns.iter().enumerate() {
            if parent(c) == pass && !order.contains(&i) {
                order.push(i);
            }
        }
    }
    order
}

/// Each column's width: the widest of its label and its values read, at
/// most [`MAX_COLUMN`].
fn widths(view: &RowsView) -> Vec<usize> {
    view.columns
        .iter()
        .enumerate()
        .map(|(i, label)| {
            view.rows
                .iter()
                .map(|r| r.get(i).and_then(|v| v.as_deref()).map_or(4, |v| v.width()))
                .chain(std::iter::once(label.width()))
                .max()
                .unwrap_or(4)
                .min(MAX_COLUMN)
        })
        .collect()
}

/// The header and the rows in view, from the first shown column on.
fn table_lines(
    view: &RowsView,
    order: &[usize],
    width: usize,
    height: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    if let Some(e) = &view.error {
        return vec![Line::from(Span::styled(
            format!("the rows could not be read: {e}"),
            Style::new().fg(theme.error),
        ))];
    }
    if view.rows.is_empty() {
        let text = if view.loading {
            "reading…"
        } else {
            "no offending rows now"
        };
        return vec![Line::from(Span::styled(text, dim(theme)))];
    }
    let widths = widths(view);
    let ordered: Vec<usize> = order.iter().map(|&i| widths[i]).collect();
    let shown: Vec<usize> = shown_columns(&ordered, view.column, width)
        .into_iter()
        .map(|at| order[at])
        .collect();
    let cells = |values: Vec<Option<&str>>| -> String {
        shown
            .iter()
            .map(|&i| pad(values.get(i).copied().flatten(), widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut header = cells(view.columns.iter().map(|c| Some(c.as_str())).collect());
    let last_shown = order.iter().position(|&i| Some(&i) == shown.last());
    if last_shown.is_some_and(|at| at + 1 < order.len()) {
        header.push_str("  →");
    }
    let mut lines = vec![Line::from(Span::styled(
        header,
        Style::new().add_modifier(Modifier::BOLD),
    ))];
    let rows_height = height.saturating_sub(1);
    let offset = view.selected.saturating_sub(rows_height.saturating_sub(1));
    for (i, row) in view.rows.iter().enumerate().skip(offset).take(rows_height) {
        let text = cells(
            row.iter()
                .map(|v| Some(v.as_deref().unwrap_or("NULL")))
                .collect(),
        );
        let style = if i == view.selected {
            selected_style()
        } else {
            Style::new()
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    lines
}

/// The columns that fit in `width` from column `first` on.
fn shown_columns(widths: &[usize], first: usize, width: usize) -> Vec<usize> {
    let mut used = 0;
    let mut shown = Vec::new();
    for (i, w) in widths.iter().enumerate().skip(first) {
        if !shown.is_empty() && used + 2 + w > width {
            break;
        }
        used += if shown.is_empty() { *w } else { 2 + w };
        shown.push(i);
    }
    shown
}

/// A value in exactly `width` columns: cut with `…`, or padded.
fn pad(value: Option<&str>, width: usize) -> String {
    let value = value.unwrap_or("");
    let mut out = String::new();
    if value.width() > width {
        for c in value.chars() {
            if out.width() + c.to_string().width() + 1 > width {
                break;
            }
            out.push(c);
        }
        out.push('…');
    } else {
        out.push_str(value);
    }
    let fill = width.saturating_sub(out.width());
    out.push_str(&" ".repeat(fill));
    out
}

/// The selected row in words: its place, and what makes it offend — the
/// reference that finds no parent, or both values that differ.
fn status_line(app: &App, view: &RowsView, theme: &Theme) -> Line<'static> {
    let Some(row) = view.rows.get(view.selected) else {
        return Line::from(Span::styled(
            "↑↓ rows · ←→ columns · y copies the query that lists them · Y the count",
            dim(theme),
        ));
    };
    let value = |label: &str| -> String {
        view.columns
            .iter()
            .position(|c| c == label)
            .and_then(|i| row.get(i))
            .map(|v| v.clone().unwrap_or_else(|| "NULL".into()))
            .unwrap_or_else(|| "?".into())
    };
    let why = match &app.plan.checks[view.check].work {
        Work::Rows(r) => match &r.predicate {
            Predicate::Orphan(lookup) => {
                let reference: Vec<String> = lookup
                    .pairs
                    .iter()
                    .map(|(c, _)| format!("{c} = {}", value(c)))
                    .collect();
                format!(
                    "{} finds no {} row",
                    reference.join(", "),
                    app.plan.label(&lookup.parent)
                )
            }
            Predicate::Null(column) => format!("{column} is NULL"),
            Predicate::Differs {
                lookup,
                column,
                parent_column,
                ..
            } => {
                let parent = r
                    .parent_label
                    .clone()
                    .unwrap_or_else(|| app.plan.label(&lookup.parent));
                format!(
                    "{column} here: {} · {parent}.{parent_column}: {}",
                    value(column),
                    value(&format!("{parent}.{parent_column}"))
                )
            }
        },
        _ => String::new(),
    };
    Line::from(vec![
        Span::styled(
            format!("row {} of {} read · ", view.selected + 1, view.rows.len()),
            dim(theme),
        ),
        Span::raw(why),
    ])
}
