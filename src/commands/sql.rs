//! `tether sql`: the SQL of every check, named and commented, as tether runs it.

use super::args::{ConnectArgs, PlanArgs};
use crate::checks::plan::Work;
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
}

pub async fn run(args: SqlArgs) -> Result<u8> {
    let (url, is_demo) = super::resolve_url(&args.connect).await?;
    let profile = super::load_profile(&args.plan, is_demo)?;
    let db = super::open(&url, &args.connect).await?;
    let plan = super::plan(&db, &args.plan, profile.as_ref()).await?;
    db.close().await;
    let mut out = String::new();
    if args.standalone {
        for check in &plan.checks {
            let sql = match &check.work {
                Work::Rows(r) => &r.count_sql,
                Work::Assertion(a) => &a.count_sql,
                Work::Catalog(_) => continue,
            };
            out.push_str(&format!(
                "-- {} ({}, {})\n{};\n\n",
                check.key, check.category, check.severity, sql
            ));
        }
    } else {
        for statement in &plan.statements {
            out.push_str(&format!(
                "-- {} ({}, threshold {} ms)\n",
                statement.key, statement.category, statement.threshold_ms
            ));
            for &c in &statement.checks {
                out.push_str(&format!("--   {}\n", plan.checks[c].key));
            }
            out.push_str(&format!("{};\n\n", statement.sql));
        }
        for metric in &plan.metrics {
            out.push_str(&format!(
                "-- metric {} ({})\n{};\n\n",
                metric.name, metric.category, metric.sql
            ));
        }
    }
    print!("{out}");
    Ok(0)
}
