//! Drives the real `zhijian` binary on real files.

mod forecast;
mod formats;
mod generate;
mod kpi;
mod rejects;
mod report;
mod rounds;
mod rules;
mod run;
mod sql;
mod util;
mod watch;
