//! Formatting a timestamp exactly like Java's `Instant.toString()` (`DateTimeFormatter.ISO_INSTANT`).

use std::fmt::Write as _;

use chrono::{DateTime, Datelike as _, Timelike as _, Utc};

/// Appends `ts` formatted like Java's `Instant.toString()` to `out`.
///
/// Rules (`ISO_INSTANT`): UTC with a trailing `Z`; seconds always printed; the fraction printed
/// only when non-zero, in groups of 3, 6 or 9 digits; years outside `0000..=9999` get a sign
/// (`+10000-01-01T00:00:00Z`, `-0001-12-31T23:59:59Z`), years below 1000 are zero-padded to 4 digits.
pub(crate) fn write_java_instant(ts: &DateTime<Utc>, out: &mut String) {
    // chrono represents a leap second as nanos >= 1e9 on second 59; Java's Instant has no
    // leap seconds: fold it into the next second like the epoch arithmetic does.
    let mut nanos = ts.timestamp_subsec_nanos();
    let ts = if nanos >= 1_000_000_000 {
        nanos -= 1_000_000_000;
        DateTime::<Utc>::from_timestamp(ts.timestamp().saturating_add(1), nanos).unwrap_or(*ts)
    } else {
        *ts
    };
    let year = ts.year();
    // Writing to a String cannot fail.
    let _ = if (0..=9999).contains(&year) {
        write!(out, "{year:04}")
    } else if year > 9999 {
        write!(out, "+{year}")
    } else {
        write!(out, "-{:04}", year.unsigned_abs())
    };
    let _ = write!(
        out,
        "-{:02}-{:02}T{:02}:{:02}:{:02}",
        ts.month(),
        ts.day(),
        ts.hour(),
        ts.minute(),
        ts.second()
    );
    if nanos != 0 {
        let _ = if nanos.is_multiple_of(1_000_000) {
            write!(out, ".{:03}", nanos / 1_000_000)
        } else if nanos.is_multiple_of(1_000) {
            write!(out, ".{:06}", nanos / 1_000)
        } else {
            write!(out, ".{nanos:09}")
        };
    }
    out.push('Z');
}

/// `ts` formatted like Java's `Instant.toString()`.
#[cfg(test)]
fn java_instant(ts: &DateTime<Utc>) -> String {
    let mut s = String::with_capacity(30);
    write_java_instant(ts, &mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::java_instant;
    use chrono::{DateTime, NaiveDate, Utc};

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, nanos: u32) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|date| date.and_hms_nano_opt(h, mi, s, nanos))
            .map(|naive| naive.and_utc())
            .unwrap_or_default()
    }

    #[test]
    fn whole_seconds_always_print_seconds() {
        assert_eq!(
            java_instant(&at(2026, 5, 28, 8, 0, 0, 0)),
            "2026-05-28T08:00:00Z"
        );
        assert_eq!(
            java_instant(&at(2026, 5, 28, 8, 0, 7, 0)),
            "2026-05-28T08:00:07Z"
        );
    }

    #[test]
    fn fraction_in_groups_of_three() {
        assert_eq!(
            java_instant(&at(2026, 5, 28, 8, 0, 0, 120_000_000)),
            "2026-05-28T08:00:00.120Z"
        );
        assert_eq!(
            java_instant(&at(2026, 5, 28, 8, 0, 0, 1_000)),
            "2026-05-28T08:00:00.000001Z"
        );
        assert_eq!(
            java_instant(&at(2026, 5, 28, 8, 0, 0, 123_400)),
            "2026-05-28T08:00:00.000123400Z"
        );
        assert_eq!(
            java_instant(&at(2026, 5, 28, 8, 0, 0, 1)),
            "2026-05-28T08:00:00.000000001Z"
        );
        assert_eq!(
            java_instant(&at(2026, 5, 28, 8, 0, 0, 999_999_999)),
            "2026-05-28T08:00:00.999999999Z"
        );
    }

    #[test]
    fn epoch_and_far_years() {
        assert_eq!(
            java_instant(&DateTime::<Utc>::UNIX_EPOCH),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            java_instant(&at(999, 1, 2, 3, 4, 5, 0)),
            "0999-01-02T03:04:05Z"
        );
        assert_eq!(
            java_instant(&at(10000, 1, 1, 0, 0, 0, 0)),
            "+10000-01-01T00:00:00Z"
        );
        assert_eq!(
            java_instant(&at(-1, 12, 31, 23, 59, 59, 0)),
            "-0001-12-31T23:59:59Z"
        );
        assert_eq!(
            java_instant(&at(0, 1, 1, 0, 0, 0, 0)),
            "0000-01-01T00:00:00Z"
        );
    }

    #[test]
    fn leap_second_folds_into_next_second() {
        assert_eq!(
            java_instant(&at(2016, 12, 31, 23, 59, 59, 1_500_000_000)),
            "2017-01-01T00:00:00.500Z"
        );
    }
}
