//! Flags shared by the commands that read transcripts.

use std::path::PathBuf;

use clap::Args;

use crate::error::Result;
use crate::pipeline::{DateRange, Plan, default_memory_limit};
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
    /// Memory to stay within, like 2GB or 1500MB (default: a quarter of the
    /// machine's memory, at most 2 GB). Shops are worked a few at a time to fit.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<u64>,
}

impl InputArgs {
    pub fn zones(&self) -> Result<TimeZones> {
        TimeZones::new(parse_zone(&self.timezone)?)
            .with_shop_overrides(self.shop_timezone.iter().map(String::as_str))
    }

    pub fn memory_limit(&self) -> u64 {
        self.memory_limit.unwrap_or_else(default_memory_limit)
    }

    /// The plan of a reading command over these inputs.
    pub fn plan(&self, dates: Option<DateRange>) -> Result<Plan> {
        Plan::resolve(&self.input, dates, self.zones()?, self.memory_limit())
    }
}

/// `2GB`, `1.5G`, `500MB`, `2GiB`, or bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let lower = text.trim().to_ascii_lowercase();
    let split = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(split);
    let scale: u64 = match unit.trim() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("{text:?}: give a size like 2GB or 1500MB")),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?}: give a size like 2GB or 1500MB"))?;
    if value <= 0.0 {
        return Err(format!("{text:?}: the limit must be above zero"));
    }
    Ok((value * scale as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2GB"), Ok(2 << 30));
        assert_eq!(parse_size("1.5g"), Ok(3 << 29));
        assert_eq!(parse_size("500MB"), Ok(500 << 20));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("lots").is_err() && parse_size("0GB").is_err());
    }
}
