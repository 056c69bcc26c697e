//! Lineage: the roots listed and each one's lineage checked, one root's tree
//! loaded and walked node by node, a node's rows read.

use super::*;
use crate::lineage::NodeRows;
use std::collections::HashMap;

/// The lineage screen: the picker (recent root rows, and whether each one's
/// lineage holds), the tree of the chosen root, and the rows of one of its
/// tables. Esc steps back from the rows to the tree, then to the picker.
#[derive(Clone, Debug)]
pub struct LineageState {
    pub roots: Loadable<Vec<RootRow>>,
    /// The selected root row.
    pub selected: usize,
    /// Per listed root key: its lineage's broken links in all (0 when every
    /// link holds), while it is checked, or why it could not be.
    pub marks: HashMap<String, Loadable<u64>>,
    /// An id being typed.
    pub input: Option<String>,
    /// The root row whose tree is shown.
    pub key: Option<String>,
    pub tree: Loadable<Node>,
    /// The selected node of the tree, in the order it is drawn
    /// ([`Node::in_order`]).
    pub node: usize,
    /// A node's rows, opened from the tree.
    pub rows: Option<LineageRows>,
}

impl Default for LineageState {
    fn default() -> Self {
        LineageState {
            roots: Loadable::NotLoaded,
            selected: 0,
            marks: HashMap::new(),
            input: None,
            key: None,
            tree: Loadable::NotLoaded,
            node: 0,
            rows: None,
        }
    }
}

/// The rows of one node of the tree being looked at.
#[derive(Clone, Debug, PartialEq)]
pub struct LineageRows {
    /// The node's place in the tree ([`Node::at`]).
    pub position: Vec<usize>,
    pub rows: Loadable<NodeRows>,
    /// The selected row.
    pub selected: usize,
    /// The first column shown (horizontal scroll).
    pub column: usize,
}

fn loadable<T>(result: Result<T, String>) -> Loadable<T> {
    match result {
        Ok(value) => Loadable::Loaded(value),
        Err(e) => Loadable::Failed(e),
    }
}

/// `value` moved by `delta` within `0..len`.
fn clamped(value: usize, delta: i64, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    (value as i64 + delta).clamp(0, len as i64 - 1) as usize
}

impl App {
    /// The actions of this state machine ([`Action::machine`]).
    pub(super) fn update_lineage(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::ShowLineage => {
                self.screen = Screen::Lineage;
                self.overlay = None;
                if matches!(
                    self.lineage.roots,
                    Loadable::NotLoaded | Loadable::Failed(_)
                ) {
                    self.lineage.roots = Loadable::Loading;
                    return vec![Command::LoadRoots];
                }
                Vec::new()
            }
            Action::RootsLoaded(result) => self.roots_loaded(result),
            Action::RootChecked { key, result } => {
                // A root no longer listed keeps no mark.
                if let Some(mark) = self.lineage.marks.get_mut(&key) {
                    *mark = loadable(result);
                }
                Vec::new()
            }
            Action::LineageLoaded { key, result } => {
                if self.lineage.key.as_deref() == Some(key.as_str()) {
                    // The tree is the latest word on its root's mark.
                    if let (Some(mark), Ok(node)) = (self.lineage.marks.get_mut(&key), &result) {
                        *mark = loadable(node.verdict());
                    }
                    self.lineage.tree = loadable(result);
                }
                Vec::new()
            }
            Action::LineageRowsLoaded {
                key,
                position,
                result,
            } => {
                let state = &mut self.lineage;
                if state.key.as_deref() == Some(key.as_str())
                    && let Some(rows) = &mut state.rows
                    && rows.position == position
                {
                    rows.rows = loadable(result);
                }
                Vec::new()
            }
            // Actions of the other state machines are not sent here.
            _ => Vec::new(),
        }
    }

    /// The roots listed: each one's mark is checking, and the shell is asked
    /// to check them. Marks of roots listed before are dropped; their checks
    /// still under way end unheard.
    fn roots_loaded(&mut self, result: Result<Vec<RootRow>, String>) -> Vec<Command> {
        self.lineage.selected = 0;
        self.lineage.marks.clear();
        let rows = match result {
            Ok(rows) => rows,
            Err(e) => {
                self.lineage.roots = Loadable::Failed(e);
                return Vec::new();
            }
        };
        let mut keys: Vec<String> = Vec::new();
        for row in &rows {
            if !self.lineage.marks.contains_key(&row.key) {
                self.lineage
                    .marks
                    .insert(row.key.clone(), Loadable::Loading);
                keys.push(row.key.clone());
            }
        }
        self.lineage.roots = Loadable::Loaded(rows);
        if keys.is_empty() {
            Vec::new()
        } else {
            vec![Command::CheckRoots(keys)]
        }
    }

    pub(super) fn load_lineage(&mut self, key: String) -> Vec<Command> {
        self.lineage.key = Some(key.clone());
        self.lineage.tree = Loadable::Loading;
        self.lineage.node = 0;
        self.lineage.rows = None;
        vec![Command::LoadLineage(key)]
    }

    /// Up and Down on the lineage screen: the selected row of a node's rows,
    /// else the selected node of the tree, else the selected root.
    pub(super) fn step_lineage(&mut self, delta: i64) {
        let state = &mut self.lineage;
        if let Some(rows) = &mut state.rows {
            if let Loadable::Loaded(found) = &rows.rows {
                rows.selected = clamped(rows.selected, delta, found.rows.len());
            }
        } else if state.key.is_some() {
            if let Loadable::Loaded(tree) = &state.tree {
                state.node = clamped(state.node, delta, tree.in_order().len());
            }
        } else if let Loadable::Loaded(roots) = &state.roots {
            state.selected = clamped(state.selected, delta, roots.len());
        }
    }

    /// Enter on the lineage screen: the selected root's tree, or the
    /// selected node's rows.
    pub(super) fn open_lineage(&mut self) -> Vec<Command> {
        let state = &mut self.lineage;
        if state.rows.is_some() {
            return Vec::new();
        }
        let Some(key) = state.key.clone() else {
            return match &state.roots {
                Loadable::Loaded(roots) => match roots.get(state.selected) {
                    Some(row) => {
                        let key = row.key.clone();
                        self.load_lineage(key)
                    }
                    None => Vec::new(),
                },
                _ => Vec::new(),
            };
        };
        let Loadable::Loaded(tree) = &state.tree else {
            return Vec::new();
        };
        let Some((position, _)) = tree.in_order().into_iter().nth(state.node) else {
            return Vec::new();
        };
        state.rows = Some(LineageRows {
            position: position.clone(),
            rows: Loadable::Loading,
            selected: 0,
            column: 0,
        });
        vec![Command::LoadLineageRows { key, position }]
    }

    /// True when the lineage screen shows a node's rows (Left and Right
    /// scroll its columns).
    pub(super) fn lineage_rows_shown(&self) -> bool {
        self.overlay.is_none() && self.screen == Screen::Lineage && self.lineage.rows.is_some()
    }

    /// In a node's rows: the first column shown moves by `delta`.
    pub(super) fn lineage_columns(&mut self, delta: i64) -> Vec<Command> {
        if let Some(rows) = &mut self.lineage.rows
            && let Loadable::Loaded(found) = &rows.rows
        {
            rows.column = clamped(rows.column, delta, found.columns.len());
        }
        Vec::new()
    }

    /// Esc on the lineage screen: from a node's rows to the tree, from the
    /// tree to the picker. False on the picker (the screen itself closes).
    pub(super) fn back_lineage(&mut self) -> bool {
        if self.lineage.rows.take().is_some() {
            return true;
        }
        if self.lineage.key.take().is_some() {
            self.lineage.tree = Loadable::NotLoaded;
            self.lineage.node = 0;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests;
