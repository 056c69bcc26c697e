//! Alerts for `tether watch`: what changed between one run and the next, as
//! events: a new finding, a count that grew or shrank, a resolved finding, a
//! latency breach, a check that failed, the database unreachable (with why)
//! or recovered (with how long it was away). A
//! finding that stays as it was is not alerted again.

use crate::checks::{CheckId, Severity};
use crate::findings::Finding;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::SystemTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    New,
    Grew,
    Shrank,
    Resolved,
    /// A statement over its latency threshold (`slow_check`).
    Breach,
    /// A check that could not run (`check_failed`).
    CheckFailed,
    /// The database cannot be reached (it does not answer, refuses the
    /// connection or the login); `cause` says why.
    Unreachable,
    /// The database answers again; `duration_s` says after how long.
    Recovered,
    /// A count estimated from a sample of a large table, before the first
    /// exact count of it (`watch`'s first run); the run's exact findings
    /// follow as `new`.
    Estimate,
}

/// One JSON line of `tether watch`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alert {
    pub ts: String,
    pub event: AlertKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<u64>,
    /// Why the database is unreachable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// How long the database was unreachable, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    /// A new or grown finding: offending rows new since the previous run
    /// (by the timeline's buckets when both runs have one: rows added in
    /// one bucket are not hidden by rows gone from another), and when the
    /// first of them was written (UTC): a new finding's first row's time, a
    /// grown one's the start of the bucket it is in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_rows: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_new_at: Option<String>,
    pub message: String,
}

impl Alert {
    /// A finding estimated from a sample, before its exact count is known.
    pub fn estimate(finding: &Finding, at: SystemTime) -> Alert {
        Alert::about(AlertKind::Estimate, finding, at)
    }

    fn about(event: AlertKind, finding: &Finding, at: SystemTime) -> Alert {
        Alert {
            ts: crate::clock::rfc3339(at),
            event,
            check: Some(finding.check),
            severity: Some(finding.severity),
            key: Some(finding.key.clone()),
            location: Some(finding.location()),
            count: finding.count,
            previous: None,
            cause: None,
            duration_s: None,
            new_rows: None,
            first_new_at: None,
            message: finding.message.clone(),
        }
    }

    fn connection(event: AlertKind, message: String, at: SystemTime) -> Alert {
        Alert {
            ts: crate::clock::rfc3339(at),
            event,
            check: None,
            severity: None,
            key: None,
            location: None,
            count: None,
            previous: None,
            cause: None,
            duration_s: None,
            new_rows: None,
            first_new_at: None,
            message,
        }
    }

    /// Says how many rows are new and when the first of them was written.
    fn with_growth(mut self, before: Option<&Finding>, now: &Finding) -> Alert {
        let Some((rows, first)) = growth(before, now) else {
            return self;
        };
        self.new_rows = Some(rows);
        match (&first, before) {
            (Some((at, _)), None) => {
                self.message
                    .push_str(&format!(" (the first written at {at} UTC)"));
            }
            (Some((at, unit)), Some(_)) => self.message.push_str(&format!(
                " ({rows} new; the first written in the {unit} of {at} UTC)"
            )),
            (None, _) => {}
        }
        self.first_new_at = first.map(|(at, _)| at);
        self
    }
}

/// Offending rows new in `now` since `before` (None: it is new), and the
/// bucket (start, unit) the first of them was written in, when timelines say.
fn growth(
    before: Option<&Finding>,
    now: &Finding,
) -> Option<(u64, Option<(String, crate::timeline::Unit)>)> {
    let count = now.count?;
    let timeline = now.facts.as_deref().and_then(|f| f.timeline.as_ref());
    let Some(before) = before else {
        // All of them are new: the first one's own time.
        let first = timeline.and_then(|t| Some((t.first_at.clone()?, t.unit)));
        return Some((count, first));
    };
    let net = count.saturating_sub(before.count?);
    let earlier = before.facts.as_deref().and_then(|f| f.timeline.as_ref());
    let (Some(t), Some(e)) = (timeline, earlier) else {
        return Some((net, None));
    };
    if t.unit != e.unit {
        return Some((net, None));
    }
    let was: BTreeMap<&str, u64> = e.buckets.iter().map(|(b, n)| (b.as_str(), *n)).collect();
    let grown: Vec<(&String, u64)> = t
        .buckets
        .iter()
        .filter_map(|(b, n)| {
            let more = n.saturating_sub(was.get(b.as_str()).copied().unwrap_or(0));
            (more > 0).then_some((b, more))
        })
        .collect();
    let untimed = t.untimed.saturating_sub(e.untimed);
    let rows = grown.iter().map(|(_, n)| n).sum::<u64>() + untimed;
    let first = grown.first().map(|(b, _)| ((*b).clone(), t.unit));
    Some((rows.max(net), first))
}

/// What the last run found, to compare the next one with.
#[derive(Debug, Default)]
pub struct Watcher {
    known: BTreeMap<String, Finding>,
    /// Since when the database has not answered.
    unreachable_since: Option<SystemTime>,
}

impl Watcher {
    /// Alerts for one completed run's findings.
    pub fn after_run(&mut self, findings: &[Finding], at: SystemTime) -> Vec<Alert> {
        let mut alerts = Vec::new();
        let mut now: BTreeMap<String, Finding> = BTreeMap::new();
        for f in findings {
            now.insert(f.key.clone(), f.clone());
        }
        for (key, f) in &now {
            match self.known.get(key) {
                None => {
                    let event = match f.check {
                        CheckId::SlowCheck => AlertKind::Breach,
                        CheckId::CheckFailed => AlertKind::CheckFailed,
                        _ => AlertKind::New,
                    };
                    let alert = Alert::about(event, f, at);
                    alerts.push(match event {
                        AlertKind::New => alert.with_growth(None, f),
                        _ => alert,
                    });
                }
                Some(before)
                    if f.count != before.count && f.count.is_some() && before.count.is_some() =>
                {
                    let event = if f.count > before.count {
                        AlertKind::Grew
                    } else {
                        AlertKind::Shrank
                    };
                    let mut alert = Alert::about(event, f, at);
                    alert.previous = before.count;
                    alerts.push(match event {
                        AlertKind::Grew => alert.with_growth(Some(before), f),
                        _ => alert,
                    });
                }
                Some(_) => {}
            }
        }
        // A check that could not run this time says nothing about what it
        // found before: those findings are kept, not resolved.
        let failed: std::collections::HashSet<u32> = findings
            .iter()
            .filter(|f| f.check == CheckId::CheckFailed)
            .filter_map(|f| f.plan_check)
            .collect();
        for (key, before) in &self.known {
            if now.contains_key(key) {
                continue;
            }
            let unknown = before.check != CheckId::CheckFailed
                && before.plan_check.is_some_and(|c| failed.contains(&c));
            if unknown {
                now.insert(key.clone(), before.clone());
                continue;
            }
            let mut alert = Alert::about(AlertKind::Resolved, before, at);
            alert.previous = before.count;
            alert.count = None;
            alerts.push(alert);
        }
        self.known = now;
        alerts
    }

    /// An alert when the connection's state changes.
    pub fn connection(&mut self, result: &Result<(), String>, at: SystemTime) -> Option<Alert> {
        match (result, self.unreachable_since) {
            (Err(e), None) => {
                self.unreachable_since = Some(at);
                let mut alert = Alert::connection(
                    AlertKind::Unreachable,
                    format!("the database cannot be reached: {e}"),
                    at,
                );
                alert.cause = Some(e.clone());
                Some(alert)
            }
            (Ok(()), Some(since)) => {
                self.unreachable_since = None;
                let away = at.duration_since(since).unwrap_or_default().as_secs_f64();
                let mut alert = Alert::connection(
                    AlertKind::Recovered,
                    format!("the database answers again, after {away:.1} s"),
                    at,
                );
                alert.duration_s = Some((away * 10.0).round() / 10.0);
                Some(alert)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Subject;

    fn finding(check: CheckId, name: &str, count: Option<u64>) -> Finding {
        let subject = Subject::Named { name: name.into() };
        let mut f = Finding::new(
            check,
            Severity::Error,
            &subject,
            &format!("{check}:{name}"),
            "m".into(),
        );
        f.count = count;
        f
    }

    /// An orphans finding of `buckets` (minute start, rows) and `untimed`
    /// rows without a time.
    fn timed(buckets: &[(&str, u64)], untimed: u64) -> Finding {
        let count = buckets.iter().map(|(_, n)| n).sum::<u64>() + untimed;
        let mut f = finding(CheckId::Orphans, "a", Some(count));
        let timeline = crate::timeline::Timeline {
            column: "created_at".into(),
            chosen: "detected",
            first_at: Some(format!("{}:17", buckets[0].0)),
            last_at: None,
            rows: count,
            untimed,
            unit: crate::timeline::Unit::Minute,
            buckets: buckets
                .iter()
                .map(|(b, n)| (format!("{b}:00"), *n))
                .collect(),
        };
        f.facts = Some(Box::new(crate::timeline::Facts {
            timeline: Some(timeline),
            ..Default::default()
        }));
        f
    }

    #[test]
    fn says_how_many_rows_are_new_and_when_the_first_was_written() {
        let at = SystemTime::UNIX_EPOCH;
        let mut w = Watcher::default();
        let new = w.after_run(
            &[timed(
                &[("2026-03-14 02:00", 4), ("2026-03-14 02:01", 2)],
                0,
            )],
            at,
        );
        assert_eq!(new[0].new_rows, Some(6));
        assert_eq!(new[0].first_new_at.as_deref(), Some("2026-03-14 02:00:17"));
        assert!(
            new[0]
                .message
                .ends_with("(the first written at 2026-03-14 02:00:17 UTC)")
        );
        // Two rows gone from 02:00, five new in 02:01 and 02:09: five new, not
        // the net three, the first of them in the minute of 02:01.
        let grew = w.after_run(
            &[timed(
                &[
                    ("2026-03-14 02:00", 2),
                    ("2026-03-14 02:01", 4),
                    ("2026-03-14 02:09", 3),
                ],
                0,
            )],
            at,
        );
        assert_eq!(
            (grew[0].event, grew[0].new_rows),
            (AlertKind::Grew, Some(5))
        );
        assert_eq!(grew[0].first_new_at.as_deref(), Some("2026-03-14 02:01:00"));
        assert!(
            grew[0]
                .message
                .ends_with("(5 new; the first written in the minute of 2026-03-14 02:01:00 UTC)"),
            "{}",
            grew[0].message
        );
        // Without timelines: the net growth, and no time.
        let mut w = Watcher::default();
        w.after_run(&[finding(CheckId::Orphans, "a", Some(3))], at);
        let grew = w.after_run(&[finding(CheckId::Orphans, "a", Some(5))], at);
        assert_eq!(
            (grew[0].new_rows, grew[0].first_new_at.clone()),
            (Some(2), None)
        );
    }

    #[test]
    fn alerts_on_change_only() {
        let at = SystemTime::UNIX_EPOCH;
        let mut w = Watcher::default();
        let events = |alerts: Vec<Alert>| {
            alerts
                .into_iter()
                .map(|a| (a.event, a.key.unwrap(), a.count, a.previous))
                .collect::<Vec<_>>()
        };
        let first = w.after_run(
            &[
                finding(CheckId::Orphans, "a", Some(3)),
                finding(CheckId::SlowCheck, "s", None),
                finding(CheckId::CheckFailed, "f", None),
            ],
            at,
        );
        assert_eq!(
            events(first),
            vec![
                (AlertKind::CheckFailed, "check_failed:f".into(), None, None),
                (AlertKind::New, "orphans:a".into(), Some(3), None),
                (AlertKind::Breach, "slow_check:s".into(), None, None),
            ]
        );
        assert!(
            w.after_run(
                &[
                    finding(CheckId::Orphans, "a", Some(3)),
                    finding(CheckId::SlowCheck, "s", None),
                    finding(CheckId::CheckFailed, "f", None)
                ],
                at
            )
            .is_empty()
        );
        let second = w.after_run(&[finding(CheckId::Orphans, "a", Some(5))], at);
        assert_eq!(
            events(second),
            vec![
                (AlertKind::Grew, "orphans:a".into(), Some(5), Some(3)),
                (AlertKind::Resolved, "check_failed:f".into(), None, None),
                (AlertKind::Resolved, "slow_check:s".into(), None, None),
            ]
        );
        let third = w.after_run(&[finding(CheckId::Orphans, "a", Some(1))], at);
        assert_eq!(
            events(third),
            vec![(AlertKind::Shrank, "orphans:a".into(), Some(1), Some(5))]
        );
        let last = w.after_run(&[], at);
        assert_eq!(
            events(last),
            vec![(AlertKind::Resolved, "orphans:a".into(), None, Some(1))]
        );
    }

    /// A check that fails does not resolve what it found before; once it
    /// runs again, only a real change is said.
    #[test]
    fn a_failed_check_keeps_its_findings() {
        let at = SystemTime::UNIX_EPOCH;
        let mut w = Watcher::default();
        let subject = crate::findings::Subject::Named { name: "t".into() };
        let mut orphans = Finding::new(
            CheckId::Orphans,
            Severity::Error,
            &subject,
            "orphans:t",
            "1 row".into(),
        );
        orphans.count = Some(1);
        orphans.plan_check = Some(3);
        let mut failed = Finding::new(
            CheckId::CheckFailed,
            Severity::Error,
            &subject,
            "check_failed:orphans:t",
            "lock timeout".into(),
        );
        failed.plan_check = Some(3);
        w.after_run(std::slice::from_ref(&orphans), at);
        let during = w.after_run(std::slice::from_ref(&failed), at);
        assert_eq!(
            during.iter().map(|a| a.event).collect::<Vec<_>>(),
            [AlertKind::CheckFailed],
            "{during:?}"
        );
        let after = w.after_run(std::slice::from_ref(&orphans), at);
        assert_eq!(
            after
                .iter()
                .map(|a| (a.event, a.key.clone()))
                .collect::<Vec<_>>(),
            [(
                AlertKind::Resolved,
                Some("check_failed:orphans:t".to_string())
            )]
        );
    }

    #[test]
    fn connection_changes_alert_once() {
        let at = SystemTime::UNIX_EPOCH;
        let mut w = Watcher::default();
        assert!(w.connection(&Ok(()), at).is_none());
        let lost = w.connection(&Err("refused".into()), at).unwrap();
        assert_eq!(lost.event, AlertKind::Unreachable);
        assert_eq!(lost.cause.as_deref(), Some("refused"));
        assert!(w.connection(&Err("refused".into()), at).is_none());
        let back = w
            .connection(&Ok(()), at + std::time::Duration::from_secs(12))
            .unwrap();
        assert_eq!(back.event, AlertKind::Recovered);
        assert_eq!(back.duration_s, Some(12.0));
    }
}
