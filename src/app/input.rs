//! Text input: the graph's table filter, the lineage's id, and the word
//! that confirms a fix (taken by the fix machine's own update).

use super::*;

impl App {
    /// The actions of this state machine ([`Action::machine`]).
    pub(super) fn update_input(&mut self, action: Action) -> Vec<Command> {
        if self.confirming_fix() {
            return self.update_confirmation(action);
        }
        match action {
            Action::StartInput => {
                match self.screen {
                    Screen::Lineage => self.lineage.input = Some(String::new()),
                    Screen::Findings | Screen::Dashboard => {
                        // `/` starts a new search, as in less and vim.
                        self.filtering = true;
                        self.graph_filter = Some(String::new());
                    }
                    _ => {}
                }
                Vec::new()
            }
            Action::Input(c) => {
                if let Some(input) = &mut self.lineage.input {
                    input.push(c);
                } else if self.filtering {
                    self.graph_filter.get_or_insert_with(String::new).push(c);
                    self.keep_selection_visible();
                }
                Vec::new()
            }
            Action::Backspace => {
                if let Some(input) = &mut self.lineage.input {
                    input.pop();
                } else if self.filtering {
                    if let Some(f) = &mut self.graph_filter {
                        f.pop();
                    }
                    self.keep_selection_visible();
                }
                Vec::new()
            }
            Action::CancelInput => {
                if self.lineage.input.take().is_none() && self.filtering {
                    self.filtering = false;
                    self.graph_filter = None;
                    self.keep_selection_visible();
                }
                Vec::new()
            }
            Action::Submit => {
                if let Some(input) = self.lineage.input.take() {
                    let key = input.trim().to_string();
                    if !key.is_empty() {
                        return self.load_lineage(key);
                    }
                } else if self.filtering {
                    self.filtering = false;
                    if self.graph_filter.as_deref() == Some("") {
                        self.graph_filter = None;
                    }
                }
                Vec::new()
            }
            // Actions of the other state machines are not sent here.
            _ => Vec::new(),
        }
    }
}
