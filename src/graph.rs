//! The relationship graph as layers: parents before children, each table once.
//! Used by the terminal UI and by the graph, HTML and DOT reports.
//! Cycles (and self-references) are broken for layering only; every edge is kept.

use crate::checks::plan::Plan;
use crate::model::{RelationshipId, TableName};
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq)]
pub struct GraphNode {
    pub table: TableName,
    pub label: String,
    pub layer: usize,
    pub rows: Option<i64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GraphEdge {
    pub child: usize,
    pub parent: usize,
    pub relationship: RelationshipId,
    /// `discovery_flow_id · set null`
    pub label: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    pub nodes: Vec<GraphNode>,
    /// Node indexes per layer, by name.
    pub layers: Vec<Vec<usize>>,
    pub edges: Vec<GraphEdge>,
    /// Edge indexes by child node and by parent node.
    by_child: Vec<Vec<usize>>,
    by_parent: Vec<Vec<usize>>,
}

impl Graph {
    pub fn build(plan: &Plan) -> Graph {
        let tables = node_tables(plan);
        let index: HashMap<&TableName, usize> = tables
            .iter()
            .enumerate()
            .map(|(i, t)| (&t.name, i))
            .collect();
        let n = tables.len();
        let edges = edges(plan, &index);
        let acyclic = acyclic_parents(n, &edges);
        let mut layer: Vec<Option<usize>> = vec![None; n];
        let nodes: Vec<GraphNode> = tables
            .iter()
            .enumerate()
            .map(|(i, t)| GraphNode {
                table: t.name.clone(),
                label: plan.label(&t.name),
                layer: depth(i, &acyclic, &mut layer),
                rows: t.row_estimate,
            })
            .collect();
        let layers = layers(&nodes);
        let mut by_child = vec![Vec::new(); n];
        let mut by_parent = vec![Vec::new(); n];
        for (i, e) in edges.iter().enumerate() {
            by_child[e.child].push(i);
            by_parent[e.parent].push(i);
        }
        Graph {
            nodes,
            layers,
            edges,
            by_child,
            by_parent,
        }
    }

    pub fn parents(&self, node: usize) -> impl Iterator<Item = &GraphEdge> {
        self.by_child
            .get(node)
            .into_iter()
            .flatten()
            .map(|&i| &self.edges[i])
    }

    pub fn children(&self, node: usize) -> impl Iterator<Item = &GraphEdge> {
        self.by_parent
            .get(node)
            .into_iter()
            .flatten()
            .map(|&i| &self.edges[i])
    }

    /// (layer, position in layer) of a node.
    pub fn position(&self, node: usize) -> (usize, usize) {
        let layer = self.nodes[node].layer;
        (
            layer,
            self.layers[layer]
                .iter()
                .position(|&n| n == node)
                .unwrap_or(0),
        )
    }
}

/// The tables that are nodes, in the schema's order. A partition is a node
/// only when relationships of its own reach it; otherwise its rows are its
/// partitioned table's.
fn node_tables(plan: &Plan) -> Vec<&crate::model::Table> {
    plan.schema
        .tables
        .iter()
        .filter(|t| {
            !t.is_partition()
                || plan
                    .relationships
                    .iter()
                    .any(|r| r.child == t.name || r.parent == t.name)
        })
        .collect()
}

/// One edge per relationship between two nodes, labelled with its child
/// columns and its ON DELETE rule.
fn edges(plan: &Plan, index: &HashMap<&TableName, usize>) -> Vec<GraphEdge> {
    let mut edges = Vec::new();
    for (r, rel) in plan.relationships.iter().enumerate() {
        let (Some(&child), Some(&parent)) = (index.get(&rel.child), index.get(&rel.parent)) else {
            continue;
        };
        let rule = match (&rel.constraint, rel.expected_on_delete) {
            (Some(fk), _) => fk.on_delete.as_str().replace('_', " "),
            (None, Some(expected)) => {
                format!("{} (no FK)", expected.as_str().replace('_', " "))
            }
            (None, None) => "no FK".into(),
        };
        edges.push(GraphEdge {
            child,
            parent,
            relationship: RelationshipId::at(r),
            label: format!("{} · {rule}", rel.child_columns.join(", ")),
        });
    }
    edges
}

/// Each node's parents for layering: depth-first from every node, in name
/// order, an edge to a node still on the stack closes a cycle and is left out.
fn acyclic_parents(n: usize, edges: &[GraphEdge]) -> Vec<Vec<usize>> {
    let mut parents_of: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in edges {
        if e.child != e.parent && !parents_of[e.child].contains(&e.parent) {
            parents_of[e.child].push(e.parent);
        }
    }
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    let mut acyclic: Vec<Vec<usize>> = vec![Vec::new(); n];
    for start in 0..n {
        if state[start] != 0 {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&parent) = parents_of[node].get(*next) {
                *next += 1;
                match state[parent] {
                    0 => {
                        acyclic[node].push(parent);
                        state[parent] = 1;
                        stack.push((parent, 0));
                    }
                    2 => acyclic[node].push(parent),
                    _ => {} // a cycle: skip this edge for layering
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    acyclic
}

/// A node's layer: the longest path from the roots over the acyclic parent
/// lists, remembered in `layer`.
fn depth(i: usize, acyclic: &[Vec<usize>], layer: &mut [Option<usize>]) -> usize {
    if let Some(l) = layer[i] {
        return l;
    }
    let l = acyclic[i]
        .iter()
        .map(|&p| depth(p, acyclic, layer) + 1)
        .max()
        .unwrap_or(0);
    layer[i] = Some(l);
    l
}

/// Node indexes per layer, each layer by label.
fn layers(nodes: &[GraphNode]) -> Vec<Vec<usize>> {
    let count = nodes.iter().map(|n| n.layer + 1).max().unwrap_or(0);
    let mut layers = vec![Vec::new(); count];
    for (i, node) in nodes.iter().enumerate() {
        layers[node.layer].push(i);
    }
    for l in &mut layers {
        l.sort_by(|a, b| nodes[*a].label.cmp(&nodes[*b].label));
    }
    layers
}

impl Graph {
    /// The worst finding on each edge, from a run's findings.
    pub fn worst_per_edge(
        &self,
        plan: &Plan,
        findings: &[crate::findings::Finding],
    ) -> Vec<Option<crate::checks::Severity>> {
        let mut worst = vec![None; plan.relationships.len()];
        for f in findings {
            if let Some(r) = plan.relationship_of(f) {
                worst[r.index()] = worst[r.index()].max(Some(f.severity));
            }
        }
        self.edges
            .iter()
            .map(|e| worst[e.relationship.index()])
            .collect()
    }
}
