//! What a URL points at, described for people without its password.

use super::ConnectError;
use crate::model::Engine;
use std::fmt;

/// The database a URL names. `Display` gives a one-line description for messages
/// and headers; the password is kept only to scrub it from error text.
#[derive(Clone)]
pub struct Target {
    pub engine: Engine,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub database: Option<String>,
    pub user: Option<String>,
    /// The URL with its password replaced by `***`.
    pub redacted_url: String,
    password: Option<String>,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("engine", &self.engine)
            .field("url", &self.redacted_url)
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
                write!(
                    f,
                    "{} at {}",
                    engine.display_name(),
                    self.host.as_deref().unwrap_or("localhost")
                )?;
                if let Some(port) = self.port {
                    write!(f, ":{port}")?;
                }
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
        let engine = match scheme.as_str() {
            "postgres" | "postgresql" => Engine::Postgres,
            "sqlite" => Engine::Sqlite,
            "mysql" | "mariadb" => Engine::Mysql,
            _ => {
                return Err(ConnectError::InvalidUrl {
                    url: scrub_userinfo(url),
                    reason: "expected postgres://, sqlite:// or mysql://".into(),
                });
            }
        };
        if engine == Engine::Sqlite {
            let path = url
                .split_once(':')
                .map(|(_, rest)| rest.trim_start_matches("//"))
                .unwrap_or_default();
            let path = path.split('?').next().unwrap_or_default();
            return Ok(Target {
                engine,
                host: None,
                port: None,
                database: (!path.is_empty() && path != ":memory:").then(|| path.to_string()),
                user: None,
                redacted_url: url.to_string(),
                password: None,
            });
        }
        let parsed = url::Url::parse(url).map_err(|e| ConnectError::InvalidUrl {
            url: scrub_userinfo(url),
            reason: e.to_string(),
        })?;
        let password = parsed
            .password()
            .map(percent_decode)
            .filter(|p| !p.is_empty());
        let mut redacted = parsed.clone();
        if parsed.password().is_some() {
            let _ = redacted.set_password(Some("***"));
        }
        let query_param = |key: &str| {
            parsed
                .query_pairs()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.into_owned())
        };
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .map(str::to_string)
            .or_else(|| query_param("host"));
        let database = parsed.path().trim_start_matches('/').to_string();
        let database = Some(percent_decode(&database))
            .filter(|d| !d.is_empty())
            .or_else(|| query_param("dbname"));
        let user = Some(percent_decode(parsed.username()))
            .filter(|u| !u.is_empty())
            .or_else(|| query_param("user"));
        let default_port = match engine {
            Engine::Postgres => 5432,
            _ => 3306,
        };
        Ok(Target {
            engine,
            host,
            port: Some(parsed.port().unwrap_or(default_port)),
            database,
            user,
            redacted_url: redacted.to_string(),
            password,
        })
    }

    /// Removes the password (raw and percent-encoded) from a text.
    pub fn redact(&self, text: &str) -> String {
        match &self.password {
            Some(p) if !p.is_empty() => text.replace(p.as_str(), "***"),
            _ => text.to_string(),
        }
    }
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| text.to_string())
}

/// For a URL that does not even parse: drop everything between `://` and `@`.
fn scrub_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(start), Some(at)) if at > start => {
            format!("{}***@{}", &url[..start + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_without_the_password() {
        let t = Target::parse("postgres://alice:s%40cret@db.example:6543/shop?sslmode=require")
            .unwrap();
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
    }

    #[test]
    fn rejects_unknown_schemes_without_echoing_secrets() {
        let Err(ConnectError::InvalidUrl { url, .. }) = Target::parse("oracle://bob:hunter2@x/y")
        else {
            panic!("accepted")
        };
        assert!(!url.contains("hunter2"));
    }

    #[test]
    fn sqlite_paths() {
        let t = Target::parse("sqlite:///tmp/demo.sqlite?mode=ro").unwrap();
        assert_eq!(t.database.as_deref(), Some("/tmp/demo.sqlite"));
        assert_eq!(t.to_string(), "SQLite database /tmp/demo.sqlite");
    }
}
