//! TLS for PostgreSQL with libpq's meanings, built around what sqlx offers.
//!
//! | `sslmode` | libpq (and tether) |
//! |---|---|
//! | `disable` | never TLS |
//! | `allow` | plain first; TLS when the server refuses the plain connection |
//! | `prefer` | TLS first; plain when the server declines TLS or the handshake fails |
//! | `require` | TLS; the certificate is checked against the root file when one exists |
//! | `verify-ca` | TLS, and the server's certificate must chain to a trusted root |
//! | `verify-full` | as `verify-ca`, and it must name the host connected to |
//!
//! The root file is `sslrootcert`, `PGSSLROOTCERT` or `~/.postgresql/root.crt`;
//! `sslrootcert=system` trusts the platform's roots and needs `verify-full`.
//! A client certificate (`sslcert`/`sslkey`, default `~/.postgresql/postgresql.crt`
//! and `.key`) is sent when its file exists.
//!
//! sqlx implements neither `allow` nor the root file under `require`, and
//! never falls back from a failed handshake under `prefer`: tether makes
//! those attempts itself ([`Tls::attempts`]) and gives sqlx, for each, the
//! sqlx mode that does exactly that one step ([`Tls::apply`]).

use sqlx::postgres::{PgConnectOptions, PgSslMode};
use std::path::{Path, PathBuf};

/// libpq's `sslmode`, spelled as libpq spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::Display, strum::EnumString)]
#[strum(
    serialize_all = "kebab-case",
    parse_err_ty = String,
    parse_err_fn = invalid_sslmode
)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

fn invalid_sslmode(other: &str) -> String {
    format!("invalid sslmode value: \"{other}\"")
}

/// The certificates the server's certificate is checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootCert {
    /// A file of PEM certificates that exists.
    File(PathBuf),
    /// `sslrootcert=system`: the platform's trusted roots.
    System,
    /// No root file: the path looked at (none without a home directory).
    Absent(Option<PathBuf>),
}

impl RootCert {
    /// The file at `path`, if it exists (libpq only `stat`s it here).
    pub fn at(path: PathBuf) -> RootCert {
        if std::fs::metadata(&path).is_ok() {
            RootCert::File(path)
        } else {
            RootCert::Absent(Some(path))
        }
    }

    fn describe(&self) -> String {
        match self {
            RootCert::File(path) => format!("root certificate file \"{}\"", path.display()),
            RootCert::System => "the system's trusted roots".to_string(),
            RootCert::Absent(_) => "no root certificate".to_string(),
        }
    }
}

/// The TLS settings as named, before their files are checked.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub mode: SslMode,
    pub root: RootCert,
    /// The client certificate and key paths (used when the certificate exists).
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Whether `PGSSLCERT` / `PGSSLKEY` named them: sqlx reads those two
    /// variables itself, so a file they name is used or the connection fails.
    pub from_environment: (bool, bool),
}

/// TLS settings whose files have been checked.
#[derive(Clone, Debug)]
pub struct Tls {
    pub mode: SslMode,
    pub root: RootCert,
    pub client: Option<(PathBuf, PathBuf)>,
}

/// One way of opening a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    Plain,
    Tls,
}

impl TlsFiles {
    /// Checks the files as libpq does before it connects.
    pub fn check(&self) -> Result<Tls, String> {
        const HINT: &str = "either provide the file, use the system's trusted roots with sslrootcert=system, or change sslmode to disable server certificate verification";
        match (&self.root, self.mode) {
            (RootCert::System, mode) if mode != SslMode::VerifyFull => {
                return Err(format!(
                    "weak sslmode \"{mode}\" may not be used with sslrootcert=system (use \"verify-full\")"
                ));
            }
            (RootCert::Absent(Some(path)), SslMode::VerifyCa | SslMode::VerifyFull) => {
                return Err(format!(
                    "root certificate file \"{}\" does not exist; {HINT}",
                    path.display()
                ));
            }
            (RootCert::Absent(None), SslMode::VerifyCa | SslMode::VerifyFull) => {
                return Err(format!(
                    "could not get home directory to locate root certificate file; {HINT}"
                ));
            }
            _ => {}
        }
        let client = match (&self.cert, &self.key) {
            (Some(cert), key) if cert.exists() => {
                let key = key
                    .as_ref()
                    .filter(|k| k.exists())
                    .ok_or_else(|| match key {
                        Some(k) => format!(
                            "certificate present, but not private key file \"{}\"",
                            k.display()
                        ),
                        None => "certificate present, but no private key file".to_string(),
                    })?;
                check_key_permissions(key)?;
                Some((cert.clone(), key.clone()))
            }
            (cert, key) => {
                // libpq goes on without a client certificate; sqlx would fail
                // reading the file PGSSLCERT or PGSSLKEY names, and cannot be
                // told to forget it.
                if self.mode != SslMode::Disable {
                    if self.from_environment.0
                        && let Some(cert) = cert
                    {
                        return Err(format!(
                            "PGSSLCERT names \"{}\", which does not exist: unset PGSSLCERT or provide the certificate",
                            cert.display()
                        ));
                    }
                    if self.from_environment.1
                        && let Some(key) = key
                    {
                        return Err(format!(
                            "PGSSLKEY names \"{}\" but there is no client certificate: unset PGSSLKEY or provide the certificate",
                            key.display()
                        ));
                    }
                }
                None
            }
        };
        Ok(Tls {
            mode: self.mode,
            root: self.root.clone(),
            client,
        })
    }
}

impl Tls {
    /// The connections libpq tries, in order, on a TCP connection (a Unix
    /// socket is always plain: the server offers no TLS there).
    pub fn attempts(&self) -> &'static [Attempt] {
        match self.mode {
            SslMode::Disable => &[Attempt::Plain],
            SslMode::Allow => &[Attempt::Plain, Attempt::Tls],
            SslMode::Prefer => &[Attempt::Tls, Attempt::Plain],
            _ => &[Attempt::Tls],
        }
    }

    /// Whether, after `attempt` failed with `error`, libpq tries the next one:
    /// `allow` when the server refused the plain connection, `prefer` when TLS
    /// failed (declined, or the handshake or certificate failed).
    pub fn goes_on(&self, attempt: Attempt, error: &sqlx::Error) -> bool {
        match (self.mode, attempt) {
            (SslMode::Allow, Attempt::Plain) => matches!(error, sqlx::Error::Database(_)),
            (SslMode::Prefer, Attempt::Tls) => is_tls_failure(error),
            _ => false,
        }
    }

    /// The sqlx options for one attempt.
    pub fn apply(&self, attempt: Attempt, options: PgConnectOptions) -> PgConnectOptions {
        if attempt == Attempt::Plain {
            return options.ssl_mode(PgSslMode::Disable);
        }
        let mode = match (self.mode, &self.root) {
            (SslMode::VerifyFull, _) => PgSslMode::VerifyFull,
            (SslMode::VerifyCa, _) => PgSslMode::VerifyCa,
            // libpq checks the chain whenever a root file exists.
            (_, RootCert::File(_)) => PgSslMode::VerifyCa,
            // Declined TLS falls back inside sqlx; a failed handshake, here.
            (SslMode::Prefer, _) => PgSslMode::Prefer,
            _ => PgSslMode::Require,
        };
        let mut options = options.ssl_mode(mode);
        options = match &self.root {
            RootCert::File(path) => options.ssl_root_cert(path),
            // No file of its own: sqlx trusts the platform's roots (its
            // native-roots feature). Replaces whatever PGSSLROOTCERT set.
            RootCert::System => options.ssl_root_cert_from_pem(Vec::new()),
            RootCert::Absent(_) => options,
        };
        if let Some((cert, key)) = &self.client {
            options = options.ssl_client_cert(cert).ssl_client_key(key);
        }
        options
    }

    /// A failed connection described for a person; certificate problems are
    /// named, with what the certificate was checked against.
    pub fn explain(&self, error: &sqlx::Error, host: &str) -> String {
        if let Some(rustls_error) = rustls_error(error) {
            return format!(
                "TLS (sslmode={}): {}",
                self.mode,
                self.explain_rustls(rustls_error, host)
            );
        }
        match error {
            sqlx::Error::Tls(e) if e.to_string().contains("server does not support TLS") => {
                format!(
                    "the server does not accept TLS connections (sslmode={})",
                    self.mode
                )
            }
            sqlx::Error::Tls(e) => format!("TLS (sslmode={}): {e}", self.mode),
            other => super::describe(other),
        }
    }

    fn explain_rustls(&self, error: &rustls::Error, host: &str) -> String {
        use rustls::CertificateError as C;
        let trusted = self.root.describe();
        match error {
            rustls::Error::InvalidCertificate(problem) => match problem {
                C::UnknownIssuer => format!(
                    "the server's certificate is not signed by a trusted certificate authority (checked against {trusted})"
                ),
                C::NotValidForName => format!(
                    "the server's certificate is not valid for the host name \"{host}\" (verify-full checks the name; verify-ca does not)"
                ),
                C::NotValidForNameContext { presented, .. } => format!(
                    "the server's certificate is not valid for the host name \"{host}\": it names {} (verify-full checks the name; verify-ca does not)",
                    if presented.is_empty() {
                        "no host".to_string()
                    } else {
                        presented
                            .iter()
                            .map(|name| presented_name(name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
                C::Expired | C::ExpiredContext { .. } => {
                    "the server's certificate has expired".to_string()
                }
                C::NotValidYet | C::NotValidYetContext { .. } => {
                    "the server's certificate is not valid yet".to_string()
                }
                C::Revoked => "the server's certificate has been revoked".to_string(),
                C::BadSignature => format!(
                    "the server's certificate has a bad signature (checked against {trusted})"
                ),
                C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                    "the server's certificate is not meant for a TLS server".to_string()
                }
                other => format!("the server's certificate was refused: {other:?}"),
            },
            rustls::Error::AlertReceived(alert) => format!(
                "the server ended the handshake ({alert:?}){}",
                if self.client.is_none() {
                    "; it may require a client certificate (sslcert, sslkey)"
                } else {
                    ""
                }
            ),
            other => other.to_string(),
        }
    }
}

/// A name the certificate presents, without rustls's `DnsName("…")` wrapping.
fn presented_name(name: &str) -> &str {
    ["DnsName(\"", "IpAddress(", "Other("]
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix))
        .map(|inner| inner.trim_end_matches(')').trim_end_matches('"'))
        .unwrap_or(name)
}

/// The rustls error inside a failed handshake (sqlx passes it on as I/O).
fn rustls_error(error: &sqlx::Error) -> Option<&rustls::Error> {
    match error {
        sqlx::Error::Io(io) => io.get_ref()?.downcast_ref::<rustls::Error>(),
        _ => None,
    }
}

/// True for a failure of TLS itself, not of the network or the server.
pub fn is_tls_failure(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Tls(_)) || rustls_error(error).is_some()
}

/// libpq refuses a private key others may read: 0600 or less, or 0640 or
/// less when root owns it (so a group can share a system-wide key).
fn check_key_permissions(path: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| {
        format!(
            "could not stat private key file \"{}\": {e}",
            path.display()
        )
    })?;
    if !meta.is_file() {
        return Err(format!(
            "private key file \"{}\" is not a regular file",
            path.display()
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mode = meta.mode();
        let too_open = if meta.uid() == 0 {
            mode & 0o037 != 0
        } else {
            mode & 0o077 != 0
        };
        if too_open {
            return Err(format!(
                "private key file \"{}\" has group or world access; file must have permissions u=rw (0600) or less if owned by the current user, or permissions u=rw,g=r (0640) or less if owned by root",
                path.display()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(mode: SslMode, root: RootCert) -> TlsFiles {
        TlsFiles {
            mode,
            root,
            cert: None,
            key: None,
            from_environment: (false, false),
        }
    }

    #[test]
    fn verification_needs_a_root() {
        let missing = RootCert::Absent(Some("/nowhere/root.crt".into()));
        let e = files(SslMode::VerifyFull, missing.clone())
            .check()
            .unwrap_err();
        assert!(
            e.starts_with("root certificate file \"/nowhere/root.crt\" does not exist"),
            "{e}"
        );
        files(SslMode::Require, missing).check().unwrap();
        let e = files(SslMode::Require, RootCert::System)
            .check()
            .unwrap_err();
        assert!(e.contains("weak sslmode \"require\""), "{e}");
        files(SslMode::VerifyFull, RootCert::System)
            .check()
            .unwrap();
    }

    #[test]
    fn attempts_follow_libpq() {
        let tls = |mode| files(mode, RootCert::Absent(None)).check().unwrap();
        assert_eq!(
            tls(SslMode::Allow).attempts(),
            [Attempt::Plain, Attempt::Tls]
        );
        assert_eq!(
            tls(SslMode::Prefer).attempts(),
            [Attempt::Tls, Attempt::Plain]
        );
        assert_eq!(tls(SslMode::Require).attempts(), [Attempt::Tls]);
        // require with a root file verifies the chain.
        let root = tempfile::NamedTempFile::new().unwrap();
        let tls = files(SslMode::Require, RootCert::at(root.path().into()))
            .check()
            .unwrap();
        let options = tls.apply(Attempt::Tls, PgConnectOptions::new_without_pgpass());
        assert!(matches!(options.get_ssl_mode(), PgSslMode::VerifyCa));
        let options = tls.apply(Attempt::Plain, PgConnectOptions::new_without_pgpass());
        assert!(matches!(options.get_ssl_mode(), PgSslMode::Disable));
    }

    #[cfg(unix)]
    #[test]
    fn client_key_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("c.crt");
        let key = dir.path().join("c.key");
        std::fs::write(&cert, "x").unwrap();
        let mut f = files(SslMode::Require, RootCert::Absent(None));
        f.cert = Some(cert.clone());
        f.key = Some(key.clone());
        assert!(f.check().unwrap_err().contains("not private key file"));
        std::fs::write(&key, "x").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(f.check().unwrap_err().contains("group or world access"));
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(f.check().unwrap().client, Some((cert, key)));
    }
}
