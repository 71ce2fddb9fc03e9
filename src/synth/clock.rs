//! Shop-local time: the time zone, local date/time formatting helpers and
//! the stream of session start times that follows a daily traffic curve.

use super::rng::Rng;
use chrono::{DateTime, NaiveDate, Offset, TimeZone};
use chrono_tz::Asia::Shanghai;

/// Every generated shop lives in this zone.
pub const SHOP_TZ: chrono_tz::Tz = Shanghai;

/// Unix seconds of local midnight starting `date`.
pub fn local_midnight(date: NaiveDate) -> i64 {
    let naive = date.and_time(chrono::NaiveTime::MIN);
    match SHOP_TZ.from_local_datetime(&naive).earliest() {
        Some(dt) => dt.timestamp(),
        // A zone that skips midnight (never Shanghai): fall back to its
        // current offset, which is what a clock on the wall would show.
        None => naive.and_utc().timestamp() - i64::from(offset_at(naive.and_utc().timestamp())),
    }
}

/// UTC offset of the shop zone at `ts` (Unix seconds), in seconds.
pub fn offset_at(ts: i64) -> i32 {
    match DateTime::from_timestamp(ts, 0) {
        Some(dt) => SHOP_TZ
            .offset_from_utc_datetime(&dt.naive_utc())
            .fix()
            .local_minus_utc(),
        None => 8 * 3600,
    }
}

/// Local wall-clock fields of an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Local {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub secs: u32,
    pub offset: i32,
}

impl Local {
    pub fn at(ts: i64) -> Local {
        let offset = offset_at(ts);
        let local = ts + i64::from(offset);
        let (year, month, day) = civil_from_days(local.div_euclid(86_400));
        Local {
            year,
            month,
            day,
            secs: local.rem_euclid(86_400) as u32,
            offset,
        }
    }

    /// `2026-11-11 10:00:03` (or with `T` as separator).
    pub fn push_naive(&self, sep: char, out: &mut String) {
        push_date(self.year, self.month, self.day, out);
        out.push(sep);
        push2(self.secs / 3600, out);
        out.push(':');
        push2(self.secs / 60 % 60, out);
        out.push(':');
        push2(self.secs % 60, out);
    }

    /// RFC 3339 with the numeric offset: `2026-11-11T10:00:03+08:00`.
    pub fn push_rfc3339(&self, out: &mut String) {
        self.push_naive('T', out);
        let off = self.offset.unsigned_abs() / 60;
        out.push(if self.offset < 0 { '-' } else { '+' });
        push2(off / 60, out);
        out.push(':');
        push2(off % 60, out);
    }
}

/// `YYYY-MM-DD` (years outside 0..=9999 are written in full).
pub fn push_date(year: i64, month: u32, day: u32, out: &mut String) {
    if (0..=9999).contains(&year) {
        let y = year as u32;
        push2(y / 100, out);
        push2(y % 100, out);
    } else {
        out.push_str(&year.to_string());
    }
    out.push('-');
    push2(month, out);
    out.push('-');
    push2(day, out);
}

fn push2(n: u32, out: &mut String) {
    out.push(char::from(b'0' + (n / 10 % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's algorithm; avoids chrono's formatting machinery on the
/// hot path).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Relative chat traffic per local hour: quiet night, peaks at 10-12,
/// 14-16 and 20-23 (e-commerce evenings).
const HOURLY_WEIGHT: [f64; 24] = [
    3.0, 1.5, 0.8, 0.5, 0.4, 0.5, 1.0, 2.0, 4.0, 7.0, 10.0, 10.0, 7.0, 7.0, 9.0, 9.0, 7.0, 6.0, 6.0, 7.0,
    10.0, 11.0, 10.0, 6.0,
];

/// Where the forced midnight-crossing session of a shop-day starts.
const LATE_START: u32 = 23 * 3600 + 55 * 60;
const LATE_WINDOW: u64 = 210;
/// Shop-days with at least this many sessions get a forced late session.
pub const FORCE_LATE_MIN_SESSIONS: u32 = 10;

/// One session start of a shop-day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start {
    /// 0-based index in start order within the shop-day.
    pub index: u32,
    /// Seconds since local midnight.
    pub secs: u32,
    /// The forced late session that must run past midnight.
    pub cross_midnight: bool,
}

/// Session starts of one shop-day in increasing order, in O(1) memory:
/// sorted uniforms are drawn one at a time as successive minima
/// (`x_k = 1 - (1 - x_{k-1}) * V^(1/m)`, m = starts left) and mapped through
/// the inverse CDF of the daily curve, which keeps them sorted.
#[derive(Debug, Clone)]
pub struct StartTimes {
    rng: Rng,
    n: u32,
    k: u32,
    x: f64,
    last: u32,
    cum: [f64; 25],
}

impl StartTimes {
    pub fn new(rng: Rng, n: u32) -> Self {
        let mut cum = [0.0; 25];
        for h in 0..24 {
            cum[h + 1] = cum[h] + HOURLY_WEIGHT[h];
        }
        StartTimes {
            rng,
            n,
            k: 0,
            x: 0.0,
            last: 0,
            cum,
        }
    }

    /// Seconds of day at quantile `x` of the daily curve.
    fn inverse_cdf(&self, x: f64) -> u32 {
        let target = x * self.cum[24];
        let h = (0..24).find(|&h| target < self.cum[h + 1]).unwrap_or(23);
        let frac = ((target - self.cum[h]) / HOURLY_WEIGHT[h]).clamp(0.0, 1.0);
        ((h as f64 + frac) * 3600.0).min(86_399.0) as u32
    }
}

impl Iterator for StartTimes {
    type Item = Start;

    fn next(&mut self) -> Option<Start> {
        if self.k >= self.n {
            return None;
        }
        let left = f64::from(self.n - self.k);
        let v = 1.0 - self.rng.f64(); // (0, 1]
        self.x = (1.0 - (1.0 - self.x) * v.powf(1.0 / left)).max(self.x);
        let mut secs = self.inverse_cdf(self.x).max(self.last);
        let forced = self.n >= FORCE_LATE_MIN_SESSIONS && self.k + 1 == self.n;
        if forced {
            secs = secs.max(LATE_START + self.rng.below(LATE_WINDOW) as u32);
        }
        self.last = secs;
        let start = Start {
            index: self.k,
            secs,
            cross_midnight: forced,
        };
        self.k += 1;
        Some(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_local_time() {
        // 2026-11-11 10:00:03 +08:00
        let ts = 1_794_326_400 + 10 * 3600 + 3;
        let l = Local::at(ts);
        let mut s = String::new();
        l.push_naive(' ', &mut s);
        assert_eq!(s, "2026-11-11 10:00:03");
        s.clear();
        l.push_rfc3339(&mut s);
        assert_eq!(s, "2026-11-11T10:00:03+08:00");
        assert_eq!(
            local_midnight(NaiveDate::from_ymd_opt(2026, 11, 11).expect("valid date")),
            1_794_326_400
        );
    }

    #[test]
    fn civil_matches_chrono() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            let c = DateTime::from_timestamp(days * 86_400, 0)
                .expect("in range")
                .date_naive();
            use chrono::Datelike;
            assert_eq!((y, m, d), (i64::from(c.year()), c.month(), c.day()));
        }
    }

    #[test]
    fn start_times_are_sorted_and_follow_the_curve() {
        let n = 20_000;
        let starts: Vec<Start> = StartTimes::new(Rng::new(4), n).collect();
        assert_eq!(starts.len(), n as usize);
        assert!(starts.windows(2).all(|w| w[0].secs <= w[1].secs));
        assert!(starts.iter().all(|s| s.secs < 86_400));
        let at = |h0: u32, h1: u32| {
            starts
                .iter()
                .filter(|s| s.secs >= h0 * 3600 && s.secs < h1 * 3600)
                .count()
        };
        // evening peak hour beats the 4 a.m. trough by far
        assert!(at(21, 22) > 10 * at(4, 5), "{} vs {}", at(21, 22), at(4, 5));
        assert!(at(4, 5) > 0);
        let last = starts[starts.len() - 1];
        assert!(last.cross_midnight && last.secs >= LATE_START);
        assert_eq!(starts.iter().filter(|s| s.cross_midnight).count(), 1);
        assert_eq!(
            StartTimes::new(Rng::new(1), 5)
                .filter(|s| s.cross_midnight)
                .count(),
            0
        );
    }
}
