//! Profiles: TOML files of expectations about one schema (relationships and their
//! delete rules, tenant columns, paths that must agree, latency thresholds,
//! assertions and metric queries). Parsing only; matching a profile against a
//! catalog happens in `relationships` and `checks::plan`.

use crate::checks::{Category, Severity};
use crate::model::{Engine, ReferentialAction};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use toml::Spanned;

/// Profiles shipped inside the binary, by name.
pub const BUNDLED: &[(&str, &str)] = &[(
    "discovery-flow",
    include_str!("../assets/profiles/discovery-flow.toml"),
)];

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tenant: Tenant,
    #[serde(default)]
    pub thresholds: Thresholds,
    #[serde(default)]
    pub lineage: Option<Lineage>,
    #[serde(default, rename = "relationship")]
    pub relationships: Vec<Spanned<RelationshipDecl>>,
    #[serde(default, rename = "path")]
    pub paths: Vec<Spanned<PathDecl>>,
    #[serde(default, rename = "assertion")]
    pub assertions: Vec<Spanned<Assertion>>,
    #[serde(default, rename = "metric")]
    pub metrics: Vec<Spanned<Metric>>,
    /// Per table (bare or `schema.table`): its time column and breakdown.
    #[serde(default)]
    pub tables: BTreeMap<String, Spanned<TableDecl>>,
    /// Where the profile came from, for messages (`discovery-flow.toml`, a path).
    #[serde(skip)]
    pub source: String,
    /// The profile's text, to turn spans into line numbers.
    #[serde(skip)]
    text: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    #[serde(default)]
    pub columns: Vec<String>,
    /// Tables that carry no tenant columns by design.
    #[serde(default)]
    pub exempt: Vec<Spanned<String>>,
}

/// Latency thresholds in milliseconds, per category.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    pub simple: u64,
    pub join: u64,
    pub constraint: u64,
    pub batch: u64,
    pub aggregation: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            simple: 500,
            join: 1000,
            constraint: 100,
            batch: 2000,
            aggregation: 300,
        }
    }
}

impl Thresholds {
    pub fn for_category(&self, category: Category) -> u64 {
        match category {
            Category::Simple => self.simple,
            Category::Join => self.join,
            Category::Constraint => self.constraint,
            Category::Batch => self.batch,
            Category::Aggregation => self.aggregation,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lineage {
    /// The table whose rows are lineage roots (the master flows).
    pub root: Spanned<String>,
}

/// What the profile says of one table beyond its relationships.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableDecl {
    /// The column that says when a row was written, for timelines; `""`
    /// says the table has none. Omitted: detected from the catalog.
    #[serde(default)]
    pub time_column: Option<String>,
    /// Columns to group offending rows by, beside the tenant columns.
    #[serde(default)]
    pub breakdown: Vec<String>,
}

/// An intended relationship; it may or may not have a constraint.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelationshipDecl {
    pub child: String,
    pub columns: Vec<String>,
    pub parent: String,
    /// Defaults to the parent's primary key.
    #[serde(default)]
    pub parent_columns: Option<Vec<String>>,
    /// The intended ON DELETE rule; omitted means any rule is fine.
    #[serde(default)]
    pub on_delete: Option<ReferentialAction>,
}

/// Two ways of reaching the same fact that must agree: `table.column` and the
/// `parent_column` of the parent reached through the reference `via`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathDecl {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub table: String,
    pub column: String,
    pub via: Vec<String>,
    #[serde(default)]
    pub parent_column: Option<String>,
}

/// SQL that must return no rows.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assertion {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "default_assertion_severity")]
    pub severity: Severity,
    #[serde(default = "default_assertion_category")]
    pub category: Category,
    /// Overrides the category's latency threshold for this assertion.
    #[serde(default)]
    pub threshold_ms: Option<u64>,
    pub sql: EngineSql,
    /// The column of its rows that says when each offending row was
    /// written: omitted, the first of them named as a time column usually
    /// is (`created_at`, …); `""` for none.
    #[serde(default)]
    pub time_column: Option<String>,
    /// Columns of its rows to group them by, beside the tenant columns.
    #[serde(default)]
    pub breakdown: Vec<String>,
}

fn default_assertion_severity() -> Severity {
    Severity::Error
}

fn default_assertion_category() -> Category {
    Category::Join
}

/// A named query whose rows are shown as they are (e.g. flow metrics per type).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "default_metric_category")]
    pub category: Category,
    pub sql: EngineSql,
}

fn default_metric_category() -> Category {
    Category::Aggregation
}

/// One SQL text for every engine, or one per engine.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum EngineSql {
    All(String),
    PerEngine(BTreeMap<String, String>),
}

impl EngineSql {
    pub fn for_engine(&self, engine: Engine) -> Option<&str> {
        match self {
            EngineSql::All(sql) => Some(sql),
            EngineSql::PerEngine(map) => map.get(engine.name()).map(String::as_str),
        }
    }
}

/// A profile that could not be read or parsed; names the file, line and column.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("cannot read profile {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("{location}: {message}")]
    Invalid { location: Location, message: String },
    #[error("unknown profile \"{0}\": not a file, and not a bundled profile (bundled: {1})")]
    Unknown(String, String),
}

/// `file:line:column`, 1-based.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

impl Profile {
    /// Loads a profile by path, or by the name of a bundled profile.
    pub fn load(name_or_path: &str) -> Result<Profile, ProfileError> {
        let path = Path::new(name_or_path);
        if path.is_file() {
            let text = std::fs::read_to_string(path).map_err(|e| ProfileError::Unreadable {
                path: name_or_path.to_string(),
                reason: e.to_string(),
            })?;
            return Profile::parse(&text, &path.display().to_string());
        }
        if let Some((name, text)) = BUNDLED.iter().find(|(n, _)| *n == name_or_path) {
            return Profile::parse(text, &format!("{name}.toml (bundled)"));
        }
        if path.extension().is_some() || name_or_path.contains(std::path::MAIN_SEPARATOR) {
            return Err(ProfileError::Unreadable {
                path: name_or_path.to_string(),
                reason: "no such file".into(),
            });
        }
        let names: Vec<&str> = BUNDLED.iter().map(|(n, _)| *n).collect();
        Err(ProfileError::Unknown(
            name_or_path.to_string(),
            names.join(", "),
        ))
    }

    pub fn parse(text: &str, source: &str) -> Result<Profile, ProfileError> {
        let mut profile: Profile = toml::from_str(text).map_err(|e| ProfileError::Invalid {
            location: location_in(text, source, e.span().map_or(0, |s| s.start)),
            message: e.message().trim().to_string(),
        })?;
        profile.source = source.to_string();
        profile.text = text.to_string();
        let mut seen = std::collections::HashSet::new();
        for a in &profile.assertions {
            if !seen.insert(("assertion", a.get_ref().name.clone())) {
                return Err(profile.invalid(
                    a.span().start,
                    format!("assertion \"{}\" is declared twice", a.get_ref().name),
                ));
            }
        }
        for p in &profile.paths {
            if !seen.insert(("path", p.get_ref().name.clone())) {
                return Err(profile.invalid(
                    p.span().start,
                    format!("path \"{}\" is declared twice", p.get_ref().name),
                ));
            }
        }
        for r in &profile.relationships {
            let r_ref = r.get_ref();
            if r_ref.columns.is_empty() {
                return Err(profile.invalid(
                    r.span().start,
                    "a relationship needs at least one column".into(),
                ));
            }
            if let Some(pc) = &r_ref.parent_columns
                && pc.len() != r_ref.columns.len()
            {
                return Err(profile.invalid(
                    r.span().start,
                    format!(
                        "relationship {}.{:?}: {} columns but {} parent_columns",
                        r_ref.child,
                        r_ref.columns,
                        r_ref.columns.len(),
                        pc.len()
                    ),
                ));
            }
        }
        Ok(profile)
    }

    /// The profile's display name: its `name`, else its source.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.source)
    }

    /// Where a span starts, as `file:line:column`.
    pub fn location(&self, offset: usize) -> Location {
        location_in(&self.text, &self.source, offset)
    }

    fn invalid(&self, offset: usize, message: String) -> ProfileError {
        ProfileError::Invalid {
            location: self.location(offset),
            message,
        }
    }

    /// An empty profile, for runs without one.
    pub fn empty() -> Profile {
        Profile::parse("", "(no profile)").expect("the empty profile parses")
    }
}

fn location_in(text: &str, file: &str, offset: usize) -> Location {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Location {
        file: file.to_string(),
        line,
        column,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_profile_parses() {
        let p = Profile::load("discovery-flow").unwrap();
        assert_eq!(p.display_name(), "discovery-flow");
        assert_eq!(p.tenant.columns, ["client_account_id", "engagement_id"]);
        assert!(p.relationships.len() >= 8);
        assert_eq!(p.thresholds, Thresholds::default());
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let text = "name = \"x\"\n\n[[relationship]]\nchild = \"a\"\ncolumns = [\"b\"]\nparent = \"c\"\non_delete = \"explode\"\n";
        let err = Profile::parse(text, "p.toml").unwrap_err().to_string();
        assert!(err.starts_with("p.toml:7:"), "{err}");
        assert!(
            err.contains("explode") || err.contains("unknown variant"),
            "{err}"
        );

        let err = Profile::parse("[tenant]\ncolumnz = []\n", "q.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("q.toml:2:1"), "{err}");

        let err = Profile::parse("name = \n", "r.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("r.toml:1:"), "{err}");
    }

    #[test]
    fn unknown_names_list_the_bundled_ones() {
        let err = Profile::load("nope").unwrap_err().to_string();
        assert!(err.contains("discovery-flow"), "{err}");
    }
}
