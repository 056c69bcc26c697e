-- Only the demo's declared foreign keys (SQLite): one anti-join with NOT
-- EXISTS per FK constraint in the catalog (seven; assets.data_import_id is
-- implied by its name and raw_import_records.master_flow_id is declared only
-- by the profile, so neither is here). The floor a DBA pays to learn whether
-- the declared constraints hold, before any tenant, path or assertion check.
-- Run with: sqlite3 -batch -bail -list DB < demo.fks.sqlite.sql
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
