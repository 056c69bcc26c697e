#!/usr/bin/env bash
# Wall time and peak memory of `tether check` on generated PostgreSQL schemas
# of SMALL and LARGE tables (each with two foreign keys to earlier tables),
# and their ratio: the cost should grow with the schema, not with its square.
#
#   benches/wide_schema.sh [SMALL] [LARGE]      (defaults: 1000 8000)
#
# Needs PostgreSQL on 127.0.0.1:5432 with trust for `postgres` and GNU time.
# Leaves the databases tether_wide_<N> in place for further runs.
set -euo pipefail
cd "$(dirname "$0")/.."
small=${1:-1000}
large=${2:-8000}
server="postgres://postgres@127.0.0.1:5432"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet
tether=./target/release/tether

make_schema() {
  local n=$1 db=tether_wide_$1
  if psql "$server/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    return
  fi
  psql "$server/postgres" -qc "CREATE DATABASE $db"
  python3 - "$n" >"$work/schema.sql" <<'PY'
import sys
n = int(sys.argv[1])
# Batches keep each transaction's locks within max_locks_per_transaction.
for i in range(n):
    if i % 400 == 0: print("BEGIN;")
    print(f"CREATE TABLE t{i} (id int PRIMARY KEY, a_id int, b_id int, tenant text);")
    if i % 400 == 399 or i == n - 1: print("COMMIT;")
for i in range(2, n):
    if i % 200 == 2: print("BEGIN;")
    print(f"ALTER TABLE t{i} ADD FOREIGN KEY (a_id) REFERENCES t{i-1} (id), ADD FOREIGN KEY (b_id) REFERENCES t{i-2} (id);")
    if i % 200 == 1 or i == n - 1: print("COMMIT;")
PY
  psql "$server/$db" -q -f "$work/schema.sql" >/dev/null
}

run() {
  local n=$1
  make_schema "$n"
  /usr/bin/time -f "%e %M" -o "$work/t" "$tether" check --url "$server/tether_wide_$n" \
    --format json -o "$work/out.json" --fail-on never
  read -r wall rss <"$work/t"
  local listed
  listed=$(python3 -c "import json; print(len(json.load(open('$work/out.json'))['relationships']))")
  echo "$n tables: ${wall} s, peak RSS $((rss / 1024)) MB, $listed relationships in the report" >&2
  echo "$wall"
}
t_small=$(run "$small")
t_large=$(run "$large")
awk -v s="$t_small" -v l="$t_large" -v n="$((large / small))" \
  'BEGIN { printf "ratio:  %.1f for %dx the tables (target <= 10)\n", l / s, n }'
