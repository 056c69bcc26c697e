use clap::{Parser, Subcommand};
use std::process::ExitCode;
use tether::commands::{self, EXIT_COULD_NOT_RUN, check::CheckArgs, demo::DemoArgs, sql::SqlArgs};

/// Shows whether a relational database's relationships hold: missing or
/// unenforced foreign keys, orphaned rows, tenant-isolation gaps, paths that
/// disagree, and how long each of those queries takes.
#[derive(Parser, Debug)]
#[command(name = "tether", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run every check once and report (exit 0 clean, 1 findings, 2 could not run).
    Check(CheckArgs),
    /// Create the discovery-flow demo schema and data, with known faults.
    Demo(DemoArgs),
    /// Print every check's SQL as tether runs it.
    Sql(SqlArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let _ = color_eyre::install();
    let cli = Cli::parse();
    // Until the terminal UI lands, no subcommand means `check`.
    let command = match cli.command {
        Some(command) => command,
        None => match Cli::parse_from(["tether", "check"]).command {
            Some(command) => command,
            None => unreachable!("parsed with a subcommand"),
        },
    };
    let result = match command {
        Command::Check(args) => commands::check::run(args).await,
        Command::Demo(args) => commands::demo::run(args).await,
        Command::Sql(args) => commands::sql::run(args).await,
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("tether: error: {}", commands::one_line(&error));
            ExitCode::from(EXIT_COULD_NOT_RUN)
        }
    }
}
