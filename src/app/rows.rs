//! A check's offending rows, every column, read page by page on demand
//! (keyset paging) while the user scrolls down and across.

use super::*;
use crate::offending::Page;
use crate::timeline::Facts;

/// Rows read per page.
pub const PAGE_ROWS: u32 = 100;

/// The rows view's state: the rows read so far and where the user is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowsView {
    pub check: usize,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// The last row's key, while more rows follow.
    pub next: Option<Vec<String>>,
    /// A page is being read.
    pub loading: bool,
    pub error: Option<String>,
    /// The selected row.
    pub selected: usize,
    /// The first column shown (horizontal scroll).
    pub column: usize,
}

/// The timeline shown in a row check's or an assertion's detail: what the
/// run learnt, or when a row check's pass kept too many rows to learn it,
/// read once per opening of the detail by a statement of its own; hidden
/// and shown again with `t`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimelineView {
    /// The check it is of.
    pub check: Option<usize>,
    /// Hidden with `t`.
    pub hidden: bool,
    /// None while it is read.
    pub result: Option<Result<Facts, String>>,
}

impl App {
    /// The actions of this state machine ([`Action::machine`]).
    pub(super) fn update_rows(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::RowsLoaded { check, result } => {
                self.rows_loaded(check, result);
                Vec::new()
            }
            Action::CopyCountSql => self.copy_rows_sql(true),
            Action::ToggleTimeline => {
                if matches!(self.overlay, Some(Overlay::Check { .. })) {
                    self.timeline.hidden = !self.timeline.hidden;
                }
                Vec::new()
            }
            Action::TimelineLoaded { check, result } => {
                if self.timeline.check == Some(check) {
                    self.timeline.result = Some(result);
                }
                Vec::new()
            }
            // Actions of the other state machines are not sent here.
            _ => Vec::new(),
        }
    }

    /// Once a row check's or an assertion's detail is open and its count
    /// known above zero: its timeline, unless it was set for this check
    /// already.
    pub(super) fn timeline_wanted(&mut self) -> Option<Command> {
        let check = match self.overlay {
            Some(Overlay::Check { check, .. }) => check,
            // Its rows, opened from the detail: the detail comes back to it.
            Some(Overlay::Rows { check }) if self.timeline.check == Some(check) => return None,
            // Closed: opened again, it is read again (the rows may have changed).
            _ => {
                self.timeline.check = None;
                return None;
            }
        };
        let work = &self.plan.checks[check].work;
        let assertion = matches!(work, Work::Assertion(_));
        if !(assertion || matches!(work, Work::Rows(_)))
            || self.checks[check].count.unwrap_or(0) == 0
        {
            return None;
        }
        if self.timeline.check == Some(check) {
            return None;
        }
        // The run learnt them already when it kept every offending row; else
        // a row check's are read by a statement of their own. An assertion's
        // rows are what its statement returned: nothing to read apart, only
        // why there is nothing.
        let facts = self.checks[check]
            .findings
            .iter()
            .find_map(|f| f.facts.as_deref());
        let learnt = match facts {
            Some(f) if f.omitted.is_none() => Some(Ok(f.clone())),
            Some(f) if assertion => Some(Err(f.omitted.clone().unwrap_or_default())),
            None if assertion => Some(Ok(Facts::default())),
            _ => None,
        };
        let command = learnt.is_none().then_some(Command::LoadTimeline { check });
        self.timeline = TimelineView {
            check: Some(check),
            hidden: self.timeline.hidden,
            result: learnt,
        };
        command
    }

    /// From a row check's detail: its offending rows, the first page.
    pub(super) fn open_rows(&mut self) -> Vec<Command> {
        let check = match self.overlay {
            Some(Overlay::Check { check, .. })
                if matches!(self.plan.checks[check].work, Work::Rows(_)) =>
            {
                check
            }
            _ => return Vec::new(),
        };
        self.rows = RowsView {
            check,
            loading: true,
            ..RowsView::default()
        };
        self.overlay = Some(Overlay::Rows { check });
        vec![Command::LoadRows { check, after: None }]
    }

    fn rows_loaded(&mut self, check: usize, result: Result<Page, String>) {
        if self.rows.check != check || self.overlay != Some(Overlay::Rows { check }) {
            return;
        }
        self.rows.loading = false;
        match result {
            Ok(page) => {
                self.rows.columns = page.columns;
                self.rows.rows.extend(page.rows);
                self.rows.next = if page.more { page.last_key } else { None };
            }
            Err(e) => self.rows.error = Some(e),
        }
    }

    /// In the rows view: moves the selection by `delta`, reading the next
    /// page when it reaches the last row read and more follow.
    pub(super) fn step_rows(&mut self, delta: i64) -> Vec<Command> {
        let len = self.rows.rows.len();
        if len > 0 {
            self.rows.selected =
                (self.rows.selected as i64 + delta).clamp(0, len as i64 - 1) as usize;
        }
        let at_end = len == 0 || self.rows.selected + 1 >= len;
        match (&self.rows.next, at_end && delta > 0 && !self.rows.loading) {
            (Some(after), true) => {
                self.rows.loading = true;
                vec![Command::LoadRows {
                    check: self.rows.check,
                    after: Some(after.clone()),
                }]
            }
            _ => Vec::new(),
        }
    }

    /// In the rows view: the first column shown moves by `delta`.
    pub(super) fn scroll_columns(&mut self, delta: i64) {
        let len = self.rows.columns.len();
        if len > 0 {
            self.rows.column = (self.rows.column as i64 + delta).clamp(0, len as i64 - 1) as usize;
        }
    }

    /// `y` in the rows view copies the statement that lists the rows; `Y`
    /// (here or in a check's detail) the statement that counts them.
    pub(super) fn copy_rows_sql(&mut self, count: bool) -> Vec<Command> {
        let check = match self.overlay {
            Some(Overlay::Rows { check }) | Some(Overlay::Check { check, .. }) => check,
            _ => return Vec::new(),
        };
        let sql = if count {
            crate::offending::count_sql(&self.plan, check)
        } else {
            crate::offending::listing_sql(&self.plan, check)
        };
        match sql {
            Ok(sql) => {
                self.note = Some(if count {
                    "the count query copied to the clipboard".into()
                } else {
                    "the query that lists the rows copied to the clipboard".into()
                });
                vec![Command::Copy(sql.to_string())]
            }
            Err(e) => {
                self.note = Some(e);
                Vec::new()
            }
        }
    }
}
