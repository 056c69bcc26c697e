//! The text report: findings grouped by severity, in aligned columns, coloured
//! on a terminal (anstream strips colour under `NO_COLOR` or a pipe).

use super::Report;
use crate::checks::Severity;
use crate::findings::Finding;
use anstyle::{AnsiColor, Style};
use std::fmt::Write;
use unicode_width::UnicodeWidthStr;

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Error => AnsiColor::Red.on_default().bold(),
        Severity::Warning => AnsiColor::Yellow.on_default().bold(),
        Severity::Info => AnsiColor::Cyan.on_default().bold(),
    }
}

fn pad(text: &str, width: usize) -> String {
    let w = text.width();
    format!("{text}{}", " ".repeat(width.saturating_sub(w)))
}

/// Renders the report with ANSI styles; the writer decides whether they show.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    header(&mut out, report);
    for severity in [Severity::Error, Severity::Warning, Severity::Info] {
        let group: Vec<&Finding> = report
            .result
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .collect();
        if !group.is_empty() {
            severity_group(&mut out, severity, &group);
        }
    }
    metrics(&mut out, report);
    totals(&mut out, report);
    out
}

/// The first two lines: what ran where, and how much of it in how long.
fn header(out: &mut String, report: &Report) {
    let plan = report.plan;
    let result = report.result;
    let profile = plan
        .profile
        .as_deref()
        .map(|p| format!(" · profile {p}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{BOLD}tether{BOLD:#} {} · {} (server {}){profile}",
        env!("CARGO_PKG_VERSION"),
        report.target,
        report.server_version,
    );
    let _ = writeln!(
        out,
        "{DIM}{} checks, {} relationships, {} tables in {:.2} s ({:.2} s of statements, the catalog reads before the run included){}{DIM:#}",
        result.summary().checks_run,
        plan.relationships.len(),
        plan.schema.tables.len(),
        result.elapsed.as_secs_f64(),
        result.statements_total(plan).as_secs_f64(),
        if result.shared_snapshot {
            " · one consistent snapshot"
        } else {
            ""
        }
    );
}

/// The findings of one severity under its title, their columns aligned.
fn severity_group(out: &mut String, severity: Severity, group: &[&Finding]) {
    let style = severity_style(severity);
    let title = match severity {
        Severity::Error => "ERRORS",
        Severity::Warning => "WARNINGS",
        Severity::Info => "INFO",
    };
    let _ = writeln!(out, "\n{style}{title} ({}){style:#}", group.len());
    let widths = Widths {
        id: group
            .iter()
            .map(|f| f.check.as_str().width())
            .max()
            .unwrap_or(0),
        location: group
            .iter()
            .map(|f| f.location().width())
            .max()
            .unwrap_or(0)
            .min(72),
        count: group
            .iter()
            .map(|f| f.count_text().width())
            .max()
            .unwrap_or(0),
    };
    for f in group {
        finding_lines(out, f, &widths);
    }
}

/// The widths of a severity group's columns: check id, location and count.
struct Widths {
    id: usize,
    location: usize,
    count: usize,
}

/// One finding: its aligned line, its message, and the first sample row.
fn finding_lines(out: &mut String, f: &Finding, widths: &Widths) {
    let count = f.count_text();
    let elapsed = f
        .elapsed_ms
        .map(|ms| format!("{ms:.1} ms"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  {BOLD}{}{BOLD:#}  {}  {}{}  {DIM}{elapsed}{DIM:#}",
        pad(f.check.as_str(), widths.id),
        pad(&f.location(), widths.location),
        " ".repeat(widths.count.saturating_sub(count.width())),
        count,
    );
    let indent = " ".repeat(widths.id + 4);
    let _ = writeln!(out, "{indent}{DIM}{}{DIM:#}", f.message);
    if let Some(facts) = &f.facts {
        facts_lines(out, facts, &indent);
    }
    if let Some(row) = f.sample.first() {
        let shown: Vec<String> = row
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect();
        let more = if f.sample.len() > 1 {
            format!(" (+{} more)", f.sample.len() - 1)
        } else {
            String::new()
        };
        let _ = writeln!(out, "{indent}{DIM}e.g. {}{more}{DIM:#}", shown.join(", "));
    }
}

/// When a finding's rows were written (with a bar per bucket) and whose
/// they are, under its message.
fn facts_lines(out: &mut String, facts: &crate::timeline::Facts, indent: &str) {
    if let Some(why) = &facts.omitted {
        let _ = writeln!(out, "{indent}{DIM}no timeline: {why}{DIM:#}");
    }
    if let Some(t) = &facts.timeline {
        // On a time axis: buckets without rows are low bars too.
        let counts: Vec<u64> = t.series().into_iter().map(|(_, n)| n).collect();
        let _ = writeln!(
            out,
            "{indent}{DIM}written {} · by {} {}{DIM:#}",
            crate::wording::span(t),
            t.unit,
            crate::wording::bars(&counts)
        );
    }
    for b in &facts.breakdowns {
        let _ = writeln!(
            out,
            "{indent}{DIM}by {}: {}{DIM:#}",
            b.column,
            crate::wording::groups(b)
        );
    }
}

/// The profile's metric queries: each one's rows, or why it failed.
fn metrics(out: &mut String, report: &Report) {
    for (metric, outcome) in report.plan.metrics.iter().zip(&report.result.metrics) {
        let _ = writeln!(out, "\n{BOLD}METRIC {}{BOLD:#}", metric.name);
        match outcome {
            Some((_, Ok(rows))) => out.push_str(&table(rows)),
            Some((_, Err(e))) => {
                let _ = writeln!(out, "  failed: {e}");
            }
            None => {}
        }
    }
}

/// The closing lines: findings by severity, what a baseline left out, and
/// whether every relationship holds.
fn totals(out: &mut String, report: &Report) {
    let summary = report.result.summary();
    let _ = writeln!(
        out,
        "\n{}{} errors{}, {}{} warnings{}, {} info",
        severity_style(Severity::Error),
        summary.error,
        severity_style(Severity::Error).render_reset(),
        severity_style(Severity::Warning),
        summary.warning,
        severity_style(Severity::Warning).render_reset(),
        summary.info,
    );
    if let Some(b) = report.baseline {
        baseline_line(out, b);
    }
    if summary.error + summary.warning + summary.info == 0 {
        let _ = writeln!(
            out,
            "{}all relationships hold{:#}",
            AnsiColor::Green.on_default().bold(),
            Style::new()
        );
    }
}

/// What the baseline accepted and left out, and which accepted findings are gone.
fn baseline_line(out: &mut String, b: &crate::baseline::Compared) {
    let _ = writeln!(
        out,
        "{DIM}baseline: {} accepted finding(s) left out; {} resolved{}{DIM:#}",
        b.accepted,
        b.resolved.len(),
        if b.resolved.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                b.resolved
                    .iter()
                    .map(|a| format!("{} {}", a.check, a.location))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        }
    );
}

/// Rows as an aligned table, the header dimmed.
fn table(rows: &[crate::db::SampleRow]) -> String {
    let lines = super::rows::aligned(rows);
    let Some((header, body)) = lines.split_first() else {
        return "  (no rows)\n".into();
    };
    let mut out = format!("  {DIM}{header}{DIM:#}\n");
    for line in body {
        let _ = writeln!(out, "  {line}");
    }
    out
}
