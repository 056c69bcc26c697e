//! `tether demo`: the discovery-flow schema with realistic data and a documented
//! set of faults that exercises every check id but `check_failed`: every check
//! of the bundled profile runs on the demo of every engine.
//!
//! The data is a pure function of (scale, seed, row index), so every engine gets
//! the same rows and the same faults, and [`expected`] knows the exact counts.

mod data;
mod dependents;
mod load;

pub use data::Layout;
pub use load::{DemoError, load};

use crate::checks::CheckId;
use crate::model::{Engine, ReferentialAction, TableName};
use crate::sql::ddl::{ColumnSpec, ColumnType, ForeignKeySpec, IndexSpec, TableSpec};

pub const MASTER_FLOWS: &str = "crewai_flow_state_extensions";
pub const DATA_IMPORTS: &str = "data_imports";
pub const RAW_RECORDS: &str = "raw_import_records";
pub const DISCOVERY_FLOWS: &str = "discovery_flows";
pub const ASSETS: &str = "assets";

/// The demo's size and randomness.
#[derive(Clone, Copy, Debug)]
pub struct DemoOptions {
    /// About the number of assets; other tables are proportional.
    pub scale: u64,
    pub seed: u64,
    /// Replace the demo tables in a database that already has tables.
    pub force: bool,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            scale: 10_000,
            seed: 1,
            force: false,
        }
    }
}

pub const MIN_SCALE: u64 = 100;
/// The largest scale: a billion assets (2.35 billion rows) is past any demo.
pub const MAX_SCALE: u64 = 1_000_000_000;

fn column(name: &str, ty: ColumnType, nullable: bool) -> ColumnSpec {
    ColumnSpec {
        name: name.into(),
        ty,
        nullable,
    }
}

fn fk(
    child: &str,
    columns: &str,
    parent: &TableName,
    parent_column: &str,
    on_delete: ReferentialAction,
    validate: bool,
) -> ForeignKeySpec {
    ForeignKeySpec {
        name: format!("{child}_{columns}_fkey"),
        columns: vec![columns.into()],
        parent: parent.clone(),
        parent_columns: vec![parent_column.into()],
        on_delete,
        validate,
    }
}

/// The demo's tables, in load order (parents first), for a database whose
/// default schema is `schema`.
#[allow(
    clippy::too_many_lines,
    reason = "table-like data: the demo's tables and columns, one entry each"
)]
pub fn tables(schema: &str) -> Vec<TableSpec> {
    use ColumnType::*;
    let name = |t: &str| TableName::new(schema, t);
    let tenant = || {
        vec![
            column("client_account_id", Uuid, true),
            column("engagement_id", Uuid, true),
        ]
    };
    let with_tenant = |mut cols: Vec<ColumnSpec>, rest: Vec<ColumnSpec>| {
        cols.extend(tenant());
        cols.extend(rest);
        cols
    };
    vec![
        TableSpec {
            name: name(MASTER_FLOWS),
            columns: with_tenant(
                vec![
                    column("id", Uuid, false),
                    column("flow_type", Text, false),
                    column("status", Text, false),
                ],
                vec![
                    column("created_at", Timestamp, false),
                    column("updated_at", Timestamp, false),
                    column("flow_persistence_data", Text, true),
                ],
            ),
            primary_key: vec!["id".into()],
            unique: vec![],
            foreign_keys: vec![],
        },
        TableSpec {
            name: name(DATA_IMPORTS),
            columns: with_tenant(
                vec![
                    column("id", Uuid, false),
                    column("master_flow_id", Uuid, true),
                ],
                vec![
                    column("filename", Text, false),
                    column("status", Text, false),
                    column("total_records", Integer, false),
                    column("created_at", Timestamp, false),
                ],
            ),
            primary_key: vec!["id".into()],
            unique: vec![],
            foreign_keys: vec![fk(
                DATA_IMPORTS,
                "master_flow_id",
                &name(MASTER_FLOWS),
                "id",
                ReferentialAction::Cascade,
                true,
            )],
        },
        TableSpec {
            name: name(RAW_RECORDS),
            columns: with_tenant(
                vec![
                    column("id", Uuid, false),
                    column("data_import_id", Uuid, false),
                    column("master_flow_id", Uuid, true),
                ],
                vec![
                    column("row_number", Integer, false),
                    column("raw_data", Text, true),
                    column("created_at", Timestamp, false),
                ],
            ),
            primary_key: vec!["id".into()],
            unique: vec![],
            // Fault: master_flow_id has no constraint (fk_missing).
            foreign_keys: vec![fk(
                RAW_RECORDS,
                "data_import_id",
                &name(DATA_IMPORTS),
                "id",
                ReferentialAction::Cascade,
                true,
            )],
        },
        TableSpec {
            name: name(DISCOVERY_FLOWS),
            columns: with_tenant(
                vec![
                    column("id", Uuid, false),
                    column("flow_id", Uuid, false),
                    column("master_flow_id", Uuid, true),
                    column("data_import_id", Uuid, true),
                ],
                vec![
                    column("status", Text, false),
                    column("current_phase", Text, false),
                    column("created_at", Timestamp, false),
                ],
            ),
            primary_key: vec!["id".into()],
            unique: vec![vec!["flow_id".into()]],
            foreign_keys: vec![
                fk(
                    DISCOVERY_FLOWS,
                    "master_flow_id",
                    &name(MASTER_FLOWS),
                    "id",
                    ReferentialAction::SetNull,
                    true,
                ),
                fk(
                    DISCOVERY_FLOWS,
                    "data_import_id",
                    &name(DATA_IMPORTS),
                    "id",
                    ReferentialAction::NoAction,
                    true,
                ),
            ],
        },
        TableSpec {
            name: name(ASSETS),
            columns: with_tenant(
                vec![
                    column("id", Uuid, false),
                    column("master_flow_id", Uuid, false),
                    column("discovery_flow_id", Uuid, true),
                    column("raw_import_record_id", Uuid, true),
                    // Fault: a reference by name only (implied_fk).
                    column("data_import_id", Uuid, true),
                ],
                vec![
                    column("name", Text, false),
                    column("asset_type", Text, false),
                    column("environment", Text, false),
                    column("created_at", Timestamp, false),
                ],
            ),
            primary_key: vec!["id".into()],
            unique: vec![],
            foreign_keys: vec![
                fk(
                    ASSETS,
                    "master_flow_id",
                    &name(MASTER_FLOWS),
                    "id",
                    ReferentialAction::Cascade,
                    true,
                ),
                // Faults: NO ACTION where the profile wants SET NULL (fk_delete_rule),
                // and NOT VALID over orphans (fk_not_enforced, orphans).
                fk(
                    ASSETS,
                    "discovery_flow_id",
                    &name(DISCOVERY_FLOWS),
                    "flow_id",
                    ReferentialAction::NoAction,
                    false,
                ),
                fk(
                    ASSETS,
                    "raw_import_record_id",
                    &name(RAW_RECORDS),
                    "id",
                    ReferentialAction::SetNull,
                    true,
                ),
            ],
        },
    ]
}

/// Indexes on reference columns. Fault: none on raw_import_records.data_import_id
/// (fk_unindexed).
pub fn indexes(schema: &str) -> Vec<IndexSpec> {
    [
        (DATA_IMPORTS, "master_flow_id"),
        (RAW_RECORDS, "master_flow_id"),
        (DISCOVERY_FLOWS, "master_flow_id"),
        (DISCOVERY_FLOWS, "data_import_id"),
        (ASSETS, "master_flow_id"),
        (ASSETS, "discovery_flow_id"),
        (ASSETS, "raw_import_record_id"),
    ]
    .into_iter()
    .map(|(t, c)| IndexSpec {
        name: format!("{t}_{c}_idx"),
        table: TableName::new(schema, t),
        columns: vec![c.into()],
    })
    .collect()
}

/// One planted fault and what `tether check --profile discovery-flow` reports for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub check: CheckId,
    /// The finding's location as reports print it (`Finding::location`).
    pub location: String,
    /// Exact row count, for row checks.
    pub count: Option<u64>,
    /// What was done to the data.
    pub planted: String,
    /// Depends on timing rather than data (slow_check).
    pub timing: bool,
}

/// Every fault the demo plants at `scale`, with the exact finding it produces on
/// `engine`.
#[allow(
    clippy::too_many_lines,
    reason = "table-like data: one entry per planted fault"
)]
pub fn expected(scale: u64, engine: Engine) -> Vec<Fault> {
    let l = Layout::new(scale);
    let k = l.k;
    let rel = |c: &str, cc: &str, p: &str, pc: &str| format!("{c}({cc}) → {p}({pc})");
    let f = |check, location: String, count: Option<u64>, planted: &str| Fault {
        check,
        location,
        count,
        planted: planted.to_string(),
        timing: false,
    };
    let assets_df = rel(ASSETS, "discovery_flow_id", DISCOVERY_FLOWS, "flow_id");
    let raw_master = rel(RAW_RECORDS, "master_flow_id", MASTER_FLOWS, "id");
    let mut out = vec![
        f(
            CheckId::FkMissing,
            raw_master.clone(),
            None,
            "raw_import_records.master_flow_id has no FK constraint",
        ),
        f(
            CheckId::FkDeleteRule,
            assets_df.clone(),
            None,
            "assets.discovery_flow_id is ON DELETE NO ACTION; the profile wants SET NULL",
        ),
        match engine {
            // The catalog tells: NOT VALID.
            Engine::Postgres => f(
                CheckId::FkNotEnforced,
                assets_df.clone(),
                None,
                "assets.discovery_flow_id's constraint is NOT VALID",
            ),
            // SQLite cannot tell; the orphans prove it.
            Engine::Sqlite | Engine::Mysql => f(
                CheckId::FkNotEnforced,
                assets_df.clone(),
                Some(3 * k),
                "assets.discovery_flow_id's constraint is violated (written with foreign_keys off)",
            ),
        },
        f(
            CheckId::ImpliedFk,
            rel(ASSETS, "data_import_id", DATA_IMPORTS, "id"),
            None,
            "assets.data_import_id refers to data_imports by name only",
        ),
        f(
            CheckId::Orphans,
            assets_df,
            Some(3 * k),
            "assets whose discovery flow was deleted",
        ),
        f(
            CheckId::Orphans,
            raw_master,
            Some(2 * k),
            "raw records whose master flow was deleted",
        ),
        f(
            CheckId::TenantMissing,
            format!("{ASSETS}.engagement_id"),
            Some(k),
            "assets without engagement_id",
        ),
        f(
            CheckId::TenantMissing,
            format!("{RAW_RECORDS}.client_account_id"),
            Some(k),
            "raw records without client_account_id",
        ),
    ];
    for (cc, p, pc) in [
        ("master_flow_id", MASTER_FLOWS, "id"),
        ("discovery_flow_id", DISCOVERY_FLOWS, "flow_id"),
        ("raw_import_record_id", RAW_RECORDS, "id"),
        ("data_import_id", DATA_IMPORTS, "id"),
    ] {
        out.push(f(
            CheckId::TenantMismatch,
            format!("{} [client_account_id]", rel(ASSETS, cc, p, pc)),
            Some(k),
            "assets moved to another client",
        ));
    }
    for (cc, p) in [
        ("data_import_id", DATA_IMPORTS),
        ("master_flow_id", MASTER_FLOWS),
    ] {
        out.push(f(
            CheckId::TenantMismatch,
            format!("{} [engagement_id]", rel(RAW_RECORDS, cc, p, "id")),
            Some(k),
            "raw records moved to another engagement",
        ));
    }
    out.extend([
        f(
            CheckId::PathMismatch,
            format!("{ASSETS}: asset_master_flow"),
            Some(2 * k),
            "assets pointing at another master flow than their discovery flow's",
        ),
        f(
            CheckId::PathMismatch,
            format!("{RAW_RECORDS}: raw_record_master_flow"),
            Some(3 * k),
            "raw records on another master flow than their import's (including the orphaned ones)",
        ),
        f(
            CheckId::PathMismatch,
            format!("{DISCOVERY_FLOWS}: discovery_flow_master_flow"),
            Some(k),
            "discovery flows attached to another master flow's import",
        ),
        f(
            CheckId::Custom,
            "completed_flow_with_running_discovery".into(),
            Some(k),
            "completed master flows with a discovery flow still running",
        ),
        f(
            CheckId::Custom,
            "flow_state_names_its_flow".into(),
            Some(1),
            "one master flow's flow_persistence_data is truncated JSON",
        ),
    ]);
    // InnoDB indexes every foreign key it is given, so MySQL has no unindexed one.
    if engine != Engine::Mysql {
        out.push(f(
            CheckId::FkUnindexed,
            rel(RAW_RECORDS, "data_import_id", DATA_IMPORTS, "id"),
            None,
            "no index on raw_import_records.data_import_id",
        ));
    }
    out.push(Fault {
        check: CheckId::SlowCheck,
        location: "import_totals_match".into(),
        count: None,
        planted: "the assertion's budget is 1 ms".into(),
        timing: true,
    });
    out
}
