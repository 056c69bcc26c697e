//! What the view tests share: drawing an app on a `TestBackend` and feeding
//! it actions.

use crate::app::{Action, App, Command};
use crate::tui::config::Config;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Instant;

/// The app drawn on a terminal of its size, in colour.
pub(super) fn render(app: &App) -> Terminal<TestBackend> {
    render_with(app, false)
}

/// The app drawn on a terminal of its size; `no_color` as under `NO_COLOR`.
pub(super) fn render_with(app: &App, no_color: bool) -> Terminal<TestBackend> {
    let config = Config::load(None, no_color).unwrap();
    let mut terminal = Terminal::new(TestBackend::new(app.size.0, app.size.1)).unwrap();
    terminal
        .draw(|frame| super::draw(frame, app, &config.theme, &config.keymap))
        .unwrap();
    terminal
}

/// Applies `actions` in order.
pub(super) fn act(app: &mut App, actions: &[Action]) {
    commands(app, actions);
}

/// Applies `actions` in order; returns what the app asked its shell to do.
pub(super) fn commands(app: &mut App, actions: &[Action]) -> Vec<Command> {
    actions
        .iter()
        .flat_map(|a| app.update(a.clone(), Instant::now()))
        .collect()
}

/// A snapshot per size of a refreshed app after `setup`, named
/// `<name>_<w>x<h>`; a macro, so that the snapshot files keep the name of
/// the test module that takes them.
macro_rules! snapshots {
    ($name:expr, $sizes:expr, $setup:expr) => {
        for &(w, h) in $sizes {
            let mut app = crate::app::fixture::refreshed((w, h));
            ($setup)(&mut app);
            insta::assert_snapshot!(
                format!("{}_{w}x{h}", $name),
                super::test_support::render(&app).backend()
            );
        }
    };
}
pub(super) use snapshots;

/// The terminal's text, row by row.
pub(super) fn text(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    (0..buffer.area.height)
        .map(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
