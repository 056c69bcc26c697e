//! The relationship graph as Graphviz DOT or Mermaid, edges labelled with their
//! columns and delete rule and coloured by the worst finding on them.

use super::Report;
use crate::checks::Severity;
use crate::graph::Graph;
use std::fmt::Write;

pub fn color(severity: Option<Severity>) -> &'static str {
    match severity {
        Some(Severity::Error) => "#d62728",
        Some(Severity::Warning) => "#e6a700",
        Some(Severity::Info) => "#1f77b4",
        None => "#2ca02c",
    }
}

fn dot_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn dot(report: &Report) -> String {
    let plan = report.plan;
    let graph = Graph::build(plan);
    let worst = graph.worst_per_edge(plan, &report.result.findings);
    let mut out = String::from(
        "digraph tether {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
    );
    for node in &graph.nodes {
        let rows = node
            .rows
            .map(|r| format!("\\n{} rows", crate::wording::thousands(r.max(0) as u64)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {} [label={}];",
            dot_string(&node.label),
            dot_string(&format!("{}{rows}", node.label)).replace("\\\\n", "\\n")
        );
    }
    for (edge, severity) in graph.edges.iter().zip(&worst) {
        let r = &plan.relationships[edge.relationship];
        let style = if r.constraint.is_some() {
            "solid"
        } else {
            "dashed"
        };
        // Parent → child: parents before children, as in the UI.
        let _ = writeln!(
            out,
            "  {} -> {} [label={}, color=\"{}\", fontcolor=\"{}\", style={style}];",
            dot_string(&graph.nodes[edge.parent].label),
            dot_string(&graph.nodes[edge.child].label),
            dot_string(&edge.label),
            color(*severity),
            color(*severity),
        );
    }
    out.push_str("}\n");
    out
}

fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;")
}

pub fn mermaid(report: &Report) -> String {
    let plan = report.plan;
    let graph = Graph::build(plan);
    let worst = graph.worst_per_edge(plan, &report.result.findings);
    let mut out = String::from("flowchart LR\n");
    for (i, node) in graph.nodes.iter().enumerate() {
        let _ = writeln!(out, "  t{i}[\"{}\"]", mermaid_text(&node.label));
    }
    for (i, (edge, _)) in graph.edges.iter().zip(&worst).enumerate() {
        let arrow = if plan.relationships[edge.relationship].constraint.is_some() {
            "-->"
        } else {
            "-.->"
        };
        let _ = writeln!(
            out,
            "  t{} {arrow}|\"{}\"| t{}",
            edge.parent,
            mermaid_text(&edge.label),
            edge.child
        );
        let _ = i;
    }
    for (i, severity) in worst.iter().enumerate() {
        let _ = writeln!(
            out,
            "  linkStyle {i} stroke:{},stroke-width:2px",
            color(*severity)
        );
    }
    out
}
