//! `tether bench`: latency by query category against the profile's thresholds.

use super::args::{ConnectArgs, Format, PlanArgs, whole};
use crate::bench::{self, BenchOptions, BenchReport, Measured};
use crate::db::Db;
use anstyle::{AnsiColor, Style};
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

fn render_text(report: &BenchReport) -> String {
    let bold = Style::new().bold();
    let red = AnsiColor::Red.on_default().bold();
    let mut out = format!(
        "{bold}{:<12} {:>5} {:>10} {:>10} {:>10} {:>10} {:>10}{bold:#}  what\n",
        "category", "runs", "min ms", "p50 ms", "p95 ms", "max ms", "limit ms"
    );
    let rows: [(&str, &Measured); 5] = [
        ("simple", &report.simple),
        ("join", &report.join),
        ("constraint", &report.constraint),
        ("aggregation", &report.aggregation),
        ("batch", &report.batch),
    ];
    let line = |name: &str, s: &bench::Stats| {
        let style = if s.exceeded { red } else { Style::new() };
        format!(
            "{style}{name:<12} {:>5} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>10}{style:#}  {}{}\n",
            s.iterations,
            s.min_ms,
            s.p50_ms,
            s.p95_ms,
            s.max_ms,
            s.threshold_ms,
            s.what,
            if s.errors > 0 {
                format!(" ({} failed)", s.errors)
            } else {
                String::new()
            }
        )
    };
    for (name, measured) in rows {
        match measured {
            Measured::Stats(s) => out.push_str(&line(name, s)),
            Measured::Skipped { skipped } => {
                out.push_str(&format!("{name:<12} skipped: {skipped}\n"))
            }
        }
    }
    let c = &report.concurrent;
    if let Some(s) = &c.stats {
        out.push_str(&line("concurrent", s));
    }
    out.push_str(&format!(
        "concurrent: {} sessions, {} operations, {} deadlocks, {} timeouts, {} other errors\n",
        c.sessions, c.operations, c.deadlocks, c.timeouts, c.errors
    ));
    if report.exceeded() {
        out.push_str(&format!(
            "{red}a category's p95 is over its threshold{red:#}\n"
        ));
    }
    out
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
        Format::Json => {
            let document = serde_json::json!({
                "tether": env!("CARGO_PKG_VERSION"),
                "database": {"engine": plan.engine.name(), "server_version": db.server_version, "target": db.target.to_string()},
                "profile": plan.profile,
                "iterations": args.iterations,
                "warmup": args.warmup,
                "categories": report,
                "exceeded": report.exceeded(),
                // The catalog reads that made the plan, each once.
                "catalog": plan.schema.reads.0.iter().map(|r| serde_json::json!({
                    "key": r.key,
                    "elapsed_ms": (r.elapsed.as_secs_f64() * 10_000.0).round() / 10.0,
                })).collect::<Vec<_>>(),
            });
            serde_json::to_string_pretty(&document)? + "\n"
        }
        _ => {
            let catalog: std::time::Duration = plan.schema.reads.0.iter().map(|r| r.elapsed).sum();
            format!(
                "{}catalog: {} reads in {:.1} ms, before the benchmark\n",
                render_text(&report),
                plan.schema.reads.0.len(),
                catalog.as_secs_f64() * 1000.0
            )
        }
    };
    let mut out = anstream::stdout();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(u8::from(report.exceeded()))
}
