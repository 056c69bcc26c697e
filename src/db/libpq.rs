//! What a PostgreSQL URL means, read the way libpq reads it: the URI's own
//! parts, then the `PG*` environment variables, then libpq's defaults. The
//! result names every host, port, user, database, password and TLS setting
//! explicitly, so what is connected to is also what tether shows.
//!
//! sqlx reads URLs and the environment too, but not like libpq (no host lists,
//! no `?host=` with an empty authority, `+` read as a space, its own `.pgpass`
//! matching), so tether parses them here and hands sqlx explicit options.

use super::pgpass::PassFile;
use super::secrets::Secrets;
use super::tls::{RootCert, SslMode, TlsFiles};
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The directories a local server's socket is looked for in when no host is
/// given (Debian's, macOS Homebrew's, upstream's), as sqlx does; without one,
/// `localhost` over TCP.
const SOCKET_DIRS: [&str; 3] = ["/var/run/postgresql", "/private/tmp", "/tmp"];

/// The process environment, as far as connecting depends on it.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
    pub home: Option<PathBuf>,
    pub os_user: Option<String>,
}

impl Environment {
    pub fn current() -> Environment {
        Environment {
            vars: std::env::vars()
                .filter(|(k, _)| k.starts_with("PG"))
                .collect(),
            home: dirs::home_dir(),
            os_user: whoami::username().ok(),
        }
    }

    /// An environment with only these variables (for tests).
    pub fn with(vars: &[(&str, &str)], home: Option<&Path>, os_user: &str) -> Environment {
        Environment {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            home: home.map(Path::to_path_buf),
            os_user: Some(os_user.to_string()),
        }
    }

    /// A variable's value; set but empty counts as unset.
    pub fn var(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `~/.postgresql/<file>`, libpq's default place for TLS files.
    pub fn postgresql_dir_file(&self, file: &str) -> Option<PathBuf> {
        self.home.as_ref().map(|h| h.join(".postgresql").join(file))
    }
}

/// Where a server listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    /// A host name or IP address, over TCP.
    Tcp(String),
    /// A directory holding the server's Unix-domain socket.
    Socket(PathBuf),
}

/// One server of the URL's host list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub host: Host,
    /// `hostaddr`: the address to connect to, skipping name lookup.
    pub hostaddr: Option<IpAddr>,
    pub port: u16,
    /// The password for this server (the same for all unless from `.pgpass`).
    pub password: Option<Password>,
}

impl Endpoint {
    /// How a person names it: `host:port`, `[::1]:port`, the socket file, or
    /// with `hostaddr`, `host:port (address)` (the address is what is
    /// connected to).
    pub fn address(&self) -> String {
        let name = match &self.host {
            Host::Socket(dir) => return format!("{}/.s.PGSQL.{}", dir.display(), self.port),
            Host::Tcp(name) if name.contains(':') => format!("[{name}]:{}", self.port),
            Host::Tcp(name) => format!("{name}:{}", self.port),
        };
        match self.hostaddr {
            Some(addr) if !matches!(&self.host, Host::Tcp(n) if *n == addr.to_string()) => {
                format!("{name} ({addr})")
            }
            _ => name,
        }
    }

    /// The name `.pgpass` lines are matched against: the host, or `localhost`
    /// for the default socket directory (libpq's rule).
    pub(super) fn pgpass_host(&self) -> String {
        match &self.host {
            Host::Socket(dir) if SOCKET_DIRS.iter().any(|d| Path::new(d) == dir) => {
                "localhost".to_string()
            }
            Host::Socket(dir) => dir.display().to_string(),
            Host::Tcp(name) => name.clone(),
        }
    }
}

/// A password and where it came from. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password {
    value: String,
    pub source: PasswordSource,
}

impl Password {
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Password(***, from {:?})", self.source)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasswordSource {
    /// The URL's user information or its `password` parameter.
    Url,
    /// `PGPASSWORD`.
    Environment,
    /// A password file (`.pgpass`, `PGPASSFILE`, `passfile`).
    File(PathBuf),
}

/// Everything needed to connect, resolved.
#[derive(Clone, Debug)]
pub struct Conninfo {
    /// Tried in order until one answers (libpq's host lists).
    pub endpoints: Vec<Endpoint>,
    pub user: String,
    pub database: String,
    pub tls: TlsFiles,
    pub application_name: String,
    /// Server settings from the URL's `options` (`-c name=value`) and
    /// `options[name]=value`. (`PGOPTIONS` is read by sqlx itself.)
    pub settings: Vec<(String, String)>,
    /// `connect_timeout`: how long each host may take.
    pub connect_timeout: Option<Duration>,
    pub statement_cache_capacity: Option<usize>,
    /// The password file consulted, and whether it was ignored (and why).
    pub passfile: PassFile,
    /// Every password that may be sent, as sent and as the URL spelled it:
    /// error text is scrubbed of each.
    pub secrets: Secrets,
}

/// The URL's parameters after decoding, by libpq keyword; later ones win.
#[derive(Default)]
struct Params {
    values: BTreeMap<&'static str, String>,
    /// `options[name]=value` (sqlx's form): added as `-c name=value`.
    settings: Vec<(String, String)>,
    /// The raw (still percent-encoded) password texts, to scrub.
    raw_secrets: Vec<String>,
}

impl Conninfo {
    /// Reads a `postgres://` or `postgresql://` URL and the environment.
    pub fn resolve(url: &str, env: &Environment) -> Result<Conninfo, String> {
        let params = parse_uri(url)?;
        resolve(params, env)
    }
}

fn resolve(params: Params, env: &Environment) -> Result<Conninfo, String> {
    let from = Sources {
        params: &params,
        env,
    };
    refuse_unsupported_environment(&from)?;
    let user = from
        .get("user", "PGUSER")
        .or_else(|| env.os_user.clone())
        .ok_or("no user name: set PGUSER or name one in the URL")?;
    let database = from
        .get("dbname", "PGDATABASE")
        .unwrap_or_else(|| user.clone());
    let mut endpoints = endpoints(&from)?;
    let (passfile, secrets) = passwords(&from, &mut endpoints, &user, &database);
    let mut settings = match params.values.get("options") {
        Some(raw) => parse_options(raw)?,
        None => Vec::new(),
    };
    settings.extend(params.settings.iter().cloned());
    Ok(Conninfo {
        tls: tls_files(&from)?,
        application_name: from
            .get("application_name", "PGAPPNAME")
            .or_else(|| params.values.get("fallback_application_name").cloned())
            .unwrap_or_else(|| "tether".to_string()),
        connect_timeout: connect_timeout(&params)?,
        statement_cache_capacity: match params.values.get("statement-cache-capacity") {
            Some(c) => Some(c.parse().map_err(|_| {
                format!(
                    "invalid integer value \"{c}\" for connection option \"statement-cache-capacity\""
                )
            })?),
            None => None,
        },
        endpoints,
        user,
        database,
        settings,
        passfile,
        secrets,
    })
}

/// A setting from the URL, else from its environment variable.
struct Sources<'a> {
    params: &'a Params,
    env: &'a Environment,
}

impl Sources<'_> {
    fn get(&self, key: &str, var: &str) -> Option<String> {
        self.params
            .values
            .get(key)
            .cloned()
            .or_else(|| self.env.var(var).map(str::to_string))
    }

    fn in_url(&self, key: &str) -> bool {
        self.params.values.contains_key(key)
    }
}

/// Variables that would change what libpq does in a way tether cannot follow.
fn refuse_unsupported_environment(from: &Sources) -> Result<(), String> {
    for (var, what) in [
        ("PGSERVICE", "connection service files (pg_service.conf)"),
        ("PGSSLCRL", "certificate revocation lists"),
        ("PGSSLCRLDIR", "certificate revocation lists"),
        ("PGREQUIREAUTH", "require_auth"),
    ] {
        if from.env.var(var).is_some() {
            return Err(format!(
                "{var} is set, but tether does not support {what}; unset it"
            ));
        }
    }
    for (var, key) in [
        ("PGTARGETSESSIONATTRS", "target_session_attrs"),
        ("PGGSSENCMODE", "gssencmode"),
        ("PGCHANNELBINDING", "channel_binding"),
        ("PGSSLNEGOTIATION", "sslnegotiation"),
        ("PGSSLMINPROTOCOLVERSION", "ssl_min_protocol_version"),
        ("PGSSLMAXPROTOCOLVERSION", "ssl_max_protocol_version"),
    ] {
        if !from.in_url(key)
            && let Some(value) = from.env.var(var)
        {
            check_unsupported(key, value).map_err(|e| format!("{e} (from {var})"))?;
        }
    }
    Ok(())
}

/// The host list (`host`, `hostaddr`, `port`, comma-separated), each host
/// with its port; a host left empty is the local server.
fn endpoints(from: &Sources) -> Result<Vec<Endpoint>, String> {
    let split = |text: Option<String>| -> Vec<String> {
        match text {
            Some(t) => t.split(',').map(|s| s.trim().to_string()).collect(),
            None => Vec::new(),
        }
    };
    let hosts = split(from.get("host", "PGHOST"));
    let hostaddrs = split(from.get("hostaddr", "PGHOSTADDR"));
    let ports = split(from.get("port", "PGPORT"));
    let count = hosts.len().max(hostaddrs.len()).max(1);
    if !hosts.is_empty() && !hostaddrs.is_empty() && hosts.len() != hostaddrs.len() {
        return Err(format!(
            "could not match {} host names to {} hostaddr values",
            hosts.len(),
            hostaddrs.len()
        ));
    }
    if ports.len() > 1 && ports.len() != count {
        return Err(format!(
            "could not match {} port numbers to {count} hosts",
            ports.len()
        ));
    }
    (0..count)
        .map(|i| {
            let port = match ports.get(if ports.len() == 1 { 0 } else { i }) {
                Some(p) if !p.is_empty() => parse_port(p)?,
                _ => 5432,
            };
            let hostaddr = match hostaddrs.get(i).filter(|a| !a.is_empty()) {
                Some(a) => Some(
                    a.parse::<IpAddr>()
                        .map_err(|_| format!("could not parse network address \"{a}\""))?,
                ),
                None => None,
            };
            let host = match (hosts.get(i).filter(|h| !h.is_empty()), hostaddr) {
                (Some(h), _) if h.starts_with('/') => Host::Socket(PathBuf::from(h)),
                (Some(h), _) => Host::Tcp(h.clone()),
                (None, Some(addr)) => Host::Tcp(addr.to_string()),
                (None, None) => default_host(port),
            };
            Ok(Endpoint {
                host,
                hostaddr,
                port,
                password: None,
            })
        })
        .collect()
}

/// Gives each host its password (the URL's, else `PGPASSWORD`, else the
/// password file's line for it); returns the file consulted and every
/// password to scrub from text.
fn passwords(
    from: &Sources,
    endpoints: &mut [Endpoint],
    user: &str,
    database: &str,
) -> (PassFile, Secrets) {
    let mut secrets = Secrets::default();
    for raw in &from.params.raw_secrets {
        secrets.add(raw);
    }
    let given = match from.params.values.get("password").filter(|p| !p.is_empty()) {
        Some(p) => Some(Password {
            value: p.clone(),
            source: PasswordSource::Url,
        }),
        None => from.env.var("PGPASSWORD").map(|p| Password {
            value: p.to_string(),
            source: PasswordSource::Environment,
        }),
    };
    let path = from
        .get("passfile", "PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| from.env.home.as_ref().map(|h| h.join(".pgpass")));
    let mut passfile = PassFile::at(path);
    for endpoint in endpoints.iter_mut() {
        endpoint.password = match &given {
            Some(p) => Some(p.clone()),
            None => passfile
                .lookup(&endpoint.pgpass_host(), endpoint.port, database, user)
                .map(|(value, path)| Password {
                    value,
                    source: PasswordSource::File(path),
                }),
        };
        if let Some(p) = &endpoint.password {
            secrets.add(&p.value);
        }
    }
    passfile.forget_lines();
    (passfile, secrets)
}

/// `sslmode` and the certificate files, with libpq's defaults.
fn tls_files(from: &Sources) -> Result<TlsFiles, String> {
    let root = match from.get("sslrootcert", "PGSSLROOTCERT").as_deref() {
        Some("system") => RootCert::System,
        Some(path) => RootCert::at(PathBuf::from(path)),
        None => match from.env.postgresql_dir_file("root.crt") {
            Some(path) => RootCert::at(path),
            None => RootCert::Absent(None),
        },
    };
    let mode = match from.get("sslmode", "PGSSLMODE") {
        Some(m) => m.parse::<SslMode>()?,
        // libpq 16: sslrootcert=system makes verify-full the default.
        None if root == RootCert::System => SslMode::VerifyFull,
        None => SslMode::Prefer,
    };
    Ok(TlsFiles {
        mode,
        root,
        cert: from
            .get("sslcert", "PGSSLCERT")
            .map(PathBuf::from)
            .or_else(|| from.env.postgresql_dir_file("postgresql.crt")),
        key: from
            .get("sslkey", "PGSSLKEY")
            .map(PathBuf::from)
            .or_else(|| from.env.postgresql_dir_file("postgresql.key")),
        // sqlx reads these two variables itself and cannot be told to forget
        // them: remembered so that a file they name must exist.
        from_environment: (
            !from.in_url("sslcert") && from.env.var("PGSSLCERT").is_some(),
            !from.in_url("sslkey") && from.env.var("PGSSLKEY").is_some(),
        ),
    })
}

/// `connect_timeout` in seconds: 0 or less is no limit of its own (tether's
/// `--connect-timeout` then applies); 1 counts as 2, as in libpq.
fn connect_timeout(params: &Params) -> Result<Option<Duration>, String> {
    let Some(text) = params.values.get("connect_timeout") else {
        return Ok(None);
    };
    let secs: i64 = text.trim().parse().map_err(|_| {
        format!("invalid integer value \"{text}\" for connection option \"connect_timeout\"")
    })?;
    Ok((secs > 0).then(|| Duration::from_secs(secs.max(2) as u64)))
}

/// The local server's socket directory when one exists, else `localhost`.
fn default_host(port: u16) -> Host {
    SOCKET_DIRS
        .iter()
        .map(Path::new)
        .find(|dir| dir.join(format!(".s.PGSQL.{port}")).exists())
        .map(|dir| Host::Socket(dir.to_path_buf()))
        .unwrap_or_else(|| Host::Tcp("localhost".to_string()))
}

fn parse_port(text: &str) -> Result<u16, String> {
    match text.trim().parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok(p as u16),
        _ => Err(format!("invalid port number: \"{text}\"")),
    }
}

/// The server options tether can pass on: `-c name=value`, `-cname=value`
/// and `--name=value`, separated by spaces (`\\` escapes).
fn parse_options(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => word.extend(chars.next()),
            c if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    let mut settings = Vec::new();
    let mut words = words.into_iter();
    while let Some(w) = words.next() {
        let setting = if w == "-c" {
            words.next().unwrap_or_default()
        } else if let Some(s) = w.strip_prefix("-c").or_else(|| w.strip_prefix("--")) {
            s.to_string()
        } else {
            return Err(format!(
                "tether passes only \"-c name=value\" settings in options, not \"{w}\""
            ));
        };
        let (name, value) = setting
            .split_once('=')
            .ok_or_else(|| format!("\"{setting}\" in options is not name=value"))?;
        settings.push((name.replace('-', "_"), value.to_string()));
    }
    Ok(settings)
}

/// libpq's URI grammar:
/// `postgres[ql]://[user[:password]@][host][:port][,...][/dbname][?param=value&...]`.
fn parse_uri(url: &str) -> Result<Params, String> {
    let rest = ["postgresql://", "postgres://"]
        .iter()
        .find_map(|prefix| {
            url.get(..prefix.len())
                .filter(|p| p.eq_ignore_ascii_case(prefix))
                .map(|_| &url[prefix.len()..])
        })
        .ok_or("expected postgres:// or postgresql://")?;
    // libpq ends the user information at the first '@' before any '/'. A
    // password with an unencoded '/' or '@' (base64 passwords have '/') would
    // then be read as a host, port or database, and shown. So when the last
    // '@' before the parameters ends a `user:password`, that is the end of
    // the user information (as WHATWG URLs read it); a database name with an
    // '@' and no password before it reads as libpq reads it.
    let libpq_at = rest
        .find(['@', '/'])
        .filter(|&i| rest.as_bytes()[i] == b'@');
    let query_start = rest.find('?').unwrap_or(rest.len());
    let looks_like_host_and_port = {
        let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
        authority.starts_with('[')
            || authority.split_once(':').is_some_and(|(_, port)| {
                !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
            })
    };
    let last_at = rest[..query_start]
        .rfind('@')
        .filter(|&i| rest[..i].contains(':') && !looks_like_host_and_port);
    parse_after_scheme(rest, last_at.or(libpq_at))
}

/// Parses what follows `postgres://`, the user information ending at `at`.
fn parse_after_scheme(rest: &str, at: Option<usize>) -> Result<Params, String> {
    let mut params = Params::default();
    let mut rest = rest;
    if let Some(at) = at {
        parse_userinfo(&mut params, &rest[..at])?;
        rest = &rest[at + 1..];
    }
    let rest = parse_hosts(&mut params, rest)?;

    // The database name, then the parameters.
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if let Some(db) = path.strip_prefix('/')
        && !db.is_empty()
    {
        params.values.insert("dbname", decode(db)?);
    }
    if let Some(query) = query {
        parse_query(&mut params, query)?;
    }
    Ok(params)
}

/// Reads `user[:password]`; a password's raw text is kept, to scrub.
fn parse_userinfo(params: &mut Params, userinfo: &str) -> Result<(), String> {
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (userinfo, None),
    };
    if !user.is_empty() {
        params.values.insert("user", decode(user)?);
    }
    if let Some(p) = password.filter(|p| !p.is_empty()) {
        params.raw_secrets.push(p.to_string());
        params.values.insert("password", decode(p)?);
    }
    Ok(())
}

/// Reads the hosts and ports, comma-separated; returns what follows them.
fn parse_hosts<'a>(params: &mut Params, rest: &'a str) -> Result<&'a str, String> {
    let mut rest = rest;
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    let mut any_port = false;
    loop {
        let (host, after) = split_host(rest)?;
        hosts.push(decode(host)?);
        rest = after;
        if let Some(after_colon) = rest.strip_prefix(':') {
            let end = after_colon
                .find(['/', '?', ','])
                .unwrap_or(after_colon.len());
            ports.push(decode(&after_colon[..end])?);
            any_port = true;
            rest = &after_colon[end..];
        } else {
            ports.push(String::new());
        }
        match rest.strip_prefix(',') {
            Some(next) => rest = next,
            None => break,
        }
    }
    if hosts.iter().any(|h| !h.is_empty()) || hosts.len() > 1 {
        params.values.insert("host", hosts.join(","));
    }
    if any_port {
        params.values.insert("port", ports.join(","));
    }
    Ok(rest)
}

/// Splits one host (still encoded; an IPv6 address in brackets, without
/// them) from what follows it.
fn split_host(rest: &str) -> Result<(&str, &str), String> {
    let Some(inner) = rest.strip_prefix('[') else {
        let end = rest.find([':', '/', '?', ',']).unwrap_or(rest.len());
        return Ok((&rest[..end], &rest[end..]));
    };
    let close = inner.find(']').ok_or(
        "end of string reached when looking for matching \"]\" in IPv6 host address in URI",
    )?;
    if close == 0 {
        return Err("IPv6 host address may not be empty in URI".into());
    }
    let after = &inner[close + 1..];
    if let Some(c) = after.chars().next().filter(|c| !":/?,".contains(*c)) {
        return Err(format!(
            "unexpected character \"{c}\" in URI (expected \":\" or \"/\")"
        ));
    }
    Ok((&inner[..close], after))
}

/// Reads the `key=value` parameters after `?`, each under its libpq keyword;
/// a password's raw text is kept, to scrub.
fn parse_query(params: &mut Params, query: &str) -> Result<(), String> {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let mut parts = pair.splitn(3, '=');
        let key = parts.next().unwrap_or_default();
        let value = parts.next().ok_or_else(|| {
            format!("missing key/value separator \"=\" in URI query parameter: \"{key}\"")
        })?;
        if parts.next().is_some() {
            return Err(format!(
                "extra key/value separator \"=\" in URI query parameter \"{key}\" (encode = as %3D)"
            ));
        }
        let key = decode(key)?;
        if key == "password" {
            params.raw_secrets.push(value.to_string());
        }
        let value = decode(value)?;
        set_param(params, &key, value)?;
    }
    Ok(())
}

/// Stores one query parameter under its libpq keyword.
fn set_param(params: &mut Params, key: &str, value: String) -> Result<(), String> {
    if let Some(name) = key
        .strip_prefix("options[")
        .and_then(|k| k.strip_suffix(']'))
    {
        params.settings.push((name.to_string(), value));
        return Ok(());
    }
    let keyword: &'static str = match key {
        // libpq's JDBC-compatible spelling.
        "ssl" if value == "true" => {
            params.values.insert("sslmode", "require".into());
            return Ok(());
        }
        "host" => "host",
        "hostaddr" => "hostaddr",
        "port" => "port",
        "dbname" => "dbname",
        "user" => "user",
        "password" => "password",
        "passfile" => "passfile",
        "sslmode" | "ssl-mode" => "sslmode",
        "sslrootcert" | "ssl-root-cert" | "ssl-ca" => "sslrootcert",
        "sslcert" | "ssl-cert" => "sslcert",
        "sslkey" | "ssl-key" => "sslkey",
        "application_name" => "application_name",
        "fallback_application_name" => "fallback_application_name",
        "options" => "options",
        "connect_timeout" => "connect_timeout",
        "statement-cache-capacity" => "statement-cache-capacity",
        other => {
            check_unsupported(other, &value)?;
            return Ok(());
        }
    };
    if keyword == "password" && value.is_empty() {
        params.values.remove("password");
        return Ok(());
    }
    params.values.insert(keyword, value);
    Ok(())
}

/// libpq parameters tether accepts only with the value it behaves as anyway;
/// the rest are refused rather than silently ignored.
fn check_unsupported(key: &str, value: &str) -> Result<(), String> {
    let value_lc = value.to_ascii_lowercase();
    let fine = match key {
        // No effect on what is connected to or how safely.
        "keepalives"
        | "keepalives_idle"
        | "keepalives_interval"
        | "keepalives_count"
        | "tcp_user_timeout"
        | "sslcompression"
        | "krbsrvname"
        | "gsslib" => true,
        "client_encoding" => matches!(value_lc.as_str(), "utf8" | "utf-8" | "unicode" | "auto"),
        "sslsni" => value == "1",
        // tether never uses GSSAPI encryption or channel binding.
        "gssencmode" | "channel_binding" => matches!(value, "disable" | "prefer"),
        "target_session_attrs" => value == "any",
        "load_balance_hosts" => value == "disable",
        "sslnegotiation" => value == "postgres",
        "sslcertmode" => value == "allow",
        // rustls speaks TLS 1.2 and 1.3 only.
        "ssl_min_protocol_version" => {
            matches!(value_lc.as_str(), "" | "tlsv1" | "tlsv1.1" | "tlsv1.2")
        }
        "ssl_max_protocol_version" => matches!(value_lc.as_str(), "" | "tlsv1.3"),
        "service"
        | "sslcrl"
        | "sslcrldir"
        | "sslpassword"
        | "requirepeer"
        | "require_auth"
        | "replication"
        | "sslkeylogfile"
        | "oauth_issuer"
        | "oauth_client_id"
        | "oauth_client_secret"
        | "oauth_scope"
        | "min_protocol_version"
        | "max_protocol_version" => false,
        _ => return Err(format!("invalid URI query parameter: \"{key}\"")),
    };
    if fine {
        Ok(())
    } else {
        Err(format!(
            "tether does not support the connection parameter {key}={value}"
        ))
    }
}

/// Percent-decoding as libpq does it: `%XX` only (`+` stays `+`), no `%00`.
fn decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .filter(|_| bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit())
                .ok_or_else(|| {
                    format!("invalid percent-encoded token: \"{}\"", redact_token(text))
                })?;
            if hex == 0 {
                return Err(format!(
                    "forbidden value %00 in percent-encoded value: \"{}\"",
                    redact_token(text)
                ));
            }
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "a percent-encoded value is not UTF-8".to_string())
}

/// A token quoted in an error: shown by its length only, in case it is a
/// password.
fn redact_token(text: &str) -> String {
    format!("({} characters)", text.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Environment {
        Environment::with(vars, None, "osuser")
    }

    fn resolve_with(url: &str, vars: &[(&str, &str)]) -> Conninfo {
        Conninfo::resolve(url, &env(vars)).unwrap()
    }

    fn tcp(host: &str, port: u16) -> (Host, u16) {
        (Host::Tcp(host.into()), port)
    }

    fn hosts(c: &Conninfo) -> Vec<(Host, u16)> {
        c.endpoints
            .iter()
            .map(|e| (e.host.clone(), e.port))
            .collect()
    }

    #[test]
    fn query_host_with_an_empty_authority() {
        let c = resolve_with("postgres:///shop?host=db.example&port=6543", &[]);
        assert_eq!(hosts(&c), [tcp("db.example", 6543)]);
        assert_eq!(c.database, "shop");
        assert_eq!(c.user, "osuser");
        let c = resolve_with("postgresql://alice@/shop?host=10.0.0.7", &[]);
        assert_eq!(hosts(&c), [tcp("10.0.0.7", 5432)]);
        assert_eq!(c.user, "alice");
    }

    #[test]
    fn environment_fills_what_the_url_leaves_out() {
        let vars = [
            ("PGHOST", "pg.internal"),
            ("PGPORT", "6000"),
            ("PGUSER", "bob"),
            ("PGDATABASE", "ledger"),
        ];
        let c = resolve_with("postgres://", &vars);
        assert_eq!(hosts(&c), [tcp("pg.internal", 6000)]);
        assert_eq!((c.user.as_str(), c.database.as_str()), ("bob", "ledger"));
        let c = resolve_with("postgres://", &[("PGHOST", "a,b"), ("PGPORT", "1,2")]);
        assert_eq!(hosts(&c), [tcp("a", 1), tcp("b", 2)]);
        // The URL wins over the environment.
        let c = resolve_with("postgres://carol@other:7000/books", &vars);
        assert_eq!(hosts(&c), [tcp("other", 7000)]);
        assert_eq!((c.user.as_str(), c.database.as_str()), ("carol", "books"));
        // The database defaults to the user name.
        let c = resolve_with("postgres://dave@h", &[]);
        assert_eq!(c.database, "dave");
    }

    #[test]
    fn unix_socket_hosts() {
        let c = resolve_with("postgres://u@%2Fvar%2Frun%2Fpostgresql:5433/db", &[]);
        assert_eq!(
            hosts(&c),
            [(Host::Socket("/var/run/postgresql".into()), 5433)]
        );
        assert_eq!(
            c.endpoints[0].address(),
            "/var/run/postgresql/.s.PGSQL.5433"
        );
        let c = resolve_with("postgres:///db?host=/tmp/pg", &[]);
        assert_eq!(hosts(&c), [(Host::Socket("/tmp/pg".into()), 5432)]);
    }

    #[test]
    fn host_lists_and_ipv6() {
        let c = resolve_with("postgres://u@a:1,[::1]:2,c/db", &[]);
        assert_eq!(hosts(&c), [tcp("a", 1), tcp("::1", 2), tcp("c", 5432)]);
        assert_eq!(c.endpoints[1].address(), "[::1]:2");
        let c = resolve_with("postgres:///db?host=a,b&port=7", &[]);
        assert_eq!(hosts(&c), [tcp("a", 7), tcp("b", 7)]);
        let c = resolve_with("postgres://db.internal/x?hostaddr=10.0.0.7", &[]);
        assert_eq!(c.endpoints[0].address(), "db.internal:5432 (10.0.0.7)");
        let c = resolve_with("postgres:///x?hostaddr=10.0.0.7", &[]);
        assert_eq!(c.endpoints[0].address(), "10.0.0.7:5432");
        let e = Conninfo::resolve("postgres:///db?host=a,b&port=1,2,3", &env(&[])).unwrap_err();
        assert_eq!(e, "could not match 3 port numbers to 2 hosts");
    }

    #[test]
    fn passwords_are_decoded_like_libpq_and_remembered_for_scrubbing() {
        let c = resolve_with("postgres://u:p%40ss+w%3Ard@h/db", &[]);
        let p = c.endpoints[0].password.as_ref().unwrap();
        assert_eq!(p.value(), "p@ss+w:rd");
        assert_eq!(p.source, PasswordSource::Url);
        assert!(c.secrets.contains("p@ss+w:rd"));
        assert!(c.secrets.contains("p%40ss+w%3Ard"));
        assert!(!format!("{c:?}").contains("p@ss"), "{c:?}");
        // The parameter wins over the user information; PGPASSWORD comes last.
        let c = resolve_with(
            "postgres://u:first@h/db?password=second",
            &[("PGPASSWORD", "third")],
        );
        assert_eq!(c.endpoints[0].password.as_ref().unwrap().value(), "second");
        let c = resolve_with("postgres://u@h/db", &[("PGPASSWORD", "third")]);
        let p = c.endpoints[0].password.as_ref().unwrap();
        assert_eq!(
            (p.value(), &p.source),
            ("third", &PasswordSource::Environment)
        );
    }

    #[test]
    fn an_unencoded_password_is_never_read_as_a_host() {
        for url in [
            "postgres://u:p/ss@h/db",
            "postgres://u:p@ss@h/db",
            "postgres://u:a/b+c=@h:5433/db?sslmode=disable",
        ] {
            let c = resolve_with(url, &[]);
            assert_eq!(c.user, "u", "{url}");
            assert!(
                matches!(&c.endpoints[0].host, Host::Tcp(h) if h == "h"),
                "{url}: {c:?}"
            );
            assert_eq!(c.database, "db", "{url}");
        }
        // A database name with an '@' still reads as libpq reads it.
        let c = resolve_with("postgres://h:5432/my@db", &[]);
        assert_eq!(
            (c.database.as_str(), hosts(&c)),
            ("my@db", vec![tcp("h", 5432)])
        );
        let c = resolve_with("postgres://[::1]/my@db", &[]);
        assert_eq!(c.database, "my@db");
    }

    #[cfg(unix)]
    #[test]
    fn each_host_gets_its_password_file_line() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let file = home.path().join(".pgpass");
        std::fs::write(
            &file,
            "a:5432:db:u:pa\nb:5433:db:u:pb\nlocalhost:*:*:*:pl\n",
        )
        .unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let e = Environment::with(&[], Some(home.path()), "u");
        let c = Conninfo::resolve("postgres://u@a,b:5433/db", &e).unwrap();
        let passwords: Vec<_> = c
            .endpoints
            .iter()
            .map(|e| e.password.as_ref().map(|p| (p.value(), p.source.clone())))
            .collect();
        let from_file = PasswordSource::File(file.clone());
        assert_eq!(
            passwords,
            [Some(("pa", from_file.clone())), Some(("pb", from_file))]
        );
        assert!(c.secrets.contains("pa") && c.secrets.contains("pb"));
        // The default socket directory matches as localhost.
        let c = Conninfo::resolve("postgres:///db?host=/var/run/postgresql", &e).unwrap();
        assert_eq!(c.endpoints[0].password.as_ref().unwrap().value(), "pl");
        // PGPASSWORD comes before the file.
        let e = Environment::with(&[("PGPASSWORD", "pe")], Some(home.path()), "u");
        let c = Conninfo::resolve("postgres://u@a/db", &e).unwrap();
        assert_eq!(c.endpoints[0].password.as_ref().unwrap().value(), "pe");
    }

    #[test]
    fn sslmode_and_its_files() {
        let home = tempfile::tempdir().unwrap();
        let e = Environment::with(&[], Some(home.path()), "u");
        let c = Conninfo::resolve("postgres://h/db", &e).unwrap();
        assert_eq!(c.tls.mode, SslMode::Prefer);
        assert_eq!(
            c.tls.root,
            RootCert::Absent(Some(home.path().join(".postgresql/root.crt")))
        );
        std::fs::create_dir(home.path().join(".postgresql")).unwrap();
        std::fs::write(home.path().join(".postgresql/root.crt"), "x").unwrap();
        let c = Conninfo::resolve("postgres://h/db?sslmode=require", &e).unwrap();
        assert_eq!(c.tls.mode, SslMode::Require);
        assert_eq!(
            c.tls.root,
            RootCert::File(home.path().join(".postgresql/root.crt"))
        );
        let c = Conninfo::resolve("postgres://h/db?sslrootcert=system", &e).unwrap();
        assert_eq!(
            (c.tls.mode, &c.tls.root),
            (SslMode::VerifyFull, &RootCert::System)
        );
        let e = Environment::with(&[("PGSSLMODE", "verify-ca")], None, "u");
        assert_eq!(
            Conninfo::resolve("postgres://h/db", &e).unwrap().tls.mode,
            SslMode::VerifyCa
        );
        assert_eq!(
            Conninfo::resolve("postgres://h/db?ssl=true", &e)
                .unwrap()
                .tls
                .mode,
            SslMode::Require
        );
        assert_eq!(
            Conninfo::resolve("postgres://h/db?sslmode=bogus", &e).unwrap_err(),
            "invalid sslmode value: \"bogus\""
        );
    }

    #[test]
    fn malformed_uris_are_refused_like_libpq() {
        for (url, error) in [
            (
                "postgres://h:notaport/db",
                "invalid port number: \"notaport\"",
            ),
            ("postgres://h/db?sslmode", "missing key/value separator"),
            ("postgres://h/db?a=b=c", "extra key/value separator"),
            (
                "postgres://h/db?nonsense=1",
                "invalid URI query parameter: \"nonsense\"",
            ),
            ("postgres://[::1/db", "matching \"]\""),
            ("postgres://h/d%zzb", "invalid percent-encoded token"),
            (
                "postgres://h/db?sslcrl=/x",
                "does not support the connection parameter sslcrl",
            ),
            (
                "postgres://h/db?target_session_attrs=read-write",
                "does not support",
            ),
        ] {
            let e = Conninfo::resolve(url, &env(&[])).unwrap_err();
            assert!(e.contains(error), "{url}: {e}");
        }
        for fine in [
            "postgres://h/db?target_session_attrs=any&keepalives=1&sslsni=1",
            "postgres://h/db?channel_binding=prefer&gssencmode=disable",
        ] {
            Conninfo::resolve(fine, &env(&[])).unwrap();
        }
    }

    #[test]
    fn application_name_and_options() {
        let c = resolve_with("postgres://h/db", &[]);
        assert_eq!(c.application_name, "tether");
        let c = resolve_with(
            "postgres://h/db?fallback_application_name=x",
            &[("PGAPPNAME", "ci")],
        );
        assert_eq!(c.application_name, "ci");
        let c = resolve_with(
            "postgres://h/db?options=-c%20geqo%3Doff%20--work-mem%3D8MB&options[search_path]=a%20b",
            &[],
        );
        assert_eq!(
            c.settings,
            [("geqo", "off"), ("work_mem", "8MB"), ("search_path", "a b")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }
}
