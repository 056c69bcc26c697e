//! How tether says numbers and counts: thousands separators, plurals, shares,
//! and the sentence a count of offending rows carries. Everything here is
//! made from plain data; nothing above it words a count itself.

use crate::model::Engine;

/// A count with thousands separators: `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// When offending rows were written: `2026-11-30 23:58:00 … 2026-12-01
/// 00:40:00 UTC` (one time when all are alike), with how many have none.
pub fn span(t: &crate::timeline::Timeline) -> String {
    let mut text = match (&t.first_at, &t.last_at) {
        (Some(first), Some(last)) if first == last => format!("{first} UTC"),
        (Some(first), Some(last)) => format!("{first} … {last} UTC"),
        _ => "no row has a time".to_string(),
    };
    if t.untimed > 0 {
        text.push_str(&format!(" · {} without a time", plural(t.untimed, "row")));
    }
    text
}

/// The largest groups of a breakdown: `acme 3 · (null) 2 · globex 1, and 4
/// more`.
pub fn groups(b: &crate::timeline::Breakdown) -> String {
    let top: Vec<String> = b
        .top
        .iter()
        .map(|(value, n)| format!("{} {}", value.as_deref().unwrap_or("(null)"), thousands(*n)))
        .collect();
    let more = b.groups.saturating_sub(b.top.len() as u64);
    let mut text = top.join(" · ");
    if more > 0 {
        text.push_str(&format!(", and {more} more"));
    }
    text
}

/// Counts as a row of block characters, each scaled to the largest (0 a
/// space).
pub fn bars(counts: &[u64]) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let most = counts.iter().copied().max().unwrap_or(0).max(1);
    counts
        .iter()
        .map(|&n| match n {
            0 => ' ',
            n => BLOCKS[((n * 7).div_ceil(most) as usize).min(7)],
        })
        .collect()
}

/// `1 row`, `2 rows`, `1,000 rows`, `14 refreshes`.
pub fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        return format!("1 {word}");
    }
    let es = ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|end| word.ends_with(end));
    format!("{} {word}{}", thousands(n), if es { "es" } else { "s" })
}

/// `count` as a share of `total` (above 0): whole percent from 10%, one
/// decimal from 0.1%, two from 0.01%, and below that as many as its first
/// significant digit needs, so a share that is not zero never reads as
/// zero (7 of 1,000,000 is `0.0007%`).
pub fn percent(count: u64, total: u64) -> String {
    let p = count as f64 * 100.0 / total as f64;
    if p >= 10.0 {
        format!("{p:.0}%")
    } else if p >= 0.1 {
        format!("{p:.1}%")
    } else {
        format!("{p:.*}%", decimals(count, p, 2))
    }
}

/// `count` as a share of `total` (above 0) for a column of shares: two
/// decimals, more below 0.01% as [`percent`] (`0.31%`, `0.0007%`).
pub fn percent_in_column(count: u64, total: u64) -> String {
    let p = count as f64 * 100.0 / total as f64;
    format!("{p:.*}%", decimals(count, p, 2))
}

/// The decimals that show the percentage `p` of a `count`: `fewest`, or
/// more until its first significant digit (none more for no rows).
fn decimals(count: u64, p: f64, fewest: usize) -> usize {
    let mut decimals = fewest;
    while count > 0 && p * 10f64.powi(decimals as i32) < 1.0 && decimals < 24 {
        decimals += 1;
    }
    decimals
}

/// What a count of offending rows counts: the words its sentence needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offending<'a> {
    /// Child rows whose reference matches no parent row; under MATCH FULL
    /// with several columns, partly NULL references offend too.
    NoParent {
        parent_table: &'a str,
        match_full: bool,
    },
    /// Rows with no value in a column (a tenant column).
    NoValue { column: &'a str },
    /// Child rows whose column differs from their parent row's.
    DifferFromParent {
        parent_table: &'a str,
        column: &'a str,
    },
    /// Rows on which a path rule disagrees.
    Disagree { rule: &'a str },
    /// Rows an assertion returned, with what it says they are.
    Returned { description: Option<&'a str> },
    /// Rows, with nothing more to say about them.
    Rows,
}

/// How an estimated count was reached, for its sentence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sampled<'a> {
    /// Offending rows in the sample.
    pub count: u64,
    /// How the sample was taken, in words.
    pub basis: &'a str,
}

/// The sentence a finding carries for `count` offending rows out of `total`:
/// `3 of 1,000 rows (0.3%) reference no discovery_flows row`. An estimate
/// is marked `≈` and says how it was reached.
pub fn count_sentence(
    what: Offending<'_>,
    count: u64,
    total: Option<u64>,
    sampled: Option<Sampled<'_>>,
) -> String {
    let about = if sampled.is_some() { "≈ " } else { "" };
    let rows = match total {
        Some(t) if t > 0 => format!(
            "{} of {about}{} rows ({})",
            thousands(count),
            thousands(t),
            percent(count, t)
        ),
        _ => format!("{} rows", thousands(count)),
    };
    let sentence = match what {
        Offending::NoParent {
            parent_table,
            match_full: true,
        } => format!("{rows} reference no {parent_table} row or are partly NULL (MATCH FULL)"),
        Offending::NoParent { parent_table, .. } => {
            format!("{rows} reference no {parent_table} row")
        }
        Offending::NoValue { column } => format!("{rows} have no {column}"),
        Offending::DifferFromParent {
            parent_table,
            column,
        } => format!("{rows} differ from their {parent_table} row in {column}"),
        Offending::Disagree { rule } => format!("{rows} disagree: {rule}"),
        Offending::Returned {
            description: Some(d),
        } => format!("{} returned: {d}", plural(count, "row")),
        Offending::Returned { description: None } => format!(
            "{} returned; the assertion expects none",
            plural(count, "row")
        ),
        Offending::Rows => rows,
    };
    match sampled {
        Some(s) => format!(
            "≈ {sentence} (estimated: {} in {})",
            thousands(s.count),
            s.basis
        ),
        None => sentence,
    }
}

/// How a table sample was taken, for an estimate's basis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SampleTaken<'a> {
    /// PostgreSQL's `TABLESAMPLE SYSTEM (percent)`.
    Pages { percent: f64 },
    /// `blocks` runs of `keys` consecutive values of `key`, one every `step`.
    KeyBlocks {
        blocks: u64,
        keys: u64,
        key: &'a str,
        step: u64,
    },
}

/// An estimate's basis: `a sample of 52,912 rows: 5% of its pages (TABLESAMPLE SYSTEM)`.
pub fn sample_basis(rows: u64, taken: SampleTaken<'_>) -> String {
    let how = match taken {
        SampleTaken::Pages { percent } => format!("{percent}% of its pages (TABLESAMPLE SYSTEM)"),
        SampleTaken::KeyBlocks {
            blocks,
            keys,
            key,
            step,
        } => format!(
            "{blocks} blocks of {keys} consecutive {key} values, one every {}",
            thousands(step)
        ),
    };
    format!("a sample of {} rows: {how}", thousands(rows))
}

/// An `fk_not_enforced` finding proven by orphans of a declared constraint,
/// with the usual ways `engine` lets rows in past it.
pub fn bypassed(engine: Engine, constraint: &str, count: u64, estimated: bool) -> String {
    let about = if estimated { "≈ " } else { "" };
    let how = match engine {
        Engine::Postgres => {
            "e.g. session_replication_role = replica, triggers disabled, or a constraint added NOT VALID"
        }
        Engine::Sqlite => "e.g. written with PRAGMA foreign_keys off",
        Engine::Mysql => "e.g. written with FOREIGN_KEY_CHECKS = 0",
    };
    format!(
        "{constraint} is declared, yet {about}{} violate it: it was not enforced when they were written \
         ({how})",
        thousands(count)
    )
}

/// A `check_failed` finding: which check, and why.
pub fn could_not_run(check: &str, error: &dyn std::fmt::Display) -> String {
    format!("{check} check could not run: {error}")
}

/// A `slow_check` finding: how long, against which threshold.
pub fn slower_than(ms: f64, category: &str, threshold_ms: u64) -> String {
    format!("took {ms:.1} ms, over the {category} threshold of {threshold_ms} ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(plural(1, "row"), "1 row");
        assert_eq!(plural(1_000, "row"), "1,000 rows");
        assert_eq!(plural(14, "refresh"), "14 refreshes");
        assert_eq!(plural(1, "refresh"), "1 refresh");
        assert_eq!(percent(3, 1_000), "0.3%");
        assert_eq!(percent(500, 1_000), "50%");
    }

    #[test]
    fn percents_keep_a_digit_that_is_not_zero() {
        // From 0.01% up, as before.
        assert_eq!(percent(1, 1), "100%");
        assert_eq!(percent(123, 1_000), "12%");
        assert_eq!(percent(99, 1_000), "9.9%");
        assert_eq!(percent(1, 1_000), "0.1%");
        assert_eq!(percent(5, 10_000), "0.05%");
        assert_eq!(percent(1, 10_000), "0.01%");
        // Below, as many decimals as the first significant digit needs.
        assert_eq!(percent(7, 1_000_000), "0.0007%");
        assert_eq!(percent(9, 100_000), "0.009%");
        assert_eq!(percent(1, 100_000), "0.001%");
        assert_eq!(percent(12, 10_000_000), "0.0001%");
        assert_eq!(percent(1, 1_000_000_000), "0.0000001%");
        assert_eq!(percent(1, u64::MAX), "0.000000000000000005%");
        // Nothing is nothing, as before.
        assert_eq!(percent(0, 1_000), "0.00%");
    }

    #[test]
    fn percents_in_a_column_have_two_decimals_or_more() {
        assert_eq!(percent_in_column(31, 10_000), "0.31%");
        assert_eq!(percent_in_column(1, 2), "50.00%");
        assert_eq!(percent_in_column(1, 10_000), "0.01%");
        assert_eq!(percent_in_column(7, 1_000_000), "0.0007%");
        assert_eq!(percent_in_column(0, 1_000), "0.00%");
    }

    #[test]
    fn count_sentences() {
        let orphans = Offending::NoParent {
            parent_table: "discovery_flows",
            match_full: false,
        };
        assert_eq!(
            count_sentence(orphans, 3, Some(1_000), None),
            "3 of 1,000 rows (0.3%) reference no discovery_flows row"
        );
        assert_eq!(
            count_sentence(orphans, 3, None, None),
            "3 rows reference no discovery_flows row"
        );
        assert_eq!(
            count_sentence(
                orphans,
                3_480,
                Some(1_058_240),
                Some(Sampled {
                    count: 174,
                    basis: "a sample of 52,912 rows"
                })
            ),
            "≈ 3,480 of ≈ 1,058,240 rows (0.3%) reference no discovery_flows row \
             (estimated: 174 in a sample of 52,912 rows)"
        );
        assert_eq!(
            count_sentence(Offending::Returned { description: None }, 1, Some(9), None),
            "1 row returned; the assertion expects none"
        );
    }
}
