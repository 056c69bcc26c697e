//! Prometheus text exposition for `tether watch --metrics-addr`: findings by
//! check and severity, orphan and tenant counts as labelled gauges, a
//! check-duration histogram by category, `tether_up` and the last success.
//!
//! The metrics live in a `prometheus-client` registry, which writes the text
//! format (names, label escaping, `le` buckets) the way Prometheus reads it.

use crate::checks::plan::{Plan, Work};
use crate::checks::{Category, CheckId};
use crate::findings::{RelationshipLabel, Subject};
use crate::runner::RunResult;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::time::{SystemTime, UNIX_EPOCH};

/// The `Content-Type` of what [`Exposition::render`] writes.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Upper bounds of the duration histogram, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A metric's labels, in the order they are written.
type Labels = Vec<(&'static str, String)>;
type FloatGauge = Gauge<f64, AtomicU64>;
type Durations = Family<Labels, Histogram, fn() -> Histogram>;

/// The gauges of one run's row counts, by the check they count.
#[derive(Default)]
struct RowCounts {
    orphans: Family<Labels, Gauge>,
    tenant_missing: Family<Labels, Gauge>,
    tenant_mismatch: Family<Labels, Gauge>,
    path_mismatch: Family<Labels, Gauge>,
}

/// What the metrics endpoint serves, updated after each run.
pub struct Exposition {
    registry: Registry,
    up: Gauge,
    last_success: FloatGauge,
    runs: Counter,
    findings: Family<Labels, Gauge>,
    checks_run: Gauge,
    run_duration: FloatGauge,
    rows: RowCounts,
    durations: Durations,
    /// The last run's gauges are written only once there was a run.
    recorded: bool,
}

impl std::fmt::Debug for Exposition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exposition")
            .field("up", &self.up.get())
            .field("runs", &self.runs.get())
            .finish_non_exhaustive()
    }
}

impl Default for Exposition {
    fn default() -> Self {
        let mut registry = Registry::default();
        let up = Gauge::default();
        registry.register(
            "tether_up",
            "1 when the last attempt reached the database",
            up.clone(),
        );
        let last_success = FloatGauge::default();
        registry.register(
            "tether_last_success_timestamp_seconds",
            "When the last complete run ended (Unix time)",
            last_success.clone(),
        );
        let runs = Counter::default();
        registry.register("tether_runs", "Complete runs since start", runs.clone());
        Exposition {
            registry,
            up,
            last_success,
            runs,
            findings: Family::default(),
            checks_run: Gauge::default(),
            run_duration: FloatGauge::default(),
            rows: RowCounts::default(),
            durations: Family::new_with_constructor(|| Histogram::new(BUCKETS)),
            recorded: false,
        }
    }
}

impl Exposition {
    pub fn set_up(&mut self, up: bool) {
        self.up.set(i64::from(up));
    }

    /// Takes in a finished run.
    pub fn record(&mut self, plan: &Plan, result: &RunResult, at: SystemTime) {
        for (statement, elapsed) in plan.statements.iter().zip(&result.statement_elapsed) {
            if let Some(elapsed) = elapsed {
                self.durations
                    .get_or_create(&category_labels(statement.category))
                    .observe(elapsed.as_secs_f64());
            }
        }
        self.runs.inc();
        self.up.set(1);
        let when = at
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.last_success.set(when);
        self.record_findings(plan, result);
        self.checks_run.set(gauge_value(result.checks_run as u64));
        self.run_duration.set(result.elapsed.as_secs_f64());
        self.record_row_counts(plan, result);
        self.register_run_metrics();
    }

    /// Findings by check and severity; every check is listed, at 0 when it
    /// found nothing. A kind of check of which one could not run this time
    /// is left out: its number is unknown, not the smaller number of the
    /// checks that ran (`check_failed` says which failed).
    fn record_findings(&self, plan: &Plan, result: &RunResult) {
        self.findings.clear();
        let unknown: Vec<CheckId> = plan
            .checks
            .iter()
            .zip(&result.outcomes)
            .filter(|(_, o)| o.as_ref().is_some_and(|o| o.error.is_some()))
            .map(|(check, _)| check.id)
            .collect();
        let known = |id: &CheckId| !unknown.contains(id);
        for id in CheckId::ALL.into_iter().filter(known) {
            self.findings
                .get_or_create(&finding_labels(id, id.default_severity().as_str()))
                .set(0);
        }
        for f in result.findings.iter().filter(|f| known(&f.check)) {
            self.findings
                .get_or_create(&finding_labels(f.check, f.severity.as_str()))
                .inc();
        }
    }

    /// Each row-level check's count, labelled by what it is about.
    fn record_row_counts(&self, plan: &Plan, result: &RunResult) {
        let rows = &self.rows;
        for family in [
            &rows.orphans,
            &rows.tenant_missing,
            &rows.tenant_mismatch,
            &rows.path_mismatch,
        ] {
            family.clear();
        }
        for (check, outcome) in plan.checks.iter().zip(&result.outcomes) {
            let Some(count) = outcome.as_ref().and_then(|o| o.count) else {
                continue;
            };
            if !matches!(check.work, Work::Rows(_)) {
                continue;
            }
            let (family, labels) = match (&check.id, &check.subject) {
                (CheckId::Orphans, Subject::Relationship(r)) => {
                    (&rows.orphans, relationship_labels(r))
                }
                (CheckId::TenantMissing, Subject::Column { table, column }) => (
                    &rows.tenant_missing,
                    vec![("table", table.clone()), ("column", column.clone())],
                ),
                (
                    CheckId::TenantMismatch,
                    Subject::RelationshipColumn {
                        relationship,
                        column,
                    },
                ) => {
                    let mut labels = relationship_labels(relationship);
                    labels.push(("column", column.clone()));
                    (&rows.tenant_mismatch, labels)
                }
                (CheckId::PathMismatch, Subject::Path { table, name }) => (
                    &rows.path_mismatch,
                    vec![("table", table.clone()), ("name", name.clone())],
                ),
                _ => continue,
            };
            family.get_or_create(&labels).set(gauge_value(count));
        }
    }

    /// The metrics of the last run join the registry with the first run.
    fn register_run_metrics(&mut self) {
        if std::mem::replace(&mut self.recorded, true) {
            return;
        }
        let registry = &mut self.registry;
        registry.register(
            "tether_findings",
            "Findings of the last run, by check and severity",
            self.findings.clone(),
        );
        registry.register(
            "tether_checks_run",
            "Checks in the last run",
            self.checks_run.clone(),
        );
        registry.register(
            "tether_run_duration_seconds",
            "Wall time of the last run",
            self.run_duration.clone(),
        );
        for (name, help, family) in [
            (
                "tether_orphans",
                "Child rows whose reference matches no parent row, per relationship",
                &self.rows.orphans,
            ),
            (
                "tether_tenant_missing",
                "Rows with a NULL tenant column, per table and column",
                &self.rows.tenant_missing,
            ),
            (
                "tether_tenant_mismatch",
                "Child rows whose tenant differs from their parent's",
                &self.rows.tenant_mismatch,
            ),
            (
                "tether_path_mismatch",
                "Rows where a profile path disagrees",
                &self.rows.path_mismatch,
            ),
        ] {
            registry.register(name, help, family.clone());
        }
        registry.register(
            "tether_check_duration_seconds",
            "Statement latency by query category",
            self.durations.clone(),
        );
    }

    /// The exposition in the Prometheus text format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_text::encode(&mut out, &self.registry)
            .expect("writing to a String does not fail");
        out
    }
}

fn gauge_value(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn category_labels(category: Category) -> Labels {
    vec![("category", category.as_str().to_string())]
}

fn finding_labels(check: CheckId, severity: &str) -> Labels {
    vec![
        ("check", check.as_str().to_string()),
        ("severity", severity.to_string()),
    ]
}

fn relationship_labels(r: &RelationshipLabel) -> Labels {
    vec![
        ("child_table", r.child_table.clone()),
        ("child_columns", r.child_columns.join(",")),
        ("parent_table", r.parent_table.clone()),
        ("parent_columns", r.parent_columns.join(",")),
    ]
}
