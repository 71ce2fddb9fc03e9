//! Where the forecast's days come from. This is the one place that reads
//! transcripts for it: through the pipeline, like every command, so a day of a
//! prepared dataset is read as it is and a big day stays within the memory limit.

use chrono::NaiveDate;
use datafusion::prelude::SessionContext;

use crate::error::Result;
use crate::pipeline::{DateRange, Plan, Scratch, default_memory_limit, whole_views};
use crate::progress::Silent;
use crate::rules::RulePack;
use crate::timezone::TimeZones;

/// The views of one local day (with what is read around it, so a round opened
/// that day is whole), from transcripts or a prepared dataset.
pub struct Day {
    pub ctx: SessionContext,
    /// Where the views of a day too big for memory are; removed with the day.
    _scratch: Scratch,
}

pub async fn load_day(inputs: &[std::path::PathBuf], zones: &TimeZones, day: NaiveDate) -> Result<Day> {
    let plan = Plan::resolve(
        inputs,
        Some(DateRange::single(day)),
        zones.clone(),
        default_memory_limit(),
    )?;
    let scratch = Scratch::new(&format!("forecast-{day}"))?;
    let pack = RulePack::empty(std::path::Path::new("rules"));
    let (ctx, _, _) = whole_views(&plan, &pack, &scratch, &Silent).await?;
    Ok(Day {
        ctx,
        _scratch: scratch,
    })
}
