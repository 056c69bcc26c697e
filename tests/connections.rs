//! Connecting as libpq does, on real servers: TLS against a private
//! PostgreSQL with a certificate authority of its own (sslmode's six meanings,
//! root and client certificate files, their defaults under HOME), every URL
//! form and PG* variable, the target shown being the server connected to;
//! and passwords, given every way, never shown by any surface.
//!
//! The private server is started by these tests (initdb as the `postgres` OS
//! user, its own port and socket directory, `ssl = on`, and a pg_hba.conf
//! that accepts TCP connections only over TLS), shared by the tests running
//! at once, and stopped and removed when the last of them ends, panics
//! included. The shared server on 5432 is never reconfigured.

mod common;

use common::pg::{Options, PrivatePg, set_mode};
use common::{TestDb, pg_admin_url};
use sqlx::Connection;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// A private PostgreSQL with its own certificate authority

/// Certificates made for one private server: its CA, a second CA that signed
/// nothing of it, and a client certificate for the `cert`-authenticated role.
struct Certs {
    dir: tempfile::TempDir,
}

impl Certs {
    fn make() -> Certs {
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output()
                .expect("openssl (apt-get install openssl)");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
        for (name, cn) in [("ca", "tether test CA"), ("wrong-ca", "another CA")] {
            let key = format!("{name}.key");
            let crt = format!("{name}.crt");
            let subject = format!("/CN={cn}");
            let mut args = vec!["req", "-x509", "-new", "-nodes"];
            args.extend(ec);
            args.extend([
                "-keyout",
                &key,
                "-out",
                &crt,
                "-days",
                "30",
                "-subj",
                &subject,
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ]);
            run(&args);
        }
        for (name, cn, usage) in [
            ("server", "localhost", "serverAuth"),
            ("client", "tether_cert_user", "clientAuth"),
        ] {
            let ext = format!("{name}.ext");
            let mut text = format!(
                "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage={usage}\n"
            );
            if name == "server" {
                text.push_str("subjectAltName=DNS:localhost\n");
            }
            std::fs::write(dir.path().join(&ext), text).unwrap();
            let (key, csr, crt) = (
                format!("{name}.key"),
                format!("{name}.csr"),
                format!("{name}.crt"),
            );
            let subject = format!("/CN={cn}");
            let mut args = vec!["req", "-new", "-nodes"];
            args.extend(ec);
            args.extend(["-keyout", &key, "-out", &csr, "-subj", &subject]);
            run(&args);
            run(&[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &crt,
                "-days",
                "30",
                "-extfile",
                &ext,
            ]);
        }
        set_mode(&dir.path().join("client.key"), 0o600);
        Certs { dir }
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }
}

/// The private server and the certificates it was made with.
struct TlsPg {
    server: PrivatePg,
    certs: Certs,
}

impl TlsPg {
    /// A server with `ssl = on` whose pg_hba.conf takes TCP only over TLS,
    /// and a certificate login for one role.
    fn start() -> TlsPg {
        let certs = Certs::make();
        let server = PrivatePg::start(Options {
            conf: vec![
                "ssl = on".into(),
                "ssl_cert_file = 'server.crt'".into(),
                "ssl_key_file = 'server.key'".into(),
                "ssl_ca_file = 'ca.crt'".into(),
            ],
            hba: "local all all trust\n\
                  hostssl all tether_cert_user 127.0.0.1/32 cert\n\
                  hostssl all all 127.0.0.1/32 trust\n"
                .into(),
            files: vec![
                (certs.path("server.crt"), 0o644),
                (certs.path("server.key"), 0o600),
                (certs.path("ca.crt"), 0o644),
            ],
        });
        server.psql("CREATE ROLE tether_cert_user LOGIN");
        TlsPg { server, certs }
    }

    fn port(&self) -> u16 {
        self.server.port()
    }

    fn socket_dir(&self) -> &Path {
        self.server.socket_dir()
    }
}

/// The private server, shared by the tests running at once; it stops when
/// the last of them lets go of it.
fn private_pg() -> Arc<TlsPg> {
    static SHARED: Mutex<Weak<TlsPg>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pg) = shared.upgrade() {
        return pg;
    }
    let pg = Arc::new(TlsPg::start());
    *shared = Arc::downgrade(&pg);
    pg
}

// ---------------------------------------------------------------------------
// Running tether

/// tether with nothing of this process's environment but what is given: its
/// own HOME (so ~/.postgresql and ~/.pgpass are the test's), no PG* variables.
fn tether(home: &Path, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether"));
    cmd.env_clear()
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .envs(env.iter().copied());
    cmd
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn of(output: Output) -> Run {
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        assert!(!run.stderr.contains("panicked"), "panic: {}", run.stderr);
        run
    }

    /// The target the JSON report names (host, port, database, user).
    fn target(&self) -> String {
        let json: serde_json::Value = serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{}", self.stdout, self.stderr));
        json["database"]["target"].as_str().unwrap().to_string()
    }

    fn error(&self) -> &str {
        self.stderr.trim_end()
    }
}

/// `tether check --format json` on `url`.
fn check(home: &Path, url: &str, env: &[(&str, &str)]) -> Run {
    Run::of(
        tether(home, env)
            .args(["check", "--url", url, "--format", "json"])
            .output()
            .unwrap(),
    )
}

/// Connects (exit 0 on the private server's empty database) and returns the
/// target shown.
fn connects(home: &Path, url: &str, env: &[(&str, &str)]) -> String {
    let run = check(home, url, env);
    assert_eq!(run.code, 0, "{url}: {}", run.stderr);
    run.target()
}

/// Fails to connect: exit 2 and one line, returned.
fn refused(home: &Path, url: &str, env: &[(&str, &str)]) -> String {
    let run = check(home, url, env);
    assert_eq!(run.code, 2, "{url} connected: {}{}", run.stdout, run.stderr);
    assert_eq!(run.error().lines().count(), 1, "{}", run.stderr);
    run.error().to_string()
}

fn home() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// A HOME whose ~/.postgresql holds these files.
fn home_with(files: &[(&str, &Path)]) -> tempfile::TempDir {
    let home = home();
    let dir = home.path().join(".postgresql");
    std::fs::create_dir(&dir).unwrap();
    for (name, source) in files {
        std::fs::copy(source, dir.join(name)).unwrap();
        set_mode(&dir.join(name), 0o600);
    }
    home
}

// ---------------------------------------------------------------------------
// TLS

#[test]
fn verify_full_with_the_right_ca_connects() {
    let pg = private_pg();
    let home = home();
    let ca = pg.certs.path("ca.crt");
    let url = format!(
        "postgres://postgres@localhost:{}/postgres?sslmode=verify-full&sslrootcert={}",
        pg.port(),
        ca.display()
    );
    assert_eq!(
        connects(home.path(), &url, &[]),
        format!(
            "PostgreSQL at localhost:{}, database \"postgres\", user \"postgres\"",
            pg.port()
        )
    );
}

#[test]
fn a_wrong_ca_is_refused_naming_the_certificate_problem() {
    let pg = private_pg();
    let home = home();
    let wrong = pg.certs.path("wrong-ca.crt");
    for mode in ["verify-full", "verify-ca"] {
        // A password given (this server does not ask for it) is not shown.
        let url = format!(
            "postgres://postgres:{}@localhost:{}/postgres?sslmode={mode}&sslrootcert={}",
            percent_encode(SECRET),
            pg.port(),
            wrong.display()
        );
        let error = refused(home.path(), &url, &[]);
        assert_hidden(SECRET, &error, "a TLS error");
        assert!(
            error.ends_with(&format!(
                "TLS (sslmode={mode}): the server's certificate is not signed by a trusted certificate authority (checked against root certificate file \"{}\")",
                wrong.display()
            )),
            "{error}"
        );
    }
}

#[test]
fn verify_full_refuses_a_certificate_for_another_host_name() {
    let pg = private_pg();
    let home = home();
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/postgres?sslmode=verify-full&sslrootcert={}",
        pg.port(),
        pg.certs.path("ca.crt").display()
    );
    let error = refused(home.path(), &url, &[]);
    assert!(
        error.contains(
            "the server's certificate is not valid for the host name \"127.0.0.1\": it names localhost"
        ),
        "{error}"
    );
}

#[test]
fn verify_ca_connects_when_the_host_name_differs() {
    let pg = private_pg();
    let home = home();
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/postgres?sslmode=verify-ca&sslrootcert={}",
        pg.port(),
        pg.certs.path("ca.crt").display()
    );
    connects(home.path(), &url, &[]);
}

#[test]
fn require_verifies_the_ca_when_a_root_file_exists() {
    let pg = private_pg();
    let url = |root: Option<&Path>| {
        let mut url = format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=require",
            pg.port()
        );
        if let Some(root) = root {
            url.push_str(&format!("&sslrootcert={}", root.display()));
        }
        url
    };
    let home = home();
    // No root file: encrypted, not verified, as in libpq.
    connects(home.path(), &url(None), &[]);
    connects(home.path(), &url(Some(&pg.certs.path("ca.crt"))), &[]);
    let error = refused(home.path(), &url(Some(&pg.certs.path("wrong-ca.crt"))), &[]);
    assert!(
        error.contains("TLS (sslmode=require): the server's certificate is not signed by a trusted certificate authority"),
        "{error}"
    );
    // The same through PGSSLMODE and PGSSLROOTCERT.
    let bare = format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port());
    let wrong = pg.certs.path("wrong-ca.crt");
    let error = refused(
        home.path(),
        &bare,
        &[
            ("PGSSLMODE", "require"),
            ("PGSSLROOTCERT", wrong.to_str().unwrap()),
        ],
    );
    assert!(error.contains("not signed by a trusted"), "{error}");
}

#[test]
fn the_default_root_file_is_home_postgresql_root_crt() {
    let pg = private_pg();
    let url = |mode: &str, host: &str| {
        format!(
            "postgres://postgres@{host}:{}/postgres?sslmode={mode}",
            pg.port()
        )
    };
    let right = home_with(&[("root.crt", &pg.certs.path("ca.crt"))]);
    connects(right.path(), &url("verify-full", "localhost"), &[]);
    let wrong = home_with(&[("root.crt", &pg.certs.path("wrong-ca.crt"))]);
    let error = refused(wrong.path(), &url("require", "127.0.0.1"), &[]);
    let root = wrong.path().join(".postgresql/root.crt");
    assert!(
        error.contains(&format!("root certificate file \"{}\"", root.display())),
        "{error}"
    );
    // Under the default sslmode (prefer) a failed verification falls back to
    // a plain connection, which this server refuses: both are named.
    let error = refused(
        wrong.path(),
        &format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port()),
        &[],
    );
    assert!(
        error.contains("not signed by a trusted")
            && error.contains("retried without TLS: no pg_hba.conf entry"),
        "{error}"
    );
    // verify-full without any root file: libpq's message.
    let empty = home();
    let error = refused(empty.path(), &url("verify-full", "localhost"), &[]);
    let missing = empty.path().join(".postgresql/root.crt");
    assert!(
        error.contains(&format!(
            "root certificate file \"{}\" does not exist; either provide the file, use the system's trusted roots with sslrootcert=system",
            missing.display()
        )),
        "{error}"
    );
}

#[test]
fn sslrootcert_system_uses_the_platform_roots() {
    let pg = private_pg();
    let home = home();
    let url = format!(
        "postgres://postgres@localhost:{}/postgres?sslrootcert=system",
        pg.port()
    );
    // The platform's store does not know the test CA.
    let error = refused(home.path(), &url, &[]);
    assert!(
        error.contains("TLS (sslmode=verify-full): the server's certificate is not signed by a trusted certificate authority (checked against the system's trusted roots)"),
        "{error}"
    );
    // SSL_CERT_FILE replaces the platform's store (as for OpenSSL, so libpq).
    let ca = pg.certs.path("ca.crt");
    connects(
        home.path(),
        &url,
        &[("SSL_CERT_FILE", ca.to_str().unwrap())],
    );
    let error = refused(
        home.path(),
        &format!("{url}&sslmode=require"),
        &[("SSL_CERT_FILE", ca.to_str().unwrap())],
    );
    assert!(
        error.ends_with(
            "weak sslmode \"require\" may not be used with sslrootcert=system (use \"verify-full\")"
        ),
        "{error}"
    );
}

#[test]
fn allow_retries_with_tls_when_plain_is_refused_and_disable_is_refused() {
    let pg = private_pg();
    let home = home();
    let url = |mode: &str| {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode={mode}",
            pg.port()
        )
    };
    // This server takes TCP connections only over TLS.
    connects(home.path(), &url("allow"), &[]);
    connects(home.path(), &url("prefer"), &[]);
    let error = refused(home.path(), &url("disable"), &[("PGPASSWORD", SECRET)]);
    assert_hidden(SECRET, &error, "a refused plain connection");
    assert!(
        error.ends_with(
            "no pg_hba.conf entry for host \"127.0.0.1\", user \"postgres\", database \"postgres\", no encryption"
        ),
        "{error}"
    );
    assert!(
        error.starts_with(&format!(
            "tether: error: cannot connect to PostgreSQL at 127.0.0.1:{}",
            pg.port()
        )),
        "{error}"
    );
}

#[test]
fn client_certificates_from_parameters_and_from_home() {
    let pg = private_pg();
    let url = format!(
        "postgres://tether_cert_user@127.0.0.1:{}/postgres?sslmode=verify-ca",
        pg.port()
    );
    let (ca, crt, key) = (
        pg.certs.path("ca.crt"),
        pg.certs.path("client.crt"),
        pg.certs.path("client.key"),
    );
    let home = home();
    connects(
        home.path(),
        &format!(
            "{url}&sslrootcert={}&sslcert={}&sslkey={}",
            ca.display(),
            crt.display(),
            key.display()
        ),
        &[],
    );
    // libpq's defaults: ~/.postgresql/root.crt, postgresql.crt, postgresql.key.
    let with_defaults = home_with(&[
        ("root.crt", &ca),
        ("postgresql.crt", &crt),
        ("postgresql.key", &key),
    ]);
    connects(with_defaults.path(), &url, &[]);
    // And through PGSSLCERT / PGSSLKEY.
    connects(
        home.path(),
        &url,
        &[
            ("PGSSLROOTCERT", ca.to_str().unwrap()),
            ("PGSSLCERT", crt.to_str().unwrap()),
            ("PGSSLKEY", key.to_str().unwrap()),
        ],
    );
    // Without a certificate the server refuses the login.
    let only_root = home_with(&[("root.crt", &ca)]);
    let error = refused(only_root.path(), &url, &[]);
    assert!(error.contains("certificate"), "{error}");
    // A key others may read is refused before connecting, as libpq does.
    let key_path = with_defaults.path().join(".postgresql/postgresql.key");
    set_mode(&key_path, 0o644);
    let error = refused(with_defaults.path(), &url, &[]);
    assert!(
        error.contains(&format!(
            "private key file \"{}\" has group or world access",
            key_path.display()
        )),
        "{error}"
    );
}

// ---------------------------------------------------------------------------
// URL forms and PG* variables: the target shown is the server connected to

#[test]
fn every_url_form_connects_and_names_the_real_server() {
    let pg = private_pg();
    let home = home();
    let port = pg.port().to_string();
    let shown =
        |host: &str| format!("PostgreSQL at {host}, database \"postgres\", user \"postgres\"");
    let tcp = shown(&format!("127.0.0.1:{port}"));
    assert_eq!(
        connects(
            home.path(),
            &format!("postgres:///postgres?host=127.0.0.1&port={port}"),
            &[("PGUSER", "postgres")]
        ),
        tcp
    );
    assert_eq!(
        connects(
            home.path(),
            &format!("postgresql://postgres@/postgres?host=127.0.0.1&port={port}"),
            &[]
        ),
        tcp
    );
    // A bare URL: everything from PGHOST, PGPORT, PGUSER, PGDATABASE.
    assert_eq!(
        connects(
            home.path(),
            "postgres://",
            &[
                ("PGHOST", "127.0.0.1"),
                ("PGPORT", &port),
                ("PGUSER", "postgres"),
                ("PGDATABASE", "postgres"),
            ]
        ),
        tcp
    );
    assert_eq!(
        connects(
            home.path(),
            "postgres:///postgres",
            &[
                ("PGHOST", "127.0.0.1"),
                ("PGPORT", &port),
                ("PGUSER", "postgres")
            ]
        ),
        tcp
    );
    // A Unix socket, by parameter and percent-encoded in the authority.
    let socket = pg.socket_dir().display().to_string();
    let socket_shown = shown(&format!("{socket}/.s.PGSQL.{port}"));
    assert_eq!(
        connects(
            home.path(),
            &format!("postgres://postgres@/postgres?host={socket}&port={port}"),
            &[]
        ),
        socket_shown
    );
    let encoded = socket.replace('/', "%2F");
    assert_eq!(
        connects(
            home.path(),
            &format!("postgres://postgres@{encoded}:{port}/postgres"),
            &[]
        ),
        socket_shown
    );
    assert_eq!(
        connects(
            home.path(),
            "postgres://postgres@/postgres",
            &[("PGHOST", &socket), ("PGPORT", &port)]
        ),
        socket_shown
    );
    // A host list: the first that answers.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    assert_eq!(
        connects(
            home.path(),
            &format!("postgres://postgres@127.0.0.1:{closed},127.0.0.1:{port}/postgres"),
            &[]
        ),
        tcp
    );
    assert_eq!(
        connects(
            home.path(),
            &format!(
                "postgres:///postgres?host=127.0.0.1,127.0.0.1&port={closed},{port}&user=postgres"
            ),
            &[]
        ),
        tcp
    );
}

#[test]
fn a_refusal_names_the_server_from_the_environment() {
    // PGHOST/PGPORT point at a closed port: the message names it, not
    // localhost:5432.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let home = home();
    let error = refused(
        home.path(),
        "postgres://",
        &[
            ("PGHOST", "127.0.0.1"),
            ("PGPORT", &closed),
            ("PGUSER", "ops"),
            ("PGDATABASE", "ledger"),
        ],
    );
    assert!(
        error.starts_with(&format!(
            "tether: error: cannot connect to PostgreSQL at 127.0.0.1:{closed}, database \"ledger\", user \"ops\": "
        )),
        "{error}"
    );
}

// ---------------------------------------------------------------------------
// Secrets: never shown, however given

/// The role scripts/test makes password-authenticated on the shared server.
const ROLE: &str = "tether_auth_test";
/// Its password for these tests: URL-special characters, and long fragments
/// that would be seen if any part of it leaked.
const SECRET: &str = "Zq7s3cr:Et@pQ9vLw/Wx+dK&4v=Ym%";
const WRONG: &str = "Wr0ngPa55:xK7@jR2/qL+";

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn pgpass_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace(':', "\\:")
}

/// Fails if any form of `secret`, or a long piece of it, is in `text`.
fn assert_hidden(secret: &str, text: &str, what: &str) {
    let mut forms = vec![secret.to_string(), percent_encode(secret)];
    forms.extend(
        secret
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|piece| piece.len() >= 6)
            .map(str::to_string),
    );
    for form in forms {
        assert!(!text.contains(&form), "{what} shows {form:?}:\n{text}");
    }
}

/// One way of giving a password: a URL and the environment with it.
struct Way {
    name: &'static str,
    url: String,
    env: Vec<(String, String)>,
}

impl Way {
    fn env(&self) -> Vec<(&str, &str)> {
        self.env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

/// The four ways of giving a password (user information, `?password=`,
/// `PGPASSWORD`, a password file named by `PGPASSFILE`, kept in `dir`).
fn ways(url_without: &str, password: &str, dir: &Path) -> Vec<Way> {
    let encoded = percent_encode(password);
    let passfile = dir.join(format!("pgpass-{}", percent_encode(&password[..4])));
    std::fs::write(
        &passfile,
        format!(
            "# tether test\n127.0.0.1:5432:*:{ROLE}:{}\n",
            pgpass_escape(password)
        ),
    )
    .unwrap();
    set_mode(&passfile, 0o600);
    vec![
        Way {
            name: "user info",
            url: url_without.replacen(&format!("://{ROLE}@"), &format!("://{ROLE}:{encoded}@"), 1),
            env: vec![],
        },
        Way {
            name: "?password=",
            url: format!("{url_without}?password={encoded}"),
            env: vec![],
        },
        Way {
            name: "PGPASSWORD",
            url: url_without.to_string(),
            env: vec![("PGPASSWORD".into(), password.into())],
        },
        Way {
            name: "PGPASSFILE",
            url: url_without.to_string(),
            env: vec![("PGPASSFILE".into(), passfile.display().to_string())],
        },
    ]
}

/// A database the scram role may read, with an orphan for every report to show.
async fn scram_database() -> TestDb {
    let mut admin = sqlx::PgConnection::connect(&pg_admin_url()).await.unwrap();
    // Serialised (with every test process): concurrent updates of one role fail.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SELECT pg_advisory_lock(7207);
         DO $$ BEGIN CREATE ROLE {ROLE} LOGIN PASSWORD 'right-password';
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
         ALTER ROLE {ROLE} PASSWORD '{SECRET}';
         SELECT pg_advisory_unlock(7207);"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    let _ = admin.close().await;
    let db = TestDb::postgres().await;
    db.exec(&format!(
        "CREATE TABLE flows (id int PRIMARY KEY);
         CREATE TABLE assets (id int PRIMARY KEY, flow_id int);
         INSERT INTO assets VALUES (1, 7);
         ALTER TABLE assets ADD FOREIGN KEY (flow_id) REFERENCES flows(id) NOT VALID;
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO {ROLE};"
    ))
    .await;
    db
}

#[tokio::test(flavor = "multi_thread")]
async fn passwords_never_appear_in_any_output() {
    let db = scram_database().await;
    let url = format!("postgres://{ROLE}@127.0.0.1:5432/{}", db.name());
    tokio::task::spawn_blocking(move || {
        let home = home();
        for way in ways(&url, SECRET, home.path()) {
            let (url, env) = (&way.url, way.env());
            let mut runs = Vec::new();
            for format in ["text", "json", "html", "junit"] {
                runs.push((
                    format!("check --format {format}"),
                    vec!["check", "--format", format],
                ));
            }
            runs.push(("sql".into(), vec!["sql"]));
            runs.push(("sql --format json".into(), vec!["sql", "--format", "json"]));
            runs.push(("graph".into(), vec!["graph"]));
            runs.push((
                "graph --format mermaid".into(),
                vec!["graph", "--format", "mermaid"],
            ));
            for (what, args) in runs {
                let run = Run::of(
                    tether(home.path(), &env)
                        .args(&args)
                        .args(["--url", url])
                        .output()
                        .unwrap(),
                );
                let what = format!("{what} with the password in {}", way.name);
                assert!(
                    run.code == 0 || (run.code == 1 && args[0] == "check"),
                    "{what}: exit {}: {}",
                    run.code,
                    run.stderr
                );
                assert!(
                    run.stdout.contains("assets"),
                    "{what} shows nothing: {}",
                    run.stdout
                );
                assert_hidden(SECRET, &format!("{}{}", run.stdout, run.stderr), &what);
            }
            let metrics = watch_metrics(home.path(), url, &env);
            assert!(metrics.contains("tether_up 1"), "{metrics}");
            assert_hidden(
                SECRET,
                &metrics,
                &format!("watch with the password in {}", way.name),
            );
        }
    })
    .await
    .unwrap();
}

/// Runs `tether watch` until its first run is in the metrics; returns the
/// metrics, the alerts and everything it wrote to stderr.
fn watch_metrics(home: &Path, url: &str, env: &[(&str, &str)]) -> String {
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Stop(
        tether(home, env)
            .args([
                "watch",
                "--url",
                url,
                "--interval",
                "60",
                "--metrics-addr",
                "127.0.0.1:0",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stderr = BufReader::new(child.0.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .strip_prefix("tether: metrics on http://")
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("no metrics address in {first:?}"))
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            stream,
            "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        if response.contains("tether_runs_total 1") {
            break response;
        }
        assert!(Instant::now() < deadline, "no run finished: {response}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status();
    let mut rest = String::new();
    let _ = stderr.read_to_string(&mut rest);
    let mut alerts = String::new();
    let _ = child.0.stdout.take().unwrap().read_to_string(&mut alerts);
    format!("{body}\n{alerts}\n{first}{rest}")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_login_never_shows_the_password_given() {
    let db = scram_database().await;
    let url = format!("postgres://{ROLE}@127.0.0.1:5432/{}", db.name());
    tokio::task::spawn_blocking(move || {
        let home = home();
        for way in ways(&url, WRONG, home.path()) {
            let run = Run::of(
                tether(home.path(), &way.env())
                    .args(["check", "--url", &way.url, "--format", "json"])
                    .output()
                    .unwrap(),
            );
            assert_eq!(run.code, 2, "{}: {}", way.name, run.stderr);
            assert!(
                run.stderr.contains(&format!(
                    "password authentication failed for user \"{ROLE}\""
                )),
                "{}: {}",
                way.name,
                run.stderr
            );
            assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
            assert_hidden(WRONG, &format!("{}{}", run.stdout, run.stderr), way.name);
            if way.name == "PGPASSFILE" {
                assert!(
                    run.stderr.contains("(password retrieved from file \""),
                    "{}",
                    run.stderr
                );
            }
        }
        // A password file others may read is ignored, and the failure says so.
        let passfile = home.path().join("open-pgpass");
        std::fs::write(
            &passfile,
            format!("*:*:*:{ROLE}:{}\n", pgpass_escape(SECRET)),
        )
        .unwrap();
        set_mode(&passfile, 0o644);
        let run = Run::of(
            tether(home.path(), &[("PGPASSFILE", passfile.to_str().unwrap())])
                .args(["check", "--url", &url])
                .output()
                .unwrap(),
        );
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("(no password was given; password file")
                && run.stderr.contains("has group or world access"),
            "{}",
            run.stderr
        );
        assert_hidden(SECRET, &run.stderr, "an ignored password file");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_terminal_header_names_the_server_without_the_password() {
    let db = scram_database().await;
    let url = format!(
        "postgres://{ROLE}:{}@127.0.0.1:5432/{}",
        percent_encode(SECRET),
        db.name()
    );
    tokio::task::spawn_blocking(move || {
        let home = home();
        let socket = format!("tether-conn-{}", std::process::id());
        struct Kill(String);
        impl Drop for Kill {
            fn drop(&mut self) {
                let _ = Command::new("tmux")
                    .args(["-L", &self.0, "kill-server"])
                    .output();
            }
        }
        let _kill = Kill(socket.clone());
        let command = format!(
            "env -i HOME='{}' NO_COLOR=1 TERM=xterm-256color '{}' --url '{url}'; sleep 30",
            home.path().display(),
            env!("CARGO_BIN_EXE_tether"),
        );
        let ok = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "new-session",
                "-d",
                "-x",
                "160",
                "-y",
                "40",
                &command,
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux");
        let deadline = Instant::now() + Duration::from_secs(30);
        let expected = format!("{ROLE}@127.0.0.1:5432");
        let screen = loop {
            let out = Command::new("tmux")
                .args(["-L", &socket, "capture-pane", "-p", "-t", "0"])
                .output()
                .unwrap();
            let screen = String::from_utf8_lossy(&out.stdout).into_owned();
            if screen.contains(&expected) {
                break screen;
            }
            assert!(
                Instant::now() < deadline,
                "no header naming {expected}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(200));
        };
        assert_hidden(SECRET, &screen, "the terminal UI");
        let _ = Command::new("tmux")
            .args(["-L", &socket, "send-keys", "-t", "0", "q"])
            .status();
    })
    .await
    .unwrap();
}
