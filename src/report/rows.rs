//! Rows (samples, metric results) as aligned text, for the text report and the UI.

use crate::db::SampleRow;
use serde_json::Value;
use unicode_width::UnicodeWidthStr;

/// A value as a cell: strings bare, NULL as `NULL`, others as JSON.
pub fn cell(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "NULL".into(),
        other => other.to_string(),
    }
}

/// The header line, then one line per row; columns padded to their widest cell
/// (wide characters counted), numbers right-aligned. Empty when there are no rows.
pub fn aligned(rows: &[SampleRow]) -> Vec<String> {
    let Some(first) = rows.first() else {
        return Vec::new();
    };
    let headers: Vec<&String> = first.keys().collect();
    let widths: Vec<usize> = headers
        .iter()
        .map(|h| {
            rows.iter()
                .map(|r| r.get(*h).map(cell).unwrap_or_default().width())
                .max()
                .unwrap_or(0)
                .max(h.width())
        })
        .collect();
    let pad = |text: &str, width: usize, right: bool| {
        let fill = " ".repeat(width.saturating_sub(text.width()));
        if right {
            format!("{fill}{text}")
        } else {
            format!("{text}{fill}")
        }
    };
    let numeric: Vec<bool> = headers
        .iter()
        .map(|h| {
            rows.iter()
                .all(|r| r.get(*h).is_none_or(|v| v.is_number() || v.is_null()))
        })
        .collect();
    let mut lines = vec![
        headers
            .iter()
            .zip(&widths)
            .zip(&numeric)
            .map(|((h, w), n)| pad(h, *w, *n))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string(),
    ];
    for r in rows {
        let cells: Vec<String> = headers
            .iter()
            .zip(&widths)
            .zip(&numeric)
            .map(|((h, w), n)| {
                pad(
                    &r.get(*h).map(cell).unwrap_or_else(|| "NULL".into()),
                    *w,
                    *n,
                )
            })
            .collect();
        lines.push(cells.join("  ").trim_end().to_string());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn aligns_wide_characters_and_numbers() {
        let rows: Vec<SampleRow> = vec![
            json!({"name": "Zürich 東京", "n": 5})
                .as_object()
                .unwrap()
                .clone(),
            json!({"name": "x", "n": 1234}).as_object().unwrap().clone(),
        ];
        assert_eq!(
            aligned(&rows),
            vec![
                "name            n",
                "Zürich 東京     5",
                "x            1234"
            ]
        );
    }
}
