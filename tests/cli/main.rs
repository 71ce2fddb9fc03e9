//! Drives the real `zhijian` binary on real files.

#[cfg(feature = "failpoints")]
mod faults;
mod forecast;
mod formats;
mod generate;
mod kpi;
mod masking;
mod pipeline;
mod rejects;
mod reliability;
mod report;
mod rounds;
mod rules;
mod run;
mod sql;
mod util;
mod watch;
