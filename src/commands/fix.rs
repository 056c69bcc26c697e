//! `tether fix` (remedies: preview, or apply with a backup) and `tether restore`.

use super::args::{ConnectArgs, PlanArgs};
use crate::findings::thousands;
use crate::fix::{self, ApplyOptions, FixOptions, OrphanAction, Scope};
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
    /// Rows per statement.
    #[arg(long, default_value_t = 1000)]
    pub batch_size: usize,
    /// Commit without asking.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Args, Clone, Debug)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// A backup written by `tether fix --apply`.
    pub backup: PathBuf,
}

pub async fn run(args: FixArgs) -> Result<u8> {
    let (url, is_demo) = super::resolve_url(&args.connect).await?;
    let profile = super::load_profile(&args.plan, is_demo)?;
    let db = super::open(&url, &args.connect).await?;
    let plan = super::plan(&db, &args.plan, profile.as_ref()).await?;
    let options = FixOptions {
        scope: args.check.map(|c| match c {
            FixCheck::Orphans => Scope::Orphans,
            FixCheck::Tenant => Scope::Tenant,
            FixCheck::Index => Scope::Index,
            FixCheck::Constraint => Scope::Constraint,
        }),
        relationship: args.relationship.clone(),
        action: args.action.map(|a| match a {
            FixAction::Delete => OrphanAction::Delete,
            FixAction::SetNull => OrphanAction::SetNull,
        }),
    };
    let remedies = fix::preview(&db, &plan, &options)
        .await
        .map_err(|e| eyre!(e))?;
    db.close().await;

    let mut out = String::new();
    match args.format {
        FixFormat::Sql => {
            out.push_str(&format!(
                "-- tether fix · {} · review before running; `tether fix --apply` runs the data changes with a backup.\n\n",
                db.target
            ));
            for r in &remedies {
                out.push_str(&format!("-- {} {}\n", r.check, r.what));
                if let Some((n, why)) = &r.undecided {
                    out.push_str(&format!("-- {n} rows left for a person: {why}\n"));
                }
                for step in &r.steps {
                    out.push_str(&format!(
                        "-- {} rows\n{};\n",
                        thousands(step.count),
                        step.sql
                    ));
                }
                for ddl in &r.ddl {
                    out.push_str(&format!("{ddl};\n"));
                }
                out.push('\n');
            }
        }
        FixFormat::Text => {
            if remedies.is_empty() {
                out.push_str("Nothing to fix.\n");
            }
            for r in &remedies {
                out.push_str(&format!("{:<16} {}\n", r.check.as_str(), r.what));
                for step in &r.steps {
                    out.push_str(&format!(
                        "{:<16}   {} rows of {}\n",
                        "",
                        thousands(step.count),
                        plan.label(step.selection.table())
                    ));
                }
                for ddl in &r.ddl {
                    out.push_str(&format!(
                        "{:<16}   {}\n",
                        "",
                        ddl.as_str().lines().next().unwrap_or_default()
                    ));
                }
                if let Some((n, why)) = &r.undecided {
                    out.push_str(&format!(
                        "{:<16}   {} rows left for a person: {why}\n",
                        "",
                        thousands(*n)
                    ));
                }
            }
            let rows: u64 = remedies.iter().map(|r| r.rows()).sum();
            out.push_str(&format!(
                "\n{} rows would change. Preview only: nothing was touched.\n",
                thousands(rows)
            ));
        }
    }
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
    let confirm = |rows: u64| {
        if yes {
            return true;
        }
        if !std::io::stdin().is_terminal() {
            eprintln!("tether: not committed: no terminal to confirm on; pass --yes");
            return false;
        }
        eprint!(
            "{} rows changed inside the transaction. Commit? [y/N] ",
            thousands(rows)
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        matches!(answer.trim(), "y" | "Y" | "yes")
    };
    let applied = fix::apply(
        &db,
        &plan,
        &remedies,
        &ApplyOptions {
            backup_dir: args.backup.clone(),
            batch_size: args.batch_size,
        },
        confirm,
    )
    .await
    .map_err(|e| eyre!(e))?;
    db.close().await;
    if applied.committed {
        println!(
            "Committed: {} rows changed. Backup: {}\nUndo with: tether restore --url <URL> {}",
            thousands(applied.rows),
            applied.backup.display(),
            applied.backup.display()
        );
        Ok(0)
    } else {
        println!(
            "Rolled back: nothing changed. (Backup of the rows: {})",
            applied.backup.display()
        );
        Ok(1)
    }
}

pub async fn restore(args: RestoreArgs) -> Result<u8> {
    let (url, _) = super::resolve_url(&args.connect).await?;
    // Restored rows may be orphans again, as they were.
    let db = super::open_writable(&url, &args.connect, Some(false)).await?;
    let schema = crate::catalog::read(&db, &[])
        .await
        .map_err(|e| eyre!("reading the catalog: {}", crate::db::describe(&e)))?;
    let plan = crate::checks::plan::Plan::build(schema, None, &Default::default());
    let n = fix::restore(&db, &plan, &args.backup)
        .await
        .map_err(|e| eyre!(e))?;
    db.close().await;
    println!(
        "Restored {} rows from {}.",
        thousands(n as u64),
        args.backup.display()
    );
    Ok(0)
}
