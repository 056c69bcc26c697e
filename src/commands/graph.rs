//! `tether graph`: the relationship graph as DOT or Mermaid, coloured by findings.

use super::args::{ConnectArgs, PlanArgs};
use crate::report::{self, Report};
use crate::runner::{self, RunOptions};
use clap::{Args, ValueEnum};
use color_eyre::eyre::Result;
use std::sync::Arc;
use std::time::Duration;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Args, Clone, Debug)]
pub struct GraphArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub plan: PlanArgs,
    #[arg(long, short = 'f', value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

pub async fn run(args: GraphArgs) -> Result<u8> {
    let (url, is_demo) = super::resolve_url(&args.connect).await?;
    let profile = super::load_profile(&args.plan, is_demo)?;
    let db = super::open(&url, &args.connect).await?;
    let plan = Arc::new(super::plan(&db, &args.plan, profile.as_ref()).await?);
    let options = RunOptions {
        jobs: usize::from(args.connect.jobs),
        timeout: Duration::from_secs_f64(args.connect.timeout),
        ..RunOptions::default()
    };
    let progress = crate::progress::spinner("checking");
    let result = runner::run_to_end(&db, plan.clone(), &options, |_| {}).await;
    progress.finish_and_clear();
    db.close().await;
    let report = Report {
        plan: &plan,
        result: &result,
        target: &db.target,
        server_version: &db.server_version,
        baseline: None,
    };
    print!(
        "{}",
        match args.format {
            GraphFormat::Dot => report::graph::dot(&report),
            GraphFormat::Mermaid => report::graph::mermaid(&report),
        }
    );
    Ok(0)
}
