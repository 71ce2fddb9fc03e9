//! Where the forecast's days come from. This is the one place that reads
//! transcripts for it, so a new reading pipeline is re-pointed here only.

use chrono::NaiveDate;

use crate::error::Result;
use crate::load::{DateRange, Loaded, load_dates};
use crate::timezone::TimeZones;

/// The views of one local day (with what `load_dates` reads around it, so a
/// round opened that day is whole), from transcripts or a prepared dataset.
pub async fn load_day(inputs: &[std::path::PathBuf], zones: &TimeZones, day: NaiveDate) -> Result<Loaded> {
    load_dates(inputs, zones, Some(DateRange::single(day))).await
}
