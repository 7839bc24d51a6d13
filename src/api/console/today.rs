//! Today in the console: who is in and since when, counts per camera, and arrivals as they
//! happen: the page listens to server-sent events fed by the live attendance events on NATS.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use futures::{Stream, StreamExt};
use maud::html;
use serde::{Deserialize, Serialize};

use super::board;
use super::page::{self, Section, frame, respond};
use super::session::Signed;
use crate::api::dto::{AttendanceDay, PageQuery};
use crate::api::extract::{Params, PathParams};
use crate::api::{ApiState, Shared, attendance, cameras, people};
use crate::domain::AttendanceEvent;
use crate::domain::dates::Day;
use crate::ingest::status::CameraStatus;

#[derive(Debug, Default, Deserialize)]
pub struct TodayQuery {
    pub day: Option<NaiveDate>,
}

pub async fn page(state: Shared, signed: Signed, Query(q): Query<TodayQuery>) -> Response {
    let day = q.day.unwrap_or_else(|| Utc::now().date_naive());
    let stats = match attendance::daily_stats(state.clone(), PathParams(Day(day)))
        .await
        .and_then(|s| s.decode())
    {
        Ok(stats) => stats,
        Err(e) => return page::api_error_page(Some(&signed), e),
    };
    let everyone = PageQuery {
        cursor: None,
        limit: Some(state.config.max_page_size),
    };
    let listed = attendance::day(state.clone(), PathParams(Day(day)), Params(everyone)).await;
    let mut arrivals: Vec<AttendanceDay> = match listed.and_then(|p| p.decode()) {
        Ok(page) => page.items,
        Err(e) => return page::api_error_page(Some(&signed), e),
    };
    arrivals.sort_by_key(|a| std::cmp::Reverse(a.first_seen));
    let cameras = match cameras::list(state.clone()).await {
        Ok(axum::Json(cameras)) => cameras,
        Err(e) => return page::api_error_page(Some(&signed), e),
    };
    let now = Utc::now();
    let is_today = day == now.date_naive();
    let live = is_today && state.services.nats.is_some();
    let count_of = |camera: &str| stats.per_camera.iter().find(|c| c.camera_id == camera);
    let body = html! {
        p class="summary" { "Present on " (day) ": " strong id="present" { (stats.present) } " (times in UTC)" }
        @if is_today {
            p id="live-status" role="status" data-live=[live.then_some("/console/today/live")] {
                @if live { "Connecting to live arrivals…" } @else { "Live arrivals need NATS (nats.url); reload for news." }
            }
        }
        section aria-labelledby="cameras-heading" {
            h2 id="cameras-heading" { "Cameras" }
            div class="scroll" { table {
                thead { tr { th scope="col" { "Camera" } th scope="col" { "State" } th scope="col" { "Role" } th scope="col" { "People" } th scope="col" { "Sightings" } th scope="col" { "Last sighting" } } }
                tbody id="cameras" {
                    @for camera in &cameras {
                        @let (camera_state, said) = board::describe(state.camera_board.get(&camera.id).as_ref(), now);
                        tr data-camera=(camera.id) {
                            td { (camera.name) " " code { (camera.id) } }
                            td class="state" data-state=(camera_state) { (said) }
                            td { (camera.role) }
                            td class="people" { (count_of(&camera.id).map_or(0, |c| c.people)) }
                            td class="events" { (count_of(&camera.id).map_or(0, |c| c.events)) }
                            td class="last" { "—" }
                        }
                    }
                }
            } }
        }
        section aria-labelledby="arrivals-heading" {
            h2 id="arrivals-heading" { "Arrivals" }
            div class="scroll" { table {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Arrived" } th scope="col" { "Last seen" } th scope="col" { "Camera" } } }
                tbody id="arrivals" aria-live="polite" {
                    @for a in &arrivals {
                        tr data-person=(a.person_id) {
                            td { a href={ "/console/people/" (a.person_id) } { (a.display_name) } }
                            td class="first" { (a.first_seen.format("%H:%M:%S")) }
                            td class="last" { (a.last_seen.format("%H:%M:%S")) }
                            td class="camera" { (a.first_camera) }
                        }
                    }
                }
            } }
            @if arrivals.is_empty() { p id="nobody" { "Nobody yet." } }
        }
        script src="/console/assets/today.js" defer {}
    };
    respond(
        StatusCode::OK,
        frame(Some(&signed), "Today", Some(Section::Today), body),
    )
}

/// What the page is told of a sighting; the page turns it into a row (as text, never as HTML).
#[derive(Debug, Serialize)]
struct Sighting {
    person_id: String,
    display_name: String,
    camera_id: String,
    time: String,
}

/// The live attendance events of every camera as server-sent events, while the page is open.
pub async fn live(State(state): Shared, _signed: Signed) -> Response {
    let Some(nats) = state.services.nats.clone() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "live arrivals need NATS (nats.url)").into_response();
    };
    let subscribed = futures::future::try_join(
        nats.client().subscribe(nats.live_subjects()),
        nats.client().subscribe(nats.camera_status_subjects()),
    )
    .await;
    let (sightings, cameras) = match subscribed {
        Ok(both) => both,
        Err(e) => {
            return page::api_error_page(
                None,
                crate::api::error::ApiError::internal("subscribing to live events", e),
            );
        }
    };
    let sightings = sightings.filter_map(move |message| {
        let state = state.clone();
        async move {
            let event: AttendanceEvent = serde_json::from_slice(&message.payload).ok()?;
            Some(Ok::<_, Infallible>(sighting_event(&state, event).await))
        }
    });
    let cameras = cameras.filter_map(|message| async move {
        let status: CameraStatus = serde_json::from_slice(&message.payload).ok()?;
        Some(Ok::<_, Infallible>(camera_event(&status)))
    });
    Sse::new(opened().chain(futures::stream::select(sightings, cameras)))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// Tells the page the subscription is in place, so nothing it shows can predate it unnoticed.
fn opened() -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::once(async { Ok(Event::default().event("ready").data("live")) })
}

/// A camera's new state, in the words of the page's State column.
fn camera_event(status: &CameraStatus) -> Event {
    let (state, said) = board::describe(Some(status), Utc::now());
    let data = serde_json::json!({ "camera_id": status.camera_id, "state": state, "text": said });
    Event::default().event("camera").data(data.to_string())
}

async fn sighting_event(state: &ApiState, event: AttendanceEvent) -> Event {
    let person_id = event.person_id.to_string();
    // The cached read the API serves; an unknown or erased person shows by id.
    let display_name = people::show(State(state.clone()), PathParams(person_id.clone()))
        .await
        .and_then(|p| p.decode())
        .map_or_else(|_| person_id.clone(), |p| p.display_name);
    let sighting = Sighting {
        person_id,
        display_name,
        camera_id: event.camera_id.to_string(),
        time: event.seen_at.format("%H:%M:%S").to_string(),
    };
    Event::default()
        .event("sighting")
        .json_data(&sighting)
        .unwrap_or_else(|_| Event::default().comment("unserialisable sighting"))
}
