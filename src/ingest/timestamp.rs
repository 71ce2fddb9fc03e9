//! The `ts` forms of design §3: RFC 3339 with an offset, a naive local time read in
//! the shop's zone, or epoch milliseconds. Everything else is a reject with a reason.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;

use crate::timezone::{LocalInstant, MICROS_PER_SECOND, local_to_utc};

/// Largest epoch-millisecond value accepted: 9999-12-31T23:59:59.999Z.
const MAX_EPOCH_MILLIS: i64 = 253_402_300_799_999;

/// Parses a textual timestamp into UTC microseconds.
pub fn parse_text(text: &str, zone: Tz) -> Result<i64, String> {
    let bytes = text.as_bytes();
    let shape = || {
        format!(
            "{text:?} is not a timestamp: write 2026-11-11T10:00:03+08:00, \
             2026-11-11 10:00:03 (shop local time) or epoch milliseconds as a number"
        )
    };
    if bytes.len() < 19 {
        return Err(shape());
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = bytes.get(range)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
    };
    let separators_ok = bytes[4] == b'-'
        && bytes[7] == b'-'
        && matches!(bytes[10], b'T' | b't' | b' ')
        && bytes[13] == b':'
        && bytes[16] == b':';
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second), true) = (
        num(0..4),
        num(5..7),
        num(8..10),
        num(11..13),
        num(14..16),
        num(17..19),
        separators_ok,
    ) else {
        return Err(shape());
    };
    let date = i32::try_from(year)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, month, day))
        .ok_or_else(|| format!("{text:?} is not a real calendar date"))?;
    // Second 60 (a leap second) is refused: exports never mean it.
    let time = NaiveTime::from_hms_opt(hour, minute, second)
        .filter(|_| second < 60)
        .ok_or_else(|| format!("{text:?} has an impossible time of day"))?;

    let mut rest = &bytes[19..];
    let mut fraction_micros = 0i64;
    if let Some((b'.', after)) = rest.split_first() {
        let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return Err(shape());
        }
        // Microseconds are enough (design §3): further digits are truncated.
        for i in 0..6 {
            let digit = after.get(i).filter(|_| i < digits).map_or(0, |d| d - b'0');
            fraction_micros = fraction_micros * 10 + i64::from(digit);
        }
        rest = &after[digits..];
    }
    let local_micros = NaiveDateTime::new(date, time).and_utc().timestamp_micros() + fraction_micros;
    let offset_seconds: i64 = match rest {
        [] => {
            let naive = NaiveDateTime::new(date, time);
            return match local_to_utc(zone, &naive) {
                LocalInstant::Micros(instant) => Ok(instant + fraction_micros),
                LocalInstant::Nonexistent => Err(format!(
                    "{text:?} does not exist in time zone {} (clocks skip it)",
                    zone.name()
                )),
            };
        }
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let two = |a: u8, b: u8| -> Option<i64> {
                (a.is_ascii_digit() && b.is_ascii_digit())
                    .then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
            };
            let (Some(hours), Some(minutes)) = (two(*h1, *h2), two(*m1, *m2)) else {
                return Err(shape());
            };
            if hours > 23 || minutes > 59 {
                return Err(format!("{text:?} has an impossible UTC offset"));
            }
            let magnitude = hours * 3600 + minutes * 60;
            if *sign == b'-' { -magnitude } else { magnitude }
        }
        _ => return Err(shape()),
    };
    Ok(local_micros - offset_seconds * MICROS_PER_SECOND)
}

/// Epoch milliseconds (a JSON integer) into UTC microseconds.
pub fn from_epoch_millis(millis: i64) -> Result<i64, String> {
    if (0..=MAX_EPOCH_MILLIS).contains(&millis) {
        Ok(millis * 1000)
    } else {
        Err(format!(
            "{millis} is out of range for epoch milliseconds (1970 to 9999)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SH: Tz = chrono_tz::Asia::Shanghai;
    // 2026-11-11T02:00:03Z
    const INSTANT: i64 = 1_794_362_403 * MICROS_PER_SECOND;

    #[test]
    fn accepts_every_documented_form() {
        for text in [
            "2026-11-11T10:00:03+08:00",
            "2026-11-11T02:00:03Z",
            "2026-11-11t02:00:03z",
            "2026-11-11T10:00:03+0800",
            "2026-11-11 10:00:03+08:00",
            "2026-11-11 10:00:03",
            "2026-11-11T10:00:03",
            "2026-11-10T21:00:03-05:00",
        ] {
            assert_eq!(parse_text(text, SH), Ok(INSTANT), "{text}");
        }
    }

    #[test]
    fn fractions_are_kept_to_the_microsecond() {
        assert_eq!(parse_text("2026-11-11T02:00:03.5Z", SH), Ok(INSTANT + 500_000));
        assert_eq!(
            parse_text("2026-11-11T02:00:03.123456789Z", SH),
            Ok(INSTANT + 123_456)
        );
        assert_eq!(parse_text("2026-11-11 10:00:03.25", SH), Ok(INSTANT + 250_000));
    }

    #[test]
    fn rejects_other_forms() {
        for text in [
            "2026-11-11T10:00:03+08",
            "1762826403000",
            "2026-11-11",
            "2026-11-11T10:00:60Z",
            "2026-02-30T10:00:00Z",
            "2026-13-01T10:00:00Z",
            "2026-11-11T24:00:00Z",
            "2026-11-11T10:00:03.Z",
            "2026-11-11T10:00:03+25:00",
            "2026/11/11 10:00:03",
            "2026-11-11T10:00:03 +08:00",
            "",
            "２０２６-11-11T10:00:03Z",
        ] {
            assert!(parse_text(text, SH).is_err(), "{text} should be rejected");
        }
    }

    #[test]
    fn epoch_millis() {
        assert_eq!(from_epoch_millis(1_794_362_403_000), Ok(INSTANT));
        assert!(from_epoch_millis(-1).is_err());
        assert!(from_epoch_millis(i64::MAX).is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,40}") {
            let _ = parse_text(&text, SH);
        }

        #[test]
        fn round_trips_rfc3339(secs in 0i64..4_102_444_800, micros in 0i64..1_000_000) {
            let dt = chrono::DateTime::from_timestamp(secs, u32::try_from(micros * 1000).unwrap_or(0))
                .expect("in range");
            let text = dt.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            proptest::prop_assert_eq!(parse_text(&text, SH), Ok(secs * MICROS_PER_SECOND + micros));
        }
    }
}
