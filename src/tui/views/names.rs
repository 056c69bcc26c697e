//! Names that fit: table names without what every one of them shares (said
//! once, in the header), and long labels shortened in the middle, so that
//! the start and the end of each name stay readable.

use crate::app::App;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Tokens are not shortened below this many columns.
const MIN_TOKEN: usize = 8;

/// What every table's label starts with, left out of the panes' rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Names {
    /// The shared start of every label (`musicbrainz.`, `wp_`).
    shared: String,
    /// What stands for it in a row: nothing for a schema (the header says
    /// it), `…` for the start of a name.
    stands_for: &'static str,
    /// How the header says it.
    said: Option<String>,
}

impl Names {
    /// Of the app's tables: a schema that is not the default one, shared by
    /// every table; else the start of a name every table shares (up to a `_`
    /// or `.`, at least four characters).
    pub(crate) fn of(app: &App) -> Names {
        let tables = &app.plan.schema.tables;
        let Some(first) = tables.first() else {
            return Names::default();
        };
        let schema = &first.name.schema;
        if *schema != app.plan.schema.default_schema
            && tables.iter().all(|t| t.name.schema == *schema)
        {
            return Names {
                shared: format!("{schema}."),
                stands_for: "",
                said: Some(format!("schema {schema}")),
            };
        }
        let labels: Vec<String> = tables.iter().map(|t| app.plan.label(&t.name)).collect();
        match common_start(&labels) {
            Some(start) if labels.len() > 1 => Names {
                said: Some(format!("tables {start}…")),
                shared: start,
                stands_for: "…",
            },
            _ => Names::default(),
        }
    }

    /// What the header says about the names, if anything.
    pub(crate) fn said(&self) -> Option<&str> {
        self.said.as_deref()
    }

    /// `text` with the shared start of every table name in it left out. A
    /// name starts at the start of the text or after a character that
    /// cannot be part of one (a space, `:`, `(`).
    pub(crate) fn text(&self, text: &str) -> String {
        if self.shared.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        let mut previous: Option<char> = None;
        while !rest.is_empty() {
            let starts_name = previous.is_none_or(|c| !(c.is_alphanumeric() || "_.\"".contains(c)));
            if starts_name && rest.starts_with(&self.shared) && rest.len() > self.shared.len() {
                out.push_str(self.stands_for);
                rest = &rest[self.shared.len()..];
                previous = self.shared.chars().last();
                continue;
            }
            let c = rest.chars().next().unwrap_or_default();
            out.push(c);
            rest = &rest[c.len_utf8()..];
            previous = Some(c);
        }
        out
    }
}

/// The start every label shares, cut back to its last `_` or `.`; none
/// when shorter than four characters or when it is a whole label.
fn common_start(labels: &[String]) -> Option<String> {
    let first = labels.first()?;
    let mut end = first.len();
    for label in &labels[1..] {
        end = first
            .char_indices()
            .zip(label.chars())
            .take_while(|((i, a), b)| *i < end && a == b)
            .map(|((i, a), _)| i + a.len_utf8())
            .last()
            .unwrap_or(0);
    }
    let start = &first[..end];
    let cut = start.rfind(['_', '.']).map(|i| i + 1)?;
    let start = &start[..cut];
    (start.chars().count() >= 4 && labels.iter().all(|l| l.len() > start.len()))
        .then(|| start.to_string())
}

/// `text` in at most `width` columns: its longest words (split at spaces)
/// shortened in the middle, a few columns at a time, so every name keeps
/// its start and end (`crewai_f…_extensions`); cut at the end only when
/// that is not enough.
pub(crate) fn shorten(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let words: Vec<&str> = text.split(' ').collect();
    let mut widths: Vec<usize> = words.iter().map(|w| w.width()).collect();
    let spaces = words.len() - 1;
    while widths.iter().sum::<usize>() + spaces > width {
        // The widest word, the later one of equals (a parent before its child).
        let Some((i, _)) = widths
            .iter()
            .enumerate()
            .filter(|(_, w)| **w > MIN_TOKEN)
            .max_by_key(|(i, w)| (**w, *i))
        else {
            break;
        };
        widths[i] -= 1;
    }
    let shortened: Vec<String> = words
        .iter()
        .zip(widths)
        .map(|(w, width)| middle(w, width))
        .collect();
    super::fit(&shortened.join(" "), width)
}

/// One word in `width` columns: its start, `…`, its end. The end is a
/// whole part of the name (`_extensions`, `.master_flow_id`) when one fits.
pub(crate) fn middle(word: &str, width: usize) -> String {
    if word.width() <= width {
        return word.to_string();
    }
    if width <= 1 {
        return "…".repeat(width);
    }
    let budget = width - 1;
    let tail = word
        .char_indices()
        .filter(|(_, c)| matches!(c, '_' | '.' | ':'))
        .map(|(i, _)| &word[i..])
        .find(|t| t.width() <= budget * 2 / 3)
        .filter(|t| t.width() >= budget / 3)
        .map(str::to_string)
        .unwrap_or_else(|| last_columns(word, budget / 2));
    let head = first_columns(word, budget - tail.width());
    format!("{head}…{tail}")
}

/// The first characters of `text` that fit in `width` columns.
fn first_columns(text: &str, width: usize) -> String {
    let mut used = 0;
    text.chars()
        .take_while(|c| {
            used += c.width().unwrap_or(0);
            used <= width
        })
        .collect()
}

/// The last characters of `text` that fit in `width` columns.
fn last_columns(text: &str, width: usize) -> String {
    let mut used = 0;
    let mut tail: Vec<char> = text
        .chars()
        .rev()
        .take_while(|c| {
            used += c.width().unwrap_or(0);
            used <= width
        })
        .collect();
    tail.reverse();
    tail.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_word_keeps_its_start_and_a_whole_end() {
        assert_eq!(
            middle("crewai_flow_state_extensions", 20),
            "crewai_f…_extensions"
        );
        assert_eq!(
            middle("raw_import_records.master_flow_id", 20),
            "raw_import_…_flow_id"
        );
        assert_eq!(middle("abcdefghijklmnop", 9), "abcd…mnop");
        assert_eq!(middle("short", 9), "short");
        assert_eq!(middle("short", 1), "…");
        assert_eq!(middle("short", 0), "");
    }

    #[test]
    fn child_and_parent_both_stay_readable() {
        let label = "raw_import_records.master_flow_id → crewai_flow_state_extensions";
        assert_eq!(shorten(label, 80), label);
        let short = shorten(label, 50);
        assert_eq!(short.width(), 50);
        assert_eq!(short, "raw_import_reco…_flow_id → crewai_flow_…_extensions");
        // Too narrow for every word: cut at the end.
        let tiny = shorten(label, 12);
        assert_eq!(tiny.width(), 12);
        assert!(tiny.ends_with('…'), "{tiny}");
    }

    #[test]
    fn a_shared_start_is_found_at_a_boundary() {
        let labels = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            common_start(&labels(&["musicbrainz_a.x", "musicbrainz_b.y"])),
            Some("musicbrainz_".into())
        );
        assert_eq!(common_start(&labels(&["assets", "data_imports"])), None);
        assert_eq!(common_start(&labels(&["wp_posts", "wp_users"])), None);
        assert_eq!(
            common_start(&labels(&["shop_orders", "shop_order_lines"])),
            Some("shop_".into())
        );
    }

    #[test]
    fn the_shared_start_is_left_out_where_a_name_starts() {
        let names = Names {
            shared: "musicbrainz.".into(),
            stands_for: "",
            said: Some("schema musicbrainz".into()),
        };
        assert_eq!(
            names.text("musicbrainz.track.recording → musicbrainz.recording"),
            "track.recording → recording"
        );
        assert_eq!(names.text("scan:musicbrainz.track"), "scan:track");
        assert_eq!(names.text("x.musicbrainz.y"), "x.musicbrainz.y");
    }
}
