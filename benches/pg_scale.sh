#!/usr/bin/env bash
# Wall time and peak memory of `tether check --profile discovery-flow` on a
# PostgreSQL demo database, against the same checks' standalone SQL run one after
# another through psql.
#
#   benches/pg_scale.sh [SCALE] [RUNS]        (defaults: 1000000 assets, 5 runs)
#
# Needs PostgreSQL on 127.0.0.1:5432 with trust authentication for `postgres`
# (./scripts/test sets that up), psql and GNU time. Leaves the database
# tether_bench_<SCALE> in place for further runs; drop it when done.
set -euo pipefail
cd "$(dirname "$0")/.."

scale=${1:-1000000}
runs=${2:-5}
db="tether_bench_${scale}"
server="postgres://postgres@127.0.0.1:5432"
url="$server/$db"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet
tether=./target/release/tether

if ! psql "$server/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
  psql "$server/postgres" -qc "CREATE DATABASE \"$db\""
  echo "loading the demo at scale $scale …" >&2
  /usr/bin/time -f "demo load: %e s" "$tether" demo --url "$url" --scale "$scale" >/dev/null
fi

"$tether" sql --standalone --url "$url" --profile discovery-flow > "$work/standalone.sql"
checks=$(grep -c ';$' "$work/standalone.sql")

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# Warm the cache once for both.
"$tether" check --url "$url" --profile discovery-flow --format json -o /dev/null --fail-on never
psql "$url" -q -o /dev/null -f "$work/standalone.sql" 2>/dev/null || true

for _ in $(seq "$runs"); do
  /usr/bin/time -f "%e %M" -o "$work/t" "$tether" check --url "$url" --profile discovery-flow \
    --format json -o /dev/null --fail-on never
  cat "$work/t" >> "$work/tether"
  /usr/bin/time -f "%e" -o "$work/t" psql "$url" -q -o /dev/null -f "$work/standalone.sql" 2>/dev/null || true
  cat "$work/t" >> "$work/psql"
done

tether_wall=$(cut -d' ' -f1 "$work/tether" | median)
tether_rss=$(cut -d' ' -f2 "$work/tether" | sort -n | tail -n 1)
psql_wall=$(median < "$work/psql")
echo "scale:            $scale assets ($checks standalone check queries for psql)"
echo "tether check:     ${tether_wall} s (median of $runs), peak RSS $((tether_rss / 1024)) MB"
echo "psql, one by one: ${psql_wall} s (median of $runs)"
awk -v t="$tether_wall" -v p="$psql_wall" 'BEGIN { printf "ratio:            %.2f (target <= 0.65)\n", t / p }'
