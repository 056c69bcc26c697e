-- The rare-orphans dataset's checks (benches/rare.toml), written by hand: one
-- count query per check tether runs, no samples; each returns tether's
-- finding key and its count.
SELECT 'orphans:events(account_id) → accounts(id)', count(*)
FROM events e
WHERE e.account_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = e.account_id);
SELECT 'tenant_missing:accounts.tenant_id', count(*) FROM accounts WHERE tenant_id IS NULL;
SELECT 'tenant_missing:events.tenant_id', count(*) FROM events WHERE tenant_id IS NULL;
-- CROSS JOIN keeps events outer: with a plain JOIN SQLite scans accounts and
-- looks events up by account_id, in no order of the table (1.6 times slower at
-- 5,000,000 events).
SELECT 'tenant_mismatch:events(account_id) → accounts(id) [tenant_id]', count(*)
FROM events e CROSS JOIN accounts a ON a.id = e.account_id
WHERE e.tenant_id <> a.tenant_id;
