-- The discovery-flow profile's checks on the demo database (SQLite), written
-- by hand: one count query per check tether runs (`tether sql --standalone
-- --profile discovery-flow` lists them), no samples. Each returns the check's
-- finding key (as in tether's JSON report) and its count. Orphans are
-- anti-joins with NOT EXISTS; tenant and path mismatches join the parent on
-- its unique key; the profile's assertions are counted as they are written.
-- Run with: sqlite3 -batch -bail -list DB < demo.sqlite.sql

-- orphans: rows whose non-NULL reference has no parent row
SELECT 'orphans:assets(data_import_id) → data_imports(id)', count(*)
FROM assets a
WHERE a.data_import_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM data_imports i WHERE i.id = a.data_import_id);
SELECT 'orphans:assets(discovery_flow_id) → discovery_flows(flow_id)', count(*)
FROM assets a
WHERE a.discovery_flow_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM discovery_flows d WHERE d.flow_id = a.discovery_flow_id);
SELECT 'orphans:assets(master_flow_id) → crewai_flow_state_extensions(id)', count(*)
FROM assets a
WHERE a.master_flow_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM crewai_flow_state_extensions m WHERE m.id = a.master_flow_id);
SELECT 'orphans:assets(raw_import_record_id) → raw_import_records(id)', count(*)
FROM assets a
WHERE a.raw_import_record_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM raw_import_records r WHERE r.id = a.raw_import_record_id);
SELECT 'orphans:data_imports(master_flow_id) → crewai_flow_state_extensions(id)', count(*)
FROM data_imports i
WHERE i.master_flow_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM crewai_flow_state_extensions m WHERE m.id = i.master_flow_id);
SELECT 'orphans:discovery_flows(data_import_id) → data_imports(id)', count(*)
FROM discovery_flows d
WHERE d.data_import_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM data_imports i WHERE i.id = d.data_import_id);
SELECT 'orphans:discovery_flows(master_flow_id) → crewai_flow_state_extensions(id)', count(*)
FROM discovery_flows d
WHERE d.master_flow_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM crewai_flow_state_extensions m WHERE m.id = d.master_flow_id);
SELECT 'orphans:raw_import_records(data_import_id) → data_imports(id)', count(*)
FROM raw_import_records r
WHERE r.data_import_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM data_imports i WHERE i.id = r.data_import_id);
SELECT 'orphans:raw_import_records(master_flow_id) → crewai_flow_state_extensions(id)', count(*)
FROM raw_import_records r
WHERE r.master_flow_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM crewai_flow_state_extensions m WHERE m.id = r.master_flow_id);

-- tenant_missing: rows without a tenant id
SELECT 'tenant_missing:assets.client_account_id', count(*) FROM assets WHERE client_account_id IS NULL;
SELECT 'tenant_missing:assets.engagement_id', count(*) FROM assets WHERE engagement_id IS NULL;
SELECT 'tenant_missing:crewai_flow_state_extensions.client_account_id', count(*) FROM crewai_flow_state_extensions WHERE client_account_id IS NULL;
SELECT 'tenant_missing:crewai_flow_state_extensions.engagement_id', count(*) FROM crewai_flow_state_extensions WHERE engagement_id IS NULL;
SELECT 'tenant_missing:data_imports.client_account_id', count(*) FROM data_imports WHERE client_account_id IS NULL;
SELECT 'tenant_missing:data_imports.engagement_id', count(*) FROM data_imports WHERE engagement_id IS NULL;
SELECT 'tenant_missing:discovery_flows.client_account_id', count(*) FROM discovery_flows WHERE client_account_id IS NULL;
SELECT 'tenant_missing:discovery_flows.engagement_id', count(*) FROM discovery_flows WHERE engagement_id IS NULL;
SELECT 'tenant_missing:raw_import_records.client_account_id', count(*) FROM raw_import_records WHERE client_account_id IS NULL;
SELECT 'tenant_missing:raw_import_records.engagement_id', count(*) FROM raw_import_records WHERE engagement_id IS NULL;

-- tenant_mismatch: rows whose tenant id differs from their parent's
SELECT 'tenant_mismatch:assets(data_import_id) → data_imports(id) [client_account_id]', count(*)
FROM assets a JOIN data_imports i ON i.id = a.data_import_id
WHERE a.client_account_id <> i.client_account_id;
SELECT 'tenant_mismatch:assets(data_import_id) → data_imports(id) [engagement_id]', count(*)
FROM assets a JOIN data_imports i ON i.id = a.data_import_id
WHERE a.engagement_id <> i.engagement_id;
SELECT 'tenant_mismatch:assets(discovery_flow_id) → discovery_flows(flow_id) [client_account_id]', count(*)
FROM assets a JOIN discovery_flows d ON d.flow_id = a.discovery_flow_id
WHERE a.client_account_id <> d.client_account_id;
SELECT 'tenant_mismatch:assets(discovery_flow_id) → discovery_flows(flow_id) [engagement_id]', count(*)
FROM assets a JOIN discovery_flows d ON d.flow_id = a.discovery_flow_id
WHERE a.engagement_id <> d.engagement_id;
SELECT 'tenant_mismatch:assets(master_flow_id) → crewai_flow_state_extensions(id) [client_account_id]', count(*)
FROM assets a JOIN crewai_flow_state_extensions m ON m.id = a.master_flow_id
WHERE a.client_account_id <> m.client_account_id;
SELECT 'tenant_mismatch:assets(master_flow_id) → crewai_flow_state_extensions(id) [engagement_id]', count(*)
FROM assets a JOIN crewai_flow_state_extensions m ON m.id = a.master_flow_id
WHERE a.engagement_id <> m.engagement_id;
SELECT 'tenant_mismatch:assets(raw_import_record_id) → raw_import_records(id) [client_account_id]', count(*)
FROM assets a JOIN raw_import_records r ON r.id = a.raw_import_record_id
WHERE a.client_account_id <> r.client_account_id;
SELECT 'tenant_mismatch:assets(raw_import_record_id) → raw_import_records(id) [engagement_id]', count(*)
FROM assets a JOIN raw_import_records r ON r.id = a.raw_import_record_id
WHERE a.engagement_id <> r.engagement_id;
SELECT 'tenant_mismatch:data_imports(master_flow_id) → crewai_flow_state_extensions(id) [client_account_id]', count(*)
FROM data_imports i JOIN crewai_flow_state_extensions m ON m.id = i.master_flow_id
WHERE i.client_account_id <> m.client_account_id;
SELECT 'tenant_mismatch:data_imports(master_flow_id) → crewai_flow_state_extensions(id) [engagement_id]', count(*)
FROM data_imports i JOIN crewai_flow_state_extensions m ON m.id = i.master_flow_id
WHERE i.engagement_id <> m.engagement_id;
SELECT 'tenant_mismatch:discovery_flows(data_import_id) → data_imports(id) [client_account_id]', count(*)
FROM discovery_flows d JOIN data_imports i ON i.id = d.data_import_id
WHERE d.client_account_id <> i.client_account_id;
SELECT 'tenant_mismatch:discovery_flows(data_import_id) → data_imports(id) [engagement_id]', count(*)
FROM discovery_flows d JOIN data_imports i ON i.id = d.data_import_id
WHERE d.engagement_id <> i.engagement_id;
SELECT 'tenant_mismatch:discovery_flows(master_flow_id) → crewai_flow_state_extensions(id) [client_account_id]', count(*)
FROM discovery_flows d JOIN crewai_flow_state_extensions m ON m.id = d.master_flow_id
WHERE d.client_account_id <> m.client_account_id;
SELECT 'tenant_mismatch:discovery_flows(master_flow_id) → crewai_flow_state_extensions(id) [engagement_id]', count(*)
FROM discovery_flows d JOIN crewai_flow_state_extensions m ON m.id = d.master_flow_id
WHERE d.engagement_id <> m.engagement_id;
SELECT 'tenant_mismatch:raw_import_records(data_import_id) → data_imports(id) [client_account_id]', count(*)
FROM raw_import_records r JOIN data_imports i ON i.id = r.data_import_id
WHERE r.client_account_id <> i.client_account_id;
SELECT 'tenant_mismatch:raw_import_records(data_import_id) → data_imports(id) [engagement_id]', count(*)
FROM raw_import_records r JOIN data_imports i ON i.id = r.data_import_id
WHERE r.engagement_id <> i.engagement_id;
SELECT 'tenant_mismatch:raw_import_records(master_flow_id) → crewai_flow_state_extensions(id) [client_account_id]', count(*)
FROM raw_import_records r JOIN crewai_flow_state_extensions m ON m.id = r.master_flow_id
WHERE r.client_account_id <> m.client_account_id;
SELECT 'tenant_mismatch:raw_import_records(master_flow_id) → crewai_flow_state_extensions(id) [engagement_id]', count(*)
FROM raw_import_records r JOIN crewai_flow_state_extensions m ON m.id = r.master_flow_id
WHERE r.engagement_id <> m.engagement_id;

-- path_mismatch: a row's master flow differs from its parent's
SELECT 'path_mismatch:assets: asset_master_flow', count(*)
FROM assets a JOIN discovery_flows d ON d.flow_id = a.discovery_flow_id
WHERE a.master_flow_id <> d.master_flow_id;
SELECT 'path_mismatch:raw_import_records: raw_record_master_flow', count(*)
FROM raw_import_records r JOIN data_imports i ON i.id = r.data_import_id
WHERE r.master_flow_id <> i.master_flow_id;
SELECT 'path_mismatch:discovery_flows: discovery_flow_master_flow', count(*)
FROM discovery_flows d JOIN data_imports i ON i.id = d.data_import_id
WHERE d.master_flow_id <> i.master_flow_id;

-- custom: the profile's assertions, counted
SELECT 'custom:completed_flow_with_running_discovery', count(*) FROM (
SELECT m.id AS master_flow_id, d.flow_id AS discovery_flow_id
FROM crewai_flow_state_extensions m
JOIN discovery_flows d ON d.master_flow_id = m.id
WHERE m.status = 'completed' AND d.status = 'running'
) q;

SELECT 'custom:flow_state_names_its_flow', count(*) FROM (
SELECT id, CASE WHEN json_valid(flow_persistence_data) THEN 'no flow_id' ELSE 'not valid JSON' END AS problem
FROM crewai_flow_state_extensions
WHERE flow_persistence_data IS NOT NULL
  AND CASE WHEN json_valid(flow_persistence_data)
           THEN json_extract(flow_persistence_data, '$.flow_id') IS NULL
           ELSE 1 END
) q;

SELECT 'custom:import_totals_match', count(*) FROM (
SELECT i.id, i.total_records, count(r.id) AS actual
FROM data_imports i
LEFT JOIN raw_import_records r ON r.data_import_id = i.id
GROUP BY i.id, i.total_records
HAVING count(r.id) <> i.total_records
) q;
