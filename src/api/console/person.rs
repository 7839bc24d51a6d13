//! One person in the console: their attendance of the last 30 days, and for admins enrolment by
//! uploading photos (each photo's result shown), renaming, and erasure after a confirmation.
//! Every action is the API's own handler, with the API's checks, audit and messages.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use maud::{Markup, html};
use serde::Deserialize;

use super::page::{self, Section, field, frame, respond, token};
use super::session::{AdminForm, Signed, refuse_unless_admin_form, urlencoded};
use crate::api::dto::{EnrolmentRejected, EraseQuery, Person, PersonChanges, PhotoResult, RangeQuery};
use crate::api::error::ApiError;
use crate::api::extract::{Body, Params, PathParams};
use crate::api::people::{self as api, EnrolOutcome};
use crate::api::{Shared, attendance};

#[derive(Debug, Default, Deserialize)]
pub struct PersonQuery {
    pub notice: Option<String>,
}

/// What happened on the person's page just now.
#[derive(Default)]
struct Outcome {
    notice: Option<&'static str>,
    rename_error: Option<ApiError>,
    upload_error: Option<ApiError>,
    photos: Option<(String, Vec<PhotoResult>)>,
    status: Option<StatusCode>,
}

fn notice_text(code: Option<&str>) -> Option<&'static str> {
    match code? {
        "created" => Some("Added. Upload photos of their face to enrol them."),
        "renamed" => Some("Renamed."),
        _ => None,
    }
}

pub async fn show(state: Shared, signed: Signed, Path(id): Path<String>, Query(q): Query<PersonQuery>) -> Response {
    let outcome = Outcome {
        notice: notice_text(q.notice.as_deref()),
        ..Outcome::default()
    };
    render_person(&state, &signed, &id, outcome).await
}

async fn render_person(state: &Shared, signed: &Signed, id: &str, outcome: Outcome) -> Response {
    let person = match api::show(state.clone(), PathParams(id.to_owned()))
        .await
        .and_then(|p| p.decode())
    {
        Ok(person) => person,
        Err(e) => return page::api_error_page(Some(signed), e),
    };
    let range = RangeQuery { from: None, to: None };
    let days = match attendance::person(state.clone(), PathParams(id.to_owned()), Params(range))
        .await
        .and_then(|a| a.decode())
    {
        Ok(attendance) => attendance.days,
        Err(e) => return page::api_error_page(Some(signed), e),
    };
    let body = html! {
        (page::notice(outcome.notice))
        dl class="facts" {
            dt { "Id" } dd { code { (person.id) } }
            dt { "Photos enrolled" } dd { (person.templates) }
        }
        @if let Some((summary, photos)) = &outcome.photos { (photo_results(summary, photos)) }
        @if signed.is_admin() { (admin_forms(signed, &person, &outcome)) }
        section aria-labelledby="days-heading" {
            h2 id="days-heading" { "Attendance, last 30 days" }
            @if days.is_empty() { p { "Not seen in the last 30 days." } } @else {
                div class="scroll" { table {
                    thead { tr { th scope="col" { "Day" } th scope="col" { "First seen" } th scope="col" { "Last seen" } th scope="col" { "Camera" } } }
                    tbody { @for day in days.iter().rev() { tr {
                        td { (day.day) } td { (day.first_seen.format("%H:%M:%S")) } td { (day.last_seen.format("%H:%M:%S")) } td { (day.first_camera) }
                    } } }
                } }
            }
            p { a href={ "/console/audit?subject=" (urlencoded(&person.id)) } { "Audit trail of this person" } }
        }
    };
    respond(
        outcome.status.unwrap_or(StatusCode::OK),
        frame(Some(signed), &person.display_name, Some(Section::People), body),
    )
}

fn photo_results(summary: &str, photos: &[PhotoResult]) -> Markup {
    html! {
        section aria-labelledby="results-heading" class="results" {
            h2 id="results-heading" { "Upload results" }
            p role="status" { (summary) }
            ul { @for photo in photos {
                li class=(photo.status) { strong { (photo.file) } ": " (photo.status.replace('_', " ")) " — " (photo.message) }
            } }
        }
    }
}

fn admin_forms(signed: &Signed, person: &Person, outcome: &Outcome) -> Markup {
    let rename_error = outcome.rename_error.as_ref().map(|e| e.message.as_str());
    let upload_error = outcome.upload_error.as_ref().map(|e| e.message.as_str());
    html! {
        section aria-labelledby="enrol-heading" {
            h2 id="enrol-heading" { "Enrol photos" }
            form method="post" enctype="multipart/form-data"
                action={ "/console/people/" (person.id) "/photos?_token=" (urlencoded(&signed.form_token)) } {
                div class="field" {
                    label for="photos" { "Photos of their face (JPEG, PNG or WebP; one face each)" }
                    @if let Some(error) = upload_error {
                        input id="photos" type="file" name="photo" accept="image/jpeg,image/png,image/webp" multiple required aria-invalid="true" aria-describedby="photos-error";
                        p class="error" id="photos-error" role="alert" { (error) }
                    } @else {
                        input id="photos" type="file" name="photo" accept="image/jpeg,image/png,image/webp" multiple required;
                    }
                }
                button type="submit" { "Upload and enrol" }
            }
        }
        section aria-labelledby="rename-heading" {
            h2 id="rename-heading" { "Rename" }
            form method="post" action={ "/console/people/" (person.id) "/name" } {
                (token(signed))
                (field("display_name", "Display name", "text", "display_name", &person.display_name, rename_error, true))
                button type="submit" { "Rename" }
            }
        }
        section aria-labelledby="erase-heading" {
            h2 id="erase-heading" { "Erase" }
            form method="post" action={ "/console/people/" (person.id) "/erase" } {
                (token(signed))
                p { "Removes this person, their photos and (as configured) their attendance, for good." }
                button type="submit" class="danger" { "Erase…" }
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    pub display_name: String,
}

pub async fn rename(
    state: Shared,
    Path(id): Path<String>,
    AdminForm { signed, form }: AdminForm<RenameForm>,
) -> Response {
    let changes = PersonChanges {
        display_name: form.display_name,
    };
    match api::update(
        state.clone(),
        Extension(signed.caller.clone()),
        PathParams(id.clone()),
        Body(changes),
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/console/people/{id}?notice=renamed")).into_response(),
        Err(error) => {
            let outcome = Outcome {
                status: Some(error.status),
                rename_error: Some(error),
                ..Outcome::default()
            };
            render_person(&state, &signed, &id, outcome).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct UploadQuery {
    #[serde(default, rename = "_token")]
    pub token: String,
}

pub async fn enrol(
    state: Shared,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<UploadQuery>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    if let Some(refused) = refuse_unless_admin_form(&signed, &headers, &q.token) {
        return refused;
    }
    let outcome = match api::enrol_upload(&state, &signed.caller, &id, multipart).await {
        Ok(EnrolOutcome::Enrolled(done)) => Outcome {
            photos: Some((format!("{} photo(s) enrolled.", done.templates_added), done.photos)),
            ..Outcome::default()
        },
        Ok(EnrolOutcome::Rejected(EnrolmentRejected { error, photos })) => Outcome {
            photos: Some((error.message, photos)),
            status: Some(StatusCode::UNPROCESSABLE_ENTITY),
            ..Outcome::default()
        },
        Err(error) => Outcome {
            status: Some(error.status),
            upload_error: Some(error),
            ..Outcome::default()
        },
    };
    render_person(&state, &signed, &id, outcome).await
}

#[derive(Debug, Default, Deserialize)]
pub struct EraseForm {
    pub confirm: Option<String>,
}

pub async fn erase(
    State(state): Shared,
    Path(id): Path<String>,
    AdminForm { signed, form }: AdminForm<EraseForm>,
) -> Response {
    if form.confirm.as_deref() != Some("yes") {
        let person = match api::show(State(state.clone()), PathParams(id.clone()))
            .await
            .and_then(|p| p.decode())
        {
            Ok(person) => person,
            Err(e) => return page::api_error_page(Some(&signed), e),
        };
        let body = html! {
            p role="alert" { "Erase " strong { (person.display_name) } " (" code { (person.id) } ") for good? Their photos, face templates and, as configured, attendance are deleted; the audit trail keeps that it happened." }
            form method="post" action={ "/console/people/" (person.id) "/erase" } {
                (token(&signed))
                input type="hidden" name="confirm" value="yes";
                button type="submit" class="danger" { "Yes, erase for good" }
                " "
                a href={ "/console/people/" (person.id) } { "No, keep them" }
            }
        };
        return respond(
            StatusCode::OK,
            frame(Some(&signed), "Erase a person", Some(Section::People), body),
        );
    }
    let query = EraseQuery { erase_attendance: None };
    match api::erase(
        State(state),
        Extension(signed.caller.clone()),
        PathParams(id),
        Params(query),
    )
    .await
    {
        Ok(Json(erased)) => {
            Redirect::to(&format!("/console/people?erased={}", urlencoded(&erased.person_id))).into_response()
        }
        Err(e) => page::api_error_page(Some(&signed), e),
    }
}
