//! Findings: what checks report. Serialises to the JSON contract in the brief.

use crate::checks::{Category, CheckId, Severity};
use crate::db::SampleRow;
use crate::model::{ReferentialAction, RelationshipId};
use crate::wording::thousands;
use serde::Serialize;
use std::sync::Arc;

/// What a finding is about, with tables named as reports name them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A relationship (orphans, fk_* checks, implied_fk); shared by the
    /// checks of one relationship.
    Relationship(Arc<RelationshipLabel>),
    /// A column of a table (tenant_missing).
    Column { table: String, column: String },
    /// A tenant column compared across a relationship (tenant_mismatch).
    RelationshipColumn {
        relationship: Arc<RelationshipLabel>,
        column: String,
    },
    /// A profile path rule on a table (path_mismatch).
    Path { table: String, name: String },
    /// A profile assertion or metric, by name.
    Named { name: String },
    /// A table (a shared scan that was slow or failed).
    Table { table: String },
    /// The database as a whole.
    Database,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RelationshipLabel {
    pub child_table: String,
    pub child_columns: Vec<String>,
    pub parent_table: String,
    pub parent_columns: Vec<String>,
}

impl RelationshipLabel {
    /// `assets(discovery_flow_id) → discovery_flows(flow_id)`
    pub fn arrow(&self) -> String {
        format!(
            "{}({}) → {}({})",
            self.child_table,
            self.child_columns.join(", "),
            self.parent_table,
            self.parent_columns.join(", ")
        )
    }
}

impl Subject {
    /// A short human name: `assets.engagement_id`, `assets(x) → p(id)`.
    pub fn describe(&self) -> String {
        match self {
            Subject::Relationship(r) => r.arrow(),
            Subject::Column { table, column } => format!("{table}.{column}"),
            Subject::RelationshipColumn {
                relationship,
                column,
            } => {
                format!("{} [{column}]", relationship.arrow())
            }
            Subject::Path { table, name } => format!("{table}: {name}"),
            Subject::Named { name } => name.clone(),
            Subject::Table { table } => table.clone(),
            Subject::Database => "database".to_string(),
        }
    }
}

/// A finding's stable key, the one baselines, `watch` and JSON match on:
/// the check's id, then what the finding is about, joined by `:`. `about`
/// is the subject's description (`orphans:assets(x) → p(id)`), a check's or
/// statement's key (`check_failed:…`, `slow_check:…`), and for a probe's
/// findings `probe` before it.
pub fn finding_key(id: CheckId, about: &[&str]) -> String {
    let mut key = id.as_str().to_string();
    for part in about {
        key.push(':');
        key.push_str(part);
    }
    key
}

/// How an estimated count was reached: from a sample of the table, scaled
/// up. An estimate is never presented as exact: reports mark it `≈`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// Rows the sample read.
    pub sampled_rows: u64,
    /// Offending rows among them.
    pub sampled_count: u64,
    /// The share of the table the sample covered, above 0 and below 1.
    pub fraction: f64,
    /// How the sample was taken, in words.
    pub basis: String,
}

impl Estimate {
    /// `count` of the sample scaled to the whole table.
    pub fn scaled(count: u64, fraction: f64) -> u64 {
        (count as f64 / fraction).round() as u64
    }
}

/// One thing a check found. Optional fields are left out of JSON when empty.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    pub check: CheckId,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_table: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_columns: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_table: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_columns: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<ReferentialAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<ReferentialAction>,
    /// Rows found (orphans, tenant gaps, mismatches, assertion rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// When the rows were written and whose they are (row checks whose
    /// table has a time or breakdown column, counted exactly).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub facts: Option<Box<crate::timeline::Facts>>,
    /// Rows in the table the count is out of, when the check's query counted them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Set when `count` and `total` are estimates from a sample, not exact
    /// (boxed: most findings have none, and a schema has tens of thousands).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<Box<Estimate>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sample: Vec<SampleRow>,
    pub message: String,
    /// The statement that produced the count, exactly as it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// The statement that fetched the sample.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_sql: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold_ms: Option<u64>,
    /// The key of the check that produced it (stable across runs).
    pub key: String,
    /// Which of the plan's checks produced it, once a run's result holds it
    /// (reports by check group by it); not part of the report.
    #[serde(skip)]
    pub plan_check: Option<u32>,
    /// Which of the plan's relationships a probe's finding is about (a
    /// check's finding has its check's); not part of the report.
    #[serde(skip)]
    pub probed: Option<RelationshipId>,
}

impl Finding {
    /// The count as a report prints it: `≈ ` before an estimate.
    pub fn count_text(&self) -> String {
        match (self.count, &self.estimate) {
            (Some(n), Some(_)) => format!("≈ {}", thousands(n)),
            (Some(n), None) => thousands(n),
            (None, _) => String::new(),
        }
    }

    pub fn new(
        check: CheckId,
        severity: Severity,
        subject: &Subject,
        key: &str,
        message: String,
    ) -> Finding {
        let mut f = Finding {
            check,
            severity,
            child_table: None,
            child_columns: None,
            parent_table: None,
            parent_columns: None,
            table: None,
            column: None,
            name: None,
            constraint: None,
            expected: None,
            actual: None,
            count: None,
            facts: None,
            total: None,
            estimate: None,
            sample: Vec::new(),
            message,
            sql: None,
            sample_sql: None,
            category: None,
            elapsed_ms: None,
            threshold_ms: None,
            key: key.to_string(),
            plan_check: None,
            probed: None,
        };
        let mut relationship = |r: &RelationshipLabel| {
            f.child_table = Some(r.child_table.clone());
            f.child_columns = Some(r.child_columns.clone());
            f.parent_table = Some(r.parent_table.clone());
            f.parent_columns = Some(r.parent_columns.clone());
        };
        match subject {
            Subject::Relationship(r) => relationship(r),
            Subject::RelationshipColumn {
                relationship: r,
                column,
            } => {
                relationship(r);
                f.column = Some(column.clone());
            }
            Subject::Column { table, column } => {
                f.table = Some(table.clone());
                f.column = Some(column.clone());
            }
            Subject::Path { table, name } => {
                f.table = Some(table.clone());
                f.name = Some(name.clone());
            }
            Subject::Named { name } => f.name = Some(name.clone()),
            Subject::Table { table } => f.table = Some(table.clone()),
            Subject::Database => {}
        }
        f
    }

    /// Where the finding is, for one-line displays.
    pub fn location(&self) -> String {
        if let (Some(c), Some(cc), Some(p), Some(pc)) = (
            &self.child_table,
            &self.child_columns,
            &self.parent_table,
            &self.parent_columns,
        ) {
            let arrow = format!("{c}({}) → {p}({})", cc.join(", "), pc.join(", "));
            return match &self.column {
                Some(col) => format!("{arrow} [{col}]"),
                None => arrow,
            };
        }
        match (&self.table, &self.column, &self.name) {
            (Some(t), Some(c), _) => format!("{t}.{c}"),
            (Some(t), None, Some(n)) => format!("{t}: {n}"),
            (Some(t), None, None) => t.clone(),
            (None, _, Some(n)) => n.clone(),
            _ => String::new(),
        }
    }
}

/// Counts per severity, as in the JSON `summary`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
    pub checks_run: usize,
}

impl Summary {
    pub fn of(findings: &[Finding], checks_run: usize) -> Summary {
        let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
        Summary {
            error: count(Severity::Error),
            warning: count(Severity::Warning),
            info: count(Severity::Info),
            checks_run,
        }
    }

    /// The most severe level with any finding.
    pub fn worst(&self) -> Option<Severity> {
        if self.error > 0 {
            Some(Severity::Error)
        } else if self.warning > 0 {
            Some(Severity::Warning)
        } else if self.info > 0 {
            Some(Severity::Info)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relationship_findings_carry_both_ends() {
        let r = RelationshipLabel {
            child_table: "assets".into(),
            child_columns: vec!["discovery_flow_id".into()],
            parent_table: "discovery_flows".into(),
            parent_columns: vec!["flow_id".into()],
        };
        let f = Finding::new(
            CheckId::Orphans,
            Severity::Error,
            &Subject::Relationship(Arc::new(r)),
            "k",
            "m".into(),
        );
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["check"], "orphans");
        assert_eq!(json["child_table"], "assets");
        assert_eq!(json["parent_columns"][0], "flow_id");
        assert!(json.get("table").is_none());
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
