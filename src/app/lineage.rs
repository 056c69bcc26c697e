//! Lineage: the roots listed, one root's tree loaded.

use super::*;

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
            Action::RootsLoaded(result) => {
                self.lineage.roots = match result {
                    Ok(rows) => Loadable::Loaded(rows),
                    Err(e) => Loadable::Failed(e),
                };
                self.lineage.selected = 0;
                Vec::new()
            }
            Action::LineageLoaded { key, result } => {
                if self.lineage.key.as_deref() == Some(key.as_str()) {
                    self.lineage.tree = match result {
                        Ok(node) => Loadable::Loaded(node),
                        Err(e) => Loadable::Failed(e),
                    };
                }
                Vec::new()
            }
            // Actions of the other state machines are not sent here.
            _ => Vec::new(),
        }
    }

    pub(super) fn load_lineage(&mut self, key: String) -> Vec<Command> {
        self.lineage.key = Some(key.clone());
        self.lineage.tree = Loadable::Loading;
        self.lineage.scroll = 0;
        vec![Command::LoadLineage(key)]
    }
}
