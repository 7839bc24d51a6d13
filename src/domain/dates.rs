//! The one range of dates rollcall supports, everywhere: events, queries and reports. Attendance
//! outside it is a mistake (a camera clock at zero, a typo in a year) and arithmetic on dates
//! near the calendar's ends would overflow, so the edges (topics and routes) refuse it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

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

/// Why `day` is refused, for an error message.
pub fn unsupported_day_message(day: NaiveDate) -> String {
    format!("{day} is outside the supported dates, {EARLIEST_DAY} to {LATEST_DAY}")
}

fn supported<E: serde::de::Error>(day: NaiveDate) -> Result<NaiveDate, E> {
    if supported_day(day) {
        Ok(day)
    } else {
        Err(E::custom(unsupported_day_message(day)))
    }
}

/// A `YYYY-MM-DD` date within the supported range, checked as it is read: the type of every date
/// a request gives in its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day(pub NaiveDate);

impl<'de> serde::Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        supported(NaiveDate::deserialize(deserializer)?).map(Day)
    }
}

/// `#[serde(deserialize_with = "dates::checked")]`: a date field within the supported range.
pub fn checked<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    Day::deserialize(deserializer).map(|Day(day)| day)
}

/// `#[serde(default, deserialize_with = "dates::checked_opt")]`: an optional date field within the
/// supported range.
pub fn checked_opt<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDate>, D::Error> {
    Option::<Day>::deserialize(deserializer).map(|day| day.map(|Day(day)| day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_outside_the_range_are_refused_as_they_are_read() {
        let day: Day = serde_json::from_str("\"2026-12-01\"").unwrap();
        assert_eq!(day.0.to_string(), "2026-12-01");
        for far in [
            "\"+262142-12-31\"",
            "\"-0001-01-01\"",
            "\"3000-01-01\"",
            "\"1969-12-31\"",
        ] {
            let error = serde_json::from_str::<Day>(far).unwrap_err().to_string();
            assert!(
                error.contains("outside the supported dates") || error.contains("input contains invalid characters"),
                "{far}: {error}"
            );
        }
        let error = serde_json::from_str::<Day>("\"3000-01-01\"").unwrap_err().to_string();
        assert!(error.contains("1970-01-01 to 2999-12-31"), "{error}");
    }

    #[test]
    fn the_range_is_1970_to_2999() {
        assert!(supported_day("1970-01-01".parse().unwrap()));
        assert!(supported_day("2999-12-31".parse().unwrap()));
        assert!(!supported_day("1969-12-31".parse().unwrap()));
        assert!(!supported_day("3000-01-01".parse().unwrap()));
        assert!(!supported_time("9999-12-31T23:59:59Z".parse().unwrap()));
    }
}
