//! `tether bench`: latency by query category against the profile's thresholds.

use super::args::{ConnectArgs, Format, PlanArgs, whole};
use crate::bench::{self, BenchOptions};
use crate::db::Db;
use crate::report;
use clap::Args;
use color_eyre::eyre::{Result, eyre};
use std::io::Write;

#[derive(Args, Clone, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Measured runs per category, 1 to 1000000.
    #[arg(long, default_value_t = 20, value_name = "N", value_parser = whole::<u32>(1, 1_000_000), allow_hyphen_values = true)]
    pub iterations: u32,
    /// Unmeasured runs first, per category, 0 (none) to 1000000.
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = whole::<u32>(0, 1_000_000), allow_hyphen_values = true)]
    pub warmup: u32,
    /// Sessions of the concurrent category, 1 to 256.
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = whole::<u32>(1, 256), allow_hyphen_values = true)]
    pub sessions: u32,
    /// Run the write categories, each write rolled back: constraint (an
    /// orphan row a foreign key rejects) and batch (1,000 rows).
    #[arg(long)]
    pub allow_writes: bool,
    /// Output format (text or json).
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// A session that may write, or None (a read-only role, server or file).
async fn writable_session(url: &str, args: &ConnectArgs) -> Option<Db> {
    let w = super::open_writable(url, args, None).await.ok()?;
    let may_write = match w.writable().await {
        Ok(mut tx) => {
            let read_only = tx.read_only().await.unwrap_or(true);
            let _ = tx.rollback().await;
            !read_only
        }
        Err(_) => false,
    };
    if !may_write {
        w.close().await;
    }
    may_write.then_some(w)
}

pub async fn run(args: BenchArgs) -> Result<u8> {
    let (url, is_demo) = super::resolve_url(&args.connect).await?;
    let profile = super::load_profile(&args.plan, is_demo)?;
    let db = super::open(&url, &args.connect).await?;
    let plan = super::plan(&db, &args.plan, profile.as_ref()).await?;
    // Constraint and batch need a session that may write (and always roll back).
    let writable = match args.allow_writes {
        true => writable_session(&url, &args.connect).await,
        false => None,
    };
    let progress = crate::progress::bar(0, "benchmark");
    let options = BenchOptions {
        iterations: args.iterations,
        warmup: args.warmup,
        sessions: args.sessions,
        allow_writes: args.allow_writes,
    };
    let report = bench::run(&db, writable.as_ref(), &plan, &options, &progress).await;
    progress.finish_and_clear();
    if let Some(w) = &writable {
        w.close().await;
    }
    db.close().await;
    // A write category stopped by a deadlock, a lock wait timeout, … : exit 2.
    let report = report.map_err(|e| eyre!(e))?;
    let text = match args.format {
        Format::Json => report::bench::json(&report, &plan, &db, args.iterations, args.warmup)?,
        _ => report::bench::text(&report, &plan),
    };
    let mut out = anstream::stdout();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(u8::from(report.exceeded()))
}
