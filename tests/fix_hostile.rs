//! `tether fix` and `tether restore` on hostile schemas, on each engine: a
//! table of every hard type the engine has (identity and generated columns,
//! decimals beyond f64, integer extremes, JSON, arrays, bytes, microsecond
//! times, quoted and unicode names), dependents under every delete rule, and
//! one dependent that only looks like one. `fix --apply` removes exactly the
//! orphans and what the declared rules take; the look-alike is untouched;
//! `restore` of the backup makes a checksum of every table equal to the one
//! taken before. A row edited after the fix makes restore refuse, unchanged;
//! `--on-conflict skip` restores the rest. A RESTRICT dependent stops the fix.

mod common;

use common::TestDb;
use sqlx::{AssertSqlSafe, Connection, Row};
use std::collections::BTreeMap;
use std::process::Command;

/// child.parent_id → parent: declared only in the profile, so its orphans
/// exist; the intended rule is cascade, so the fix deletes them.
const PROFILE: &str = "[[relationship]]\nchild = \"child\"\ncolumns = [\"parent_id\"]\nparent = \"parent\"\non_delete = \"cascade\"\n";

/// PostgreSQL: the orphans are child 9007199254740993 (2^53+1), the smallest
/// bigint and 3. Each dependent table references some of them and some valid
/// rows (1, 2); `lookalike.child_id` has no constraint.
const POSTGRES: &str = r#"
CREATE TABLE parent (id integer PRIMARY KEY, name text);
INSERT INTO parent VALUES (1, 'one'), (2, 'two');
CREATE TABLE child (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  parent_id integer,
  amount numeric(30,10),
  big bigint,
  doc jsonb,
  tags text[],
  data bytea,
  at timestamptz,
  twice numeric GENERATED ALWAYS AS (amount * 2) STORED,
  "Größe ""q""" text
);
INSERT INTO child (id, parent_id, amount, big, doc, tags, data, at, "Größe ""q""") OVERRIDING SYSTEM VALUE VALUES
  (1, 1, 1.5, 1, '{}', '{}', '\x00', '2024-01-01 00:00:00.000001+00', 'keeper'),
  (2, 2, 2.5, 2, '[]', '{a}', '\x01', '2024-01-02 00:00:00+00', 'valid'),
  (9007199254740993, 99, 12345678901234567890.1234567891, 9223372036854775807,
   '{"a": {"b": [1, 2.50000000000000000000000000001, null]}, "e": 1e-30}',
   '{"x", NULL, "quo\"te", "com,ma", ""}', '\x00ff80', '2024-02-29 23:59:59.999999+05:30', 'Grüße 🌍'),
  (-9223372036854775808, 98, -0.0000000001, -9223372036854775808, 'null', '{NULL}', '\x', '-infinity', NULL),
  (3, 97, NULL, NULL, NULL, NULL, NULL, NULL, ''),
  (4, NULL, 0, 0, '"text"', '{}', '\x', 'infinity', 'null reference: not an orphan');
CREATE TABLE "Abhängig ""cascade""" (id integer PRIMARY KEY, "Kind Id" bigint REFERENCES child (id) ON DELETE CASCADE, v text);
INSERT INTO "Abhängig ""cascade""" VALUES (1, 9007199254740993, 'goes'), (2, 3, 'goes'), (3, 1, 'stays'), (4, NULL, 'stays');
CREATE TABLE grand (id integer PRIMARY KEY, dep integer REFERENCES "Abhängig ""cascade""" (id) ON DELETE CASCADE);
INSERT INTO grand VALUES (1, 1), (2, 3);
CREATE TABLE dep_set_null (id integer PRIMARY KEY, child_id bigint REFERENCES child (id) ON DELETE SET NULL, v text);
INSERT INTO dep_set_null VALUES (1, -9223372036854775808, 'nulled'), (2, 1, 'stays');
CREATE TABLE dep_set_default (id integer PRIMARY KEY, child_id bigint DEFAULT 1 REFERENCES child (id) ON DELETE SET DEFAULT);
INSERT INTO dep_set_default VALUES (1, 3), (2, 2);
CREATE TABLE dep_restrict (id integer PRIMARY KEY, child_id bigint REFERENCES child (id) ON DELETE RESTRICT);
INSERT INTO dep_restrict VALUES (1, 2);
CREATE TABLE dep_no_action (id integer PRIMARY KEY, child_id bigint REFERENCES child (id));
INSERT INTO dep_no_action VALUES (1, 1);
CREATE TABLE lookalike (id integer PRIMARY KEY, child_id bigint);
INSERT INTO lookalike VALUES (1, 9007199254740993), (2, 1);
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE pair AS (a integer, b text);
CREATE TABLE kinds (
  id integer PRIMARY KEY,
  child_id bigint REFERENCES child (id) ON DELETE CASCADE,
  u uuid, ip inet, net cidr, mac macaddr, iv interval, e mood, pt point, box box, r int4range,
  x xml, m money, bits bit varying(12), b8 bit(8), ts tsvector, q tsquery, f4 real, f8 double precision,
  c5 char(5), tz time with time zone, t time(6), d date, ok boolean, j json, p pair, arr integer[][],
  small smallint, n numeric, oid_ oid
);
INSERT INTO kinds VALUES
  (1, 9007199254740993, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03',
   '1 year 2 mons -3 days 04:05:06.789012', 'happy', '(1.5,-2.25)', '((0,0),(1,1))', '[1,10)',
   '<a x="1">ä &amp; b</a>', '12.34', B'101', B'10101010', 'a fat cat', 'fat & cat', 1.0000001, 0.30000000000000004,
   'ab', '23:59:59.999999+05:30', '00:00:00.000001', '0001-01-01 BC', true, '{"k": [1, 2.0,  3e2]}', ROW(1, 'x,y'),
   '{{1,2},{3,NULL}}', -32768, 'NaN', 4294967295),
  (2, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'Infinity', '-Infinity',
   NULL, NULL, NULL, 'infinity', false, 'null', ROW(NULL, NULL), '{}', 32767, '-0.0000000000000000000001', 0);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.v := NEW.v || '!'; RETURN NEW; END $$;
CREATE TRIGGER dep_touch BEFORE UPDATE ON dep_set_null FOR EACH ROW EXECUTE FUNCTION touch();
"#;

/// MariaDB: InnoDB has no SET DEFAULT. The orphans are child 2^64-1, 2^53+1
/// and 3.
const MARIADB: &str = r#"
CREATE TABLE parent (id INT PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB;
INSERT INTO parent VALUES (1, 'one'), (2, 'two');
CREATE TABLE child (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  parent_id INT,
  amount DECIMAL(30,10),
  big BIGINT UNSIGNED,
  neg BIGINT,
  doc JSON,
  data BLOB,
  at DATETIME(6),
  ratio DOUBLE,
  f FLOAT,
  twice DECIMAL(31,10) AS (amount * 2) STORED,
  `Größe "q"` VARCHAR(20)
) ENGINE=InnoDB;
INSERT INTO child (id, parent_id, amount, big, neg, doc, data, at, ratio, f, `Größe "q"`) VALUES
  (1, 1, 1.5, 1, 1, '{}', X'00', '2024-01-01 00:00:00.000001', 1.5, 1.5, 'keeper'),
  (2, 2, 2.5, 2, 2, '[]', X'01', '2024-01-02 00:00:00', 2.5, 2.5, 'valid'),
  (18446744073709551615, 99, 12345678901234567890.1234567891, 18446744073709551615, -9223372036854775808,
   '{"a": {"b": [1, 2.50000000000000000000000000001, null]},   "e": 1e-30}', X'00FF80',
   '2024-02-29 23:59:59.999999', 0.30000000000000004, 1.0000001, 'Grüße'),
  (9007199254740993, 98, -0.0000000001, 0, 9223372036854775807, 'null', X'', '1000-01-01 00:00:00', 1e-300, -0.0, NULL),
  (3, 97, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ''),
  (4, NULL, 0, 0, 0, '"text"', X'', '9999-12-31 23:59:59.999999', 0, 0, 'null reference');
CREATE TABLE `Abhängig "cascade"` (id INT PRIMARY KEY, `Kind Id` BIGINT UNSIGNED, v VARCHAR(10),
  FOREIGN KEY (`Kind Id`) REFERENCES child (id) ON DELETE CASCADE) ENGINE=InnoDB;
INSERT INTO `Abhängig "cascade"` VALUES (1, 18446744073709551615, 'goes'), (2, 3, 'goes'), (3, 1, 'stays'), (4, NULL, 'stays');
CREATE TABLE grand (id INT PRIMARY KEY, dep INT, FOREIGN KEY (dep) REFERENCES `Abhängig "cascade"` (id) ON DELETE CASCADE) ENGINE=InnoDB;
INSERT INTO grand VALUES (1, 1), (2, 3);
CREATE TABLE dep_set_null (id INT PRIMARY KEY, child_id BIGINT UNSIGNED, v VARCHAR(10),
  FOREIGN KEY (child_id) REFERENCES child (id) ON DELETE SET NULL) ENGINE=InnoDB;
INSERT INTO dep_set_null VALUES (1, 9007199254740993, 'nulled'), (2, 1, 'stays');
CREATE TABLE dep_restrict (id INT PRIMARY KEY, child_id BIGINT UNSIGNED,
  FOREIGN KEY (child_id) REFERENCES child (id) ON DELETE RESTRICT) ENGINE=InnoDB;
INSERT INTO dep_restrict VALUES (1, 2);
CREATE TABLE dep_no_action (id INT PRIMARY KEY, child_id BIGINT UNSIGNED,
  FOREIGN KEY (child_id) REFERENCES child (id) ON DELETE NO ACTION) ENGINE=InnoDB;
INSERT INTO dep_no_action VALUES (1, 1);
CREATE TABLE lookalike (id INT PRIMARY KEY, child_id BIGINT UNSIGNED) ENGINE=InnoDB;
INSERT INTO lookalike VALUES (1, 18446744073709551615), (2, 1);
CREATE TABLE kinds (
  id INT PRIMARY KEY,
  child_id BIGINT UNSIGNED,
  t TIME(6), ts TIMESTAMP(6) NULL, e ENUM('sad', 'ok', 'happy'), st SET('a', 'b', 'c'), b5 BIT(5), y YEAR,
  bin BINARY(4), vb VARBINARY(8), c5 CHAR(5), tiny TINYINT UNSIGNED, med MEDIUMINT, d DATE,
  pt POINT, u UUID, ip INET6, lt LONGTEXT CHARACTER SET latin1, tx TEXT, sm SMALLINT,
  FOREIGN KEY (child_id) REFERENCES child (id) ON DELETE CASCADE
) ENGINE=InnoDB;
INSERT INTO kinds VALUES
  (1, 18446744073709551615, '-838:59:59.000000', '2038-01-19 03:14:07.999999', 'happy', 'a,c', b'10101', 2155,
   X'00000001', X'FF00', 'ab', 255, -8388608, '1000-01-01', ST_GeomFromText('POINT(1.5 -2.25)'),
   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '::ffff:192.168.0.1', 'Gr\xfc\xdfe', '😀 text\n\ttab', -32768),
  (2, 1, NULL, NULL, NULL, '', b'0', 1901, NULL, X'', '', 0, 0, NULL, NULL, NULL, NULL, '', '', 0);
"#;

/// SQLite: the orphans are child i64::MAX, i64::MIN and 3.
const SQLITE: &str = r#"
CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO parent VALUES (1, 'one'), (2, 'two');
CREATE TABLE child (
  id INTEGER PRIMARY KEY,
  parent_id INTEGER,
  data BLOB,
  big INTEGER,
  r REAL,
  t TEXT,
  twice REAL GENERATED ALWAYS AS (r * 2) STORED,
  "Größe ""q""" TEXT
);
INSERT INTO child (id, parent_id, data, big, r, t, "Größe ""q""") VALUES
  (1, 1, X'00', 1, 1.5, 'keeper', 'a'),
  (2, 2, X'01', 2, 2.5, 'valid', 'b'),
  (9223372036854775807, 99, X'00FF80', -9223372036854775808, 0.30000000000000004, 'Grüße 🌍', 'c'),
  (-9223372036854775808, 98, X'', 9007199254740993, 1e-300, '', NULL),
  (3, 97, NULL, NULL, NULL, NULL, ''),
  (4, NULL, X'FF', 0, -0.0, 'null reference', 'd');
CREATE TABLE "Abhängig ""cascade""" (id INTEGER PRIMARY KEY, "Kind Id" INTEGER REFERENCES child (id) ON DELETE CASCADE, v TEXT);
INSERT INTO "Abhängig ""cascade""" VALUES (1, 9223372036854775807, 'goes'), (2, 3, 'goes'), (3, 1, 'stays'), (4, NULL, 'stays');
CREATE TABLE grand (id INTEGER PRIMARY KEY, dep INTEGER REFERENCES "Abhängig ""cascade""" (id) ON DELETE CASCADE);
INSERT INTO grand VALUES (1, 1), (2, 3);
CREATE TABLE dep_set_null (id INTEGER PRIMARY KEY, child_id INTEGER REFERENCES child (id) ON DELETE SET NULL, v TEXT);
INSERT INTO dep_set_null VALUES (1, -9223372036854775808, 'nulled'), (2, 1, 'stays');
CREATE TABLE dep_set_default (id INTEGER PRIMARY KEY, child_id INTEGER DEFAULT 1 REFERENCES child (id) ON DELETE SET DEFAULT);
INSERT INTO dep_set_default VALUES (1, 3), (2, 2);
CREATE TABLE dep_restrict (id INTEGER PRIMARY KEY, child_id INTEGER REFERENCES child (id) ON DELETE RESTRICT);
INSERT INTO dep_restrict VALUES (1, 2);
CREATE TABLE dep_no_action (id INTEGER PRIMARY KEY, child_id INTEGER REFERENCES child (id));
INSERT INTO dep_no_action VALUES (1, 1);
CREATE TABLE lookalike (id INTEGER PRIMARY KEY, child_id INTEGER);
INSERT INTO lookalike VALUES (1, 9223372036854775807), (2, 1);
CREATE TABLE kinds (
  id INTEGER PRIMARY KEY,
  child_id INTEGER REFERENCES child (id) ON DELETE CASCADE,
  n NUMERIC, anything, at DATETIME, ok BOOLEAN, v VARCHAR(3), d DECIMAL(30,10)
);
INSERT INTO kinds VALUES
  (1, 9223372036854775807, '1.0', X'00FF', '2024-02-29 23:59:59.999999', 1, 'longer than three', '12345678901234567890.1234567891'),
  (2, 1, 'text', 1.5, 1709251199, 0, NULL, 1e308);
"#;

struct Case {
    db: TestDb,
    /// The orphan ids, as each engine prints them.
    orphans: [&'static str; 3],
}

async fn case(engine: &'static str) -> Case {
    let (db, script, orphans) = match engine {
        "postgres" => (
            TestDb::postgres().await,
            POSTGRES,
            ["9007199254740993", "-9223372036854775808", "3"],
        ),
        "mysql" => (
            TestDb::mysql().await,
            MARIADB,
            ["18446744073709551615", "9007199254740993", "3"],
        ),
        _ => (
            TestDb::sqlite(),
            SQLITE,
            ["9223372036854775807", "-9223372036854775808", "3"],
        ),
    };
    db.exec(script).await;
    Case { db, orphans }
}

/// A checksum of every table, by table name: PostgreSQL md5 over the rows'
/// text in order; MariaDB `CHECKSUM TABLE … EXTENDED`; SQLite every value's
/// storage class and exact bits, rows sorted.
async fn checksums(db: &TestDb) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if db.is_postgres() {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let tables: Vec<(String, String)> = sqlx::query_as(
            "SELECT tablename::text, format('%I', tablename) FROM pg_tables WHERE schemaname = 'public'",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        for (name, quoted) in tables {
            let sum: String = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) || ':' || count(*) FROM {quoted} AS t"
            )))
            .fetch_one(&mut c)
            .await
            .unwrap();
            out.insert(name, sum);
        }
    } else if db.is_mysql() {
        let mut c = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        for name in tables {
            let row = sqlx::query(AssertSqlSafe(format!(
                "CHECKSUM TABLE `{}` EXTENDED",
                name.replace('`', "``")
            )))
            .fetch_one(&mut c)
            .await
            .unwrap();
            let sum: Option<i64> = row.try_get(1).unwrap_or(None);
            out.insert(name, format!("{sum:?}"));
        }
    } else {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        for name in tables {
            let rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT * FROM \"{}\"",
                name.replace('"', "\"\"")
            )))
            .fetch_all(&mut c)
            .await
            .unwrap();
            let mut lines: Vec<String> = rows.iter().map(sqlite_row).collect();
            lines.sort();
            out.insert(name, lines.join("\n"));
        }
    }
    out
}

fn sqlite_row(row: &sqlx::sqlite::SqliteRow) -> String {
    use sqlx::{TypeInfo, ValueRef};
    (0..row.len())
        .map(|i| {
            let raw = row.try_get_raw(i).unwrap();
            if raw.is_null() {
                return "null".to_string();
            }
            match raw.type_info().name() {
                "INTEGER" => format!("i{}", row.try_get_unchecked::<i64, _>(i).unwrap()),
                "REAL" => format!(
                    "r{:x}",
                    row.try_get_unchecked::<f64, _>(i).unwrap().to_bits()
                ),
                "BLOB" => format!("b{:?}", row.try_get_unchecked::<Vec<u8>, _>(i).unwrap()),
                _ => format!("t{:?}", row.try_get_unchecked::<String, _>(i).unwrap()),
            }
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// One value as text, by query (each engine's SQL).
async fn scalar(db: &TestDb, query: &str) -> Option<String> {
    if db.is_postgres() {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query_scalar::<_, Option<String>>(AssertSqlSafe(query.to_string()))
            .fetch_one(&mut c)
            .await
            .unwrap()
    } else if db.is_mysql() {
        let mut c = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
        sqlx::query_scalar::<_, Option<String>>(AssertSqlSafe(query.to_string()))
            .fetch_one(&mut c)
            .await
            .unwrap()
    } else {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query_scalar::<_, Option<String>>(AssertSqlSafe(query.to_string()))
            .fetch_one(&mut c)
            .await
            .unwrap()
    }
}

/// The text form of a column's values, sorted and joined, as each engine casts.
async fn column(db: &TestDb, table: &str, column: &str) -> String {
    let (q, cast) = if db.is_mysql() {
        (format!("`{}`", table.replace('`', "``")), "CHAR")
    } else {
        (format!("\"{}\"", table.replace('"', "\"\"")), "TEXT")
    };
    let list = if db.is_mysql() {
        format!(
            "SELECT CAST(GROUP_CONCAT(COALESCE(CAST(t.{column} AS {cast}), '∅') ORDER BY t.id SEPARATOR ',') AS CHAR) FROM {q} AS t"
        )
    } else if db.is_postgres() {
        format!(
            "SELECT string_agg(COALESCE(CAST(t.{column} AS {cast}), '∅'), ',' ORDER BY t.id) FROM {q} AS t"
        )
    } else {
        format!(
            "SELECT group_concat(v, ',') FROM (SELECT COALESCE(CAST(t.{column} AS {cast}), '∅') AS v FROM {q} AS t ORDER BY t.id)"
        )
    };
    scalar(db, &list).await.unwrap_or_default()
}

fn tether(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .env_remove("DATABASE_URL")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

struct Files {
    _dir: tempfile::TempDir,
    profile: String,
    backups: std::path::PathBuf,
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p.toml");
    std::fs::write(&profile, PROFILE).unwrap();
    Files {
        profile: profile.to_str().unwrap().to_string(),
        backups: dir.path().join("backups"),
        _dir: dir,
    }
}

fn fix(url: &str, files: &Files, apply: bool) -> (i32, String, String) {
    let backups = files.backups.to_str().unwrap();
    let mut args = vec![
        "fix",
        "--url",
        url,
        "--profile",
        &files.profile,
        "--check",
        "orphans",
        "--backup",
        backups,
    ];
    if apply {
        args.extend(["--apply", "--yes"]);
    }
    tether(&args)
}

fn the_backup(files: &Files) -> String {
    let mut entries: Vec<_> = std::fs::read_dir(&files.backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "one backup per apply");
    entries.pop().unwrap().to_str().unwrap().to_string()
}

/// The whole story on one engine.
async fn fix_and_restore(engine: &'static str) {
    let case = case(engine).await;
    let db = &case.db;
    let before = checksums(db).await;
    let files = files();

    // The preview names every consequence, and touches nothing.
    let (code, preview, stderr) = fix(&db.url, &files, false);
    assert_eq!(code, 0, "{preview}{stderr}");
    let set_default = engine != "mysql";
    for line in [
        "child(parent_id) → parent(id): delete 3 orphan rows",
        "3 rows of child: deleted by tether",
        "2 rows of Abhängig \"cascade\": deleted by the database",
        "1 row of kinds: deleted by the database",
        "1 row of grand: deleted by the database",
        "1 row of dep_set_null: child_id set to NULL by the database",
        "1 row of lookalike will reference rows that are gone: lookalike(child_id) → child(id) (implied by column names; not followed)",
        "Preview only: nothing was touched.",
    ] {
        assert!(preview.contains(line), "missing {line:?} in\n{preview}");
    }
    assert_eq!(
        preview.contains("1 row of dep_set_default: child_id set to its default by the database"),
        set_default,
        "{preview}"
    );
    if engine == "postgres" {
        assert!(
            preview.contains("trigger dep_touch on dep_set_null fires"),
            "{preview}"
        );
    }
    assert_eq!(checksums(db).await, before, "a preview writes nothing");

    // Apply: exactly the orphans and what the declared rules take.
    let (code, out, stderr) = fix(&db.url, &files, true);
    assert_eq!(code, 0, "{out}{stderr}");
    let changed = if set_default { 9 } else { 8 };
    assert!(
        out.contains(&format!("Committed: {changed} rows changed.")),
        "{out}"
    );
    assert!(
        !out.contains("Preview only"),
        "an apply does not say it is a preview:\n{out}"
    );
    let backup = the_backup(&files);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the backup is readable by its owner only"
        );
    }
    let after = checksums(db).await;
    let differ: Vec<&String> = before.keys().filter(|t| before[*t] != after[*t]).collect();
    let mut expected = vec![
        "Abhängig \"cascade\"",
        "child",
        "dep_set_null",
        "grand",
        "kinds",
    ];
    if set_default {
        expected.insert(2, "dep_set_default");
    }
    assert_eq!(
        differ, expected,
        "only the orphans' table and what its rules reach changed"
    );
    let ids = column(db, "child", "id").await;
    for orphan in case.orphans {
        assert!(
            !ids.split(',').any(|i| i == orphan),
            "orphan {orphan} is gone: {ids}"
        );
    }
    assert_eq!(column(db, "Abhängig \"cascade\"", "id").await, "3,4");
    assert_eq!(column(db, "grand", "id").await, "2");
    assert_eq!(column(db, "dep_set_null", "child_id").await, "∅,1");
    if set_default {
        assert_eq!(column(db, "dep_set_default", "child_id").await, "1,2");
    }
    let lookalike = column(db, "lookalike", "child_id").await;
    assert_eq!(
        lookalike,
        format!("{},1", case.orphans[0]),
        "the look-alike is untouched"
    );

    // Restore: every table exactly as before.
    let (code, out, stderr) = tether(&["restore", "--url", &db.url, &backup]);
    assert_eq!(code, 0, "{out}{stderr}");
    let inserted = 7;
    let updated = if set_default { "2 rows" } else { "1 row" };
    assert!(
        out.contains(&format!(
            "{inserted} rows inserted again, {updated} given their values back"
        )),
        "{out}"
    );
    assert_eq!(
        checksums(db).await,
        before,
        "restore puts every row back bit for bit"
    );

    // Restoring twice changes nothing more.
    let (code, out, _) = tether(&["restore", "--url", &db.url, &backup]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("0 rows inserted again, 0 rows given their values back"),
        "{out}"
    );
    assert_eq!(checksums(db).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_fix_and_restore_exactly() {
    fix_and_restore("postgres").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_fix_and_restore_exactly() {
    fix_and_restore("mysql").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_fix_and_restore_exactly() {
    fix_and_restore("sqlite").await;
}

/// A row edited after the fix: restore refuses and changes nothing; with
/// `--on-conflict skip` it keeps that row and restores the rest.
async fn conflicts(engine: &'static str) {
    let case = case(engine).await;
    let db = &case.db;
    let before = checksums(db).await;
    let files = files();
    let (code, out, stderr) = fix(&db.url, &files, true);
    assert_eq!(code, 0, "{out}{stderr}");
    let backup = the_backup(&files);
    // Someone edits a row the fix unlinked.
    db.exec("UPDATE dep_set_null SET v = 'edited' WHERE id = 1")
        .await;
    let edited = checksums(db).await;

    let (code, out, stderr) = tether(&["restore", "--url", &db.url, &backup]);
    assert_eq!(code, 2, "{out}{stderr}");
    assert!(
        stderr.contains("1 rows changed since the fix, nothing was restored")
            && stderr.contains("dep_set_null (id = 1): the row was edited since the fix"),
        "{stderr}"
    );
    assert_eq!(
        checksums(db).await,
        edited,
        "a refused restore changes nothing"
    );

    let (code, out, stderr) = tether(&[
        "restore",
        "--url",
        &db.url,
        "--on-conflict",
        "skip",
        &backup,
    ]);
    assert_eq!(code, 0, "{out}{stderr}");
    assert!(
        out.contains("Kept as they are now (1 changed since the fix)"),
        "{out}"
    );
    let now = checksums(db).await;
    for (table, sum) in &before {
        if table == "dep_set_null" {
            assert_ne!(&now[table], sum);
        } else {
            assert_eq!(&now[table], sum, "{table} is restored");
        }
    }
    // (PostgreSQL's trigger dep_touch marks every update with a '!'.)
    let edited = if engine == "postgres" {
        "edited!"
    } else {
        "edited"
    };
    assert_eq!(
        column(db, "dep_set_null", "v").await,
        format!("{edited},stays")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_restore_refuses_rows_edited_since() {
    conflicts("postgres").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_restore_refuses_rows_edited_since() {
    conflicts("mysql").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_restore_refuses_rows_edited_since() {
    conflicts("sqlite").await;
}

/// A RESTRICT dependent of an orphan: the database would refuse the delete,
/// so the fix says so and changes nothing.
async fn restrict_stops(engine: &'static str) {
    let case = case(engine).await;
    let db = &case.db;
    db.exec(&format!(
        "INSERT INTO dep_restrict VALUES (2, {})",
        case.orphans[2]
    ))
    .await;
    let before = checksums(db).await;
    let files = files();
    let (code, out, stderr) = fix(&db.url, &files, true);
    assert_eq!(code, 0, "{out}{stderr}");
    assert!(
        out.contains("3 rows left for a person: 1 row of dep_restrict reference them through")
            && out.contains("(ON DELETE RESTRICT): the database would refuse"),
        "{out}"
    );
    assert!(out.contains("No data changes to apply"), "{out}");
    assert_eq!(checksums(db).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_restrict_stops_the_fix() {
    restrict_stops("postgres").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_restrict_stops_the_fix() {
    restrict_stops("mysql").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_restrict_stops_the_fix() {
    restrict_stops("sqlite").await;
}

/// An implied relationship is never a target: the preview says to declare it.
#[tokio::test(flavor = "multi_thread")]
async fn an_implied_relationship_is_never_a_target() {
    let case = case("postgres").await;
    let db = &case.db;
    db.exec("INSERT INTO lookalike VALUES (3, 424242)").await;
    let before = checksums(db).await;
    let files = files();
    let (code, out, stderr) = tether(&[
        "fix",
        "--url",
        &db.url,
        "--profile",
        &files.profile,
        "--relationship",
        "lookalike.child_id",
        "--action",
        "delete",
        "--apply",
        "--yes",
        "--backup",
        files.backups.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{stderr}");
    assert!(
        out.contains(
            "1 row left for a person: this relationship is implied (a guess from column names)"
        ) && out.contains("declare it in a profile first"),
        "{out}"
    );
    assert_eq!(checksums(db).await, before);
}

/// A table with neither a primary key nor a unique NOT NULL key cannot be
/// changed row by row: the remedy is left for a person, nothing written.
#[tokio::test(flavor = "multi_thread")]
async fn a_table_without_a_key_is_refused() {
    let db = TestDb::postgres().await;
    db.exec(
        "CREATE TABLE parent (id integer PRIMARY KEY);
         CREATE TABLE child (parent_id integer, v text UNIQUE);
         INSERT INTO parent VALUES (1);
         INSERT INTO child VALUES (1, 'a'), (9, 'b'), (9, NULL);",
    )
    .await;
    let before = checksums(&db).await;
    let files = files();
    let (code, out, stderr) = fix(&db.url, &files, true);
    assert_eq!(code, 0, "{out}{stderr}");
    assert!(
        out.contains(
            "2 rows left for a person: child has no primary key or unique key of NOT NULL columns"
        ) && out.contains("No data changes to apply"),
        "{out}"
    );
    assert_eq!(checksums(&db).await, before);
}

/// Two remedies update different columns of the same rows (two tenant
/// columns): both apply, each row counts once, and restore puts both back.
async fn overlapping_updates(db: TestDb) {
    db.exec(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, t1 VARCHAR(10), t2 VARCHAR(10));
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id), t1 VARCHAR(10), t2 VARCHAR(10));
         INSERT INTO parent VALUES (1, 'a', 'x'), (2, 'b', 'y');
         INSERT INTO child VALUES (10, 1, 'a', 'x'), (11, 1, 'b', 'y'), (12, 2, 'b', 'x'), (13, 2, NULL, NULL);",
    )
    .await;
    let before = checksums(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    let (code, out, stderr) = tether(&[
        "fix",
        "--url",
        &db.url,
        "--tenant-columns",
        "t1,t2",
        "--check",
        "tenant",
        "--apply",
        "--yes",
        "--backup",
        backups.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{stderr}");
    assert!(out.contains("Committed: 3 rows changed."), "{out}");
    assert_eq!(column(&db, "child", "t1").await, "a,a,b,b");
    assert_eq!(column(&db, "child", "t2").await, "x,x,y,y");
    let backup = std::fs::read_dir(&backups)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let (code, out, stderr) = tether(&["restore", "--url", &db.url, backup.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{stderr}");
    assert_eq!(checksums(&db).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn overlapping_updates_restore_exactly_on_postgres() {
    overlapping_updates(TestDb::postgres().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn overlapping_updates_restore_exactly_on_sqlite() {
    overlapping_updates(TestDb::sqlite()).await;
}
