//! Lineage: everything that hangs off one root row (a master flow), followed
//! down the child relationships, with counts per table and broken links marked.

use crate::checks::CheckId;
use crate::checks::plan::{Plan, Work};
use crate::db::{self, Db};
use crate::model::TableName;
use crate::relationships::Relationship;
use crate::sql::render::{self, Hop, Predicate};
use std::collections::HashSet;

/// How deep a lineage follows relationships.
const MAX_DEPTH: usize = 6;

/// A root row to pick from: its key and a few describing fields.
#[derive(Clone, Debug, PartialEq)]
pub struct RootRow {
    pub key: String,
    pub fields: Vec<(String, String)>,
}

/// One table of a lineage tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub table: String,
    /// The reference followed to get here (`master_flow_id`); None at the root.
    pub via: Option<String>,
    /// Rows of the table in this lineage.
    pub rows: u64,
    /// Broken links among those rows: (what, how many), only non-zero ones.
    pub broken: Vec<(String, u64)>,
    pub children: Vec<Node>,
    pub error: Option<String>,
}

impl Node {
    /// Rows with any broken link, in this node and below.
    pub fn broken_total(&self) -> u64 {
        self.broken.iter().map(|(_, n)| n).sum::<u64>()
            + self.children.iter().map(Node::broken_total).sum::<u64>()
    }
}

fn key_of(plan: &Plan) -> Option<(&TableName, &str)> {
    let root = plan.lineage_root.as_ref()?;
    let table = plan.schema.table(root)?;
    match table.primary_key.as_slice() {
        [key] => Some((root, key.as_str())),
        _ => None,
    }
}

/// Recent rows of the root table, newest first (by `updated_at`/`created_at` when
/// it has one), with up to four describing columns.
pub async fn recent(db: &Db, plan: &Plan, limit: u32) -> Result<Vec<RootRow>, String> {
    let (root, key) =
        key_of(plan).ok_or("no lineage root: name one in the profile ([lineage] root = …)")?;
    let table = plan
        .schema
        .table(root)
        .ok_or("the lineage root table is gone")?;
    const PREFERRED: [&str; 8] = [
        "name",
        "title",
        "flow_type",
        "type",
        "status",
        "state",
        "updated_at",
        "created_at",
    ];
    let mut labels: Vec<String> = PREFERRED
        .iter()
        .filter_map(|p| {
            table
                .columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(p))
        })
        .map(|c| c.name.clone())
        .take(4)
        .collect();
    if labels.is_empty() {
        labels = table
            .columns
            .iter()
            .filter(|c| c.name != key)
            .take(3)
            .map(|c| c.name.clone())
            .collect();
    }
    let order = ["updated_at", "created_at", "inserted_at", "modified_at"]
        .iter()
        .find_map(|o| {
            table
                .columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(o))
        })
        .map(|c| c.name.as_str());
    let sql = render::recent_rows(plan.engine, root, key, &labels, order, limit);
    let mut reader = db.reader(None).await.map_err(|e| db::describe(&e))?;
    let rows = reader.text_rows(&sql).await.map_err(|e| db::describe(&e))?;
    let _ = reader.finish().await;
    Ok(rows
        .into_iter()
        .map(|row| {
            let text = |v: &serde_json::Value| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| "NULL".into())
            };
            RootRow {
                key: row.get(key).map(text).unwrap_or_default(),
                fields: labels
                    .iter()
                    .map(|l| (l.clone(), row.get(l).map(text).unwrap_or_default()))
                    .collect(),
            }
        })
        .collect())
}

/// The predicates that mark broken links on `table`: the plan's orphan, tenant
/// and path checks on it whose lookups can share one pass.
fn broken_links(plan: &Plan, table: &TableName) -> Vec<(String, Predicate)> {
    plan.checks
        .iter()
        .filter(|c| {
            matches!(
                c.id,
                CheckId::Orphans | CheckId::TenantMismatch | CheckId::PathMismatch
            )
        })
        .filter_map(|c| match &c.work {
            Work::Rows(r) if &r.table == table => {
                crate::checks::plan::shares_a_pass(&plan.schema, &r.predicate).then(|| {
                    (
                        format!("{} {}", c.id, c.subject.describe()),
                        r.predicate.clone(),
                    )
                })
            }
            _ => None,
        })
        .collect()
}

/// One root row's lineage being followed: the plan, and the root table, key
/// column and key value every scan starts from.
struct Walk<'a> {
    plan: &'a Plan,
    root: &'a TableName,
    key: &'a str,
    value: &'a str,
}

impl<'a> Walk<'a> {
    /// Err when the root table has no row with the key.
    async fn root_exists(&self, reader: &mut db::Transaction) -> Result<(), String> {
        let exists = reader
            .counts(&render::row_exists(
                self.plan.engine,
                self.root,
                self.key,
                self.value,
            ))
            .await
            .map_err(|e| db::describe(&e))?;
        if exists.first().copied().unwrap_or(0) == 0 {
            return Err(format!(
                "{} has no row with {} = {}",
                self.plan.label(self.root),
                self.key,
                self.value
            ));
        }
        Ok(())
    }

    /// The relationships down from `parent` to tables not reached yet, by
    /// child table and columns.
    fn unseen_children(
        &self,
        parent: &TableName,
        seen: &HashSet<TableName>,
    ) -> Vec<&'a Relationship> {
        let mut children: Vec<_> = self
            .plan
            .relationships
            .iter()
            .filter(|r| &r.parent == parent && !seen.contains(&r.child))
            .collect();
        children.sort_by(|a, b| (&a.child, &a.child_columns).cmp(&(&b.child, &b.child_columns)));
        children
    }

    /// The node of the table at the end of `path` (reached through `r`): its
    /// rows in this lineage and its broken links, or why they could not be counted.
    async fn count_node(
        &self,
        reader: &mut db::Transaction,
        path: &[Hop],
        r: &Relationship,
    ) -> Node {
        let links = broken_links(self.plan, &r.child);
        let predicates: Vec<Predicate> = links.iter().map(|(_, p)| p.clone()).collect();
        let sql = render::lineage_scan(
            self.plan.engine,
            path,
            self.root,
            self.key,
            self.value,
            &predicates,
        );
        let mut node = Node {
            table: self.plan.label(&r.child),
            via: Some(r.child_columns.join(", ")),
            rows: 0,
            broken: Vec::new(),
            children: Vec::new(),
            error: None,
        };
        match reader.counts(&sql).await {
            Ok(counts) => {
                node.rows = counts.first().copied().unwrap_or(0).max(0) as u64;
                node.broken = links
                    .iter()
                    .zip(counts.iter().skip(1))
                    .filter(|(_, n)| **n > 0)
                    .map(|((what, _), n)| (what.clone(), *n as u64))
                    .collect();
            }
            Err(e) => node.error = Some(db::describe(&e)),
        }
        node
    }
}

/// The lineage of the root row whose key is `value`.
pub async fn tree(db: &Db, plan: &Plan, value: &str) -> Result<Node, String> {
    let (root, key) =
        key_of(plan).ok_or("no lineage root: name one in the profile ([lineage] root = …)")?;
    let walk = Walk {
        plan,
        root,
        key,
        value,
    };
    let mut reader = db.reader(None).await.map_err(|e| db::describe(&e))?;
    walk.root_exists(&mut reader).await?;
    let mut seen: HashSet<TableName> = HashSet::from([root.clone()]);
    let mut top = Node {
        table: plan.label(root),
        via: None,
        rows: 1,
        broken: Vec::new(),
        children: Vec::new(),
        error: None,
    };
    // Breadth first, each table once (on its shortest path from the root).
    let mut frontier: Vec<(Vec<Hop>, Vec<usize>)> = vec![(Vec::new(), Vec::new())];
    for _ in 0..MAX_DEPTH {
        let mut next = Vec::new();
        for (hops, position) in frontier {
            let parent = hops
                .last()
                .map(|h: &Hop| h.table.clone())
                .unwrap_or_else(|| root.clone());
            for r in walk.unseen_children(&parent, &seen) {
                if !seen.insert(r.child.clone()) {
                    continue;
                }
                let mut path = hops.clone();
                path.push(Hop {
                    table: r.child.clone(),
                    pairs: r.pairs(),
                });
                let node = walk.count_node(&mut reader, &path, r).await;
                let here = child_at(&mut top, &position);
                here.children.push(node);
                let mut child_position = position.clone();
                child_position.push(here.children.len() - 1);
                next.push((path, child_position));
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    let _ = reader.finish().await;
    Ok(top)
}

fn child_at<'a>(node: &'a mut Node, position: &[usize]) -> &'a mut Node {
    match position.split_first() {
        None => node,
        Some((&i, rest)) => child_at(&mut node.children[i], rest),
    }
}
