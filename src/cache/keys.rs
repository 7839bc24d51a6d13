//! Every Redis key rollcall uses, built here and nowhere else.
//!
//! Readers cache under `{key}@{generation}`, with the generation read from the store; the
//! projector bumps generations in the same transaction as the data, so an entry whose
//! invalidation never reached Redis can no longer be found.

use chrono::NaiveDate;

pub const PREFIX: &str = "rollcall:v1";

pub fn attendance_day(day: NaiveDate) -> String {
    format!("{PREFIX}:attendance:day:{day}")
}

pub fn person(id: &str) -> String {
    format!("{PREFIX}:person:{id}")
}

/// A group: its members and schedules. Bumped by every change to them, so the group's session
/// reports (versioned by it) move on.
pub fn group(id: &str) -> String {
    format!("{PREFIX}:group:{id}")
}

/// Camera roles (entry, exit, both), which session reports depend on.
pub fn cameras() -> String {
    format!("{PREFIX}:cameras")
}

/// The enrolled templates, of every model: bumped by each enrolment, erasure and import, so that
/// a recognizer can tell whether its gallery has seen every change. Never holds data.
pub fn gallery() -> String {
    format!("{PREFIX}:gallery")
}

/// One session's report: a schedule on a local date.
pub fn session(schedule_id: &str, date: NaiveDate) -> String {
    format!("{PREFIX}:session:{schedule_id}:{date}")
}

/// The prefix of every report of one schedule, whatever its date and generations.
pub fn session_reports_of(schedule_id: &str) -> String {
    format!("{PREFIX}:session:{schedule_id}:")
}

/// One person's session history.
pub fn person_sessions(id: &str) -> String {
    format!("{PREFIX}:person-sessions:{id}")
}

/// The key under which a reader caches `key` when it depends on several generations.
pub fn versioned_by(key: &str, generations: &[i64]) -> String {
    let joined: Vec<String> = generations.iter().map(i64::to_string).collect();
    format!("{key}@{}", joined.join("."))
}

pub fn stats(kind: &str, day: NaiveDate) -> String {
    format!("{PREFIX}:stats:{kind}:{day}")
}

/// The key under which a reader caches `key` at `generation`.
pub fn versioned(key: &str, generation: i64) -> String {
    // One format for both: invalidation deletes exactly what single-key readers wrote.
    versioned_by(key, &[generation])
}

/// The keys whose data changes when these (person, day) rows change: each day's list and
/// daily stats, and each person's record. Sorted, without repeats.
pub fn affected_by(rows: &[(String, NaiveDate)]) -> Vec<String> {
    let mut keys: Vec<String> = rows
        .iter()
        .flat_map(|(person_id, day)| [attendance_day(*day), stats("daily", *day), person(person_id)])
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_design() {
        let day: NaiveDate = "2026-11-22".parse().unwrap();
        assert_eq!(attendance_day(day), "rollcall:v1:attendance:day:2026-11-22");
        assert_eq!(person("obama"), "rollcall:v1:person:obama");
        assert_eq!(stats("daily", day), "rollcall:v1:stats:daily:2026-11-22");
        assert_eq!(versioned(&person("obama"), 3), "rollcall:v1:person:obama@3");
        assert_eq!(
            versioned_by(&session("maths", day), &[4, 0, 7]),
            "rollcall:v1:session:maths:2026-11-22@4.0.7"
        );
        let rows = vec![("a".to_string(), day), ("b".to_string(), day)];
        assert_eq!(affected_by(&rows).len(), 4, "one day key, one stats key, two people");
    }
}
