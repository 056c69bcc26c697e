//! tether: shows whether a relational database's relationships hold.
//!
//! Floors, bottom up (imports point down only):
//! - [`model`] (the schema model), [`cell`] (exact values for writes), [`sql`]
//!   (the one module that writes SQL), [`clock`], [`stats`], [`wording`]
//!   (numbers and count sentences, from data), [`timeline`] (time columns
//!   and buckets, data);
//! - [`db`] (connections, read-only sessions), [`catalog`] (catalog → model),
//!   [`profile`] (which names check ids and severities, the one part of
//!   [`checks`] below it);
//! - [`checks`] (ids, and the plan), [`findings`], [`relationships`],
//!   [`graph`], [`writes`];
//! - [`runner`] (async execution, events), [`probe`], [`lineage`], [`fix`],
//!   [`bench`], [`offending`] (a check's offending rows, page by page);
//! - [`report`] (text, JSON, HTML, JUnit, Prometheus, fix previews),
//!   [`alerts`], [`baseline`], [`demo`];
//! - [`app`] (the UI's state and pure update), [`tui`] (its shell and views),
//!   [`progress`];
//! - [`commands`] and `main` at the top.

// Functions stay short and shallow (thresholds in clippy.toml); table-like
// data says why it is exempt where it is.
#![warn(clippy::too_many_lines, clippy::excessive_nesting)]

pub mod alerts;
pub mod app;
pub mod baseline;
pub mod bench;
pub mod catalog;
pub mod cell;
pub mod checks;
pub mod clock;
pub mod commands;
pub mod db;
pub mod demo;
pub mod findings;
pub mod fix;
pub mod graph;
pub mod lineage;
pub mod model;
pub mod offending;
pub mod probe;
pub mod profile;
pub mod progress;
pub mod relationships;
pub mod report;
pub mod runner;
pub mod sql;
pub mod stats;
pub mod timeline;
pub mod tui;
pub mod wording;
pub mod writes;
