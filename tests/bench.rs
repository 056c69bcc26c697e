//! `tether bench` on the demo database of each engine: every category is there,
//! with its statistics (the structure, not the timings).

mod common;

use common::TestDb;
use std::process::Command;

fn bench_json(url: &str, extra: &[&str]) -> serde_json::Value {
    let demo = Command::new(env!("CARGO_BIN_EXE_tether"))
        .env_remove("DATABASE_URL")
        .args(["demo", "--url", url, "--scale", "2000"])
        .output()
        .unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .env_remove("DATABASE_URL")
        .args([
            "bench",
            "--url",
            url,
            "-p",
            "discovery-flow",
            "--iterations",
            "4",
            "--warmup",
            "1",
            "--format",
            "json",
        ])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["exceeded"].as_bool(),
        Some(out.status.code() == Some(1)),
        "exit 1 exactly when a threshold is exceeded"
    );
    json
}

fn assert_stats(json: &serde_json::Value, category: &str, threshold: u64) {
    let s = &json["categories"][category];
    assert_eq!(s["iterations"], 4, "{category}: {s}");
    for key in ["min_ms", "p50_ms", "p95_ms", "max_ms"] {
        assert!(
            s[key].as_f64().is_some_and(|v| v >= 0.0),
            "{category}.{key}: {s}"
        );
    }
    assert!(
        s["min_ms"].as_f64() <= s["p50_ms"].as_f64()
            && s["p50_ms"].as_f64() <= s["p95_ms"].as_f64()
    );
    assert!(s["p95_ms"].as_f64() <= s["max_ms"].as_f64());
    assert_eq!(s["threshold_ms"], threshold, "{category}");
    assert_eq!(s["errors"], 0, "{category}: {s}");
    assert!(s["exceeded"].is_boolean() && s["what"].is_string());
}

fn assert_every_category(json: &serde_json::Value, engine: &str) {
    assert_eq!(json["database"]["engine"], engine);
    for (category, threshold) in [
        ("simple", 500),
        ("join", 1000),
        ("constraint", 100),
        ("aggregation", 300),
        ("batch", 2000),
    ] {
        assert_stats(json, category, threshold);
    }
    let c = &json["categories"]["concurrent"];
    assert_eq!(c["sessions"], 4);
    assert_eq!(c["operations"], 16);
    assert_eq!(c["deadlocks"], 0);
    assert_eq!(c["timeouts"], 0);
    assert_eq!(c["stats"]["iterations"], 16);
}

#[test]
fn sqlite() {
    let db = TestDb::sqlite();
    let json = bench_json(&format!("{}?mode=rwc", db.url), &["--allow-writes"]);
    assert_every_category(&json, "sqlite");
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres() {
    let db = TestDb::postgres().await;
    let url = db.url.clone();
    let json = tokio::task::spawn_blocking(move || bench_json(&url, &["--allow-writes"]))
        .await
        .unwrap();
    assert_every_category(&json, "postgres");
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb() {
    let db = TestDb::mysql().await;
    let url = db.url.clone();
    let json = tokio::task::spawn_blocking(move || bench_json(&url, &["--allow-writes"]))
        .await
        .unwrap();
    assert_every_category(&json, "mysql");
}

#[test]
fn writes_need_allow_writes() {
    let db = TestDb::sqlite();
    let json = bench_json(&format!("{}?mode=rwc", db.url), &[]);
    assert_eq!(
        json["categories"]["batch"]["skipped"],
        "writes 1,000 rows (rolled back): pass --allow-writes"
    );
    assert_eq!(
        json["categories"]["constraint"]["skipped"],
        "writes an orphan row (rolled back): pass --allow-writes"
    );
    // The reads still run.
    for (category, threshold) in [("simple", 500), ("join", 1000), ("aggregation", 300)] {
        assert_stats(&json, category, threshold);
    }
}
