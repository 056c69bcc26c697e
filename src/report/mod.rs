//! Reports of a finished run: text for people, JSON for machines.

pub mod json;
pub mod text;

use crate::checks::plan::Plan;
use crate::db::Target;
use crate::runner::RunResult;

/// What a report describes: the plan, the run, and where it ran.
pub struct Report<'a> {
    pub plan: &'a Plan,
    pub result: &'a RunResult,
    pub target: &'a Target,
    pub server_version: &'a str,
}
