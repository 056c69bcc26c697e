//! Command-line arguments shared by several commands.

use clap::{Args, ValueEnum};

#[derive(Args, Clone, Debug)]
pub struct ConnectArgs {
    /// Database URL: postgres://…, sqlite://path. Default: the bundled demo database.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub url: Option<String>,
    /// Per-query timeout in seconds (the server's statement timeout).
    #[arg(long, default_value_t = 30.0, value_name = "SECS", value_parser = seconds)]
    pub timeout: f64,
    /// Seconds to wait for a connection.
    #[arg(long, default_value_t = 10.0, value_name = "SECS", value_parser = seconds)]
    pub connect_timeout: f64,
    /// Seconds a statement waits for a lock another session holds before it
    /// fails (and a write stops, changing nothing).
    #[arg(long, default_value_t = 5.0, value_name = "SECS", value_parser = seconds)]
    pub lock_timeout: f64,
    /// Queries run at once.
    #[arg(long, short = 'j', default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
}

/// A number of seconds: finite, above zero, at most a day.
pub fn seconds(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !value.is_finite() || value <= 0.0 || value > 86_400.0 {
        return Err(format!(
            "{text} is not a usable number of seconds (above 0, at most 86400)"
        ));
    }
    Ok(value)
}

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
    /// Sample rows kept per finding.
    #[arg(long, default_value_t = 5, value_name = "N")]
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
