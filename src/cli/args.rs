//! Flags shared by the commands that read transcripts.

use std::path::PathBuf;

use clap::Args;

use crate::error::Result;
use crate::timezone::{TimeZones, parse_zone};

#[derive(Debug, Args)]
pub struct InputArgs {
    /// Transcript files or folders (JSONL, JSONL.gz, CSV, Parquet; folders are read
    /// recursively, `date=YYYY-MM-DD/` partitions included). Repeatable.
    #[arg(long, short, value_name = "PATH", default_value = "sample-logs")]
    pub input: Vec<PathBuf>,
    /// Time zone of the shops' local dates and of naive timestamps.
    #[arg(long, value_name = "TZ", default_value = "Asia/Shanghai")]
    pub timezone: String,
    /// A shop in another time zone, as SHOP=TZ. Repeatable.
    #[arg(long, value_name = "SHOP=TZ")]
    pub shop_timezone: Vec<String>,
}

impl InputArgs {
    pub fn zones(&self) -> Result<TimeZones> {
        TimeZones::new(parse_zone(&self.timezone)?)
            .with_shop_overrides(self.shop_timezone.iter().map(String::as_str))
    }
}
