//! `tether` with no subcommand: the terminal UI.

use super::args::{ConnectArgs, PlanArgs};
use crate::app::{SessionInfo, Writes};
use crate::db::Target;
use crate::model::Engine;
use crate::tui::{self, Settings, config::Config};
use clap::Args;
use color_eyre::eyre::{Result, eyre};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args, Clone, Debug)]
pub struct TuiArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Seconds between refreshes, at least 1, at most 86400 (+ and - change
    /// it while running).
    #[arg(long, default_value_t = 10.0, value_name = "SECS", value_parser = super::args::refresh_seconds, allow_hyphen_values = true)]
    pub interval: f64,
    /// Key bindings and colours (default: <config dir>/tether/config.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Show only findings that are new or worse than in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Where fixes applied from the UI write their backups.
    #[arg(long, value_name = "DIR", default_value = "tether-backups")]
    pub backup: PathBuf,
    /// Let the UI apply fixes (each confirmed by typing the database's
    /// name); without it, fixes are previewed only.
    #[arg(long)]
    pub allow_writes: bool,
}

/// What a fix from the UI may do: nothing without `--allow-writes`; with it,
/// apply once the database's name (a SQLite file's name) is typed.
fn writes(allow: bool, target: &Target) -> Writes {
    if !allow {
        return Writes::Off;
    }
    let name = match (target.engine, target.database.as_deref()) {
        (Engine::Sqlite, Some(path)) => std::path::Path::new(path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned()),
        (_, database) => database.map(str::to_string),
    };
    Writes::allowed(name.as_deref().unwrap_or_default())
}

pub async fn run(args: TuiArgs) -> Result<u8> {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let config_path = args.config.clone().or_else(tui::config::default_path);
    let config =
        Config::load(config_path.as_deref(), no_color).map_err(|e| eyre!("settings: {e}"))?;
    let (url, is_demo) = super::resolve_url(&args.connect).await?;
    let profile = super::load_profile(&args.plan, is_demo)?;
    let db = super::open(&url, &args.connect).await?;
    let plan = Arc::new(super::plan(&db, &args.plan, profile.as_ref()).await?);
    let target = &db.target;
    let info = SessionInfo {
        engine: target.engine.display_name().to_string(),
        server_version: db.server_version.clone(),
        database: match target.engine {
            Engine::Sqlite => target
                .database
                .clone()
                .unwrap_or_else(|| "(in memory)".into()),
            _ => format!(
                "database {}",
                target.database.as_deref().unwrap_or("(default)")
            ),
        },
        // The server connected to (not merely the URL's host): user@host:port,
        // or user@ the socket file.
        address: match (target.engine, &target.user) {
            (Engine::Sqlite, _) => String::new(),
            (_, Some(u)) => format!("{u}@{}", target.address()),
            (_, None) => target.address(),
        },
        demo: is_demo,
        profile: plan.profile.clone(),
    };
    let settings = Settings {
        interval: Duration::from_secs_f64(args.interval),
        jobs: usize::from(args.connect.jobs),
        timeout: Duration::from_secs_f64(args.connect.timeout),
        url: url.clone(),
        backup_dir: args.backup.clone(),
        writable: super::writable_options(&args.connect, None),
        writes: writes(args.allow_writes, &db.target),
        baseline: match &args.baseline {
            Some(path) => Some(Arc::new(
                crate::baseline::Baseline::load(path).map_err(|e| eyre!(e))?,
            )),
            None => None,
        },
    };
    tui::run(tui::Ui {
        db,
        plan,
        info,
        settings,
        config,
    })
    .await?;
    Ok(0)
}
