//! A table's detail: its parents and children are selectable, and Enter
//! opens the selected one's detail.

use super::*;

/// A table's neighbour in its detail: the relationship and the other table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Neighbour {
    pub relationship: RelationshipId,
    /// The other table's graph node.
    pub node: usize,
    /// True for a parent (this table references it), false for a child.
    pub parent: bool,
}

impl App {
    /// A table's parents, then its children, as its detail lists them.
    pub fn neighbours(&self, node: usize) -> Vec<Neighbour> {
        let parents = self.graph.parents(node).map(|e| Neighbour {
            relationship: e.relationship,
            node: e.parent,
            parent: true,
        });
        let children = self.graph.children(node).map(|e| Neighbour {
            relationship: e.relationship,
            node: e.child,
            parent: false,
        });
        parents.chain(children).collect()
    }

    /// The orphans a relationship's check counted in the last run.
    pub fn orphans_of(&self, relationship: RelationshipId) -> Option<u64> {
        self.relationship_checks
            .get(relationship.index())?
            .iter()
            .find(|&&c| self.plan.checks[c].id == CheckId::Orphans)
            .and_then(|&c| self.checks[c].count)
    }

    /// Findings on the relationships that reference the table (as parent).
    pub fn findings_referencing(&self, node: usize) -> Vec<&Finding> {
        self.graph
            .children(node)
            .flat_map(|e| &self.relationship_checks[e.relationship.index()])
            .flat_map(|&c| &self.checks[c].findings)
            .collect()
    }

    /// In a table's detail: moves the selected neighbour by `delta`; false
    /// when the table has none (the detail scrolls instead).
    pub(super) fn step_neighbour(&mut self, node: usize, delta: i64) -> bool {
        let len = self.neighbours(node).len();
        if len == 0 {
            return false;
        }
        self.table_neighbour =
            (self.table_neighbour as i64 + delta).clamp(0, len as i64 - 1) as usize;
        true
    }

    /// In a table's detail: opens the selected neighbour's detail.
    pub(super) fn open_neighbour(&mut self, node: usize) {
        if let Some(n) = self.neighbours(node).get(self.table_neighbour) {
            self.overlay = Some(Overlay::Table {
                node: n.node,
                scroll: 0,
            });
            self.table_neighbour = 0;
        }
    }
}
