#!/usr/bin/env bash
# tether check against the same checks written by hand, on PostgreSQL, MariaDB
# (or MySQL) and SQLite: wall time, peak memory and counts.
#
#   benches/engines.sh [postgres|mysql|sqlite|all] [demo|rare|all]   (defaults: all all)
#
# For each engine and dataset it times, in one process and one run each,
#   - `tether check --profile P --format json` (samples on: 5 per finding);
#   - the engine's own client (psql, mariadb, sqlite3) running
#     benches/handwritten/<dataset>.<engine>.sql: one count query per check
#     tether runs, in the form a DBA would write it (anti-joins with NOT EXISTS,
#     joins on the parent's key, the profile's assertions counted), no samples;
#     where the engine's planner picks a slow join order, the file fixes it
#     and says why (STRAIGHT_JOIN on MariaDB, CROSS JOIN on SQLite);
#   - the same client running benches/handwritten/<dataset>.fks.<engine>.sql:
#     one anti-join per declared foreign-key constraint, the floor of any check.
# It warms the cache once for all three, then alternates them RUNS times and
# prints each run's seconds, the medians, tether / client (target <= 0.65 on
# PostgreSQL), tether / FK-only (target <= 1.00 on MariaDB and SQLite), and
# tether's peak RSS. Every count of every run, the warm-up's too (run 0), must
# equal the corresponding finding's count in tether's report (no finding: 0);
# the script prints "counts identical" or each difference, and exits 1 on one.
# Before timing it also checks that the hand-written files cover exactly the
# checks tether runs (`tether sql --standalone`) and the catalog's foreign keys.
#
# Datasets:
#   demo  `tether demo --scale SCALE`: the discovery-flow schema with planted
#         faults, checked with the bundled discovery-flow profile.
#   rare  accounts (RARE_PARENTS rows) and events (RARE_ROWS rows) with a
#         tenant_id on both, checked with benches/rare.toml. Ten orphans sit
#         every RARE_ROWS/10 rows, five tenant mismatches and three missing
#         tenant ids are as spread out: a LIMIT 5 sample query whose nested loop
#         expects to stop early reads the whole table. The foreign key is
#         declared but never checked (PostgreSQL: NOT VALID; MariaDB: added with
#         foreign_key_checks=0; SQLite: foreign_keys off), events.account_id is
#         indexed, statistics are gathered.
#
# Environment:
#   TETHER        the binary (default: target/release/tether, built first with
#                 `cargo build --release --quiet`; not built when TETHER is set)
#   TETHER_ARGS   extra arguments for `tether check`, e.g. "--timeout 1800" where
#                 a statement takes longer than the default 30 s (a check that
#                 times out is check_failed, and its count then differs)
#   RUNS          timed runs per side (default 3)
#   SCALE         demo assets (default 1000000)
#   RARE_ROWS     rare events (default 5000000); RARE_PARENTS accounts (200000)
#   SQLITE_DB     the SQLite demo file (default ${TMPDIR:-/tmp}/tether_bench_<SCALE>.db)
#   SQLITE_RARE_DB  the SQLite rare file (default ${TMPDIR:-/tmp}/tether_rare_<RARE_ROWS>.db)
#
# Needs python3 and GNU time (/usr/bin/time), and per engine: PostgreSQL on
# 127.0.0.1:5432 with trust authentication for `postgres` and psql
# (./scripts/test sets that up); MariaDB or MySQL on 127.0.0.1:3306 for root
# without a password and the mariadb (or mysql) client; the sqlite3 shell
# (Debian: apt-get install -y sqlite3). An engine whose client or server is
# missing is skipped, saying so (exit 2 at the end).
#
# What it leaves behind, for further runs (each is reused when present and
# loaded when not; a load takes seconds to a few minutes at the default sizes):
#   PostgreSQL and MariaDB databases tether_bench_<SCALE> and tether_rare_<RARE_ROWS>,
#   SQLite files ${TMPDIR:-/tmp}/tether_bench_<SCALE>.db and tether_rare_<RARE_ROWS>.db.
# Drop them with
#   psql postgres://postgres@127.0.0.1:5432/postgres -c 'DROP DATABASE tether_bench_1000000' -c 'DROP DATABASE tether_rare_5000000'
#   mariadb -h 127.0.0.1 -u root -e 'DROP DATABASE tether_bench_1000000; DROP DATABASE tether_rare_5000000'
#   rm -f /tmp/tether_bench_1000000.db /tmp/tether_rare_5000000.db
#
# Exit status: 0 every count identical, 1 a count differs (or a run failed),
# 2 an engine could not be benchmarked.
set -euo pipefail

usage() { echo "usage: $0 [postgres|mysql|sqlite|all] [demo|rare|all]" >&2; exit 2; }
case ${1:-all} in postgres | mysql | sqlite) engines=$1 ;; all) engines="postgres mysql sqlite" ;; *) usage ;; esac
case ${2:-all} in demo | rare) datasets=$2 ;; all) datasets="demo rare" ;; *) usage ;; esac

# A TETHER given relative to the caller's directory still names the same file.
if [[ -n ${TETHER:-} && $TETHER != /* && $TETHER == */* ]]; then TETHER=$PWD/$TETHER; fi
cd "$(dirname "$0")/.."
if [[ -z ${TETHER:-} ]]; then
  cargo build --release --quiet
  TETHER=$PWD/target/release/tether
fi
read -r -a tether_args <<< "${TETHER_ARGS:-}"

runs=${RUNS:-3}
scale=${SCALE:-1000000}
rare_rows=${RARE_ROWS:-5000000}
rare_parents=${RARE_PARENTS:-200000}
tmp=${TMPDIR:-/tmp}
pg_server="postgres://postgres@127.0.0.1:5432"
my_host=127.0.0.1 my_port=3306 my_user=root
hand=benches/handwritten
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for n in "$runs" "$scale" "$rare_rows" "$rare_parents"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "RUNS, SCALE, RARE_ROWS and RARE_PARENTS are whole numbers above 0" >&2; exit 2; }
done
(( rare_rows >= 100 )) || { echo "RARE_ROWS is at least 100" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "GNU time (/usr/bin/time) is missing: apt-get install -y time" >&2; exit 2; }
command -v python3 >/dev/null || { echo "python3 is missing" >&2; exit 2; }

# The helper that reads labels and counts and compares them with tether's JSON.
cat > "$work/counts.py" <<'PY'
import json, re, sys

COUNTED = {"orphans", "tenant_missing", "tenant_mismatch", "path_mismatch", "custom"}

def labels(path):
    """The finding keys a hand-written file counts, in order."""
    return re.findall(r"^SELECT '([^']+)', count\(\*\)", open(path, encoding="utf-8").read(), re.M)

def client_counts(path):
    """label|count (psql, sqlite3) or label<TAB>count (mariadb) per line, and
    the lines that are neither."""
    counts, other = {}, []
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        m = re.fullmatch(r"(.*)[|\t](\d+)", line)
        if m:
            counts[m.group(1)] = int(m.group(2))
        elif line:
            other.append(line)
    return counts, other

mode = sys.argv[1]
if mode == "labels":
    # Hand-written labels against another list (tether's checks or the catalog's FKs).
    what, hand, other = sys.argv[2], labels(sys.argv[3]), sys.argv[4]
    if what == "standalone":
        # `tether sql --standalone`: "-- <key> (check, <category>)" above each statement.
        theirs = [k for k in re.findall(r"^-- (.+) \(check, \w+\)$", open(other, encoding="utf-8").read(), re.M)
                  if k.split(":", 1)[0] in COUNTED]
    else:
        theirs = [line.strip() for line in open(other, encoding="utf-8") if line.strip()]
    bad = False
    for k in sorted(set(theirs) - set(hand)):
        print(f"  not in {sys.argv[3]}: {k}"); bad = True
    for k in sorted(set(hand) - set(theirs)):
        print(f"  in {sys.argv[3]} but not {what}: {k}"); bad = True
    dups = sorted({k for k in hand if hand.count(k) > 1})
    for k in dups:
        print(f"  counted twice in {sys.argv[3]}: {k}"); bad = True
    sys.exit(1 if bad else 0)

if mode == "compare":
    # compare DIR RUNS HANDFILE FKFILE: DIR holds tether.<i>.json, all.<i> and
    # fks.<i> for runs 0 (the warm-up) to RUNS. Each difference is printed once,
    # with the runs it occurred in.
    d, runs, hand, fks = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    seen = {}
    def note(run, msg):
        seen.setdefault(msg, []).append(run)
    for run in range(runs + 1):
        try:
            report = json.load(open(f"{d}/tether.{run}.json", encoding="utf-8"))
        except (OSError, ValueError):
            note(run, "tether wrote no report"); continue
        found = {f["key"]: f.get("count") for f in report["findings"] if f["check"] in COUNTED}
        for f in report["findings"]:
            if f["check"] == "check_failed":
                note(run, f"tether: {f.get('key')}: {f.get('message')}")
        for path, out in ((hand, f"{d}/all.{run}"), (fks, f"{d}/fks.{run}")):
            (got, other), want = client_counts(out), labels(path)
            name = path.rsplit("/", 1)[-1]
            for line in other:
                note(run, f"{name}: unexpected output: {line}")
            for k in want:
                if k not in got:
                    note(run, f"{name} gave no count for {k}")
                elif (found.get(k) or 0) != got[k]:
                    note(run, f"{k}: tether {found.get(k) or 0}, {name} {got[k]}")
            if path == hand:
                for k in sorted(set(found) - set(want)):
                    note(run, f"tether finding not counted by hand: {k} ({found[k]})")
    for msg, rs in seen.items():
        which = "every run" if len(rs) == runs + 1 else "run" + ("s " if len(rs) > 1 else " ") + ", ".join(map(str, rs))
        print(f"  {msg}  [{which}]")
    sys.exit(1 if seen else 0)
sys.exit(f"unknown mode {mode}")
PY

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# ---- engines -----------------------------------------------------------------
# client ENGINE TARGET: the command that runs SQL from stdin and prints rows as
# label|count (label<TAB>count on MariaDB), into the array `cmd`.
mysql_bin=$(command -v mariadb || command -v mysql || true)
client() {
  case $1 in
    postgres) cmd=(psql "$pg_server/$2" -X -q -A -t -F '|' -v ON_ERROR_STOP=1) ;;
    mysql) cmd=("$mysql_bin" -h "$my_host" -P "$my_port" -u "$my_user" --default-character-set=utf8mb4 -N -B "$2") ;;
    sqlite) cmd=(sqlite3 -init /dev/null -batch -bail "$2") ;;
  esac
}
# sql ENGINE TARGET: run SQL from stdin with the engine's client.
sql() { client "$1" "$2"; "${cmd[@]}"; }
url() {
  case $1 in
    postgres) echo "$pg_server/$2" ;;
    mysql) echo "mysql://$my_user@$my_host:$my_port/$2" ;;
    sqlite) echo "sqlite://$2" ;;
  esac
}
client_name() { case $1 in postgres) echo psql ;; mysql) basename "$mysql_bin" ;; sqlite) echo sqlite3 ;; esac; }

# available ENGINE: its client is installed and its server answers.
available() {
  case $1 in
    postgres)
      command -v psql >/dev/null || { echo "postgres: skipped: psql is not installed (apt-get install -y postgresql-client)"; return 1; }
      sql postgres postgres <<< "SELECT 1" >/dev/null 2>&1 \
        || { echo "postgres: skipped: no PostgreSQL answers at $pg_server for user postgres without a password"; return 1; } ;;
    mysql)
      [[ -n $mysql_bin ]] || { echo "mysql: skipped: neither the mariadb nor the mysql client is installed (apt-get install -y mariadb-client)"; return 1; }
      "$mysql_bin" -h "$my_host" -P "$my_port" -u "$my_user" -e "SELECT 1" >/dev/null 2>&1 \
        || { echo "mysql: skipped: no MariaDB/MySQL answers at $my_host:$my_port for $my_user without a password"; return 1; } ;;
    sqlite)
      command -v sqlite3 >/dev/null || { echo "sqlite: skipped: the sqlite3 shell is not installed (apt-get install -y sqlite3)"; return 1; } ;;
  esac
}

# create_database ENGINE NAME: an empty database unless it exists (server engines).
create_database() {
  case $1 in
    postgres)
      if [[ $(sql postgres postgres <<< "SELECT 1 FROM pg_database WHERE datname = '$2'") != 1 ]]; then
        sql postgres postgres <<< "CREATE DATABASE \"$2\"" >/dev/null
      fi ;;
    mysql) "$mysql_bin" -h "$my_host" -P "$my_port" -u "$my_user" -e "CREATE DATABASE IF NOT EXISTS \`$2\`" ;;
  esac
}

# fk_list ENGINE TARGET: the catalog's foreign keys as tether names their orphans check.
fk_list() {
  case $1 in
    postgres) sql "$1" "$2" <<'SQL' ;;
SELECT format('orphans:%s(%s) → %s(%s)', c.conrelid::regclass,
  (SELECT string_agg(a.attname, ', ' ORDER BY k.i) FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n),
  c.confrelid::regclass,
  (SELECT string_agg(a.attname, ', ' ORDER BY k.i) FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n))
FROM pg_constraint c
WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
ORDER BY 1;
SQL
    mysql) sql "$1" "$2" <<'SQL' ;;
SELECT CONCAT('orphans:', table_name, '(',
              GROUP_CONCAT(column_name ORDER BY ordinal_position SEPARATOR ', '), ') → ',
              referenced_table_name, '(',
              GROUP_CONCAT(referenced_column_name ORDER BY ordinal_position SEPARATOR ', '), ')')
FROM information_schema.key_column_usage
WHERE table_schema = DATABASE() AND referenced_table_name IS NOT NULL
GROUP BY table_name, constraint_name, referenced_table_name
ORDER BY 1;
SQL
    sqlite) sql "$1" "$2" <<'SQL' ;;
SELECT 'orphans:' || m.name || '(' || group_concat(f."from", ', ') || ') → ' || f."table" || '(' || group_concat(f."to", ', ') || ')'
FROM sqlite_master AS m JOIN pragma_foreign_key_list(m.name) AS f
WHERE m.type = 'table'
GROUP BY m.name, f.id
ORDER BY 1;
SQL
  esac
}

# ---- datasets ----------------------------------------------------------------
# Each prepare_* sets `target` (a database name or a SQLite path), loading the
# data first when it is not there yet.

prepare_demo() {
  local engine=$1
  case $engine in
    sqlite) target=${SQLITE_DB:-$tmp/tether_bench_$scale.db} ;;
    *) target=tether_bench_$scale; create_database "$engine" "$target" ;;
  esac
  if [[ $engine == sqlite && ! -e $target ]] || [[ $engine != sqlite && $(sql "$engine" "$target" <<< "SELECT 1 FROM assets LIMIT 1" 2>/dev/null) != 1 ]]; then
    echo "$engine: loading the demo at scale $scale into $target …" >&2
    if [[ $engine == sqlite ]]; then
      # Built aside and renamed, so an interrupted load is never reused.
      rm -f "$target.part"
      /usr/bin/time -f "$engine: demo load: %e s" "$TETHER" demo --url "$(url sqlite "$target.part")" --scale "$scale" >/dev/null
      mv "$target.part" "$target"
    else
      /usr/bin/time -f "$engine: demo load: %e s" "$TETHER" demo --url "$(url "$engine" "$target")" --scale "$scale" --force >/dev/null
    fi
  fi
}

# The rare dataset, generated on the server. Account a's tenant is 1 + a % 50;
# event g points at account 1 + g*7919 % P (7919 is prime: the accounts are hit
# evenly and in no order), except the orphans, which point past the last
# account. Every column a check reads is generated with the same expressions on
# every engine, so the counts are the same everywhere.
rare_plan() {
  orphan_step=$((rare_rows / 10))
  mismatch_step=$((rare_rows / 5))
  missing_step=$((rare_rows / 3))
}
rare_event_columns() { # $1: the name of the row number column
  local g=$1 a="CASE WHEN $1 % $orphan_step = 0 THEN $rare_parents + $1 ELSE 1 + ($1 * 7919) % $rare_parents END"
  echo "$g, $a,
    CASE WHEN $g % $missing_step = 11 THEN NULL
         WHEN $g % $mismatch_step = 7 THEN 1 + ($a + 1) % 50
         ELSE 1 + ($a) % 50 END,
    $g % 7"
}

load_rare() {
  local engine=$1 target=$2
  rare_plan
  case $engine in
    postgres)
      # One transaction: the database holds the tables only once they are complete.
      sql postgres "$target" >/dev/null <<SQL
SET client_min_messages = warning;
BEGIN;
DROP TABLE IF EXISTS events, accounts;
CREATE TABLE accounts (id bigint PRIMARY KEY, tenant_id integer, name text NOT NULL);
CREATE TABLE events (id bigint PRIMARY KEY, account_id bigint, tenant_id integer,
                     kind smallint NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO accounts SELECT g, 1 + g % 50, 'account ' || g FROM generate_series(1, $rare_parents) AS g;
INSERT INTO events
SELECT $(rare_event_columns g), timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second'
FROM generate_series(1::bigint, $rare_rows) AS g;
CREATE INDEX events_account_id_idx ON events (account_id);
ALTER TABLE events ADD CONSTRAINT events_account_id_fkey
  FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;
COMMIT;
SQL
      sql postgres "$target" <<< "VACUUM ANALYZE" >/dev/null ;;
    mysql)
      # seq_1_to_N: MariaDB's Sequence engine. The foreign key is added last
      # (its presence says the load finished), with foreign_key_checks off, so
      # the orphans stay.
      sql mysql "$target" >/dev/null <<SQL
DROP TABLE IF EXISTS events, accounts;
CREATE TABLE accounts (id bigint PRIMARY KEY, tenant_id int, name varchar(64) NOT NULL) ENGINE=InnoDB;
CREATE TABLE events (id bigint PRIMARY KEY, account_id bigint, tenant_id int,
                     kind smallint NOT NULL, created_at datetime NOT NULL) ENGINE=InnoDB;
INSERT INTO accounts SELECT seq, 1 + seq % 50, CONCAT('account ', seq) FROM seq_1_to_$rare_parents;
INSERT INTO events
SELECT $(rare_event_columns seq), TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND
FROM seq_1_to_$rare_rows;
SET foreign_key_checks = 0;
ALTER TABLE events ADD INDEX events_account_id_idx (account_id),
  ADD CONSTRAINT events_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
SET foreign_key_checks = 1;
ANALYZE TABLE accounts, events;
SQL
      ;;
    sqlite)
      # Built aside and renamed, so an interrupted load is never reused.
      rm -f "$target.part"
      sql sqlite "$target.part" >/dev/null <<SQL
PRAGMA foreign_keys = OFF;
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE accounts (id INTEGER PRIMARY KEY, tenant_id INTEGER, name TEXT NOT NULL);
CREATE TABLE events (id INTEGER PRIMARY KEY, account_id INTEGER, tenant_id INTEGER,
                     kind INTEGER NOT NULL, created_at TEXT NOT NULL,
                     CONSTRAINT events_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id));
WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < $rare_parents)
INSERT INTO accounts SELECT g, 1 + g % 50, 'account ' || g FROM s;
WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < $rare_rows)
INSERT INTO events SELECT $(rare_event_columns g), datetime(1704067200 + g, 'unixepoch') FROM s;
CREATE INDEX events_account_id_idx ON events (account_id);
ANALYZE;
SQL
      mv "$target.part" "$target" ;;
  esac
}

prepare_rare() {
  local engine=$1 loaded
  case $engine in
    sqlite) target=${SQLITE_RARE_DB:-$tmp/tether_rare_$rare_rows.db}; [[ -e $target ]] && loaded=1 || loaded=0 ;;
    postgres)
      target=tether_rare_$rare_rows; create_database postgres "$target"
      loaded=$(sql postgres "$target" <<< "SELECT count(*) FROM pg_constraint WHERE conname = 'events_account_id_fkey'") ;;
    mysql)
      target=tether_rare_$rare_rows; create_database mysql "$target"
      loaded=$(sql mysql "$target" <<< "SELECT count(*) FROM information_schema.referential_constraints
                                          WHERE constraint_schema = DATABASE() AND constraint_name = 'events_account_id_fkey'") ;;
  esac
  if [[ $loaded != 1 ]]; then
    echo "$engine: loading the rare dataset ($rare_rows events, $rare_parents accounts) into $target …" >&2
    local start=$SECONDS
    load_rare "$engine" "$target"
    echo "$engine: rare load: $((SECONDS - start)) s" >&2
  fi
}

# ---- the benchmark -----------------------------------------------------------
status=0

bench() {
  local engine=$1 dataset=$2 profile all fks u name i t rc
  case $dataset in
    demo) prepare_demo "$engine"; profile=discovery-flow ;;
    rare) prepare_rare "$engine"; profile=benches/rare.toml ;;
  esac
  all=$hand/$dataset.$engine.sql
  fks=$hand/$dataset.fks.$engine.sql
  u=$(url "$engine" "$target")
  name=$(client_name "$engine")
  local d=$work/$engine.$dataset
  mkdir -p "$d"

  echo
  echo "== $engine · $dataset · $target =="
  # The hand-written files must count exactly what tether checks, and the
  # FK-only file exactly the catalog's foreign keys.
  "$TETHER" sql --standalone --url "$u" --profile "$profile" > "$d/standalone.sql"
  fk_list "$engine" "$target" > "$d/fks.txt"
  local covered=1
  python3 "$work/counts.py" labels standalone "$all" "$d/standalone.sql" || covered=0
  python3 "$work/counts.py" labels "the catalog's foreign keys" "$fks" "$d/fks.txt" || covered=0
  if (( ! covered )); then
    echo "the hand-written files do not match what tether checks here: not timed"
    status=1
    return
  fi

  # run_tether N / run_client FILE OUT: one timed run; a failure is reported, and
  # the counts then differ.
  run_tether() {
    rc=0
    /usr/bin/time -f "%e %M" -o "$d/t" "$TETHER" check --url "$u" --profile "$profile" \
      --format json -o "$d/tether.$1.json" --fail-on never "${tether_args[@]}" 2> "$d/tether.err" || rc=$?
    if (( rc != 0 )); then echo "  tether exited $rc: $(tail -n 3 "$d/tether.err")"; status=1; fi
  }
  run_client() {
    rc=0
    client "$engine" "$target"
    /usr/bin/time -f "%e %M" -o "$d/t" "${cmd[@]}" < "$1" > "$2" 2> "$d/client.err" || rc=$?
    if (( rc != 0 )); then echo "  $name exited $rc on $1: $(tail -n 3 "$d/client.err")"; status=1; fi
  }

  # Warm the cache once for each side, then alternate.
  run_tether 0
  run_client "$all" "$d/all.0"
  run_client "$fks" "$d/fks.0"
  : > "$d/tether.times"; : > "$d/all.times"; : > "$d/fks.times"
  for i in $(seq "$runs"); do
    # GNU time puts "Command exited with non-zero status N" above the figures.
    run_tether "$i"; tail -n 1 "$d/t" >> "$d/tether.times"
    run_client "$all" "$d/all.$i"; tail -n 1 "$d/t" >> "$d/all.times"
    run_client "$fks" "$d/fks.$i"; tail -n 1 "$d/t" >> "$d/fks.times"
  done

  local counts=1
  python3 "$work/counts.py" compare "$d" "$runs" "$all" "$fks" || counts=0

  local tw cw fw rss checks nfks
  tw=$(cut -d' ' -f1 "$d/tether.times" | median)
  cw=$(cut -d' ' -f1 "$d/all.times" | median)
  fw=$(cut -d' ' -f1 "$d/fks.times" | median)
  rss=$(cut -d' ' -f2 "$d/tether.times" | sort -n | tail -n 1)
  checks=$(python3 -c 'import re,sys; print(len(re.findall(r"^SELECT .+, count\(\*\)", open(sys.argv[1]).read(), re.M)))' "$all")
  nfks=$(python3 -c 'import re,sys; print(len(re.findall(r"^SELECT .+, count\(\*\)", open(sys.argv[1]).read(), re.M)))' "$fks")
  printf '%-30s %-28s median %6s s   peak RSS %d MB\n' "tether check" "$(cut -d' ' -f1 "$d/tether.times" | xargs)" "$tw" $((rss / 1024))
  printf '%-30s %-28s median %6s s\n' "$name, $checks queries" "$(cut -d' ' -f1 "$d/all.times" | xargs)" "$cw"
  printf '%-30s %-28s median %6s s\n' "$name, $nfks FK anti-joins" "$(cut -d' ' -f1 "$d/fks.times" | xargs)" "$fw"
  awk -v t="$tw" -v c="$cw" -v f="$fw" -v e="$engine" -v n="$name" 'BEGIN {
    printf "%-30s %.2f%s\n", "tether / " n, (c > 0 ? t / c : 0), (e == "postgres" ? (t <= 0.65 * c ? "   (target <= 0.65: met)" : "   (target <= 0.65: missed)") : "")
    printf "%-30s %.2f%s\n", "tether / FK-only", (f > 0 ? t / f : 0), (e != "postgres" ? (t <= f ? "   (target <= 1.00: met)" : "   (target <= 1.00: missed)") : "")
  }'
  if (( counts )); then
    echo "counts identical ($checks checks, $((runs + 1)) runs)"
  else
    echo "counts DIFFER (above)"
    status=1
  fi
}

echo "tether: $TETHER ($("$TETHER" --version 2>/dev/null || echo "version unknown")); $runs runs per side"
skipped=0
for engine in $engines; do
  if ! available "$engine"; then skipped=1; continue; fi
  for dataset in $datasets; do bench "$engine" "$dataset"; done
done
if (( status == 0 && skipped )); then status=2; fi
exit "$status"
