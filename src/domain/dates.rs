//! The one range of dates rollcall supports, everywhere: events, queries and reports. Attendance
//! outside it is a mistake (a camera clock at zero, a typo in a year) and arithmetic on dates
//! near the calendar's ends would overflow, so the edges (topics and routes) refuse it.

use chrono::{DateTime, NaiveDate, Utc};

/// The first supported day.
pub const EARLIEST_DAY: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
/// The last supported day.
pub const LATEST_DAY: NaiveDate = NaiveDate::from_ymd_opt(2999, 12, 31).expect("a valid date");

/// Whether `day` is within the supported range.
pub fn supported_day(day: NaiveDate) -> bool {
    (EARLIEST_DAY..=LATEST_DAY).contains(&day)
}

/// Whether the UTC day of `at` is within the supported range.
pub fn supported_time(at: DateTime<Utc>) -> bool {
    supported_day(at.date_naive())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_is_1970_to_2999() {
        assert!(supported_day("1970-01-01".parse().unwrap()));
        assert!(supported_day("2999-12-31".parse().unwrap()));
        assert!(!supported_day("1969-12-31".parse().unwrap()));
        assert!(!supported_day("3000-01-01".parse().unwrap()));
        assert!(!supported_time("9999-12-31T23:59:59Z".parse().unwrap()));
    }
}
