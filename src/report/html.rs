//! One self-contained HTML file (no network, no script): summary, findings with
//! samples and SQL, the relationship graph as inline SVG coloured by health,
//! and latencies by category against thresholds.

use super::Report;
use super::graph::color;
use super::junit::xml_escape as esc;
use crate::checks::{Category, Severity};
use crate::db::SampleRow;
use crate::findings::Finding;
use crate::graph::{Graph, GraphEdge};
use crate::wording::thousands;
use std::fmt::Write;

const STYLE: &str = "
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2rem auto; max-width: 72rem; color: #1d2330; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #dde1e8; padding-bottom: .3rem; }
.muted { color: #667085; } .pill { display: inline-block; padding: .1rem .6rem; border-radius: 1rem; margin-right: .4rem; color: #fff; font-weight: 600; }
.error { background: #d62728; } .warning { background: #e6a700; } .info { background: #1f77b4; } .ok { background: #2ca02c; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0; } th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eef0f4; vertical-align: top; }
th { background: #f6f7f9; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; } pre { background: #f6f7f9; padding: .6rem; overflow-x: auto; white-space: pre-wrap; }
details { margin: .2rem 0 .6rem; } summary { cursor: pointer; color: #344054; }
.sev-error { border-left: 4px solid #d62728; } .sev-warning { border-left: 4px solid #e6a700; } .sev-info { border-left: 4px solid #1f77b4; }
.bar { height: .7rem; background: #8ab4f8; display: inline-block; vertical-align: middle; } .bar.over { background: #d62728; }
svg text { font: 12px system-ui, sans-serif; } svg .edge-label { font-size: 10px; }
.when, .groups { color: #344054; margin-top: .2rem; } svg.timeline { display: block; margin: .2rem 0; } svg.timeline rect { fill: #d62728; }
";

fn severity_class(s: Severity) -> &'static str {
    s.as_str()
}

fn sample_table(rows: &[SampleRow]) -> String {
    let Some(first) = rows.first() else {
        return String::new();
    };
    let mut out = String::from("<table><tr>");
    for key in first.keys() {
        let _ = write!(out, "<th>{}</th>", esc(key));
    }
    out.push_str("</tr>");
    for row in rows {
        out.push_str("<tr>");
        for key in first.keys() {
            let value = match row.get(key) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Null) | None => "NULL".into(),
                Some(other) => other.to_string(),
            };
            let _ = write!(out, "<td><code>{}</code></td>", esc(&value));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out
}

/// The size of a box and the gaps around it in the SVG graph.
const BOX_W: f64 = 185.0;
const GAP_X: f64 = 110.0;
const GAP_Y: f64 = 30.0;
const PAD: f64 = 10.0;

/// Where the SVG graph's boxes go: one column per layer, boxes stacked down it.
struct SvgLayout<'g> {
    graph: &'g Graph,
    /// Each box's height: tall enough for the labels of the edges coming into it.
    heights: Vec<f64>,
    /// Each box's top edge.
    tops: Vec<f64>,
    width: f64,
    height: f64,
}

impl<'g> SvgLayout<'g> {
    /// Sizes every box and stacks each layer's boxes from the top.
    fn of(graph: &'g Graph) -> SvgLayout<'g> {
        let heights: Vec<f64> = (0..graph.nodes.len())
            .map(|n| (16.0 * (graph.parents(n).count() as f64 + 1.0)).max(40.0))
            .collect();
        let mut tops = vec![0.0; graph.nodes.len()];
        let mut bottom: f64 = 0.0;
        for layer in &graph.layers {
            let mut y = PAD;
            for &n in layer {
                tops[n] = y;
                y += heights[n] + GAP_Y;
            }
            bottom = bottom.max(y);
        }
        let width = PAD * 2.0 + graph.layers.len().max(1) as f64 * (BOX_W + GAP_X) - GAP_X;
        SvgLayout {
            graph,
            heights,
            tops,
            width,
            height: bottom + PAD,
        }
    }

    /// The top left corner of a node's box.
    fn position(&self, node: usize) -> (f64, f64) {
        let (layer, _) = self.graph.position(node);
        (PAD + layer as f64 * (BOX_W + GAP_X), self.tops[node])
    }

    /// An edge's path, and where its label ends.
    fn edge_path(&self, edge: &GraphEdge) -> (String, f64, f64) {
        let (px, py) = self.position(edge.parent);
        let (cx, cy) = self.position(edge.child);
        if edge.parent == edge.child {
            // A self-reference: a loop above the box.
            let (x, y) = (px + BOX_W * 0.7, py);
            return (
                format!(
                    "M {x} {y} C {} {} {} {} {} {y}",
                    x - 10.0,
                    y - 30.0,
                    x + 40.0,
                    y - 30.0,
                    x + 30.0
                ),
                x + 15.0,
                y - 24.0,
            );
        }
        // Edges into one table end at spread points, labelled near their end.
        let incoming: Vec<usize> = self.graph.parents(edge.child).map(|e| e.parent).collect();
        let k = incoming.iter().position(|&p| p == edge.parent).unwrap_or(0) as f64;
        let n = incoming.len().max(1) as f64;
        let (x1, y1) = (px + BOX_W, py + 20.0);
        let (x2, y2) = (cx, cy + self.heights[edge.child] * (k + 1.0) / (n + 1.0));
        let mid = (x1 + x2) / 2.0;
        (
            format!("M {x1} {y1} C {mid} {y1} {mid} {y2} {x2} {y2}"),
            x2 - 8.0,
            y2 - 3.0,
        )
    }
}

/// The opening `<svg>` tag and the arrow heads, one per colour.
fn svg_start(width: f64, height: f64) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"relationship graph\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\">\n<defs>{}</defs>\n",
        [None, Some(Severity::Info), Some(Severity::Warning), Some(Severity::Error)]
            .iter()
            .map(|s| format!(
                "<marker id=\"arrow-{}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"{}\"/></marker>",
                s.map_or("ok", |s| s.as_str()),
                color(*s)
            ))
            .collect::<String>()
    )
}

/// Writes one edge: its path coloured by its worst finding (dashed without a
/// constraint), and its label.
fn svg_edge(
    out: &mut String,
    layout: &SvgLayout,
    plan: &crate::checks::plan::Plan,
    edge: &GraphEdge,
    severity: Option<Severity>,
) {
    let dashed = if plan.relationships[edge.relationship].constraint.is_some() {
        ""
    } else {
        " stroke-dasharray=\"5 4\""
    };
    let marker = severity.map_or("ok", |s| s.as_str());
    let (d, lx, ly) = layout.edge_path(edge);
    let _ = writeln!(
        out,
        "<path d=\"{d}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{dashed} marker-end=\"url(#arrow-{marker})\"><title>{}</title></path>\n<text class=\"edge-label\" x=\"{lx:.0}\" y=\"{ly:.0}\" text-anchor=\"end\" fill=\"{}\">{}</text>",
        color(severity),
        esc(&edge.label),
        color(severity),
        esc(&edge.label)
    );
}

/// The worst finding on the edges coming into node `i`.
fn incoming_worst(graph: &Graph, worst: &[Option<Severity>], i: usize) -> Option<Severity> {
    graph
        .parents(i)
        .filter_map(|e| {
            graph
                .edges
                .iter()
                .position(|x| std::ptr::eq(x, e))
                .and_then(|k| worst[k])
        })
        .max()
}

/// Writes node `i`'s box, outlined in the colour of `severity`, with its
/// label and row estimate.
fn svg_node(out: &mut String, layout: &SvgLayout, i: usize, severity: Option<Severity>) {
    let node = &layout.graph.nodes[i];
    let (x, y) = layout.position(i);
    let rows = node
        .rows
        .map(|r| format!("{} rows", thousands(r.max(0) as u64)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<g><rect x=\"{x}\" y=\"{y}\" width=\"{BOX_W}\" height=\"{}\" rx=\"8\" fill=\"#ffffff\" stroke=\"{}\" stroke-width=\"2\"/><text x=\"{}\" y=\"{}\" font-weight=\"600\">{}</text><text x=\"{}\" y=\"{}\" fill=\"#667085\">{}</text></g>",
        layout.heights[i],
        color(severity),
        x + 10.0,
        y + 17.0,
        esc(&node.label),
        x + 10.0,
        y + 32.0,
        esc(&rows)
    );
}

/// The graph as SVG: layers left to right, parents before children.
fn svg(report: &Report) -> String {
    let plan = report.plan;
    let graph = Graph::build(plan);
    let worst = graph.worst_per_edge(plan, &report.result.findings);
    let layout = SvgLayout::of(&graph);
    let mut out = svg_start(layout.width, layout.height);
    for (edge, severity) in graph.edges.iter().zip(&worst) {
        svg_edge(&mut out, &layout, plan, edge, *severity);
    }
    for i in 0..graph.nodes.len() {
        svg_node(&mut out, &layout, i, incoming_worst(&graph, &worst, i));
    }
    out.push_str("</svg>");
    out
}

/// The document's head, the title and the run's summary with its pills.
fn header(out: &mut String, report: &Report) {
    let plan = report.plan;
    let result = report.result;
    let summary = result.summary();
    let title = format!("tether report · {}", report.target);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&title)
    );
    let _ = writeln!(out, "<h1>Do the relationships hold?</h1>");
    let _ = writeln!(
        out,
        "<p class=\"muted\">tether {} · {} · server {} · profile {} · {} checks, {} relationships, {} tables in {:.2} s{}</p>",
        env!("CARGO_PKG_VERSION"),
        esc(&report.target.to_string()),
        esc(report.server_version),
        esc(plan.profile.as_deref().unwrap_or("none")),
        summary.checks_run,
        plan.relationships.len(),
        plan.schema.tables.len(),
        result.elapsed.as_secs_f64(),
        if result.shared_snapshot {
            " · one consistent snapshot"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "<p><span class=\"pill error\">{} errors</span><span class=\"pill warning\">{} warnings</span><span class=\"pill info\">{} info</span>{}</p>",
        summary.error,
        summary.warning,
        summary.info,
        if summary.error + summary.warning + summary.info == 0 {
            "<span class=\"pill ok\">all relationships hold</span>"
        } else {
            ""
        }
    );
}

/// The relationship graph section, with its legend.
fn graph_section(out: &mut String, report: &Report) {
    out.push_str("<h2>Relationship graph</h2>\n<p class=\"muted\">Parents left of children; an edge is coloured by the worst finding on it (red error, amber warning, blue info, green none); dashed edges have no constraint.</p>\n<div style=\"overflow-x:auto\">");
    out.push_str(&svg(report));
    out.push_str("</div>\n");
}

/// The findings section: one table per severity, worst first.
fn findings_section(out: &mut String, findings: &[Finding]) {
    out.push_str("<h2>Findings</h2>\n");
    if findings.is_empty() {
        out.push_str("<p>None.</p>\n");
    }
    for severity in [Severity::Error, Severity::Warning, Severity::Info] {
        let group: Vec<_> = findings.iter().filter(|f| f.severity == severity).collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "<h3>{} ({})</h3>\n<table>\n<tr><th>check</th><th>where</th><th>rows</th><th>what</th></tr>",
            severity.as_str(),
            group.len()
        );
        for f in group {
            finding_row(out, severity, f);
        }
        out.push_str("</table>\n");
    }
}

/// When a finding's rows were written, as a line and a bar chart (inline
/// SVG, a bar per bucket, each titled with its start and count), then whose
/// they are.
fn facts_html(out: &mut String, facts: &crate::timeline::Facts) {
    if let Some(why) = &facts.omitted {
        let _ = write!(out, "<div class=\"when\">no timeline: {}</div>", esc(why));
    }
    if let Some(t) = &facts.timeline {
        let _ = write!(
            out,
            "<div class=\"when\">written {} · by {}</div>",
            esc(&crate::wording::span(t)),
            t.unit
        );
        // On a time axis, as the text report and the UI draw it: buckets
        // without rows are gaps.
        let series = t.series();
        let most = series.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1) as f64;
        let (bar, height) = (8.0, 32.0);
        let width = bar * series.len() as f64;
        let _ = write!(
            out,
            "<svg class=\"timeline\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"rows by {}\">",
            t.unit
        );
        for (i, (start, n)) in series.iter().enumerate().filter(|(_, (_, n))| *n > 0) {
            let h = (*n as f64 / most * height).max(1.0);
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\"><title>{} UTC: {}</title></rect>",
                i as f64 * bar,
                height - h,
                bar - 1.0,
                crate::timeline::utc_text(*start),
                crate::wording::thousands(*n)
            );
        }
        out.push_str("</svg>");
    }
    for b in &facts.breakdowns {
        let _ = write!(
            out,
            "<div class=\"groups\">by <code>{}</code>: {}</div>",
            esc(&b.column),
            esc(&crate::wording::groups(b))
        );
    }
}

/// Writes one finding's row, its sample and SQL folded under its message.
fn finding_row(out: &mut String, severity: Severity, f: &Finding) {
    let mut more = String::new();
    if let Some(facts) = &f.facts {
        facts_html(&mut more, facts);
    }
    if !f.sample.is_empty() {
        let _ = write!(
            more,
            "<details><summary>sample ({} rows)</summary>{}</details>",
            f.sample.len(),
            sample_table(&f.sample)
        );
    }
    if let Some(sql) = &f.sql {
        let _ = write!(
            more,
            "<details><summary>SQL that ran</summary><pre>{}</pre></details>",
            esc(sql)
        );
    }
    if let Some(sql) = &f.sample_sql {
        let _ = write!(
            more,
            "<details><summary>sample SQL</summary><pre>{}</pre></details>",
            esc(sql)
        );
    }
    let _ = writeln!(
        out,
        "<tr class=\"sev-{}\"><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td><td>{}{more}</td></tr>",
        severity_class(severity),
        f.check.as_str(),
        esc(&f.location()),
        f.count_text(),
        esc(&f.message)
    );
}

/// The latency section's first table: each category's slowest statement
/// against its threshold, as a bar.
fn category_latencies(out: &mut String, report: &Report) {
    let plan = report.plan;
    out.push_str("<h2>Latency by category</h2>\n<table>\n<tr><th>category</th><th>statements</th><th>slowest</th><th>threshold</th><th></th></tr>\n");
    for category in Category::ALL {
        let times: Vec<f64> = plan
            .statements
            .iter()
            .zip(&report.result.statement_elapsed)
            .filter(|(s, _)| s.category == category)
            .filter_map(|(_, e)| e.map(|d| d.as_secs_f64() * 1000.0))
            .collect();
        if times.is_empty() {
            continue;
        }
        let slowest = times.iter().copied().fold(0.0, f64::max);
        let threshold = plan.thresholds.for_category(category) as f64;
        let width = (slowest / threshold.max(1.0) * 200.0).min(300.0);
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{slowest:.1} ms</td><td class=\"n\">{threshold:.0} ms</td><td><span class=\"bar{}\" style=\"width:{width:.0}px\"></span></td></tr>",
            category.as_str(),
            times.len(),
            if slowest > threshold { " over" } else { "" }
        );
    }
    out.push_str("</table>\n");
}

/// The latency section's second table: every statement's time against its
/// threshold.
fn statement_latencies(out: &mut String, report: &Report) {
    out.push_str("<table>\n<tr><th>statement</th><th>category</th><th>checks</th><th>elapsed</th><th>threshold</th></tr>\n");
    for (statement, elapsed) in report
        .plan
        .statements
        .iter()
        .zip(&report.result.statement_elapsed)
    {
        let ms = elapsed.map(|d| d.as_secs_f64() * 1000.0);
        let over = ms.is_some_and(|m| m > statement.threshold_ms as f64);
        let _ = writeln!(
            out,
            "<tr{}><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{} ms</td></tr>",
            if over { " class=\"sev-warning\"" } else { "" },
            esc(&statement.key),
            statement.category,
            statement.checks.len(),
            ms.map(|m| format!("{m:.1} ms"))
                .unwrap_or_else(|| "–".into()),
            statement.threshold_ms
        );
    }
    out.push_str("</table>\n");
}

/// The relationships section: every relationship, where it comes from and
/// how it is kept.
fn relationships_section(out: &mut String, plan: &crate::checks::plan::Plan) {
    out.push_str("<h2>Relationships</h2>\n<table>\n<tr><th>child</th><th>parent</th><th>source</th><th>constraint</th><th>on delete</th><th>indexed</th></tr>\n");
    for r in &plan.relationships {
        let label = r.label(&plan.schema);
        let _ = writeln!(
            out,
            "<tr><td>{}({})</td><td>{}({})</td><td>{:?}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&label.child_table),
            esc(&label.child_columns.join(", ")),
            esc(&label.parent_table),
            esc(&label.parent_columns.join(", ")),
            r.source,
            esc(r.constraint.as_ref().map_or("", |c| c.name.as_str())),
            r.constraint.as_ref().map_or("–", |c| c.on_delete.as_str()),
            if r.indexed { "yes" } else { "no" }
        );
    }
    out.push_str("</table>\n");
}

/// One section per metric query: its rows, or why it failed.
fn metric_sections(out: &mut String, report: &Report) {
    for (metric, outcome) in report.plan.metrics.iter().zip(&report.result.metrics) {
        let _ = writeln!(out, "<h2>Metric: {}</h2>", esc(&metric.name));
        match outcome {
            Some((_, Ok(rows))) => out.push_str(&sample_table(rows)),
            Some((_, Err(e))) => {
                let _ = writeln!(out, "<p>failed: {}</p>", esc(e));
            }
            None => {}
        }
    }
}

/// The report as one HTML document.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    header(&mut out, report);
    graph_section(&mut out, report);
    findings_section(&mut out, &report.result.findings);
    category_latencies(&mut out, report);
    statement_latencies(&mut out, report);
    relationships_section(&mut out, report.plan);
    metric_sections(&mut out, report);
    out.push_str("\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    /// The chart is on a time axis: a minute without rows is a gap, not
    /// left out.
    #[test]
    fn a_timeline_chart_keeps_its_empty_buckets_as_gaps() {
        let timeline = crate::timeline::Timeline {
            column: "created_at".into(),
            chosen: "detected",
            first_at: Some("2026-03-14 02:00:10".into()),
            last_at: Some("2026-03-14 02:03:20".into()),
            rows: 3,
            untimed: 0,
            unit: crate::timeline::Unit::Minute,
            buckets: vec![
                ("2026-03-14 02:00:00".into(), 2),
                ("2026-03-14 02:03:00".into(), 1),
            ],
        };
        let mut out = String::new();
        super::facts_html(
            &mut out,
            &crate::timeline::Facts {
                timeline: Some(timeline),
                ..Default::default()
            },
        );
        assert!(out.contains("width=\"32\""), "{out}");
        assert!(out.contains("<rect x=\"0.0\""), "{out}");
        assert!(out.contains("<rect x=\"24.0\""), "{out}");
        assert!(out.contains("2026-03-14 02:03:00 UTC: 1"), "{out}");
        assert_eq!(out.matches("<rect").count(), 2);
    }
}
