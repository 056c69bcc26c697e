//! Every check id, on a database built with known faults, on SQLite and on real
//! PostgreSQL and MariaDB servers: exact finding sets (check, location, count),
//! exact sample rows, and the SQL forms the brief promises (NOT EXISTS or one
//! shared scan, never NOT IN).
//!
//! The fixture uses awkward identifiers on purpose: spaces (`"Kunden Ä"`,
//! `"Kd Nr"`), a reserved word (`"order"`), an embedded double quote
//! (`"Quote""Col"`; on MariaDB an embedded backtick, `` `Quote``Col` ``), mixed
//! case (`"Audit"`) and non-ASCII letters (`Ä`). A check that forgot to quote
//! one of them would fail and show up as `check_failed`, which the exact
//! comparisons below do not allow.

mod common;

use common::{TestDb, check, expect, summarize};
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Connection};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tether::checks::plan::{Plan, PlanOptions, Shape, StatementText, Work};
use tether::checks::{CheckId, Severity};
use tether::db::{Db, SessionOptions};
use tether::findings::Finding;
use tether::model::{Engine, ReferentialAction};
use tether::profile::Profile;
use tether::relationships::Source;
use tether::runner::{RunOptions, RunResult};
use tether::sql::render;

/// The profile every engine runs with. Line numbers matter: `check_failed`
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
sql.postgres = '''SELECT id, "Quote""Col" FROM "order" WHERE "Quote""Col" = 'x' ORDER BY id'''
sql.sqlite = '''SELECT id, "Quote""Col" FROM "order" WHERE "Quote""Col" = 'x' ORDER BY id'''
sql.mysql = '''SELECT id, `Quote``Col` FROM `order` WHERE `Quote``Col` = 'x' ORDER BY id'''

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

# SLEEP must really run: MariaDB skips a query whose WHERE is constantly false,
# so the filter that is never true is on SLEEP's own result.
[[assertion]]
name = "slow on mariadb"
threshold_ms = 50
sql.mysql = "SELECT SLEEP(0.2) AS s FROM DUAL WHERE 1 = 1 HAVING s < 0"
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

/// MariaDB: the same schema and data, run by the harness with
/// FOREIGN_KEY_CHECKS=0, so every orphan is written under a declared constraint
/// that InnoDB otherwise enforces: only the rows prove it was bypassed. With the
/// checks off InnoDB also lets the index it made for a constraint be dropped,
/// which leaves a constraint without one (as `fk_unindexed` looks for). No
/// partitions: InnoDB cannot partition a table with foreign keys. The other
/// schema (`Audit…`) is another database: `MARIADB_AUDIT_FIXTURE`.
const MARIADB_FIXTURE: &str = r#"
-- 1. Awkward names; 3 orphans, 2 NULL references; no index on `Kd Nr`.
CREATE TABLE `Kunden Ä` (`Kd Nr` int PRIMARY KEY, tenant text);
CREATE TABLE `order` (
    id int PRIMARY KEY,
    `Kd Nr` int,
    tenant text,
    `Quote``Col` text,
    CONSTRAINT `order → Kunden` FOREIGN KEY (`Kd Nr`) REFERENCES `Kunden Ä` (`Kd Nr`)
);
ALTER TABLE `order` DROP INDEX `order → Kunden`;
INSERT INTO `Kunden Ä` VALUES (1, 't1'), (2, 't2'), (3, NULL);
INSERT INTO `order` VALUES
    (1, 1, 't1', 'x'),
    (2, 2, 't1', 'x'),
    (3, 3, 't1', NULL),
    (4, NULL, 't1', NULL),
    (5, NULL, NULL, NULL),
    (6, 100, 't1', NULL),
    (7, 101, NULL, NULL),
    (8, 102, 't2', NULL);
-- Table names are case-sensitive: decoys that differ only in case hold every
-- dangling value, so a lookup in the wrong table would lose orphans.
CREATE TABLE `Order` (id int PRIMARY KEY);
CREATE TABLE `kunden ä` (`Kd Nr` int PRIMARY KEY);
INSERT INTO `Order` VALUES (500), (999);
INSERT INTO `kunden ä` VALUES (100), (101), (102);

-- 2. Composite key, indexed only in permuted order (InnoDB's own index, in the
-- constraint's order, is dropped); 2 orphans, 2 partly NULL. Declared NO ACTION.
CREATE TABLE regions (country varchar(10), code varchar(10), tenant text, PRIMARY KEY (country, code));
CREATE TABLE stores (
    id int PRIMARY KEY,
    country varchar(10),
    region_code varchar(10),
    tenant text,
    KEY stores_region_idx (region_code, country),
    CONSTRAINT stores_region_fkey FOREIGN KEY (country, region_code)
        REFERENCES regions (country, code) ON DELETE NO ACTION
);
ALTER TABLE stores DROP INDEX stores_region_fkey;
INSERT INTO regions VALUES ('DE', 'BY', NULL), ('DE', 'BE', 'r'), ('AT', 'W', 'r');
INSERT INTO stores VALUES
    (1, 'DE', 'BY', 't1'),
    (2, 'AT', 'W', 't1'),
    (3, 'DE', 'W', 't1'),
    (4, 'FR', 'P', 't1'),
    (5, 'DE', NULL, 't1'),
    (6, NULL, NULL, 't1');

-- 3. Self-reference whose only index on the reference is a prefix index (what
-- MariaDB has nearest to a partial one; InnoDB's own is dropped). Text keys,
-- since only string columns take a prefix. 2 orphans.
CREATE TABLE employees (
    id varchar(10) PRIMARY KEY,
    manager_id varchar(10),
    KEY employees_manager_prefix (manager_id(1)),
    CONSTRAINT employees_manager_fkey FOREIGN KEY (manager_id) REFERENCES employees (id)
);
ALTER TABLE employees DROP INDEX employees_manager_fkey;
INSERT INTO employees VALUES ('1', NULL), ('2', '1'), ('3', '2'), ('4', '99'), ('5', '98');

-- 5. 3 orphans, indexed (InnoDB uses the declared index for the constraint).
CREATE TABLE measurements (
    id int,
    store_id int,
    at date,
    PRIMARY KEY (id, at),
    KEY measurements_store_idx (store_id),
    CONSTRAINT measurements_store_fkey FOREIGN KEY (store_id) REFERENCES stores (id)
);
INSERT INTO measurements VALUES
    (1, 1, '2023-05-01'), (2, 50, '2023-06-01'), (3, 2, '2024-02-01'),
    (4, 51, '2024-03-01'), (5, 52, '2024-04-01'), (6, NULL, '2024-05-01');

-- 6. MyISAM keeps no foreign keys: the declared one is dropped without a word
-- (its index stays), so only the profile knows the relationship. 1 orphan; a path.
CREATE TABLE invoices (
    id int PRIMARY KEY,
    order_id int,
    `Kd Nr` int,
    tenant text,
    FOREIGN KEY (order_id) REFERENCES `order` (id)
) ENGINE=MyISAM;
INSERT INTO invoices VALUES
    (1, 1, 1, 't1'), (2, 2, 1, 't1'), (3, 1, NULL, 't1'), (4, 4, 5, 't1'), (5, 999, 1, 't1');

-- 7. Implied (employee_id ↔ employees.id, both varchar(10)); 1 orphan.
CREATE TABLE tickets (id int PRIMARY KEY, employee_id varchar(10));
INSERT INTO tickets VALUES (1, '1'), (2, '5'), (3, '77'), (4, NULL);
"#;

/// MariaDB's part 4, the other schema: a database of its own, whose table
/// references the test database (`{db}`); 1 orphan, indexed.
const MARIADB_AUDIT_FIXTURE: &str = r#"
CREATE TABLE events (
    id int PRIMARY KEY,
    order_id int,
    KEY events_order_idx (order_id),
    CONSTRAINT events_order_fkey FOREIGN KEY (order_id) REFERENCES `{db}`.`order` (id)
);
INSERT INTO events VALUES (1, 1), (2, 500), (3, NULL);
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

/// Like `run`, reading the catalog of the named schemas only (on MariaDB,
/// databases); the harness's `check` reads the default scope.
async fn run_in(
    db: &TestDb,
    schemas: &[String],
    profile: Option<&str>,
    options: PlanOptions,
) -> (Plan, RunResult) {
    let work = async {
        let conn = Db::connect(&db.url, SessionOptions::default())
            .await
            .expect("connect");
        let profile =
            profile.map(|text| Profile::parse(text, "test.toml").expect("profile parses"));
        let schema = tether::catalog::read(&conn, schemas)
            .await
            .expect("catalog");
        let plan = Arc::new(Plan::build(schema, profile.as_ref(), &options));
        let result =
            tether::runner::run_to_end(&conn, plan.clone(), &RunOptions::default(), |_| {}).await;
        conn.close().await;
        (
            Arc::try_unwrap(plan).unwrap_or_else(|p| (*p).clone()),
            result,
        )
    };
    tokio::time::timeout(Duration::from_secs(120), work)
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
                    || (sql.contains("LEFT JOIN")
                        && (sql.contains("count(CASE WHEN") || sql.contains("FILTER (WHERE"))),
                "{sql}"
            );
            let sample_sql = f.sample_sql.as_deref().expect("and their sample SQL");
            assert!(sample_sql.contains("NOT EXISTS"), "{sample_sql}");
        }
    }
    // Identifiers quoted the engine's way: `"a ""b"""`, or `` `a``b` `` on MariaDB.
    let quote = |name: &str| match plan.engine {
        Engine::Mysql => format!("`{}`", name.replace('`', "``")),
        Engine::Postgres | Engine::Sqlite => format!("\"{}\"", name.replace('"', "\"\"")),
    };
    let order = finding(result, "orphans", ORDER_FK);
    let sql = order.sql.as_deref().unwrap();
    assert!(sql.contains(&format!(".{}", quote("Kunden Ä"))), "{sql}");
    assert!(sql.contains(&format!(".{}", quote("order"))), "{sql}");
    assert!(sql.contains(&quote("Kd Nr")), "{sql}");

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
    assert_eq!(rule.expected, Some(ReferentialAction::Cascade));
    assert_eq!(rule.actual, Some(ReferentialAction::NoAction));
    assert_eq!(rule.constraint.as_deref(), Some("stores_region_fkey"));
    assert_eq!(rule.severity, Severity::Error);

    // A custom assertion keeps the profile's severity and its rows, typed.
    let custom = finding(result, "custom", "orders tagged x");
    assert_eq!(custom.severity, Severity::Warning);
    let quote_col = match plan.engine {
        Engine::Mysql => "Quote`Col",
        Engine::Postgres | Engine::Sqlite => "Quote\"Col",
    };
    assert_eq!(
        sample(custom),
        rows(&[
            json!({"id": 1, quote_col: "x"}),
            json!({"id": 2, quote_col: "x"})
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

    // The pass shape of SQLite and MariaDB: an orphan check shares the pass
    // through its parent when tenant or path checks need that pass anyway; the
    // table's checks without lookups join it too; other orphans run alone as
    // NOT EXISTS anti-joins.
    let statement_of = |prefix: &str| {
        let i = plan
            .checks
            .iter()
            .position(|c| c.key.starts_with(prefix))
            .unwrap_or_else(|| panic!("no check {prefix}"));
        plan.statements
            .iter()
            .find(|s| s.checks.contains(&i))
            .unwrap()
    };
    let through_customer = statement_of(&format!("orphans:{ORDER_FK}"));
    assert_eq!(through_customer.shape, Shape::Scan);
    assert!(std::ptr::eq(
        through_customer,
        statement_of(&format!("tenant_mismatch:{ORDER_FK}"))
    ));
    assert!(std::ptr::eq(
        through_customer,
        statement_of("tenant_missing:order")
    ));
    let stores = statement_of(&format!("orphans:{STORES_FK}"));
    assert_eq!(stores.shape, Shape::Count);
    let stores_index = plan
        .statements
        .iter()
        .position(|x| std::ptr::eq(x, stores))
        .unwrap();
    assert!(plan.sql(stores_index).as_str().contains("NOT EXISTS"));

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

    // The partitioned table has one constraint; its partitions' inherited
    // copies are folded into it, and the partitions are no graph nodes.
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
            .filter(|t| t.name.name.starts_with("measurements_"))
            .all(|t| t.is_partition()),
        "partitions are known as partitions"
    );
    let bound = |name: &str| {
        plan.schema
            .tables
            .iter()
            .find(|t| t.name.name == name)
            .and_then(|t| t.partition_bound.clone())
    };
    assert_eq!(
        bound("measurements_2023").as_deref(),
        Some("FOR VALUES FROM ('2023-01-01') TO ('2024-01-01')"),
        "a partition's bound, as PostgreSQL prints it"
    );
    assert_eq!(bound("measurements"), None);
    assert!(
        tether::graph::Graph::build(&plan)
            .nodes
            .iter()
            .all(|n| !n.label.starts_with("measurements_")),
        "a partition without relationships of its own is no graph node"
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

/// Every check on MariaDB, over both databases (schemas) of the fixture: the
/// same findings as on SQLite, plus the other schema's, with exact counts.
/// MariaDB has no NOT VALID and no disabled triggers, so every `fk_not_enforced`
/// is proven by rows and carries their count.
#[tokio::test(flavor = "multi_thread")]
async fn every_check_on_mariadb() {
    let db = TestDb::mysql().await;
    db.exec(MARIADB_FIXTURE).await;
    let name = db.name();
    // Declared after `db`, so dropped before it (MariaDB refuses to drop a database another references).
    let audit = TestDb::mysql_named("Audit").await;
    audit
        .exec(&MARIADB_AUDIT_FIXTURE.replace("{db}", &name))
        .await;
    let schemas = vec![name.clone(), audit.name()];
    let events_fk = format!("{}.events(order_id) → order(id)", audit.name());
    let (plan, result) = run_in(&db, &schemas, Some(PROFILE), PlanOptions::default()).await;

    let expected = expect(&[
        // 1. InnoDB enforces the constraint, yet the rows violate it: proven.
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
        // 3. A prefix index does not count.
        ("orphans", EMPLOYEES_FK, Some(2)),
        ("fk_not_enforced", EMPLOYEES_FK, Some(2)),
        ("fk_unindexed", EMPLOYEES_FK, None),
        // 4. Another database, labelled `schema.table`.
        ("orphans", events_fk.as_str(), Some(1)),
        ("fk_not_enforced", events_fk.as_str(), Some(1)),
        // 5.
        ("orphans", MEASUREMENTS_FK, Some(3)),
        ("fk_not_enforced", MEASUREMENTS_FK, Some(3)),
        // 6. The MyISAM table's constraint was never kept.
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
        ("slow_check", "slow on mariadb", None),
    ]);
    assert_eq!(summarize(&result), expected, "{:#?}", messages(&result));
    assert_common(&plan, &result, expected.len());
    let mut relationships_expected = expected_relationships(false);
    relationships_expected.push((events_fk.clone(), Source::Constraint, false));
    relationships_expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(relationships(&plan), relationships_expected);
    assert!(
        !result.shared_snapshot,
        "MariaDB sessions cannot share a snapshot"
    );
    assert_eq!(plan.engine, Engine::Mysql);
    assert_eq!(plan.schema.default_schema, name);

    assert_sample(
        &result,
        "orphans",
        &events_fk,
        &[json!({"id": "2", "order_id": "500"})],
    );
    for (location, constraint, count) in [
        (ORDER_FK, "order → Kunden", 3),
        (STORES_FK, "stores_region_fkey", 2),
        (events_fk.as_str(), "events_order_fkey", 1),
    ] {
        let proof = finding(&result, "fk_not_enforced", location);
        assert_eq!(proof.constraint.as_deref(), Some(constraint));
        assert_eq!(proof.count, Some(count));
    }
    assert_eq!(
        finding(&result, "fk_unindexed", EMPLOYEES_FK)
            .constraint
            .as_deref(),
        Some("employees_manager_fkey")
    );

    // What the catalog saw: the decoys are tables of their own; the prefix
    // index is not usable; the MyISAM table has no constraint, only its index;
    // the permuted composite index serves the constraint.
    let table = |schema: &str, table: &str| {
        plan.schema
            .table(&tether::model::TableName::new(schema, table))
            .unwrap_or_else(|| panic!("no table {schema}.{table}"))
    };
    assert_eq!(table(&name, "Order").columns.len(), 1);
    assert_eq!(table(&name, "kunden ä").columns.len(), 1);
    assert_eq!(table(&audit.name(), "events").primary_key, vec!["id"]);
    assert_eq!(
        table(&name, "invoices").storage_engine.as_deref(),
        Some("MyISAM")
    );
    assert_eq!(
        table(&name, "order").storage_engine.as_deref(),
        Some("InnoDB")
    );
    assert!(
        plan.schema
            .foreign_keys
            .iter()
            .all(|fk| fk.child.name != "invoices"),
        "MyISAM keeps no foreign keys"
    );
    let prefix = plan
        .schema
        .indexes
        .iter()
        .find(|i| i.name == "employees_manager_prefix")
        .expect("the prefix index is listed");
    assert!(prefix.partial, "{prefix:?}");
    let indexed: Vec<(String, bool)> = plan
        .relationships
        .iter()
        .map(|r| (r.label(&plan.schema).arrow(), r.indexed))
        .collect();
    for (arrow, want) in [
        (ORDER_FK, false),
        (STORES_FK, true),
        (EMPLOYEES_FK, false),
        (MEASUREMENTS_FK, true),
        (events_fk.as_str(), true),
        (INVOICES_REL, true),
    ] {
        assert!(
            indexed.contains(&(arrow.to_string(), want)),
            "{arrow} indexed: {want}? {indexed:?}"
        );
    }

    let slow = finding(&result, "slow_check", "slow on mariadb");
    assert_eq!(slow.threshold_ms, Some(50));
    assert!(slow.elapsed_ms.is_some_and(|ms| ms >= 200.0), "{slow:?}");

    // By default only the current database is read: the other one's table and
    // its relationship are not seen.
    let (default_plan, _) = run(&db, None, PlanOptions::default()).await;
    assert!(
        default_plan
            .schema
            .tables
            .iter()
            .all(|t| t.name.schema == name),
        "{:?}",
        default_plan.schema.tables
    );
    assert!(
        default_plan
            .relationships
            .iter()
            .all(|r| r.child.schema == name)
    );

    let standalone = PlanOptions {
        shared_scans: false,
        ..PlanOptions::default()
    };
    let (plan, result) = run_in(&db, &schemas, Some(PROFILE), standalone).await;
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

/// The same on MariaDB: keys are `varchar` (a `text` key needs a prefix), and
/// the indexes are declared with their tables.
const NULL_REFERENCES_MARIADB: &str = r#"
CREATE TABLE pairs (a varchar(10), b varchar(10), PRIMARY KEY (a, b));
CREATE TABLE holders (
    id integer PRIMARY KEY,
    a varchar(10),
    b varchar(10),
    KEY holders_pair_idx (a, b),
    CONSTRAINT holders_pair_fkey FOREIGN KEY (a, b) REFERENCES pairs (a, b)
);
CREATE TABLE singles (
    id integer PRIMARY KEY,
    ref integer,
    KEY singles_ref_idx (ref),
    CONSTRAINT singles_ref_fkey FOREIGN KEY (ref) REFERENCES holders (id)
);
INSERT INTO pairs VALUES ('x', 'y');
INSERT INTO holders VALUES (1, NULL, NULL), (2, 'x', NULL), (3, NULL, 'y'), (4, 'x', 'y'),
    (5, 'nope', NULL), (6, NULL, 'nope');
INSERT INTO singles VALUES (1, NULL), (2, NULL), (3, 4);
"#;

async fn null_references_are_never_orphans(db: TestDb, script: &str) {
    db.exec(script).await;
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
    null_references_are_never_orphans(TestDb::sqlite(), NULL_REFERENCES).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn null_references_are_never_orphans_on_postgres() {
    null_references_are_never_orphans(TestDb::postgres().await, NULL_REFERENCES).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn null_references_are_never_orphans_on_mariadb() {
    null_references_are_never_orphans(TestDb::mysql().await, NULL_REFERENCES_MARIADB).await;
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

#[tokio::test(flavor = "multi_thread")]
async fn samples_are_bounded_on_mariadb() {
    samples_are_bounded(TestDb::mysql().await, MARIADB_FIXTURE).await;
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
async fn comparisons_across_types(db: TestDb, fixture: &str) {
    db.exec(fixture).await;
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
    assert_sample(
        &result,
        "path_mismatch",
        "projects: project region",
        &[json!({"id": "2", "account_id": "1", "region": "8", "accounts.region": "7"})],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn comparisons_across_types_on_postgres() {
    let fixture = r#"
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
"#;
    comparisons_across_types(TestDb::postgres().await, fixture).await;
}

/// MariaDB (10.7 and later) has a `uuid` type too.
#[tokio::test(flavor = "multi_thread")]
async fn comparisons_across_types_on_mariadb() {
    let fixture = r#"
CREATE TABLE accounts (id integer PRIMARY KEY, tenant uuid, region text);
CREATE TABLE projects (
    id integer PRIMARY KEY,
    account_id integer,
    tenant text,
    region integer,
    KEY projects_account_idx (account_id),
    CONSTRAINT projects_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id)
);
INSERT INTO accounts VALUES
    (1, '00000000-0000-0000-0000-000000000001', '7'),
    (2, '00000000-0000-0000-0000-000000000002', '8');
INSERT INTO projects VALUES
    (1, 1, '00000000-0000-0000-0000-000000000001', 7),  -- agrees
    (2, 1, '00000000-0000-0000-0000-000000000002', 8),  -- differs in both
    (3, 2, '00000000-0000-0000-0000-000000000002', NULL);
"#;
    comparisons_across_types(TestDb::mysql().await, fixture).await;
}

/// Counts rows with a query of the test's own on MariaDB: what the database
/// itself says, to compare tether's counts with.
async fn mariadb_count(db: &TestDb, query: &str) -> i64 {
    let mut conn = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
    let n: i64 = sqlx::query_scalar(AssertSqlSafe(query.to_string()))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let _ = conn.close().await;
    n
}

/// Text columns of two MariaDB text types (`varchar` and `mediumtext`), both
/// with the database's collation (utf8mb4_bin, set by the harness), compare as
/// the database compares them: `ACME` is not `Acme`, `Glöbex` is not `Globex`,
/// and no account has the key `a-1` when one has `A-1`. Whatever tether compares
/// them as, the counts must be the database's own (the test asks it too), and a
/// lookup by a unique key must find one parent row at most: `c-3` and `C-3` are
/// two accounts, so a shared scan that matched both would count project 5 twice.
#[tokio::test(flavor = "multi_thread")]
async fn text_comparisons_keep_the_columns_collation_on_mariadb() {
    let db = TestDb::mysql().await;
    db.exec(
        r#"
CREATE TABLE accounts (
    id integer PRIMARY KEY,
    tenant varchar(20),
    code varchar(20),
    UNIQUE KEY accounts_code_key (code)
);
CREATE TABLE projects (
    id integer PRIMARY KEY,
    account_id integer,
    tenant mediumtext,
    account_code mediumtext,
    KEY projects_account_idx (account_id),
    CONSTRAINT projects_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id)
);
INSERT INTO accounts VALUES
    (1, 'Acme', 'A-1'), (2, 'Globex', 'b-2'), (3, 'Initech', 'c-3'), (4, 'Initech', 'C-3');
INSERT INTO projects VALUES
    (1, 1, 'Acme', 'A-1'),    -- agrees
    (2, 1, 'ACME', 'a-1'),    -- tenant differs in case; no account has code a-1
    (3, 2, 'Glöbex', 'b-2'),  -- tenant differs by an accent
    (4, 2, 'Globex', 'B-2'),  -- no account has code B-2
    (5, 3, NULL, 'c-3');      -- tenant missing; code c-3 is account 3 alone
"#,
    )
    .await;
    // The database's own answers.
    assert_eq!(
        mariadb_count(
            &db,
            "SELECT count(*) FROM projects c JOIN accounts p ON p.id = c.account_id \
             WHERE c.tenant <> p.tenant"
        )
        .await,
        2
    );
    assert_eq!(
        mariadb_count(
            &db,
            "SELECT count(*) FROM projects c WHERE c.account_code IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM accounts p WHERE p.code = c.account_code)"
        )
        .await,
        2
    );
    assert_eq!(
        mariadb_count(
            &db,
            "SELECT count(*) FROM projects c LEFT JOIN accounts p ON p.code = c.account_code"
        )
        .await,
        5
    );
    let profile = r#"
[tenant]
columns = ["tenant"]

[[relationship]]
child = "projects"
columns = ["account_code"]
parent = "accounts"
parent_columns = ["code"]
"#;
    const BY_CODE: &str = "projects(account_code) → accounts(code)";
    for shared_scans in [true, false] {
        let options = PlanOptions {
            shared_scans,
            ..PlanOptions::default()
        };
        let (plan, result) = run(&db, Some(profile), options).await;
        let statements: Vec<String> = (0..plan.statements.len())
            .map(|s| plan.sql(s).to_string())
            .collect();
        assert_eq!(
            summarize(&result),
            expect(&[
                ("tenant_missing", "projects.tenant", Some(1)),
                (
                    "tenant_mismatch",
                    "projects(account_id) → accounts(id) [tenant]",
                    Some(2)
                ),
                ("tenant_mismatch", &format!("{BY_CODE} [tenant]"), Some(1)),
                ("fk_missing", BY_CODE, None),
                ("orphans", BY_CODE, Some(2)),
            ]),
            "shared scans: {shared_scans}: {:#?}\n{}",
            messages(&result),
            statements.join("\n\n")
        );
        assert_sample(
            &result,
            "orphans",
            BY_CODE,
            &[
                json!({"id": "2", "account_code": "a-1"}),
                json!({"id": "4", "account_code": "B-2"}),
            ],
        );
        if shared_scans {
            // One pass over projects, one row per project (orphans run alone
            // on MariaDB; the tenant check through the same parent shares a pass).
            let i = plan
                .checks
                .iter()
                .position(|c| c.key == format!("tenant_mismatch:{BY_CODE} [tenant]"))
                .unwrap();
            assert_eq!(result.outcomes[i].as_ref().and_then(|o| o.total), Some(5));
        }
    }
}

/// InnoDB lets a constraint reference a key that is not unique, and tether
/// counts a prefix index (`KEY (label(10))`) neither as unique nor as an index
/// for the reference. Such parents are looked up on their own with NOT EXISTS
/// (a shared LEFT JOIN would repeat child rows), on whole values: a reference
/// that shares only its first ten characters with a key is an orphan.
#[tokio::test(flavor = "multi_thread")]
async fn parents_without_a_unique_key_on_mariadb() {
    let db = TestDb::mysql().await;
    db.exec(
        r#"
CREATE TABLE batches (id integer PRIMARY KEY, code integer, KEY batches_code_idx (code));
CREATE TABLE items (
    id integer PRIMARY KEY,
    batch_code integer,
    CONSTRAINT items_batch_fkey FOREIGN KEY (batch_code) REFERENCES batches (code)
);
INSERT INTO batches VALUES (1, 10), (2, 10), (3, 20);
INSERT INTO items VALUES (1, 10), (2, 20), (3, 30), (4, NULL);

CREATE TABLE labels (name text, UNIQUE KEY labels_name_prefix (name(10)));
CREATE TABLE tags (id integer PRIMARY KEY, label text, KEY tags_label_prefix (label(10)));
INSERT INTO labels VALUES ('abcdefghij-1'), ('short');
INSERT INTO tags VALUES (1, 'abcdefghij-1'), (2, 'abcdefghij-2'), (3, 'short'), (4, NULL);
"#,
    )
    .await;
    let profile = r#"
[[relationship]]
child = "tags"
columns = ["label"]
parent = "labels"
parent_columns = ["name"]
"#;
    const ITEMS: &str = "items(batch_code) → batches(code)";
    const TAGS: &str = "tags(label) → labels(name)";
    let (plan, result) = run(&db, Some(profile), PlanOptions::default()).await;
    assert_eq!(
        summarize(&result),
        expect(&[
            ("orphans", ITEMS, Some(1)),
            ("fk_not_enforced", ITEMS, Some(1)),
            ("fk_missing", TAGS, None),
            ("orphans", TAGS, Some(1)),
        ]),
        "{:#?}",
        messages(&result)
    );
    assert_sample(
        &result,
        "orphans",
        ITEMS,
        &[json!({"id": "3", "batch_code": "30"})],
    );
    assert_sample(
        &result,
        "orphans",
        TAGS,
        &[json!({"id": "2", "label": "abcdefghij-2"})],
    );

    let flags: Vec<(String, bool, bool)> = plan
        .relationships
        .iter()
        .map(|r| (r.label(&plan.schema).arrow(), r.parent_unique, r.indexed))
        .collect();
    assert_eq!(
        flags,
        vec![
            (ITEMS.to_string(), false, true),
            (TAGS.to_string(), false, false),
        ]
    );
    let prefix = plan
        .schema
        .indexes
        .iter()
        .find(|i| i.name == "labels_name_prefix")
        .expect("the prefix index is listed");
    assert!(prefix.unique && prefix.partial, "{prefix:?}");
    // Each orphan check is a statement of its own, even with shared scans on.
    for key in [format!("orphans:{ITEMS}"), format!("orphans:{TAGS}")] {
        let i = plan.checks.iter().position(|c| c.key == key).unwrap();
        let s = plan
            .statements
            .iter()
            .position(|s| s.checks.contains(&i))
            .unwrap();
        let statement = &plan.statements[s];
        assert_eq!(statement.shape, Shape::Count, "{key}");
        assert_eq!(statement.checks, vec![i]);
        assert!(plan.sql(s).as_str().contains("NOT EXISTS"), "{key}");
    }
}

/// A profile may list a composite relationship's columns in another order than
/// the constraint (pairing child and parent columns the same way): it is the
/// same relationship, listed once, and not `fk_missing`.
async fn profile_columns_in_another_order_match_the_constraint(db: TestDb, fixture: &str) {
    db.exec(fixture).await;
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

#[tokio::test(flavor = "multi_thread")]
async fn profile_columns_in_another_order_match_the_constraint_on_sqlite() {
    profile_columns_in_another_order_match_the_constraint(TestDb::sqlite(), SQLITE_FIXTURE).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn profile_columns_in_another_order_match_the_constraint_on_mariadb() {
    profile_columns_in_another_order_match_the_constraint(TestDb::mysql().await, MARIADB_FIXTURE)
        .await;
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

/// A large table's pass runs in parts (PostgreSQL: page ranges, run in
/// parallel; SQLite: rowid ranges), each sending its row as it ends: the
/// parts count and sample exactly what the whole pass does, whichever rows
/// sit in which part, and the runner reports each part's end as progress.
#[tokio::test(flavor = "multi_thread")]
async fn a_pass_in_parts_counts_and_samples_as_the_whole_pass() {
    for db in [TestDb::postgres().await, TestDb::sqlite()] {
        let series = if db.is_postgres() {
            "generate_series(1, 6000) g"
        } else {
            "(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < 6000) SELECT g FROM s)"
        };
        let (pad, references, declare) = if db.is_postgres() {
            (
                "repeat('x', 200)",
                "",
                "ALTER TABLE events ADD FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;",
            )
        } else {
            ("'x'", "REFERENCES accounts (id)", "")
        };
        db.exec(&format!(
            "CREATE TABLE accounts (id int PRIMARY KEY, tenant int);
             INSERT INTO accounts SELECT g, g % 7 FROM {};
             CREATE TABLE events (id int PRIMARY KEY, account_id int {references}, tenant int, pad text);
             INSERT INTO events
               SELECT g,
                      CASE WHEN g % 997 = 0 THEN 1000 + g ELSE 1 + g % 100 END,
                      CASE WHEN g % 1201 = 0 THEN NULL WHEN g % 1499 = 0 THEN 99 ELSE (1 + g % 100) % 7 END,
                      {pad}
               FROM {series};
             {declare}
             ANALYZE events;",
            series.replace("6000", "100")
        ))
        .await;
        let options = PlanOptions {
            sample: 100,
            tenant_columns: Some(vec!["tenant".into()]),
            ..PlanOptions::default()
        };
        let conn = Db::connect(&db.url, SessionOptions::default())
            .await
            .expect("connect");
        let schema = tether::catalog::read(&conn, &[]).await.expect("catalog");
        let events = schema
            .tables
            .iter()
            .find(|t| t.name.name == "events")
            .expect("events")
            .clone();
        let whole = Plan::build(schema, None, &options);
        let mut parted = whole.clone();
        // The pass that reads the orphans of events.
        let orphans = parted
            .checks
            .iter()
            .position(|c| c.key == "orphans:events(account_id) → accounts(id)")
            .expect("the orphan check");
        let s = parted
            .statements
            .iter()
            .position(|s| s.shape == Shape::Scan && s.checks.contains(&orphans))
            .expect("a pass over events");
        assert_eq!(parted.statements[s].parts(), 1, "{}: small, whole", db.url);
        let parts = if db.is_postgres() {
            let pages = events.pages.expect("events has pages");
            assert!(pages >= 100, "{pages} pages: the rows spread over many");
            render::Parts::Pages { pages, count: 4 }
        } else {
            render::Parts::Key {
                key: events.range_key.clone().expect("a rowid table"),
                count: 4,
            }
        };
        let StatementText::Pass { table, only, .. } = parted.statements[s].text.clone() else {
            panic!("a shared pass")
        };
        parted.statements[s].text = StatementText::Pass {
            table,
            only,
            parts: Some(parts),
        };
        assert_eq!(parted.sql(s).as_str().matches("UNION ALL").count(), 3);
        let mut results = Vec::new();
        for plan in [whole, parted] {
            let plan = Arc::new(plan);
            let mut progress = Vec::new();
            let result =
                tether::runner::run_to_end(&conn, plan.clone(), &RunOptions::default(), |e| {
                    if let tether::runner::Event::Progress {
                        statement,
                        done,
                        parts,
                    } = e
                        && *statement == s
                    {
                        progress.push((*done, *parts));
                    }
                })
                .await;
            let of = |key: &str| {
                let i = plan.checks.iter().position(|c| c.key == key).unwrap();
                let o = result.outcomes[i].as_ref().unwrap();
                (o.count, o.total)
            };
            let counts = (
                of("orphans:events(account_id) → accounts(id)"),
                of("tenant_missing:events.tenant"),
                of("tenant_mismatch:events(account_id) → accounts(id) [tenant]"),
            );
            let samples: Vec<_> = result
                .findings
                .iter()
                .map(|f| (f.key.clone(), f.sample.clone()))
                .collect();
            results.push((counts, samples, progress));
        }
        conn.close().await;
        assert_eq!(
            results[0].0,
            (
                (Some(6), Some(6000)),
                (Some(4), Some(6000)),
                (Some(4), Some(6000))
            ),
            "{}",
            db.url
        );
        assert_eq!(results[0].0, results[1].0, "{}", db.url);
        assert_eq!(results[0].1, results[1].1, "{}", db.url);
        assert!(
            results[0].2.is_empty(),
            "a whole pass has no parts: {:?} {}",
            results[0].2,
            db.url
        );
        assert_eq!(
            results[1].2,
            vec![(1, 4), (2, 4), (3, 4), (4, 4)],
            "{}",
            db.url
        );
    }
}

/// Every check about a relationship carries it by identity: its lookup is
/// that relationship's, even when two relationships print alike (the same
/// columns referencing the same parent under two constraint names).
#[tokio::test(flavor = "multi_thread")]
async fn checks_carry_their_relationship_by_identity() {
    let db = TestDb::postgres().await;
    db.exec(
        "CREATE TABLE accounts (id int PRIMARY KEY, tenant int, code int UNIQUE);
         CREATE TABLE events (id int PRIMARY KEY, tenant int,
           account_id int CONSTRAINT first REFERENCES accounts (id),
           account_code int REFERENCES accounts (code));
         ALTER TABLE events ADD CONSTRAINT second FOREIGN KEY (account_id) REFERENCES accounts (id);",
    )
    .await;
    let options = PlanOptions {
        tenant_columns: Some(vec!["tenant".into()]),
        ..PlanOptions::default()
    };
    let (plan, _) = check(&db.url, None, options).await;
    let mut about = vec![0; plan.relationships.len()];
    for check in &plan.checks {
        let Some(r) = check.relationship else {
            continue;
        };
        about[r.index()] += 1;
        let relationship = &plan.relationships[r];
        if let Work::Rows(rows) = &check.work
            && let Some(lookup) = rows.predicate.lookup()
        {
            assert_eq!(rows.table, relationship.child, "{}", check.key);
            assert_eq!(lookup.parent, relationship.parent, "{}", check.key);
            assert_eq!(lookup.pairs, relationship.pairs(), "{}", check.key);
        }
    }
    assert!(about.iter().all(|&n| n > 0), "{about:?}");
    assert!(
        plan.checks
            .iter()
            .filter(|c| c.id == CheckId::Orphans)
            .all(|c| c.relationship.is_some())
    );
}
