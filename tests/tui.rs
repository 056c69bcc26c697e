//! The terminal UI end to end: the real binary in a tmux server of its own,
//! driven with keys, its screen read back with `capture-pane`.
//!
//! Every test has its own tmux socket and temporary directories, so the tests
//! run in parallel. Waits poll the screen against a deadline; nothing relies on
//! a fixed sleep, except the pause after Escape (crossterm reads Escape
//! followed quickly by a key as Alt+key).

mod common;

use common::pg::{self, PrivatePg};
use common::{TestDb, pg_admin_url};
use sqlx::{AssertSqlSafe, Connection};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use unicode_width::UnicodeWidthChar;

/// How often the screen (or the server) is polled.
const POLL: Duration = Duration::from_millis(100);
/// The default deadline for something to appear: generous, for a loaded machine.
const WAIT: Duration = Duration::from_secs(15);
/// How long quitting may take, cancellations included.
const QUIT_WITHIN: Duration = Duration::from_secs(2);
/// The four dashboard panes, by title.
const PANES: [&str; 4] = ["Flow graph", "Orphans", "Tenant isolation", "Latency"];

// ---------------------------------------------------------------------------
// tmux

/// A tmux server of its own running one command in a 120×40 pane; killed
/// (and its socket removed) on drop.
struct Tmux {
    socket: String,
    socket_path: Option<PathBuf>,
}

const SESSION: &str = "tui";

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Tmux {
    /// Runs tether with `args` and the environment `env` (DATABASE_URL unset),
    /// then prints `EXIT=<status>` and stays, so the exit status can be read.
    fn start(test: &str, args: &[&str], env: &[(&str, String)]) -> Tmux {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let socket = format!(
            "tether-tui-{test}-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut command = String::from("env -u DATABASE_URL");
        for (key, value) in env {
            command.push_str(&format!(" {key}={}", quote(value)));
        }
        command.push(' ');
        command.push_str(&quote(env!("CARGO_BIN_EXE_tether")));
        for arg in args {
            command.push(' ');
            command.push_str(&quote(arg));
        }
        command.push_str("; echo EXIT=$?; sleep 60");
        let mut tmux = Tmux {
            socket,
            socket_path: None,
        };
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            SESSION,
            "-x",
            "120",
            "-y",
            "40",
            &command,
        ]);
        let path = tmux.run(&["display-message", "-p", "-t", SESSION, "#{socket_path}"]);
        tmux.socket_path = Some(PathBuf::from(path.trim()));
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-u", "-f", "/dev/null", "-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux runs");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sends keys by tmux name (`Enter`, `Tab`, `q`).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", SESSION];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Types text literally.
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", SESSION, "-l", text]);
    }

    /// Escape on its own: a key right after it would read as Alt+key.
    fn escape(&self) {
        self.keys(&["Escape"]);
        std::thread::sleep(Duration::from_millis(300));
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", SESSION])
    }

    /// The screen with its attributes (SGR escape sequences).
    fn styled_screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-e", "-t", SESSION])
    }

    fn alternate_on(&self) -> bool {
        self.run(&["list-panes", "-t", SESSION, "-F", "#{alternate_on}"])
            .trim()
            == "1"
    }

    /// Polls the screen until `ready` holds; panics with the screen after `limit`.
    /// Returns the screen and how long it took.
    fn wait_for(
        &self,
        what: &str,
        limit: Duration,
        mut ready: impl FnMut(&str) -> bool,
    ) -> (String, Duration) {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return (screen, start.elapsed());
            }
            if start.elapsed() > limit {
                panic!("waited {limit:?} for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(POLL);
        }
    }

    fn wait_for_text(&self, text: &str, limit: Duration) -> String {
        self.wait_for(&format!("{text:?}"), limit, |s| s.contains(text))
            .0
    }

    /// Waits until `pane` is the one pane drawn focused (its border bold).
    fn wait_for_focus(&self, pane: &str) {
        let start = Instant::now();
        loop {
            let bold = bold_panes(&self.styled_screen());
            if bold == [pane] {
                return;
            }
            if start.elapsed() > WAIT {
                panic!(
                    "waited {WAIT:?} for {pane} to be focused; bold: {bold:?}\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Presses `q`, then checks the process left within [`QUIT_WITHIN`] with
    /// status 0 and gave the normal screen back.
    fn quit_and_check_exit(&self) {
        let start = Instant::now();
        self.keys(&["q"]);
        let (screen, _) = self.wait_for("EXIT= after q", WAIT, |s| s.contains("EXIT="));
        let took = start.elapsed();
        eprintln!("quit took {took:?}");
        assert!(
            screen.lines().any(|l| l.trim() == "EXIT=0"),
            "tether did not exit 0:\n{screen}"
        );
        assert!(
            took <= QUIT_WITHIN,
            "quitting took {took:?} (at most {QUIT_WITHIN:?}):\n{screen}"
        );
        assert!(
            !self.alternate_on(),
            "the terminal was left on the alternate screen:\n{screen}"
        );
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The environment of every run: its own data and config directories.
fn environment(home: &Path) -> (PathBuf, Vec<(&'static str, String)>) {
    let data = home.join("data");
    let config = home.join("config");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&config).unwrap();
    let env = vec![
        ("NO_COLOR", "1".to_string()),
        ("XDG_DATA_HOME", data.display().to_string()),
        ("XDG_CONFIG_HOME", config.display().to_string()),
    ];
    (data, env)
}

// ---------------------------------------------------------------------------
// Reading the screen

/// The screen as rows of cells: a wide character is followed by an empty cell,
/// so indexes are columns.
fn grid(screen: &str) -> Vec<Vec<char>> {
    screen
        .lines()
        .map(|line| {
            let mut cells = Vec::new();
            for c in line.chars() {
                cells.push(c);
                if c.width().unwrap_or(0) == 2 {
                    cells.push('\0');
                }
            }
            cells
        })
        .collect()
}

fn text_of(cells: &[char]) -> String {
    cells.iter().filter(|&&c| c != '\0').collect()
}

fn find(cells: &[char], needle: &str) -> Option<usize> {
    let needle: Vec<char> = needle.chars().collect();
    cells.windows(needle.len()).position(|w| w == needle)
}

/// The inside of the bordered box whose title starts with `title`, row by row.
fn pane(screen: &str, title: &str) -> Option<Vec<String>> {
    let grid = grid(screen);
    let (top, left) = grid
        .iter()
        .enumerate()
        .find_map(|(y, row)| find(row, &format!("┌ {title}")).map(|x| (y, x)))?;
    let right = left + grid[top][left..].iter().position(|&c| c == '┐')?;
    let mut lines = Vec::new();
    for row in &grid[top + 1..] {
        match row.get(left) {
            Some('│') if row.len() > right => lines.push(text_of(&row[left + 1..right])),
            _ => break,
        }
    }
    Some(lines)
}

/// A table drawn in a pane: its first line is the header. Columns drop out
/// when the pane is narrow, so cells are read by header name: a cell is the word
/// starting at its header's column (cells are left-aligned), and the first
/// column runs up to the second.
struct PaneTable {
    header: Vec<char>,
    rows: Vec<Vec<char>>,
}

impl PaneTable {
    fn read(lines: &[String]) -> Option<PaneTable> {
        let mut rows = lines.iter().map(|l| grid(l).concat());
        let header = rows.next()?;
        let rows = rows
            .take_while(|r| !r.iter().all(|c| c.is_whitespace()))
            .collect();
        Some(PaneTable { header, rows })
    }

    /// The column of a header word (whitespace on both sides).
    fn column(&self, name: &str) -> Option<usize> {
        let name: Vec<char> = name.chars().collect();
        (0..self.header.len()).find(|&x| {
            self.header[x..].starts_with(&name)
                && (x == 0 || self.header[x - 1].is_whitespace())
                && self
                    .header
                    .get(x + name.len())
                    .is_none_or(|c| c.is_whitespace())
        })
    }

    /// The first column's text (up to column `next`) and the word under
    /// column `name`, of every row.
    fn cells(&self, next: &str, name: &str) -> Option<Vec<(String, String)>> {
        let end = self.column(next)?;
        let at = self.column(name)?;
        Some(
            self.rows
                .iter()
                .map(|r| {
                    let first = text_of(&r[..end.min(r.len())]).trim().to_string();
                    let word: String = r
                        .get(at..)
                        .unwrap_or_default()
                        .iter()
                        .take_while(|c| !c.is_whitespace())
                        .filter(|&&c| c != '\0')
                        .collect();
                    (first, word)
                })
                .collect(),
        )
    }
}

/// A count as the UI prints it (`1,234`); `–` is no count yet.
fn parse_count(cell: &str) -> Option<u64> {
    cell.replace(',', "").parse().ok()
}

/// A row of the orphans or tenant pane.
#[derive(Debug)]
struct Row {
    /// `child.column → parent` or `∅ table.column`, as shown (maybe cut),
    /// without the glyph of its worst finding.
    label: String,
    count: Option<u64>,
    /// `done`, `running`…; None when the pane is too narrow for the column.
    state: Option<String>,
}

impl Row {
    fn done(&self) -> bool {
        self.count.is_some() && self.state.as_deref().is_none_or(|s| s == "done")
    }
}

/// The rows of a pane's table: the first column, the count under `count_column`.
fn pane_rows(screen: &str, title: &str, count_column: &str) -> Option<Vec<Row>> {
    let table = PaneTable::read(&pane(screen, title)?)?;
    let counts = table.cells(count_column, count_column)?;
    let states = table.cells(count_column, "state");
    Some(
        counts
            .into_iter()
            .enumerate()
            .map(|(i, (label, n))| Row {
                label: without_mark(label),
                count: parse_count(&n),
                state: states.as_ref().map(|s| s[i].1.clone()),
            })
            .collect(),
    )
}

/// A row's label without the glyph of its worst finding in front.
fn without_mark(label: String) -> String {
    ["✗ ", "! ", "i ", "✓ ", "· "]
        .iter()
        .find_map(|mark| label.strip_prefix(mark))
        .map(str::to_string)
        .unwrap_or(label)
}

fn orphan_rows(screen: &str) -> Option<Vec<Row>> {
    pane_rows(screen, "Orphans", "orphans")
}

fn tenant_rows(screen: &str) -> Option<Vec<Row>> {
    pane_rows(screen, "Tenant isolation", "rows")
}

/// Whether a (maybe shortened) label names `full`: one of its words is a
/// prefix of it, or (shortened in the middle, `assets.disco…_flow_id`) its
/// start and its end, long enough to tell it from its neighbours.
fn names(label: &str, full: &str) -> bool {
    label.split_whitespace().any(|w| {
        let w = w.trim_end_matches('…');
        match w.split_once('…') {
            Some((start, end)) => {
                start.len() + end.len() >= 12 && full.starts_with(start) && full.ends_with(end)
            }
            None => w.len() >= 12 && full.starts_with(w),
        }
    })
}

/// The `N` of `· N/M …` in a pane title (after `· n of m checks done`
/// while a refresh runs).
fn title_ratio(screen: &str, title: &str) -> Option<(u64, u64)> {
    let line = screen
        .lines()
        .find(|l| l.contains(&format!("┌ {title} · ")))?;
    let rest = &line[line.find(&format!("┌ {title} · "))? + format!("┌ {title} · ").len()..];
    let ratio = rest
        .split(" · ")
        .filter_map(|part| part.split_whitespace().next())
        .find(|word| word.contains('/'))?;
    let (n, m) = ratio.split_once('/')?;
    Some((n.parse().ok()?, m.parse().ok()?))
}

/// The header's state line (the second line of the screen).
fn status_line(screen: &str) -> &str {
    screen.lines().nth(1).unwrap_or("")
}

/// N of the header's `✗ connection lost, reconnecting (attempt N): …`.
fn attempt(screen: &str) -> Option<u32> {
    let line = status_line(screen);
    let rest = line
        .split("✗ connection lost, reconnecting (attempt ")
        .nth(1)?;
    rest.split(')').next()?.parse().ok()
}

/// `HH:MM:SS` of the header's `refreshed HH:MM:SS UTC`.
fn refreshed_at(screen: &str) -> Option<String> {
    let line = status_line(screen);
    let at = line.find("refreshed ")? + "refreshed ".len();
    let time: String = line[at..].chars().take(8).collect();
    (time.len() == 8 && time.as_bytes()[2] == b':').then_some(time)
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Words of a screen line, borders taken as spaces.
fn words(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| c.is_whitespace() || c == '│')
        .filter(|w| !w.is_empty())
}

/// Cells of one styled line (`capture-pane -e`), each with whether it is bold.
fn bold_cells(line: &str) -> Vec<(char, bool)> {
    let mut out = Vec::new();
    let mut bold = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push((c, bold));
            if c.width().unwrap_or(0) == 2 {
                out.push(('\0', bold));
            }
            continue;
        }
        if chars.peek() != Some(&'[') {
            continue;
        }
        chars.next();
        let mut params = String::new();
        let mut last = ' ';
        for p in chars.by_ref() {
            if ('\x40'..='\x7e').contains(&p) {
                last = p;
                break;
            }
            params.push(p);
        }
        if last != 'm' {
            continue;
        }
        let codes: Vec<&str> = params.split([';', ':']).collect();
        let mut i = 0;
        while i < codes.len() {
            match codes[i] {
                "" | "0" => bold = false,
                "1" => bold = true,
                "22" => bold = false,
                "38" | "48" | "58" => {
                    i += match codes.get(i + 1) {
                        Some(&"5") => 2,
                        Some(&"2") => 4,
                        _ => 0,
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
    out
}

/// The panes whose border is drawn bold: the focused one.
fn bold_panes(styled: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    for line in styled.lines() {
        let cells = bold_cells(line);
        let chars: Vec<char> = cells.iter().map(|(c, _)| *c).collect();
        for title in PANES {
            if let Some(x) = find(&chars, &format!("┌ {title}"))
                && cells[x].1
            {
                found.push(title);
            }
        }
    }
    found
}

// ---------------------------------------------------------------------------
// PostgreSQL helpers

async fn admin() -> sqlx::PgConnection {
    sqlx::PgConnection::connect(&pg_admin_url())
        .await
        .expect("PostgreSQL for tests")
}

/// tether's queries running `pg_sleep` on `database`.
async fn sleeping_queries(admin: &mut sqlx::PgConnection, database: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity
         WHERE datname = $1 AND application_name = 'tether'
           AND state = 'active' AND query LIKE '%pg_sleep%'",
    )
    .bind(database)
    .fetch_one(admin)
    .await
    .unwrap()
}

async fn allow_connections(admin: &mut sqlx::PgConnection, database: &str, allow: bool) {
    sqlx::raw_sql(AssertSqlSafe(format!(
        "ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS {allow}"
    )))
    .execute(admin)
    .await
    .unwrap();
}

/// Lets connections to a database again when dropped, so that the test
/// database can be dropped after it, even when the test failed half-way.
struct ReopenOnDrop {
    database: String,
}

impl Drop for ReopenOnDrop {
    fn drop(&mut self) {
        common::admin_now(format!(
            "ALTER DATABASE \"{}\" ALLOW_CONNECTIONS true",
            self.database
        ));
    }
}

// ---------------------------------------------------------------------------
// Tests

/// The demo database (created on first run): four panes with the planted
/// faults, the orphan detail with its sample and SQL, the lineage of a master
/// flow with a broken link, and a clean exit.
#[tokio::test(flavor = "multi_thread")]
async fn demo_end_to_end() {
    let home = tempfile::tempdir().unwrap();
    let (data, env) = environment(home.path());
    let tui = Tmux::start("demo", &[], &env);

    // The first refresh finished: every pane drawn, every count in.
    let (screen, _) = tui.wait_for(
        "the four panes and the first refresh",
        Duration::from_secs(60),
        |s| {
            PANES.iter().all(|t| s.contains(&format!("┌ {t}")))
                && refreshed_at(s).is_some()
                && orphan_rows(s).is_some_and(|rows| {
                    rows.iter()
                        .any(|r| names(&r.label, "assets.discovery_flow_id") && r.done())
                })
                && tenant_rows(s).is_some_and(|rows| !rows.is_empty())
        },
    );
    assert!(
        screen.contains("demo database") && screen.contains("profile discovery-flow"),
        "{screen}"
    );

    // What the demo database really holds.
    let demo = data.join("tether").join("demo.sqlite");
    assert!(demo.exists(), "no demo database at {}", demo.display());
    let mut sqlite =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", demo.display()))
            .await
            .unwrap();
    let orphans: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM assets a WHERE a.discovery_flow_id IS NOT NULL AND NOT EXISTS
           (SELECT 1 FROM discovery_flows d WHERE d.flow_id = a.discovery_flow_id)",
    )
    .fetch_one(&mut sqlite)
    .await
    .unwrap();
    let no_engagement: i64 =
        sqlx::query_scalar("SELECT count(*) FROM assets WHERE engagement_id IS NULL")
            .fetch_one(&mut sqlite)
            .await
            .unwrap();
    assert_eq!(
        (orphans, no_engagement),
        (30, 10),
        "the demo's planted faults"
    );

    // Orphans: the broken relationship with its exact count, sorted first.
    let rows = orphan_rows(&screen).unwrap();
    let broken: Vec<_> = rows
        .iter()
        .filter(|r| names(&r.label, "assets.discovery_flow_id"))
        .collect();
    assert_eq!(broken.len(), 1, "{rows:?}\n{screen}");
    assert_eq!(broken[0].count, Some(orphans as u64), "{screen}");
    assert!(
        names(&rows[0].label, "assets.discovery_flow_id"),
        "the largest count is not first: {rows:?}"
    );
    let (n, total) = title_ratio(&screen, "Orphans").expect("orphans title");
    assert!(n > 0 && n <= total, "Orphans title says {n}/{total} broken");

    // Tenants: assets without engagement, counted exactly; some rows non-zero.
    let tenants = tenant_rows(&screen).unwrap();
    let missing = tenants
        .iter()
        .find(|r| {
            (r.label.starts_with('∅') || r.label.starts_with("missing"))
                && names(&r.label, "assets.engagement_id")
        })
        .unwrap_or_else(|| panic!("no assets.engagement_id row: {tenants:?}\n{screen}"));
    assert_eq!(missing.count, Some(no_engagement as u64), "{screen}");
    assert!(
        tenants.iter().all(|r| r.count.is_some()),
        "a tenant count is missing: {tenants:?}"
    );
    let (n, total) = title_ratio(&screen, "Tenant isolation").expect("tenant title");
    assert!(
        n > 0 && n <= total,
        "Tenant title says {n}/{total} with rows"
    );

    // The orphan detail: sample rows that really are orphans, and the SQL.
    tui.keys(&["2", "Enter"]);
    let sample_heading = format!("Sample ({} of {orphans} rows)", orphans.min(5));
    let (screen, _) = tui.wait_for("the orphan detail", WAIT, |s| {
        s.contains(&sample_heading) && s.contains("SQL that ran (y copies it)")
    });
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(&sample_heading))
        .unwrap();
    let sample: Vec<Vec<&str>> = lines[at + 2..]
        .iter()
        .map(|l| words(l).filter(|w| is_uuid(w)).collect::<Vec<_>>())
        .take_while(|ids| !ids.is_empty())
        .collect();
    assert_eq!(
        sample.len() as i64,
        orphans.min(5),
        "sample rows:\n{screen}"
    );
    let header: Vec<&str> = words(lines[at + 1]).collect();
    assert!(
        header.contains(&"id") && header.contains(&"discovery_flow_id"),
        "sample header: {header:?}"
    );
    // Sample rows are the uuid words of their lines, in the header's order.
    let (id_at, flow_at) = if header.iter().position(|h| *h == "id")
        < header.iter().position(|h| *h == "discovery_flow_id")
    {
        (0, 1)
    } else {
        (1, 0)
    };
    for ids in &sample {
        // Every sample row is an asset whose discovery flow does not exist.
        assert_eq!(ids.len(), 2, "sample row {ids:?}");
        let found: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM assets a WHERE a.id = ? AND a.discovery_flow_id = ?
               AND NOT EXISTS (SELECT 1 FROM discovery_flows d WHERE d.flow_id = a.discovery_flow_id)",
        )
        .bind(ids[id_at])
        .bind(ids[flow_at])
        .fetch_one(&mut sqlite)
        .await
        .unwrap();
        assert_eq!(found, 1, "sample row {ids:?} is not an orphan");
    }
    let sql_at = lines
        .iter()
        .position(|l| l.contains("SQL that ran (y copies it)"))
        .unwrap();
    assert!(
        lines[sql_at + 1..].iter().any(|l| l
            .split('│')
            .any(|part| part.trim_start().starts_with("SELECT "))),
        "no SELECT under the SQL heading:\n{screen}"
    );

    // Lineage: the list of master flows, then a flow with a broken link.
    let flow: String = sqlx::query_scalar(
        "SELECT a.master_flow_id FROM assets a WHERE NOT EXISTS
           (SELECT 1 FROM discovery_flows d WHERE d.flow_id = a.discovery_flow_id)
         ORDER BY a.id LIMIT 1",
    )
    .fetch_one(&mut sqlite)
    .await
    .unwrap();
    let flow_orphans: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM assets a WHERE a.master_flow_id = ? AND NOT EXISTS
           (SELECT 1 FROM discovery_flows d WHERE d.flow_id = a.discovery_flow_id)",
    )
    .bind(&flow)
    .fetch_one(&mut sqlite)
    .await
    .unwrap();
    let flow_assets: i64 =
        sqlx::query_scalar("SELECT count(*) FROM assets WHERE master_flow_id = ?")
            .bind(&flow)
            .fetch_one(&mut sqlite)
            .await
            .unwrap();
    sqlite.close().await.unwrap();

    tui.escape();
    tui.wait_for("the detail to close", WAIT, |s| {
        !s.contains("SQL that ran") && s.contains("┌ Orphans")
    });
    tui.keys(&["L"]);
    let (screen, _) = tui.wait_for("the list of master flows", WAIT, |s| {
        s.contains("Lineage · pick a row of crewai_flow_state_extensions")
            && s.lines()
                .filter(|l| words(l).next().is_some_and(is_uuid))
                .count()
                >= 5
    });
    assert!(
        !screen.contains("┌ Orphans"),
        "the dashboard is still drawn:\n{screen}"
    );
    tui.keys(&["i"]);
    tui.wait_for_text("id: ", WAIT);
    tui.type_text(&flow);
    tui.wait_for_text(&format!("id: {flow}"), WAIT);
    tui.keys(&["Enter"]);
    let (screen, _) = tui.wait_for("the lineage tree", WAIT, |s| {
        s.contains(&format!("Lineage of crewai_flow_state_extensions {flow}"))
            && s.contains("broken or cross-tenant links (✗)")
    });
    let assets_line = format!(
        "assets via master_flow_id: {flow_assets} row{} ✗",
        if flow_assets == 1 { "" } else { "s" }
    );
    assert!(
        screen.contains(&assets_line),
        "no {assets_line:?}:\n{screen}"
    );
    let orphan_line =
        format!("✗ {flow_orphans} orphans assets(discovery_flow_id) → discovery_flows(flow_id)");
    assert!(
        screen.contains(&orphan_line),
        "no {orphan_line:?}:\n{screen}"
    );

    tui.quit_and_check_exit();
}

/// A query that never ends does not freeze the UI, and quitting cancels it on
/// the server at once.
#[tokio::test(flavor = "multi_thread")]
async fn stuck_query_is_cancelled_on_quit() {
    let db = TestDb::postgres().await;
    db.exec(
        "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
         INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20) AS g;",
    )
    .await;
    let home = tempfile::tempdir().unwrap();
    let (_, env) = environment(home.path());
    // `random() >= 0` keeps the planner from folding the sleep away.
    let profile = home.path().join("stuck.toml");
    std::fs::write(
        &profile,
        r#"name = "stuck"

[[assertion]]
name = "sleeps"
sql = "SELECT 1 AS x FROM pg_sleep(60) AS s WHERE random() >= 0"
"#,
    )
    .unwrap();
    let profile = profile.display().to_string();
    let tui = Tmux::start(
        "stuck",
        &["--url", &db.url, "--profile", &profile, "--timeout", "120"],
        &env,
    );

    let database = db.name();
    let mut admin = admin().await;
    tui.wait_for_text("┌ Latency", WAIT);
    let start = Instant::now();
    while sleeping_queries(&mut admin, &database).await == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the sleeping query never showed in pg_stat_activity; the screen:\n{}",
            tui.screen()
        );
        tokio::time::sleep(POLL).await;
    }
    let screen = tui.wait_for_text("● refreshing…", WAIT);
    // A running statement's latency is its time so far, marked `…`.
    assert!(
        screen
            .lines()
            .any(|l| l.contains("custom:sleeps ") && l.contains("…   ")),
        "{screen}"
    );

    // Keys still work while the query runs.
    assert_eq!(bold_panes(&tui.styled_screen()), ["Flow graph"]);
    tui.keys(&["?"]);
    tui.wait_for("the help", WAIT, |s| {
        s.contains("┌ Keys") && s.contains("quit")
    });
    tui.keys(&["?"]);
    tui.wait_for("the help to close", WAIT, |s| {
        !s.contains("┌ Keys") && s.contains("┌ Orphans")
    });
    tui.keys(&["Tab"]);
    tui.wait_for_focus("Orphans");
    tui.keys(&["4"]);
    tui.wait_for_focus("Latency");
    // The latency pane's first statement is the assertion: its detail opens.
    tui.keys(&["Enter"]);
    // Waits for the whole detail: a capture can land while tmux is still
    // drawing the frame.
    tui.wait_for("the assertion's detail", WAIT, |s| {
        s.contains("SQL that ran (y copies it)")
            && s.contains("┌ custom · sleeps")
            && s.contains("state: Running")
            && s.contains("pg_sleep(60)")
    });
    assert_eq!(
        sleeping_queries(&mut admin, &database).await,
        1,
        "the query should still be running"
    );

    // Quit: the query is cancelled on the server, within the same two seconds.
    let start = Instant::now();
    tui.keys(&["q"]);
    let mut left = None;
    let mut exited = None;
    while left.is_none() || exited.is_none() {
        if left.is_none() && sleeping_queries(&mut admin, &database).await == 0 {
            left = Some(start.elapsed());
        }
        if exited.is_none() && tui.screen().contains("EXIT=") {
            exited = Some(start.elapsed());
        }
        if start.elapsed() > WAIT {
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    let screen = tui.screen();
    let left = left.unwrap_or_else(|| panic!("the query still runs {WAIT:?} after q"));
    let exited = exited.unwrap_or_else(|| panic!("no exit {WAIT:?} after q:\n{screen}"));
    assert!(left <= QUIT_WITHIN, "the query ran on for {left:?} after q");
    assert!(exited <= QUIT_WITHIN, "exiting took {exited:?}:\n{screen}");
    assert!(
        screen.lines().any(|l| l.trim() == "EXIT=0"),
        "tether did not exit 0:\n{screen}"
    );
    assert!(
        !tui.alternate_on(),
        "left on the alternate screen:\n{screen}"
    );
    admin.close().await.unwrap();
}

/// The database goes away and comes back: the header says so, and refreshing
/// resumes by itself.
#[tokio::test(flavor = "multi_thread")]
async fn recovers_after_losing_the_database() {
    let db = TestDb::postgres().await;
    db.exec(
        "CREATE TABLE parents (id int PRIMARY KEY, name text NOT NULL);
         CREATE TABLE children (id int PRIMARY KEY, parent_id int REFERENCES parents (id));
         CREATE INDEX ON children (parent_id);
         INSERT INTO parents SELECT g, 'p' || g FROM generate_series(1, 10) AS g;
         INSERT INTO children SELECT g, 1 + g % 10 FROM generate_series(1, 100) AS g;",
    )
    .await;
    let database = db.name();
    // Declared after `db`, so dropped before it: the database can be dropped.
    let _reopen = ReopenOnDrop {
        database: database.clone(),
    };
    let home = tempfile::tempdir().unwrap();
    let (_, env) = environment(home.path());
    let tui = Tmux::start("recover", &["--url", &db.url, "--interval", "1"], &env);

    let done = |s: &str| {
        orphan_rows(s).is_some_and(|rows| {
            rows.iter()
                .any(|r| names(&r.label, "children.parent_id") && r.count == Some(0) && r.done())
        })
    };
    let (screen, _) = tui.wait_for("a first refresh", WAIT, |s| {
        status_line(s).starts_with("● connected") && refreshed_at(s).is_some() && done(s)
    });
    let before = refreshed_at(&screen).unwrap();

    // Cut the database off.
    let mut admin = admin().await;
    allow_connections(&mut admin, &database, false).await;
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&database)
    .execute(&mut admin)
    .await
    .unwrap();
    let (screen, _) = tui.wait_for("the connection to be lost", Duration::from_secs(10), |s| {
        attempt(s).is_some()
    });
    assert!(!status_line(&screen).contains("● connected"), "{screen}");
    assert!(
        status_line(&screen)
            .split_once("): ")
            .is_some_and(|(_, why)| why.trim().len() > 5),
        "the header should say why: {}",
        status_line(&screen)
    );
    // The server's own reason, not a timeout that hides it.
    assert!(
        !status_line(&screen).contains("no answer within"),
        "the header should name the server's reason: {}",
        status_line(&screen)
    );
    assert!(status_line(&screen).contains("stale: values"), "{screen}");
    stale_row(&tui);

    // It keeps trying, one attempt per retry, waiting 1 s, 2 s, 4 s… between
    // them: in its first 6 s, at most 4 attempts. Checked at the end, so that
    // the rest of the scenario runs whatever happens here.
    let mut problems = Vec::new();
    let lost_at = Instant::now();
    let mut seen = vec![attempt(&screen).unwrap()];
    while lost_at.elapsed() < Duration::from_secs(6) {
        std::thread::sleep(POLL);
        let screen = tui.screen();
        let now = attempt(&screen)
            .unwrap_or_else(|| panic!("reconnected while the database refused:\n{screen}"));
        if seen.last() != Some(&now) {
            seen.push(now);
        }
    }
    if seen.len() < 2 {
        problems.push(format!("no second attempt within 6 s: attempts {seen:?}"));
    }
    if seen.windows(2).any(|w| w[1] != w[0] + 1) || seen.last().is_some_and(|&n| n > 4) {
        problems.push(format!(
            "attempts seen in the first 6 s after losing the database: {seen:?}; \
             expected 1, 2, 3 (at most 4), one per retry with backoff"
        ));
    }

    // Back: connected again without a key, and refreshing again. The next
    // retry is at most 8 s away (after the fourth attempt).
    allow_connections(&mut admin, &database, true).await;
    let (screen, took) = tui.wait_for(
        "the connection to come back",
        Duration::from_secs(45),
        |s| {
            let status = status_line(s);
            status.starts_with("● connected") || status.starts_with("● refreshing…")
        },
    );
    if took > Duration::from_secs(10) {
        problems.push(format!(
            "reconnected only {took:?} after the database came back (attempts seen {seen:?})"
        ));
    }
    assert!(!screen.contains("connection lost"), "{screen}");
    let (screen, _) = tui.wait_for("a refresh after reconnecting", WAIT, |s| {
        status_line(s).starts_with("● connected")
            && refreshed_at(s).is_some_and(|t| t != before)
            && done(s)
    });
    let after = refreshed_at(&screen).unwrap();
    tui.wait_for("one more refresh", WAIT, |s| {
        status_line(s).starts_with("● connected")
            && refreshed_at(s).is_some_and(|t| t != after && t != before)
            && done(s)
    });
    admin.close().await.unwrap();

    tui.quit_and_check_exit();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------
// SQLite statements stop

/// One write to table `t`, waiting at most `busy` for the locks: it commits
/// only when no reader holds the file (SQLite's rollback journal).
async fn write_sqlite(url: &str, busy: Duration) -> Result<(), sqlx::Error> {
    use std::str::FromStr;
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?.busy_timeout(busy);
    let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
    let written = sqlx::query("INSERT INTO t (v) VALUES ('written')")
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
    written.map(|_| ())
}

/// Waits until `holds` says whether a reader holds the file (a write that
/// does not wait fails while one does).
async fn until_reader(url: &str, holds: bool, tui: &Tmux) {
    let start = Instant::now();
    while write_sqlite(url, Duration::ZERO).await.is_ok() == holds {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "waited for a reader to {}; the screen:\n{}",
            if holds { "hold the file" } else { "let it go" },
            tui.screen()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A SQLite statement past its timeout stops, so a writer writes while the
/// UI runs on; quitting while one runs leaves at once, and the file is free.
#[tokio::test(flavor = "multi_thread")]
async fn sqlite_statements_stop_at_their_timeout_and_on_quit() {
    let home = tempfile::tempdir().unwrap();
    let (_, env) = environment(home.path());
    let url = format!("sqlite://{}", home.path().join("slow.sqlite").display());
    let mut conn = sqlx::SqliteConnection::connect(&format!("{url}?mode=rwc"))
        .await
        .unwrap();
    sqlx::raw_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    // Reads t (the shared lock), then counts for hours.
    let profile = home.path().join("slow.toml");
    std::fs::write(
        &profile,
        r#"name = "slow"

[[assertion]]
name = "slow"
sql = """
WITH RECURSIVE r(n) AS (SELECT count(*) FROM t UNION ALL SELECT n + 1 FROM r WHERE n < 1000000000000)
SELECT n FROM r WHERE n < 0
"""
"#,
    )
    .unwrap();
    let profile = profile.display().to_string();
    let tui = Tmux::start(
        "sqlite-slow",
        &[
            "--url",
            &url,
            "--profile",
            &profile,
            "--timeout",
            "3",
            "--interval",
            "3600",
        ],
        &env,
    );
    tui.wait_for_text("┌ Latency", WAIT);
    until_reader(&url, true, &tui).await;
    // Past its timeout the statement stops: the UI runs on, the file is free.
    until_reader(&url, false, &tui).await;
    tui.wait_for("the run to end with the assertion failed", WAIT, |s| {
        s.contains("refreshed") && s.contains("1 error ")
    });
    assert!(!tui.screen().contains("EXIT="));

    // Refresh, and quit while the statement runs.
    tui.keys(&["r"]);
    until_reader(&url, true, &tui).await;
    tui.quit_and_check_exit();
    write_sqlite(&url, Duration::from_secs(2))
        .await
        .expect("a writer can write right after");
}

// ---------------------------------------------------------------------------
// Fixes need intent

/// The orphans of assets' discovery flows in the demo database at `demo`.
async fn demo_orphans(demo: &Path) -> i64 {
    let mut sqlite =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", demo.display()))
            .await
            .unwrap();
    let orphans: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM assets a WHERE a.discovery_flow_id IS NOT NULL AND NOT EXISTS
           (SELECT 1 FROM discovery_flows d WHERE d.flow_id = a.discovery_flow_id)",
    )
    .fetch_one(&mut sqlite)
    .await
    .unwrap();
    sqlite.close().await.unwrap();
    orphans
}

/// The files in `dir` (none when it does not exist).
fn files_in(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Starts tether on the demo database with `extra` arguments, waits for the
/// first refresh, and opens the preview of the fix of the orphans listed
/// first (assets' discovery flows).
fn preview_demo_fix(test: &str, env: &[(&str, String)], extra: &[&str]) -> Tmux {
    let mut args = vec!["--interval", "600"];
    args.extend_from_slice(extra);
    let tui = Tmux::start(test, &args, env);
    tui.wait_for("the first refresh", Duration::from_secs(60), |s| {
        refreshed_at(s).is_some()
            && orphan_rows(s).is_some_and(|rows| {
                rows.first()
                    .is_some_and(|r| names(&r.label, "assets.discovery_flow_id") && r.done())
            })
    });
    tui.keys(&["2", "Enter"]);
    tui.wait_for_text("SQL that ran (y copies it)", WAIT);
    tui.keys(&["f"]);
    tui.wait_for_text("Preview only: nothing was touched", WAIT);
    tui
}

/// Without `--allow-writes` a fix is previewed and refused with how to allow
/// it; nothing changes. With it, Enter alone does not apply, typing the
/// database's name does: the orphans are gone and a backup was written
/// where the UI writes backups.
#[tokio::test(flavor = "multi_thread")]
async fn fixes_apply_only_with_allow_writes_and_the_typed_name() {
    let home = tempfile::tempdir().unwrap();
    let (data, env) = environment(home.path());
    let backups = home.path().join("backups");
    let backup_arg = backups.display().to_string();
    let demo = data.join("tether").join("demo.sqlite");

    // Without --allow-writes.
    let tui = preview_demo_fix("fix-refused", &env, &["--backup", &backup_arg]);
    let before = demo_orphans(&demo).await;
    assert!(before > 0, "the demo plants orphans");
    let screen = tui.screen();
    assert!(
        screen.contains("to apply, restart tether with --allow-writes"),
        "the preview says how to allow applying:\n{screen}"
    );
    tui.keys(&["A"]);
    tui.keys(&["Enter"]);
    let (screen, _) = tui.wait_for("the refusal in the footer", WAIT, |s| {
        s.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| l.contains("to apply, restart tether with --allow-writes"))
    });
    assert!(
        !screen.contains("press Enter to apply"),
        "no confirmation without --allow-writes:\n{screen}"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(!tui.screen().contains("committed"), "{}", tui.screen());
    tui.quit_and_check_exit();
    assert_eq!(demo_orphans(&demo).await, before, "nothing changed");
    assert!(
        files_in(&backups).is_empty(),
        "no backup: nothing was applied"
    );
    drop(tui);

    // With --allow-writes: the confirmation names the database and wants its name.
    let tui = preview_demo_fix(
        "fix-allowed",
        &env,
        &["--backup", &backup_arg, "--allow-writes"],
    );
    tui.keys(&["A"]);
    let screen = tui.wait_for_text("Type demo.sqlite and press Enter to apply", WAIT);
    assert!(
        screen.contains("Apply to SQLite · ") && screen.contains("tether/demo.sqlite"),
        "the confirmation names the engine and database:\n{screen}"
    );
    tui.keys(&["Enter"]);
    tui.wait_for_text("Enter alone does not apply", WAIT);
    tui.type_text("demo.sqlit");
    tui.wait_for_text("> demo.sqlit", WAIT);
    assert_eq!(demo_orphans(&demo).await, before, "nothing applied yet");
    tui.type_text("e");
    tui.wait_for_text("> demo.sqlite", WAIT);
    tui.keys(&["Enter"]);
    let screen = tui.wait_for_text("committed:", Duration::from_secs(60));
    assert!(
        screen.contains(&format!("committed: {before} rows changed")),
        "{screen}"
    );
    assert_eq!(demo_orphans(&demo).await, 0, "the orphans are fixed");
    let written = files_in(&backups);
    assert_eq!(written.len(), 1, "one backup in {}", backups.display());
    let backup = std::fs::read_to_string(&written[0]).unwrap();
    let first = backup.lines().next().unwrap_or_default();
    assert!(
        serde_json::from_str::<serde_json::Value>(first).is_ok(),
        "a JSON-lines backup: {first:?}"
    );
    tui.quit_and_check_exit();
}

/// The key hints at the bottom of the screen.
fn footer(screen: &str) -> &str {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
}

/// The check ids in the order the findings screen lists them: most severe
/// first, then by check id in the brief's order, as `tether check` reports
/// the demo's findings.
fn findings_order(json: &serde_json::Value) -> Vec<String> {
    const IDS: [&str; 12] = [
        "fk_missing",
        "fk_delete_rule",
        "fk_not_enforced",
        "orphans",
        "fk_unindexed",
        "implied_fk",
        "tenant_missing",
        "tenant_mismatch",
        "path_mismatch",
        "slow_check",
        "custom",
        "check_failed",
    ];
    let severity = |s: &str| match s {
        "error" => 0,
        "warning" => 1,
        _ => 2,
    };
    let mut found: Vec<(u8, usize, String)> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let check = f["check"].as_str().unwrap().to_string();
            let id = IDS.iter().position(|i| *i == check).unwrap();
            (severity(f["severity"].as_str().unwrap()), id, check)
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, _, check)| check).collect()
}

/// Every finding `tether check` reports for the demo database is listed on
/// the findings screen (7) and each opens a detail that names its check.
#[tokio::test(flavor = "multi_thread")]
async fn every_finding_of_the_demo_opens_from_the_findings_screen() {
    let home = tempfile::tempdir().unwrap();
    let (data, env) = environment(home.path());
    let tui = Tmux::start("findings", &["--interval", "600"], &env);
    tui.wait_for("the first refresh", Duration::from_secs(60), |s| {
        refreshed_at(s).is_some()
            && orphan_rows(s).is_some_and(|rows| rows.iter().all(|r| r.done()))
    });
    let demo = data.join("tether").join("demo.sqlite");
    let url = format!("sqlite://{}", demo.display());
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args([
            "check",
            "--url",
            &url,
            "-p",
            "discovery-flow",
            "--format",
            "json",
        ])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected = findings_order(&json);

    tui.keys(&["7"]);
    let screen = tui.wait_for_text("┌ Findings · ", WAIT);
    let title = format!("┌ Findings · {} findings", expected.len());
    assert!(screen.contains(&title), "expected {title}:\n{screen}");
    for (i, check) in expected.iter().enumerate() {
        tui.keys(&["Home"]);
        let mut downs = vec!["Down"; i];
        downs.push("Enter");
        tui.keys(&downs);
        // A detail's keys end with "esc back" but offer no sorting.
        let (screen, _) = tui.wait_for(&format!("finding {i}'s detail"), WAIT, |s| {
            footer(s).contains("esc back") && !footer(s).contains("sort")
        });
        let opened = if check == "slow_check" {
            "┌ Statement ".to_string()
        } else {
            format!(" {check}")
        };
        assert!(
            screen.contains(&opened),
            "finding {i} ({check}) opened something else:\n{screen}"
        );
        tui.escape();
        tui.wait_for("the findings screen again", WAIT, |s| {
            footer(s).contains("sort") && s.contains("┌ Findings · ")
        });
    }
    tui.quit_and_check_exit();
}

/// A 300-table schema: `/`, the table's name, Enter to end the filter and
/// Enter to open it reach any table — exact names rank first, so `artist`
/// is not lost among `artist_alias`, `artist_alias_type`, ….
#[tokio::test(flavor = "multi_thread")]
async fn any_table_of_three_hundred_is_reached_after_its_name() {
    const ENTITIES: [&str; 15] = [
        "artist",
        "release",
        "recording",
        "label",
        "work",
        "area",
        "place",
        "event",
        "instrument",
        "series",
        "url",
        "genre",
        "medium",
        "track",
        "editor",
    ];
    const SUFFIXES: [&str; 20] = [
        "",
        "_alias",
        "_alias_type",
        "_annotation",
        "_attribute",
        "_gid_redirect",
        "_meta",
        "_tag",
        "_rating_raw",
        "_type",
        "_type_allowed_value",
        "_attribute_type",
        "_ipi",
        "_isni",
        "_credit",
        "_credit_name",
        "_tag_raw",
        "_first_release_date",
        "_series",
        "_url",
    ];
    let db = TestDb::postgres().await;
    let mut script = String::from("CREATE SCHEMA musicbrainz;\n");
    for entity in ENTITIES {
        script.push_str(&format!(
            "CREATE TABLE musicbrainz.{entity} (id int PRIMARY KEY);\n"
        ));
    }
    for entity in ENTITIES {
        for suffix in SUFFIXES.iter().filter(|s| !s.is_empty()) {
            script.push_str(&format!(
                "CREATE TABLE musicbrainz.{entity}{suffix} (id int PRIMARY KEY, \
                 {entity} int REFERENCES musicbrainz.{entity});\n"
            ));
        }
    }
    db.exec(&script).await;
    let home = tempfile::tempdir().unwrap();
    let (_, env) = environment(home.path());
    let tui = Tmux::start(
        "find",
        &[
            "--url",
            &db.url,
            "--schema",
            "musicbrainz",
            "--interval",
            "600",
        ],
        &env,
    );
    tui.wait_for_text("300 tables", Duration::from_secs(60));
    for name in [
        "artist",
        "artist_alias",
        "release_tag_raw",
        "editor_url",
        "url",
    ] {
        tui.keys(&["/"]);
        tui.type_text(name);
        tui.keys(&["Enter", "Enter"]);
        // The schema every table shares may be left out of the name.
        tui.wait_for(&format!("{name}'s detail"), WAIT, |s| {
            s.contains(&format!("┌ Table {name} "))
                || s.contains(&format!("┌ Table musicbrainz.{name} "))
        });
        tui.escape();
        tui.wait_for(&format!("{name}'s detail closed"), WAIT, |s| {
            !s.contains("┌ Table ")
        });
    }
    tui.quit_and_check_exit();
}

/// A database with a parent and its child, every reference holding.
async fn parents_and_children() -> TestDb {
    let db = TestDb::postgres().await;
    db.exec(
        "CREATE TABLE parents (id int PRIMARY KEY);
         CREATE TABLE children (id int PRIMARY KEY, parent_id int REFERENCES parents (id));
         INSERT INTO parents VALUES (1);
         INSERT INTO children VALUES (1, 1);",
    )
    .await;
    db
}

/// The parents-and-children database, read by a role of its own (a
/// superuser passes connection limits and keeps its privileges): the role
/// (dropped after the database), the database, the role's name, its URL.
async fn read_by_a_role() -> (common::Roles, TestDb, String, String) {
    let role = common::unique_role("tether_viewer");
    let roles = common::Roles(vec![role.clone()]);
    let db = parents_and_children().await;
    db.exec(&format!(
        "CREATE ROLE \"{role}\" LOGIN; GRANT SELECT ON parents, children TO \"{role}\";"
    ))
    .await;
    let url = common::role_url(&db, &role);
    (roles, db, role, url)
}

/// The orphans pane's row of `children.parent_id → parents`.
fn children_row(screen: &str) -> Option<Row> {
    orphan_rows(screen)?
        .into_iter()
        .find(|r| names(&r.label, "children.parent_id"))
}

/// The first refresh of the parents-and-children database: connected, the
/// children row counted (no orphan).
fn first_refresh(tui: &Tmux) {
    tui.wait_for("a first refresh", WAIT, |s| {
        status_line(s).starts_with("● connected")
            && children_row(s).is_some_and(|r| r.count == Some(0) && r.done())
    });
}

/// Adds a child whose parent does not exist, past the declared foreign key
/// (as a bulk load with triggers off does), through `url` (a superuser's):
/// only a count made after it sees it.
async fn plant_orphan(url: &str) {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql("SET session_replication_role = replica; INSERT INTO children VALUES (2, 99);")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

/// While the connection is lost: the header names `cause` and says how old
/// the values are, the children row keeps its count marked stale, and the
/// keys still work (the help opens and closes).
fn said_while_lost(tui: &Tmux, cause: &str) {
    let (screen, _) = tui.wait_for(&format!("the header to name {cause:?}"), WAIT, |s| {
        status_line(s).contains(cause)
    });
    assert!(status_line(&screen).contains("stale: values"), "{screen}");
    stale_row(tui);
    tui.keys(&["?"]);
    tui.wait_for("the help during the fault", WAIT, |s| s.contains("┌ Keys"));
    tui.keys(&["?"]);
    tui.wait_for("the help closed", WAIT, |s| !s.contains("┌ Keys"));
}

/// The children row keeps its count, and the line under the pane (its
/// state column is off at this width) says the count is stale, with its age.
fn stale_row(tui: &Tmux) {
    tui.wait_for("the row's count marked stale", WAIT, |s| {
        children_row(s).is_some_and(|r| r.count == Some(0))
            && s.contains("children.parent_id → parents · stale ")
    });
}

/// Back by itself: connected, nothing stale, and the children row counts
/// `orphans` afresh (what was planted while it was away).
fn fresh_after(tui: &Tmux, orphans: u64) {
    tui.wait_for(
        "fresh counts after recovery",
        Duration::from_secs(40),
        |s| {
            status_line(s).starts_with("● connected")
                && !s.contains("stale")
                && children_row(s).is_some_and(|r| r.count == Some(orphans) && r.done())
        },
    );
}

/// The network path goes silent under the UI (a proxy that stops
/// forwarding): within the connect timeout the header says there was no
/// answer and the rows that the values shown are stale; when the path
/// carries bytes again the UI comes back by itself with fresh counts.
#[tokio::test(flavor = "multi_thread")]
async fn a_silent_network_is_said_and_survived() {
    let db = parents_and_children().await;
    let proxy = common::proxy::Proxy::start("127.0.0.1:5432");
    let url = db.url.replace("127.0.0.1:5432", &proxy.addr.to_string());
    let home = tempfile::tempdir().unwrap();
    let (_, env) = environment(home.path());
    let tui = Tmux::start(
        "silent",
        &["--url", &url, "--interval", "1", "--connect-timeout", "3"],
        &env,
    );
    first_refresh(&tui);
    proxy.pause();
    said_while_lost(&tui, "no answer within");
    plant_orphan(&db.url).await;
    proxy.resume();
    fresh_after(&tui, 1);
    tui.quit_and_check_exit();
}

/// The role the UI connects as loses its privilege on a table mid-run: the
/// row of that table's check says it failed, the header stays connected,
/// the detail names the grant; given back, the next refresh counts it again.
#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_privilege_is_said_on_its_row_and_survived() {
    let (_roles, db, role, url) = read_by_a_role().await;
    let home = tempfile::tempdir().unwrap();
    let (_, env) = environment(home.path());
    let tui = Tmux::start("revoked", &["--url", &url, "--interval", "2"], &env);
    first_refresh(&tui);
    db.exec(&format!("REVOKE SELECT ON children FROM \"{role}\""))
        .await;
    // The selected row's line under the pane says its state in full.
    let (screen, _) = tui.wait_for("the row to say it failed", WAIT, |s| {
        s.contains("children.parent_id → parents · failed")
    });
    assert!(status_line(&screen).starts_with("● connected"), "{screen}");
    tui.keys(&["2", "Enter"]);
    tui.wait_for_text("SELECT", WAIT);
    tui.escape();
    plant_orphan(&db.url).await;
    db.exec(&format!("GRANT SELECT ON children TO \"{role}\""))
        .await;
    fresh_after(&tui, 1);
    assert!(!tui.screen().contains("· failed"));
    tui.quit_and_check_exit();
}

/// A lock that stalls every read of a table: its row says it failed past
/// the lock timeout while the header stays connected; once the lock goes,
/// the row counts afresh what the locking transaction wrote. Under the lock
/// again, `q` quits at once and leaves no session on the server.
#[tokio::test(flavor = "multi_thread")]
async fn a_stalling_lock_is_said_on_its_row_and_quit_leaves_nothing() {
    let db = parents_and_children().await;
    let home = tempfile::tempdir().unwrap();
    let (_, env) = environment(home.path());
    let tui = Tmux::start(
        "lock",
        &["--url", &db.url, "--interval", "2", "--lock-timeout", "1"],
        &env,
    );
    first_refresh(&tui);
    let mut locker = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let lock = "BEGIN; LOCK TABLE children IN ACCESS EXCLUSIVE MODE";
    sqlx::raw_sql(lock).execute(&mut locker).await.unwrap();
    let failed = |s: &str| s.contains("children.parent_id → parents · failed");
    let (screen, _) = tui.wait_for("the row to say it failed", WAIT, failed);
    assert!(status_line(&screen).starts_with("● "), "{screen}");
    assert!(!status_line(&screen).contains("lost"), "{screen}");
    sqlx::raw_sql(
        "SET LOCAL session_replication_role = replica; \
         INSERT INTO children VALUES (2, 99); COMMIT",
    )
    .execute(&mut locker)
    .await
    .unwrap();
    fresh_after(&tui, 1);
    sqlx::raw_sql(lock).execute(&mut locker).await.unwrap();
    tui.wait_for("the row to fail again", WAIT, failed);
    tui.quit_and_check_exit();
    // A backend may take a moment to end after its client went.
    let mut admin = admin().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'tether'",
        )
        .bind(db.name())
        .fetch_one(&mut admin)
        .await
        .unwrap();
        if left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{left} tether sessions left on the server"
        );
        tokio::time::sleep(POLL).await;
    }
    sqlx::raw_sql("COMMIT").execute(&mut locker).await.unwrap();
}

/// The database runs out of connections for the UI's role (`CONNECTION
/// LIMIT 0`, its sessions ended): the header says so with the server's
/// reason, the rows that their values are stale; once connections are
/// allowed again the UI comes back by itself with fresh counts.
#[tokio::test(flavor = "multi_thread")]
async fn out_of_connections_is_said_and_survived() {
    let (_roles, db, _, url) = read_by_a_role().await;
    let home = tempfile::tempdir().unwrap();
    let (_, env) = environment(home.path());
    let tui = Tmux::start("no-connections", &["--url", &url, "--interval", "1"], &env);
    first_refresh(&tui);
    let mut admin = admin().await;
    let database = db.name();
    for sql in [
        format!("ALTER DATABASE \"{database}\" CONNECTION LIMIT 0"),
        format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"
        ),
    ] {
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    said_while_lost(&tui, "too many connections");
    // A superuser is not held to the limit.
    plant_orphan(&db.url).await;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "ALTER DATABASE \"{database}\" CONNECTION LIMIT -1"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    fresh_after(&tui, 1);
    tui.quit_and_check_exit();
}

/// A statement past `--timeout`: its latency row says it failed while the
/// header stays connected, and once it is fast again it is counted again.
#[tokio::test(flavor = "multi_thread")]
async fn a_statement_timeout_is_said_and_survived() {
    let db = TestDb::postgres().await;
    db.exec("CREATE TABLE ctl (s float8); INSERT INTO ctl VALUES (0);")
        .await;
    let home = tempfile::tempdir().unwrap();
    let (_, env) = environment(home.path());
    let profile = home.path().join("sleeps.toml");
    std::fs::write(
        &profile,
        "[[assertion]]\nname = \"sleeps\"\n\
         sql = \"SELECT 1 FROM ctl WHERE CAST(pg_sleep(ctl.s) AS text) = 'never'\"\n",
    )
    .unwrap();
    let profile = profile.display().to_string();
    let tui = Tmux::start(
        "timeout",
        &[
            "--url",
            &db.url,
            "--profile",
            &profile,
            "--timeout",
            "1",
            "--interval",
            "3",
        ],
        &env,
    );
    tui.wait_for("a first refresh", WAIT, |s| refreshed_at(s).is_some());
    db.exec("UPDATE ctl SET s = 3").await;
    tui.keys(&["7"]);
    let (screen, _) = tui.wait_for("the timeout among the findings", WAIT, |s| {
        s.contains("check_failed") && s.contains("timed out after 1 s")
    });
    assert!(
        status_line(&screen).starts_with("● "),
        "the header stays connected: {screen}"
    );
    db.exec("UPDATE ctl SET s = 0").await;
    tui.wait_for("the finding gone after a fast run", WAIT, |s| {
        !s.contains("check_failed") && refreshed_at(s).is_some()
    });
    tui.quit_and_check_exit();
}

/// A server of the test's own holding database `shop` with a parent and its
/// child, every reference holding; `hba` decides who logs in how.
fn private_parents_and_children(hba: &str) -> PrivatePg {
    let pg = PrivatePg::start(pg::Options {
        hba: hba.to_string(),
        ..pg::Options::default()
    });
    pg.psql("CREATE DATABASE shop");
    pg.psql_in(
        "shop",
        "CREATE TABLE parents (id int PRIMARY KEY);
         CREATE TABLE children (id int PRIMARY KEY, parent_id int REFERENCES parents (id));
         INSERT INTO parents VALUES (1);
         INSERT INTO children VALUES (1, 1);",
    );
    pg
}

/// The whole server stops under the UI and starts again: the header names
/// the refusal at once and says the values are stale, the row keeps its
/// count marked stale; once the server is back the UI reconnects by itself
/// and counts afresh.
#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_server_is_said_and_survived() {
    let pg = private_parents_and_children(&pg::Options::default().hba);
    let home = tempfile::tempdir().unwrap();
    let (_, env) = environment(home.path());
    let url = pg.url("shop");
    let tui = Tmux::start("stopped", &["--url", &url, "--interval", "1"], &env);
    first_refresh(&tui);
    pg.stop();
    said_while_lost(&tui, "refused");
    pg.start_again();
    pg.psql_in(
        "shop",
        "SET session_replication_role = replica; INSERT INTO children VALUES (2, 99);",
    );
    fresh_after(&tui, 1);
    tui.quit_and_check_exit();
}

/// The UI's role gets a new password mid-run (its sessions ended): the
/// header names the refused password, never the password; once the password
/// file holds the new one (a rotation), the UI logs in by itself and counts
/// afresh.
#[tokio::test(flavor = "multi_thread")]
async fn a_changed_password_is_said_and_survived() {
    let pg = private_parents_and_children(
        "local all all trust\n\
         host all postgres 127.0.0.1/32 trust\n\
         host all all 127.0.0.1/32 scram-sha-256\n",
    );
    pg.psql_in(
        "shop",
        "CREATE ROLE viewer LOGIN PASSWORD 'first-secret';
         GRANT SELECT ON parents, children TO viewer;",
    );
    let home = tempfile::tempdir().unwrap();
    let (_, mut env) = environment(home.path());
    let passfile = home.path().join("pgpass");
    let rotate = |password: &str| {
        let line = format!("127.0.0.1:{}:shop:viewer:{password}\n", pg.port());
        std::fs::write(&passfile, line).unwrap();
        pg::set_mode(&passfile, 0o600);
    };
    rotate("first-secret");
    env.push(("PGPASSFILE", passfile.display().to_string()));
    let url = pg.url_as("shop", "viewer");
    let tui = Tmux::start("password", &["--url", &url, "--interval", "1"], &env);
    first_refresh(&tui);
    pg.psql(
        "ALTER ROLE viewer PASSWORD 'second-secret';
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'viewer';",
    );
    said_while_lost(&tui, "password authentication failed");
    assert!(!tui.screen().contains("secret"), "{}", tui.screen());
    pg.psql_in(
        "shop",
        "SET session_replication_role = replica; INSERT INTO children VALUES (2, 99);",
    );
    rotate("second-secret");
    fresh_after(&tui, 1);
    assert!(!tui.screen().contains("secret"), "{}", tui.screen());
    tui.quit_and_check_exit();
}

/// `q` while the network path is silent in the middle of a refresh (its
/// statements wait on connections that never answer): the UI quits at once.
#[tokio::test(flavor = "multi_thread")]
async fn quits_at_once_while_the_network_is_silent() {
    let db = parents_and_children().await;
    let proxy = common::proxy::Proxy::start("127.0.0.1:5432");
    let url = db.url.replace("127.0.0.1:5432", &proxy.addr.to_string());
    let home = tempfile::tempdir().unwrap();
    let (_, env) = environment(home.path());
    let tui = Tmux::start("silent-quit", &["--url", &url, "--interval", "1"], &env);
    first_refresh(&tui);
    proxy.pause();
    tui.wait_for("a refresh stuck on the silence", WAIT, |s| {
        status_line(s).starts_with("● refreshing…")
    });
    tui.quit_and_check_exit();
}
