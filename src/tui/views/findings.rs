//! The findings screen (every finding of the run, grouped by severity then
//! check) and the detail of a statement's own findings.

use super::{count, dim, pane_block, popup, selected_style, severity_style};
use crate::app::{App, FindingAt};
use crate::checks::{CheckId, Severity};
use crate::findings::Finding;
use crate::tui::config::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

/// The glyph that says a severity without colour.
pub(crate) fn glyph(severity: Option<Severity>) -> &'static str {
    match severity {
        Some(Severity::Error) => "✗",
        Some(Severity::Warning) => "!",
        Some(Severity::Info) => "i",
        None => "✓",
    }
}

fn plural_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "errors",
        Severity::Warning => "warnings",
        Severity::Info => "info",
    }
}

/// One line of the list: a group heading, or a finding (selectable).
enum Row<'a> {
    Severity(Severity, usize),
    Check(CheckId, usize),
    Finding(usize, &'a Finding),
}

/// The list's lines in order: each severity's heading, each check's, then
/// its findings; a finding carries its place among the selectable rows.
fn rows<'a>(app: &'a App, shown: &[FindingAt]) -> Vec<Row<'a>> {
    let findings: Vec<&Finding> = shown.iter().filter_map(|&at| app.finding(at)).collect();
    let mut out = Vec::new();
    let mut last: Option<(Severity, CheckId)> = None;
    for (i, f) in findings.iter().enumerate() {
        if last.map(|(s, _)| s) != Some(f.severity) {
            let n = findings.iter().filter(|g| g.severity == f.severity).count();
            out.push(Row::Severity(f.severity, n));
        }
        if last != Some((f.severity, f.check)) {
            let n = findings
                .iter()
                .filter(|g| g.severity == f.severity && g.check == f.check)
                .count();
            out.push(Row::Check(f.check, n));
        }
        last = Some((f.severity, f.check));
        out.push(Row::Finding(i, f));
    }
    out
}

/// The findings screen over `area`.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let shown = app.finding_rows();
    let selected = app.findings.selected.min(shown.len().saturating_sub(1));
    let filter = app.filter_text();
    let mut title = format!(
        "Findings · {}",
        crate::wording::plural(shown.len() as u64, "finding")
    );
    if !filter.is_empty() {
        title.push_str(&format!(" matching “{filter}”"));
    }
    title.push_str(&format!(
        " · by severity, check, {}",
        app.findings.sort.name()
    ));
    let mut block = pane_block(title, true, theme);
    // The selected finding in full, as far as the border goes.
    if let Some(f) = shown.get(selected).and_then(|&at| app.finding(at)) {
        let full = format!(" {} · {} ", f.location(), f.message);
        let room = area.width.saturating_sub(4) as usize;
        block = block.title_bottom(Line::from(fit(&full, room)));
    }
    let inner = block.inner(area);
    let width = inner.width as usize;
    let rows = rows(app, &shown);
    let names = super::names::Names::of(app);
    // The location column: as wide as the longest, at most 45% of the line.
    let location_width = rows
        .iter()
        .filter_map(|r| match r {
            Row::Finding(_, f) => Some(names.text(&f.location()).width()),
            _ => None,
        })
        .max()
        .unwrap_or(0)
        .min(width * 45 / 100)
        .max(10);
    let mut lines: Vec<Line> = rows
        .iter()
        .map(|row| row_line(row, selected, (location_width, width), &names, theme))
        .collect();
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            if filter.is_empty() {
                "no findings: every check holds".to_string()
            } else {
                format!("no finding matches “{filter}” (Esc clears the filter)")
            },
            Style::new().fg(theme.ok),
        )));
    }
    // Keep the selected finding in view, with its headings when they fit.
    let at = rows
        .iter()
        .position(|r| matches!(r, Row::Finding(i, _) if *i == selected))
        .unwrap_or(0);
    let height = inner.height as usize;
    let offset = at.saturating_sub(height.saturating_sub(1));
    let below = lines.len().saturating_sub(offset + height);
    if below > 0 {
        block = block.title_bottom(Line::from(format!(" ↓ {below} more ")).right_aligned());
    }
    frame.render_widget(block, area);
    let visible: Vec<Line> = lines.into_iter().skip(offset).take(height).collect();
    frame.render_widget(Paragraph::new(visible), inner);
}

/// One line of the list; `widths` are the location column's and the line's.
fn row_line(
    row: &Row,
    selected: usize,
    (location_width, width): (usize, usize),
    names: &super::names::Names,
    theme: &Theme,
) -> Line<'static> {
    match row {
        Row::Severity(s, n) => Line::from(Span::styled(
            format!("{} {} ({n})", glyph(Some(*s)), plural_severity(*s)),
            severity_style(theme, Some(*s)).add_modifier(Modifier::BOLD),
        )),
        Row::Check(id, n) => Line::from(Span::styled(
            format!("  {id} ({n})"),
            Style::new().add_modifier(Modifier::BOLD),
        )),
        Row::Finding(i, f) => {
            let counted = f.count_text();
            let location =
                super::table_list::middle_cut(&names.text(&f.location()), location_width);
            let pad = " ".repeat(location_width.saturating_sub(location.width()));
            let location = format!("{location}{pad}");
            let text = format!(
                "    {} {location}  {counted:>9}  {}",
                glyph(Some(f.severity)),
                f.message
            );
            let text = fit(&text, width);
            let style = if *i == selected {
                selected_style()
            } else {
                Style::new()
            };
            Line::from(Span::styled(text, style))
        }
    }
}

/// `text` cut to `width` columns, an ellipsis marking the cut.
fn fit(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        if out.width() + c.to_string().width() + 1 > width {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// A statement's own findings (`slow_check`), its latencies and its SQL.
pub fn statement(
    frame: &mut Frame,
    app: &App,
    theme: &Theme,
    statement: usize,
    scroll: u16,
    area: Rect,
) {
    let rect = popup(area, 90);
    frame.render_widget(Clear, rect);
    let plan_statement = &app.plan.statements[statement];
    let view = &app.statements[statement];
    let block = pane_block(format!("Statement {}", plan_statement.key), true, theme);
    let width = rect.width.saturating_sub(2) as usize;
    let mut lines = vec![Line::from(format!(
        "{} · last {} ms · p95 {} ms · threshold {} ms · {}",
        plan_statement.category,
        super::ms(view.last()),
        super::ms(view.percentile(95.0)),
        count(Some(plan_statement.threshold_ms)),
        crate::wording::plural(plan_statement.checks.len() as u64, "check")
    ))];
    for f in &view.findings {
        lines.extend(super::detail::finding_lines(f, width, theme));
    }
    if view.findings.is_empty() {
        lines.push(Line::from(Span::styled(
            "no findings of its own",
            Style::new().fg(theme.ok),
        )));
    }
    lines.extend(super::detail::sql_lines(
        "SQL that ran",
        app.plan.sql(statement).as_str(),
        dim(theme),
    ));
    super::detail::render_scrolled(frame, block, lines, scroll, rect, &app.scroll_limit);
}
