//! A remedy in words, for the CLI and the UI alike: what tether changes, what
//! the database's declared rules change in turn, what is left referencing
//! nothing, and which triggers fire.

use crate::checks::plan::Plan;
use crate::fix::{Change, Effect, Remedy, Step};
use crate::model::{ReferentialAction, RelationshipId};
use crate::relationships::Source;
use crate::wording::plural;

/// How a line should look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// A change tether makes, or one the database's rules make.
    Change,
    /// Something a person should know before applying.
    Warning,
    /// A migration, printed only.
    Migration,
}

/// The lines that describe a remedy, below its title.
pub fn lines(plan: &Plan, remedy: &Remedy) -> Vec<(Tone, String)> {
    let mut out = Vec::new();
    for step in &remedy.steps {
        out.push((Tone::Change, step_line(plan, step)));
    }
    for effect in &remedy.effects {
        out.push((Tone::Change, effect_line(plan, effect)));
    }
    for (ri, n) in &remedy.orphaned {
        out.push((Tone::Warning, orphaned_line(plan, *ri, *n)));
    }
    for t in &remedy.triggers {
        out.push((
            Tone::Warning,
            format!(
                "trigger {} on {} fires: what it does is not in the backup",
                t.name,
                plan.label(&t.table)
            ),
        ));
    }
    if let Some(why) = &remedy.withheld {
        out.push((Tone::Warning, format!("count withheld: {why}")));
    }
    if let Some((n, why)) = &remedy.undecided {
        out.push((
            Tone::Warning,
            format!("{} left for a person: {why}", plural(*n, "row")),
        ));
    }
    for ddl in &remedy.ddl {
        out.push((
            Tone::Migration,
            ddl.as_str().lines().next().unwrap_or_default().to_string(),
        ));
    }
    out
}

/// What tether itself does to the rows of one step.
fn step_line(plan: &Plan, step: &Step) -> String {
    let table = plan.label(step.selection.table());
    let what = match &step.change {
        Change::Delete => "deleted by tether".to_string(),
        Change::SetNull(columns) => format!("{} set to NULL by tether", columns.join(", ")),
        Change::CopyTenant(column) => format!("{column} copied from the parent by tether"),
    };
    format!("{} of {table}: {what}", plural(step.count, "row"))
}

/// What one declared rule of the database does in turn.
fn effect_line(plan: &Plan, effect: &Effect) -> String {
    let r = &plan.relationships[effect.relationship];
    let constraint = r
        .constraint
        .as_ref()
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let what = match effect.rule {
        ReferentialAction::Cascade => "deleted".to_string(),
        ReferentialAction::SetDefault => {
            format!("{} set to its default", r.child_columns.join(", "))
        }
        _ => format!("{} set to NULL", r.child_columns.join(", ")),
    };
    format!(
        "{} of {}: {what} by the database ({constraint}, ON DELETE {})",
        plural(effect.count, "row"),
        plan.label(&r.child),
        effect.rule.as_str().replace('_', " ").to_uppercase()
    )
}

/// The `n` rows of relationship `ri`, which the database does not enforce,
/// left referencing rows that are gone.
fn orphaned_line(plan: &Plan, ri: RelationshipId, n: u64) -> String {
    let r = &plan.relationships[ri];
    let why = match (&r.constraint, r.source) {
        (Some(c), _) => format!("constraint {} is not enforced", c.name),
        (None, Source::Profile) => "declared only in the profile".to_string(),
        (None, _) => "implied by column names".to_string(),
    };
    format!(
        "{} of {} will reference rows that are gone: {} ({why}; not followed)",
        plural(n, "row"),
        plan.label(&r.child),
        r.label(&plan.schema).arrow()
    )
}
