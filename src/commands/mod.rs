//! The command-line surfaces. Each command opens the database, builds what it
//! needs from the layers below, and renders the result.

pub mod args;
pub mod bench;
pub mod check;
pub mod demo;
pub mod fix;
pub mod graph;
pub mod sql;
pub mod tui;
pub mod watch;

use crate::catalog;
use crate::checks::plan::{Plan, PlanOptions};
use crate::db::{Db, SessionOptions};
use crate::profile::Profile;
use args::{ConnectArgs, PlanArgs};
use color_eyre::eyre::{Result, WrapErr, eyre};
use futures::StreamExt;
use indicatif::ProgressBar;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Exit code when tether could not do its job (bad input, no connection).
pub const EXIT_COULD_NOT_RUN: u8 = 2;

/// The bundled demo database: `<data dir>/tether/demo.sqlite`.
pub fn demo_path() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("tether")
        .join("demo.sqlite")
}

pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}", path.display())
}

/// The database to use: `--url`/`DATABASE_URL`, else the bundled demo database,
/// created on first use. Returns the URL and whether it is the demo.
pub async fn resolve_url(args: &ConnectArgs) -> Result<(String, bool)> {
    if let Some(url) = &args.url {
        return Ok((url.clone(), false));
    }
    let path = demo_path();
    if !path.exists() {
        eprintln!(
            "tether: no --url or DATABASE_URL; creating the demo database at {}",
            path.display()
        );
        demo::create_sqlite(&path, &crate::demo::DemoOptions::default())
            .await
            .wrap_err_with(|| format!("creating the demo database at {}", path.display()))?;
    } else {
        eprintln!(
            "tether: no --url or DATABASE_URL; using the demo database at {}",
            path.display()
        );
    }
    Ok((sqlite_url(&path), true))
}

/// Opens a read-only session pool for checks.
pub async fn open(url: &str, args: &ConnectArgs) -> Result<Db> {
    let options = SessionOptions {
        statement_timeout: Duration::from_secs_f64(args.timeout),
        lock_timeout: Duration::from_secs_f64(args.lock_timeout),
        connect_timeout: Duration::from_secs_f64(args.connect_timeout),
        connections: args.jobs as u32 + 1,
        read_only: true,
        ..SessionOptions::default()
    };
    Ok(Db::connect(url, options).await?)
}

/// Opens one writable session (probes, bench, fix, restore): every write in
/// an explicit transaction that tether ends. `sqlite_foreign_keys` sets
/// SQLite's per-connection `foreign_keys` (None: as sqlx does, on).
pub async fn open_writable(
    url: &str,
    args: &ConnectArgs,
    sqlite_foreign_keys: Option<bool>,
) -> Result<Db> {
    Ok(Db::connect(url, writable_options(args, sqlite_foreign_keys)).await?)
}

/// Opens the sessions that load the demo: six connections that create the
/// database (SQLite: its file) if missing, and statements of up to an hour
/// (a billion-row load). The demo takes no connection flags but `--url`.
pub async fn open_loading(url: &str) -> Result<Db> {
    let options = SessionOptions {
        statement_timeout: Duration::from_secs(3600),
        connections: 6,
        read_only: false,
        create_if_missing: true,
        ..SessionOptions::default()
    };
    Ok(Db::connect(url, options).await?)
}

/// The session options of every writable session, from the command line.
pub fn writable_options(args: &ConnectArgs, sqlite_foreign_keys: Option<bool>) -> SessionOptions {
    SessionOptions {
        statement_timeout: Duration::from_secs_f64(args.timeout),
        lock_timeout: Duration::from_secs_f64(args.lock_timeout),
        connect_timeout: Duration::from_secs_f64(args.connect_timeout),
        connections: 1,
        read_only: false,
        sqlite_foreign_keys,
        transactional_writes: true,
        ..SessionOptions::default()
    }
}

/// Loads the profile named on the command line; the demo database gets the
/// discovery-flow profile unless another is named.
pub fn load_profile(args: &PlanArgs, is_demo: bool) -> Result<Option<Profile>> {
    let name = match (&args.profile, is_demo) {
        (Some(p), _) => p.clone(),
        (None, true) => "discovery-flow".into(),
        (None, false) => return Ok(None),
    };
    Ok(Some(Profile::load(&name)?))
}

/// Reads the catalog and builds the plan.
pub async fn plan(db: &Db, args: &PlanArgs, profile: Option<&Profile>) -> Result<Plan> {
    let schemas = args.schemas();
    let spinner = crate::progress::spinner("reading the catalog");
    let schema = catalog::read(db, &schemas).await.map_err(|e| {
        eyre!(
            "reading the catalog of {}: {}",
            db.target,
            crate::db::describe(&e)
        )
    })?;
    spinner.finish_and_clear();
    if schema.tables.is_empty() {
        let scope = if schemas.is_empty() {
            String::new()
        } else {
            format!(" in schema {}", schemas.join(", "))
        };
        eprintln!("tether: warning: {} has no tables{scope}", db.target);
    }
    let options = PlanOptions {
        sample: args.sample,
        tenant_columns: args.tenant_columns(),
        shared_scans: true,
    };
    Ok(Plan::build(schema, profile, &options))
}

/// One line for an error and its causes: `what failed: why`.
pub fn one_line(error: &color_eyre::eyre::Report) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// One line for a command-line error (a bad flag or value): clap's message
/// and its tip, without the usage text.
pub fn usage_error(error: &clap::Error) -> String {
    let text = error.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| {
        !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information")
    });
    let first = lines.next().unwrap_or_default();
    let message = first.strip_prefix("error: ").unwrap_or(first);
    let tips: Vec<&str> = lines.filter(|l| l.starts_with("tip:")).collect();
    if tips.is_empty() {
        format!("{message} (see --help)")
    } else {
        format!("{message} ({})", tips.join("; "))
    }
}

/// For each finding whose pass kept too few of its rows to say when they were
/// written (`timeline_omitted`), reads its timeline and breakdowns apart:
/// one statement per table, for all such findings on it (see
/// [`crate::offending::facts_of_table`]; two tables at a time), each listed
/// in `read_apart`. One that cannot be read says so in each of its findings'
/// `timeline_omitted`.
pub async fn read_facts_apart(db: &Db, plan: &Plan, result: &mut crate::runner::RunResult) {
    // Findings (by place) and their checks, per table.
    let mut tables: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
    for (i, f) in result.findings.iter().enumerate() {
        let omitted = f
            .facts
            .as_deref()
            .is_some_and(|facts| facts.omitted.is_some());
        let check = f.plan_check.map(|c| c as usize);
        if let (true, Some(check)) = (omitted, check)
            && let Some(table) = plan.checks.get(check).and_then(|c| c.table)
        {
            tables.entry(table.index()).or_default().push((i, check));
        }
    }
    // Two tables at a time: each statement reads its table once, on a
    // connection of the pool the run has finished with.
    let reads = futures::stream::iter(tables.into_values().map(|found| async move {
        let checks: Vec<usize> = found.iter().map(|&(_, c)| c).collect();
        let read = crate::offending::facts_of_table(db, plan, &checks).await;
        (found, read)
    }))
    .buffered(2)
    .collect::<Vec<_>>()
    .await;
    for (found, read) in reads {
        match read {
            Ok((facts, sent)) => {
                for ((i, _), facts) in found.iter().zip(facts) {
                    result.findings[*i].facts = Some(Box::new(facts));
                }
                result.read_apart.extend(sent);
            }
            Err(e) => {
                for (i, _) in &found {
                    if let Some(facts) = result.findings[*i].facts.as_deref_mut() {
                        let why = facts.omitted.take().unwrap_or_default();
                        facts.omitted = Some(format!("{why}, and reading them apart failed: {e}"));
                    }
                }
            }
        }
    }
}

/// Ctrl-C (and, with `terminate`, SIGTERM) for a headless command, for as long
/// as it runs. The first signal cancels `stop`: the run in flight ends, and
/// the runner cancels its queries on the server, waiting for that no longer
/// than the cancel limit. A signal when `stop` is already cancelled — a
/// second one, or one after the command cancelled `stop` because nothing is
/// left to stop — leaves at once with exit 2: the connections close with the
/// process, and the servers roll back what was not committed.
///
/// Installed before the command connects, so that a signal during the
/// connection or the catalog read is one of these too (not the default that
/// ends the process at once); `progress` is the progress bar once there is
/// one, which messages are printed around.
pub fn stop_on_signals(
    stop: CancellationToken,
    terminate: bool,
    progress: Arc<std::sync::OnceLock<ProgressBar>>,
) {
    let say = move |text: &str| match progress.get() {
        Some(bar) => bar.suspend(|| eprintln!("{text}")),
        None => eprintln!("{text}"),
    };
    let mut signals = Signals::new(terminate);
    tokio::spawn(async move {
        while signals.next().await {
            if stop.is_cancelled() {
                say("tether: interrupted: leaving at once, without waiting for the server");
                std::process::exit(i32::from(EXIT_COULD_NOT_RUN));
            }
            stop.cancel();
            say(
                "tether: interrupted: stopping, and cancelling any query in flight on the server (Ctrl-C again leaves at once)",
            );
        }
    });
}

/// The signals that stop a headless command, listened to from the moment
/// they are made, so that none is missed between two waits.
struct Signals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new(terminate: bool) -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: terminate
                    .then(|| signal(SignalKind::terminate()).ok())
                    .flatten(),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = terminate;
            Signals {}
        }
    }

    /// Waits for the next signal; false when none can come.
    async fn next(&mut self) -> bool {
        #[cfg(unix)]
        {
            async fn recv(signal: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
                match signal {
                    Some(s) => s.recv().await,
                    None => std::future::pending().await,
                }
            }
            if self.interrupt.is_none() && self.terminate.is_none() {
                return false;
            }
            tokio::select! {
                got = recv(&mut self.interrupt) => got.is_some(),
                got = recv(&mut self.terminate) => got.is_some(),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.is_ok()
        }
    }
}
