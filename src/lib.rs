//! zhijian (质检): full-coverage quality inspection of customer-service chats.
//!
//! The data flows through one module per stage: [`ingest`] reads exports into
//! Arrow, [`views`] derives `messages`, `rounds`, `sessions` and `agent_sessions`,
//! and [`engine`] registers them with DataFusion for SQL. [`rules`] finds
//! violations, [`score`] turns them into conversation scores and scorecards, and
//! [`outputs`] publishes them per date. [`pipeline`] is the one way every command
//! goes through those stages, a unit of shops at a time; [`nightly`] is the `run`
//! job on it and [`dataset`] the prepared dataset `ingest` writes. [`kpi`] turns a
//! month of published days into the KPI and payroll export. [`cli`] is the
//! command line over this library.

pub mod cli;
pub mod dataset;
pub mod engine;
pub mod error;
pub mod failpoint;
pub mod forecast;
pub mod ingest;
pub mod kpi;
pub mod mask;
pub mod nightly;
pub mod normalize;
pub mod outputs;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod rules;
pub mod schema;
pub mod score;
pub mod synth;
pub mod timezone;
pub mod views;
pub mod watch;

pub use error::{Error, Result};
