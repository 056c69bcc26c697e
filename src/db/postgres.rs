//! Opening a PostgreSQL session as libpq would: each host of the list in
//! turn, on each the attempts its `sslmode` makes, and failures named so a
//! person can act on them. The options that worked open every later session.

use super::libpq::{Conninfo, Endpoint, Host, PasswordSource};
use super::tls::{Attempt, SslMode, Tls};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use std::time::Duration;

/// The first connection, where it went, and the options for the pool.
pub struct Opened {
    pub connection: PgConnection,
    pub options: PgConnectOptions,
    pub endpoint: Endpoint,
}

/// Connects to the first host that answers. `limit` bounds each attempt
/// (the URL's `connect_timeout` replaces it). The error is one line, still
/// to be scrubbed of secrets by the caller.
pub async fn open(
    conninfo: &Conninfo,
    settings: &[(&'static str, String)],
    limit: Duration,
) -> Result<Opened, String> {
    let tls = conninfo.tls.check()?;
    let limit = conninfo.connect_timeout.unwrap_or(limit);
    let mut failures: Vec<(String, String)> = Vec::new();
    for endpoint in &conninfo.endpoints {
        // sqlx checks the certificate against the address it connects to;
        // libpq, against the host name.
        if let (Host::Tcp(name), Some(addr), SslMode::VerifyFull) =
            (&endpoint.host, endpoint.hostaddr, tls.mode)
            && *name != addr.to_string()
        {
            return Err(format!(
                "sslmode=verify-full with hostaddr is not supported: the certificate would be checked against {addr}, not \"{name}\"; leave out hostaddr or use verify-ca"
            ));
        }
        let base = base_options(conninfo, endpoint, settings);
        // The server offers no TLS on a Unix socket; libpq does not ask.
        let attempts: &[Attempt] = match endpoint.host {
            Host::Socket(_) => &[Attempt::Plain],
            Host::Tcp(_) => tls.attempts(),
        };
        let mut reasons = Vec::new();
        let mut refused_by_server = false;
        for (i, &attempt) in attempts.iter().enumerate() {
            let options = tls.apply(attempt, base.clone());
            let retried = match (i, attempt) {
                (0, _) => "",
                (_, Attempt::Tls) => "retried with TLS: ",
                (_, Attempt::Plain) => "retried without TLS: ",
            };
            match tokio::time::timeout(limit, PgConnection::connect_with(&options)).await {
                Ok(Ok(connection)) => {
                    return Ok(Opened {
                        connection,
                        options,
                        endpoint: endpoint.clone(),
                    });
                }
                Err(_) => {
                    reasons.push(format!(
                        "{retried}no answer within {} s",
                        limit.as_secs_f64()
                    ));
                    refused_by_server = false;
                    break;
                }
                Ok(Err(error)) => {
                    let reason = explain(&tls, &error, endpoint, conninfo);
                    reasons.push(format!("{retried}{reason}"));
                    refused_by_server = matches!(error, sqlx::Error::Database(_));
                    if !tls.goes_on(attempt, &error) {
                        break;
                    }
                }
            }
        }
        failures.push((endpoint.address(), reasons.join("; ")));
        // The next host is tried only when this one could not be reached; a
        // server that answered and refused (authentication, no such
        // database) ends the search, as in libpq.
        if refused_by_server {
            break;
        }
    }
    Err(match failures.as_slice() {
        [(_, reason)] => reason.clone(),
        _ => failures
            .iter()
            .map(|(address, reason)| format!("{address}: {reason}"))
            .collect::<Vec<_>>()
            .join("; "),
    })
}

/// Everything but TLS, set explicitly: nothing is left for sqlx to take
/// from the environment or its own `.pgpass` reading.
fn base_options(
    conninfo: &Conninfo,
    endpoint: &Endpoint,
    settings: &[(&'static str, String)],
) -> PgConnectOptions {
    let mut options = PgConnectOptions::new_without_pgpass()
        .port(endpoint.port)
        .username(&conninfo.user)
        .database(&conninfo.database)
        .application_name(&conninfo.application_name);
    options = match (&endpoint.host, endpoint.hostaddr) {
        (Host::Socket(dir), _) => options.socket(dir),
        (Host::Tcp(_), Some(addr)) => options.host(&addr.to_string()),
        (Host::Tcp(name), None) => options.host(name),
    };
    if let Some(password) = &endpoint.password {
        options = options.password(password.value());
    }
    if let Some(capacity) = conninfo.statement_cache_capacity {
        options = options.statement_cache_capacity(capacity);
    }
    options
        .options(conninfo.settings.iter().map(|(k, v)| (k, v)))
        .options(settings.iter().map(|(k, v)| (k, v)))
}

/// One attempt's failure, with libpq's hints on a refused password.
fn explain(tls: &Tls, error: &sqlx::Error, endpoint: &Endpoint, conninfo: &Conninfo) -> String {
    let host = match &endpoint.host {
        Host::Tcp(name) => name.clone(),
        Host::Socket(dir) => dir.display().to_string(),
    };
    let mut reason = tls.explain(error, &host);
    if super::is_wrong_password(error) {
        reason.push_str(&password_hint(endpoint, conninfo));
    }
    reason
}

/// libpq's hint on a refused password: where the password came from, or
/// that none was given (and why the password file was not used).
pub(super) fn password_hint(endpoint: &Endpoint, conninfo: &Conninfo) -> String {
    match endpoint.password.as_ref().map(|p| &p.source) {
        Some(PasswordSource::File(path)) => {
            format!(" (password retrieved from file \"{}\")", path.display())
        }
        None => match &conninfo.passfile.ignored {
            Some(why) => format!(" (no password was given; {why})"),
            None => " (no password was given)".to_string(),
        },
        Some(_) => String::new(),
    }
}
