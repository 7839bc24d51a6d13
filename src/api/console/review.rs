//! Review in the console: unknown faces by cluster with their crops, assigned to a person one
//! cluster or several at a time, or dismissed; doubtful matches confirmed or marked "not this
//! person". Every decision is the API's own handler.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::page::{self, Section, field, frame, respond, token};
use super::session::{AdminForm, NoFields, Signed};
use crate::api::error::ApiError;
use crate::api::extract::{Body, Params, PathParams};
use crate::api::review::{self as api, ClustersQuery};
use crate::api::review_decisions::{self as decisions, AssignmentRequest, NotPersonRequest};
use crate::api::review_matches::{self as matches, LowConfidenceMatch, MatchesQuery};
use crate::api::{ApiState, Shared};

/// Crops shown per cluster: enough to recognise someone, few enough for a phone.
const CROPS_SHOWN: usize = 6;

#[derive(Debug, Default, Deserialize)]
pub struct ReviewQuery {
    pub notice: Option<String>,
}

fn notice_text(code: Option<&str>) -> Option<&'static str> {
    match code? {
        "dismissed" => Some("Dismissed."),
        "confirmed" => Some("Confirmed."),
        "not-person" => Some("Kept as not that person."),
        _ => None,
    }
}

pub async fn page(State(state): Shared, signed: Signed, Query(q): Query<ReviewQuery>) -> Response {
    render(&state, &signed, notice_text(q.notice.as_deref()), None).await
}

/// The page, with the outcome of an assignment or the API's error about it.
async fn render(state: &ApiState, signed: &Signed, notice: Option<&str>, assign_error: Option<ApiError>) -> Response {
    let open = ClustersQuery {
        status: None,
        limit: None,
    };
    let clusters = match api::clusters(State(state.clone()), Params(open)).await {
        Ok(Json(clusters)) => clusters,
        Err(e) => return page::api_error_page(Some(signed), e),
    };
    let mut faces = Vec::with_capacity(clusters.len());
    for cluster in &clusters {
        match api::cluster(State(state.clone()), PathParams(cluster.cluster_id.to_string())).await {
            Ok(Json(found)) => faces.push(found.faces),
            Err(e) => return page::api_error_page(Some(signed), e),
        }
    }
    let doubtful = MatchesQuery {
        person_id: None,
        limit: None,
    };
    let doubtful = match matches::matches(State(state.clone()), Params(doubtful)).await {
        Ok(Json(found)) => found,
        Err(e) => return page::api_error_page(Some(signed), e),
    };
    let status = assign_error.as_ref().map_or(StatusCode::OK, |e| e.status);
    let body = html! {
        (page::notice(notice))
        section aria-labelledby="unknown-heading" {
            h2 id="unknown-heading" { "Unknown faces" }
            @if clusters.is_empty() { p { "Nothing waits for review." } }
            @if signed.is_admin() && !clusters.is_empty() {
                form id="assign" method="post" action="/console/review/assign" {
                    (token(signed))
                    (field("assign_person", "Assign the ticked clusters to person id", "text", "person_id", "", assign_error.as_ref().map(|e| e.message.as_str()), true))
                    button type="submit" { "Assign" }
                }
            }
            @for (cluster, faces) in clusters.iter().zip(&faces) {
                article class="cluster" aria-labelledby={ "c-" (cluster.cluster_id) } data-cluster=(cluster.cluster_id) {
                    h3 id={ "c-" (cluster.cluster_id) } {
                        (cluster.size) " face(s), " (cluster.first_seen.format("%Y-%m-%d %H:%M")) " to " (cluster.last_seen.format("%H:%M")) " UTC"
                        @if cluster.flagged { " — keeps coming" }
                    }
                    div class="crops" {
                        @for face in faces.iter().filter(|f| f.crop_url.is_some()).take(CROPS_SHOWN) {
                            img src={ "/console/review/faces/" (face.face_id) "/crop" } alt={ "Face seen by " (face.camera_id) " at " (face.seen_at.format("%H:%M:%S")) };
                        }
                    }
                    @if signed.is_admin() {
                        label class="pick" {
                            input type="checkbox" form="assign" name={ "cluster_" (cluster.cluster_id) } value="on";
                            " Tick to assign"
                        }
                        form method="post" action={ "/console/review/clusters/" (cluster.cluster_id) "/dismiss" } {
                            (token(signed))
                            button type="submit" class="secondary" { "Dismiss" }
                        }
                    }
                }
            }
        }
        (doubtful_matches(signed, &doubtful))
        section aria-labelledby="corrections-heading" {
            h2 id="corrections-heading" { "Attendance corrections" }
            form method="get" action="/console/review/corrections" class="search" {
                (field("correct_person", "Person id", "text", "person", "", None, true))
                (field("correct_day", "Day", "date", "day", "", None, true))
                button type="submit" { "Show their events" }
            }
        }
    };
    respond(status, frame(Some(signed), "Review", Some(Section::Review), body))
}

fn doubtful_matches(signed: &Signed, doubtful: &[LowConfidenceMatch]) -> Markup {
    html! {
        section aria-labelledby="doubtful-heading" {
            h2 id="doubtful-heading" { "Doubtful matches" }
            @if doubtful.is_empty() { p { "None." } }
            @for m in doubtful {
                article class="match" data-face=(m.face_id) {
                    @if m.crop_url.is_some() {
                        img src={ "/console/review/faces/" (m.face_id) "/crop" } alt={ "Face taken for " (m.person_id) };
                    }
                    p { "Taken for " a href={ "/console/people/" (m.person_id) } { (m.person_id) } " by " (m.camera_id) " at " (m.seen_at.format("%Y-%m-%d %H:%M:%S")) " UTC" @if let Some(d) = m.distance { " (distance " (format!("{d:.3}")) ")" } }
                    @if signed.is_admin() {
                        form method="post" action={ "/console/review/matches/" (m.face_id) "/confirm" } {
                            (token(signed))
                            button type="submit" { "It is " (m.person_id) }
                        }
                        form method="post" action={ "/console/review/faces/" (m.face_id) "/not-person" } {
                            (token(signed))
                            input type="hidden" name="person_id" value=(m.person_id);
                            button type="submit" class="secondary" { "Not this person" }
                        }
                    }
                }
            }
        }
    }
}

/// The assignment form: a person id, and one `cluster_<id>` field per ticked cluster.
#[derive(Debug, Default, Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    pub person_id: String,
    #[serde(flatten)]
    pub ticked: BTreeMap<String, String>,
}

pub async fn assign(State(state): Shared, AdminForm { signed, form }: AdminForm<AssignForm>) -> Response {
    let clusters: Vec<Uuid> = form
        .ticked
        .keys()
        .filter_map(|name| name.strip_prefix("cluster_"))
        .filter_map(|id| Uuid::parse_str(id).ok())
        .collect();
    let request = AssignmentRequest {
        clusters,
        faces: Vec::new(),
        person_id: form.person_id.trim().to_owned(),
        new_person_name: None,
    };
    match decisions::assign(State(state.clone()), Extension(signed.caller.clone()), Body(request)).await {
        Ok((_, Json(done))) => {
            let text = format!("{} face(s) now enrol {}.", done.templates_added, done.person_id);
            render(&state, &signed, Some(&text), None).await
        }
        Err(error) => render(&state, &signed, None, Some(error)).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    pub person_id: String,
}

pub async fn dismiss(
    State(state): Shared,
    Path(id): Path<String>,
    AdminForm { signed, .. }: AdminForm<NoFields>,
) -> Response {
    decided(
        &signed,
        decisions::dismiss(State(state), Extension(signed.caller.clone()), PathParams(id))
            .await
            .map(|_| ()),
        "dismissed",
    )
}

pub async fn confirm(
    State(state): Shared,
    Path(id): Path<String>,
    AdminForm { signed, .. }: AdminForm<NoFields>,
) -> Response {
    decided(
        &signed,
        matches::confirm(State(state), Extension(signed.caller.clone()), PathParams(id))
            .await
            .map(|_| ()),
        "confirmed",
    )
}

pub async fn not_person(
    State(state): Shared,
    Path(id): Path<String>,
    AdminForm { signed, form }: AdminForm<DecisionForm>,
) -> Response {
    let request = NotPersonRequest {
        person_id: form.person_id,
    };
    let done = decisions::face_not_person(
        State(state),
        Extension(signed.caller.clone()),
        PathParams(id),
        Body(request),
    )
    .await;
    decided(&signed, done.map(|_| ()), "not-person")
}

fn decided(signed: &Signed, done: Result<(), ApiError>, notice: &str) -> Response {
    match done {
        Ok(()) => Redirect::to(&format!("/console/review?notice={notice}")).into_response(),
        Err(e) => page::api_error_page(Some(signed), e),
    }
}

/// A face's crop, as the API serves it.
pub async fn crop(State(state): Shared, _signed: Signed, Path(id): Path<String>) -> Response {
    match api::crop(State(state), PathParams(id)).await {
        Ok(jpeg) => jpeg.into_response(),
        Err(e) => e.into_response(),
    }
}
