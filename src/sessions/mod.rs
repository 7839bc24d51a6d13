//! Attendance semantics on top of the events: groups' session reports (who was present, late, left
//! early or absent) computed from the stored events on every read, then cached, so a late,
//! repeated or replayed event and an edited schedule always give the answer the events say; and
//! the running sessions' metrics. The rules themselves are in `timetable`.

pub mod monitor;
pub mod report;

pub use crate::timetable::{PersonOutcome, Phase, Schedule, Sighting, Status};
