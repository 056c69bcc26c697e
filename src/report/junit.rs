//! JUnit XML: one test case per check; a finding fails it, a check that could
//! not run errors it.

use super::Report;
use crate::checks::CheckId;
use crate::findings::Finding;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
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

/// One test case: its class and name, the findings that fail (or error) it,
/// its seconds.
struct Case<'a> {
    class: String,
    name: String,
    findings: Vec<&'a Finding>,
    seconds: f64,
}

/// A case per check, then a case per statement-level finding (slow_check).
fn cases<'a>(report: &'a Report) -> Vec<Case<'a>> {
    let (plan, result) = (report.plan, report.result);
    let mut by_check: Vec<Vec<&Finding>> = vec![Vec::new(); plan.checks.len()];
    for f in &result.findings {
        if let Some(list) = f.plan_check.and_then(|i| by_check.get_mut(i as usize)) {
            list.push(f);
        }
    }
    let mut cases: Vec<Case> = plan
        .checks
        .iter()
        .zip(by_check)
        .enumerate()
        .map(|(i, (check, findings))| Case {
            class: check.id.as_str().to_string(),
            name: check.key.clone(),
            findings,
            seconds: result
                .outcomes
                .get(i)
                .and_then(|o| o.as_ref())
                .map_or(0.0, |o| o.elapsed.as_secs_f64()),
        })
        .collect();
    cases.extend(
        result
            .findings
            .iter()
            .filter(|f| f.check == CheckId::SlowCheck)
            .map(|f| Case {
                class: "slow_check".into(),
                name: f.key.clone(),
                findings: vec![f],
                seconds: f.elapsed_ms.unwrap_or(0.0) / 1000.0,
            }),
    );
    cases
}

/// The report as JUnit XML, written as it is built (quick-xml escapes it;
/// characters XML 1.0 cannot carry are dropped first).
pub fn write(report: &Report, out: impl std::io::Write) -> std::io::Result<()> {
    let cases = cases(report);
    let failures = cases
        .iter()
        .filter(|c| c.findings.iter().any(|f| f.check != CheckId::CheckFailed))
        .count();
    let errors = cases
        .iter()
        .filter(|c| c.findings.iter().any(|f| f.check == CheckId::CheckFailed))
        .count();
    let (total, failures, errors) = (
        cases.len().to_string(),
        failures.to_string(),
        errors.to_string(),
    );
    let time = format!("{:.3}", report.result.elapsed.as_secs_f64());
    let suite = format!(
        "tether {}",
        report.plan.profile.as_deref().unwrap_or("(no profile)")
    );
    let counts = [
        ("tests", total.as_str()),
        ("failures", failures.as_str()),
        ("errors", errors.as_str()),
        ("time", time.as_str()),
    ];
    let mut out = std::io::BufWriter::new(out);
    let mut writer = Writer::new_with_indent(&mut out, b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    writer
        .create_element("testsuites")
        .with_attribute(("name", "tether"))
        .with_attributes(counts)
        .write_inner_content(|w| {
            w.create_element("testsuite")
                .with_attribute(("name", xml_text(&suite).as_str()))
                .with_attributes(counts)
                .write_inner_content(|w| cases.iter().try_for_each(|case| test_case(w, case)))?;
            Ok(())
        })?;
    writer.write_indent()?;
    drop(writer);
    std::io::Write::write_all(&mut out, b"\n")?;
    std::io::Write::flush(&mut out)
}

/// One `testcase`: empty when it holds, else a `failure` (or an `error`,
/// when a check could not run) carrying every finding.
fn test_case<W: std::io::Write>(w: &mut Writer<W>, case: &Case) -> std::io::Result<()> {
    let time = format!("{:.3}", case.seconds);
    let element = w.create_element("testcase").with_attributes([
        ("classname", xml_text(&case.class).as_str()),
        ("name", xml_text(&case.name).as_str()),
        ("time", time.as_str()),
    ]);
    if case.findings.is_empty() {
        element.write_empty()?;
        return Ok(());
    }
    let (tag, first) = match case
        .findings
        .iter()
        .find(|f| f.check == CheckId::CheckFailed)
    {
        Some(f) => ("error", *f),
        None => ("failure", case.findings[0]),
    };
    element.write_inner_content(|w| {
        w.create_element(tag)
            .with_attributes([
                ("type", first.check.as_str()),
                ("message", xml_text(&first.message).as_str()),
            ])
            .write_text_content(BytesText::new(&xml_text(&details(&case.findings))))?;
        Ok(())
    })?;
    Ok(())
}

/// `text` without the characters XML 1.0 cannot carry (controls other than
/// tab, line feed and carriage return).
fn xml_text(text: &str) -> String {
    text.chars()
        .filter(|&c| (c as u32) >= 0x20 || matches!(c, '\n' | '\r' | '\t'))
        .collect()
}

/// The report as JUnit XML text.
pub fn render(report: &Report) -> String {
    let mut out = Vec::new();
    write(report, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("UTF-8")
}
