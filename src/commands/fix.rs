//! `tether fix` (remedies: preview, or apply with a backup) and `tether restore`.

use super::args::{ConnectArgs, PlanArgs, whole};
use crate::checks::plan::Plan;
use crate::db::Target;
use crate::fix::{self, ApplyOptions, FixOptions, OnConflict, OrphanAction, Scope};
use crate::report::fix::{self as report, Tone};
use crate::wording::{plural, thousands};
use clap::{Args, ValueEnum};
use color_eyre::eyre::{Result, eyre};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixCheck {
    Orphans,
    Tenant,
    Index,
    Constraint,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixAction {
    Delete,
    SetNull,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixFormat {
    Text,
    Sql,
}

#[derive(Args, Clone, Debug)]
pub struct FixArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Only this kind of remedy.
    #[arg(long = "check", value_enum)]
    pub check: Option<FixCheck>,
    /// Only this table, or one relationship by its reference: CHILD.COLUMN.
    #[arg(long, value_name = "CHILD.COL")]
    pub relationship: Option<String>,
    /// For orphans whose intended delete rule implies neither.
    #[arg(long, value_enum)]
    pub action: Option<FixAction>,
    /// `text`: what each remedy does and how many rows; `sql`: the script.
    #[arg(long, short = 'f', value_enum, default_value_t = FixFormat::Text)]
    pub format: FixFormat,
    /// Apply the data changes: back the rows up, change them in one
    /// transaction, commit after confirmation.
    #[arg(long)]
    pub apply: bool,
    /// Where the backup file goes.
    #[arg(long, value_name = "DIR", default_value = "tether-backups")]
    pub backup: PathBuf,
    /// Rows per statement, 1 to 100000 (fewer when the engine's limit on
    /// bound values per statement needs it).
    #[arg(long, default_value_t = 1000, value_name = "N", value_parser = whole::<usize>(1, 100_000), allow_hyphen_values = true)]
    pub batch_size: usize,
    /// Commit without asking.
    #[arg(long)]
    pub yes: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConflictArg {
    /// Restore nothing when a row changed since the fix.
    Refuse,
    /// Keep rows that changed since the fix as they are; restore the rest.
    Skip,
}

#[derive(Args, Clone, Debug)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// A backup written by `tether fix --apply`.
    pub backup: PathBuf,
    /// What to do with a row that changed since the fix.
    #[arg(long, value_enum, default_value_t = ConflictArg::Refuse)]
    pub on_conflict: ConflictArg,
}

pub async fn run(args: FixArgs) -> Result<u8> {
    let (url, is_demo) = super::resolve_url(&args.connect).await?;
    let profile = super::load_profile(&args.plan, is_demo)?;
    let db = super::open(&url, &args.connect).await?;
    let plan = super::plan(&db, &args.plan, profile.as_ref()).await?;
    let options = fix_options(&args);
    let spinner = crate::progress::spinner("reading what would change");
    let remedies = fix::preview(&db, &plan, &options).await;
    spinner.finish_and_clear();
    let remedies = remedies.map_err(|e| eyre!(e))?;
    db.close().await;
    let rows: u64 = remedies.iter().map(|r| r.rows()).sum();

    let out = match args.format {
        FixFormat::Sql => sql_script(&db.target, &plan, &remedies),
        FixFormat::Text => text_preview(&plan, &remedies, rows, args.apply),
    };
    print!("{out}");
    if !args.apply {
        return Ok(0);
    }
    if remedies.iter().all(|r| r.steps.is_empty()) {
        println!("No data changes to apply (migrations are printed, never applied).");
        return Ok(0);
    }
    let db = super::open_writable(&url, &args.connect, None).await?;
    let yes = args.yes;
    let applied = fix::apply(
        &db,
        &plan,
        &remedies,
        &ApplyOptions {
            backup_dir: args.backup.clone(),
            batch_size: args.batch_size,
        },
        |rows| confirm(yes, rows),
    )
    .await;
    db.close().await;
    let applied = applied.map_err(|e| eyre!(e))?;
    Ok(print_applied(&applied))
}

/// The remedies the command line asks for.
fn fix_options(args: &FixArgs) -> FixOptions {
    FixOptions {
        scope: args.check.map(|c| match c {
            FixCheck::Orphans => Scope::Orphans,
            FixCheck::Tenant => Scope::Tenant,
            FixCheck::Index => Scope::Index,
            FixCheck::Constraint => Scope::Constraint,
        }),
        relationship: args.relationship.clone(),
        only: None,
        action: args.action.map(|a| match a {
            FixAction::Delete => OrphanAction::Delete,
            FixAction::SetNull => OrphanAction::SetNull,
        }),
    }
}

/// The remedies as a script to review: each one's description as comments,
/// then its statements and migrations.
fn sql_script(target: &Target, plan: &Plan, remedies: &[fix::Remedy]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "-- tether fix · {target} · review before running; `tether fix --apply` runs the data changes with a backup.\n\n"
    ));
    for r in remedies {
        out.push_str(&format!("-- {} {}\n", r.check, r.what));
        for (_, line) in report::lines(plan, r)
            .into_iter()
            .filter(|(tone, _)| *tone != Tone::Migration)
        {
            out.push_str(&format!("--   {line}\n"));
        }
        for step in &r.steps {
            out.push_str(&format!("{};\n", step.sql));
        }
        for ddl in &r.ddl {
            out.push_str(&format!("{ddl};\n"));
        }
        out.push('\n');
    }
    out
}

/// The remedies in words, and the number of `rows` they change: said once,
/// as a preview or as what an apply is about to change.
fn text_preview(plan: &Plan, remedies: &[fix::Remedy], rows: u64, apply: bool) -> String {
    let mut out = String::new();
    if remedies.is_empty() {
        out.push_str("Nothing to fix.\n");
    }
    for r in remedies {
        out.push_str(&format!("{:<16} {}\n", r.check.as_str(), r.what));
        for (_, line) in report::lines(plan, r) {
            out.push_str(&format!("{:<16}   {line}\n", ""));
        }
    }
    // Said once: a preview says it is one; an apply says what it did.
    if apply {
        out.push_str(&format!("\n{} to change.\n", plural(rows, "row")));
    } else {
        out.push_str(&format!(
            "\n{} would change. Preview only: nothing was touched.\n",
            plural(rows, "row")
        ));
    }
    out
}

/// Asks on the terminal whether to commit the `rows` changed (yes without
/// asking with `yes`; no when there is no terminal to ask on).
fn confirm(yes: bool, rows: u64) -> bool {
    if yes {
        return true;
    }
    if !std::io::stdin().is_terminal() {
        eprintln!("tether: not committed: no terminal to confirm on; pass --yes");
        return false;
    }
    eprint!(
        "{} changed inside the transaction. Commit? [y/N] ",
        plural(rows, "row")
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim(), "y" | "Y" | "yes")
}

/// Says what an apply did; the exit code: 0 when it committed, 1 when it
/// rolled back.
fn print_applied(applied: &fix::Applied) -> u8 {
    if applied.committed {
        println!(
            "Committed: {} changed. Backup: {}\nUndo with: tether restore --url <URL> {}",
            plural(applied.rows, "row"),
            applied.backup.display(),
            applied.backup.display()
        );
        0
    } else {
        println!(
            "Rolled back: nothing changed. (Backup of the rows: {})",
            applied.backup.display()
        );
        1
    }
}

pub async fn restore(args: RestoreArgs) -> Result<u8> {
    let (url, _) = super::resolve_url(&args.connect).await?;
    // Restored rows may be orphans again, as they were.
    let db = super::open_writable(&url, &args.connect, Some(false)).await?;
    let schema = crate::catalog::read(&db, &[])
        .await
        .map_err(|e| eyre!("reading the catalog: {}", crate::db::describe(&e)))?;
    let on_conflict = match args.on_conflict {
        ConflictArg::Refuse => OnConflict::Refuse,
        ConflictArg::Skip => OnConflict::Skip,
    };
    let restored = fix::restore(&db, &schema, &args.backup, on_conflict).await;
    db.close().await;
    let restored = restored.map_err(|e| eyre!(e))?;
    if restored.not_committed {
        println!(
            "Nothing to restore: the fix that wrote {} was rolled back.",
            args.backup.display()
        );
        return Ok(0);
    }
    println!(
        "Restored from {}: {} inserted again, {} given their values back, {} already as they were.",
        args.backup.display(),
        plural(restored.inserted, "row"),
        plural(restored.updated, "row"),
        thousands(restored.unchanged)
    );
    if !restored.skipped.is_empty() {
        println!(
            "Kept as they are now ({} changed since the fix):",
            thousands(restored.skipped.len() as u64)
        );
        for s in &restored.skipped {
            println!("  {s}");
        }
    }
    Ok(0)
}
