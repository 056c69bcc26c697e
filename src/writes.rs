//! What every write path (fix, restore, probes, bench) checks before it writes
//! anything: that each table it may change can roll back, and which triggers
//! will fire (their effects are the database's, and cannot be backed up).

use crate::cell::{Cell, CellKind};
use crate::db::{self, Transaction};
use crate::model::{Schema, TableName};

/// A user trigger on a table a write will change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trigger {
    pub table: TableName,
    pub name: String,
    /// The definition (PostgreSQL: `CREATE TRIGGER …`; MySQL: the body).
    pub definition: String,
}

/// The user triggers on these tables.
pub async fn triggers(
    tx: &mut Transaction,
    schema: &Schema,
    tables: &[TableName],
) -> Result<Vec<Trigger>, String> {
    let mut out = Vec::new();
    for table in tables {
        let rows = tx
            .cells(
                &crate::sql::triggers(schema.engine),
                &[
                    Cell::Text(table.schema.clone()),
                    Cell::Text(table.name.clone()),
                ],
                &[CellKind::Text, CellKind::Text, CellKind::Text],
            )
            .await
            .map_err(|e| {
                format!(
                    "listing the triggers of {}: {}",
                    schema.label(table),
                    db::describe(&e)
                )
            })?;
        for row in rows {
            let text = |i: usize| match row.get(i) {
                Some(Cell::Text(t)) => t.clone(),
                _ => String::new(),
            };
            out.push(Trigger {
                table: table.clone(),
                name: text(0),
                definition: text(2),
            });
        }
    }
    Ok(out)
}

/// Refuses, before anything is written, when a table a write may change
/// cannot roll back (a MySQL storage engine without transactions, such as
/// MyISAM), or when a trigger on one of them writes to such a table. Names
/// the table and its engine. Other engines: every table can roll back.
pub async fn refuse_non_transactional(
    tx: &mut Transaction,
    schema: &Schema,
    tables: &[TableName],
) -> Result<(), String> {
    let Some(engines) = tx
        .transactional_engines()
        .await
        .map_err(|e| format!("listing the storage engines: {}", db::describe(&e)))?
    else {
        return Ok(());
    };
    let rolls_back = |engine: &str| engines.iter().any(|e| e.eq_ignore_ascii_case(engine));
    let cannot: Vec<(&TableName, String)> = schema
        .tables
        .iter()
        .filter_map(|t| {
            let engine = t.storage_engine.as_deref()?;
            (!rolls_back(engine)).then(|| (&t.name, engine.to_string()))
        })
        .collect();
    for table in tables {
        if let Some((_, engine)) = cannot.iter().find(|(name, _)| *name == table) {
            return Err(format!(
                "{} uses the {engine} storage engine, which cannot roll back: nothing was written",
                schema.label(table)
            ));
        }
    }
    if cannot.is_empty() {
        return Ok(());
    }
    for trigger in triggers(tx, schema, tables).await? {
        if let Some((name, engine)) = cannot
            .iter()
            .find(|(name, _)| mentions(&trigger.definition, &name.name))
        {
            return Err(format!(
                "trigger {} on {} writes to {}, which uses the {engine} storage engine and cannot roll back: nothing was written",
                trigger.name,
                schema.label(&trigger.table),
                schema.label(name)
            ));
        }
    }
    Ok(())
}

/// True when SQL text names `identifier` as a whole word (bare or quoted, any
/// case).
pub fn mentions(text: &str, identifier: &str) -> bool {
    let text = text.to_lowercase();
    let word = identifier.to_lowercase();
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    text.match_indices(&word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn a_trigger_body_names_a_table_as_a_word() {
        assert!(mentions("INSERT INTO `audit_log` VALUES (1)", "audit_log"));
        assert!(mentions("insert into audit_log(x) values (1)", "Audit_Log"));
        assert!(!mentions("INSERT INTO audit_log2 VALUES (1)", "audit_log"));
        assert!(!mentions(
            "INSERT INTO my_audit_log VALUES (1)",
            "audit_log"
        ));
    }
}
