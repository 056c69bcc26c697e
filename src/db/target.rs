//! What a URL points at, described for people without its password.

use super::ConnectError;
use super::libpq::{Conninfo, Endpoint, Environment, Host, PasswordSource};
use super::pgpass::PassFile;
use super::secrets::Secrets;
use crate::model::Engine;
use std::fmt;
use std::sync::{Arc, Mutex};

/// The database a URL names: for PostgreSQL, as the URL and the `PG*`
/// environment resolve (libpq's rules), and once connected, the server that
/// answered. `Display` gives a one-line description for messages and
/// headers; the passwords are kept only to scrub them from error text.
#[derive(Clone)]
pub struct Target {
    pub engine: Engine,
    /// The host name or address, or the socket directory.
    pub host: Option<String>,
    pub port: Option<u16>,
    pub database: Option<String>,
    pub user: Option<String>,
    /// The URL with its passwords replaced by `***`.
    pub redacted_url: String,
    /// Where it points: the server connected to, or each one to be tried.
    addresses: Vec<String>,
    conninfo: Option<Conninfo>,
    /// The server connected to, once connected.
    connected: Option<Endpoint>,
    secrets: Secrets,
    /// Passwords read from the password file after the connection was made
    /// (a rotated password), shared by every copy of the target.
    rotated: Arc<Mutex<Secrets>>,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("engine", &self.engine)
            .field("url", &self.redacted_url)
            .field("addresses", &self.addresses)
            .finish()
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.engine {
            Engine::Sqlite => write!(
                f,
                "SQLite database {}",
                self.database.as_deref().unwrap_or("(in memory)")
            ),
            engine => {
                write!(f, "{} at {}", engine.display_name(), self.address())?;
                if let Some(db) = &self.database {
                    write!(f, ", database \"{db}\"")?;
                }
                if let Some(user) = &self.user {
                    write!(f, ", user \"{user}\"")?;
                }
                Ok(())
            }
        }
    }
}

impl Target {
    pub fn parse(url: &str) -> Result<Target, ConnectError> {
        let scheme = url
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match scheme.as_str() {
            "postgres" | "postgresql" => Target::postgres(url, &Environment::current()),
            "sqlite" => Ok(Target::sqlite(url)),
            "mysql" | "mariadb" => Target::mysql(url),
            _ => Err(ConnectError::InvalidUrl {
                url: redact_url(url),
                reason: "expected postgres://, sqlite:// or mysql://".into(),
            }),
        }
    }

    /// A PostgreSQL URL resolved in `env` as libpq would.
    pub fn postgres(url: &str, env: &Environment) -> Result<Target, ConnectError> {
        let conninfo = Conninfo::resolve(url, env).map_err(|reason| ConnectError::InvalidUrl {
            url: redact_url(url),
            reason,
        })?;
        let first = &conninfo.endpoints[0];
        Ok(Target {
            engine: Engine::Postgres,
            host: Some(host_name(first)),
            port: Some(first.port),
            database: Some(conninfo.database.clone()),
            user: Some(conninfo.user.clone()),
            redacted_url: conninfo.secrets.scrub(&redact_url(url)),
            addresses: conninfo.endpoints.iter().map(Endpoint::address).collect(),
            secrets: conninfo.secrets.clone(),
            conninfo: Some(conninfo),
            connected: None,
            rotated: Arc::default(),
        })
    }

    fn sqlite(url: &str) -> Target {
        let path = url
            .split_once(':')
            .map(|(_, rest)| rest.trim_start_matches("//"))
            .unwrap_or_default();
        let path = path.split('?').next().unwrap_or_default();
        Target {
            engine: Engine::Sqlite,
            host: None,
            port: None,
            database: (!path.is_empty() && path != ":memory:").then(|| path.to_string()),
            user: None,
            redacted_url: url.to_string(),
            addresses: Vec::new(),
            conninfo: None,
            connected: None,
            secrets: Secrets::default(),
            rotated: Arc::default(),
        }
    }

    fn mysql(url: &str) -> Result<Target, ConnectError> {
        let parsed = url::Url::parse(url).map_err(|e| ConnectError::InvalidUrl {
            url: redact_url(url),
            reason: e.to_string(),
        })?;
        let mut secrets = Secrets::default();
        if let Some(raw) = parsed.password() {
            secrets.add(raw);
            secrets.add(&percent_decode(raw));
        }
        let query_param = |key: &str| {
            parsed
                .query_pairs()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.into_owned())
        };
        let socket = query_param("socket");
        let host = socket.clone().unwrap_or_else(|| {
            parsed
                .host_str()
                .filter(|h| !h.is_empty())
                .unwrap_or("localhost")
                .to_string()
        });
        let port = parsed.port().unwrap_or(3306);
        let database =
            Some(percent_decode(parsed.path().trim_start_matches('/'))).filter(|d| !d.is_empty());
        let user = Some(percent_decode(parsed.username())).filter(|u| !u.is_empty());
        let address = match &socket {
            Some(path) => path.clone(),
            None if host.contains(':') && !host.starts_with('[') => format!("[{host}]:{port}"),
            None => format!("{host}:{port}"),
        };
        Ok(Target {
            engine: Engine::Mysql,
            host: Some(host),
            port: Some(port),
            database,
            user,
            redacted_url: secrets.scrub(&redact_url(url)),
            addresses: vec![address],
            conninfo: None,
            connected: None,
            secrets,
            rotated: Arc::default(),
        })
    }

    /// Where it points, for a header: `host:port`, the socket file, or the
    /// hosts still to be tried (`a:5432 or b:5432`).
    pub fn address(&self) -> String {
        self.addresses.join(" or ")
    }

    /// The resolved PostgreSQL connection settings.
    pub(super) fn conninfo(&self) -> Option<&Conninfo> {
        self.conninfo.as_ref()
    }

    /// Narrows the description to the server that answered.
    pub(super) fn connected_to(&mut self, endpoint: &Endpoint) {
        self.host = Some(host_name(endpoint));
        self.port = Some(endpoint.port);
        self.addresses = vec![endpoint.address()];
        self.connected = Some(endpoint.clone());
    }

    /// The password file's password for the server connected to, read again
    /// (libpq reads the file on every connection, so a password rotated in
    /// the file is used by the next one). None when the password came from
    /// the URL or the environment, which cannot change under a running
    /// process, or when the file has no line for this server.
    pub(super) fn reread_password(&self) -> Option<String> {
        let conninfo = self.conninfo.as_ref()?;
        let endpoint = self.connected.as_ref()?;
        if let Some(PasswordSource::Url | PasswordSource::Environment) =
            endpoint.password.as_ref().map(|p| &p.source)
        {
            return None;
        }
        let mut file = PassFile::at(conninfo.passfile.path.clone());
        let (password, _) = file.lookup(
            &endpoint.pgpass_host(),
            endpoint.port,
            &conninfo.database,
            &conninfo.user,
        )?;
        self.rotated
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .add(&password);
        Some(password)
    }

    /// libpq's hint for a refused password on the server connected to
    /// (where the password came from); empty when there is none to give.
    pub(super) fn password_hint(&self) -> String {
        match (&self.connected, &self.conninfo) {
            (Some(endpoint), Some(conninfo)) => super::postgres::password_hint(endpoint, conninfo),
            _ => String::new(),
        }
    }

    /// Removes the passwords (as sent and as the URL spells them) from a text.
    pub fn redact(&self, text: &str) -> String {
        let text = self.secrets.scrub(text);
        self.rotated
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .scrub(&text)
    }
}

fn host_name(endpoint: &Endpoint) -> String {
    match &endpoint.host {
        Host::Tcp(name) => name.clone(),
        Host::Socket(dir) => dir.display().to_string(),
    }
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| text.to_string())
}

/// A URL without its passwords, whether or not it parses: everything
/// between the first `:` of the user information and the last `@` goes, and
/// so does the value of every `password` parameter. (It may take more than
/// the password when an `@` comes later; never less.)
pub fn redact_url(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let (scheme, rest) = url.split_at(start);
    let rest = match rest.rfind('@') {
        Some(at) => match rest[..at].find(':') {
            Some(colon) => format!("{}:***{}", &rest[..colon], &rest[at..]),
            None => rest.to_string(),
        },
        None => rest.to_string(),
    };
    let rest = match rest.split_once('?') {
        Some((before, query)) => {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if percent_decode(key) == "password" => format!("{key}=***"),
                    _ => pair.to_string(),
                })
                .collect();
            format!("{before}?{}", pairs.join("&"))
        }
        None => rest,
    };
    format!("{scheme}{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(url: &str, vars: &[(&str, &str)]) -> Target {
        Target::postgres(url, &Environment::with(vars, None, "osuser")).unwrap()
    }

    #[test]
    fn describes_without_the_password() {
        let t = pg(
            "postgres://alice:s%40cret@db.example:6543/shop?sslmode=require",
            &[],
        );
        let shown = format!("{t} {t:?} {}", t.redacted_url);
        assert!(
            !shown.contains("s@cret") && !shown.contains("s%40cret"),
            "{shown}"
        );
        assert_eq!(
            t.to_string(),
            "PostgreSQL at db.example:6543, database \"shop\", user \"alice\""
        );
        assert_eq!(t.redact("auth failed for s@cret"), "auth failed for ***");
        assert_eq!(t.redact("auth failed for s%40cret"), "auth failed for ***");
    }

    #[test]
    fn names_the_server_the_environment_points_at() {
        let t = pg(
            "postgres://",
            &[
                ("PGHOST", "10.1.2.3"),
                ("PGPORT", "6432"),
                ("PGUSER", "ops"),
                ("PGDATABASE", "ledger"),
                ("PGPASSWORD", "env-secret"),
            ],
        );
        assert_eq!(
            t.to_string(),
            "PostgreSQL at 10.1.2.3:6432, database \"ledger\", user \"ops\""
        );
        assert_eq!(t.redact("x env-secret y"), "x *** y");
        let t = pg("postgres:///db?host=/run/pg&port=6000", &[]);
        assert_eq!(
            t.to_string(),
            "PostgreSQL at /run/pg/.s.PGSQL.6000, database \"db\", user \"osuser\""
        );
        let mut t = pg("postgres://u@a,b:7/db", &[]);
        assert_eq!(t.address(), "a:5432 or b:7");
        let second = t.conninfo().unwrap().endpoints[1].clone();
        t.connected_to(&second);
        assert_eq!(
            t.to_string(),
            "PostgreSQL at b:7, database \"db\", user \"u\""
        );
    }

    #[test]
    fn query_passwords_are_scrubbed_too() {
        let t = pg("postgres://u@h/db?password=p%26w+d&sslmode=disable", &[]);
        assert_eq!(
            t.redacted_url,
            "postgres://u@h/db?password=***&sslmode=disable"
        );
        assert_eq!(t.redact("p&w+d and p%26w+d"), "*** and ***");
        let Err(ConnectError::InvalidUrl { url, .. }) = Target::postgres(
            "postgres://u@h/db?password=hunter2&sslmode=bogus",
            &Environment::default(),
        ) else {
            panic!("accepted")
        };
        assert_eq!(url, "postgres://u@h/db?password=***&sslmode=bogus");
    }

    #[test]
    fn rejects_unknown_schemes_without_echoing_secrets() {
        let Err(ConnectError::InvalidUrl { url, .. }) = Target::parse("oracle://bob:hunter2@x/y")
        else {
            panic!("accepted")
        };
        assert!(!url.contains("hunter2"));
        assert_eq!(redact_url("x://u:a/b@c@h/d"), "x://u:***@h/d");
    }

    #[test]
    fn mysql_targets() {
        let t = Target::parse("mysql://root:pw@127.0.0.1:3307/shop").unwrap();
        assert_eq!(
            t.to_string(),
            "MySQL/MariaDB at 127.0.0.1:3307, database \"shop\", user \"root\""
        );
        assert_eq!(t.redacted_url, "mysql://root:***@127.0.0.1:3307/shop");
    }

    #[test]
    fn sqlite_paths() {
        let t = Target::parse("sqlite:///tmp/demo.sqlite?mode=ro").unwrap();
        assert_eq!(t.database.as_deref(), Some("/tmp/demo.sqlite"));
        assert_eq!(t.to_string(), "SQLite database /tmp/demo.sqlite");
    }
}
