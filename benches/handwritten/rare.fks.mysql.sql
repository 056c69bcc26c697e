-- The rare-orphans dataset's one declared foreign key, as an anti-join.
SELECT 'orphans:events(account_id) → accounts(id)', count(*)
FROM events e
WHERE e.account_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = e.account_id);
