//! The findings screen: every finding of the run in one list, grouped by
//! severity then check, selectable, sortable and filtered by `/`.

use super::*;

/// Where a finding is kept: among a check's findings, or a statement's
/// (`slow_check`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FindingAt {
    Check { check: usize, index: usize },
    Statement { statement: usize, index: usize },
}

/// The order within a severity and check group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FindingSort {
    /// By what the finding is about.
    #[default]
    Location,
    /// Most offending rows first.
    Count,
}

impl FindingSort {
    pub fn name(self) -> &'static str {
        match self {
            FindingSort::Location => "location",
            FindingSort::Count => "count",
        }
    }
}

/// The findings screen's own state.
#[derive(Clone, Debug, Default)]
pub struct FindingsView {
    /// The selected row among the shown findings.
    pub selected: usize,
    pub sort: FindingSort,
}

impl App {
    /// The finding kept at `at`.
    pub fn finding(&self, at: FindingAt) -> Option<&Finding> {
        match at {
            FindingAt::Check { check, index } => self.checks.get(check)?.findings.get(index),
            FindingAt::Statement { statement, index } => {
                self.statements.get(statement)?.findings.get(index)
            }
        }
    }

    /// Every finding of the last run, most severe first, then by check id,
    /// then in the screen's sort order; only those the filter matches.
    pub fn finding_rows(&self) -> Vec<FindingAt> {
        let from_checks = self.checks.iter().enumerate().flat_map(|(check, view)| {
            (0..view.findings.len()).map(move |index| FindingAt::Check { check, index })
        });
        let from_statements = self.statements.iter().enumerate().flat_map(|(s, view)| {
            (0..view.findings.len()).map(move |index| FindingAt::Statement {
                statement: s,
                index,
            })
        });
        let filter = self.filter_text();
        let mut rows: Vec<(FindingAt, &Finding)> = from_checks
            .chain(from_statements)
            .filter_map(|at| self.finding(at).map(|f| (at, f)))
            .filter(|(_, f)| filter.is_empty() || finding_matches(f, &filter))
            .collect();
        let sort = self.findings.sort;
        rows.sort_by(|(_, a), (_, b)| {
            b.severity
                .cmp(&a.severity)
                .then(a.check.cmp(&b.check))
                .then_with(|| match sort {
                    FindingSort::Count => b.count.cmp(&a.count),
                    FindingSort::Location => std::cmp::Ordering::Equal,
                })
                .then_with(|| a.location().cmp(&b.location()))
        });
        rows.into_iter().map(|(at, _)| at).collect()
    }

    /// The filter typed with `/`, lower-cased (empty: none).
    pub fn filter_text(&self) -> String {
        self.graph_filter.as_deref().unwrap_or("").to_lowercase()
    }

    /// The findings screen's rows move by `delta`.
    pub(super) fn step_findings(&mut self, delta: i64) {
        let len = self.finding_rows().len();
        self.findings.selected = if len == 0 {
            0
        } else {
            (self.findings.selected as i64 + delta).clamp(0, len as i64 - 1) as usize
        };
    }

    /// Opens the selected finding: its check's detail, or its statement's.
    pub(super) fn open_finding(&mut self) {
        let rows = self.finding_rows();
        self.overlay = match rows.get(self.findings.selected) {
            Some(FindingAt::Check { check, .. }) => Some(Overlay::Check {
                check: *check,
                scroll: 0,
            }),
            Some(FindingAt::Statement { statement, .. }) => Some(Overlay::Statement {
                statement: *statement,
                scroll: 0,
            }),
            None => return,
        };
    }

    /// The findings screen's next sort order.
    pub(super) fn next_finding_sort(&mut self) {
        self.findings.sort = match self.findings.sort {
            FindingSort::Location => FindingSort::Count,
            FindingSort::Count => FindingSort::Location,
        };
        self.note = Some(format!(
            "findings sorted by severity, check, then {}",
            self.findings.sort.name()
        ));
    }
}

/// True when `filter` (lower case) is in the finding's check id, location or
/// message.
fn finding_matches(f: &Finding, filter: &str) -> bool {
    f.check.as_str().contains(filter)
        || f.location().to_lowercase().contains(filter)
        || f.message.to_lowercase().contains(filter)
}
