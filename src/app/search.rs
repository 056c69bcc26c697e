//! Finding a table fast: the graph's filter ranks the tables it matches,
//! exact names first, and `n`/`N` step through them.

use super::*;

/// How well a table's name matches what was typed; lower is better.
fn rank(label: &str, filter: &str) -> Option<u8> {
    let label = label.to_lowercase();
    // A name in another schema matches by its own part too.
    let name = label.rsplit('.').next().unwrap_or(&label);
    if label == filter || name == filter {
        Some(0)
    } else if label.starts_with(filter) || name.starts_with(filter) {
        Some(1)
    } else if label.contains(filter) {
        Some(2)
    } else {
        None
    }
}

/// One table the filter matches, with what it is worth knowing at a glance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableMatch {
    /// The graph node.
    pub node: usize,
    /// The worst finding about the table.
    pub worst: Option<Severity>,
    /// Its findings.
    pub findings: usize,
}

impl App {
    /// True while a filter narrows the graph to the tables it matches.
    pub fn searching_tables(&self) -> bool {
        self.graph_filter.as_deref().is_some_and(|f| !f.is_empty())
    }

    /// The graph nodes the filter matches: exact names first, then names
    /// that start with it, then the rest; alphabetical within each.
    pub fn table_matches(&self) -> Vec<TableMatch> {
        let filter = self.filter_text();
        let mut ranked: Vec<(u8, usize)> = self
            .graph
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| rank(&n.label, &filter).map(|r| (r, i)))
            .collect();
        ranked.sort_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| {
                self.graph.nodes[a.1]
                    .label
                    .cmp(&self.graph.nodes[b.1].label)
            })
        });
        ranked
            .into_iter()
            .map(|(_, node)| {
                let findings = self.findings_for_table(&self.graph.nodes[node].table);
                TableMatch {
                    node,
                    worst: findings.iter().map(|f| f.severity).max(),
                    findings: findings.len(),
                }
            })
            .collect()
    }

    /// Selects the best match (as the filter is typed).
    pub(super) fn select_best_match(&mut self) {
        if let Some(best) = self.table_matches().first() {
            self.selected_node = best.node;
        }
    }

    /// Moves the selection `delta` matches on; `n`/`N` wrap around, the
    /// arrows stop at the ends.
    pub(super) fn step_match(&mut self, delta: i64, wrap: bool) {
        let matches = self.table_matches();
        if matches.is_empty() {
            return;
        }
        let at = matches
            .iter()
            .position(|m| m.node == self.selected_node)
            .unwrap_or(0) as i64;
        let len = matches.len() as i64;
        let to = if wrap {
            (at + delta).rem_euclid(len)
        } else {
            (at + delta).clamp(0, len - 1)
        };
        self.selected_node = matches[to as usize].node;
    }
}

#[cfg(test)]
mod tests {
    use super::rank;

    #[test]
    fn exact_names_rank_first() {
        assert_eq!(rank("artist", "artist"), Some(0));
        assert_eq!(rank("musicbrainz.artist", "artist"), Some(0));
        assert_eq!(rank("artist_alias_type", "artist"), Some(1));
        assert_eq!(rank("l_artist_artist", "artist"), Some(2));
        assert_eq!(rank("release", "artist"), None);
    }
}
