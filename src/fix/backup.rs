//! The backup an apply writes before its first change, and `restore` reads.
//!
//! JSON lines. The first line describes the apply and every table it changes
//! (schema-qualified name, key, and each column's type, whether it is
//! generated and whether it is an identity column). Then one line per row the
//! transaction will change, with its whole pre-image as exact cells: the rows
//! tether deletes or updates itself, and those the database's declared rules
//! delete (`cascade`) or update (`set_null`, `set_default`). Deleted rows come
//! parents first. After the changes, and before the commit, the post-image of
//! every updated row follows (`after`), and once the transaction has ended, a
//! last line says whether it committed.
//!
//! The file is created with mode 0600, never over an existing file, and is
//! flushed and synced (with its directory) before the first change.

use crate::cell::Cell;
use crate::model::{Column, Identity, TableName};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

pub const FORMAT: u32 = 2;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Header {
    /// The backup format's version.
    pub tether_backup: u32,
    pub engine: String,
    /// The database, without its password.
    pub database: String,
    pub created: String,
    pub tables: Vec<BackupTable>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BackupTable {
    pub schema: String,
    pub name: String,
    pub key: Vec<String>,
    pub columns: Vec<BackupColumn>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BackupColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub generated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
}

impl BackupColumn {
    pub fn of(column: &Column) -> Self {
        BackupColumn {
            name: column.name.clone(),
            data_type: column.data_type.clone(),
            generated: column.generated,
            identity: column.identity.map(|i| match i {
                Identity::Always => "always".to_string(),
                Identity::ByDefault => "by_default".to_string(),
            }),
        }
    }

    pub fn to_column(&self) -> Column {
        Column {
            name: self.name.clone(),
            data_type: self.data_type.clone(),
            nullable: true,
            generated: self.generated,
            identity: match self.identity.as_deref() {
                Some("always") => Some(Identity::Always),
                Some(_) => Some(Identity::ByDefault),
                None => None,
            },
        }
    }
}

impl BackupTable {
    pub fn name(&self) -> TableName {
        TableName::new(self.schema.clone(), self.name.clone())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowAction {
    /// The row is deleted: restore inserts it.
    Delete,
    /// The row is updated: restore puts its values back.
    Update,
}

/// Who changes the row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// tether's own statement.
    Fix,
    /// The database, by an `ON DELETE CASCADE` rule.
    Cascade,
    /// The database, by an `ON DELETE SET NULL` rule.
    SetNull,
    /// The database, by an `ON DELETE SET DEFAULT` rule.
    SetDefault,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BackupRow {
    pub schema: String,
    pub table: String,
    pub action: RowAction,
    pub cause: Cause,
    /// The constraint whose rule changes it (cascade, set null, set default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    /// The columns the change sets (updates).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
    /// The row before the change: every column, as exact cells.
    pub row: Map<String, Value>,
}

/// One line of a backup.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Line {
    Header(Header),
    Row(BackupRow),
    After { after: AfterImage },
    End { committed: bool },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AfterImage {
    pub schema: String,
    pub table: String,
    pub row: Map<String, Value>,
}

/// Cells as a JSON object, column by column.
pub fn to_object(columns: &[Column], row: &[Cell]) -> Map<String, Value> {
    columns
        .iter()
        .zip(row)
        .map(|(c, v)| {
            (
                c.name.clone(),
                serde_json::to_value(v).expect("cells serialise"),
            )
        })
        .collect()
}

/// A JSON object back to cells in `columns` order; Err names a missing column.
pub fn from_object(columns: &[Column], object: &Map<String, Value>) -> Result<Vec<Cell>, String> {
    columns
        .iter()
        .map(|c| {
            let value = object
                .get(&c.name)
                .ok_or_else(|| format!("column {} is missing", c.name))?;
            serde_json::from_value::<Cell>(value.clone())
                .map_err(|e| format!("column {}: {e}", c.name))
        })
        .collect()
}

/// A backup being written.
pub struct Writer {
    pub path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
}

impl Writer {
    /// Creates a new backup file in `dir` (created 0700 if missing): mode
    /// 0600, and never an existing file.
    pub fn create(dir: &Path) -> Result<Writer, String> {
        if !dir.exists() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            builder
                .create(dir)
                .map_err(|e| format!("creating the backup directory {}: {e}", dir.display()))?;
        }
        let stamp = crate::clock::rfc3339(std::time::SystemTime::now()).replace([':', '.'], "-");
        let path = dir.join(format!("tether-fix-{stamp}-{}.jsonl", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options
            .open(&path)
            .map_err(|e| format!("creating the backup {}: {e}", path.display()))?;
        Ok(Writer {
            path,
            file: std::io::BufWriter::new(file),
        })
    }

    pub fn line(&mut self, line: &Line) -> Result<(), String> {
        let text = serde_json::to_string(line).expect("backup lines serialise");
        writeln!(self.file, "{text}").map_err(|e| self.failed(e))
    }

    /// Flushes and syncs the file and its directory: what is written is on disk.
    pub fn sync(&mut self) -> Result<(), String> {
        self.file.flush().map_err(|e| self.failed(e))?;
        self.file.get_ref().sync_all().map_err(|e| self.failed(e))?;
        if let Some(dir) = self.path.parent()
            && let Ok(dir) = std::fs::File::open(dir)
        {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    fn failed(&self, e: std::io::Error) -> String {
        format!("writing the backup {}: {e}", self.path.display())
    }
}

/// A backup read back.
pub struct Backup {
    pub header: Header,
    pub rows: Vec<BackupRow>,
    pub after: Vec<AfterImage>,
    /// The last line, once the apply's transaction ended: did it commit?
    pub committed: Option<bool>,
}

pub fn read(path: &Path) -> Result<Backup, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut header = None;
    let mut rows = Vec::new();
    let mut after = Vec::new();
    let mut committed = None;
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{}:{}", path.display(), n + 1);
        let parsed: Line = serde_json::from_str(&line).map_err(|e| format!("{}: {e}", at()))?;
        match (parsed, n) {
            (Line::Header(h), 0) => {
                if h.tether_backup != FORMAT {
                    return Err(format!(
                        "{}: backup format {} is not one this tether restores ({FORMAT})",
                        at(),
                        h.tether_backup
                    ));
                }
                header = Some(h);
            }
            (_, 0) => {
                return Err(format!(
                    "{}: not a tether backup of format {FORMAT} (no header line)",
                    at()
                ));
            }
            (Line::Row(r), _) => rows.push(r),
            (Line::After { after: a }, _) => after.push(a),
            (Line::End { committed: c }, _) => committed = Some(c),
            (Line::Header(_), _) => return Err(format!("{}: a second header", at())),
        }
    }
    let header = header.ok_or_else(|| format!("{}: the backup is empty", path.display()))?;
    Ok(Backup {
        header,
        rows,
        after,
        committed,
    })
}
