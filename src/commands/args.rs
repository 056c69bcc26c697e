//! Command-line arguments shared by several commands, and the parsers that
//! check every numeric flag as it is read: a value out of range is one clear
//! line and exit 2, never a panic later.

use clap::{Args, ValueEnum};

#[derive(Args, Clone, Debug)]
pub struct ConnectArgs {
    /// Database URL: postgres://…, sqlite://path. Default: the bundled demo database.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub url: Option<String>,
    /// Per-query timeout in seconds (the server's statement timeout), above 0,
    /// at most 86400.
    #[arg(long, default_value_t = 30.0, value_name = "SECS", value_parser = seconds, allow_hyphen_values = true)]
    pub timeout: f64,
    /// Seconds to wait for a connection, above 0, at most 86400; also the
    /// longest tether waits for the server to take a cancel request.
    #[arg(long, default_value_t = 10.0, value_name = "SECS", value_parser = seconds, allow_hyphen_values = true)]
    pub connect_timeout: f64,
    /// Seconds a statement waits for a lock another session holds before it
    /// fails (and a write stops, changing nothing), above 0, at most 86400.
    #[arg(long, default_value_t = 5.0, value_name = "SECS", value_parser = seconds, allow_hyphen_values = true)]
    pub lock_timeout: f64,
    /// Queries run at once, 1 to 64.
    #[arg(long, short = 'j', default_value_t = 4, value_name = "N", value_parser = whole::<u16>(1, 64), allow_hyphen_values = true)]
    pub jobs: u16,
}

/// The longest time any flag may name: a day.
pub const MAX_SECONDS: f64 = 86_400.0;

/// A number of seconds: finite, above zero, at most a day.
pub fn seconds(text: &str) -> Result<f64, String> {
    seconds_where(text, |s| s > 0.0, "above 0")
}

/// A refresh interval of the terminal UI: at least a second, at most a day.
pub fn refresh_seconds(text: &str) -> Result<f64, String> {
    seconds_where(text, |s| s >= 1.0, "at least 1")
}

/// A finite number of seconds that `floor` accepts (it says so in `floor_text`),
/// at most a day.
fn seconds_where(text: &str, floor: fn(f64) -> bool, floor_text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !value.is_finite() || !floor(value) || value > MAX_SECONDS {
        return Err(format!(
            "{text} is not a usable number of seconds ({floor_text}, at most {MAX_SECONDS})"
        ));
    }
    Ok(value)
}

/// A parser for a whole number from `min` to `max`, for flags that count
/// something; the type it gives holds every value in that range.
pub fn whole<T>(min: u64, max: u64) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync
where
    T: TryFrom<u64>,
{
    move |text: &str| {
        text.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| format!("{text} is not a whole number from {min} to {max}"))
    }
}

/// An address to listen on: HOST:PORT, the port from 0 (any free one) to 65535.
pub fn listen_address(text: &str) -> Result<String, String> {
    let usage = || {
        format!(
            "{text:?} is not an address to listen on: HOST:PORT, e.g. 127.0.0.1:9187 (port 0 picks a free one)"
        )
    };
    let (host, port) = text.rsplit_once(':').ok_or_else(usage)?;
    // A name or IPv4 address, or an IPv6 address in brackets.
    let host_ok = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .map_or_else(
            || {
                !host.is_empty()
                    && host
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            },
            |h| h.parse::<std::net::Ipv6Addr>().is_ok(),
        );
    if !host_ok || port.parse::<u16>().is_err() {
        return Err(usage());
    }
    Ok(text.to_string())
}

/// The most sample rows a finding keeps: samples are bounded, never a table.
pub const MAX_SAMPLE: u64 = 10_000;

#[derive(Args, Clone, Debug)]
pub struct PlanArgs {
    /// A profile: the name of a bundled one (discovery-flow) or a TOML file.
    #[arg(long, short = 'p')]
    pub profile: Option<String>,
    /// Only these schemas (repeat or separate with commas).
    #[arg(long = "schema", value_delimiter = ',')]
    pub schema: Vec<String>,
    /// Tenant columns, e.g. client_account_id,engagement_id (replaces the profile's).
    #[arg(long, value_delimiter = ',')]
    pub tenant_columns: Option<Vec<String>>,
    /// Sample rows kept per finding, 0 (none) to 10000.
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = whole::<u32>(0, MAX_SAMPLE), allow_hyphen_values = true)]
    pub sample: u32,
}

impl PlanArgs {
    pub fn schemas(&self) -> Vec<String> {
        self.schema
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect()
    }

    pub fn tenant_columns(&self) -> Option<Vec<String>> {
        self.tenant_columns
            .as_ref()
            .map(|cols| cols.iter().filter(|c| !c.is_empty()).cloned().collect())
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Html,
    Junit,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}
