//! Reports of a finished run: text for people; JSON, HTML and JUnit for
//! machines and pipelines; DOT and Mermaid graphs; Prometheus metrics; fix
//! previews and `bench` tables.

pub mod bench;
pub mod fix;
pub mod graph;
pub mod html;
pub mod json;
pub mod junit;
pub mod prometheus;
pub mod rows;
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
    /// When the run was compared with a baseline: what it accepted and what is gone.
    pub baseline: Option<&'a crate::baseline::Compared>,
}
