//! Prometheus text exposition for `tether watch --metrics-addr`: findings by
//! check and severity, orphan and tenant counts as labelled gauges, a
//! check-duration histogram by category, `tether_up` and the last success.

use crate::checks::plan::{Plan, Work};
use crate::checks::{Category, CheckId};
use crate::findings::Subject;
use crate::runner::RunResult;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// Upper bounds of the duration histogram, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Clone, Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// What the metrics endpoint serves, updated after each run.
#[derive(Debug, Default)]
pub struct Exposition {
    up: bool,
    last_success: Option<SystemTime>,
    last: Option<(std::sync::Arc<Plan>, RunResult)>,
    durations: BTreeMap<Category, Histogram>,
    runs: u64,
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

impl Exposition {
    pub fn set_up(&mut self, up: bool) {
        self.up = up;
    }

    /// Takes in a finished run.
    pub fn record(&mut self, plan: std::sync::Arc<Plan>, result: RunResult, at: SystemTime) {
        for (statement, elapsed) in plan.statements.iter().zip(&result.statement_elapsed) {
            let Some(elapsed) = elapsed else { continue };
            let seconds = elapsed.as_secs_f64();
            let h = self.durations.entry(statement.category).or_default();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += seconds;
        }
        self.runs += 1;
        self.up = true;
        self.last_success = Some(at);
        self.last = Some((plan, result));
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let family = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            name.to_string()
        };
        let up = family(
            &mut out,
            "tether_up",
            "gauge",
            "1 when the last attempt reached the database.",
        );
        let _ = writeln!(out, "{up} {}", u8::from(self.up));
        let name = family(
            &mut out,
            "tether_last_success_timestamp_seconds",
            "gauge",
            "When the last complete run ended (Unix time).",
        );
        let when = self
            .last_success
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0.0, |d| d.as_secs_f64());
        let _ = writeln!(out, "{name} {when:.3}");
        let name = family(
            &mut out,
            "tether_runs_total",
            "counter",
            "Complete runs since start.",
        );
        let _ = writeln!(out, "{name} {}", self.runs);

        if let Some((plan, result)) = &self.last {
            let name = family(
                &mut out,
                "tether_findings",
                "gauge",
                "Findings of the last run, by check and severity.",
            );
            let mut by: BTreeMap<(&str, &str), u64> = BTreeMap::new();
            for id in CheckId::ALL {
                by.insert((id.as_str(), id.default_severity().as_str()), 0);
            }
            for f in &result.findings {
                *by.entry((f.check.as_str(), f.severity.as_str()))
                    .or_default() += 1;
            }
            for ((check, severity), n) in by {
                let _ = writeln!(
                    out,
                    "{name}{} {n}",
                    labels(&[("check", check), ("severity", severity)])
                );
            }
            let name = family(
                &mut out,
                "tether_checks_run",
                "gauge",
                "Checks in the last run.",
            );
            let _ = writeln!(out, "{name} {}", result.checks_run);
            let name = family(
                &mut out,
                "tether_run_duration_seconds",
                "gauge",
                "Wall time of the last run.",
            );
            let _ = writeln!(out, "{name} {:.6}", result.elapsed.as_secs_f64());

            let mut gauges: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for (check, outcome) in plan.checks.iter().zip(&result.outcomes) {
                let Some(count) = outcome.as_ref().and_then(|o| o.count) else {
                    continue;
                };
                if !matches!(check.work, Work::Rows(_)) {
                    continue;
                }
                let (metric, l) = match (&check.id, &check.subject) {
                    (CheckId::Orphans, Subject::Relationship(r)) => (
                        "tether_orphans",
                        labels(&[
                            ("child_table", &r.child_table),
                            ("child_columns", &r.child_columns.join(",")),
                            ("parent_table", &r.parent_table),
                            ("parent_columns", &r.parent_columns.join(",")),
                        ]),
                    ),
                    (CheckId::TenantMissing, Subject::Column { table, column }) => (
                        "tether_tenant_missing",
                        labels(&[("table", table), ("column", column)]),
                    ),
                    (
                        CheckId::TenantMismatch,
                        Subject::RelationshipColumn {
                            relationship: r,
                            column,
                        },
                    ) => (
                        "tether_tenant_mismatch",
                        labels(&[
                            ("child_table", &r.child_table),
                            ("child_columns", &r.child_columns.join(",")),
                            ("parent_table", &r.parent_table),
                            ("parent_columns", &r.parent_columns.join(",")),
                            ("column", column),
                        ]),
                    ),
                    (CheckId::PathMismatch, Subject::Path { table, name }) => (
                        "tether_path_mismatch",
                        labels(&[("table", table), ("name", name)]),
                    ),
                    _ => continue,
                };
                gauges
                    .entry(metric)
                    .or_default()
                    .push(format!("{metric}{l} {count}"));
            }
            for (metric, help) in [
                (
                    "tether_orphans",
                    "Child rows whose reference matches no parent row, per relationship.",
                ),
                (
                    "tether_tenant_missing",
                    "Rows with a NULL tenant column, per table and column.",
                ),
                (
                    "tether_tenant_mismatch",
                    "Child rows whose tenant differs from their parent's.",
                ),
                (
                    "tether_path_mismatch",
                    "Rows where a profile path disagrees.",
                ),
            ] {
                family(&mut out, metric, "gauge", help);
                for line in gauges.get(metric).into_iter().flatten() {
                    let _ = writeln!(out, "{line}");
                }
            }
        }

        let name = family(
            &mut out,
            "tether_check_duration_seconds",
            "histogram",
            "Statement latency by query category.",
        );
        for (category, h) in &self.durations {
            for (i, bound) in BUCKETS.iter().enumerate() {
                let le = format!("{bound}");
                let _ = writeln!(
                    out,
                    "{name}_bucket{} {}",
                    labels(&[("category", category.as_str()), ("le", &le)]),
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "{name}_bucket{} {}",
                labels(&[("category", category.as_str()), ("le", "+Inf")]),
                h.count
            );
            let _ = writeln!(
                out,
                "{name}_sum{} {:.6}",
                labels(&[("category", category.as_str())]),
                h.sum
            );
            let _ = writeln!(
                out,
                "{name}_count{} {}",
                labels(&[("category", category.as_str())]),
                h.count
            );
        }
        out
    }
}
