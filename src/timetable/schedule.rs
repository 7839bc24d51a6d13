//! Session schedules: when a group's sessions happen, in the group's own time zone, and the UTC
//! instants each occurrence starts and ends at, across midnight and daylight-saving changes.

use chrono::offset::LocalResult;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The longest a session may be: one that ends the next day ends before it starts again.
const MAX_LENGTH: TimeDelta = TimeDelta::hours(24);

/// One-off, or weekly on some days between optional dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Recurrence {
    Once {
        date: NaiveDate,
    },
    Weekly {
        days: Vec<Weekday>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<NaiveDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<NaiveDate>,
    },
}

/// When a group's sessions are and what counts in them.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    pub recurrence: Recurrence,
    /// Local wall-clock start and end.
    pub start: NaiveTime,
    pub end: NaiveTime,
    /// The session ends on the day after it starts (night shifts).
    pub ends_next_day: bool,
    pub time_zone: Tz,
    /// Minutes after the start that still count as on time.
    pub grace_minutes: u32,
    /// Leaving up to this many minutes before the end is not leaving early.
    pub early_leave_minutes: u32,
    /// How long before the start (and after the end) sightings count for this session.
    pub window_minutes: u32,
}

/// One session of a schedule: its local start date and its real start and end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    pub date: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error(
        "end {end} is not after start {start}: a session that ends the next day (across midnight) needs ends_next_day = true"
    )]
    EndBeforeStart { start: NaiveTime, end: NaiveTime },
    #[error("a session lasts at most 24 hours: with ends_next_day, end {end} must not be after start {start}")]
    TooLong { start: NaiveTime, end: NaiveTime },
    #[error("unknown time zone {0:?}: use an IANA name such as \"Europe/Berlin\"")]
    TimeZone(String),
    #[error("a weekly schedule needs at least one day")]
    NoDays,
    #[error("from {from} is after until {until}")]
    Period { from: NaiveDate, until: NaiveDate },
    #[error("{what} of {minutes} minutes is longer than the session ({length} minutes)")]
    Margin {
        what: &'static str,
        minutes: u32,
        length: i64,
    },
    #[error("window_minutes must be at most 720 (12 hours)")]
    Window,
}

pub fn parse_time_zone(name: &str) -> Result<Tz, ScheduleError> {
    name.parse::<Tz>().map_err(|_| ScheduleError::TimeZone(name.to_owned()))
}

/// The instant a local wall-clock time names. In a daylight-saving gap (a time that does not
/// exist) the offset from before the gap is used, as iCalendar (RFC 5545) does: 02:30 on a
/// night the clocks go from 02:00 to 03:00 is 03:30. A time that happens twice (clocks going
/// back) is its first occurrence.
pub fn local_instant(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // Gaps are at most a few hours long: the offset from a day before is the one before it.
            let before = tz.from_local_datetime(&(local - TimeDelta::days(1))).earliest();
            let offset = before.map_or(0, |t| {
                use chrono::Offset;
                t.offset().fix().local_minus_utc()
            });
            (local - TimeDelta::seconds(i64::from(offset))).and_utc()
        }
    }
}

impl Timing {
    pub fn validate(&self) -> Result<(), ScheduleError> {
        match (self.ends_next_day, self.end > self.start) {
            (false, false) => {
                return Err(ScheduleError::EndBeforeStart {
                    start: self.start,
                    end: self.end,
                });
            }
            (true, true) => {
                return Err(ScheduleError::TooLong {
                    start: self.start,
                    end: self.end,
                });
            }
            _ => {}
        }
        if let Recurrence::Weekly { days, from, until } = &self.recurrence {
            if days.is_empty() {
                return Err(ScheduleError::NoDays);
            }
            if let (Some(from), Some(until)) = (from, until)
                && from > until
            {
                return Err(ScheduleError::Period {
                    from: *from,
                    until: *until,
                });
            }
        }
        let length = self.nominal_length().num_minutes();
        for (what, minutes) in [
            ("grace_minutes", self.grace_minutes),
            ("early_leave_minutes", self.early_leave_minutes),
        ] {
            if i64::from(minutes) > length {
                return Err(ScheduleError::Margin { what, minutes, length });
            }
        }
        if self.window_minutes > 720 {
            return Err(ScheduleError::Window);
        }
        Ok(())
    }

    /// Wall-clock length, ignoring daylight-saving changes.
    fn nominal_length(&self) -> TimeDelta {
        let length = self.end - self.start;
        if self.ends_next_day {
            length + MAX_LENGTH
        } else {
            length
        }
    }

    /// Whether a session starts on local `date`.
    pub fn happens_on(&self, date: NaiveDate) -> bool {
        match &self.recurrence {
            Recurrence::Once { date: once } => *once == date,
            Recurrence::Weekly { days, from, until } => {
                days.contains(&date.weekday())
                    && from.is_none_or(|from| date >= from)
                    && until.is_none_or(|until| date <= until)
            }
        }
    }

    /// The session starting on local `date`, if there is one.
    pub fn occurrence_on(&self, date: NaiveDate) -> Option<Occurrence> {
        if !self.happens_on(date) {
            return None;
        }
        let end_date = if self.ends_next_day { date.succ_opt()? } else { date };
        Some(Occurrence {
            date,
            starts_at: local_instant(self.time_zone, date.and_time(self.start)),
            ends_at: local_instant(self.time_zone, end_date.and_time(self.end)),
        })
    }

    /// Sessions starting on local dates `from..=to`, in order.
    pub fn occurrences(&self, from: NaiveDate, to: NaiveDate) -> Vec<Occurrence> {
        from.iter_days()
            .take_while(|d| *d <= to)
            .filter_map(|d| self.occurrence_on(d))
            .collect()
    }

    /// The session running at `now`, if any: one started today or (across midnight) yesterday.
    pub fn running_at(&self, now: DateTime<Utc>) -> Option<Occurrence> {
        let today = now.with_timezone(&self.time_zone).date_naive();
        [today.pred_opt(), Some(today)]
            .into_iter()
            .flatten()
            .filter_map(|d| self.occurrence_on(d))
            .find(|o| o.starts_at <= now && now < o.ends_at)
    }

    /// Sightings in `[start - window, end + window)` count for an occurrence.
    pub fn window(&self, occurrence: &Occurrence) -> (DateTime<Utc>, DateTime<Utc>) {
        let margin = TimeDelta::minutes(i64::from(self.window_minutes));
        (occurrence.starts_at - margin, occurrence.ends_at + margin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn timing(start: &str, end: &str, ends_next_day: bool, tz: &str) -> Timing {
        Timing {
            recurrence: Recurrence::Weekly {
                days: vec![
                    Weekday::Mon,
                    Weekday::Tue,
                    Weekday::Wed,
                    Weekday::Thu,
                    Weekday::Fri,
                    Weekday::Sat,
                    Weekday::Sun,
                ],
                from: None,
                until: None,
            },
            start: time(start),
            end: time(end),
            ends_next_day,
            time_zone: parse_time_zone(tz).unwrap(),
            grace_minutes: 5,
            early_leave_minutes: 5,
            window_minutes: 60,
        }
    }

    #[test]
    fn a_night_shift_ends_the_next_morning() {
        let t = timing("22:00", "06:00", true, "Europe/Berlin");
        assert_eq!(t.validate(), Ok(()));
        let o = t.occurrence_on(date("2026-11-23")).unwrap();
        assert_eq!(o.starts_at.to_rfc3339(), "2026-11-23T21:00:00+00:00");
        assert_eq!(o.ends_at.to_rfc3339(), "2026-11-24T05:00:00+00:00");
        // 02:00 local on the 24th belongs to the shift that started on the 23rd.
        let at = "2026-11-24T01:00:00Z".parse().unwrap();
        assert_eq!(t.running_at(at).unwrap().date, date("2026-11-23"));
    }

    #[test]
    fn end_before_start_needs_ends_next_day_and_a_day_is_the_longest() {
        let err = timing("22:00", "06:00", false, "UTC").validate().unwrap_err();
        assert!(err.to_string().contains("ends_next_day"), "{err}");
        assert!(matches!(
            timing("09:00", "09:00", false, "UTC").validate(),
            Err(ScheduleError::EndBeforeStart { .. })
        ));
        assert!(matches!(
            timing("09:00", "10:00", true, "UTC").validate(),
            Err(ScheduleError::TooLong { .. })
        ));
        assert!(
            timing("09:00", "09:00", true, "UTC").validate().is_ok(),
            "exactly 24 hours"
        );
        assert!(matches!(
            parse_time_zone("Mars/Olympus"),
            Err(ScheduleError::TimeZone(_))
        ));
        let mut short = timing("09:00", "09:30", false, "UTC");
        short.grace_minutes = 45;
        assert!(matches!(short.validate(), Err(ScheduleError::Margin { .. })));
    }

    #[test]
    fn daylight_saving_changes_are_real_time() {
        // Europe/Berlin: clocks go back from 03:00 to 02:00 on 2026-10-25, forward from 02:00
        // to 03:00 on 2026-03-29.
        let night = timing("22:00", "06:00", true, "Europe/Berlin");
        let back = night.occurrence_on(date("2026-10-24")).unwrap();
        assert_eq!(back.ends_at - back.starts_at, TimeDelta::hours(9), "an hour longer");
        let forward = night.occurrence_on(date("2026-03-28")).unwrap();
        assert_eq!(
            forward.ends_at - forward.starts_at,
            TimeDelta::hours(7),
            "an hour shorter"
        );
        // A start inside the gap takes the offset from before it: 02:30 is 03:30 summer time.
        let gap = timing("02:30", "04:00", false, "Europe/Berlin");
        let o = gap.occurrence_on(date("2026-03-29")).unwrap();
        assert_eq!(o.starts_at.to_rfc3339(), "2026-03-29T01:30:00+00:00");
        // A start in the repeated hour is its first occurrence (summer time).
        let twice = timing("02:30", "04:00", false, "Europe/Berlin");
        let o = twice.occurrence_on(date("2026-10-25")).unwrap();
        assert_eq!(o.starts_at.to_rfc3339(), "2026-10-25T00:30:00+00:00");
    }

    #[test]
    fn weekly_schedules_keep_to_their_days_and_period() {
        let mut t = timing("09:00", "11:00", false, "America/New_York");
        t.recurrence = Recurrence::Weekly {
            days: vec![Weekday::Mon, Weekday::Wed],
            from: Some(date("2026-11-04")),
            until: Some(date("2026-11-18")),
        };
        let dates: Vec<NaiveDate> = t
            .occurrences(date("2026-11-01"), date("2026-11-30"))
            .into_iter()
            .map(|o| o.date)
            .collect();
        let expect: Vec<NaiveDate> = ["2026-11-04", "2026-11-09", "2026-11-11", "2026-11-16", "2026-11-18"]
            .into_iter()
            .map(date)
            .collect();
        assert_eq!(dates, expect);
        let once = Timing {
            recurrence: Recurrence::Once {
                date: date("2026-11-25"),
            },
            ..t
        };
        assert_eq!(once.occurrences(date("2026-11-01"), date("2026-11-30")).len(), 1);
        assert_eq!(
            once.occurrence_on(date("2026-11-25")).unwrap().starts_at.to_rfc3339(),
            "2026-11-25T14:00:00+00:00"
        );
    }
}
