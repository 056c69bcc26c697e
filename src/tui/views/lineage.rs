//! The lineage screen: recent root rows to pick from, each marked with
//! whether its lineage holds; the tree of the chosen root with one table
//! selected; and that table's rows in the lineage, the broken ones marked.

use super::{dim, fit, pane_block, selected_style, severity_style};
use crate::app::{App, LineageRows, LineageState, Loadable};
use crate::checks::Severity;
use crate::lineage::{Node, NodeRows, RootRow};
use crate::tui::config::{Keymap, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

/// The widest a column of values gets; longer values are cut with `…`.
const MAX_COLUMN: usize = 40;

/// Draws the lineage screen in `area`.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let state = &app.lineage;
    let block = pane_block(title(app), true, theme);
    let mut inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    if let Some(input) = &state.input {
        let line = Line::from(vec![
            Span::styled("id: ", Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(format!("{input}▏")),
        ]);
        frame.render_widget(Paragraph::new(line), Rect { height: 1, ..inner });
        let taken = inner.height.min(2);
        inner.y += taken;
        inner.height -= taken;
    }
    let lines = match (&state.rows, &state.key) {
        (Some(rows), _) => rows_lines(app, rows, theme, inner),
        (None, Some(_)) => tree_lines(state, theme, inner),
        (None, None) => picker_lines(app, theme, inner),
    };
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The screen's title: the root row shown (and the table whose rows are
/// open), or what to pick.
fn title(app: &App) -> String {
    let root = app.plan.lineage_root.as_ref().map(|t| app.plan.label(t));
    let state = &app.lineage;
    let table = match (&state.rows, &state.tree) {
        (Some(rows), Loadable::Loaded(tree)) => tree.at(&rows.position).map(|n| n.table.as_str()),
        _ => None,
    };
    match (&state.key, &root, table) {
        (Some(key), Some(root), Some(table)) => format!("Lineage of {root} {key} · {table}"),
        (Some(key), Some(root), None) => format!("Lineage of {root} {key}"),
        (None, Some(root), _) => format!("Lineage · pick a row of {root}"),
        (_, None, _) => "Lineage".to_string(),
    }
}

/// What the footer says the keys do, in each state of the screen.
pub fn hints(app: &App, keymap: &Keymap) -> Vec<String> {
    let k = |name: &str, what: &str| format!("{} {what}", keymap.keys_for(name));
    let state = &app.lineage;
    if state.rows.is_some() {
        vec![
            "↑↓ rows".to_string(),
            "←→ columns".to_string(),
            k("back", "back to the tree"),
        ]
    } else if state.key.is_some() {
        vec![
            "↑↓ table".to_string(),
            k("open", "its rows"),
            k("back", "back to the roots"),
        ]
    } else {
        vec![
            k("open", "open its lineage"),
            k("input", "type an id"),
            k("back", "back"),
        ]
    }
}

/// `text` in exactly `width` columns: cut with `…`, or padded.
fn pad(text: &str, width: usize) -> String {
    let cut = fit(text, width);
    let fill = width.saturating_sub(cut.width());
    format!("{cut}{}", " ".repeat(fill))
}

/// Cells side by side, two spaces apart, each padded to its width, the
/// line cut at `width`.
fn cells_line(cells: Vec<(String, usize, Style)>, width: usize) -> Line<'static> {
    let mut spans = Vec::new();
    let mut used = 0;
    for (i, (text, cell_width, style)) in cells.into_iter().enumerate() {
        let gap = if i == 0 { 0 } else { 2 };
        if used + gap >= width {
            break;
        }
        let text = pad(&text, cell_width.min(width - used - gap));
        used += gap + text.width();
        if gap > 0 {
            spans.push(Span::styled("  ", style));
        }
        spans.push(Span::styled(text, style));
    }
    Line::from(spans)
}

/// A root's mark in the picker: (glyph, style).
fn mark_glyph(mark: Option<&Loadable<u64>>, theme: &Theme) -> (String, Style) {
    match mark {
        Some(Loadable::Loading) => ("…".into(), dim(theme)),
        Some(Loadable::Loaded(0)) => ("✓".into(), severity_style(theme, None)),
        Some(Loadable::Loaded(n)) => (
            format!("✗ {}", crate::wording::thousands(*n)),
            severity_style(theme, Some(Severity::Error)),
        ),
        Some(Loadable::Failed(_)) => (
            "failed".into(),
            severity_style(theme, Some(Severity::Warning)),
        ),
        Some(Loadable::NotLoaded) | None => (String::new(), Style::new()),
    }
}

/// What the selected root's mark means, in words.
fn mark_status(mark: Option<&Loadable<u64>>, theme: &Theme) -> Line<'static> {
    let (text, style) = match mark {
        Some(Loadable::Loading) => ("checking its lineage…".to_string(), dim(theme)),
        Some(Loadable::Loaded(0)) => (
            "✓ every link in its lineage holds".to_string(),
            severity_style(theme, None),
        ),
        Some(Loadable::Loaded(n)) => (
            format!(
                "✗ {} broken links in its lineage · Enter shows where",
                crate::wording::thousands(*n)
            ),
            severity_style(theme, Some(Severity::Error)),
        ),
        Some(Loadable::Failed(e)) => (
            format!("its lineage could not be checked: {e}"),
            severity_style(theme, Some(Severity::Warning)),
        ),
        Some(Loadable::NotLoaded) | None => (String::new(), Style::new()),
    };
    Line::from(Span::styled(text, style))
}

/// The widths of the picker's columns: the key, the mark, each field; each
/// the widest of its label and values, at most [`MAX_COLUMN`].
fn picker_widths(key: &str, rows: &[RootRow], glyphs: &[(String, Style)]) -> Vec<usize> {
    let mut widths = vec![key.width(), "links".width()];
    if let Some(first) = rows.first() {
        widths.extend(first.fields.iter().map(|(name, _)| name.width()));
    }
    for (row, (glyph, _)) in rows.iter().zip(glyphs) {
        widths[0] = widths[0].max(row.key.width());
        widths[1] = widths[1].max(glyph.width());
        for (i, (_, value)) in row.fields.iter().enumerate() {
            if let Some(w) = widths.get_mut(i + 2) {
                *w = (*w).max(value.width());
            }
        }
    }
    widths.into_iter().map(|w| w.min(MAX_COLUMN)).collect()
}

/// The recent root rows under a header of their columns' names, each
/// marked with whether its lineage holds, the selected one kept in view;
/// the last line says what the selected row's mark means.
fn picker_lines(app: &App, theme: &Theme, area: Rect) -> Vec<Line<'static>> {
    let state = &app.lineage;
    let rows = match &state.roots {
        Loadable::NotLoaded | Loadable::Loading => {
            return vec![Line::from("loading recent rows…")];
        }
        Loadable::Failed(e) => {
            return vec![Line::from(Span::styled(
                e.clone(),
                severity_style(theme, Some(Severity::Error)),
            ))];
        }
        Loadable::Loaded(rows) if rows.is_empty() => {
            return vec![Line::from("the root table has no rows")];
        }
        Loadable::Loaded(rows) => rows,
    };
    let key = crate::lineage::root_key(&app.plan).map_or("key", |(_, key)| key);
    let glyphs: Vec<(String, Style)> = rows
        .iter()
        .map(|r| mark_glyph(state.marks.get(&r.key), theme))
        .collect();
    let widths = picker_widths(key, rows, &glyphs);
    let width = area.width as usize;
    let header_style = Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    let mut header = vec![
        (key.to_string(), widths[0], header_style),
        ("links".to_string(), widths[1], header_style),
    ];
    if let Some(first) = rows.first() {
        header.extend(
            first
                .fields
                .iter()
                .zip(&widths[2..])
                .map(|((name, _), w)| (name.clone(), *w, header_style)),
        );
    }
    let mut lines = vec![cells_line(header, width)];
    let list = (area.height as usize).saturating_sub(2).max(1);
    let offset = state.selected.saturating_sub(list - 1);
    for (i, (row, (glyph, glyph_style))) in
        rows.iter().zip(&glyphs).enumerate().skip(offset).take(list)
    {
        let chosen = |style: Style| {
            if i == state.selected {
                style.patch(selected_style())
            } else {
                style
            }
        };
        let mut cells = vec![
            (row.key.clone(), widths[0], chosen(Style::new())),
            (glyph.clone(), widths[1], chosen(*glyph_style)),
        ];
        cells.extend(
            row.fields
                .iter()
                .zip(&widths[2..])
                .map(|((_, value), w)| (value.clone(), *w, chosen(Style::new()))),
        );
        lines.push(cells_line(cells, width));
    }
    while lines.len() < (area.height as usize).saturating_sub(1) {
        lines.push(Line::from(""));
    }
    let selected = rows
        .get(state.selected)
        .and_then(|r| state.marks.get(&r.key));
    lines.push(mark_status(selected, theme));
    lines
}

/// The tree being drawn: its lines, and where the selected node's lines are.
struct TreeDraw<'a> {
    theme: &'a Theme,
    width: usize,
    /// The selected node, in the order nodes are drawn.
    selected: usize,
    /// The next node's place in that order.
    next: usize,
    /// The first and last line of the selected node.
    selected_lines: Option<(usize, usize)>,
    lines: Vec<Line<'static>>,
}

impl TreeDraw<'_> {
    /// `node` and its subtree: a line each (the selected one marked `▸` and
    /// highlighted), then a line per broken link.
    fn node(&mut self, node: &Node, prefix: &str, last: bool, root: bool) {
        let error = severity_style(self.theme, Some(Severity::Error));
        let here = self.next;
        self.next += 1;
        let first_line = self.lines.len();
        let branch = match (root, last) {
            (true, _) => "",
            (false, true) => "└─ ",
            (false, false) => "├─ ",
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
        let broken = !node.broken.is_empty() || node.error.is_some();
        let mark = if broken { " ✗" } else { "" };
        let mut style = if broken { error } else { Style::new() }.add_modifier(Modifier::BOLD);
        if here == self.selected {
            style = style.patch(selected_style());
        }
        let gutter = if here == self.selected { "▸ " } else { "  " };
        let text = format!("{}{via}: {rows}{mark}", node.table);
        let used = gutter.width() + prefix.width() + branch.width();
        self.lines.push(Line::from(vec![
            Span::raw(format!("{gutter}{prefix}{branch}")),
            Span::styled(fit(&text, self.width.saturating_sub(used)), style),
        ]));
        let child_prefix = match (root, last) {
            (true, _) => String::new(),
            (false, true) => format!("{prefix}   "),
            (false, false) => format!("{prefix}│  "),
        };
        for (what, n) in &node.broken {
            let text = format!("  {child_prefix}   ✗ {n} {what}");
            self.lines
                .push(Line::from(Span::styled(fit(&text, self.width), error)));
        }
        if let Some(e) = &node.error {
            let text = format!("  {child_prefix}   failed: {e}");
            self.lines
                .push(Line::from(Span::styled(fit(&text, self.width), error)));
        }
        if here == self.selected {
            self.selected_lines = Some((first_line, self.lines.len() - 1));
        }
        for (i, child) in node.children.iter().enumerate() {
            self.node(child, &child_prefix, i + 1 == node.children.len(), false);
        }
    }
}

/// The tree of the chosen root row under a line of how many links are
/// broken, scrolled to keep the selected node and its broken links in view;
/// while loading or failed, a line saying so.
fn tree_lines(state: &LineageState, theme: &Theme, area: Rect) -> Vec<Line<'static>> {
    let node = match &state.tree {
        Loadable::Loading | Loadable::NotLoaded => return vec![Line::from("loading…")],
        Loadable::Failed(e) => {
            return vec![Line::from(Span::styled(
                e.clone(),
                severity_style(theme, Some(Severity::Error)),
            ))];
        }
        Loadable::Loaded(node) => node,
    };
    let broken = node.broken_total();
    let summary = if broken > 0 {
        Line::from(Span::styled(
            format!("{broken} broken or cross-tenant links (✗)"),
            severity_style(theme, Some(Severity::Error)),
        ))
    } else {
        Line::from(Span::styled(
            "every link holds",
            severity_style(theme, None),
        ))
    };
    let mut draw = TreeDraw {
        theme,
        width: area.width as usize,
        selected: state.node,
        next: 0,
        selected_lines: None,
        lines: vec![summary],
    };
    draw.node(node, "", true, true);
    let height = area.height as usize;
    let offset = match draw.selected_lines {
        Some((first, last)) => first.min((last + 1).saturating_sub(height)),
        None => 0,
    };
    draw.lines.into_iter().skip(offset).collect()
}

/// A node's rows: a line saying how many there are, a header, the rows in
/// view (the selected one highlighted) with the links each breaks first,
/// and what the selected row breaks, in words.
fn rows_lines(app: &App, view: &LineageRows, theme: &Theme, area: Rect) -> Vec<Line<'static>> {
    let found = match &view.rows {
        Loadable::Loading | Loadable::NotLoaded => {
            return vec![Line::from(Span::styled("reading…", dim(theme)))];
        }
        Loadable::Failed(e) => {
            return vec![Line::from(Span::styled(
                format!("the rows could not be read: {e}"),
                severity_style(theme, Some(Severity::Error)),
            ))];
        }
        Loadable::Loaded(found) => found,
    };
    let counted = match &app.lineage.tree {
        Loadable::Loaded(tree) => tree.at(&view.position).map(|n| n.rows),
        _ => None,
    };
    let width = area.width as usize;
    let mut lines = vec![Line::from(Span::styled(
        fit(&rows_summary(found, counted), width),
        dim(theme),
    ))];
    if found.rows.is_empty() {
        return lines;
    }
    let table = RowsTable::new(found, view.column, width);
    lines.push(table.line(
        None,
        found.columns.iter().map(|c| Some(c.as_str())),
        theme,
        false,
    ));
    let list = (area.height as usize).saturating_sub(3).max(1);
    let offset = view.selected.saturating_sub(list - 1);
    for (i, row) in found.rows.iter().enumerate().skip(offset).take(list) {
        let values = row
            .values
            .iter()
            .map(|v| Some(v.as_deref().unwrap_or("NULL")));
        lines.push(table.line(Some(row), values, theme, i == view.selected));
    }
    while lines.len() < (area.height as usize).saturating_sub(1) {
        lines.push(Line::from(""));
    }
    lines.push(row_status(found, view.selected, theme));
    lines
}

/// How many rows are listed, of how many the lineage counted.
fn rows_summary(found: &NodeRows, counted: Option<u64>) -> String {
    let listed = found.rows.len() as u64;
    let of = match counted {
        Some(n) if n > listed => format!(
            "the first {} of {} rows",
            crate::wording::thousands(listed),
            crate::wording::thousands(n)
        ),
        _ if listed == 1 => "1 row".to_string(),
        _ => format!("{} rows", crate::wording::thousands(listed)),
    };
    let marks = if found.links.is_empty() {
        ""
    } else {
        " · ✗ marks the links a row breaks"
    };
    format!("{} in this lineage: {of}{marks}", found.table)
}

/// The columns of a node's rows as drawn: the links a row breaks first
/// (when there are links to break), then the columns from the first one
/// shown on, as many as fit.
struct RowsTable<'a> {
    found: &'a NodeRows,
    /// The width of the broken-links column, when there is one.
    marks: Option<usize>,
    /// The columns shown, with their widths.
    shown: Vec<(usize, usize)>,
    /// More columns follow on the right.
    more: bool,
    /// The width lines are cut at.
    width: usize,
}

impl<'a> RowsTable<'a> {
    fn new(found: &'a NodeRows, first: usize, width: usize) -> Self {
        let marks = (!found.links.is_empty()).then(|| {
            found
                .rows
                .iter()
                .map(|r| broken_text(found, r).width())
                .chain(["broken".width()])
                .max()
                .unwrap_or(1)
                .min(MAX_COLUMN)
        });
        let mut used = marks.map_or(0, |w| w + 2);
        let mut shown = Vec::new();
        for (i, label) in found.columns.iter().enumerate().skip(first) {
            let w = found
                .rows
                .iter()
                .map(|r| {
                    r.values
                        .get(i)
                        .and_then(|v| v.as_deref())
                        .unwrap_or("NULL")
                        .width()
                })
                .chain([label.width()])
                .max()
                .unwrap_or(4)
                .min(MAX_COLUMN);
            if !shown.is_empty() && used + w > width {
                // What room is left (less the `→` that says more follow)
                // shows the start of the next column.
                let room = width.saturating_sub(used + 3);
                if room >= 8 {
                    shown.push((i, room));
                }
                break;
            }
            used += w + 2;
            shown.push((i, w));
        }
        let more = shown
            .last()
            .is_some_and(|(i, _)| i + 1 < found.columns.len());
        RowsTable {
            found,
            marks,
            shown,
            more,
            width,
        }
    }

    /// One line: `row`'s broken links (the header's label when None), then
    /// the shown columns of `values`.
    fn line<'v>(
        &self,
        row: Option<&crate::lineage::NodeRow>,
        values: impl Iterator<Item = Option<&'v str>>,
        theme: &Theme,
        selected: bool,
    ) -> Line<'static> {
        let base = match (row, selected) {
            (None, _) => Style::new().add_modifier(Modifier::BOLD),
            (Some(_), true) => selected_style(),
            (Some(_), false) => Style::new(),
        };
        let mut cells = Vec::new();
        if let Some(w) = self.marks {
            let (text, style) = match row {
                None => ("broken".to_string(), base),
                Some(r) => (
                    broken_text(self.found, r),
                    severity_style(theme, Some(Severity::Error)).patch(base),
                ),
            };
            cells.push((text, w, style));
        }
        let values: Vec<Option<&str>> = values.collect();
        for &(i, w) in &self.shown {
            let value = values.get(i).copied().flatten().unwrap_or("");
            cells.push((value.to_string(), w, base));
        }
        if self.more && row.is_none() {
            cells.push(("→".to_string(), 1, base));
        }
        cells_line(cells, self.width)
    }
}

/// The links a row breaks, in a few words each.
fn broken_text(found: &NodeRows, row: &crate::lineage::NodeRow) -> String {
    row.broken
        .iter()
        .filter_map(|&i| found.links.get(i))
        .map(|l| l.short.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The selected row's place, and the links it breaks in full.
fn row_status(found: &NodeRows, selected: usize, theme: &Theme) -> Line<'static> {
    let Some(row) = found.rows.get(selected) else {
        return Line::from("");
    };
    let place = Span::styled(
        format!("row {} of {} · ", selected + 1, found.rows.len()),
        dim(theme),
    );
    let what = if row.broken.is_empty() {
        Span::styled("no broken link", severity_style(theme, None))
    } else {
        let names: Vec<&str> = row
            .broken
            .iter()
            .filter_map(|&i| found.links.get(i))
            .map(|l| l.name.as_str())
            .collect();
        Span::styled(
            format!("✗ {}", names.join("; ")),
            severity_style(theme, Some(Severity::Error)),
        )
    };
    Line::from(vec![place, what])
}
