//! Everything that can happen to the app, and what the app asks its shell to do.

use crate::fix::Remedy;
use crate::lineage::{Node, NodeRows, RootRow};
use crate::runner::Event;
use std::time::SystemTime;

/// An input to [`super::App::update`]: a key's meaning, a mouse event, a result
/// from the database, or the clock.
#[derive(Clone, Debug)]
pub enum Action {
    Quit,
    Refresh,
    TogglePause,
    IntervalUp,
    IntervalDown,
    NextPane,
    PrevPane,
    FocusPane(super::Pane),
    ShowMetrics,
    ShowLineage,
    /// The list of every finding.
    ShowFindings,
    /// The next (or previous) table the filter matches.
    NextMatch,
    PrevMatch,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    Sort,
    ReverseSort,
    CopySql,
    /// Copy the statement that counts a check's rows.
    CopyCountSql,
    /// In an orphan detail: preview its remedy.
    Fix,
    /// In a remedy preview: ask to apply it.
    Apply,
    Help,
    /// Start typing: a table filter in the graph, an id in the lineage.
    StartInput,
    /// Text input while typing.
    Input(char),
    Backspace,
    Submit,
    /// Stop typing and drop what was typed.
    CancelInput,
    Resize(u16, u16),
    Click(u16, u16),
    ScrollUp(u16, u16),
    ScrollDown(u16, u16),
    /// The clock: scheduled refreshes and reconnects are due.
    Tick,
    /// An event of run `generation`.
    Runner {
        generation: u64,
        event: Event,
        at: SystemTime,
    },
    /// The database answered a ping.
    Connected,
    /// The database did not answer.
    ConnectionLost(String),
    RootsLoaded(Result<Vec<RootRow>, String>),
    FixPreviewed {
        check: usize,
        result: Result<Vec<Remedy>, String>,
    },
    /// The apply ended: what it did, or why not.
    FixApplied(Result<String, String>),
    LineageLoaded {
        key: String,
        result: Result<Node, String>,
    },
    /// Whether the lineage of a listed root holds: its broken links in all,
    /// or why that is not known.
    RootChecked {
        key: String,
        result: Result<u64, String>,
    },
    /// The rows of the node at `position` of `key`'s lineage were read (or not).
    LineageRowsLoaded {
        key: String,
        position: Vec<usize>,
        result: Result<NodeRows, String>,
    },
    /// A page of a check's offending rows was read (or not).
    RowsLoaded {
        check: usize,
        result: Result<crate::offending::Page, String>,
    },
    /// `t` in a row check's detail: hides or shows when its rows were
    /// written and who they belong to.
    ToggleTimeline,
    /// Check `check`'s timeline and breakdowns were read.
    TimelineLoaded {
        check: usize,
        result: Result<crate::timeline::Facts, String>,
    },
}

/// Work the app asks of its shell (the only place that does I/O).
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Run every check as run `generation`.
    StartRun(u64),
    /// Cancel the run in flight (on the server too).
    CancelRun,
    /// Check whether the database answers.
    Ping,
    /// Put text on the clipboard (OSC 52).
    Copy(String),
    LoadRoots,
    LoadLineage(String),
    /// Check the lineage of each of these roots, a few at a time, in order.
    CheckRoots(Vec<String>),
    /// Read the rows of the node at `position` (child indexes from the
    /// root) of `key`'s lineage.
    LoadLineageRows {
        key: String,
        position: Vec<usize>,
    },
    /// Read a page of check `check`'s offending rows, after the row with
    /// key `after`.
    LoadRows {
        check: usize,
        after: Option<Vec<String>>,
    },
    /// Read when check `check`'s offending rows were written, and their
    /// largest groups.
    LoadTimeline {
        check: usize,
    },
    /// Preview the remedy for the orphans of check `usize`.
    PreviewFix(usize),
    /// Back up and apply these remedies (the user confirmed).
    ApplyFix(Vec<Remedy>),
    Quit,
}

/// The app's state machines; each action belongs to one, whose own update
/// takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Machine {
    Quit,
    /// Runs, their events, the connection.
    Refresh,
    /// Panes, screens, selection, overlays, sorting, the mouse.
    Navigation,
    /// Typing a filter or an id.
    Input,
    /// A remedy previewed, confirmed, applied.
    Fix,
    /// Lineage roots and trees.
    Lineage,
    /// A check's offending rows, read page by page.
    Rows,
}

impl Action {
    pub fn machine(&self) -> Machine {
        match self {
            Action::Quit => Machine::Quit,
            Action::Refresh
            | Action::TogglePause
            | Action::IntervalUp
            | Action::IntervalDown
            | Action::Tick
            | Action::Runner { .. }
            | Action::Connected
            | Action::ConnectionLost(_) => Machine::Refresh,
            Action::NextPane
            | Action::PrevPane
            | Action::FocusPane(_)
            | Action::ShowMetrics
            | Action::ShowFindings
            | Action::NextMatch
            | Action::PrevMatch
            | Action::Up
            | Action::Down
            | Action::Left
            | Action::Right
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom
            | Action::Open
            | Action::Back
            | Action::Sort
            | Action::ReverseSort
            | Action::CopySql
            | Action::Help
            | Action::Resize(..)
            | Action::Click(..)
            | Action::ScrollUp(..)
            | Action::ScrollDown(..) => Machine::Navigation,
            Action::StartInput
            | Action::Input(_)
            | Action::Backspace
            | Action::Submit
            | Action::CancelInput => Machine::Input,
            Action::Fix | Action::Apply | Action::FixPreviewed { .. } | Action::FixApplied(_) => {
                Machine::Fix
            }
            Action::RowsLoaded { .. }
            | Action::CopyCountSql
            | Action::ToggleTimeline
            | Action::TimelineLoaded { .. } => Machine::Rows,
            Action::ShowLineage
            | Action::RootsLoaded(_)
            | Action::LineageLoaded { .. }
            | Action::RootChecked { .. }
            | Action::LineageRowsLoaded { .. } => Machine::Lineage,
        }
    }
}
