//! Shop time zones: local dates, local times and naive timestamps are read in the
//! shop's zone (design §3), `Asia/Shanghai` unless configured otherwise.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct TimeZones {
    default: Tz,
    per_shop: HashMap<String, Tz>,
}

impl Default for TimeZones {
    fn default() -> Self {
        Self {
            default: chrono_tz::Asia::Shanghai,
            per_shop: HashMap::new(),
        }
    }
}

/// Parses an IANA zone name, with an error that says what to write instead.
pub fn parse_zone(name: &str) -> Result<Tz> {
    Tz::from_str(name).map_err(|_| {
        Error::Usage(format!(
            "unknown time zone {name:?}: use an IANA name such as Asia/Shanghai or UTC"
        ))
    })
}

impl TimeZones {
    pub fn new(default: Tz) -> Self {
        Self {
            default,
            per_shop: HashMap::new(),
        }
    }

    /// Adds `SHOP=ZONE` overrides (the `--shop-timezone` flag).
    pub fn with_shop_overrides<'a>(mut self, specs: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        for spec in specs {
            let (shop, zone) = spec.split_once('=').ok_or_else(|| {
                Error::Usage(format!(
                    "--shop-timezone {spec:?}: write SHOP=ZONE, e.g. jd-shop=Asia/Shanghai"
                ))
            })?;
            self.per_shop.insert(shop.to_string(), parse_zone(zone)?);
        }
        Ok(self)
    }

    pub fn default_zone(&self) -> Tz {
        self.default
    }

    /// The per-shop overrides, by shop, for the record of a run.
    pub fn shop_overrides(&self) -> std::collections::BTreeMap<String, String> {
        self.per_shop
            .iter()
            .map(|(shop, zone)| (shop.clone(), zone.name().to_string()))
            .collect()
    }

    pub fn for_shop(&self, shop: &str) -> Tz {
        if self.per_shop.is_empty() {
            return self.default;
        }
        self.per_shop.get(shop).copied().unwrap_or(self.default)
    }
}

pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// UTC offset of `zone` at the instant `utc_micros`, in microseconds.
pub fn offset_micros(zone: Tz, utc_micros: i64) -> i64 {
    let secs = utc_micros.div_euclid(MICROS_PER_SECOND);
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(instant) => {
            let offset = zone.offset_from_utc_datetime(&instant.naive_utc());
            i64::from(offset.fix().local_minus_utc()) * MICROS_PER_SECOND
        }
        None => 0,
    }
}

/// Local (days since epoch, microseconds since local midnight) of an instant.
pub fn local_date_time(zone: Tz, utc_micros: i64) -> (i32, i64) {
    let local = utc_micros + offset_micros(zone, utc_micros);
    let days = local.div_euclid(MICROS_PER_DAY);
    (
        i32::try_from(days).unwrap_or(i32::MAX),
        local.rem_euclid(MICROS_PER_DAY),
    )
}

/// How a wall-clock time maps to an instant in a zone.
pub enum LocalInstant {
    Micros(i64),
    /// The wall-clock time falls in a daylight-saving gap.
    Nonexistent,
}

/// Reads a naive local time in `zone`. An ambiguous time (the repeated hour when
/// clocks go back) is the earlier instant, as most exporters mean it.
pub fn local_to_utc(zone: Tz, naive: &NaiveDateTime) -> LocalInstant {
    match zone.from_local_datetime(naive).earliest() {
        Some(instant) => LocalInstant::Micros(instant.timestamp_micros()),
        None => LocalInstant::Nonexistent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_is_eight_hours_ahead() {
        // 2026-11-10T16:30:00Z is 2026-11-11 00:30 in Shanghai.
        let utc = 1_794_328_200 * MICROS_PER_SECOND;
        let (days, micros) = local_date_time(chrono_tz::Asia::Shanghai, utc);
        assert_eq!(
            chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163).map(|d| d.to_string()),
            Some("2026-11-11".to_string())
        );
        assert_eq!(micros, 30 * 60 * MICROS_PER_SECOND);
    }

    #[test]
    fn shop_overrides_parse_and_apply() {
        let zones = TimeZones::default()
            .with_shop_overrides(["eu-shop=Europe/Berlin"])
            .expect("valid spec");
        assert_eq!(zones.for_shop("eu-shop"), chrono_tz::Europe::Berlin);
        assert_eq!(zones.for_shop("other"), chrono_tz::Asia::Shanghai);
        assert!(TimeZones::default().with_shop_overrides(["nozone"]).is_err());
        assert!(parse_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn dst_gap_is_nonexistent() {
        let naive = chrono::NaiveDate::from_ymd_opt(2026, 3, 29)
            .and_then(|d| d.and_hms_opt(2, 30, 0))
            .expect("valid");
        assert!(matches!(
            local_to_utc(chrono_tz::Europe::Berlin, &naive),
            LocalInstant::Nonexistent
        ));
    }
}
