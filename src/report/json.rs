//! The JSON report (`tether check --format json`), as the brief's contract.

use super::Report;
use crate::checks::CheckId;
use crate::findings::{Finding, Summary};
use crate::relationships::Source;
use serde::Serialize;
use serde_json::Value;

#[derive(Serialize)]
struct Document<'a> {
    tether: &'static str,
    database: Database<'a>,
    profile: Option<&'a str>,
    findings: &'a [Finding],
    relationships: Relationships<'a>,
    metrics: Vec<Metric<'a>>,
    /// Every statement that ran, with its latency.
    statements: Vec<StatementTiming<'a>>,
    summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<BaselineSummary<'a>>,
    /// Wall time of the run (catalog reads not included).
    elapsed_ms: f64,
    /// The sum of every statement's latency, catalog reads included.
    statements_ms: f64,
    /// Whether every check read one snapshot (PostgreSQL).
    consistent_snapshot: bool,
}

#[derive(Serialize)]
struct Database<'a> {
    engine: &'static str,
    server_version: &'a str,
    /// Host, port, database and user; never the password.
    target: String,
}

/// The plan's relationships, each built as it is written.
struct Relationships<'a> {
    plan: &'a crate::checks::plan::Plan,
    /// The relationships a finding proves unenforced: (child, columns, parent).
    unenforced: std::collections::HashSet<(&'a str, &'a [String], &'a str)>,
}

impl Serialize for Relationships<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let plan = self.plan;
        serializer.collect_seq(plan.relationships.iter().map(|r| {
            let label = r.label(&plan.schema);
            let violated = self.unenforced.contains(&(
                label.child_table.as_str(),
                label.child_columns.as_slice(),
                label.parent_table.as_str(),
            ));
            Relationship {
                child_table: label.child_table,
                child_columns: label.child_columns,
                parent_table: label.parent_table,
                parent_columns: label.parent_columns,
                source: r.source,
                constraint: r.constraint.as_ref().map(|c| c.name.clone()),
                on_delete: r.constraint.as_ref().map(|c| c.on_delete.as_str()),
                expected_on_delete: r.expected_on_delete.map(|a| a.as_str()),
                enforced: r.constraint.is_some() && !violated,
                indexed: r.indexed,
            }
        }))
    }
}

#[derive(Serialize)]
struct Relationship {
    child_table: String,
    child_columns: Vec<String>,
    parent_table: String,
    parent_columns: Vec<String>,
    source: Source,
    constraint: Option<String>,
    on_delete: Option<&'static str>,
    expected_on_delete: Option<&'static str>,
    enforced: bool,
    indexed: bool,
}

#[derive(Serialize)]
struct BaselineSummary<'a> {
    /// Findings the baseline accepts, left out of `findings`.
    accepted: usize,
    /// Accepted findings that are gone.
    resolved: &'a [crate::baseline::Accepted],
}

#[derive(Serialize)]
struct StatementTiming<'a> {
    key: &'a str,
    /// `catalog` (a catalog read), `pass` (a statement of the plan), `retry`
    /// (a check of a failed shared pass, run alone), `metric` or `timeline`
    /// (timelines and breakdowns of a table's checks read apart).
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<crate::checks::Category>,
    checks: usize,
    elapsed_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold_ms: Option<u64>,
}

#[derive(Serialize)]
struct Metric<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    rows: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    elapsed_ms: Option<f64>,
}

pub fn render(report: &Report) -> String {
    let mut out = Vec::new();
    write(report, &mut out).expect("a report serialises into memory");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// Writes the report to `out` as it serialises, so that a report of tens of
/// thousands of findings is never held whole in memory.
pub fn write(report: &Report, out: impl std::io::Write) -> std::io::Result<()> {
    let plan = report.plan;
    let result = report.result;
    // The relationships a finding proves unenforced, found once.
    let unenforced: std::collections::HashSet<(&str, &[String], &str)> = result
        .findings
        .iter()
        .filter(|f| f.check == CheckId::FkNotEnforced)
        .filter_map(|f| {
            Some((
                f.child_table.as_deref()?,
                f.child_columns.as_deref()?,
                f.parent_table.as_deref()?,
            ))
        })
        .collect();
    let relationships = Relationships { plan, unenforced };
    let metrics = plan
        .metrics
        .iter()
        .zip(&result.metrics)
        .map(|(m, outcome)| {
            let (rows, error, elapsed) = match outcome {
                Some((elapsed, Ok(rows))) => (
                    rows.iter().cloned().map(Value::Object).collect(),
                    None,
                    Some(ms(*elapsed)),
                ),
                Some((elapsed, Err(e))) => (Vec::new(), Some(e.as_str()), Some(ms(*elapsed))),
                None => (Vec::new(), None, None),
            };
            Metric {
                name: &m.name,
                description: m.description.as_deref(),
                rows,
                error,
                elapsed_ms: elapsed,
            }
        })
        .collect();
    let statements = statement_timings(plan, result);
    let statements_ms = ms(result.statements_total(plan));
    let document = Document {
        tether: env!("CARGO_PKG_VERSION"),
        database: Database {
            engine: plan.engine.name(),
            server_version: report.server_version,
            target: report.target.to_string(),
        },
        profile: plan.profile.as_deref(),
        findings: &result.findings,
        relationships,
        metrics,
        statements,
        summary: result.summary(),
        baseline: report.baseline.map(|b| BaselineSummary {
            accepted: b.accepted,
            resolved: &b.resolved,
        }),
        elapsed_ms: ms(result.elapsed),
        statements_ms,
        consistent_snapshot: result.shared_snapshot,
    };
    use std::io::Write;
    let mut out = std::io::BufWriter::new(out);
    serde_json::to_writer_pretty(&mut out, &document)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Every statement sent, in order: catalog reads, passes over a sample for a
/// first estimate, the plan's statements, checks retried alone, metrics,
/// timelines read apart.
fn statement_timings<'a>(
    plan: &'a crate::checks::plan::Plan,
    result: &'a crate::runner::RunResult,
) -> Vec<StatementTiming<'a>> {
    let catalog = plan.schema.reads.0.iter().map(|r| StatementTiming {
        key: r.key,
        kind: "catalog",
        category: None,
        checks: 0,
        elapsed_ms: Some(ms(r.elapsed)),
        threshold_ms: None,
    });
    let passes = plan
        .statements
        .iter()
        .zip(&result.statement_elapsed)
        .map(|(s, elapsed)| StatementTiming {
            key: &s.key,
            // Over a sample of its table (`check --estimate`).
            kind: if result.sampled && s.sampling.is_some() {
                "estimate"
            } else {
                "pass"
            },
            category: Some(s.category),
            checks: s.checks.len(),
            elapsed_ms: elapsed.map(ms),
            threshold_ms: Some(s.threshold_ms),
        });
    let retried = result
        .retried
        .iter()
        .map(|(s, key, _, elapsed)| StatementTiming {
            key,
            kind: "retry",
            category: Some(plan.statements[*s].category),
            checks: 1,
            elapsed_ms: Some(ms(*elapsed)),
            threshold_ms: Some(plan.statements[*s].threshold_ms),
        });
    let estimated_first = result
        .estimated_first
        .iter()
        .map(|(s, elapsed)| StatementTiming {
            key: &plan.statements[*s].key,
            kind: "estimate",
            category: Some(plan.statements[*s].category),
            checks: plan.statements[*s].checks.len(),
            elapsed_ms: Some(ms(*elapsed)),
            threshold_ms: Some(plan.statements[*s].threshold_ms),
        });
    let metric_statements = plan
        .metrics
        .iter()
        .zip(&result.metrics)
        .map(|(m, outcome)| StatementTiming {
            key: &m.name,
            kind: "metric",
            category: Some(m.category),
            checks: 0,
            elapsed_ms: outcome.as_ref().map(|(elapsed, _)| ms(*elapsed)),
            threshold_ms: None,
        });
    let apart = result.read_apart.iter().map(|apart| StatementTiming {
        key: &apart.key,
        kind: "timeline",
        category: None,
        checks: apart.checks,
        elapsed_ms: Some(ms(apart.elapsed)),
        threshold_ms: None,
    });
    catalog
        .chain(estimated_first)
        .chain(passes)
        .chain(retried)
        .chain(metric_statements)
        .chain(apart)
        .collect()
}

fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}
