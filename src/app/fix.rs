//! The fix flow: a remedy previewed, confirmed by typing a word, applied, and
//! the counts refreshed after it. Nothing is applied unless the UI was started
//! with `--allow-writes` ([`Writes`]).

use super::*;

/// What the footer and the preview say when applying is not allowed.
pub const APPLY_NEEDS_WRITES: &str = "to apply, restart tether with --allow-writes";

/// Whether fixes from the UI may write: only when the UI was started with
/// `--allow-writes`, and each one only once the word is typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Writes {
    /// Started without `--allow-writes`: remedies are previewed, never applied.
    Off,
    /// Started with `--allow-writes`: a remedy applies once `word` is typed.
    Allowed { word: String },
}

impl Writes {
    /// Writes allowed, each confirmed by typing the database's name, or
    /// `apply` when it has none.
    pub fn allowed(database: &str) -> Writes {
        let word = match database.trim() {
            "" => "apply",
            name => name,
        };
        Writes::Allowed { word: word.into() }
    }

    /// The word that confirms a fix, when fixes may be applied.
    pub fn word(&self) -> Option<&str> {
        match self {
            Writes::Off => None,
            Writes::Allowed { word } => Some(word),
        }
    }
}

impl App {
    /// The actions of this state machine ([`Action::machine`]).
    pub(super) fn update_fix(&mut self, action: Action, now: Instant) -> Vec<Command> {
        match action {
            Action::Fix => match &self.overlay {
                Some(Overlay::Check { check, .. })
                    if self.plan.checks[*check].id == CheckId::Orphans =>
                {
                    let check = *check;
                    self.overlay = Some(Overlay::Fix {
                        check,
                        state: FixState::Loading,
                    });
                    vec![Command::PreviewFix(check)]
                }
                _ => Vec::new(),
            },
            Action::Apply => {
                self.ask_to_apply();
                Vec::new()
            }
            Action::FixPreviewed { check, result } => {
                if let Some(Overlay::Fix {
                    check: shown,
                    state,
                }) = &mut self.overlay
                    && *shown == check
                {
                    *state = match result {
                        Ok(remedies) => FixState::Preview(remedies),
                        Err(e) => FixState::Failed(e),
                    };
                }
                Vec::new()
            }
            Action::FixApplied(result) => {
                let applied = result.is_ok();
                if let Some(Overlay::Fix { state, .. }) = &mut self.overlay {
                    *state = match result {
                        Ok(done) => FixState::Done(done),
                        Err(e) => FixState::Failed(e),
                    };
                }
                // Show the new counts.
                if applied && self.connection == Connection::Connected {
                    return self.run_now(now);
                }
                Vec::new()
            }
            // Actions of the other state machines are not sent here.
            _ => Vec::new(),
        }
    }

    /// From a preview that changes rows: the typed confirmation when writes
    /// are allowed, else a note saying how to allow them.
    fn ask_to_apply(&mut self) {
        if let Some(Overlay::Fix { state, .. }) = &mut self.overlay
            && let FixState::Preview(remedies) = state
            && remedies.iter().any(|r| !r.steps.is_empty())
        {
            match self.writes {
                Writes::Off => self.note = Some(APPLY_NEEDS_WRITES.into()),
                Writes::Allowed { .. } => {
                    *state = FixState::Confirm {
                        remedies: std::mem::take(remedies),
                        typed: String::new(),
                        rejected: None,
                    }
                }
            }
        }
    }

    /// True while a fix's confirmation word is being typed.
    pub fn confirming_fix(&self) -> bool {
        matches!(
            self.overlay,
            Some(Overlay::Fix {
                state: FixState::Confirm { .. },
                ..
            })
        )
    }

    /// Text input into a fix's confirmation: Enter applies only when the
    /// typed word is the one asked for; Esc goes back to the preview.
    pub(super) fn update_confirmation(&mut self, action: Action) -> Vec<Command> {
        let Some(Overlay::Fix { state, .. }) = &mut self.overlay else {
            return Vec::new();
        };
        let FixState::Confirm {
            remedies,
            typed,
            rejected,
        } = state
        else {
            return Vec::new();
        };
        match action {
            Action::Input(c) => typed.push(c),
            Action::Backspace => {
                typed.pop();
            }
            Action::CancelInput => *state = FixState::Preview(std::mem::take(remedies)),
            Action::Submit if self.writes.word() == Some(typed.as_str()) => {
                let remedies = std::mem::take(remedies);
                *state = FixState::Applying;
                return vec![Command::ApplyFix(remedies)];
            }
            // Enter alone or a wrong word: nothing is applied.
            Action::Submit => *rejected = Some(std::mem::take(typed)),
            _ => {}
        }
        Vec::new()
    }
}
