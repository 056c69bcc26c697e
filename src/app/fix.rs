//! The fix flow: a remedy previewed, confirmed, applied, and the counts
//! refreshed after it.

use super::*;

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
                if let Some(Overlay::Fix { state, .. }) = &mut self.overlay
                    && let FixState::Preview(remedies) = state
                    && remedies.iter().any(|r| !r.steps.is_empty())
                {
                    *state = FixState::Confirm(remedies.clone());
                }
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
}
