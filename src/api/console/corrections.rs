//! Attendance corrections in the console: a person's events of a day, each of which an admin can
//! take back with a reason, and a missed arrival added by hand. The API's own handlers decide.

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use chrono::{NaiveDate, NaiveDateTime, Utc};
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use super::page::{self, Section, field, frame, respond, token};
use super::session::{AdminForm, Signed, urlencoded};
use crate::api::Shared;
use crate::api::corrections::{self as api, AdditionRequest, EventsQuery, RetractionRequest};
use crate::api::error::ApiError;
use crate::api::extract::{Body, Params, PathParams};

#[derive(Debug, Default, Deserialize)]
pub struct EventsPageQuery {
    #[serde(default)]
    pub person: String,
    pub day: Option<NaiveDate>,
    pub notice: Option<String>,
}

pub async fn page(state: Shared, signed: Signed, Query(q): Query<EventsPageQuery>) -> Response {
    let notice = match q.notice.as_deref() {
        Some("retracted") => Some("Taken back: the reports are recomputed from the events left."),
        Some("added") => Some("Added."),
        _ => None,
    };
    render(
        &state,
        &signed,
        &q.person,
        q.day.unwrap_or_else(|| Utc::now().date_naive()),
        notice,
        None,
    )
    .await
}

async fn render(
    state: &Shared,
    signed: &Signed,
    person: &str,
    day: NaiveDate,
    notice: Option<&str>,
    error: Option<ApiError>,
) -> Response {
    let events = match api::events(
        state.clone(),
        PathParams(person.to_owned()),
        Params(EventsQuery { day }),
    )
    .await
    {
        Ok(Json(events)) => events,
        Err(e) => return page::api_error_page(Some(signed), e),
    };
    let status = error.as_ref().map_or(StatusCode::OK, |e| e.status);
    let body = html! {
        (page::notice(notice))
        @if let Some(error) = &error { p class="error" role="alert" id="correction-error" { (error.message) } }
        p { "Events of " a href={ "/console/people/" (person) } { (person) } " on " (day) " (UTC)." }
        @if events.is_empty() { p { "No events that day." } } @else {
            div class="scroll" { table id="events" {
                thead { tr { th scope="col" { "Seen at" } th scope="col" { "Camera" } th scope="col" { "How" } @if signed.is_admin() { th scope="col" { "Take back" } } } }
                tbody { @for e in &events { tr data-event=(e.event_id) {
                    td { (e.seen_at.format("%H:%M:%S")) }
                    td { (e.camera_id) }
                    td { @if e.manual { "added by hand" } @else { "camera, similarity " (format!("{:.2}", e.similarity)) } }
                    @if signed.is_admin() { td {
                        form method="post" action="/console/review/retractions" {
                            (token(signed))
                            input type="hidden" name="event_id" value=(e.event_id);
                            input type="hidden" name="person" value=(person);
                            input type="hidden" name="day" value=(day);
                            label for={ "reason-" (e.event_id) } { "Reason" }
                            input id={ "reason-" (e.event_id) } type="text" name="reason" required;
                            button type="submit" class="danger" { "Take back" }
                        }
                    } }
                } } }
            } }
        }
        @if signed.is_admin() {
            section aria-labelledby="add-heading" {
                h2 id="add-heading" { "Add a missed arrival" }
                form method="post" action="/console/review/additions" {
                    (token(signed))
                    input type="hidden" name="person" value=(person);
                    (field("add_time", "When (UTC)", "datetime-local", "seen_at", "", None, true))
                    (field("add_camera", "Camera id (optional)", "text", "camera_id", "", None, false))
                    (field("add_reason", "Reason", "text", "reason", "", None, true))
                    button type="submit" { "Add" }
                }
            }
        }
    };
    respond(
        status,
        frame(Some(signed), "Attendance corrections", Some(Section::Review), body),
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct RetractForm {
    pub event_id: Option<Uuid>,
    #[serde(default)]
    pub person: String,
    pub day: Option<NaiveDate>,
    #[serde(default)]
    pub reason: String,
}

pub async fn retract(state: Shared, AdminForm { signed, form }: AdminForm<RetractForm>) -> Response {
    let day = form.day.unwrap_or_else(|| Utc::now().date_naive());
    let Some(event_id) = form.event_id else {
        let missing = ApiError::bad_request("invalid_body", "which event to take back is missing");
        return render(&state, &signed, &form.person, day, None, Some(missing)).await;
    };
    let request = RetractionRequest {
        event_id,
        reason: form.reason,
    };
    match api::retract(state.clone(), Extension(signed.caller.clone()), Body(request)).await {
        Ok(_) => back(&form.person, day, "retracted"),
        Err(error) => render(&state, &signed, &form.person, day, None, Some(error)).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    pub person: String,
    #[serde(default)]
    pub seen_at: String,
    #[serde(default)]
    pub camera_id: String,
    #[serde(default)]
    pub reason: String,
}

pub async fn add(state: Shared, AdminForm { signed, form }: AdminForm<AddForm>) -> Response {
    // A browser's date-time field has no zone and maybe no seconds; the page says UTC.
    let seen_at = NaiveDateTime::parse_from_str(&form.seen_at, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(&form.seen_at, "%Y-%m-%dT%H:%M:%S"))
        .map(|t| t.and_utc());
    let today = Utc::now().date_naive();
    let Ok(seen_at) = seen_at else {
        let error = ApiError::bad_request(
            "invalid_body",
            format!("time {:?} is not a date and time", form.seen_at),
        );
        return render(&state, &signed, &form.person, today, None, Some(error)).await;
    };
    let request = AdditionRequest {
        person_id: form.person.clone(),
        seen_at,
        camera_id: Some(form.camera_id.trim().to_owned()).filter(|c| !c.is_empty()),
        reason: form.reason,
    };
    match api::add(state.clone(), Extension(signed.caller.clone()), Body(request)).await {
        Ok(_) => back(&form.person, seen_at.date_naive(), "added"),
        Err(error) => render(&state, &signed, &form.person, seen_at.date_naive(), None, Some(error)).await,
    }
}

fn back(person: &str, day: NaiveDate, notice: &str) -> Response {
    Redirect::to(&format!(
        "/console/review/corrections?person={}&day={day}&notice={notice}",
        urlencoded(person)
    ))
    .into_response()
}
