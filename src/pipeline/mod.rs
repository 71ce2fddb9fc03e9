//! The one pipeline every command runs:
//!
//! 1. a [`Plan`]: the inputs resolved (export files, or a prepared dataset), the
//!    session dates, the time zones and the memory to stay within;
//! 2. a [`Source`]: the streaming readers sort the rows by shop (spilling past the
//!    memory budget), or the dataset's views are read by shop; either way it hands
//!    out units of whole shops;
//! 3. per unit, the views ([`Unit`]), and in its [`UnitContext`] the rules and
//!    scores ([`evaluate`]);
//! 4. what the command does with each unit: `run` appends to date folders,
//!    `check` collects hits, `ingest` writes the dataset, `sql` writes the views
//!    where one query can read them all.
//!
//! Shops never share a session or a scorecard, so a run cut into units gives
//! the figures and files of one big pass.

pub mod plan;
pub mod scratch;
pub mod source;
pub mod unit;
pub mod whole;
pub mod window;

pub use plan::{Input, Plan, default_memory_limit};
pub use scratch::Scratch;
pub use source::Source;
pub use unit::{Unit, UnitContext, evaluate};
pub use whole::whole_views;
pub use window::DateRange;
