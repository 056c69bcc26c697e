//! Every check id, on a database built with known faults, on SQLite and on a real
//! PostgreSQL server: exact finding sets (check, location, count), exact sample
//! rows, and the SQL forms the brief promises (NOT EXISTS or one shared scan,
//! never NOT IN).
//!
//! The fixture uses awkward identifiers on purpose: spaces (`"Kunden Ä"`,
//! `"Kd Nr"`), a reserved word (`"order"`), an embedded double quote
//! (`"Quote""Col"`), mixed case (`"Audit"`) and non-ASCII letters (`Ä`). A
//! check that forgot to quote one of them would fail and show up as
//! `check_failed`, which the exact comparisons below do not allow.

mod common;

use common::{TestDb, check, expect, summarize};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;
use tether::checks::plan::{Plan, PlanOptions, Work};
use tether::checks::{CheckId, Severity};
use tether::findings::Finding;
use tether::model::Action;
use tether::relationships::Source;
use tether::runner::RunResult;

/// The profile both engines run with. Line numbers matter: `check_failed`
/// findings for profile problems name `test.toml:LINE:COLUMN`.
const PROFILE: &str = r#"name = "checks fixture"

[tenant]
columns = ["tenant"]
exempt = ["regions", "phantoms"]

# High thresholds, so that only the assertions below (with their own
# threshold_ms) can be slow, whatever the load on the machine.
[thresholds]
simple = 600000
join = 600000
constraint = 600000
batch = 600000
aggregation = 600000

[[relationship]]
child = "stores"
columns = ["country", "region_code"]
parent = "regions"
parent_columns = ["country", "code"]
on_delete = "cascade"

[[relationship]]
child = "invoices"
columns = ["order_id"]
parent = "order"

[[relationship]]
child = "ghosts"
columns = ["order_id"]
parent = "order"

[[relationship]]
child = "invoices"
columns = ["nope"]
parent = "order"

[[path]]
name = "invoice customer"
table = "invoices"
column = "Kd Nr"
via = ["order_id"]

[[path]]
name = "ghost path"
table = "invoices"
column = "Kd Nr"
via = ["Kd Nr"]

[[assertion]]
name = "orders tagged x"
severity = "warning"
sql = '''SELECT id, "Quote""Col" FROM "order" WHERE "Quote""Col" = 'x' ORDER BY id'''

[[assertion]]
name = "no negative employees"
sql = "SELECT id FROM employees WHERE id < 0"

[[assertion]]
name = "broken assertion"
sql = "SELECT FROM WHERE nothing at all"

# pg_sleep must really run: with a constant `WHERE false` PostgreSQL folds the
# scan away, so the filter is a volatile one that is never true.
[[assertion]]
name = "slow on postgres"
threshold_ms = 50
sql.postgres = "SELECT 1 FROM pg_sleep(0.2) AS s WHERE random() < 0"

[[assertion]]
name = "slow on sqlite"
threshold_ms = 1
sql.sqlite = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) SELECT i FROM n WHERE i < 0"
"#;

/// Where the two broken `[[relationship]]` entries of `PROFILE` start.
const GHOSTS: &str = "profile test.toml:28:1: relationship ghosts(order_id) → order";
const NOPE: &str = "profile test.toml:33:1: relationship invoices(nope) → order";
const GHOST_PATH: &str = "profile test.toml:44:1: path ghost path";
/// `tenant.exempt` names a table the database lacks (the position of the name).
const PHANTOM_EXEMPT: &str = "profile test.toml:5:22: tenant.exempt";

/// SQLite: run by the harness with `foreign_keys` off, so every orphan is written
/// under a declared constraint.
const SQLITE_FIXTURE: &str = r#"
-- 1. Awkward names; 3 orphans, 2 NULL references; no index on "Kd Nr".
CREATE TABLE "Kunden Ä" ("Kd Nr" INTEGER PRIMARY KEY, tenant TEXT);
CREATE TABLE "order" (
    id INTEGER PRIMARY KEY,
    "Kd Nr" INTEGER REFERENCES "Kunden Ä" ("Kd Nr"),
    tenant TEXT,
    "Quote""Col" TEXT
);
INSERT INTO "Kunden Ä" VALUES (1, 't1'), (2, 't2'), (3, NULL);
INSERT INTO "order" VALUES
    (1, 1, 't1', 'x'),      -- fine
    (2, 2, 't1', 'x'),      -- tenant differs from its customer's (t2)
    (3, 3, 't1', NULL),     -- customer's tenant is NULL: not a mismatch
    (4, NULL, 't1', NULL),  -- NULL reference: not an orphan
    (5, NULL, NULL, NULL),  -- NULL reference; tenant missing
    (6, 100, 't1', NULL),   -- orphan
    (7, 101, NULL, NULL),   -- orphan; tenant missing
    (8, 102, 't2', NULL);   -- orphan

-- 2. Composite key, indexed in permuted order; 2 orphans, 2 partly NULL.
CREATE TABLE regions (country TEXT, code TEXT, tenant TEXT, PRIMARY KEY (country, code));
CREATE TABLE stores (
    id INTEGER PRIMARY KEY,
    country TEXT,
    region_code TEXT,
    tenant TEXT,
    CONSTRAINT stores_region_fkey FOREIGN KEY (country, region_code)
        REFERENCES regions (country, code) ON DELETE NO ACTION
);
CREATE INDEX stores_region_idx ON stores (region_code, country);
-- regions is tenant-exempt: its NULL tenant and the stores' differing tenants
-- must not be reported.
INSERT INTO regions VALUES ('DE', 'BY', NULL), ('DE', 'BE', 'r'), ('AT', 'W', 'r');
INSERT INTO stores VALUES
    (1, 'DE', 'BY', 't1'),
    (2, 'AT', 'W', 't1'),
    (3, 'DE', 'W', 't1'),   -- orphan: both values exist, the pair does not
    (4, 'FR', 'P', 't1'),   -- orphan
    (5, 'DE', NULL, 't1'),  -- partly NULL: not an orphan (MATCH SIMPLE)
    (6, NULL, NULL, 't1');  -- NULL: not an orphan

-- 3. Self-reference with only a partial index; 2 orphans.
CREATE TABLE employees (id INTEGER PRIMARY KEY, manager_id INTEGER REFERENCES employees (id));
CREATE INDEX employees_manager_partial ON employees (manager_id) WHERE manager_id IS NOT NULL;
INSERT INTO employees VALUES (1, NULL), (2, 1), (3, 2), (4, 99), (5, 98);

-- 5. (PostgreSQL partitions it.) 3 orphans, indexed.
CREATE TABLE measurements (
    id INTEGER,
    store_id INTEGER REFERENCES stores (id),
    at DATE,
    PRIMARY KEY (id, at)
);
CREATE INDEX measurements_store_idx ON measurements (store_id);
INSERT INTO measurements VALUES
    (1, 1, '2023-05-01'), (2, 50, '2023-06-01'), (3, 2, '2024-02-01'),
    (4, 51, '2024-03-01'), (5, 52, '2024-04-01'), (6, NULL, '2024-05-01');

-- 6. A relationship only the profile knows; 1 orphan; a path.
CREATE TABLE invoices (id INTEGER PRIMARY KEY, order_id INTEGER, "Kd Nr" INTEGER, tenant TEXT);
INSERT INTO invoices VALUES
    (1, 1, 1, 't1'),      -- path agrees
    (2, 2, 1, 't1'),      -- path disagrees: order 2 belongs to customer 2
    (3, 1, NULL, 't1'),   -- NULL: not a path mismatch
    (4, 4, 5, 't1'),      -- its order has no customer: not a path mismatch
    (5, 999, 1, 't1');    -- orphan

-- 7. An implied relationship (employee_id ↔ employees.id); 1 orphan.
CREATE TABLE tickets (id INTEGER PRIMARY KEY, employee_id INTEGER);
INSERT INTO tickets VALUES (1, 1), (2, 5), (3, 77), (4, NULL);
"#;

/// PostgreSQL: the same schema and data, with the faults written the ways
/// production databases get them (NOT VALID, disabled triggers, replication
/// role), plus a non-default schema and a partitioned table.
const POSTGRES_FIXTURE: &str = r#"
-- 1. The FK is added NOT VALID after the orphans.
CREATE TABLE "Kunden Ä" ("Kd Nr" integer PRIMARY KEY, tenant text);
CREATE TABLE "order" (
    id integer PRIMARY KEY,
    "Kd Nr" integer,
    tenant text,
    "Quote""Col" text
);
INSERT INTO "Kunden Ä" VALUES (1, 't1'), (2, 't2'), (3, NULL);
INSERT INTO "order" VALUES
    (1, 1, 't1', 'x'),
    (2, 2, 't1', 'x'),
    (3, 3, 't1', NULL),
    (4, NULL, 't1', NULL),
    (5, NULL, NULL, NULL),
    (6, 100, 't1', NULL),
    (7, 101, NULL, NULL),
    (8, 102, 't2', NULL);
ALTER TABLE "order" ADD CONSTRAINT "order → Kunden"
    FOREIGN KEY ("Kd Nr") REFERENCES "Kunden Ä" ("Kd Nr") NOT VALID;

-- 2. Orphans written with the child's triggers disabled, left disabled.
CREATE TABLE regions (country text, code text, tenant text, PRIMARY KEY (country, code));
CREATE TABLE stores (
    id integer PRIMARY KEY,
    country text,
    region_code text,
    tenant text,
    CONSTRAINT stores_region_fkey FOREIGN KEY (country, region_code)
        REFERENCES regions (country, code) ON DELETE NO ACTION
);
CREATE INDEX stores_region_idx ON stores (region_code, country);
INSERT INTO regions VALUES ('DE', 'BY', NULL), ('DE', 'BE', 'r'), ('AT', 'W', 'r');
INSERT INTO stores VALUES
    (1, 'DE', 'BY', 't1'), (2, 'AT', 'W', 't1'), (5, 'DE', NULL, 't1'), (6, NULL, NULL, 't1');
ALTER TABLE stores DISABLE TRIGGER ALL;
INSERT INTO stores VALUES (3, 'DE', 'W', 't1'), (4, 'FR', 'P', 't1');

-- 3. Self-reference, partial index only; orphans under the replica role, so the
-- constraint stays valid and enabled: only its violations show it was bypassed.
CREATE TABLE employees (id integer PRIMARY KEY, manager_id integer REFERENCES employees (id));
CREATE INDEX employees_manager_partial ON employees (manager_id) WHERE manager_id IS NOT NULL;
INSERT INTO employees VALUES (1, NULL), (2, 1), (3, 2);

-- 5. Partitioned, created after stores' triggers were disabled (so its own
-- triggers on stores are enabled), indexed on the parent.
CREATE TABLE measurements (
    id integer,
    store_id integer REFERENCES stores (id),
    at date,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE measurements_2023 PARTITION OF measurements
    FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE measurements_2024 PARTITION OF measurements
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX measurements_store_idx ON measurements (store_id);
INSERT INTO measurements VALUES
    (1, 1, '2023-05-01'), (3, 2, '2024-02-01'), (6, NULL, '2024-05-01');

SET session_replication_role = replica;
INSERT INTO employees VALUES (4, 99), (5, 98);
INSERT INTO measurements VALUES
    (2, 50, '2023-06-01'), (4, 51, '2024-03-01'), (5, 52, '2024-04-01');
SET session_replication_role = DEFAULT;

-- 4. A mixed-case schema; the FK is NOT VALID.
CREATE SCHEMA "Audit";
CREATE TABLE "Audit".events (id integer PRIMARY KEY, order_id integer);
CREATE INDEX events_order_idx ON "Audit".events (order_id);
INSERT INTO "Audit".events VALUES (1, 1), (2, 500), (3, NULL);
ALTER TABLE "Audit".events ADD CONSTRAINT events_order_fkey
    FOREIGN KEY (order_id) REFERENCES public."order" (id) NOT VALID;

-- 6.
CREATE TABLE invoices (id integer PRIMARY KEY, order_id integer, "Kd Nr" integer, tenant text);
INSERT INTO invoices VALUES
    (1, 1, 1, 't1'), (2, 2, 1, 't1'), (3, 1, NULL, 't1'), (4, 4, 5, 't1'), (5, 999, 1, 't1');

-- 7.
CREATE TABLE tickets (id integer PRIMARY KEY, employee_id integer);
INSERT INTO tickets VALUES (1, 1), (2, 5), (3, 77), (4, NULL);
"#;

const ORDER_FK: &str = "order(Kd Nr) → Kunden Ä(Kd Nr)";
const STORES_FK: &str = "stores(country, region_code) → regions(country, code)";
const EMPLOYEES_FK: &str = "employees(manager_id) → employees(id)";
const MEASUREMENTS_FK: &str = "measurements(store_id) → stores(id)";
const INVOICES_REL: &str = "invoices(order_id) → order(id)";
const TICKETS_REL: &str = "tickets(employee_id) → employees(id)";
const EVENTS_FK: &str = "Audit.events(order_id) → order(id)";

/// Reads, plans and runs, failing (instead of hanging) if anything loops.
async fn run(db: &TestDb, profile: Option<&str>, options: PlanOptions) -> (Plan, RunResult) {
    tokio::time::timeout(Duration::from_secs(120), check(&db.url, profile, options))
        .await
        .expect("the checks finish")
}

/// The one finding with this check id and location.
fn finding<'a>(result: &'a RunResult, check: &str, location: &str) -> &'a Finding {
    let found: Vec<&Finding> = result
        .findings
        .iter()
        .filter(|f| f.check.as_str() == check && f.location() == location)
        .collect();
    assert_eq!(found.len(), 1, "{check} at {location}: {found:#?}");
    found[0]
}

/// Sample rows as JSON texts (column order kept), to compare as a set: the
/// sample query has no ORDER BY.
fn sample(f: &Finding) -> BTreeSet<String> {
    f.sample
        .iter()
        .map(|row| serde_json::to_string(row).unwrap())
        .collect()
}

/// What each finding says, to show when a comparison fails.
fn messages(result: &RunResult) -> Vec<String> {
    result
        .findings
        .iter()
        .map(|f| format!("{} {}: {}", f.check, f.location(), f.message))
        .collect()
}

fn rows(values: &[Value]) -> BTreeSet<String> {
    values.iter().map(|v| v.to_string()).collect()
}

fn assert_sample(result: &RunResult, check: &str, location: &str, expected: &[Value]) {
    let f = finding(result, check, location);
    assert_eq!(sample(f), rows(expected), "sample of {check} at {location}");
}

/// Properties every run of the fixture must have, whatever the engine.
fn assert_common(plan: &Plan, result: &RunResult, expected_len: usize) {
    // The set comparison would hide a finding reported twice.
    assert_eq!(
        result.findings.len(),
        expected_len,
        "duplicate findings: {:#?}",
        result.findings
    );
    assert_eq!(result.summary().checks_run, plan.checks.len());
    assert!(
        result.outcomes.iter().all(|o| o.is_some()),
        "every check is decided"
    );

    // SQL forms: anti-joins are NOT EXISTS (standalone) or a shared LEFT JOIN
    // scan; NOT IN never appears.
    for f in &result.findings {
        for sql in [&f.sql, &f.sample_sql].into_iter().flatten() {
            assert!(!sql.to_uppercase().contains("NOT IN"), "{sql}");
        }
        if f.check == CheckId::Orphans {
            let sql = f.sql.as_deref().expect("orphans carry their SQL");
            assert!(
                sql.contains("NOT EXISTS")
                    || (sql.contains("LEFT JOIN") && sql.contains("count(CASE WHEN")),
                "{sql}"
            );
            let sample_sql = f.sample_sql.as_deref().expect("and their sample SQL");
            assert!(sample_sql.contains("NOT EXISTS"), "{sample_sql}");
        }
    }
    let order = finding(result, "orphans", ORDER_FK);
    let sql = order.sql.as_deref().unwrap();
    assert!(sql.contains(r#"."Kunden Ä""#), "{sql}");
    assert!(sql.contains(r#"."order""#), "{sql}");
    assert!(sql.contains(r#""Kd Nr""#), "{sql}");

    // Samples: the child's key and the dangling reference values, as text.
    assert_sample(
        result,
        "orphans",
        ORDER_FK,
        &[
            json!({"id": "6", "Kd Nr": "100"}),
            json!({"id": "7", "Kd Nr": "101"}),
            json!({"id": "8", "Kd Nr": "102"}),
        ],
    );
    assert_sample(
        result,
        "orphans",
        STORES_FK,
        &[
            json!({"id": "3", "country": "DE", "region_code": "W"}),
            json!({"id": "4", "country": "FR", "region_code": "P"}),
        ],
    );
    assert_sample(
        result,
        "orphans",
        EMPLOYEES_FK,
        &[
            json!({"id": "4", "manager_id": "99"}),
            json!({"id": "5", "manager_id": "98"}),
        ],
    );
    assert_sample(
        result,
        "orphans",
        MEASUREMENTS_FK,
        &[
            json!({"id": "2", "at": "2023-06-01", "store_id": "50"}),
            json!({"id": "4", "at": "2024-03-01", "store_id": "51"}),
            json!({"id": "5", "at": "2024-04-01", "store_id": "52"}),
        ],
    );
    assert_sample(
        result,
        "orphans",
        INVOICES_REL,
        &[json!({"id": "5", "order_id": "999"})],
    );
    assert_sample(
        result,
        "orphans",
        TICKETS_REL,
        &[json!({"id": "3", "employee_id": "77"})],
    );
    assert_sample(
        result,
        "tenant_missing",
        "order.tenant",
        &[
            json!({"id": "5", "tenant": null}),
            json!({"id": "7", "tenant": null}),
        ],
    );
    assert_sample(
        result,
        "tenant_missing",
        "Kunden Ä.tenant",
        &[json!({"Kd Nr": "3", "tenant": null})],
    );
    assert_sample(
        result,
        "tenant_mismatch",
        &format!("{ORDER_FK} [tenant]"),
        &[json!({"id": "2", "Kd Nr": "2", "tenant": "t1", "Kunden Ä.tenant": "t2"})],
    );
    assert_sample(
        result,
        "path_mismatch",
        "invoices: invoice customer",
        &[json!({"id": "2", "order_id": "2", "Kd Nr": "1", "order.Kd Nr": "2"})],
    );

    // The delete rule names both rules and the constraint.
    let rule = finding(result, "fk_delete_rule", STORES_FK);
    assert_eq!(rule.expected, Some(Action::Cascade));
    assert_eq!(rule.actual, Some(Action::NoAction));
    assert_eq!(rule.constraint.as_deref(), Some("stores_region_fkey"));
    assert_eq!(rule.severity, Severity::Error);

    // A custom assertion keeps the profile's severity and its rows.
    let custom = finding(result, "custom", "orders tagged x");
    assert_eq!(custom.severity, Severity::Warning);
    assert_eq!(
        sample(custom),
        rows(&[
            json!({"id": 1, "Quote\"Col": "x"}),
            json!({"id": 2, "Quote\"Col": "x"}),
        ])
    );

    assert_eq!(
        finding(result, "implied_fk", TICKETS_REL).severity,
        Severity::Info
    );
    assert_eq!(
        finding(result, "fk_unindexed", EMPLOYEES_FK).severity,
        Severity::Warning
    );
    let proof = finding(result, "fk_not_enforced", EMPLOYEES_FK);
    assert_eq!(proof.severity, Severity::Warning);
    assert_eq!(proof.count, Some(2));

    // Every check ran; the ones without findings report zero rows, which proves
    // they ran (a relationship without orphans, a tenant column without gaps).
    let zero = |key: &str| {
        let i = plan
            .checks
            .iter()
            .position(|c| c.key == key)
            .unwrap_or_else(|| panic!("no check {key}"));
        assert_eq!(
            result.outcomes[i].as_ref().and_then(|o| o.count),
            Some(0),
            "{key}"
        );
    };
    zero("tenant_missing:stores.tenant");
    zero("tenant_missing:invoices.tenant");
    zero("tenant_mismatch:invoices(order_id) → order(id) [tenant]");
    zero("custom:no negative employees");
    // Exempt tables are not checked at all.
    for c in &plan.checks {
        if matches!(c.id, CheckId::TenantMissing | CheckId::TenantMismatch) {
            assert!(
                !c.key.contains("regions"),
                "{} checks an exempt table",
                c.key
            );
        }
    }
}

/// The relationships the plan knows, each once, as (arrow, source, in profile).
fn relationships(plan: &Plan) -> Vec<(String, Source, bool)> {
    let mut out: Vec<_> = plan
        .relationships
        .iter()
        .map(|r| (r.label(&plan.schema).arrow(), r.source, r.in_profile))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn expected_relationships(postgres: bool) -> Vec<(String, Source, bool)> {
    let mut out = vec![
        (EMPLOYEES_FK.to_string(), Source::Constraint, false),
        (INVOICES_REL.to_string(), Source::Profile, true),
        (MEASUREMENTS_FK.to_string(), Source::Constraint, false),
        (ORDER_FK.to_string(), Source::Constraint, false),
        (STORES_FK.to_string(), Source::Constraint, true),
        (TICKETS_REL.to_string(), Source::Implied, false),
    ];
    if postgres {
        out.push((EVENTS_FK.to_string(), Source::Constraint, false));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn every_check_on_sqlite() {
    let db = TestDb::sqlite();
    db.exec(SQLITE_FIXTURE).await;
    let (plan, result) = run(&db, Some(PROFILE), PlanOptions::default()).await;

    let expected = expect(&[
        // 1. SQLite cannot tell from its catalog that foreign_keys was off when
        //    the rows were written: the orphans prove it.
        ("orphans", ORDER_FK, Some(3)),
        ("fk_not_enforced", ORDER_FK, Some(3)),
        ("fk_unindexed", ORDER_FK, None),
        ("tenant_missing", "Kunden Ä.tenant", Some(1)),
        ("tenant_missing", "order.tenant", Some(2)),
        (
            "tenant_mismatch",
            "order(Kd Nr) → Kunden Ä(Kd Nr) [tenant]",
            Some(1),
        ),
        // 2.
        ("orphans", STORES_FK, Some(2)),
        ("fk_not_enforced", STORES_FK, Some(2)),
        ("fk_delete_rule", STORES_FK, None),
        // 3.
        ("orphans", EMPLOYEES_FK, Some(2)),
        ("fk_not_enforced", EMPLOYEES_FK, Some(2)),
        ("fk_unindexed", EMPLOYEES_FK, None),
        // 5.
        ("orphans", MEASUREMENTS_FK, Some(3)),
        ("fk_not_enforced", MEASUREMENTS_FK, Some(3)),
        // 6.
        ("fk_missing", INVOICES_REL, None),
        ("orphans", INVOICES_REL, Some(1)),
        // 7.
        ("implied_fk", TICKETS_REL, None),
        ("orphans", TICKETS_REL, Some(1)),
        // 9.
        ("path_mismatch", "invoices: invoice customer", Some(1)),
        // 10.
        ("custom", "orders tagged x", Some(2)),
        // 11.
        ("check_failed", GHOSTS, None),
        ("check_failed", NOPE, None),
        ("check_failed", GHOST_PATH, None),
        ("check_failed", PHANTOM_EXEMPT, None),
        ("check_failed", "broken assertion", None),
        // 12.
        ("slow_check", "slow on sqlite", None),
    ]);
    assert_eq!(summarize(&result), expected, "{:#?}", messages(&result));
    assert_common(&plan, &result, expected.len());
    assert_eq!(relationships(&plan), expected_relationships(false));
    assert!(!result.shared_snapshot, "SQLite has no exported snapshots");

    let slow = finding(&result, "slow_check", "slow on sqlite");
    assert_eq!(slow.threshold_ms, Some(1));
    assert!(slow.elapsed_ms.is_some_and(|ms| ms > 1.0));

    // Each check alone (no shared scans): the same findings, every anti-join
    // a NOT EXISTS.
    let standalone = PlanOptions {
        shared_scans: false,
        ..PlanOptions::default()
    };
    let (plan, result) = run(&db, Some(PROFILE), standalone).await;
    assert_eq!(summarize(&result), expected, "{:#?}", messages(&result));
    assert_common(&plan, &result, expected.len());
    for f in result
        .findings
        .iter()
        .filter(|f| f.check == CheckId::Orphans)
    {
        assert!(f.sql.as_deref().unwrap().contains("NOT EXISTS"), "{f:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_check_on_postgres() {
    let db = TestDb::postgres().await;
    db.exec(POSTGRES_FIXTURE).await;
    let (plan, result) = run(&db, Some(PROFILE), PlanOptions::default()).await;

    let expected = expect(&[
        // 1. NOT VALID: the catalog says so (no count); the orphans are counted.
        ("orphans", ORDER_FK, Some(3)),
        ("fk_not_enforced", ORDER_FK, None),
        ("fk_unindexed", ORDER_FK, None),
        ("tenant_missing", "Kunden Ä.tenant", Some(1)),
        ("tenant_missing", "order.tenant", Some(2)),
        (
            "tenant_mismatch",
            "order(Kd Nr) → Kunden Ä(Kd Nr) [tenant]",
            Some(1),
        ),
        // 2. Disabled triggers: from the catalog.
        ("orphans", STORES_FK, Some(2)),
        ("fk_not_enforced", STORES_FK, None),
        ("fk_delete_rule", STORES_FK, None),
        // 3. Valid and enabled, yet violated (replica role): proven by the rows.
        ("orphans", EMPLOYEES_FK, Some(2)),
        ("fk_not_enforced", EMPLOYEES_FK, Some(2)),
        ("fk_unindexed", EMPLOYEES_FK, None),
        // 4.
        ("orphans", EVENTS_FK, Some(1)),
        ("fk_not_enforced", EVENTS_FK, None),
        // 5. Both partitions counted, the relationship reported once.
        ("orphans", MEASUREMENTS_FK, Some(3)),
        ("fk_not_enforced", MEASUREMENTS_FK, Some(3)),
        // 6.
        ("fk_missing", INVOICES_REL, None),
        ("orphans", INVOICES_REL, Some(1)),
        // 7.
        ("implied_fk", TICKETS_REL, None),
        ("orphans", TICKETS_REL, Some(1)),
        // 9.
        ("path_mismatch", "invoices: invoice customer", Some(1)),
        // 10.
        ("custom", "orders tagged x", Some(2)),
        // 11.
        ("check_failed", GHOSTS, None),
        ("check_failed", NOPE, None),
        ("check_failed", GHOST_PATH, None),
        ("check_failed", PHANTOM_EXEMPT, None),
        ("check_failed", "broken assertion", None),
        // 12.
        ("slow_check", "slow on postgres", None),
    ]);
    assert_eq!(summarize(&result), expected, "{:#?}", messages(&result));
    assert_common(&plan, &result, expected.len());
    assert_eq!(relationships(&plan), expected_relationships(true));
    assert!(result.shared_snapshot, "one snapshot for the whole run");

    assert_sample(
        &result,
        "orphans",
        EVENTS_FK,
        &[json!({"id": "2", "order_id": "500"})],
    );
    assert_eq!(
        finding(&result, "fk_not_enforced", ORDER_FK)
            .constraint
            .as_deref(),
        Some("order → Kunden")
    );
    assert_eq!(
        finding(&result, "fk_not_enforced", EVENTS_FK)
            .constraint
            .as_deref(),
        Some("events_order_fkey")
    );

    // The partitioned table is one table with one constraint; its partitions
    // are not tables of their own.
    assert_eq!(
        plan.relationships
            .iter()
            .filter(|r| r.child.name.starts_with("measurements"))
            .count(),
        1
    );
    assert!(
        plan.schema
            .tables
            .iter()
            .all(|t| !t.name.name.starts_with("measurements_")),
        "partitions listed as tables"
    );
    assert_eq!(
        plan.schema
            .foreign_keys
            .iter()
            .filter(|fk| fk.child.name.starts_with("measurements"))
            .count(),
        1
    );

    let slow = finding(&result, "slow_check", "slow on postgres");
    assert_eq!(slow.threshold_ms, Some(50));
    assert!(slow.elapsed_ms.is_some_and(|ms| ms >= 200.0), "{slow:?}");

    let standalone = PlanOptions {
        shared_scans: false,
        ..PlanOptions::default()
    };
    let (plan, result) = run(&db, Some(PROFILE), standalone).await;
    assert_eq!(summarize(&result), expected, "{:#?}", messages(&result));
    assert_common(&plan, &result, expected.len());
    for f in result
        .findings
        .iter()
        .filter(|f| f.check == CheckId::Orphans)
    {
        assert!(f.sql.as_deref().unwrap().contains("NOT EXISTS"), "{f:?}");
    }
}

/// Runs on both engines: the same script is valid SQLite and PostgreSQL.
const NULL_REFERENCES: &str = r#"
CREATE TABLE pairs (a text, b text, PRIMARY KEY (a, b));
CREATE TABLE holders (
    id integer PRIMARY KEY,
    a text,
    b text,
    CONSTRAINT holders_pair_fkey FOREIGN KEY (a, b) REFERENCES pairs (a, b)
);
CREATE INDEX holders_pair_idx ON holders (a, b);
CREATE TABLE singles (id integer PRIMARY KEY, ref integer REFERENCES holders (id));
CREATE INDEX singles_ref_idx ON singles (ref);
INSERT INTO pairs VALUES ('x', 'y');
INSERT INTO holders VALUES (1, NULL, NULL), (2, 'x', NULL), (3, NULL, 'y'), (4, 'x', 'y'),
    (5, 'nope', NULL), (6, NULL, 'nope');
INSERT INTO singles VALUES (1, NULL), (2, NULL), (3, 4);
"#;

async fn null_references_are_never_orphans(db: TestDb) {
    db.exec(NULL_REFERENCES).await;
    for shared_scans in [true, false] {
        let options = PlanOptions {
            shared_scans,
            ..PlanOptions::default()
        };
        let (plan, result) = run(&db, None, options).await;
        assert_eq!(
            summarize(&result),
            expect(&[]),
            "shared scans: {shared_scans}"
        );
        // Both orphan checks ran and counted nothing.
        let orphans: Vec<_> = plan
            .checks
            .iter()
            .enumerate()
            .filter(|(_, c)| c.id == CheckId::Orphans)
            .map(|(i, c)| {
                (
                    c.key.clone(),
                    result.outcomes[i].as_ref().and_then(|o| o.count),
                )
            })
            .collect();
        assert_eq!(
            orphans,
            vec![
                ("orphans:holders(a, b) → pairs(a, b)".to_string(), Some(0)),
                ("orphans:singles(ref) → holders(id)".to_string(), Some(0)),
            ]
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn null_references_are_never_orphans_on_sqlite() {
    null_references_are_never_orphans(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn null_references_are_never_orphans_on_postgres() {
    null_references_are_never_orphans(TestDb::postgres().await).await;
}

/// Samples hold at most `PlanOptions::sample` rows; the count stays exact.
async fn samples_are_bounded(db: TestDb, fixture: &str) {
    db.exec(fixture).await;
    let options = PlanOptions {
        sample: 2,
        ..PlanOptions::default()
    };
    let (_, result) = run(&db, Some(PROFILE), options).await;
    let orders = finding(&result, "orphans", ORDER_FK);
    assert_eq!(orders.count, Some(3));
    assert_eq!(orders.sample.len(), 2);
    let all = rows(&[
        json!({"id": "6", "Kd Nr": "100"}),
        json!({"id": "7", "Kd Nr": "101"}),
        json!({"id": "8", "Kd Nr": "102"}),
    ]);
    assert!(sample(orders).is_subset(&all), "{:?}", orders.sample);
    assert!(
        orders
            .sample_sql
            .as_deref()
            .is_some_and(|s| s.ends_with("LIMIT 2"))
    );

    // No samples at all: counts unchanged, no sample rows.
    let options = PlanOptions {
        sample: 0,
        ..PlanOptions::default()
    };
    let (_, result) = run(&db, Some(PROFILE), options).await;
    let orders = finding(&result, "orphans", ORDER_FK);
    assert_eq!(orders.count, Some(3));
    assert!(orders.sample.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn samples_are_bounded_on_sqlite() {
    samples_are_bounded(TestDb::sqlite(), SQLITE_FIXTURE).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn samples_are_bounded_on_postgres() {
    samples_are_bounded(TestDb::postgres().await, POSTGRES_FIXTURE).await;
}

/// A plan only from the catalog: every check's work is what the catalog and
/// profile decide, and the partitioned child is planned once.
#[tokio::test(flavor = "multi_thread")]
async fn partitioned_child_is_planned_once_on_postgres() {
    let db = TestDb::postgres().await;
    db.exec(POSTGRES_FIXTURE).await;
    let (plan, result) = run(&db, None, PlanOptions::default()).await;
    let keys: Vec<&str> = plan
        .checks
        .iter()
        .filter(|c| c.key.contains("measurements"))
        .map(|c| c.key.as_str())
        .collect();
    assert_eq!(
        keys,
        vec![
            "fk_not_enforced:measurements(store_id) → stores(id)",
            "fk_unindexed:measurements(store_id) → stores(id)",
            "orphans:measurements(store_id) → stores(id)",
        ]
    );
    let orphans = plan
        .checks
        .iter()
        .position(|c| c.key == "orphans:measurements(store_id) → stores(id)")
        .unwrap();
    assert!(matches!(plan.checks[orphans].work, Work::Rows(_)));
    let outcome = result.outcomes[orphans].as_ref().unwrap();
    assert_eq!(outcome.count, Some(3));
    // The shared scan counted every row of both partitions.
    assert_eq!(outcome.total, Some(6));
}

/// Tenant and path comparisons between columns of different types (a legacy
/// `text` tenant against a `uuid` one, an `integer` against a `text`) still
/// compare values, as reference lookups between differing types already do
/// (as text), instead of failing on a missing operator.
#[tokio::test(flavor = "multi_thread")]
async fn comparisons_across_types_on_postgres() {
    let db = TestDb::postgres().await;
    db.exec(
        r#"
CREATE TABLE accounts (id integer PRIMARY KEY, tenant uuid, region text);
CREATE TABLE projects (
    id integer PRIMARY KEY,
    account_id integer REFERENCES accounts (id),
    tenant text,
    region integer
);
CREATE INDEX projects_account_idx ON projects (account_id);
INSERT INTO accounts VALUES
    (1, '00000000-0000-0000-0000-000000000001', '7'),
    (2, '00000000-0000-0000-0000-000000000002', '8');
INSERT INTO projects VALUES
    (1, 1, '00000000-0000-0000-0000-000000000001', 7),  -- agrees
    (2, 1, '00000000-0000-0000-0000-000000000002', 8),  -- differs in both
    (3, 2, '00000000-0000-0000-0000-000000000002', NULL);
"#,
    )
    .await;
    let profile = r#"
[tenant]
columns = ["tenant"]

[[path]]
name = "project region"
table = "projects"
column = "region"
via = ["account_id"]
"#;
    let (_, result) = run(&db, Some(profile), PlanOptions::default()).await;
    assert_eq!(
        summarize(&result),
        expect(&[
            (
                "tenant_mismatch",
                "projects(account_id) → accounts(id) [tenant]",
                Some(1)
            ),
            ("path_mismatch", "projects: project region", Some(1)),
        ]),
        "{:#?}",
        messages(&result)
    );
}

/// A profile may list a composite relationship's columns in another order than
/// the constraint (pairing child and parent columns the same way): it is the
/// same relationship, listed once, and not `fk_missing`.
#[tokio::test(flavor = "multi_thread")]
async fn profile_columns_in_another_order_match_the_constraint_on_sqlite() {
    let db = TestDb::sqlite();
    db.exec(SQLITE_FIXTURE).await;
    let profile = r#"
[[relationship]]
child = "stores"
columns = ["region_code", "country"]
parent = "regions"
parent_columns = ["code", "country"]
on_delete = "cascade"
"#;
    let (plan, result) = run(&db, Some(profile), PlanOptions::default()).await;
    let about_stores: BTreeSet<_> = summarize(&result)
        .into_iter()
        .filter(|(_, location, _)| location.starts_with("stores("))
        .collect();
    // The delete rule is checked against the constraint; no fk_missing, no
    // second orphans finding.
    assert_eq!(
        about_stores,
        expect(&[
            ("orphans", STORES_FK, Some(2)),
            ("fk_not_enforced", STORES_FK, Some(2)),
            ("fk_delete_rule", STORES_FK, None),
        ])
    );
    let stores: Vec<_> = plan
        .relationships
        .iter()
        .filter(|r| r.child.name == "stores")
        .map(|r| (r.source, r.in_profile))
        .collect();
    assert_eq!(stores, vec![(Source::Constraint, true)]);
}

/// RI triggers set to fire only in replica mode (`ENABLE REPLICA TRIGGER`) do
/// not fire in ordinary sessions, so the constraint protects nothing, even
/// before any orphan exists: like disabled triggers, the catalog shows it.
#[tokio::test(flavor = "multi_thread")]
async fn replica_only_triggers_do_not_enforce_on_postgres() {
    let db = TestDb::postgres().await;
    db.exec(
        r#"
CREATE TABLE parents (id integer PRIMARY KEY);
CREATE TABLE kids (id integer PRIMARY KEY, parent_id integer CONSTRAINT kids_parent_fkey REFERENCES parents (id));
CREATE INDEX kids_parent_idx ON kids (parent_id);
INSERT INTO parents VALUES (1);
INSERT INTO kids VALUES (1, 1);
DO $$
DECLARE t text;
BEGIN
    FOR t IN SELECT tgname FROM pg_trigger WHERE tgrelid = 'kids'::regclass AND tgisinternal LOOP
        EXECUTE format('ALTER TABLE kids ENABLE REPLICA TRIGGER %I', t);
    END LOOP;
END $$;
"#,
    )
    .await;
    let (_, result) = run(&db, None, PlanOptions::default()).await;
    assert_eq!(
        summarize(&result),
        expect(&[("fk_not_enforced", "kids(parent_id) → parents(id)", None)]),
        "{:#?}",
        result.findings
    );
}
