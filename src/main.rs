#![warn(clippy::too_many_lines, clippy::excessive_nesting)]

use clap::{Parser, Subcommand};
use tether::commands::{
    self, EXIT_COULD_NOT_RUN,
    bench::BenchArgs,
    check::CheckArgs,
    demo::DemoArgs,
    fix::{FixArgs, RestoreArgs},
    graph::GraphArgs,
    sql::SqlArgs,
    tui::TuiArgs,
    watch::WatchArgs,
};

/// Shows whether a relational database's relationships hold: missing or
/// unenforced foreign keys, orphaned rows, tenant-isolation gaps, paths that
/// disagree, and how long each of those queries takes.
#[derive(Parser, Debug)]
#[command(
    name = "tether",
    version,
    about,
    max_term_width = 100,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Without a subcommand: the terminal UI.
    #[command(flatten)]
    tui: TuiArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run every check once and report (exit 0 clean, 1 findings, 2 could not run).
    Check(CheckArgs),
    /// Create the discovery-flow demo schema and data, with known faults.
    Demo(DemoArgs),
    /// Run the checks periodically: one JSON line per alert, Prometheus metrics.
    Watch(WatchArgs),
    /// Print every check's SQL as tether runs it.
    Sql(SqlArgs),
    /// The relationship graph as DOT or Mermaid, coloured by findings.
    Graph(GraphArgs),
    /// Latency by query category against the profile's thresholds.
    Bench(BenchArgs),
    /// Remediation for findings: previewed; with --apply, backed up and applied in one transaction.
    Fix(FixArgs),
    /// Put back the rows of a `tether fix --apply` backup.
    Restore(RestoreArgs),
}

#[tokio::main]
async fn main() {
    let _ = color_eyre::install();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print as clap prints them.
        Err(error) if !error.use_stderr() => error.exit(),
        Err(error) => {
            eprintln!("tether: error: {}", commands::usage_error(&error));
            std::process::exit(i32::from(EXIT_COULD_NOT_RUN))
        }
    };
    let result = match cli.command {
        None => commands::tui::run(cli.tui).await,
        Some(Command::Check(args)) => commands::check::run(args).await,
        Some(Command::Demo(args)) => commands::demo::run(args).await,
        Some(Command::Watch(args)) => commands::watch::run(args).await,
        Some(Command::Sql(args)) => commands::sql::run(args).await,
        Some(Command::Graph(args)) => commands::graph::run(args).await,
        Some(Command::Bench(args)) => commands::bench::run(args).await,
        Some(Command::Fix(args)) => commands::fix::run(args).await,
        Some(Command::Restore(args)) => commands::fix::restore(args).await,
    };
    let code = match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("tether: error: {}", commands::one_line(&error));
            EXIT_COULD_NOT_RUN
        }
    };
    // Exit now: a query stuck in a driver thread must not hold the process.
    std::process::exit(i32::from(code))
}
