//! The console's form for a group's schedule: a once-only or weekly session, its times, time
//! zone and grace period, turned into the API's schedule and created by the API's handler.

use axum::Extension;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::Deserialize;

use super::groups::{GroupOutcome, render_group};
use super::page::{field, token};
use super::session::{AdminForm, Signed};
use crate::api::error::ApiError;
use crate::api::extract::{Body, PathParams};
use crate::api::{Shared, schedules};
use crate::timetable::spec::ScheduleSpec;

const WEEKDAYS: [(&str, &str); 7] = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
];

/// The form as sent: every field text, so that what was typed can be shown again with the error.
#[derive(Debug, Default, Deserialize)]
pub struct ScheduleForm {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub date: String,
    /// One field per weekday (`day_mon`, …), present when ticked: a name per box keeps the
    /// form a plain map of names to values.
    #[serde(flatten)]
    pub days: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub start: String,
    #[serde(default)]
    pub end: String,
    #[serde(default)]
    pub time_zone: String,
    #[serde(default)]
    pub grace_minutes: String,
}

impl ScheduleForm {
    fn ticked_days(&self) -> Vec<String> {
        WEEKDAYS
            .iter()
            .filter(|(day, _)| self.days.contains_key(&format!("day_{day}")))
            .map(|(day, _)| (*day).to_owned())
            .collect()
    }

    /// The API's schedule; a field the API would not parse gets the API's kind of message.
    fn spec(&self) -> Result<ScheduleSpec, ApiError> {
        let invalid = |m: String| ApiError::bad_request("invalid_schedule", m);
        let date = match self.date.trim() {
            "" => None,
            d => Some(
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| invalid(format!("date {d:?} is not YYYY-MM-DD")))?,
            ),
        };
        let grace_minutes = match self.grace_minutes.trim() {
            "" => None,
            g => Some(
                g.parse()
                    .map_err(|_| invalid(format!("grace minutes {g:?} is not a whole number")))?,
            ),
        };
        Ok(ScheduleSpec {
            id: Some(self.id.trim().to_owned()).filter(|i| !i.is_empty()),
            group_id: None,
            name: Some(self.name.trim().to_owned()).filter(|n| !n.is_empty()),
            kind: self.kind.clone(),
            date,
            days: self.ticked_days(),
            from: None,
            until: None,
            start: self.start.clone(),
            end: self.end.clone(),
            ends_next_day: false,
            time_zone: self.time_zone.trim().to_owned(),
            cameras: Vec::new(),
            locations: Vec::new(),
            grace_minutes,
            early_leave_minutes: None,
            window_minutes: None,
            version: None,
        })
    }
}

/// A schedule in a few words: when, where in time, with what grace.
pub fn describe(s: &ScheduleSpec) -> String {
    let when = match (s.kind.as_str(), s.date) {
        ("once", Some(date)) => format!("on {date}"),
        _ => format!("every {}", s.days.join(", ")),
    };
    let grace = s.grace_minutes.map_or(String::new(), |g| format!(", {g} min grace"));
    format!("{when}, {}–{} {}{grace}", s.start, s.end, s.time_zone)
}

pub fn form(signed: &Signed, group_id: &str, attempt: Option<(&ScheduleForm, &ApiError)>) -> Markup {
    let empty = ScheduleForm {
        kind: "weekly".into(),
        time_zone: "UTC".into(),
        ..ScheduleForm::default()
    };
    let (typed, error) = attempt.map_or((&empty, None), |(f, e)| (f, Some(e)));
    let id_error = error
        .filter(|e| e.code == "invalid_id" || e.code == "conflict")
        .map(|e| e.message.as_str());
    let other = error.filter(|_| id_error.is_none()).map(|e| e.message.as_str());
    html! {
        form method="post" action={ "/console/groups/" (group_id) "/schedules" } class="schedule" {
            h3 { "Add a schedule" }
            (token(signed))
            (field("schedule_id", "Id", "text", "id", &typed.id, id_error, true))
            (field("schedule_name", "Name", "text", "name", &typed.name, None, false))
            div class="field" {
                label for="schedule_kind" { "Repeats" }
                select id="schedule_kind" name="kind" {
                    option value="weekly" selected[typed.kind == "weekly"] { "Weekly, on the days ticked" }
                    option value="once" selected[typed.kind == "once"] { "Once, on the date given" }
                }
            }
            (field("schedule_date", "Date (once)", "date", "date", &typed.date, None, false))
            fieldset {
                legend { "Days (weekly)" }
                @for (value, label) in WEEKDAYS {
                    label class="day" {
                        input type="checkbox" name={ "day_" (value) } value="on" checked[typed.days.contains_key(&format!("day_{value}"))];
                        " " (label)
                    }
                }
            }
            (field("schedule_start", "Starts (HH:MM)", "time", "start", &typed.start, None, true))
            (field("schedule_end", "Ends (HH:MM)", "time", "end", &typed.end, None, true))
            (field("schedule_time_zone", "Time zone (e.g. Europe/London)", "text", "time_zone", &typed.time_zone, None, true))
            (field("schedule_grace", "Grace period, minutes", "number", "grace_minutes", &typed.grace_minutes, None, false))
            @if let Some(other) = other { p class="error" id="schedule-error" role="alert" { (other) } }
            button type="submit" { "Add schedule" }
        }
    }
}

pub async fn create(
    state: Shared,
    Path(group_id): Path<String>,
    AdminForm { signed, form }: AdminForm<ScheduleForm>,
) -> Response {
    let created = match form.spec() {
        Ok(spec) => {
            schedules::create_schedule(
                state.clone(),
                Extension(signed.caller.clone()),
                PathParams(group_id.clone()),
                Body(spec),
            )
            .await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(_) => Redirect::to(&format!("/console/groups/{group_id}")).into_response(),
        Err(error) => {
            let outcome = GroupOutcome {
                schedule: Some((&form, error)),
                ..GroupOutcome::default()
            };
            render_group(&state, &signed, &group_id, outcome).await
        }
    }
}
