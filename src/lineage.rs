//! Lineage: everything that hangs off one root row (a master flow), followed
//! down the child relationships, with counts per table and broken links marked.

use crate::checks::CheckId;
use crate::checks::plan::{Plan, Work};
use crate::db::{self, Db};
use crate::model::{Column, TableName};
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

    /// Every node of the tree in the order it is drawn (a node, then its
    /// children's subtrees), each with its place: child indexes from the root.
    pub fn in_order(&self) -> Vec<(Vec<usize>, &Node)> {
        let mut out = vec![(Vec::new(), self)];
        for (i, child) in self.children.iter().enumerate() {
            out.extend(child.in_order().into_iter().map(|(mut position, node)| {
                position.insert(0, i);
                (position, node)
            }));
        }
        out
    }

    /// The node at `position` (child indexes from this one).
    pub fn at(&self, position: &[usize]) -> Option<&Node> {
        match position.split_first() {
            None => Some(self),
            Some((&i, rest)) => self.children.get(i)?.at(rest),
        }
    }

    /// Whether the lineage holds: its broken links in all (0 when every link
    /// holds), or the first table whose count failed, since then the total is
    /// not known.
    pub fn verdict(&self) -> Result<u64, String> {
        match self
            .in_order()
            .iter()
            .find_map(|(_, n)| Some((n, n.error.as_ref()?)))
        {
            Some((node, error)) => Err(format!("{}: {error}", node.table)),
            None => Ok(self.broken_total()),
        }
    }
}

/// Rows a lineage node lists at most.
pub const NODE_ROWS: u32 = 100;

/// A link that can break on the rows of a lineage node.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// Its check and subject, as [`Node::broken`] names it.
    pub name: String,
    /// In a few words, for a column of rows (`no discovery_flows`).
    pub short: String,
}

/// The rows of one lineage node: every column as text, each row with the
/// links it breaks.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeRows {
    pub table: String,
    pub columns: Vec<String>,
    /// At most [`NODE_ROWS`], in key order.
    pub rows: Vec<NodeRow>,
    /// The links the rows were checked for.
    pub links: Vec<Link>,
    /// The statement that read them.
    pub sql: String,
}

/// One row of a lineage node.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeRow {
    /// Per column, its value as text (None: NULL).
    pub values: Vec<Option<String>>,
    /// Indexes into [`NodeRows::links`] of the links this row breaks.
    pub broken: Vec<usize>,
}

/// The lineage root table and its key column (a one-column primary key).
pub fn root_key(plan: &Plan) -> Option<(&TableName, &str)> {
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
    let (root, key) = root_key(plan).ok_or(NO_ROOT)?;
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

/// The check and subject of a broken link (`orphans assets(discovery_flow_id)
/// → discovery_flows(flow_id)`), as [`Node::broken`] names it.
fn link_name(check: &crate::checks::plan::Check) -> String {
    format!("{} {}", check.id, check.subject.describe())
}

/// A broken link in a few words, for a column of rows: `no discovery_flows`
/// (an orphan), `engagement_id ≠ data_imports` (a value that differs from
/// its parent's).
fn link_short(plan: &Plan, predicate: &Predicate) -> String {
    match predicate {
        Predicate::Orphan(lookup) => format!("no {}", plan.label(&lookup.parent)),
        Predicate::Differs { lookup, column, .. } => {
            format!("{column} ≠ {}", plan.label(&lookup.parent))
        }
        Predicate::Null(column) => format!("{column} NULL"),
    }
}

/// The links that can break on `table`: the plan's orphan, tenant and path
/// checks on it whose lookups can share one pass, with their predicates.
fn broken_links(plan: &Plan, table: &TableName) -> Vec<(Link, Predicate)> {
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
                    let link = Link {
                        name: link_name(c),
                        short: link_short(plan, &r.predicate),
                    };
                    (link, r.predicate.clone())
                })
            }
            _ => None,
        })
        .collect()
}

/// A table a lineage reaches: where its node sits in the tree (child indexes
/// from the root), the hops down to it, and the relationship of the last one.
struct Reached<'a> {
    position: Vec<usize>,
    hops: Vec<Hop>,
    relationship: &'a Relationship,
}

/// The relationships down from `parent` to tables not reached yet, by child
/// table and columns.
fn unseen_children<'a>(
    plan: &'a Plan,
    parent: &TableName,
    seen: &HashSet<TableName>,
) -> Vec<&'a Relationship> {
    let mut children: Vec<_> = plan
        .relationships
        .iter()
        .filter(|r| &r.parent == parent && !seen.contains(&r.child))
        .collect();
    children.sort_by(|a, b| (&a.child, &a.child_columns).cmp(&(&b.child, &b.child_columns)));
    children
}

/// The tables the lineage of a row of `root` reaches, breadth first, each
/// once (on its shortest path from the root), at most [`MAX_DEPTH`] hops
/// down: the shape of every tree of this root table, in the order its nodes
/// are added.
fn reach<'a>(plan: &'a Plan, root: &TableName) -> Vec<Reached<'a>> {
    let mut seen: HashSet<TableName> = HashSet::from([root.clone()]);
    let mut reached = Vec::new();
    let mut frontier: Vec<(Vec<Hop>, Vec<usize>)> = vec![(Vec::new(), Vec::new())];
    for _ in 0..MAX_DEPTH {
        let mut next = Vec::new();
        for (hops, position) in frontier {
            let parent = hops.last().map_or(root, |h| &h.table).clone();
            let mut index = 0;
            for r in unseen_children(plan, &parent, &seen) {
                if !seen.insert(r.child.clone()) {
                    continue;
                }
                let mut path = hops.clone();
                path.push(Hop {
                    table: r.child.clone(),
                    pairs: r.pairs(),
                });
                let mut at = position.clone();
                at.push(index);
                index += 1;
                next.push((path.clone(), at.clone()));
                reached.push(Reached {
                    position: at,
                    hops: path,
                    relationship: r,
                });
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    reached
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
                    .map(|((link, _), n)| (link.name.clone(), *n as u64))
                    .collect();
            }
            Err(e) => node.error = Some(db::describe(&e)),
        }
        node
    }
}

const NO_ROOT: &str = "no lineage root: name one in the profile ([lineage] root = …)";

/// The lineage of the root row whose key is `value`.
pub async fn tree(db: &Db, plan: &Plan, value: &str) -> Result<Node, String> {
    let (root, key) = root_key(plan).ok_or(NO_ROOT)?;
    let walk = Walk {
        plan,
        root,
        key,
        value,
    };
    let mut reader = db.reader(None).await.map_err(|e| db::describe(&e))?;
    walk.root_exists(&mut reader).await?;
    let mut top = Node {
        table: plan.label(root),
        via: None,
        rows: 1,
        broken: Vec::new(),
        children: Vec::new(),
        error: None,
    };
    // Each node is added after its parent, and a parent's children in order.
    for reached in reach(plan, root) {
        let node = walk
            .count_node(&mut reader, &reached.hops, reached.relationship)
            .await;
        let (_, parent) = reached
            .position
            .split_last()
            .expect("a reached table is below the root");
        child_at(&mut top, parent).children.push(node);
    }
    let _ = reader.finish().await;
    Ok(top)
}

/// Whether the lineage of the root row whose key is `value` holds: its
/// broken links in all (0 when every link holds), or why that is not known.
pub async fn broken(db: &Db, plan: &Plan, value: &str) -> Result<u64, String> {
    tree(db, plan, value).await?.verdict()
}

fn child_at<'a>(node: &'a mut Node, position: &[usize]) -> &'a mut Node {
    match position.split_first() {
        None => node,
        Some((&i, rest)) => child_at(&mut node.children[i], rest),
    }
}

/// The rows of the node at `position` (see [`Node::at`]) of the lineage of
/// the root row whose key is `value`: the rows its count counted, the first
/// [`NODE_ROWS`] in key order, each marked with the links it breaks. The
/// root node lists the root row itself.
pub async fn rows(
    db: &Db,
    plan: &Plan,
    value: &str,
    position: &[usize],
) -> Result<NodeRows, String> {
    let (root, key) = root_key(plan).ok_or(NO_ROOT)?;
    let (table, hops, links) = match position {
        [] => (root.clone(), Vec::new(), Vec::new()),
        _ => {
            let reached = reach(plan, root)
                .into_iter()
                .find(|r| r.position == position)
                .ok_or("the lineage reaches no such table")?;
            let table = reached.relationship.child.clone();
            let links = broken_links(plan, &table);
            (table, reached.hops, links)
        }
    };
    let model = plan
        .schema
        .table(&table)
        .ok_or_else(|| format!("{} is gone", plan.label(&table)))?;
    let order: Vec<Column> = model
        .primary_key
        .iter()
        .filter_map(|k| model.columns.iter().find(|c| &c.name == k))
        .cloned()
        .collect();
    let predicates: Vec<Predicate> = links.iter().map(|(_, p)| p.clone()).collect();
    let listing = render::NodeListing {
        hops: &hops,
        root,
        key,
        value,
        columns: &model.columns,
        order: &order,
        predicates: &predicates,
    };
    let sql = render::node_rows(plan.engine, &listing, NODE_ROWS);
    let mut reader = db.reader(None).await.map_err(|e| db::describe(&e))?;
    let found = reader.text_rows(&sql).await.map_err(|e| db::describe(&e))?;
    let _ = reader.finish().await;
    let columns: Vec<String> = model.columns.iter().map(|c| c.name.clone()).collect();
    let rows = found
        .iter()
        .map(|row| NodeRow {
            values: columns
                .iter()
                .map(|c| row.get(c).and_then(|v| v.as_str()).map(str::to_string))
                .collect(),
            broken: (0..links.len())
                .filter(|&i| row.get(&render::node_mark(i)).is_some_and(|v| !v.is_null()))
                .collect(),
        })
        .collect();
    Ok(NodeRows {
        table: plan.label(&table),
        columns,
        rows,
        links: links.into_iter().map(|(link, _)| link).collect(),
        sql: sql.to_string(),
    })
}
