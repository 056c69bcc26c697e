//! Navigation: panes, screens, selection, overlays, sorting, the mouse.

use super::*;

impl App {
    /// The actions of this state machine ([`Action::machine`]).
    pub(super) fn update_navigation(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::NextPane => self.show_pane(self.pane_after(1)),
            Action::PrevPane => self.show_pane(self.pane_after(Pane::ALL.len() - 1)),
            Action::FocusPane(pane) => self.show_pane(pane),
            Action::ShowMetrics | Action::ShowFindings | Action::Help => {
                self.show(action);
                Vec::new()
            }
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom
            | Action::Left
            | Action::Right
            | Action::NextMatch
            | Action::PrevMatch => self.move_by(action),
            Action::Open => self.open(),
            Action::Back => {
                self.back();
                Vec::new()
            }
            Action::Sort => {
                self.next_sort();
                Vec::new()
            }
            Action::ReverseSort => {
                self.orphan_descending = !self.orphan_descending;
                Vec::new()
            }
            Action::CopySql if matches!(self.overlay, Some(Overlay::Rows { .. })) => {
                self.copy_rows_sql(false)
            }
            Action::CopySql => match self.detail_sql() {
                Some(sql) => {
                    self.note = Some("SQL copied to the clipboard".into());
                    vec![Command::Copy(sql)]
                }
                None => Vec::new(),
            },
            Action::Resize(w, h) => {
                self.size = (w, h);
                Vec::new()
            }
            Action::Click(x, y) => self.click(x, y),
            Action::ScrollUp(x, y) => self.scroll(x, y, -3),
            Action::ScrollDown(x, y) => self.scroll(x, y, 3),
            // Actions of the other state machines are not sent here.
            _ => Vec::new(),
        }
    }

    /// A screen, or the help over it.
    fn show(&mut self, action: Action) {
        match action {
            Action::ShowMetrics => {
                self.screen = Screen::Metrics;
                self.overlay = None;
            }
            Action::ShowFindings => {
                self.screen = Screen::Findings;
                self.overlay = None;
            }
            _ => {
                self.overlay = if self.overlay == Some(Overlay::Help) {
                    None
                } else {
                    self.help_scroll = 0;
                    Some(Overlay::Help)
                };
            }
        }
    }

    /// The arrows, paging and `n`/`N`: what they move depends on what is shown.
    fn move_by(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::NextMatch | Action::PrevMatch => {
                if self.searching_tables() {
                    let delta = if matches!(action, Action::NextMatch) {
                        1
                    } else {
                        -1
                    };
                    self.step_match(delta, true);
                }
                Vec::new()
            }
            Action::Up | Action::Down if self.graph_selecting() => {
                self.move_across_layers(if matches!(action, Action::Up) { -1 } else { 1 });
                Vec::new()
            }
            Action::Up => self.step(-1),
            Action::Down => self.step(1),
            Action::PageUp => self.step(-10),
            Action::PageDown => self.step(10),
            Action::Top => self.step(-100_000),
            Action::Bottom => self.step(100_000),
            Action::Left if self.graph_selecting() => self.step(-1),
            Action::Right if self.graph_selecting() => self.step(1),
            Action::Left | Action::Right if matches!(self.overlay, Some(Overlay::Rows { .. })) => {
                self.scroll_columns(if matches!(action, Action::Left) {
                    -1
                } else {
                    1
                });
                Vec::new()
            }
            Action::Left if self.lineage_rows_shown() => self.lineage_columns(-1),
            Action::Right if self.lineage_rows_shown() => self.lineage_columns(1),
            _ => Vec::new(),
        }
    }

    pub(super) fn step(&mut self, delta: i64) -> Vec<Command> {
        let clamp = |value: usize, delta: i64, len: usize| -> usize {
            if len == 0 {
                return 0;
            }
            (value as i64 + delta).clamp(0, len as i64 - 1) as usize
        };
        if let Some(Overlay::Table { node, .. }) = self.overlay
            && delta.abs() == 1
            && self.step_neighbour(node, delta)
        {
            return Vec::new();
        }
        if let Some(Overlay::Rows { .. }) = self.overlay {
            return self.step_rows(delta);
        }
        match &mut self.overlay {
            Some(Overlay::Check { scroll, .. })
            | Some(Overlay::Table { scroll, .. })
            | Some(Overlay::Statement { scroll, .. }) => {
                let limit = self.scroll_limit.get().unwrap_or(u16::MAX);
                *scroll = (*scroll as i64 + delta).clamp(0, limit as i64) as u16;
                return Vec::new();
            }
            Some(Overlay::Help) => {
                let limit = self.scroll_limit.get().unwrap_or(u16::MAX);
                self.help_scroll = (self.help_scroll as i64 + delta).clamp(0, limit as i64) as u16;
                return Vec::new();
            }
            Some(Overlay::Fix { .. }) | Some(Overlay::Rows { .. }) => {
                return Vec::new();
            }
            None => {}
        }
        match self.screen {
            Screen::Findings => self.step_findings(delta),
            Screen::Metrics => {
                self.metrics_scroll =
                    (self.metrics_scroll as i64 + delta).clamp(0, u16::MAX as i64) as u16;
            }
            Screen::Lineage => self.step_lineage(delta),
            Screen::Dashboard => match self.focus {
                Pane::Graph if self.searching_tables() => self.step_match(delta, false),
                Pane::Graph => {
                    let (layer, pos) = self.graph.position(
                        self.selected_node
                            .min(self.graph.nodes.len().saturating_sub(1)),
                    );
                    let shown = self.shown_nodes();
                    let in_layer: Vec<usize> =
                        self.graph.layers.get(layer).map_or(Vec::new(), |l| {
                            l.iter().copied().filter(|&n| shown[n]).collect()
                        });
                    if !in_layer.is_empty() {
                        let current = in_layer
                            .iter()
                            .position(|&n| n == self.selected_node)
                            .unwrap_or(pos.min(in_layer.len() - 1));
                        self.selected_node = in_layer[clamp(current, delta, in_layer.len())];
                    }
                }
                Pane::Orphans => {
                    self.orphan_row = clamp(self.orphan_row, delta, self.orphan_rows().len())
                }
                Pane::Tenants => {
                    self.tenant_row = clamp(self.tenant_row, delta, self.tenant_rows().len())
                }
                Pane::Latency => {
                    self.latency_row = clamp(self.latency_row, delta, self.latency_len())
                }
            },
        }
        Vec::new()
    }

    /// True when arrow keys move between graph nodes: layers are rows (up and
    /// down), tables within a layer go left and right.
    pub(super) fn graph_selecting(&self) -> bool {
        self.overlay.is_none()
            && self.screen == Screen::Dashboard
            && self.focus == Pane::Graph
            && !self.searching_tables()
    }

    pub(super) fn move_across_layers(&mut self, delta: i64) {
        if self.graph.nodes.is_empty() {
            return;
        }
        let shown = self.shown_nodes();
        let (layer, pos) = self.graph.position(self.selected_node);
        let mut target = layer as i64 + delta;
        while target >= 0 && (target as usize) < self.graph.layers.len() {
            let candidates: Vec<usize> = self.graph.layers[target as usize]
                .iter()
                .copied()
                .filter(|&n| shown[n])
                .collect();
            if !candidates.is_empty() {
                self.selected_node = candidates[pos.min(candidates.len() - 1)];
                return;
            }
            target += delta;
        }
    }

    pub(super) fn keep_selection_visible(&mut self) {
        // The filtered lists start again at their first row.
        self.orphan_row = 0;
        self.tenant_row = 0;
        self.findings.selected = 0;
        if self.searching_tables() {
            self.select_best_match();
            return;
        }
        let visible = self.visible_nodes();
        if !visible.contains(&self.selected_node)
            && let Some(&first) = visible.first()
        {
            self.selected_node = first;
        }
    }

    pub(super) fn open(&mut self) -> Vec<Command> {
        // A fix's confirmation is typed (see `fix`): Enter alone never applies.
        if let Some(Overlay::Table { node, .. }) = self.overlay {
            self.open_neighbour(node);
            return Vec::new();
        }
        if let Some(Overlay::Check { .. }) = self.overlay {
            return self.open_rows();
        }
        if self.overlay.is_some() {
            return Vec::new();
        }
        match self.screen {
            Screen::Lineage => return self.open_lineage(),
            Screen::Metrics => {}
            Screen::Findings => self.open_finding(),
            Screen::Dashboard => match self.focus {
                Pane::Graph => {
                    if self.visible_nodes().contains(&self.selected_node) {
                        self.overlay = Some(Overlay::Table {
                            node: self.selected_node,
                            scroll: 0,
                        });
                        self.table_neighbour = 0;
                    }
                }
                Pane::Orphans => {
                    if let Some(&check) = self.orphan_rows().get(self.orphan_row) {
                        self.overlay = Some(Overlay::Check { check, scroll: 0 });
                    }
                }
                Pane::Tenants => {
                    if let Some(&check) = self.tenant_rows().get(self.tenant_row) {
                        self.overlay = Some(Overlay::Check { check, scroll: 0 });
                    }
                }
                Pane::Latency => {
                    if let Some(&check) = self
                        .plan
                        .statements
                        .get(self.latency_row)
                        .and_then(|s| s.checks.first())
                    {
                        self.overlay = Some(Overlay::Check { check, scroll: 0 });
                    }
                }
            },
        }
        Vec::new()
    }

    /// The pane under a screen position, on the dashboard.
    pub fn pane_at(&self, x: u16, y: u16) -> Option<Pane> {
        let areas = layout::areas(self.size.0, self.size.1, self.screen, self.focus);
        areas
            .panes
            .iter()
            .find(|(_, r)| x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height)
            .map(|(p, _)| *p)
    }

    pub(super) fn click(&mut self, x: u16, y: u16) -> Vec<Command> {
        if self.overlay.is_some() {
            return Vec::new();
        }
        let areas = layout::areas(self.size.0, self.size.1, self.screen, self.focus);
        if let Some(tabs) = areas.tabs
            && y == tabs.y
        {
            // The tab bar: each title takes its width plus three columns.
            let mut left = tabs.x;
            for pane in Pane::ALL {
                let width = pane.title().len() as u16 + 3;
                if x >= left && x < left + width {
                    self.focus = pane;
                    self.screen = Screen::Dashboard;
                }
                left += width;
            }
            return Vec::new();
        }
        let Some((pane, rect)) = areas
            .panes
            .iter()
            .find(|(_, r)| x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height)
            .cloned()
        else {
            return Vec::new();
        };
        self.focus = pane;
        // The row drawn there (the pane may be scrolled); before the pane was
        // ever drawn, rows start below the border and the header line.
        let noted = self.row_at(pane, y);
        let row = noted.unwrap_or(y.saturating_sub(rect.y + 2) as usize);
        if noted.is_some() || (self.pane_rows.get() == [None; 4] && y >= rect.y + 2) {
            match pane {
                Pane::Orphans => {
                    self.orphan_row = row.min(self.orphan_rows().len().saturating_sub(1))
                }
                Pane::Tenants => {
                    self.tenant_row = row.min(self.tenant_rows().len().saturating_sub(1))
                }
                Pane::Latency => self.latency_row = row.min(self.latency_len().saturating_sub(1)),
                Pane::Graph => {}
            }
        }
        Vec::new()
    }

    /// One level back: from a remedy to its check (a confirmation is
    /// cancelled; an apply under way keeps the view until it ends), from an
    /// overlay to its screen, from a lineage node's rows to its tree and
    /// from the tree to the roots, from a screen to the dashboard.
    fn back(&mut self) {
        if let Some(Overlay::Rows { check }) = self.overlay {
            self.overlay = Some(Overlay::Check { check, scroll: 0 });
            return;
        }
        if let Some(Overlay::Fix { check, state }) = &self.overlay {
            if *state != FixState::Applying {
                self.overlay = Some(Overlay::Check {
                    check: *check,
                    scroll: 0,
                });
            }
            return;
        }
        if self.overlay.take().is_none() && !(self.screen == Screen::Lineage && self.back_lineage())
        {
            self.screen = Screen::Dashboard;
        }
    }

    /// The orphans pane's next sort order, when it is shown.
    fn next_sort(&mut self) {
        if self.screen == Screen::Findings && self.overlay.is_none() {
            self.next_finding_sort();
        }
        if self.screen == Screen::Dashboard && self.focus == Pane::Orphans {
            let i = OrphanSort::ORDER
                .iter()
                .position(|s| *s == self.orphan_sort)
                .unwrap_or(0);
            self.orphan_sort = OrphanSort::ORDER[(i + 1) % OrphanSort::ORDER.len()];
            self.orphan_descending = self.orphan_sort != OrphanSort::Relationship;
            self.note = Some(format!("sorted by {}", self.orphan_sort.name()));
        }
    }

    /// The pane `steps` after the focused one (cyclic).
    fn pane_after(&self, steps: usize) -> Pane {
        let i = Pane::ALL.iter().position(|p| *p == self.focus).unwrap_or(0);
        Pane::ALL[(i + steps) % Pane::ALL.len()]
    }

    /// The dashboard with `pane` focused.
    fn show_pane(&mut self, pane: Pane) -> Vec<Command> {
        self.focus = pane;
        self.screen = Screen::Dashboard;
        self.overlay = None;
        Vec::new()
    }

    /// The mouse wheel at (x, y): on the dashboard it focuses the pane under
    /// it first.
    fn scroll(&mut self, x: u16, y: u16, delta: i64) -> Vec<Command> {
        if self.overlay.is_none()
            && self.screen == Screen::Dashboard
            && let Some(pane) = self.pane_at(x, y)
        {
            self.focus = pane;
        }
        self.step(delta)
    }
}
