//! Drawing: a pure function of the app state. Views read [`App`] and never change it.

mod detail;
mod findings;
mod lineage;
mod names;
mod panes;
mod rows;
mod screens;
mod table_list;

use super::config::{Keymap, Theme};
use crate::app::layout;
use crate::app::{App, Connection, Overlay, Pane, Screen};
use crate::checks::Severity;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Tabs};
use unicode_width::UnicodeWidthStr;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme, keymap: &Keymap) {
    let area = frame.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    let areas = layout::areas(area.width, area.height, app.screen, app.focus);
    header(frame, app, theme, areas.header);
    if let Some(tabs) = areas.tabs {
        tab_bar(frame, app, theme, tabs);
    }
    match app.screen {
        Screen::Dashboard => {
            for (pane, rect) in &areas.panes {
                panes::draw(frame, app, theme, *pane, *rect);
            }
        }
        Screen::Metrics => screens::metrics(frame, app, theme, areas.body),
        Screen::Lineage => lineage::draw(frame, app, theme, areas.body),
        Screen::Findings => findings::draw(frame, app, theme, areas.body),
    }
    footer(frame, app, theme, keymap, areas.footer);
    match &app.overlay {
        Some(Overlay::Help) => help(frame, app, theme, keymap, area),
        Some(Overlay::Check { check, scroll }) => {
            detail::check(frame, app, theme, *check, *scroll, area)
        }
        Some(Overlay::Table { node, scroll }) => {
            detail::table(frame, app, theme, *node, *scroll, area)
        }
        Some(Overlay::Fix { check, state }) => detail::fix(frame, app, theme, *check, state, area),
        Some(Overlay::Rows { check }) => rows::draw(frame, app, theme, *check, area),
        Some(Overlay::Statement { statement, scroll }) => {
            findings::statement(frame, app, theme, *statement, *scroll, area)
        }
        None => {}
    }
}

pub(crate) fn severity_style(theme: &Theme, severity: Option<Severity>) -> Style {
    match severity {
        Some(Severity::Error) => Style::new().fg(theme.error).add_modifier(Modifier::BOLD),
        Some(Severity::Warning) => Style::new().fg(theme.warning),
        Some(Severity::Info) => Style::new().fg(theme.info),
        None => Style::new().fg(theme.ok),
    }
}

pub(crate) fn selected_style() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

pub(crate) fn dim(theme: &Theme) -> Style {
    if theme.colored {
        Style::new().fg(theme.dim)
    } else {
        Style::new().add_modifier(Modifier::DIM)
    }
}

/// A bordered block; the focused one is drawn in the accent colour and bold.
pub(crate) fn pane_block<'a>(title: String, focused: bool, theme: &Theme) -> Block<'a> {
    let style = if focused {
        Style::new().fg(theme.accent).add_modifier(Modifier::BOLD)
    } else {
        Style::new()
    };
    Block::bordered()
        .title(Line::from(format!(" {title} ")))
        .border_style(style)
}

/// Cuts text to `width` columns, with `…` when cut (wide characters counted).
pub(crate) fn fit(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        out.push(ch);
        used += w;
    }
    out.push('…');
    out
}

/// `1,234` / `12.3k`-free: exact counts with separators.
pub(crate) fn count(n: Option<u64>) -> String {
    n.map(crate::wording::thousands)
        .unwrap_or_else(|| "–".into())
}

pub(crate) fn ms(value: Option<f64>) -> String {
    match value {
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
        None => "–".into(),
    }
}

/// A small bar chart of recent values: `▁▂▅█`.
pub(crate) fn sparkline(values: impl Iterator<Item = f64>, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let values: Vec<f64> = values.collect();
    let shown = &values[values.len().saturating_sub(width)..];
    let max = shown.iter().copied().fold(0.0_f64, f64::max);
    shown
        .iter()
        .map(|v| {
            if max <= 0.0 {
                BARS[0]
            } else {
                BARS[(((v / max) * 7.0).round() as usize).min(7)]
            }
        })
        .collect()
}

fn header(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let first = header_who(app, theme);
    let second = header_state(app, theme);
    let lines = if area.height >= 2 {
        vec![Line::from(first), Line::from(second)]
    } else {
        // One line: the state first, then who.
        let mut one = second;
        one.push(Span::raw(" · "));
        one.extend(first);
        vec![Line::from(one)]
    };
    frame.render_widget(Paragraph::new(lines), area);
}

/// The header's first line: who we are talking to, and the schema every
/// table shares (the panes leave it out of their rows).
fn header_who(app: &App, theme: &Theme) -> Vec<Span<'static>> {
    let info = &app.info;
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut first = vec![
        Span::styled("tether", bold.fg(theme.accent)),
        Span::raw(format!(" · {} {}", info.engine, info.server_version)),
        Span::raw(format!(" · {}", info.database)),
    ];
    if let Some(said) = names::Names::of(app).said() {
        first.push(Span::raw(format!(" · {said}")));
    }
    if !info.address.is_empty() {
        first.push(Span::raw(format!(" · {}", info.address)));
    }
    if let Some(p) = &info.profile {
        first.push(Span::raw(format!(" · profile {p}")));
    }
    if info.demo {
        first.push(Span::styled(
            " · demo database",
            Style::new().fg(theme.warning),
        ));
    }
    first
}

/// The header's second line: the connection, the refresh (how much of it
/// is done while it runs) and the findings by severity.
fn header_state(app: &App, theme: &Theme) -> Vec<Span<'static>> {
    let (state, state_style) = match &app.connection {
        Connection::Connected if app.refresh.running => {
            let plan = 0..app.checks.len();
            let done = panes::checks_done(app, plan).unwrap_or_default();
            (
                format!("● refreshing… {done}"),
                Style::new().fg(theme.accent),
            )
        }
        Connection::Connected => ("● connected".to_string(), Style::new().fg(theme.ok)),
        Connection::Lost { error, attempt, .. } => (
            format!("✗ connection lost, reconnecting (attempt {attempt}): {error}"),
            Style::new().fg(theme.error).add_modifier(Modifier::BOLD),
        ),
    };
    let mut second = Vec::new();
    // While the database is away the values shown are the last ones read:
    // said first, so that a long reason does not push it off the line.
    if let Some(age) = app.stale_for() {
        second.push(Span::styled(
            format!("stale: values {} old · ", age_text(age)),
            Style::new().fg(theme.warning).add_modifier(Modifier::BOLD),
        ));
    }
    second.push(Span::styled(state, state_style));
    if let Some(at) = app.refresh.last_finished {
        let took = app
            .refresh
            .last_elapsed
            .map(|d| format!(" in {:.2} s", d.as_secs_f64()))
            .unwrap_or_default();
        second.push(Span::raw(format!(
            " · refreshed {} UTC{took}",
            crate::clock::time_of_day(at)
        )));
    }
    second.push(Span::raw(format!(
        " · every {} s",
        app.refresh.interval.as_secs()
    )));
    if app.refresh.paused {
        second.push(Span::styled(
            " · paused",
            Style::new().fg(theme.warning).add_modifier(Modifier::BOLD),
        ));
    }
    second.extend(header_severities(app, theme));
    second
}

/// An age in words: `42 s`, `3 min 05 s`, `2 h 10 min`.
pub(crate) fn age_text(age: std::time::Duration) -> String {
    let s = age.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
    }
}

/// ` · 16 errors 3 warnings 1 info`, each in its severity's style.
fn header_severities(app: &App, theme: &Theme) -> Vec<Span<'static>> {
    let (e, w, i) = app.severity_counts();
    let mut spans = vec![Span::raw(" ·")];
    for (severity, text) in [
        (Severity::Error, crate::wording::plural(e as u64, "error")),
        (
            Severity::Warning,
            crate::wording::plural(w as u64, "warning"),
        ),
        (Severity::Info, format!("{i} info")),
    ] {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(text, severity_style(theme, Some(severity))));
    }
    spans
}

fn tab_bar(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let titles: Vec<Line> = Pane::ALL.iter().map(|p| Line::from(p.title())).collect();
    let selected = match app.screen {
        Screen::Dashboard => Pane::ALL.iter().position(|p| *p == app.focus),
        _ => None,
    };
    let tabs = Tabs::new(titles)
        .select(selected)
        .highlight_style(
            Style::new()
                .fg(theme.accent)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        )
        .divider("│");
    frame.render_widget(tabs, area);
}

fn footer(frame: &mut Frame, app: &App, theme: &Theme, keymap: &Keymap, area: Rect) {
    let line = if let Some(note) = &app.note {
        Line::from(Span::styled(note.clone(), Style::new().fg(theme.ok)))
    } else if let Some(hint) = confirm_hint(app) {
        Line::from(Span::styled(hint, Style::new().fg(theme.warning)))
    } else if app.typing() {
        Line::from("type, Enter to finish, Esc to stop")
    } else {
        let k = |name: &str, what: &str| format!("{} {what}", keymap.keys_for(name));
        let mut keys = vec![k("quit", "quit"), k("help", "help")];
        match (&app.overlay, app.screen) {
            (Some(overlay), _) => keys.extend(overlay_hints(app, overlay, &k)),
            (None, Screen::Dashboard) => keys.extend(dashboard_hints(app, keymap, &k)),
            (None, Screen::Lineage) => keys.extend(lineage::hints(app, keymap)),
            (None, Screen::Metrics) => keys.push(k("back", "back")),
            (None, Screen::Findings) => keys.extend([
                k("open", "open"),
                k("sort", "sort"),
                k("input", "filter"),
                k("back", "back"),
            ]),
        }
        Line::from(Span::styled(keys.join(" · "), dim(theme)))
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The keys an overlay answers to.
fn overlay_hints(app: &App, overlay: &Overlay, k: &dyn Fn(&str, &str) -> String) -> Vec<String> {
    let mut keys = Vec::new();
    match overlay {
        Overlay::Check { check, .. } => {
            if matches!(
                app.plan.checks[*check].work,
                crate::checks::plan::Work::Rows(_)
            ) {
                keys.push(k("open", "every row"));
            }
            keys.extend([k("copy", "copy SQL"), k("up", "scroll")]);
            if app.plan.checks[*check].id == crate::checks::CheckId::Orphans {
                keys.push(k("fix", "fix"));
            }
            keys.push(k("back", "back"));
            // Last: on a narrow screen it is the one cut (`?` lists it).
            if app.timeline.check == Some(*check) {
                keys.push(k("timeline", "when"));
            }
        }
        Overlay::Rows { .. } => keys.extend([
            "↑↓ rows".to_string(),
            "←→ columns".to_string(),
            k("copy", "copy list query"),
            k("copy_count", "copy count query"),
            k("back", "back"),
        ]),
        Overlay::Fix {
            state: crate::app::FixState::Preview(_),
            ..
        } => {
            if app.writes.word().is_some() {
                keys.extend([k("apply", "apply"), k("back", "back")]);
            } else {
                keys.extend([
                    k("back", "back"),
                    crate::app::APPLY_NEEDS_WRITES.to_string(),
                ]);
            }
        }
        _ => keys.push(k("back", "back")),
    }
    keys
}

/// The dashboard's keys: panes, refreshes, the focused pane's own, screens.
fn dashboard_hints(app: &App, keymap: &Keymap, k: &dyn Fn(&str, &str) -> String) -> Vec<String> {
    let mut keys = vec![
        k("next_pane", "pane"),
        k("open", "open"),
        k("refresh", "refresh"),
        k("pause", "pause"),
        format!(
            "{}/{} interval",
            keymap.keys_for("interval_up"),
            keymap.keys_for("interval_down")
        ),
    ];
    match app.focus {
        Pane::Graph => keys.push(k("input", "filter")),
        Pane::Orphans => keys.push(k("sort", "sort")),
        _ => {}
    }
    keys.extend([
        k("findings", "findings"),
        k("metrics", "metrics"),
        k("lineage", "lineage"),
    ]);
    keys
}

/// While a fix's confirmation is typed: the word to type and what Enter and
/// Esc do.
fn confirm_hint(app: &App) -> Option<String> {
    if !app.confirming_fix() {
        return None;
    }
    let word = app.writes.word().unwrap_or_default();
    Some(format!(
        "type {word} then Enter to apply · Enter alone does not apply · Esc cancels"
    ))
}

/// Rows (samples, metric results) as aligned lines, the header underlined,
/// each cut to `width`.
pub(crate) fn rows_lines(
    rows: &[crate::db::SampleRow],
    width: usize,
    empty: &str,
) -> Vec<Line<'static>> {
    let lines = crate::report::rows::aligned(rows);
    let Some((header, body)) = lines.split_first() else {
        return vec![Line::from(format!("  {empty}"))];
    };
    let mut out = vec![Line::from(Span::styled(
        fit(&format!("  {header}"), width),
        Style::new().add_modifier(Modifier::UNDERLINED),
    ))];
    out.extend(
        body.iter()
            .map(|l| Line::from(fit(&format!("  {l}"), width))),
    );
    out
}

/// A centred rectangle `percent` of `area`, at least `min` cells where possible.
pub(crate) fn popup(area: Rect, percent: u16) -> Rect {
    let width = (area.width * percent / 100).max(area.width.min(40));
    let height = (area.height * percent / 100).max(area.height.min(10));
    area.centered(Constraint::Length(width), Constraint::Length(height))
}

/// The keys and what they do: two columns when both fit whole, else one,
/// scrolled with the arrows.
fn help(frame: &mut Frame, app: &App, theme: &Theme, keymap: &Keymap, area: Rect) {
    let rect = popup(area, 90);
    frame.render_widget(Clear, rect);
    let block = pane_block("Keys".into(), true, theme);
    let inner = block.inner(rect);
    let width = keymap
        .help
        .iter()
        .map(|(k, _)| k.width())
        .max()
        .unwrap_or(0);
    let longest = keymap
        .help
        .iter()
        .map(|(_, w)| w.width())
        .max()
        .unwrap_or(0);
    let entry = |(keys, what): &(String, &'static str)| {
        Line::from(vec![
            Span::styled(
                format!("{keys:<width$}  "),
                Style::new().fg(theme.accent).add_modifier(Modifier::BOLD),
            ),
            Span::raw(*what),
        ])
    };
    let footnote = Line::from(Span::styled(
        "Mouse: click a pane or row; the wheel scrolls. Settings: ~/.config/tether/config.toml",
        dim(theme),
    ));
    let rows = inner.height.saturating_sub(2) as usize;
    let two_fit = inner.width as usize >= 2 * (width + 2 + longest) + 2;
    if keymap.help.len() > rows && two_fit {
        frame.render_widget(block, rect);
        let per_column = keymap.help.len().div_ceil(2);
        let areas = ratatui::layout::Layout::horizontal([Constraint::Ratio(1, 2); 2]).split(inner);
        for (i, (chunk, area)) in keymap.help.chunks(per_column).zip(areas.iter()).enumerate() {
            let mut lines: Vec<Line> = chunk.iter().map(entry).collect();
            if i == 1 {
                lines.extend([Line::from(""), footnote.clone()]);
            }
            frame.render_widget(Paragraph::new(lines), *area);
        }
        return;
    }
    let mut lines: Vec<Line> = keymap.help.iter().map(entry).collect();
    lines.extend([Line::from(""), footnote]);
    detail::render_scrolled(
        frame,
        block,
        lines,
        app.help_scroll,
        rect,
        &app.scroll_limit,
    );
}

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_findings;
#[cfg(test)]
mod tests_fix;
#[cfg(test)]
mod tests_lineage;
#[cfg(test)]
mod tests_no_color;
#[cfg(test)]
mod tests_panes;
#[cfg(test)]
mod tests_rows;
#[cfg(test)]
mod tests_search;
#[cfg(test)]
mod tests_table;
#[cfg(test)]
mod tests_timeline;
