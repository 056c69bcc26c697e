//! Before the demo replaces its tables (`--force`): the objects outside the
//! demo that depend on them (views, other tables' foreign keys, triggers).
//! The demo drops only its own tables, and refuses, naming these objects,
//! rather than take them along or leave them broken.

use crate::db::{Db, Transaction};
use crate::model::TableName;
use crate::sql::ddl;

/// One object outside the demo that depends on a demo table, for a person:
/// `view report (on assets)`.
pub type Dependent = String;

/// The objects outside `tables` (the demo's, all in `schema`) that depend on
/// them, each once.
pub async fn dependents(
    db: &Db,
    schema: &str,
    tables: &[TableName],
) -> Result<Vec<Dependent>, sqlx::Error> {
    let names: Vec<String> = tables.iter().map(|t| t.name.clone()).collect();
    let mut reader: Transaction = db.reader(None).await?;
    let rows = reader
        .text_rows(&ddl::dependents(db.engine(), schema, &names))
        .await;
    let _ = reader.finish().await;
    let mut out: Vec<Dependent> = Vec::new();
    for row in rows? {
        let text = |k: &str| {
            row.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let (object, on_table, definition) = (text("object"), text("on_table"), text("definition"));
        let on: Vec<&str> = if on_table.is_empty() {
            names
                .iter()
                .filter(|n| crate::writes::mentions(&definition, n))
                .map(String::as_str)
                .collect()
        } else {
            vec![on_table.as_str()]
        };
        if on.is_empty() {
            continue;
        }
        let line = format!("{object} (on {})", on.join(", "));
        if !out.contains(&line) {
            out.push(line);
        }
    }
    Ok(out)
}
