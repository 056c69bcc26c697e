//! The engine-neutral schema model: what the catalog readers produce and
//! everything above them consumes. No I/O and no SQL here.

use serde::Serialize;
use std::fmt;

/// A supported database engine. Also names the SQL dialect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Postgres,
    Sqlite,
    Mysql,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Sqlite => "sqlite",
            Engine::Mysql => "mysql",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Engine::Postgres => "PostgreSQL",
            Engine::Sqlite => "SQLite",
            Engine::Mysql => "MySQL/MariaDB",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A table's full name. Always carries its schema; `label` drops the schema
/// when it is the database's default one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableName {
    pub schema: String,
    pub name: String,
}

impl TableName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            schema: schema.into(),
            name: name.into(),
        }
    }

    /// How reports name the table: bare in the default schema, `schema.table` elsewhere.
    pub fn label(&self, default_schema: &str) -> String {
        if self.schema == default_schema {
            self.name.clone()
        } else {
            format!("{}.{}", self.schema, self.name)
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// The type as the engine names it (`uuid`, `integer`, `character varying(20)`, `TEXT`).
    pub data_type: String,
    pub nullable: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableKind {
    Table,
    /// A PostgreSQL partitioned table; its partitions are not listed separately.
    Partitioned,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub name: TableName,
    pub kind: TableKind,
    pub columns: Vec<Column>,
    /// Primary-key columns in key order; empty when the table has none.
    pub primary_key: Vec<String>,
    /// The planner's row estimate, when the engine keeps one.
    pub row_estimate: Option<i64>,
    /// MySQL storage engine (`InnoDB`, `MyISAM`); None elsewhere.
    pub storage_engine: Option<String>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A referential action (ON DELETE / ON UPDATE).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Cascade,
    SetNull,
    SetDefault,
    Restrict,
    NoAction,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Cascade => "cascade",
            Action::SetNull => "set_null",
            Action::SetDefault => "set_default",
            Action::Restrict => "restrict",
            Action::NoAction => "no_action",
        }
    }

    /// Parses the spellings catalogs use: `CASCADE`, `SET NULL`, `NO ACTION`, and
    /// PostgreSQL's one-letter codes (`a r c n d`).
    pub fn parse_catalog(text: &str) -> Option<Action> {
        match text.trim().to_ascii_uppercase().replace('_', " ").as_str() {
            "CASCADE" | "C" => Some(Action::Cascade),
            "SET NULL" | "N" => Some(Action::SetNull),
            "SET DEFAULT" | "D" => Some(Action::SetDefault),
            "RESTRICT" | "R" => Some(Action::Restrict),
            "NO ACTION" | "A" | "NONE" | "" => Some(Action::NoAction),
            _ => None,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchType {
    Simple,
    Full,
    Partial,
}

/// A declared foreign-key constraint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignKey {
    pub name: String,
    pub child: TableName,
    pub child_columns: Vec<String>,
    pub parent: TableName,
    pub parent_columns: Vec<String>,
    pub on_delete: Action,
    pub on_update: Action,
    pub match_type: MatchType,
    pub deferrable: bool,
    pub initially_deferred: bool,
    /// False for PostgreSQL `NOT VALID` constraints.
    pub validated: bool,
    /// False for PostgreSQL 18 `NOT ENFORCED` constraints.
    pub enforced: bool,
    /// False when the RI triggers behind the constraint (on any partition) are
    /// disabled or fire only in replica sessions.
    pub triggers_enabled: bool,
}

impl ForeignKey {
    /// Why the constraint does not protect data, if it does not (as far as the catalog tells).
    pub fn not_enforced_reason(&self) -> Option<&'static str> {
        if !self.enforced {
            Some("declared NOT ENFORCED")
        } else if !self.validated {
            Some("NOT VALID: existing rows were never checked")
        } else if !self.triggers_enabled {
            Some("its RI triggers are disabled (or fire only in replica sessions)")
        } else {
            None
        }
    }
}

/// An index (or a key backed by one). `None` columns are expressions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    pub table: TableName,
    pub columns: Vec<Option<String>>,
    pub unique: bool,
    pub partial: bool,
    pub valid: bool,
}

impl Index {
    /// True when `columns` (in any order) are this index's leading columns and the
    /// index can serve lookups by them: valid and not partial.
    pub fn leads_with(&self, columns: &[String]) -> bool {
        if !self.valid || self.partial || self.columns.len() < columns.len() {
            return false;
        }
        let lead = &self.columns[..columns.len()];
        columns
            .iter()
            .all(|c| lead.iter().any(|l| l.as_deref() == Some(c.as_str())))
    }

    /// True when the index guarantees `columns` are unique (all non-NULL values distinct).
    pub fn makes_unique(&self, columns: &[String]) -> bool {
        self.unique
            && self.valid
            && !self.partial
            && self.columns.len() == columns.len()
            && self.leads_with(columns)
    }
}

/// Everything tether knows about one database's structure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schema {
    pub engine: Engine,
    /// `public`, `main`, or the current MySQL database: tables here are named bare.
    pub default_schema: String,
    pub tables: Vec<Table>,
    pub foreign_keys: Vec<ForeignKey>,
    pub indexes: Vec<Index>,
}

impl Schema {
    pub fn table(&self, name: &TableName) -> Option<&Table> {
        self.tables.iter().find(|t| &t.name == name)
    }

    pub fn label(&self, name: &TableName) -> String {
        name.label(&self.default_schema)
    }

    /// Finds a table by how a person writes it: bare (default schema first, then a
    /// unique match in any schema) or `schema.table`.
    pub fn resolve(&self, written: &str) -> Option<&Table> {
        let bare = TableName::new(self.default_schema.clone(), written);
        if let Some(t) = self.table(&bare) {
            return Some(t);
        }
        if let Some((schema, name)) = written.split_once('.') {
            if let Some(t) = self.table(&TableName::new(schema, name)) {
                return Some(t);
            }
        }
        let mut matches = self.tables.iter().filter(|t| t.name.name == written);
        match (matches.next(), matches.next()) {
            (Some(t), None) => Some(t),
            _ => None,
        }
    }

    pub fn indexes_of<'a>(&'a self, table: &'a TableName) -> impl Iterator<Item = &'a Index> + 'a {
        self.indexes.iter().filter(move |i| &i.table == table)
    }

    /// True when some valid, non-partial index leads with `columns`.
    pub fn is_indexed(&self, table: &TableName, columns: &[String]) -> bool {
        self.indexes_of(table).any(|i| i.leads_with(columns))
    }

    /// True when `columns` of `table` are its primary key or covered by a unique index,
    /// so that joining on them cannot multiply rows.
    pub fn is_unique(&self, table: &TableName, columns: &[String]) -> bool {
        let Some(t) = self.table(table) else {
            return false;
        };
        let same_set =
            |a: &[String]| a.len() == columns.len() && columns.iter().all(|c| a.contains(c));
        same_set(&t.primary_key) || self.indexes_of(table).any(|i| i.makes_unique(columns))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(cols: &[&str], partial: bool, valid: bool) -> Index {
        Index {
            name: "i".into(),
            table: TableName::new("public", "t"),
            columns: cols.iter().map(|c| Some(c.to_string())).collect(),
            unique: true,
            partial,
            valid,
        }
    }

    #[test]
    fn leading_columns_in_any_order() {
        let i = index(&["a", "b", "c"], false, true);
        assert!(i.leads_with(&["b".into(), "a".into()]));
        assert!(!i.leads_with(&["c".into()]));
        assert!(!index(&["a"], true, true).leads_with(&["a".into()]));
        assert!(!index(&["a"], false, false).leads_with(&["a".into()]));
    }

    #[test]
    fn labels_drop_the_default_schema() {
        assert_eq!(TableName::new("public", "t").label("public"), "t");
        assert_eq!(TableName::new("audit", "t").label("public"), "audit.t");
    }

    #[test]
    fn parses_catalog_actions() {
        assert_eq!(Action::parse_catalog("SET NULL"), Some(Action::SetNull));
        assert_eq!(Action::parse_catalog("c"), Some(Action::Cascade));
        assert_eq!(Action::parse_catalog("NO ACTION"), Some(Action::NoAction));
    }
}
