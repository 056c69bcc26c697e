//! `tether bench`'s report: a table of latencies by category for people,
//! JSON for machines.

use crate::bench::{BenchReport, Measured, Stats};
use crate::checks::plan::Plan;
use crate::db::Db;
use anstyle::{AnsiColor, Style};

/// The JSON document: the database, the profile, the categories' figures,
/// and the catalog reads that made the plan, each once.
pub fn json(
    report: &BenchReport,
    plan: &Plan,
    db: &Db,
    iterations: u32,
    warmup: u32,
) -> serde_json::Result<String> {
    let document = serde_json::json!({
        "tether": env!("CARGO_PKG_VERSION"),
        "database": {"engine": plan.engine.name(), "server_version": db.server_version, "target": db.target.to_string()},
        "profile": plan.profile,
        "iterations": iterations,
        "warmup": warmup,
        "categories": report,
        "exceeded": report.exceeded(),
        "catalog": plan.schema.reads.0.iter().map(|r| serde_json::json!({
            "key": r.key,
            "elapsed_ms": (r.elapsed.as_secs_f64() * 10_000.0).round() / 10.0,
        })).collect::<Vec<_>>(),
    });
    Ok(serde_json::to_string_pretty(&document)? + "\n")
}

/// The table, a category over its threshold in red, then what the catalog
/// reads took.
pub fn text(report: &BenchReport, plan: &Plan) -> String {
    let catalog: std::time::Duration = plan.schema.reads.0.iter().map(|r| r.elapsed).sum();
    format!(
        "{}catalog: {} reads in {:.1} ms, before the benchmark\n",
        table(report),
        plan.schema.reads.0.len(),
        catalog.as_secs_f64() * 1000.0
    )
}

fn table(report: &BenchReport) -> String {
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
    let line = |name: &str, s: &Stats| {
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
