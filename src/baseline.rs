//! Baselines: findings accepted until they are fixed. A run compared with a
//! baseline reports only findings that are new or worse, and lists the
//! accepted ones that are gone (resolved).

use crate::findings::Finding;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// One accepted finding: its stable key and the count accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub key: String,
    pub check: String,
    pub location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub tether: String,
    pub findings: Vec<Accepted>,
}

/// What a comparison with a baseline left.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Compared {
    /// New findings, and accepted ones whose count grew.
    pub reported: Vec<Finding>,
    /// Findings the baseline accepts as they are.
    pub accepted: usize,
    /// Accepted findings that are gone.
    pub resolved: Vec<Accepted>,
}

impl Baseline {
    pub fn of(findings: &[Finding]) -> Baseline {
        let mut by_key: BTreeMap<String, Accepted> = BTreeMap::new();
        for f in findings {
            by_key.insert(
                f.key.clone(),
                Accepted {
                    key: f.key.clone(),
                    check: f.check.as_str().to_string(),
                    location: f.location(),
                    count: f.count,
                },
            );
        }
        Baseline {
            tether: env!("CARGO_PKG_VERSION").to_string(),
            findings: by_key.into_values().collect(),
        }
    }

    pub fn load(path: &Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read baseline {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("baseline {}: {e}", path.display()))
    }

    pub fn write(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).expect("baselines serialise") + "\n";
        std::fs::write(path, text)
            .map_err(|e| format!("cannot write baseline {}: {e}", path.display()))
    }

    /// Is this finding accepted as it is (same key, count not above the accepted one)?
    pub fn accepts(&self, finding: &Finding) -> bool {
        self.findings.iter().any(|a| {
            a.key == finding.key
                && match (finding.count, a.count) {
                    (Some(now), Some(accepted)) => now <= accepted,
                    (Some(_), None) => false,
                    (None, _) => true,
                }
        })
    }

    pub fn compare(&self, findings: Vec<Finding>) -> Compared {
        let resolved = self
            .findings
            .iter()
            .filter(|a| !findings.iter().any(|f| f.key == a.key))
            .cloned()
            .collect();
        let (accepted, reported): (Vec<Finding>, Vec<Finding>) =
            findings.into_iter().partition(|f| self.accepts(f));
        Compared {
            reported,
            accepted: accepted.len(),
            resolved,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{CheckId, Severity};
    use crate::findings::Subject;

    fn finding(name: &str, count: Option<u64>) -> Finding {
        let subject = Subject::Named { name: name.into() };
        let mut f = Finding::new(
            CheckId::Custom,
            Severity::Error,
            &subject,
            &format!("custom:{name}"),
            "m".into(),
        );
        f.count = count;
        f
    }

    #[test]
    fn reports_only_new_or_worse_and_lists_resolved() {
        let baseline = Baseline::of(&[
            finding("a", Some(3)),
            finding("b", Some(1)),
            finding("gone", None),
        ]);
        let compared = baseline.compare(vec![
            finding("a", Some(2)),
            finding("b", Some(5)),
            finding("c", None),
        ]);
        let reported: Vec<&str> = compared.reported.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(reported, ["custom:b", "custom:c"]);
        assert_eq!(compared.accepted, 1);
        assert_eq!(
            compared
                .resolved
                .iter()
                .map(|a| a.key.as_str())
                .collect::<Vec<_>>(),
            ["custom:gone"]
        );
    }
}
