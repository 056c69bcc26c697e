//! `tether check`: every check once, reported as text or JSON, with an exit code.

use super::args::{ConnectArgs, FailOn, Format, PlanArgs};
use crate::baseline::Baseline;
use crate::checks::Severity;
use crate::report::{self, Report};
use crate::runner::{self, Estimates, Event, RunOptions};
use clap::Args;
use color_eyre::eyre::{Result, WrapErr, eyre};
use indicatif::ProgressBar;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Args, Clone, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to a file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a finding is at least this severe.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Report only findings that are new or worse than in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write every finding of this run to a baseline file (they become accepted).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Also probe what the database does: insert an orphan and delete a parent,
    /// inside a transaction that is always rolled back. Needs a writable connection.
    #[arg(long)]
    pub probe: bool,
    /// Estimate each pass over a large table from a sample of it instead of
    /// counting every row: counts are then marked estimated (≈), with how
    /// the sample was taken. Tables no larger than a sample, and checks that
    /// run alone, are still counted exactly.
    #[arg(long)]
    pub estimate: bool,
    /// SQLite probes: whether the application's connections turn `foreign_keys`
    /// on (SQLite leaves it off unless each connection asks).
    #[arg(long, value_enum, default_value_t = OnOff::Off)]
    pub sqlite_foreign_keys: OnOff,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnOff {
    On,
    Off,
}

pub async fn run(args: CheckArgs) -> Result<u8> {
    // Ctrl-C stops the run and cancels its queries on the server too; a
    // second one leaves at once.
    let cancel = CancellationToken::new();
    let progress = Arc::new(std::sync::OnceLock::new());
    super::stop_on_signals(cancel.clone(), false, progress.clone());
    let (url, is_demo) = super::resolve_url(&args.connect).await?;
    let profile = super::load_profile(&args.plan, is_demo)?;
    let db = super::open(&url, &args.connect).await?;
    let mut plan = super::plan(&db, &args.plan, profile.as_ref()).await?;
    // One run: the catalog's findings move to the result rather than being copied.
    let catalog_findings = plan.take_catalog_findings();
    let plan = Arc::new(plan);

    let mut result = run_checks(&db, &plan, &args, cancel, &progress).await?;
    super::read_facts_apart(&db, &plan, &mut result).await;
    result.add_catalog_findings(catalog_findings);
    result = result.sorted();
    if args.probe {
        // Probes that could not run, or were stopped (a deadlock, a lock wait
        // timeout, a table that cannot roll back), make the run one that could
        // not run: exit 2, with the reason.
        if let Err(e) = add_probes(&mut result, &url, &args, &plan).await {
            db.close().await;
            return Err(e);
        }
    }

    if let Some(path) = &args.write_baseline {
        Baseline::of(&result.findings)
            .write(path)
            .map_err(|e| eyre!(e))?;
    }
    let compared = match &args.baseline {
        Some(path) => {
            let baseline = Baseline::load(path).map_err(|e| eyre!(e))?;
            let compared = baseline.compare(std::mem::take(&mut result.findings));
            result.findings = compared.reported.clone();
            Some(compared)
        }
        None => None,
    };
    let report = Report {
        plan: &plan,
        result: &result,
        target: &db.target,
        server_version: &db.server_version,
        baseline: compared.as_ref(),
    };
    write_report(&report, args.format, args.output.as_deref())?;
    db.close().await;

    Ok(u8::from(failing(&result, args.fail_on)))
}

/// Runs every check, a progress bar on a terminal, Ctrl-C cancelling the
/// queries in flight on the server (an error then).
async fn run_checks(
    db: &crate::db::Db,
    plan: &Arc<crate::checks::plan::Plan>,
    args: &CheckArgs,
    cancel: CancellationToken,
    shown: &std::sync::OnceLock<ProgressBar>,
) -> Result<runner::RunResult> {
    let estimates = if args.estimate {
        Estimates::Only
    } else {
        Estimates::Off
    };
    // A step per statement, or per part of one read in parts (its progress
    // within), and per metric.
    let parts = |s: &crate::checks::plan::Statement| match estimates {
        Estimates::Only if s.sampling.is_some() => 1,
        _ => u64::from(s.parts()),
    };
    let progress = crate::progress::bar(
        plan.statements.iter().map(parts).sum::<u64>() + plan.metrics.len() as u64,
        "checking",
    );
    let _ = shown.set(progress.clone());
    let options = RunOptions {
        jobs: usize::from(args.connect.jobs),
        timeout: Duration::from_secs_f64(args.connect.timeout),
        estimates,
        cancel,
        ..RunOptions::default()
    };
    let mut done_parts = std::collections::HashMap::new();
    let mut result = runner::run_to_end(db, plan.clone(), &options, |event| match event {
        Event::Progress {
            statement, done, ..
        } => {
            done_parts.insert(*statement, u64::from(*done));
            progress.inc(1);
        }
        Event::Metric { .. } => progress.inc(1),
        Event::StatementDone { statement, .. } => {
            // Parts already counted; a statement that failed part way
            // counts its remaining parts now.
            let total = parts(&plan.statements[*statement]);
            let counted = done_parts.get(statement).copied().unwrap_or(0);
            progress.inc(total.saturating_sub(counted));
        }
        _ => {}
    })
    .await;
    result.sampled = args.estimate;
    progress.finish_and_clear();
    let interrupted = options.cancel.is_cancelled();
    // Nothing is left to stop: from here a Ctrl-C leaves at once.
    options.cancel.cancel();
    if interrupted {
        return Err(eyre!(
            "interrupted: the queries in flight were cancelled on the server"
        ));
    }
    Ok(result)
}

/// Probes what the database does, on a writable session, and adds what
/// they found.
async fn add_probes(
    result: &mut runner::RunResult,
    url: &str,
    args: &CheckArgs,
    plan: &crate::checks::plan::Plan,
) -> Result<()> {
    let foreign_keys = Some(args.sqlite_foreign_keys == OnOff::On);
    let writable = super::open_writable(url, &args.connect, foreign_keys).await?;
    let probed = crate::probe::run(&writable, plan).await;
    writable.close().await;
    let findings = probed.map_err(|e| eyre!(e.to_string()))?;
    result.checks_run += plan
        .relationships
        .iter()
        .filter(|r| r.constraint.is_some())
        .count();
    result.findings.extend(findings);
    *result = std::mem::take(result).sorted();
    Ok(())
}

/// Whether the run fails at `fail_on`: exit 1.
fn failing(result: &runner::RunResult, fail_on: FailOn) -> bool {
    let summary = result.summary();
    match fail_on {
        FailOn::Never => false,
        FailOn::Error => summary.worst() >= Some(Severity::Error),
        FailOn::Warning => summary.worst() >= Some(Severity::Warning),
        FailOn::Info => summary.worst().is_some(),
    }
}

/// A report written as it is built.
type WriteReport = fn(&Report, &mut dyn Write) -> std::io::Result<()>;

/// Writes `document` in `format` to `output`, or to stdout.
fn write_report(document: &Report, format: Format, output: Option<&std::path::Path>) -> Result<()> {
    // JSON and JUnit are written as they are built: a report of tens of
    // thousands of findings is never held whole.
    let streamed: Option<WriteReport> = match format {
        Format::Json => Some(|d, out| report::json::write(d, out)),
        Format::Junit => Some(|d, out| report::junit::write(d, out)),
        Format::Text | Format::Html => None,
    };
    if let Some(write) = streamed {
        return match output {
            Some(path) => std::fs::File::create(path)
                .and_then(|mut file| write(document, &mut file))
                .wrap_err_with(|| format!("writing {}", path.display())),
            None => Ok(write(document, &mut anstream::stdout().lock())?),
        };
    }
    let text = match format {
        Format::Html => report::html::render(document),
        _ => report::text::render(document),
    };
    match output {
        Some(path) => {
            // Only the text report carries colours to strip.
            let plain = match format {
                Format::Text => anstream::adapter::strip_str(&text).to_string(),
                _ => text,
            };
            std::fs::write(path, plain).wrap_err_with(|| format!("writing {}", path.display()))?;
        }
        None => {
            let mut out = anstream::stdout();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(())
}
