//! Where things go on the screen: a pure function of the terminal size, used by
//! the views to draw and by the app to hit-test mouse clicks.

use super::{Pane, Screen};
use ratatui::layout::{Constraint, Layout, Rect};

/// Below this size the dashboard shows one pane at a time, with tabs.
pub const MIN_GRID: (u16, u16) = (80, 24);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    /// The tab bar, in small terminals.
    pub tabs: Option<Rect>,
    pub body: Rect,
    pub footer: Rect,
    /// The dashboard panes on screen and where.
    pub panes: Vec<(Pane, Rect)>,
}

pub fn is_small(width: u16, height: u16) -> bool {
    width < MIN_GRID.0 || height < MIN_GRID.1
}

pub fn areas(width: u16, height: u16, screen: Screen, focus: Pane) -> Areas {
    let full = Rect::new(0, 0, width, height);
    let small = is_small(width, height);
    let header_height = if small { 1 } else { 2 };
    let [header, middle, footer] = Layout::vertical([
        Constraint::Length(header_height),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(full);
    let (tabs, body) = if small {
        let [tabs, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(middle);
        (Some(tabs), body)
    } else {
        (None, middle)
    };
    let panes = match screen {
        Screen::Dashboard if small => vec![(focus, body)],
        Screen::Dashboard => {
            let [top, bottom] =
                Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)])
                    .areas(body);
            let [graph, orphans] =
                Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)])
                    .areas(top);
            let [tenants, latency] =
                Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)])
                    .areas(bottom);
            vec![
                (Pane::Graph, graph),
                (Pane::Orphans, orphans),
                (Pane::Tenants, tenants),
                (Pane::Latency, latency),
            ]
        }
        Screen::Metrics | Screen::Lineage | Screen::Findings => Vec::new(),
    };
    Areas {
        header,
        tabs,
        body,
        footer,
        panes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_panes_from_80_by_24() {
        let a = areas(80, 24, Screen::Dashboard, Pane::Latency);
        assert_eq!(a.panes.len(), 4);
        assert_eq!(a.tabs, None);
        let a = areas(79, 24, Screen::Dashboard, Pane::Latency);
        assert_eq!(a.panes, vec![(Pane::Latency, a.body)]);
        assert!(a.tabs.is_some());
    }

    #[test]
    fn tiny_sizes_do_not_panic() {
        for (w, h) in [(0, 0), (1, 1), (2, 1), (1, 3), (20, 5)] {
            let _ = areas(w, h, Screen::Dashboard, Pane::Graph);
            let _ = areas(w, h, Screen::Lineage, Pane::Graph);
        }
    }
}
