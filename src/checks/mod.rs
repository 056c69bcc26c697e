//! What tether checks: the stable check ids, severities and query categories,
//! and the plan that turns a catalog and a profile into checks.

pub mod plan;

use serde::{Deserialize, Serialize};
use strum::{Display, IntoStaticStr};

/// A check's stable id (the brief's table).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    IntoStaticStr,
    Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
        self.into()
    }

    pub fn default_severity(self) -> Severity {
        match self {
            CheckId::FkNotEnforced | CheckId::FkUnindexed | CheckId::SlowCheck => Severity::Warning,
            CheckId::ImpliedFk => Severity::Info,
            _ => Severity::Error,
        }
    }
}

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    IntoStaticStr,
    Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What kind of query a check is, for latency thresholds.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    IntoStaticStr,
    Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
        self.into()
    }
}
