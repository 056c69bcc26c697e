//! Every relationship tether knows about one database: declared constraints,
//! the profile's intended relationships, and relationships implied by names.

use crate::findings::RelationshipLabel;
use crate::model::{ForeignKey, ReferentialAction, RelationshipId, Schema, Table, TableName};
use crate::profile::{Location, Profile, RelationshipDecl};
use crate::sql::render::Lookup;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Declared in the catalog.
    Constraint,
    /// In the profile only.
    Profile,
    /// Inferred from names (`customer_id` ↔ `customers.id`).
    Implied,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Relationship {
    pub child: TableName,
    pub child_columns: Vec<String>,
    pub parent: TableName,
    pub parent_columns: Vec<String>,
    pub source: Source,
    /// The declared constraint, when there is one (the schema's own).
    pub constraint: Option<std::sync::Arc<ForeignKey>>,
    /// The profile's intended ON DELETE rule.
    pub expected_on_delete: Option<ReferentialAction>,
    /// The profile declares this relationship (with or without a constraint).
    pub in_profile: bool,
    /// The child's reference columns lead a valid, non-partial index.
    pub indexed: bool,
    /// The parent columns are a primary key or unique, so a join keeps one row per child.
    pub parent_unique: bool,
    /// Child and parent column types differ: compare as text.
    pub types_differ: bool,
    /// The child / the parent has old-style inheritance children: read its
    /// own rows only, as the database's constraint checks do.
    pub child_only: bool,
    pub parent_only: bool,
}

impl Relationship {
    /// (child column, parent column) pairs, in the relationship's order.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.child_columns
            .iter()
            .cloned()
            .zip(self.parent_columns.iter().cloned())
            .collect()
    }

    /// How a child row finds its parent, for the SQL renderer. A declared
    /// constraint's columns are compared as they are, with the equality the
    /// database itself uses for it (`int` to `bigint`, `citext`, collations);
    /// only an undeclared pair of different types is compared as text. A
    /// constraint's `MATCH FULL` counts partly NULL references too.
    pub fn lookup(&self) -> Lookup {
        Lookup {
            parent: self.parent.clone(),
            pairs: self.pairs(),
            as_text: self.types_differ && self.constraint.is_none(),
            match_full: self
                .constraint
                .as_ref()
                .is_some_and(|c| c.match_type == crate::model::MatchType::Full),
            parent_only: self.parent_only,
        }
    }

    /// True when the child columns are `columns`, in any order.
    pub fn has_child_columns(&self, columns: &[String]) -> bool {
        same_set(&self.child_columns, columns)
    }

    pub fn label(&self, schema: &Schema) -> RelationshipLabel {
        RelationshipLabel {
            child_table: schema.label(&self.child),
            child_columns: self.child_columns.clone(),
            parent_table: schema.label(&self.parent),
            parent_columns: self.parent_columns.clone(),
        }
    }
}

/// Something in the profile that does not match the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileProblem {
    pub location: Location,
    /// What the profile entry describes: `relationship assets(x) → flows`.
    pub subject: String,
    pub message: String,
}

impl std::ops::Index<RelationshipId> for Vec<Relationship> {
    type Output = Relationship;

    fn index(&self, id: RelationshipId) -> &Relationship {
        &self[id.index()]
    }
}

/// Relationships plus what in the profile could not be matched.
pub struct Resolved {
    pub relationships: Vec<Relationship>,
    pub problems: Vec<ProfileProblem>,
}

/// Combines catalog constraints, profile relationships and implied ones, each once.
pub fn resolve(schema: &Schema, profile: &Profile) -> Resolved {
    let mut relationships = declared(schema);
    let mut problems = Vec::new();

    for decl in &profile.relationships {
        let location = profile.location(decl.span().start);
        let d = decl.get_ref();
        if let Err(message) = add_intended(schema, d, &mut relationships) {
            problems.push(ProfileProblem {
                location,
                subject: format!(
                    "relationship {}({}) → {}",
                    d.child,
                    d.columns.join(", "),
                    d.parent
                ),
                message,
            });
        }
    }

    let implied = implied(schema, &relationships);
    relationships.extend(implied);
    sort_relationships(&mut relationships);
    Resolved {
        relationships,
        problems,
    }
}

/// One relationship per foreign-key constraint of the catalog.
fn declared(schema: &Schema) -> Vec<Relationship> {
    schema
        .foreign_keys
        .iter()
        .map(|fk| {
            build(
                schema,
                fk.child.clone(),
                fk.child_columns.clone(),
                fk.parent.clone(),
                fk.parent_columns.clone(),
                Source::Constraint,
                Some(fk.clone()),
            )
        })
        .collect()
}

/// Marks the relationship a profile entry declares as in the profile (with
/// its expected ON DELETE rule), adding it when no constraint declares it.
/// An error says what in the entry does not match the database.
fn add_intended(
    schema: &Schema,
    d: &RelationshipDecl,
    relationships: &mut Vec<Relationship>,
) -> Result<(), String> {
    let Some(child) = schema.resolve(&d.child) else {
        return Err(format!("table \"{}\" does not exist", d.child));
    };
    let Some(parent) = schema.resolve(&d.parent) else {
        return Err(format!("table \"{}\" does not exist", d.parent));
    };
    if let Some(missing) = d.columns.iter().find(|c| child.column(c).is_none()) {
        return Err(format!(
            "column \"{}\".\"{missing}\" does not exist",
            d.child
        ));
    }
    let parent_columns = match &d.parent_columns {
        Some(cols) => cols.clone(),
        None => default_parent_columns(d, child, parent, relationships)?,
    };
    if let Some(missing) = parent_columns.iter().find(|c| parent.column(c).is_none()) {
        return Err(format!(
            "column \"{}\".\"{missing}\" does not exist",
            d.parent
        ));
    }
    // The same relationship whatever order its columns are listed in.
    let wanted = pairs(&d.columns, &parent_columns);
    let existing = relationships.iter_mut().find(|r| {
        r.child == child.name
            && r.parent == parent.name
            && pairs(&r.child_columns, &r.parent_columns) == wanted
    });
    match existing {
        Some(r) => {
            r.in_profile = true;
            r.expected_on_delete = d.on_delete;
        }
        None => {
            let mut r = build(
                schema,
                child.name.clone(),
                d.columns.clone(),
                parent.name.clone(),
                parent_columns,
                Source::Profile,
                None,
            );
            r.in_profile = true;
            r.expected_on_delete = d.on_delete;
            relationships.push(r);
        }
    }
    Ok(())
}

/// The parent columns of a profile entry that names none: the constraint's
/// parent columns (paired with the profile's order of child columns) if there
/// is one, else the parent's key.
fn default_parent_columns(
    d: &RelationshipDecl,
    child: &Table,
    parent: &Table,
    relationships: &[Relationship],
) -> Result<Vec<String>, String> {
    let declared = relationships
        .iter()
        .find(|r| {
            r.child == child.name
                && r.parent == parent.name
                && same_set(&r.child_columns, &d.columns)
        })
        .map(|r| {
            d.columns
                .iter()
                .filter_map(|c| r.child_columns.iter().position(|x| x == c))
                .map(|i| r.parent_columns[i].clone())
                .collect::<Vec<_>>()
        });
    match declared {
        Some(cols) => Ok(cols),
        None if parent.primary_key.len() == d.columns.len() => Ok(parent.primary_key.clone()),
        None => Err(format!(
            "\"{}\" has no primary key of {} column(s): name parent_columns",
            d.parent,
            d.columns.len()
        )),
    }
}

/// Orders relationships by child, child columns, parent, parent columns.
fn sort_relationships(relationships: &mut [Relationship]) {
    relationships.sort_by(|a, b| {
        (&a.child, &a.child_columns, &a.parent, &a.parent_columns).cmp(&(
            &b.child,
            &b.child_columns,
            &b.parent,
            &b.parent_columns,
        ))
    });
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

/// (child column, parent column) pairs, in no particular order.
fn pairs(child: &[String], parent: &[String]) -> std::collections::BTreeSet<(String, String)> {
    child.iter().cloned().zip(parent.iter().cloned()).collect()
}

fn build(
    schema: &Schema,
    child: TableName,
    child_columns: Vec<String>,
    parent: TableName,
    parent_columns: Vec<String>,
    source: Source,
    constraint: Option<std::sync::Arc<ForeignKey>>,
) -> Relationship {
    let type_of = |t: &TableName, c: &str| {
        schema
            .table(t)
            .and_then(|t| t.column(c))
            .map(|c| normalise_type(&c.data_type))
    };
    let types_differ = child_columns
        .iter()
        .zip(&parent_columns)
        .any(|(c, p)| type_of(&child, c) != type_of(&parent, p));
    Relationship {
        child_only: schema.has_inheritance_children(&child),
        parent_only: schema.has_inheritance_children(&parent),
        indexed: schema.is_indexed(&child, &child_columns),
        parent_unique: schema.is_unique(&parent, &parent_columns),
        types_differ,
        child,
        child_columns,
        parent,
        parent_columns,
        source,
        constraint,
        expected_on_delete: None,
        in_profile: false,
    }
}

/// Types that compare equal without a cast count as the same.
pub fn normalise_type(t: &str) -> String {
    let t = t.to_ascii_lowercase();
    let base = t.split('(').next().unwrap_or(&t).trim().to_string();
    match base.as_str() {
        "character varying" | "varchar" | "text" | "char" | "character" | "bpchar" | "tinytext"
        | "mediumtext" | "longtext" | "nvarchar" | "nchar" | "clob" => "text".into(),
        "int" | "int4" | "integer" | "int8" | "bigint" | "smallint" | "int2" | "mediumint"
        | "tinyint" => "integer".into(),
        _ => base,
    }
}

/// Columns named like a reference (`x_id`) to a table `x` or `xs` with a
/// one-column primary key of the same type, that no relationship covers yet.
fn implied(schema: &Schema, known: &[Relationship]) -> Vec<Relationship> {
    let mut out = Vec::new();
    // (table, first column) of every known relationship, and of its table for
    // one declared on a partition: such a column is covered, no guess needed.
    let mut covered: std::collections::HashSet<(&TableName, &str)> = Default::default();
    for r in known {
        let Some(first) = r.child_columns.first() else {
            continue;
        };
        covered.insert((&r.child, first.as_str()));
        if let Some(parent) = schema
            .table(&r.child)
            .filter(|t| t.is_partition())
            .and_then(|t| t.inherits_from.as_ref())
        {
            covered.insert((parent, first.as_str()));
        }
    }
    // Candidate parents by lower-case name (partitions are never one).
    let mut by_name: std::collections::HashMap<String, Vec<&crate::model::Table>> =
        Default::default();
    for t in schema
        .tables
        .iter()
        .filter(|t| !t.is_partition() && t.primary_key.len() == 1)
    {
        by_name
            .entry(t.name.name.to_lowercase())
            .or_default()
            .push(t);
    }
    // Partitions are neither children (their rows are their table's) nor
    // parents of a guess.
    for table in schema.tables.iter().filter(|t| !t.is_partition()) {
        for column in &table.columns {
            let lower = column.name.to_lowercase();
            let Some(stem) = lower.strip_suffix("_id").filter(|s| !s.is_empty()) else {
                continue;
            };
            if covered.contains(&(&table.name, column.name.as_str())) {
                continue;
            }
            let names = plural_forms(stem);
            let candidates: Vec<_> = names
                .iter()
                .flat_map(|n| by_name.get(n).into_iter().flatten())
                .copied()
                .filter(|t| !(t.name == table.name && t.primary_key[0] == column.name))
                .collect();
            // Prefer a parent in the same schema; skip when ambiguous.
            let same_schema: Vec<_> = candidates
                .iter()
                .filter(|t| t.name.schema == table.name.schema)
                .collect();
            let parent = match (same_schema.as_slice(), candidates.as_slice()) {
                ([one], _) => **one,
                ([], [one]) => *one,
                _ => continue,
            };
            let key = &parent.primary_key[0];
            let same_type = parent
                .column(key)
                .is_some_and(|k| normalise_type(&k.data_type) == normalise_type(&column.data_type));
            if same_type {
                out.push(build(
                    schema,
                    table.name.clone(),
                    vec![column.name.clone()],
                    parent.name.clone(),
                    vec![key.clone()],
                    Source::Implied,
                    None,
                ));
            }
        }
    }
    out
}

fn plural_forms(stem: &str) -> Vec<String> {
    let mut forms = vec![stem.to_string(), format!("{stem}s"), format!("{stem}es")];
    if let Some(base) = stem.strip_suffix('y') {
        forms.push(format!("{base}ies"));
    }
    forms
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Column, Engine, Index, Table, TableKind};

    fn table(name: &str, cols: &[(&str, &str)], pk: &[&str]) -> Table {
        Table {
            columns: cols
                .iter()
                .map(|(n, t)| Column {
                    name: n.to_string(),
                    data_type: t.to_string(),
                    nullable: true,
                    generated: false,
                    identity: None,
                })
                .collect(),
            primary_key: pk.iter().map(|s| s.to_string()).collect(),
            ..Table::new(TableName::new("public", name), TableKind::Table)
        }
    }

    fn schema() -> Schema {
        Schema {
            engine: Engine::Postgres,
            default_schema: "public".into(),
            tables: vec![
                table("categories", &[("id", "integer")], &["id"]),
                table("customers", &[("id", "uuid")], &["id"]),
                table(
                    "orders",
                    &[
                        ("id", "integer"),
                        ("customer_id", "uuid"),
                        ("category_id", "bigint"),
                        ("box_id", "integer"),
                    ],
                    &["id"],
                ),
            ],
            foreign_keys: vec![],
            indexes: vec![Index {
                name: "orders_customer".into(),
                table: TableName::new("public", "orders"),
                columns: vec![Some("customer_id".into())],
                unique: false,
                partial: false,
                valid: true,
            }],
            blind_spots: vec![],
            lookup: Default::default(),
            reads: Default::default(),
        }
    }

    #[test]
    fn implies_relationships_from_names_and_types() {
        let resolved = resolve(&schema(), &Profile::empty());
        let found: Vec<_> = resolved
            .relationships
            .iter()
            .map(|r| {
                (
                    r.child_columns[0].as_str(),
                    r.parent.name.as_str(),
                    r.indexed,
                )
            })
            .collect();
        assert_eq!(
            found,
            vec![
                ("category_id", "categories", false),
                ("customer_id", "customers", true)
            ]
        );
        assert!(
            resolved
                .relationships
                .iter()
                .all(|r| r.source == Source::Implied)
        );
    }

    #[test]
    fn profile_entries_that_do_not_match_become_problems() {
        let profile = Profile::parse(
            "[[relationship]]\nchild = \"orders\"\ncolumns = [\"nope\"]\nparent = \"customers\"\n\n\
             [[relationship]]\nchild = \"ghosts\"\ncolumns = [\"x\"]\nparent = \"customers\"\n",
            "t.toml",
        )
        .unwrap();
        let resolved = resolve(&schema(), &profile);
        let messages: Vec<_> = resolved
            .problems
            .iter()
            .map(|p| (p.location.line, p.message.as_str()))
            .collect();
        assert_eq!(
            messages,
            vec![
                (1, "column \"orders\".\"nope\" does not exist"),
                (6, "table \"ghosts\" does not exist")
            ]
        );
    }

    #[test]
    fn a_profile_relationship_over_a_constraint_is_listed_once() {
        let mut s = schema();
        s.foreign_keys.push(std::sync::Arc::new(ForeignKey {
            name: "orders_customer_id_fkey".into(),
            child: TableName::new("public", "orders"),
            child_columns: vec!["customer_id".into()],
            parent: TableName::new("public", "customers"),
            parent_columns: vec!["id".into()],
            on_delete: ReferentialAction::NoAction,
            on_update: ReferentialAction::NoAction,
            match_type: crate::model::MatchType::Simple,
            deferrable: false,
            initially_deferred: false,
            validated: true,
            enforced: true,
            triggers_enabled: true,
        }));
        let profile = Profile::parse(
            "[[relationship]]\nchild = \"orders\"\ncolumns = [\"customer_id\"]\nparent = \"customers\"\non_delete = \"cascade\"\n",
            "t.toml",
        )
        .unwrap();
        let resolved = resolve(&s, &profile);
        let customer: Vec<_> = resolved
            .relationships
            .iter()
            .filter(|r| r.parent.name == "customers")
            .collect();
        assert_eq!(customer.len(), 1);
        assert_eq!(customer[0].source, Source::Constraint);
        assert_eq!(
            customer[0].expected_on_delete,
            Some(ReferentialAction::Cascade)
        );
        assert!(customer[0].parent_unique);
    }
}
