//! `tether demo`: creates the discovery-flow schema with known faults.

use super::args::whole;
use crate::demo::{self, DemoOptions};
use crate::wording::thousands;
use clap::Args;
use color_eyre::eyre::Result;
use std::path::Path;

#[derive(Args, Clone, Debug)]
pub struct DemoArgs {
    /// Where to create it: postgres://…, mysql://… or sqlite://path. Default: the bundled demo database.
    #[arg(long)]
    pub url: Option<String>,
    /// About the number of assets, 100 to 1000000000; other tables are proportional.
    #[arg(long, default_value_t = 10_000, value_name = "N", value_parser = whole::<u64>(demo::MIN_SCALE, demo::MAX_SCALE), allow_hyphen_values = true)]
    pub scale: u64,
    /// Seed for the generated data: any whole number from 0 to 18446744073709551615.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = whole::<u64>(0, u64::MAX), allow_hyphen_values = true)]
    pub seed: u64,
    /// Replace the demo's own tables in a database that already has tables
    /// (nothing else; refused when other objects depend on them).
    #[arg(long)]
    pub force: bool,
}

/// Creates a demo SQLite database at `path` (its directory too).
pub async fn create_sqlite(path: &Path, options: &DemoOptions) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let db = super::open_loading(&super::sqlite_url(path)).await?;
    let progress = crate::progress::bar(0, "creating the demo");
    let result = demo::load(&db, options, &progress).await;
    db.close().await;
    result?;
    Ok(())
}

pub async fn run(args: DemoArgs) -> Result<u8> {
    let url = match &args.url {
        Some(url) => url.clone(),
        None => {
            let path = super::demo_path();
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            super::sqlite_url(&path)
        }
    };
    let options = DemoOptions {
        scale: args.scale,
        seed: args.seed,
        force: args.force,
    };
    let db = super::open_loading(&url).await?;
    let progress = crate::progress::bar(0, "creating the demo");
    let loaded = demo::load(&db, &options, &progress).await;
    db.close().await;
    let loaded = loaded?;
    println!(
        "Created the discovery-flow demo in {} in {:.1} s:",
        db.target,
        loaded.elapsed.as_secs_f64()
    );
    for (table, rows) in &loaded.tables {
        println!("  {table:<30} {:>12} rows", thousands(*rows));
    }
    println!("\nPlanted faults (tether check --profile discovery-flow reports each):");
    for fault in demo::expected(args.scale, db.engine()) {
        let count = fault
            .count
            .map(|c| format!(" ({})", thousands(c)))
            .unwrap_or_default();
        println!(
            "  {:<16} {}{count}\n  {:<16} {}",
            fault.check.as_str(),
            fault.location,
            "",
            fault.planted
        );
    }
    Ok(0)
}
