//! Names that fit: table names without what every one of them shares (said
//! once, in the header), and long labels shortened in the middle, so that
//! the start and the end of each name stay readable.

use crate::app::App;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Names are not shortened below this many columns: below it, the first
/// name alone is shown.
const MIN_TOKEN: usize = 10;

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

/// The start every label shares, up to a `_` or `.` (its own last, or
/// the one every label goes on with); none when shorter than four
/// characters or when it is a whole label.
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
    let goes_on_at_a_boundary = labels.iter().all(|l| l[end..].starts_with(['_', '.']));
    let cut = if goes_on_at_a_boundary {
        end
    } else {
        start.rfind(['_', '.']).map(|i| i + 1)?
    };
    let start = &start[..cut];
    (start.chars().count() >= 4 && labels.iter().all(|l| l.len() > start.len()))
        .then(|| start.to_string())
}

/// `text` in at most `width` columns, its words (split at spaces)
/// shortened in the middle so each keeps its start and end: the later
/// words give way first (a parent before its child:
/// `raw_import_records.master_flow_id → crewai_f…_extensions`), each down
/// to a few columns, the first name to three quarters of itself. When that
/// is not enough, its first name (after any short marks such as `∅`)
/// alone, shortened in the middle if need be, then `…`. A trailing remark
/// in brackets, `(via data_import_id)`, gives way first.
pub(crate) fn shorten(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    // A trailing remark in brackets gives way before any name: to `(…)`,
    // then altogether.
    if let Some(open) = text.rfind(" (").filter(|_| text.ends_with(')')) {
        let marked = format!("{} (…)", &text[..open]);
        if marked.width() <= width {
            return marked;
        }
        return shorten_words(&text[..open], width);
    }
    shorten_words(text, width)
}

fn shorten_words(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let words: Vec<&str> = text.split(' ').collect();
    let mut widths: Vec<usize> = words.iter().map(|w| w.width()).collect();
    let spaces = words.len() - 1;
    // The first name keeps three quarters of itself: shortened more, it
    // reads better alone.
    let first = words.iter().position(|w| w.width() > 2);
    for i in (0..words.len()).rev() {
        let over = (widths.iter().sum::<usize>() + spaces).saturating_sub(width);
        let least = if Some(i) == first {
            MIN_TOKEN.max(widths[i].div_ceil(4) * 3)
        } else {
            MIN_TOKEN
        };
        widths[i] -= widths[i].saturating_sub(least).min(over);
    }
    if widths.iter().sum::<usize>() + spaces <= width {
        let shortened: Vec<String> = words
            .iter()
            .zip(widths)
            .map(|(w, width)| middle(w, width))
            .collect();
        return shortened.join(" ");
    }
    first_name(&words, width)
}

/// The marks before the first name of `words` (`∅`, `≠`), that name
/// shortened in the middle to fit `width` columns, and `…` for the rest
/// when there is room.
fn first_name(words: &[&str], width: usize) -> String {
    let marks = words.iter().take_while(|w| w.width() <= 2).count();
    let mut out: Vec<String> = words[..marks].iter().map(|w| w.to_string()).collect();
    let used = out.iter().map(|w| w.width() + 1).sum::<usize>();
    let Some(name) = words.get(marks) else {
        return super::fit(&out.join(" "), width);
    };
    let room = width.saturating_sub(used);
    if name.width() + 2 <= room {
        out.extend([name.to_string(), "…".to_string()]);
    } else {
        out.push(middle(name, room));
    }
    super::fit(&out.join(" "), width)
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
        // The parent gives way first.
        assert_eq!(
            shorten(label, 56),
            "raw_import_records.master_flow_id → crewai_f…_extensions"
        );
        let short = shorten(label, 40);
        assert_eq!(short.width(), 40);
        assert_eq!(short, "raw_import_….master_flow_id → crewa…ions");
        // Too narrow for both: the child alone.
        assert_eq!(
            shorten("assets.data_import_id → data_imports", 17),
            "assets…_import_id"
        );
        assert_eq!(
            shorten("∅ assets.engagement_id", 24),
            "∅ assets.engagement_id"
        );
        assert_eq!(shorten("∅ assets.engagement_id", 16), "∅ assets.…ent_id");
        assert_eq!(
            shorten(
                "≠ assets.engagement_id vs data_imports (via data_import_id)",
                25
            ),
            "≠ assets.engagement_id …"
        );
        assert_eq!(shorten("word", 0), "");
        // Names alike but in the middle stay apart.
        assert_eq!(shorten("area_alias.area → area", 17), "area_alias.area …");
        assert_eq!(
            shorten("area_alias_type.area → area", 17),
            "area_a…_type.area"
        );
        let mismatch = "≠ assets.client_account_id vs data_imports (via data_import_id)";
        assert_eq!(
            shorten(mismatch, 47),
            "≠ assets.client_account_id vs data_imports (…)"
        );
        assert_eq!(shorten(mismatch, 35), "≠ assets.…_account_id vs data_…orts");
    }

    #[test]
    fn a_shared_start_is_found_at_a_boundary() {
        let labels = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            common_start(&labels(&["musicbrainz_a.x", "musicbrainz_b.y"])),
            Some("musicbrainz_".into())
        );
        assert_eq!(
            common_start(&labels(&[
                "musicbrainz.artist",
                "musicbrainz_derived.stats"
            ])),
            Some("musicbrainz".into())
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
