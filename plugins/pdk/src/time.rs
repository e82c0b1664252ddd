//! Calendar arithmetic on event times, without a clock.
//!
//! Plugins receive the event's time in their input; these helpers turn it
//! into calendar dates for explanations and period logic.

use crate::money::DAY;

/// The UTC calendar date `(year, month, day)` of `timestamp` (seconds since
/// the Unix epoch). Proleptic Gregorian, valid for any `i64` day count that
/// fits a year in `i64`.
pub fn civil_date(timestamp: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days-from-civil inverse.
    let z = timestamp.div_euclid(DAY) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The timestamp of 00:00 UTC on `year-month-day` (the inverse of
/// [`civil_date`]).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * DAY
}

/// The start of the calendar quarter that `timestamp` falls in.
pub fn quarter_start(timestamp: i64) -> i64 {
    let (y, m, _) = civil_date(timestamp);
    days_from_civil(y, (m - 1) / 3 * 3 + 1, 1)
}

/// `timestamp` as an ISO 8601 date, for example `2026-11-26`.
pub fn format_date(timestamp: i64) -> String {
    let (y, m, d) = civil_date(timestamp);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(format_date(1_795_651_200), "2026-11-26");
        assert_eq!(format_date(951_782_400), "2000-02-29");
        assert_eq!(format_date(-86_400), "1969-12-31");
        assert_eq!(days_from_civil(2026, 11, 26), 1_795_651_200);
        assert_eq!(days_from_civil(2000, 2, 29), 951_782_400);
        assert_eq!(format_date(quarter_start(1_795_651_200)), "2026-10-01");
        assert_eq!(format_date(quarter_start(days_from_civil(2027, 3, 31))), "2027-01-01");
    }
}
