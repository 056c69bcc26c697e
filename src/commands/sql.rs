//! `tether sql`: the SQL of every check, named and commented, as tether runs it.

use super::args::{ConnectArgs, PlanArgs};
use crate::checks::plan::{Plan, Work};
use clap::Args;
use color_eyre::eyre::Result;

#[derive(Args, Clone, Debug)]
pub struct SqlArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub plan: PlanArgs,
    /// One statement per check in its standalone form, instead of the shared
    /// scans tether runs (for systems that want one query per check).
    #[arg(long)]
    pub standalone: bool,
    /// The statements of `check --estimate`: a pass over a large table reads
    /// a sample of it (the UI and `watch` send these first, before the exact
    /// passes, while a large table has no count yet).
    #[arg(long, conflicts_with = "standalone")]
    pub estimate: bool,
    /// `sql`: a script with comments; `json`: one object per statement.
    #[arg(long, short = 'f', value_enum, default_value_t = SqlFormat::Sql)]
    pub format: SqlFormat,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqlFormat {
    Sql,
    Json,
}

/// One statement as `tether sql --format json` prints it.
#[derive(serde::Serialize)]
struct Entry {
    name: String,
    kind: &'static str,
    category: String,
    threshold_ms: Option<u64>,
    checks: Vec<String>,
    sql: String,
}

pub async fn run(args: SqlArgs) -> Result<u8> {
    let (url, is_demo) = super::resolve_url(&args.connect).await?;
    let profile = super::load_profile(&args.plan, is_demo)?;
    let db = super::open(&url, &args.connect).await?;
    let plan = super::plan(&db, &args.plan, profile.as_ref()).await?;
    db.close().await;
    let entries = if args.standalone {
        standalone_entries(&plan)
    } else {
        entries(&plan, args.estimate)
    };
    let out = match args.format {
        SqlFormat::Json => serde_json::to_string_pretty(&entries)? + "\n",
        SqlFormat::Sql => script(&entries, &db.target, &plan),
    };
    print!("{out}");
    Ok(0)
}

/// One best-form query per check (`--standalone`).
fn standalone_entries(plan: &Plan) -> Vec<Entry> {
    plan.checks
        .iter()
        .filter_map(|check| {
            let sql = match &check.work {
                Work::Rows(r) => r.count_sql(),
                Work::Assertion(a) => a.count_sql.clone(),
                Work::Catalog(_) | Work::Withheld(_) => return None,
            };
            Some(Entry {
                name: check.key.clone(),
                kind: "check",
                category: check.category.to_string(),
                threshold_ms: None,
                checks: vec![format!("{} ({})", check.key, check.severity)],
                sql: sql.to_string(),
            })
        })
        .collect()
}

/// Every statement as tether sends it: the catalog reads, the plan's
/// statements (over a sample when `estimate`), the metrics.
fn entries(plan: &Plan, estimate: bool) -> Vec<Entry> {
    let mut entries: Vec<Entry> = plan
        .schema
        .reads
        .0
        .iter()
        .map(|read| Entry {
            name: read.key.to_string(),
            kind: "catalog read",
            category: "catalog".into(),
            threshold_ms: None,
            checks: Vec::new(),
            sql: read.sql.trim().to_string(),
        })
        .collect();
    for (s, statement) in plan.statements.iter().enumerate() {
        let sample = estimate.then(|| plan.estimate_sql(s)).flatten();
        entries.push(Entry {
            name: statement.key.clone(),
            kind: if sample.is_some() {
                "sample pass"
            } else if statement.checks.len() > 1 {
                "shared pass"
            } else {
                "check"
            },
            category: statement.category.to_string(),
            threshold_ms: Some(statement.threshold_ms),
            checks: statement
                .checks
                .iter()
                .map(|&c| plan.checks[c].key.clone())
                .collect(),
            sql: sample.unwrap_or_else(|| plan.sql(s)).to_string(),
        });
    }
    entries.extend(plan.metrics.iter().map(|metric| Entry {
        name: format!("metric:{}", metric.name),
        kind: "metric",
        category: metric.category.to_string(),
        threshold_ms: None,
        checks: Vec::new(),
        sql: metric.sql.to_string(),
    }));
    entries
}

/// The entries as a script with comments: each statement's name, kind,
/// category and threshold, the checks a pass decides, the catalog reads
/// as comments (they take bound parameters).
fn script(entries: &[Entry], target: &crate::db::Target, plan: &Plan) -> String {
    let mut out = format!(
        "-- tether {} · {} · profile {}\n-- Each statement as tether runs it; the checks it decides are listed above it.\n\n",
        env!("CARGO_PKG_VERSION"),
        target,
        plan.profile.as_deref().unwrap_or("none")
    );
    for e in entries {
        let threshold = e
            .threshold_ms
            .map(|t| format!(", threshold {t} ms"))
            .unwrap_or_default();
        out.push_str(&format!(
            "-- {} ({}, {}{threshold})\n",
            e.name, e.kind, e.category
        ));
        if e.kind == "shared pass" || e.kind == "sample pass" {
            for c in &e.checks {
                out.push_str(&format!("--   {c}\n"));
            }
        }
        if e.kind == "catalog read" {
            // Shown, not run: it takes bound parameters.
            for line in e.sql.lines() {
                out.push_str(&format!("--   {line}\n"));
            }
            out.push('\n');
        } else {
            out.push_str(&format!("{};\n\n", e.sql));
        }
    }
    out
}
