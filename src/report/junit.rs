//! JUnit XML: one test case per check; a finding fails it, a check that could
//! not run errors it.

use super::Report;
use crate::checks::CheckId;
use crate::findings::Finding;
use std::fmt::Write;

pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

fn details(findings: &[&Finding]) -> String {
    let mut text = String::new();
    for f in findings {
        let _ = writeln!(
            text,
            "{} {} {}: {}",
            f.severity,
            f.check,
            f.location(),
            f.message
        );
        for row in &f.sample {
            let _ = writeln!(text, "  {}", serde_json::Value::Object(row.clone()));
        }
        if let Some(sql) = &f.sql {
            let _ = writeln!(text, "SQL:\n{sql}");
        }
    }
    text
}

pub fn render(report: &Report) -> String {
    let plan = report.plan;
    let result = report.result;
    let mut by_check: Vec<Vec<&Finding>> = vec![Vec::new(); plan.checks.len()];
    for f in &result.findings {
        if let Some(list) = f.plan_check.and_then(|i| by_check.get_mut(i as usize)) {
            list.push(f);
        }
    }
    let cases: Vec<(String, String, Vec<&Finding>, f64)> = plan
        .checks
        .iter()
        .zip(by_check)
        .enumerate()
        .map(|(i, (check, findings))| {
            let seconds = result
                .outcomes
                .get(i)
                .and_then(|o| o.as_ref())
                .map_or(0.0, |o| o.elapsed.as_secs_f64());
            (
                check.id.as_str().to_string(),
                check.key.clone(),
                findings,
                seconds,
            )
        })
        .collect();
    // Statement-level findings (slow_check) have a case of their own each.
    let slow: Vec<&Finding> = result
        .findings
        .iter()
        .filter(|f| f.check == CheckId::SlowCheck)
        .collect();
    let failures = cases
        .iter()
        .filter(|c| c.2.iter().any(|f| f.check != CheckId::CheckFailed))
        .count()
        + slow.len();
    let errors = cases
        .iter()
        .filter(|c| c.2.iter().any(|f| f.check == CheckId::CheckFailed))
        .count();
    let total = cases.len() + slow.len();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"tether\" tests=\"{total}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{:.3}\">",
        result.elapsed.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{total}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{:.3}\">",
        xml_escape(&format!(
            "tether {}",
            plan.profile.as_deref().unwrap_or("(no profile)")
        )),
        result.elapsed.as_secs_f64()
    );
    for (class, name, findings, seconds) in &cases {
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{seconds:.3}\"",
            xml_escape(class),
            xml_escape(name)
        );
        if findings.is_empty() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        let (tag, first) = match findings.iter().find(|f| f.check == CheckId::CheckFailed) {
            Some(f) => ("error", *f),
            None => ("failure", findings[0]),
        };
        let _ = writeln!(
            out,
            "      <{tag} type=\"{}\" message=\"{}\">{}</{tag}>",
            xml_escape(first.check.as_str()),
            xml_escape(&first.message),
            xml_escape(&details(findings))
        );
        out.push_str("    </testcase>\n");
    }
    for f in slow {
        let _ = writeln!(
            out,
            "    <testcase classname=\"slow_check\" name=\"{}\" time=\"{:.3}\">\n      <failure type=\"slow_check\" message=\"{}\">{}</failure>\n    </testcase>",
            xml_escape(&f.key),
            f.elapsed_ms.unwrap_or(0.0) / 1000.0,
            xml_escape(&f.message),
            xml_escape(&details(&[f]))
        );
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
