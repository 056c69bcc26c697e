#!/usr/bin/env bash
# Wall time and peak memory of `tether fix` (preview, then --apply) and
# `tether restore` on ORPHANS orphan rows, each with one row a declared
# ON DELETE CASCADE takes and one a SET NULL updates, beside as many valid
# rows; then checks that every table's checksum is back to what it was.
#
#   benches/fix_scale.sh [ORPHANS] [ENGINE]     (defaults: 100000 postgres;
#                                                ENGINE: postgres, mysql, sqlite)
#
# Needs the servers of ./scripts/test (PostgreSQL with trust for `postgres`,
# MariaDB with `root` and no password), their clients and GNU time. Creates and
# drops the database tether_fix_bench.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-100000}
engine=${2:-postgres}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet
tether=./target/release/tether
printf '[[relationship]]\nchild = "child"\ncolumns = ["parent_id"]\nparent = "parent"\non_delete = "cascade"\n' >"$work/p.toml"

case "$engine" in
  postgres)
    url="postgres://postgres@127.0.0.1:5432/tether_fix_bench"
    admin() { psql "postgres://postgres@127.0.0.1:5432/postgres" -qc "$1"; }
    run() { psql "$url" -qtAc "$1"; }
    admin "DROP DATABASE IF EXISTS tether_fix_bench"
    admin "CREATE DATABASE tether_fix_bench"
    run "CREATE TABLE parent (id integer PRIMARY KEY);
      CREATE TABLE child (id bigint PRIMARY KEY, parent_id integer, payload text, amount numeric(20,6), at timestamptz);
      CREATE TABLE grandchild (id bigint PRIMARY KEY, child_id bigint REFERENCES child (id) ON DELETE CASCADE);
      CREATE INDEX ON grandchild (child_id);
      CREATE TABLE note (id bigint PRIMARY KEY, child_id bigint REFERENCES child (id) ON DELETE SET NULL);
      CREATE INDEX ON note (child_id);
      INSERT INTO parent SELECT g FROM generate_series(1, 1000) g;
      INSERT INTO child SELECT g, CASE WHEN g <= $n THEN 1000000 + g ELSE 1 + g % 1000 END,
        md5(g::text), g / 7.0, '2024-01-01'::timestamptz + g * interval '1 second' FROM generate_series(1, 2 * $n) g;
      INSERT INTO grandchild SELECT g, g FROM generate_series(1, 2 * $n) g;
      INSERT INTO note SELECT g, g FROM generate_series(1, 2 * $n) g;
      ANALYZE;"
    sums() { run "SELECT string_agg(t || ':' || s, ' ' ORDER BY t) FROM (
        SELECT 'child' t, md5(string_agg(c::text, ',' ORDER BY c.id)) s FROM child c
        UNION ALL SELECT 'grandchild', md5(string_agg(g::text, ',' ORDER BY g.id)) FROM grandchild g
        UNION ALL SELECT 'note', md5(string_agg(x::text, ',' ORDER BY x.id)) FROM note x) q"; }
    cleanup() { admin "DROP DATABASE IF EXISTS tether_fix_bench"; }
    ;;
  mysql)
    url="mysql://root@127.0.0.1:3306/tether_fix_bench"
    run() { mariadb -uroot -h127.0.0.1 -N tether_fix_bench -e "$1"; }
    mariadb -uroot -h127.0.0.1 -e "DROP DATABASE IF EXISTS tether_fix_bench; CREATE DATABASE tether_fix_bench"
    run "CREATE TABLE parent (id INT PRIMARY KEY);
      CREATE TABLE child (id BIGINT PRIMARY KEY, parent_id INT, payload VARCHAR(40), amount DECIMAL(20,6), at DATETIME(6));
      CREATE TABLE grandchild (id BIGINT PRIMARY KEY, child_id BIGINT, FOREIGN KEY (child_id) REFERENCES child (id) ON DELETE CASCADE);
      CREATE TABLE note (id BIGINT PRIMARY KEY, child_id BIGINT, FOREIGN KEY (child_id) REFERENCES child (id) ON DELETE SET NULL);
      INSERT INTO parent SELECT seq FROM seq_1_to_1000;
      INSERT INTO child SELECT seq, IF(seq <= $n, 1000000 + seq, 1 + seq % 1000), MD5(seq), seq / 7.0,
        TIMESTAMPADD(SECOND, seq, '2024-01-01') FROM seq_1_to_$((2 * n));
      INSERT INTO grandchild SELECT seq, seq FROM seq_1_to_$((2 * n));
      INSERT INTO note SELECT seq, seq FROM seq_1_to_$((2 * n));"
    sums() { run "CHECKSUM TABLE child, grandchild, note EXTENDED" | tr '\n' ' '; }
    cleanup() { mariadb -uroot -h127.0.0.1 -e "DROP DATABASE IF EXISTS tether_fix_bench"; }
    ;;
  sqlite)
    file="$work/bench.sqlite"
    url="sqlite://$file"
    run() { sqlite3 "$file" "$1"; }
    run "CREATE TABLE parent (id INTEGER PRIMARY KEY);
      CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER, payload TEXT, amount REAL, at TEXT);
      CREATE TABLE grandchild (id INTEGER PRIMARY KEY, child_id INTEGER REFERENCES child (id) ON DELETE CASCADE);
      CREATE INDEX grandchild_child ON grandchild (child_id);
      CREATE TABLE note (id INTEGER PRIMARY KEY, child_id INTEGER REFERENCES child (id) ON DELETE SET NULL);
      CREATE INDEX note_child ON note (child_id);
      WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1000) INSERT INTO parent SELECT n FROM g;
      WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 2 * $n)
        INSERT INTO child SELECT n, CASE WHEN n <= $n THEN 1000000 + n ELSE 1 + n % 1000 END, hex(randomblob(16)), n / 7.0,
          datetime('2024-01-01', '+' || n || ' seconds') FROM g;
      INSERT INTO grandchild SELECT id, id FROM child;
      INSERT INTO note SELECT id, id FROM child;"
    sums() { for t in child grandchild note; do printf '%s:' "$t"; run "SELECT * FROM $t ORDER BY id" | md5sum | cut -c1-32; done | tr '\n' ' '; }
    cleanup() { :; }
    ;;
  *) echo "ENGINE: postgres, mysql or sqlite" >&2; exit 2 ;;
esac

before=$(sums)
timed() { /usr/bin/time -f "%e s, peak RSS %M kB" -o "$work/time" "$@" >"$work/out" 2>&1 || { cat "$work/out"; exit 1; }; cat "$work/time"; }
echo "$engine: $n orphans (+ $n cascaded, $n set to NULL), $((2 * n)) rows per table"
printf 'preview:          '; timed "$tether" fix --url "$url" --profile "$work/p.toml" --check orphans
grep -E "rows (of|would)" "$work/out" | sed 's/^ */                  /'
printf 'apply:            '; timed "$tether" fix --url "$url" --profile "$work/p.toml" --check orphans --apply --yes --backup "$work/backups"
grep "Committed" "$work/out" | sed 's/^/                  /'
backup=$(ls "$work"/backups/*.jsonl)
printf 'backup:           %s\n' "$(du -h "$backup" | cut -f1)"
printf 'restore:          '; timed "$tether" restore --url "$url" "$backup"
grep "Restored" "$work/out" | sed 's/^/                  /'
after=$(sums)
if [ "$before" = "$after" ]; then echo "checksums:        every table as before"; else echo "checksums DIFFER: $before / $after"; exit 1; fi
cleanup
