//! Sessions in the console: a schedule's recent sessions, and a session's report (present, late,
//! left early, absent) with its CSV download, both from the API's own handlers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use maud::html;

use super::page::{self, Section, frame, respond};
use super::session::Signed;
use crate::api::extract::{Params, PathParams};
use crate::api::schedules::{self as api, DatesQuery, ReportQuery};
use crate::api::{ApiState, Shared};
use crate::domain::dates::Day;
use crate::timetable::Status;

fn time(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "—".to_owned(), |t| t.format("%H:%M").to_string())
}

/// A schedule's sessions of the last 30 days, newest first.
pub async fn schedule(State(state): Shared, signed: Signed, Path(id): Path<String>) -> Response {
    let spec = match api::show_schedule(State(state.clone()), PathParams(id.clone())).await {
        Ok(axum::Json(spec)) => spec,
        Err(e) => return page::api_error_page(Some(&signed), e),
    };
    let recent = DatesQuery { from: None, to: None };
    let dates = match api::sessions(State(state), PathParams(id.clone()), Params(recent)).await {
        Ok(axum::Json(dates)) => dates,
        Err(e) => return page::api_error_page(Some(&signed), e),
    };
    let group = spec.group_id.clone().unwrap_or_default();
    let body = html! {
        p { (super::schedule_form::describe(&spec)) ", for " a href={ "/console/groups/" (group) } { "group " (group) } "." }
        h2 { "Sessions, last 30 days" }
        @if dates.is_empty() { p { "No session in the last 30 days." } }
        ul { @for d in dates.iter().rev() {
            li { a href={ "/console/schedules/" (id) "/sessions/" (d.date) } { (d.date) } " (" (d.starts_at.format("%H:%M")) "–" (d.ends_at.format("%H:%M")) " UTC)" }
        } }
    };
    let title = spec.name.clone().unwrap_or(id);
    respond(
        StatusCode::OK,
        frame(Some(&signed), &title, Some(Section::Groups), body),
    )
}

pub async fn report(State(state): Shared, signed: Signed, Path((id, Day(date))): Path<(String, Day)>) -> Response {
    let report = match api::report_of(&State(state.clone()), &id, date)
        .await
        .and_then(|r| r.decode())
    {
        Ok(report) => report,
        Err(e) => return page::api_error_page(Some(&signed), e),
    };
    let c = &report.counts;
    let body = html! {
        p { (report.start) "–" (report.end) " " (report.time_zone) ", group " a href={ "/console/groups/" (report.group_id) } { (report.group_id) } ", " (format!("{:?}", report.phase).to_lowercase()) "." }
        p class="summary" { "Present " strong { (c.present) } ", late " strong { (c.late) } ", left early " strong { (c.left_early) } ", absent " strong { (c.absent) } "." }
        p { a href={ "/console/schedules/" (id) "/sessions/" (date) "/csv" } download { "Download as CSV" } }
        div class="scroll" { table id="report" {
            caption { "Everyone on the roster" }
            thead { tr { th scope="col" { "Person" } th scope="col" { "Status" } th scope="col" { "Arrived (UTC)" } th scope="col" { "Left (UTC)" } th scope="col" { "Minutes present" } } }
            tbody { @for p in &report.people { tr data-person=(p.person_id) {
                td { a href={ "/console/people/" (p.person_id) } { (p.person_id) } }
                td class="status" { (status_text(p.status, p.late_minutes, p.left_early_minutes)) }
                td { (time(p.arrived_at)) }
                td { (time(p.left_at)) }
                td { (p.present_minutes) }
            } } }
        } }
    };
    let title = format!("{} on {}", report.schedule_name, report.date);
    respond(
        StatusCode::OK,
        frame(Some(&signed), &title, Some(Section::Groups), body),
    )
}

fn status_text(status: Status, late: Option<i64>, early: Option<i64>) -> String {
    match status {
        Status::Late => format!("late by {} min", late.unwrap_or_default()),
        Status::LeftEarly => format!("left early by {} min", early.unwrap_or_default()),
        other => other.as_str().replace('_', " "),
    }
}

/// The report as the API's CSV, with its file name.
pub async fn csv(State(state): State<ApiState>, signed: Signed, Path((id, date)): Path<(String, Day)>) -> Response {
    let format = ReportQuery {
        format: Some("csv".into()),
    };
    match api::session_report(State(state), PathParams((id, date)), Params(format)).await {
        Ok(response) => response,
        Err(e) => page::api_error_page(Some(&signed), e),
    }
}
