//! Groups in the console: the list, a group's members and schedules, who is missing now from
//! its running sessions; for admins adding a group, adding and removing members, and adding a
//! schedule. Every action is the API's own handler.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use maud::{Markup, html};
use serde::Deserialize;

use super::page::{self, Section, error_for, field, frame, respond, token};
use super::schedule_form::{self, ScheduleForm};
use super::session::{AdminForm, NoFields, Signed, urlencoded};
use crate::api::Shared;
use crate::api::error::ApiError;
use crate::api::extract::{Body, PathParams};
use crate::api::groups::{self as api, Group, NewGroup};

#[derive(Debug, Default, Deserialize)]
pub struct NewGroupForm {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
}

pub async fn list(state: Shared, signed: Signed) -> Response {
    render_list(&state, &signed, None).await
}

async fn render_list(state: &Shared, signed: &Signed, attempt: Option<(&NewGroupForm, &ApiError)>) -> Response {
    let groups = match api::list(state.clone()).await {
        Ok(Json(groups)) => groups,
        Err(e) => return page::api_error_page(Some(signed), e),
    };
    let error = attempt.map(|(_, e)| e);
    let (id, name) = attempt.map_or(("", ""), |(f, _)| (f.id.as_str(), f.name.as_str()));
    let body = html! {
        @if groups.is_empty() { p { "No groups yet." } } @else {
            ul class="groups" { @for g in &groups { li { a href={ "/console/groups/" (g.id) } { (g.name) } " " code { (g.id) } } } }
        }
        @if signed.is_admin() {
            section aria-labelledby="add-group-heading" {
                h2 id="add-group-heading" { "Add a group" }
                form method="post" action="/console/groups" {
                    (token(signed))
                    (field("group_id", "Id (lowercase letters, digits, . _ -)", "text", "id", id, error_for(error, &["invalid_id", "conflict"]), true))
                    (field("group_name", "Name", "text", "name", name, error_for(error, &["invalid_body"]), false))
                    button type="submit" { "Add" }
                }
            }
        }
    };
    let status = error.map_or(StatusCode::OK, |e| e.status);
    respond(
        status,
        frame(Some(signed), "Groups and sessions", Some(Section::Groups), body),
    )
}

pub async fn create(state: Shared, AdminForm { signed, form }: AdminForm<NewGroupForm>) -> Response {
    let new = NewGroup {
        id: form.id.trim().to_owned(),
        name: Some(form.name.clone()).filter(|n| !n.trim().is_empty()),
    };
    match api::create(state.clone(), Extension(signed.caller.clone()), Body(new)).await {
        Ok((_, Json(group))) => Redirect::to(&format!("/console/groups/{}", group.id)).into_response(),
        Err(error) => render_list(&state, &signed, Some((&form, &error))).await,
    }
}

/// What happened on a group's page just now.
#[derive(Default)]
pub(super) struct GroupOutcome<'a> {
    pub member_error: Option<ApiError>,
    pub schedule: Option<(&'a ScheduleForm, ApiError)>,
}

pub async fn show(state: Shared, signed: Signed, Path(id): Path<String>) -> Response {
    render_group(&state, &signed, &id, GroupOutcome::default()).await
}

pub(super) async fn render_group(state: &Shared, signed: &Signed, id: &str, outcome: GroupOutcome<'_>) -> Response {
    let group = match api::show(state.clone(), PathParams(id.to_owned())).await {
        Ok(Json(group)) => group,
        Err(e) => return page::api_error_page(Some(signed), e),
    };
    let missing = match api::absentees(state.clone(), PathParams(id.to_owned())).await {
        Ok(Json(absentees)) => absentees.sessions,
        Err(e) => return page::api_error_page(Some(signed), e),
    };
    let status = outcome
        .member_error
        .as_ref()
        .or(outcome.schedule.as_ref().map(|(_, e)| e))
        .map_or(StatusCode::OK, |e| e.status);
    let body = html! {
        section aria-labelledby="missing-heading" {
            h2 id="missing-heading" { "Missing now" }
            @if missing.is_empty() { p { "No session of this group is running." } }
            @for session in &missing {
                p { "Session " a href={ "/console/schedules/" (session.schedule_id) "/sessions/" (session.date) } { (session.schedule_id) " on " (session.date) } ":" }
                @if session.absent.is_empty() { p class="notice" { "Everyone is in." } } @else {
                    ul class="missing" { @for person in &session.absent { li { a href={ "/console/people/" (person) } { (person) } } } }
                }
            }
        }
        (members(signed, &group, outcome.member_error.as_ref()))
        (schedules(signed, &group, outcome.schedule.as_ref().map(|(f, e)| (*f, e))))
    };
    respond(status, frame(Some(signed), &group.name, Some(Section::Groups), body))
}

fn members(signed: &Signed, group: &Group, error: Option<&ApiError>) -> Markup {
    html! {
        section aria-labelledby="members-heading" {
            h2 id="members-heading" { "Members" }
            @if group.members.is_empty() { p { "No members yet." } } @else {
                div class="scroll" { table {
                    thead { tr { th scope="col" { "Person" } th scope="col" { "From" } th scope="col" { "Until" } @if signed.is_admin() { th scope="col" { span class="visually-hidden" { "Actions" } } } } }
                    tbody { @for m in &group.members { tr {
                        td { a href={ "/console/people/" (m.person_id) } { (m.person_id) } }
                        td { (m.from.map_or("always".to_owned(), |d| d.to_string())) }
                        td { (m.until.map_or("—".to_owned(), |d| d.to_string())) }
                        @if signed.is_admin() { td {
                            form method="post" action={ "/console/groups/" (group.id) "/members/" (m.person_id) "/remove" } {
                                (token(signed))
                                button type="submit" class="secondary" aria-label={ "Remove " (m.person_id) } { "Remove" }
                            }
                        } }
                    } } }
                } }
            }
            @if signed.is_admin() {
                form method="post" action={ "/console/groups/" (group.id) "/members" } {
                    (token(signed))
                    (field("member_id", "Add a member by person id", "text", "person_id", "", error.map(|e| e.message.as_str()), true))
                    button type="submit" { "Add member" }
                }
            }
        }
    }
}

fn schedules(signed: &Signed, group: &Group, attempt: Option<(&ScheduleForm, &ApiError)>) -> Markup {
    html! {
        section aria-labelledby="schedules-heading" {
            h2 id="schedules-heading" { "Schedules" }
            @if group.schedules.is_empty() { p { "No schedules yet." } }
            ul { @for s in &group.schedules {
                @let id = s.id.clone().unwrap_or_default();
                li {
                    a href={ "/console/schedules/" (id) } { (s.name.clone().unwrap_or_else(|| id.clone())) }
                    " — " (schedule_form::describe(s))
                }
            } }
            @if signed.is_admin() { (schedule_form::form(signed, &group.id, attempt)) }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    pub person_id: String,
}

pub async fn add_member(
    state: Shared,
    Path(id): Path<String>,
    AdminForm { signed, form }: AdminForm<MemberForm>,
) -> Response {
    let ids = (id.clone(), form.person_id.trim().to_owned());
    match api::add_member(
        state.clone(),
        Extension(signed.caller.clone()),
        PathParams(ids),
        Bytes::new(),
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/console/groups/{}", urlencoded(&id))).into_response(),
        Err(error) => {
            let outcome = GroupOutcome {
                member_error: Some(error),
                ..GroupOutcome::default()
            };
            render_group(&state, &signed, &id, outcome).await
        }
    }
}

pub async fn remove_member(
    state: Shared,
    Path((id, person_id)): Path<(String, String)>,
    AdminForm { signed, .. }: AdminForm<NoFields>,
) -> Response {
    match api::remove_member(
        state.clone(),
        Extension(signed.caller.clone()),
        PathParams((id.clone(), person_id)),
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/console/groups/{}", urlencoded(&id))).into_response(),
        Err(e) => page::api_error_page(Some(&signed), e),
    }
}
