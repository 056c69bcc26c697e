//! Detail views over the dashboard: a check (findings, sample rows, the SQL that
//! ran) and a table (parents, children, rows, findings).

use super::{count, dim, pane_block, popup, rows_lines, severity_style, sparkline};
use crate::app::{App, COUNT_HISTORY, CheckView, CountHistory};
use crate::graph::GraphNode;
use crate::model::TableName;
use crate::timeline::Unit;
use crate::tui::config::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

fn heading(text: &str) -> Line<'static> {
    Line::from(Span::styled(
        text.to_string(),
        Style::new().add_modifier(Modifier::BOLD),
    ))
}

pub fn check(frame: &mut Frame, app: &App, theme: &Theme, check: usize, scroll: u16, area: Rect) {
    let rect = popup(area, 90);
    frame.render_widget(Clear, rect);
    let plan_check = &app.plan.checks[check];
    let view = &app.checks[check];
    let block = pane_block(
        format!("{} · {}", plan_check.id, app.check_label(check)),
        true,
        theme,
    );
    let width = rect.width.saturating_sub(2) as usize;
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{} ", plan_check.id),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw(plan_check.subject.describe()),
    ])];
    lines.push(Line::from(counts_line(
        view,
        &plan_check.category.to_string(),
    )));
    lines.extend(history_line(view, theme));
    let estimated = view.shown_count().2;
    if let Some(e) = &view.error {
        lines.push(Line::from(Span::styled(
            format!("failed: {e}"),
            severity_style(theme, Some(crate::checks::Severity::Error)),
        )));
    }
    if let Some(e) = view
        .estimate
        .as_ref()
        .filter(|_| estimated)
        .and_then(|o| o.estimate.as_ref())
    {
        lines.push(Line::from(Span::styled(
            format!(
                "estimated: {} found in {}; the exact count follows",
                count(Some(e.sampled_count)),
                e.basis
            ),
            Style::new().add_modifier(Modifier::ITALIC),
        )));
    }
    // While only an estimate is known, its sample rows are real rows.
    let findings = match (&view.estimate, estimated) {
        (Some(o), true) => &o.findings,
        _ => &view.findings,
    };
    for f in findings {
        lines.extend(finding_lines(f, width, theme));
    }
    if view.findings.is_empty() && view.count == Some(0) {
        lines.push(Line::from(Span::styled(
            "no rows: this holds",
            Style::new().fg(theme.ok),
        )));
    }
    lines.extend(timeline_lines(app, check, width, theme));
    if let Some(sql) = app.detail_sql() {
        lines.extend(sql_lines(
            "SQL that ran (y copies it)",
            &sql,
            Style::new().fg(theme.accent),
        ));
    }
    if let Some(sample_sql) = view.findings.iter().find_map(|f| f.sample_sql.clone()) {
        lines.extend(sql_lines("Sample SQL", &sample_sql, dim(theme)));
    }
    render_scrolled(frame, block, lines, scroll, rect, &app.scroll_limit);
}

/// Draws `lines` in `block` over `rect`, wrapped, `scroll` lines down.
pub(super) fn render_scrolled(
    frame: &mut Frame,
    block: Block<'_>,
    lines: Vec<Line<'static>>,
    scroll: u16,
    rect: Rect,
    limit: &std::cell::Cell<Option<u16>>,
) {
    let inner = block.inner(rect);
    let (scroll, block) = scrolled(block, &lines, scroll, inner, limit);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll, 0))
            .wrap(Wrap { trim: false }),
        rect,
    );
}

/// Clamps `scroll` to what `lines` (wrapped to `inner`) need, notes the
/// limit, and marks the block's bottom border when lines are hidden.
pub(super) fn scrolled<'b>(
    block: Block<'b>,
    lines: &[Line<'_>],
    scroll: u16,
    inner: Rect,
    limit: &std::cell::Cell<Option<u16>>,
) -> (u16, Block<'b>) {
    let width = inner.width.max(1) as usize;
    let total: usize = lines.iter().map(|l| l.width().div_ceil(width).max(1)).sum();
    let max = u16::try_from(total.saturating_sub(inner.height as usize)).unwrap_or(u16::MAX);
    limit.set(Some(max));
    let scroll = scroll.min(max);
    let below = max - scroll;
    let mark = match (scroll, below) {
        (0, 0) => return (scroll, block),
        (_, 0) => " ↑ end ".to_string(),
        (_, n) => format!(" ↓ {n} more "),
    };
    (scroll, block.title_bottom(Line::from(mark).right_aligned()))
}
/// When the check's offending rows were written and whose they are, as read
/// for this detail: a heading, the span, a bar per bucket, the largest
/// groups; nothing for a check without offending rows.
fn timeline_lines(app: &App, check: usize, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let shown = &app.timeline;
    if shown.check != Some(check) {
        return Vec::new();
    }
    let mut lines = vec![Line::default()];
    if shown.hidden {
        lines.push(Line::from(Span::styled(
            "when: hidden (t shows it)",
            dim(theme),
        )));
        return lines;
    }
    match &shown.result {
        None => lines.push(Line::from(Span::styled(
            "when: reading when these rows were written…",
            dim(theme),
        ))),
        Some(Err(e)) => lines.push(Line::from(Span::styled(
            format!("when: could not be read: {e}"),
            severity_style(theme, Some(crate::checks::Severity::Error)),
        ))),
        Some(Ok(read)) => {
            lines.extend(when_lines(app, check, read.timeline.as_ref(), width, theme));
            lines.extend(read.breakdowns.iter().map(breakdown_line));
        }
    }
    lines
}

/// The timeline's heading, span and bars; or why there is none.
fn when_lines(
    app: &App,
    check: usize,
    timeline: Option<&crate::timeline::Timeline>,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let Some(t) = timeline else {
        if let crate::checks::plan::Work::Assertion(_) = app.plan.checks[check].work {
            return vec![Line::from(Span::styled(
                "when: no timeline, the query's rows have no time column (name one with time_column in its [[assertion]])",
                dim(theme),
            ))];
        }
        let table = app.plan.checks[check]
            .table
            .map(|t| {
                app.plan
                    .schema
                    .label(&app.plan.schema.tables[t.index()].name)
            })
            .unwrap_or_default();
        return vec![Line::from(Span::styled(
            format!(
                "when: no timeline, {table} has no time column (name one with [tables.{table}] time_column in the profile)"
            ),
            dim(theme),
        ))];
    };
    let mut lines = vec![heading(&format!(
        "When ({}, {} · by {} · t hides)",
        t.column, t.chosen, t.unit
    ))];
    let span = crate::wording::span(t);
    lines.push(Line::from(span));
    lines.extend(column_chart(t, width, theme));
    lines
}

/// Rows of the chart's columns, top to bottom.
const CHART_ROWS: usize = 4;

/// The timeline as columns over a time axis (buckets without rows at 0;
/// neighbouring buckets summed when there are more than the width holds),
/// [`CHART_ROWS`] rows high, then the first and last bucket under it.
fn column_chart(t: &crate::timeline::Timeline, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    const EIGHTHS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let series = t.series();
    let Some(&(first, _)) = series.first() else {
        return Vec::new();
    };
    let room = width.saturating_sub(4).max(1);
    let per = series.len().div_ceil(room).max(1);
    let columns: Vec<u64> = series
        .chunks(per)
        .map(|c| c.iter().map(|(_, n)| n).sum())
        .collect();
    let most = columns.iter().copied().max().unwrap_or(1).max(1);
    // Few columns are drawn wider, up to three cells each.
    let wide = (room / columns.len().max(1)).clamp(1, 3);
    let levels = (CHART_ROWS * 8) as u64;
    let mut lines: Vec<Line<'static>> = (0..CHART_ROWS)
        .map(|row| {
            let floor = ((CHART_ROWS - 1 - row) * 8) as u64;
            let bar: String = columns
                .iter()
                .flat_map(|&n| {
                    let level = (n * levels).div_ceil(most);
                    std::iter::repeat_n(EIGHTHS[level.saturating_sub(floor).min(8) as usize], wide)
                })
                .collect();
            Line::from(vec![
                Span::raw("  "),
                Span::styled(bar, Style::new().fg(theme.accent)),
            ])
        })
        .collect();
    let last = series.last().map_or(first, |(at, _)| *at);
    let label = |at: i64| bucket_label(&crate::timeline::utc_text(at), t.unit);
    let each = if per > 1 {
        format!("{per} {}s", t.unit)
    } else {
        t.unit.to_string()
    };
    lines.push(Line::from(Span::styled(
        format!(
            "  {} … {} · a column per {each} · the highest {}",
            label(first),
            label(last),
            count(Some(most))
        ),
        dim(theme),
    )));
    lines
}

/// A bucket's start as its unit reads: `2026-12-01 00:10` (minute),
/// `2026-12-01 00:00` (hour), `2026-12-01` (day), `week of 2026-01-12`,
/// `2026-02` (month).
fn bucket_label(start: &str, unit: Unit) -> String {
    match unit {
        Unit::Minute | Unit::Hour => start.get(..16).unwrap_or(start).to_string(),
        Unit::Day => start.get(..10).unwrap_or(start).to_string(),
        Unit::Week => format!("week of {}", start.get(..10).unwrap_or(start)),
        Unit::Month => start.get(..7).unwrap_or(start).to_string(),
    }
}

/// `by tenant_id: acme 3 · (null) 2 · globex 1, and 4 more`.
fn breakdown_line(b: &crate::timeline::Breakdown) -> Line<'static> {
    Line::from(vec![
        Span::styled(
            format!("by {}: ", b.column),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw(crate::wording::groups(b)),
    ])
}

/// The check's counts: rows (`≈` when estimated) out of the table's, the
/// refresh before, its state and parts read, its latency and category.
fn counts_line(view: &CheckView, category: &str) -> String {
    let (shown, total, estimated) = view.shown_count();
    let about = if estimated { "≈ " } else { "" };
    let share = match (shown, total) {
        (Some(c), Some(t)) if t > 0 => format!(
            " of {about}{} ({about}{:.2}%)",
            count(Some(t)),
            c as f64 * 100.0 / t as f64
        ),
        _ => String::new(),
    };
    let progress = match view.progress {
        Some((done, parts)) if parts > 0 => format!(" ({}% read)", done * 100 / parts),
        _ => String::new(),
    };
    format!(
        "rows: {about}{}{share} · before: {} · state: {:?}{progress} · {} · {category}",
        count(shown),
        count(view.previous),
        view.state,
        view.elapsed
            .map(|d| format!("{:.1} ms", d.as_secs_f64() * 1000.0))
            .unwrap_or_else(|| "not run".into()),
    )
}

/// The most changes of a count the history line lists.
const CHANGES: usize = 6;

/// A row check's count history on one line: its counts as a sparkline,
/// since when it has had rows and over how many refreshes, and its counts
/// as they changed. None before its first exact count.
fn history_line(view: &CheckView, theme: &Theme) -> Option<Line<'static>> {
    let history = view.history.as_deref()?;
    let says = match history.streak() {
        Some(streak) => format!(
            "non-zero since {} UTC ({}) · counts {}",
            crate::clock::time_of_day(streak.since),
            crate::wording::plural(u64::from(streak.refreshes), "refresh"),
            changes(history)
        ),
        None if history.held() && history.len() > 1 => {
            format!(
                "no rows in any of the last {}",
                crate::wording::plural(history.len() as u64, "refresh")
            )
        }
        None if history.held() => "no rows in the latest refresh".to_string(),
        None => format!(
            "no rows in the latest refresh · counts {}",
            changes(history)
        ),
    };
    let spark = sparkline(history.counts().map(|c| c as f64), COUNT_HISTORY);
    Some(Line::from(vec![
        Span::styled("history ", Style::new().add_modifier(Modifier::BOLD)),
        Span::styled(spark, Style::new().fg(theme.accent)),
        Span::raw(format!(" {says}")),
    ]))
}

/// The counts kept, each once per run of equal ones, the last [`CHANGES`]
/// of them: `3 → 5 → 9`, `… → 12 → 0 → 4`.
fn changes(history: &CountHistory) -> String {
    let mut runs: Vec<u64> = Vec::new();
    for c in history.counts() {
        if runs.last() != Some(&c) {
            runs.push(c);
        }
    }
    let cut = runs.len().saturating_sub(CHANGES);
    let shown = runs[cut..].iter().map(|&c| count(Some(c)));
    let lead = (cut > 0).then(|| "…".to_string());
    lead.into_iter()
        .chain(shown)
        .collect::<Vec<_>>()
        .join(" → ")
}

/// One finding: its severity and check, its message, its sample rows.
pub(super) fn finding_lines(
    f: &crate::findings::Finding,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::from(""),
        Line::from(Span::styled(
            format!("{} {}", f.severity, f.check),
            severity_style(theme, Some(f.severity)),
        )),
        Line::from(f.message.clone()),
    ];
    if !f.sample.is_empty() {
        lines.push(Line::from(""));
        lines.push(heading(&format!(
            "Sample ({} of {}{} rows)",
            f.sample.len(),
            if f.estimate.is_some() { "≈ " } else { "" },
            count(f.count)
        )));
        lines.extend(rows_lines(&f.sample, width, "(no sample)"));
    }
    lines
}

/// A heading, then the statement indented, in `style`.
pub(super) fn sql_lines(title: &str, sql: &str, style: Style) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(""), heading(title)];
    lines.extend(
        sql.lines()
            .map(|l| Line::from(Span::styled(format!("  {l}"), style))),
    );
    lines
}

/// A table's facts: rows, columns and key, counts withheld, and what it is
/// a partition of or inherits from.
fn table_facts(app: &App, theme: &Theme, n: &GraphNode) -> Vec<Line<'static>> {
    let table = app.plan.schema.table(&n.table);
    let mut lines = vec![Line::from(format!(
        "rows (estimate): {} · columns: {} · primary key: {}",
        n.rows
            .map(|r| crate::wording::thousands(r.max(0) as u64))
            .unwrap_or_else(|| "unknown".into()),
        table.map(|t| t.columns.len()).unwrap_or(0),
        table
            .map(|t| t.primary_key.join(", "))
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| "none".into()),
    ))];
    // What this connection cannot count here, and why.
    if let Some(why) = crate::checks::plan::unreadable(&app.plan.schema, &[&n.table]) {
        lines.push(Line::from(Span::styled(
            format!("counts withheld: {why}"),
            Style::new().fg(theme.warning),
        )));
    }
    if let Some(parent) = table.and_then(|t| t.inherits_from.as_ref()) {
        let what = if table.is_some_and(|t| t.is_partition()) {
            "partition of"
        } else {
            "inherits from"
        };
        let bound = table
            .and_then(|t| t.partition_bound.as_deref())
            .map(|b| format!(" {b}"))
            .unwrap_or_default();
        lines.push(Line::from(format!(
            "{what} {}{bound}",
            app.plan.label(parent)
        )));
    }
    lines.push(Line::from(when_and_who(app, &n.table)));
    lines
}

/// `time column: created_at (detected) · breakdown: client_account_id`, or
/// that the table has none (and how to name one).
fn when_and_who(app: &App, table: &TableName) -> String {
    let plan = &app.plan;
    let Some(id) = plan.schema.table_id(table) else {
        return String::new();
    };
    let mut text = match plan.time_columns.get(id.index()).and_then(Option::as_ref) {
        Some(t) => format!("time column: {} ({})", t.column, <&str>::from(t.chosen)),
        None => format!(
            "time column: none (name one with [tables.{}] time_column)",
            plan.label(table)
        ),
    };
    if let Some(groups) = plan.breakdowns.get(id.index()).filter(|g| !g.is_empty()) {
        let labels: Vec<&str> = groups.iter().map(|g| g.label.as_str()).collect();
        text.push_str(&format!(" · breakdown: {}", labels.join(", ")));
    }
    text
}

/// The findings on `table`, or a green none.
/// The table's parents, then its children, each with its rule, whether the
/// child's columns are indexed and its orphans; the selected one reversed.
/// Also returns the selected one's line (`first_line` is where they start).
fn neighbour_lines(
    app: &App,
    theme: &Theme,
    node: usize,
    first_line: usize,
) -> (Vec<Line<'static>>, Option<u16>) {
    let g = &app.graph;
    let neighbours = app.neighbours(node);
    let selected = app.table_neighbour.min(neighbours.len().saturating_sub(1));
    let mut lines = Vec::new();
    let mut selected_line = None;
    for (title, parents) in [
        ("Parents (↑↓ select, Enter opens)", true),
        ("Children", false),
    ] {
        lines.push(Line::from(""));
        lines.push(heading(title));
        let mut any = false;
        for (i, nb) in neighbours
            .iter()
            .enumerate()
            .filter(|(_, nb)| nb.parent == parents)
        {
            any = true;
            let r = &app.plan.relationships[nb.relationship];
            let worst = app.worst_for_relationship(nb.relationship);
            let rule = g
                .edges
                .iter()
                .find(|e| e.relationship == nb.relationship)
                .map_or(String::new(), |e| e.label.clone());
            let other = &g.nodes[nb.node].label;
            let arrow = if parents {
                format!("{rule} → {other}")
            } else {
                format!("{other} ← {rule}")
            };
            let text = format!(
                "  {} {arrow} · {:?} · {} · orphans {}",
                super::findings::glyph(worst),
                r.source,
                if r.indexed { "indexed" } else { "not indexed" },
                count(app.orphans_of(nb.relationship)),
            );
            let mut style = severity_style(theme, worst);
            if i == selected {
                style = super::selected_style();
                selected_line = Some((first_line + lines.len()) as u16);
            }
            lines.push(Line::from(Span::styled(text, style)));
        }
        if !any {
            lines.push(Line::from("  none"));
        }
    }
    (lines, selected_line)
}

/// A partitioned table's partitions: each one's bound and the foreign keys
/// declared on it alone (the ones it does not inherit).
fn partition_lines(app: &App, theme: &Theme, table: &TableName) -> Vec<Line<'static>> {
    let schema = &app.plan.schema;
    let partitions: Vec<_> = schema
        .tables
        .iter()
        .filter(|t| t.is_partition() && t.inherits_from.as_ref() == Some(table))
        .collect();
    if partitions.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![
        Line::from(""),
        heading(&format!("Partitions ({})", partitions.len())),
    ];
    for p in partitions {
        let own: Vec<&str> = schema
            .foreign_keys
            .iter()
            .filter(|fk| fk.child == p.name)
            .map(|fk| fk.name.as_str())
            .collect();
        let constraints = if own.is_empty() {
            "no constraint of its own".to_string()
        } else {
            format!("its own: {}", own.join(", "))
        };
        lines.push(Line::from(vec![
            Span::raw(format!("  {} ", app.plan.label(&p.name))),
            Span::styled(
                p.partition_bound
                    .clone()
                    .unwrap_or_else(|| "(no bound)".into()),
                dim(theme),
            ),
            Span::raw(format!(" · {constraints}")),
        ]));
    }
    lines
}

/// Findings on the relationships that reference the table: its children's.
fn referencing_finding_lines(app: &App, theme: &Theme, node: usize) -> Vec<Line<'static>> {
    let findings = app.findings_referencing(node);
    if findings.is_empty() {
        return Vec::new();
    }
    finding_list(
        theme,
        "Findings on relationships that reference it",
        &findings,
    )
}

/// The findings on `table` itself, or a green none.
fn table_finding_lines(app: &App, theme: &Theme, table: &TableName) -> Vec<Line<'static>> {
    let findings = app.findings_for_table(table);
    let mut lines = finding_list(theme, "Findings on the table", &findings);
    if findings.is_empty() {
        lines.push(Line::from(Span::styled(
            "  none",
            Style::new().fg(theme.ok),
        )));
    }
    lines
}

/// A heading, then one line per finding: its glyph, check, location and
/// message, in its severity's style.
fn finding_list(
    theme: &Theme,
    title: &str,
    findings: &[&crate::findings::Finding],
) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(""), heading(title)];
    for f in findings {
        lines.push(Line::from(Span::styled(
            format!(
                "  {} {} {}: {}",
                super::findings::glyph(Some(f.severity)),
                f.check,
                f.location(),
                f.message
            ),
            severity_style(theme, Some(f.severity)),
        )));
    }
    lines
}

pub fn table(frame: &mut Frame, app: &App, theme: &Theme, node: usize, scroll: u16, area: Rect) {
    let rect = popup(area, 80);
    frame.render_widget(Clear, rect);
    let Some(n) = app.graph.nodes.get(node) else {
        return;
    };
    let names = super::names::Names::of(app);
    let block = pane_block(format!("Table {}", names.text(&n.label)), true, theme);
    let mut lines = table_facts(app, theme, n);
    let (neighbours, selected_line) = neighbour_lines(app, theme, node, lines.len());
    lines.extend(neighbours);
    lines.extend(partition_lines(app, theme, &n.table));
    lines.extend(table_finding_lines(app, theme, &n.table));
    lines.extend(referencing_finding_lines(app, theme, node));
    // The selected parent or child stays in view.
    let height = rect.height.saturating_sub(2);
    let scroll = match selected_line {
        Some(line) if line >= scroll + height => line + 1 - height,
        Some(line) if line < scroll => line,
        _ => scroll,
    };
    render_scrolled(frame, block, lines, scroll, rect, &app.scroll_limit);
}

/// A fix from the UI: the preview (what changes, how many rows, the SQL), the
/// typed confirmation naming the database it writes to, and the result.
pub fn fix(
    frame: &mut Frame,
    app: &App,
    theme: &Theme,
    check: usize,
    state: &crate::app::FixState,
    area: Rect,
) {
    use crate::app::FixState;
    let rect = popup(area, 80);
    frame.render_widget(Clear, rect);
    let block = pane_block(format!("Fix · {}", app.check_label(check)), true, theme);
    let error = severity_style(theme, Some(crate::checks::Severity::Error));
    let lines = match state {
        FixState::Loading => vec![Line::from("counting what would change…")],
        FixState::Preview(remedies) => {
            let mut lines = remedy_lines(app, theme, remedies);
            lines.push(Line::from(""));
            lines.push(preview_note(app, theme));
            lines
        }
        FixState::Confirm {
            remedies,
            typed,
            rejected,
        } => {
            let mut lines = confirm_lines(app, theme, remedies, typed, rejected.as_deref());
            lines.push(Line::from(""));
            lines.extend(remedy_lines(app, theme, remedies));
            lines
        }
        FixState::Applying => vec![Line::from(
            "applying: backing up, re-counting, changing the rows…",
        )],
        FixState::Done(message) => vec![Line::from(Span::styled(
            message.clone(),
            Style::new().fg(theme.ok),
        ))],
        FixState::Failed(message) => vec![Line::from(Span::styled(message.clone(), error))],
    };
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}

/// Each remedy: what it does, its changes, effects and warnings, and the SQL
/// of its steps.
fn remedy_lines(app: &App, theme: &Theme, remedies: &[crate::fix::Remedy]) -> Vec<Line<'static>> {
    use crate::report::fix::Tone;
    let mut lines = Vec::new();
    if remedies.is_empty() {
        lines.push(Line::from("Nothing to fix: no orphans now."));
    }
    for r in remedies {
        lines.push(heading(&r.what));
        for (tone, text) in crate::report::fix::lines(&app.plan, r) {
            let style = match tone {
                Tone::Change => Style::new(),
                Tone::Warning => Style::new().fg(theme.warning),
                Tone::Migration => dim(theme),
            };
            lines.push(Line::from(Span::styled(format!("  {text}"), style)));
        }
        for step in &r.steps {
            lines.extend(
                step.sql
                    .as_str()
                    .lines()
                    .map(|l| Line::from(Span::styled(format!("    {l}"), dim(theme)))),
            );
        }
    }
    lines
}

/// Under a preview: how to apply it, or how to allow applying.
fn preview_note(app: &App, theme: &Theme) -> Line<'static> {
    match app.writes.word() {
        Some(_) => Line::from(Span::styled(
            "Preview only: nothing was touched. A applies: every row is backed up first, the change runs in one transaction.",
            dim(theme),
        )),
        None => Line::from(Span::styled(
            format!(
                "Preview only: nothing was touched; {}.",
                crate::app::APPLY_NEEDS_WRITES
            ),
            Style::new().fg(theme.warning),
        )),
    }
}

/// The confirmation: where it writes (engine, server, database), how many
/// rows, the word to type, what is typed so far, and why a word was refused.
fn confirm_lines(
    app: &App,
    theme: &Theme,
    remedies: &[crate::fix::Remedy],
    typed: &str,
    rejected: Option<&str>,
) -> Vec<Line<'static>> {
    let info = &app.info;
    let target: Vec<&str> = [&info.engine, &info.address, &info.database]
        .into_iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    let word = app.writes.word().unwrap_or_default().to_string();
    let rows: u64 = remedies.iter().map(|r| r.rows()).sum();
    let warning = severity_style(theme, Some(crate::checks::Severity::Warning));
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut lines = vec![
        Line::from(vec![
            Span::styled("Apply to ", warning.add_modifier(Modifier::BOLD)),
            Span::styled(target.join(" · "), bold),
        ]),
        Line::from(format!(
            "Back up and change {} rows, in one transaction, as listed below.",
            count(Some(rows))
        )),
        Line::from(vec![
            Span::raw("Type "),
            Span::styled(word.clone(), bold),
            Span::raw(" and press Enter to apply; Esc cancels."),
        ]),
        Line::from(vec![
            Span::styled("> ", Style::new().fg(theme.accent)),
            Span::styled(typed.to_string(), bold),
            Span::styled(" ", Style::new().add_modifier(Modifier::REVERSED)),
        ]),
    ];
    let refusal = match rejected {
        Some("") => Some(format!("Enter alone does not apply: type {word} first.")),
        Some(wrong) => Some(format!(
            "\"{wrong}\" is not \"{word}\": nothing was applied."
        )),
        None => None,
    };
    if let Some(refusal) = refusal {
        lines.push(Line::from(Span::styled(refusal, warning)));
    }
    lines
}
