//! A PostgreSQL server of one test's own, for what the shared server on 5432
//! must not be put through: a configuration of its own (TLS, pg_hba.conf,
//! statement logging), or being stopped and started again.
//!
//! initdb runs as the `postgres` OS user (through `runuser`) into a
//! temporary directory, which also holds the server's Unix socket and its
//! log; the server listens on 127.0.0.1 on a port of its own. Dropped, the
//! server stops at once (`-m immediate`) and its directory is removed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// The newest PostgreSQL's binaries: the `bin` under /usr/lib/postgresql
/// with an `initdb`.
pub fn pg_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's binaries (./scripts/test installs them)")
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().expect("an initdb under /usr/lib/postgresql")
}

/// Runs one of PostgreSQL's programs as the `postgres` OS user.
fn as_postgres(program: &str, args: &[&str]) -> Output {
    Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(pg_bin().join(program))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("runuser -u postgres -- {program}: {e}"))
}

fn chown_to_postgres(path: &Path) {
    let ok = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "chown {}", path.display());
}

/// Sets a file's permission bits.
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// How a private server is set up.
pub struct Options {
    /// Lines added to `postgresql.conf` (after the port, socket and
    /// durability settings, so they may override them).
    pub conf: Vec<String>,
    /// The whole of `pg_hba.conf`.
    pub hba: String,
    /// Files copied into the data directory (under their own names), each
    /// with the permission bits given.
    pub files: Vec<(PathBuf, u32)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            conf: Vec::new(),
            hba: "local all all trust\nhost all all 127.0.0.1/32 trust\n".into(),
            files: Vec::new(),
        }
    }
}

/// A PostgreSQL server of a test's own. Stopped and removed on drop.
pub struct PrivatePg {
    /// Owned by the `postgres` OS user: the data directory, the socket and
    /// the server's log.
    dir: tempfile::TempDir,
    port: u16,
}

impl PrivatePg {
    /// Makes a cluster set up as `options` say and starts it on a free port.
    pub fn start(options: Options) -> PrivatePg {
        let dir = tempfile::Builder::new()
            .prefix("tether-pg-")
            .tempdir()
            .unwrap();
        chown_to_postgres(dir.path());
        let data = dir.path().join("data");
        initdb(&data);
        for (file, mode) in &options.files {
            let to = data.join(file.file_name().expect("a file name"));
            std::fs::copy(file, &to).unwrap();
            set_mode(&to, *mode);
        }
        std::fs::write(data.join("pg_hba.conf"), &options.hba).unwrap();
        chown_to_postgres(&data);
        let mut pg = PrivatePg { dir, port: 0 };
        let mut last_error = String::new();
        for _ in 0..5 {
            pg.port = free_port();
            pg.configure(&options.conf);
            match pg.pg_ctl_start() {
                Ok(()) => return pg,
                Err(e) => last_error = e,
            }
        }
        panic!("the private PostgreSQL did not start: {last_error}");
    }

    /// Appends the port, the socket directory and `extra` to
    /// `postgresql.conf` (the last setting of a name wins).
    fn configure(&self, extra: &[String]) {
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(self.data().join("postgresql.conf"))
            .unwrap();
        write!(
            conf,
            "\nport = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             fsync = off\nmax_connections = 40\n{}\n",
            self.port,
            self.dir.path().display(),
            extra.join("\n")
        )
        .unwrap();
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// `pg_ctl start`, waiting until it takes connections; Err with the
    /// server's log when it does not.
    fn pg_ctl_start(&self) -> Result<(), String> {
        let (data, log) = (self.data(), self.log_path());
        let out = as_postgres(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        if out.status.success() {
            return Ok(());
        }
        Err(format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        ))
    }

    /// Stops the server (`-m fast`: sessions are ended, a clean shutdown);
    /// its data directory and port stay, for [`PrivatePg::start_again`].
    pub fn stop(&self) {
        let data = self.data();
        let out = as_postgres(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
        );
        assert!(
            out.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the stopped server again, on the same port; tries a few times
    /// if the port is briefly busy.
    pub fn start_again(&self) {
        let mut last_error = String::new();
        for _ in 0..5 {
            match self.pg_ctl_start() {
                Ok(()) => return,
                Err(e) => last_error = e,
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!("the private PostgreSQL did not start again: {last_error}");
    }

    /// Runs `sql` in the `postgres` database, as `postgres`, over the socket.
    pub fn psql(&self, sql: &str) {
        self.psql_in("postgres", sql);
    }

    /// Runs `sql` in `database`, as `postgres`, over the socket.
    pub fn psql_in(&self, database: &str, sql: &str) {
        let out = Command::new(pg_bin().join("psql"))
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-h"])
            .arg(self.dir.path())
            .args(["-p", &self.port.to_string(), "-d", database, "-c", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory of the server's Unix socket.
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// `database` over TCP as `postgres`.
    pub fn url(&self, database: &str) -> String {
        self.url_as(database, "postgres")
    }

    /// `database` over TCP as `user` (no password).
    pub fn url_as(&self, database: &str, user: &str) -> String {
        format!("postgres://{user}@127.0.0.1:{}/{database}", self.port)
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.log_path()).unwrap()).into_owned()
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let data = self.data();
        let _ = as_postgres(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}

fn initdb(data: &Path) {
    let out = as_postgres(
        "initdb",
        &[
            "-D",
            data.to_str().unwrap(),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        ],
    );
    assert!(
        out.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A port nothing listens on just now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
