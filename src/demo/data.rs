//! The demo's rows: each a pure function of (seed, table, index).

/// Sizes of the demo tables and where the faults sit, for one scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Assets.
    pub assets: u64,
    /// Master flows; also data imports and discovery flows (one each per master flow).
    pub flows: u64,
    /// Raw import records: one per asset, plus a fifth that never became assets.
    pub raw_records: u64,
    /// The fault unit: max(1, assets / 1000).
    pub k: u64,
}

pub const TENANTS: u64 = 6;
const FLOW_TYPES: [&str; 4] = ["assessment", "discovery", "execution", "planning"];
const ASSET_TYPES: [&str; 6] = [
    "server",
    "database",
    "application",
    "network",
    "storage",
    "container",
];
const ENVIRONMENTS: [&str; 3] = ["production", "staging", "development"];
const PHASES: [&str; 4] = [
    "data_import",
    "field_mapping",
    "data_cleansing",
    "asset_inventory",
];
/// 2026-01-01T00:00:00Z
const EPOCH_2026: i64 = 1_767_225_600;
/// 2026-03-14T02:00:00Z: the hour a broken import job wrote the rows whose
/// parents it had deleted (the demo's orphans), so that their timeline is a
/// burst.
const BURST: i64 = 1_773_453_600;

/// When fault row `n` of `count` was written: within the burst's hour, most
/// of them in its first minutes (the job's rate fell as it failed).
fn in_burst(n: u64, count: u64) -> i64 {
    let count = count.max(1);
    (BURST + (n * n * 3_599 / (count * count)) as i64) * 1_000_000
}

impl Layout {
    pub fn new(scale: u64) -> Layout {
        let assets = scale.max(super::MIN_SCALE);
        Layout {
            assets,
            flows: (assets / 20).max(12),
            raw_records: assets + assets / 5,
            k: (assets / 1000).max(1),
        }
    }

    /// Faults are spread through each table, as they arise in life: fault `class`
    /// (0..10) takes `count` rows of residue `class` modulo 10, evenly spaced over
    /// `size` rows. Returns the row's ordinal within the fault, if it is one.
    fn slot(index: u64, size: u64, class: u64, count: u64) -> Option<u64> {
        if index % 10 != class || count == 0 {
            return None;
        }
        let span = size / 10;
        let q = index / 10;
        // The smallest i with floor(i * span / count) >= q.
        let i = (q * count).div_ceil(span);
        (i < count && i * span / count == q).then_some(i)
    }

    /// Asset fault `class`: 0 orphaned discovery flow (3k), 1 no engagement (k),
    /// 2 NULL raw record (k), 3 other client (k), 4 other master flow (2k).
    pub(super) fn asset_fault(&self, a: u64) -> Option<(u64, u64)> {
        let k = self.k;
        [(0, 3 * k), (1, k), (2, k), (3, k), (4, 2 * k)]
            .into_iter()
            .find_map(|(class, count)| Self::slot(a, self.assets, class, count).map(|i| (class, i)))
    }

    /// Raw-record fault, among the records that never became assets: 0 deleted
    /// master flow (2k), 1 no client (k), 2 other engagement (k), 3 other master flow (k).
    pub(super) fn raw_fault(&self, r: u64) -> Option<(u64, u64)> {
        let k = self.k;
        let offset = r.checked_sub(self.assets)?;
        let size = self.raw_records - self.assets;
        [(0, 2 * k), (1, k), (2, k), (3, k)]
            .into_iter()
            .find_map(|(class, count)| Self::slot(offset, size, class, count).map(|i| (class, i)))
    }

    /// A different master flow of the same tenant as flow `f`.
    fn sibling_flow(&self, f: u64) -> u64 {
        if f + TENANTS < self.flows {
            f + TENANTS
        } else {
            f - TENANTS
        }
    }

    /// Discovery flows (by index) whose master flow reference is NULL.
    fn df_null_master(&self, d: u64) -> bool {
        Self::slot(d, self.flows, 7, self.k).is_some()
    }

    /// Discovery flows attached to a sibling flow's import (path fault).
    fn df_moved(&self, d: u64) -> bool {
        Self::slot(d, self.flows, 8, self.k).is_some()
    }

    /// Master flows marked completed while their discovery flow runs (custom
    /// fault); flows of residue 0 are completed ones.
    fn flow_completed_early(&self, f: u64) -> bool {
        Self::slot(f, self.flows, 0, self.k).is_some()
    }
}

fn status_of(f: u64) -> &'static str {
    match f % 10 {
        0..=6 => "completed",
        7 => "failed",
        8 => "running",
        _ => "paused",
    }
}

/// One value of a demo row.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Uuid(u128),
    Text(String),
    Int(i64),
    /// Microseconds since the Unix epoch, UTC.
    Time(i64),
    Null,
}

impl Cell {
    pub fn uuid_text(id: u128) -> String {
        let h = format!("{id:032x}");
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// The value as text: uuids hyphenated, times as `YYYY-MM-DD HH:MM:SS.ffffff`.
    pub fn text(&self) -> Option<String> {
        match self {
            Cell::Uuid(id) => Some(Cell::uuid_text(*id)),
            Cell::Text(s) => Some(s.clone()),
            Cell::Int(n) => Some(n.to_string()),
            Cell::Time(micros) => Some(crate::clock::utc(*micros)),
            Cell::Null => None,
        }
    }
}

/// Deterministic mixing (splitmix64).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The rows of every demo table for one (scale, seed).
#[derive(Clone, Copy, Debug)]
pub struct Rows {
    pub layout: Layout,
    seed: u64,
}

#[derive(Clone, Copy)]
enum Kind {
    Client = 1,
    Engagement,
    Flow,
    Import,
    Raw,
    DiscoveryRow,
    DiscoveryFlow,
    Asset,
    Noise,
}

impl Rows {
    pub fn new(scale: u64, seed: u64) -> Rows {
        Rows {
            layout: Layout::new(scale),
            seed,
        }
    }

    fn random(&self, kind: Kind, index: u64, field: u64) -> u64 {
        mix(self.seed ^ mix((kind as u64) << 56 ^ index.wrapping_mul(31) ^ field << 48))
    }

    /// A version-4-shaped uuid for row `index` of `kind`.
    fn id(&self, kind: Kind, index: u64) -> u128 {
        let hi = self.random(kind, index, 1);
        let lo = self.random(kind, index, 2);
        let v = (u128::from(hi) << 64) | u128::from(lo);
        (v & !(0xF000u128 << 64) & !(0xC000_0000_0000_0000u128))
            | (0x4000u128 << 64)
            | 0x8000_0000_0000_0000u128
    }

    fn client(&self, tenant: u64) -> Cell {
        Cell::Uuid(self.id(Kind::Client, tenant / 2))
    }

    fn engagement(&self, tenant: u64) -> Cell {
        Cell::Uuid(self.id(Kind::Engagement, tenant))
    }

    fn flow_id(&self, f: u64) -> Cell {
        Cell::Uuid(self.id(Kind::Flow, f))
    }

    fn import_id(&self, i: u64) -> Cell {
        Cell::Uuid(self.id(Kind::Import, i))
    }

    fn created(&self, f: u64) -> i64 {
        (EPOCH_2026 + f as i64 * 600 + (self.random(Kind::Noise, f, 3) % 300) as i64) * 1_000_000
    }

    /// crewai_flow_state_extensions: id, flow_type, status, client_account_id,
    /// engagement_id, created_at, updated_at, flow_persistence_data.
    pub fn master_flow(&self, f: u64) -> Vec<Cell> {
        let tenant = f % TENANTS;
        let created = self.created(f);
        let duration = 60 + (self.random(Kind::Flow, f, 4) % 7140) as i64;
        let id = self.id(Kind::Flow, f);
        let phase = PHASES[(f % 4) as usize];
        let state = if f == 1 {
            // Fault: a truncated write.
            format!(
                "{{\"flow_id\": \"{}\", \"phase\": \"{phase}",
                Cell::uuid_text(id)
            )
        } else {
            format!(
                "{{\"flow_id\": \"{}\", \"phase\": \"{phase}\"}}",
                Cell::uuid_text(id)
            )
        };
        vec![
            Cell::Uuid(id),
            Cell::Text(FLOW_TYPES[(f % 4) as usize].into()),
            Cell::Text(status_of(f).into()),
            self.client(tenant),
            self.engagement(tenant),
            Cell::Time(created),
            Cell::Time(created + duration * 1_000_000),
            Cell::Text(state),
        ]
    }

    /// Raw records per import `i`.
    fn records_in(&self, i: u64) -> u64 {
        let l = &self.layout;
        l.raw_records / l.flows + u64::from(i < l.raw_records % l.flows)
    }

    /// data_imports: id, master_flow_id, client_account_id, engagement_id, filename,
    /// status, total_records, created_at.
    pub fn data_import(&self, i: u64) -> Vec<Cell> {
        let tenant = i % TENANTS;
        vec![
            self.import_id(i),
            self.flow_id(i),
            self.client(tenant),
            self.engagement(tenant),
            Cell::Text(format!("cmdb-export-{i:06}.csv")),
            Cell::Text("completed".into()),
            Cell::Int(self.records_in(i) as i64),
            Cell::Time(self.created(i) + 60_000_000),
        ]
    }

    /// raw_import_records: id, data_import_id, master_flow_id, client_account_id,
    /// engagement_id, row_number, raw_data, created_at.
    pub fn raw_record(&self, r: u64) -> Vec<Cell> {
        let l = &self.layout;
        let i = r % l.flows;
        let tenant = i % TENANTS;
        let mut master = self.flow_id(i);
        let mut client = self.client(tenant);
        let mut engagement = self.engagement(tenant);
        let mut at = self.created(i) + 120_000_000 + (r / l.flows) as i64 * 1000;
        match l.raw_fault(r) {
            // Fault: the master flow was deleted (orphans, and a path mismatch).
            Some((0, n)) => {
                master = Cell::Uuid(self.id(Kind::Flow, l.flows + n));
                at = in_burst(n, 2 * l.k);
            }
            Some((1, _)) => client = Cell::Null,
            Some((2, _)) => engagement = self.engagement(tenant ^ 1),
            Some((_, _)) => master = self.flow_id(l.sibling_flow(i)),
            None => {}
        }
        vec![
            Cell::Uuid(self.id(Kind::Raw, r)),
            self.import_id(i),
            master,
            client,
            engagement,
            Cell::Int((r / l.flows) as i64 + 1),
            Cell::Text(format!(
                "{{\"hostname\": \"host-{r:07}\", \"ip\": \"10.{}.{}.{}\", \"os\": \"linux\"}}",
                (r >> 16) & 255,
                (r >> 8) & 255,
                r & 255
            )),
            Cell::Time(at),
        ]
    }

    /// discovery_flows: id, flow_id, master_flow_id, data_import_id,
    /// client_account_id, engagement_id, status, current_phase, created_at.
    pub fn discovery_flow(&self, d: u64) -> Vec<Cell> {
        let l = &self.layout;
        let tenant = d % TENANTS;
        let master = if l.df_null_master(d) {
            Cell::Null
        } else {
            self.flow_id(d)
        };
        let import = if l.df_moved(d) {
            self.import_id(l.sibling_flow(d))
        } else {
            self.import_id(d)
        };
        let status = if l.flow_completed_early(d) {
            "running"
        } else {
            status_of(d)
        };
        vec![
            Cell::Uuid(self.id(Kind::DiscoveryRow, d)),
            Cell::Uuid(self.id(Kind::DiscoveryFlow, d)),
            master,
            import,
            self.client(tenant),
            self.engagement(tenant),
            Cell::Text(status.into()),
            Cell::Text(PHASES[(d % 4) as usize].into()),
            Cell::Time(self.created(d) + 90_000_000),
        ]
    }

    /// assets: id, master_flow_id, discovery_flow_id, raw_import_record_id,
    /// data_import_id, client_account_id, engagement_id, name, asset_type,
    /// environment, created_at.
    pub fn asset(&self, a: u64) -> Vec<Cell> {
        let l = &self.layout;
        let i = a % l.flows;
        let tenant = i % TENANTS;
        let mut master = self.flow_id(i);
        let mut discovery = Cell::Uuid(self.id(Kind::DiscoveryFlow, i));
        let mut raw = Cell::Uuid(self.id(Kind::Raw, a));
        let mut client = self.client(tenant);
        let mut engagement = self.engagement(tenant);
        let mut import = self.import_id(i);
        let mut at = self.created(i) + 180_000_000 + (a / l.flows) as i64 * 1000;
        match l.asset_fault(a) {
            // Fault: the discovery flow was deleted (orphans).
            Some((0, n)) => {
                discovery = Cell::Uuid(self.id(Kind::DiscoveryFlow, l.flows + n));
                at = in_burst(n, 3 * l.k);
                // The burst's first two thirds hit one tenant: the asset
                // belongs to the flow of tenant 0 among the six around its
                // own, with that flow's import and one of its raw records
                // (so that nothing else about it is wrong).
                if n < 2 * l.k {
                    let to = i - i % TENANTS;
                    master = self.flow_id(to);
                    import = self.import_id(to);
                    raw = Cell::Uuid(self.id(Kind::Raw, a - (i - to)));
                    client = self.client(0);
                    engagement = self.engagement(0);
                }
            }
            Some((1, _)) => engagement = Cell::Null,
            // Not a fault: a NULL reference is not an orphan.
            Some((2, _)) => raw = Cell::Null,
            Some((3, _)) => client = self.client((tenant + 2) % TENANTS),
            Some((_, _)) => master = self.flow_id(l.sibling_flow(i)),
            None => {}
        }
        vec![
            Cell::Uuid(self.id(Kind::Asset, a)),
            master,
            discovery,
            raw,
            import,
            client,
            engagement,
            Cell::Text(format!("asset-{a:07}")),
            Cell::Text(ASSET_TYPES[(self.random(Kind::Asset, a, 5) % 6) as usize].into()),
            Cell::Text(ENVIRONMENTS[(self.random(Kind::Asset, a, 6) % 3) as usize].into()),
            Cell::Time(at),
        ]
    }

    /// Row count of each demo table, in load order.
    pub fn counts(&self) -> [u64; 5] {
        let l = &self.layout;
        [l.flows, l.flows, l.raw_records, l.flows, l.assets]
    }

    /// Row `index` of table `t` (load order).
    pub fn row(&self, t: usize, index: u64) -> Vec<Cell> {
        match t {
            0 => self.master_flow(index),
            1 => self.data_import(index),
            2 => self.raw_record(index),
            3 => self.discovery_flow(index),
            _ => self.asset(index),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_timestamps() {
        assert_eq!(
            crate::clock::utc(EPOCH_2026 * 1_000_000),
            "2026-01-01 00:00:00.000000"
        );
        assert_eq!(
            crate::clock::utc(951_782_400_000_001),
            "2000-02-29 00:00:00.000001"
        );
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let rows = Rows::new(1000, 7);
        assert_eq!(rows.asset(3), rows.asset(3));
        assert_ne!(rows.asset(3)[0], rows.asset(4)[0]);
        assert_ne!(Rows::new(1000, 8).asset(3)[0], rows.asset(3)[0]);
        let Cell::Uuid(id) = rows.asset(3)[0] else {
            panic!()
        };
        assert_eq!(&Cell::uuid_text(id)[14..15], "4");
    }

    #[test]
    fn faults_have_their_exact_sizes() {
        for scale in [100, 999, 1000, 10_000, 123_457] {
            let l = Layout::new(scale);
            let k = l.k;
            let mut assets = [0u64; 5];
            for a in 0..l.assets {
                if let Some((class, _)) = l.asset_fault(a) {
                    assets[class as usize] += 1;
                }
            }
            assert_eq!(assets, [3 * k, k, k, k, 2 * k], "scale {scale}");
            let mut raw = [0u64; 4];
            for r in 0..l.raw_records {
                if let Some((class, _)) = l.raw_fault(r) {
                    raw[class as usize] += 1;
                }
            }
            assert_eq!(raw, [2 * k, k, k, k], "scale {scale}");
            let count =
                |f: fn(&Layout, u64) -> bool| (0..l.flows).filter(|&d| f(&l, d)).count() as u64;
            assert_eq!(count(Layout::df_null_master), k);
            assert_eq!(count(Layout::df_moved), k);
            assert_eq!(count(Layout::flow_completed_early), k);
            assert!(
                (0..l.flows)
                    .filter(|&f| l.flow_completed_early(f))
                    .all(|f| status_of(f) == "completed")
            );
        }
    }
}
