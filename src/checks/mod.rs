//! What tether checks: the stable check ids, severities and query categories,
//! and the plan that turns a catalog and a profile into checks.

pub mod plan;

use serde::{Deserialize, Serialize};
use std::fmt;

/// A check's stable id (the brief's table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    FkMissing,
    FkDeleteRule,
    FkNotEnforced,
    Orphans,
    FkUnindexed,
    ImpliedFk,
    TenantMissing,
    TenantMismatch,
    PathMismatch,
    SlowCheck,
    Custom,
    CheckFailed,
}

impl CheckId {
    pub const ALL: [CheckId; 12] = [
        CheckId::FkMissing,
        CheckId::FkDeleteRule,
        CheckId::FkNotEnforced,
        CheckId::Orphans,
        CheckId::FkUnindexed,
        CheckId::ImpliedFk,
        CheckId::TenantMissing,
        CheckId::TenantMismatch,
        CheckId::PathMismatch,
        CheckId::SlowCheck,
        CheckId::Custom,
        CheckId::CheckFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::FkMissing => "fk_missing",
            CheckId::FkDeleteRule => "fk_delete_rule",
            CheckId::FkNotEnforced => "fk_not_enforced",
            CheckId::Orphans => "orphans",
            CheckId::FkUnindexed => "fk_unindexed",
            CheckId::ImpliedFk => "implied_fk",
            CheckId::TenantMissing => "tenant_missing",
            CheckId::TenantMismatch => "tenant_mismatch",
            CheckId::PathMismatch => "path_mismatch",
            CheckId::SlowCheck => "slow_check",
            CheckId::Custom => "custom",
            CheckId::CheckFailed => "check_failed",
        }
    }

    pub fn default_severity(self) -> Severity {
        match self {
            CheckId::FkNotEnforced | CheckId::FkUnindexed | CheckId::SlowCheck => Severity::Warning,
            CheckId::ImpliedFk => Severity::Info,
            _ => Severity::Error,
        }
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of query a check is, for latency thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Simple,
    Join,
    Constraint,
    Batch,
    Aggregation,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Simple,
        Category::Join,
        Category::Constraint,
        Category::Batch,
        Category::Aggregation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Simple => "simple",
            Category::Join => "join",
            Category::Constraint => "constraint",
            Category::Batch => "batch",
            Category::Aggregation => "aggregation",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
