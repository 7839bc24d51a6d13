//! The web console: pages for the people who run attendance, served by `rollcall serve` beside
//! the API. Server-rendered HTML (maud, escaped by default) and plain forms, with one small
//! script for the live arrivals; no build step. Signed in with an API key exchanged for a session
//! cookie; every action calls the API's own handler with the session's key, so the console
//! can do exactly what the key can do through the API, with the same checks and messages.

mod audit;
pub mod board;
mod corrections;
mod groups;
mod page;
mod people;
mod person;
mod reports;
mod review;
mod schedule_form;
mod session;
mod today;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::ApiState;

/// Every console route, under `/console`.
pub fn router(state: ApiState) -> Router<ApiState> {
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/today") }))
        .route("/console/sign-in", get(session::sign_in_page).post(session::sign_in))
        .route("/console/sign-out", post(session::sign_out))
        .route("/console/today", get(today::page))
        .route("/console/today/live", get(today::live))
        .route("/console/people", get(people::list).post(people::create))
        .route("/console/people/{id}", get(person::show))
        .route("/console/people/{id}/name", post(person::rename))
        .route("/console/people/{id}/photos", post(person::enrol))
        .route("/console/people/{id}/erase", post(person::erase))
        .route("/console/groups", get(groups::list).post(groups::create))
        .route("/console/groups/{id}", get(groups::show))
        .route("/console/groups/{id}/members", post(groups::add_member))
        .route(
            "/console/groups/{id}/members/{person_id}/remove",
            post(groups::remove_member),
        )
        .route("/console/groups/{id}/schedules", post(schedule_form::create))
        .route("/console/schedules/{id}", get(reports::schedule))
        .route("/console/schedules/{id}/sessions/{date}", get(reports::report))
        .route("/console/schedules/{id}/sessions/{date}/csv", get(reports::csv))
        .route("/console/review", get(review::page))
        .route("/console/review/assign", post(review::assign))
        .route("/console/review/clusters/{id}/dismiss", post(review::dismiss))
        .route("/console/review/matches/{id}/confirm", post(review::confirm))
        .route("/console/review/faces/{id}/not-person", post(review::not_person))
        .route("/console/review/faces/{id}/crop", get(review::crop))
        .route("/console/review/corrections", get(corrections::page))
        .route("/console/review/retractions", post(corrections::retract))
        .route("/console/review/additions", post(corrections::add))
        .route("/console/audit", get(audit::page))
        .route("/console/assets/{file}", get(asset))
        .route_layer(from_fn_with_state(state, super::limits::read_body_within))
        .layer(from_fn(protect))
}

/// Headers every console answer carries: scripts, styles and form targets from the console
/// only, no framing, no caching of pages that show people, no sniffing.
async fn protect(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// The stylesheet and the script, built into the binary.
async fn asset(State(_): State<ApiState>, Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "console.css" => (include_str!("assets/console.css"), "text/css; charset=utf-8"),
        "today.js" => (include_str!("assets/today.js"), "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "no such file").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}
