//! People in the console: search, and for admins adding a person. Every action is the API's
//! own handler, so the console checks, changes and audits exactly what the API does, and shows
//! the API's messages.

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use maud::{Markup, html};
use serde::Deserialize;

use super::page::{self, Section, error_for, field, frame, respond, token};
use super::session::{AdminForm, Signed, urlencoded};
use crate::api::Shared;
use crate::api::dto::{NewPerson, PeoplePage, PeopleQuery};
use crate::api::error::ApiError;
use crate::api::extract::{Body, Params};
use crate::api::people as api;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub q: Option<String>,
    pub cursor: Option<String>,
    /// The person just erased, to say so.
    pub erased: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NewPersonForm {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub display_name: String,
}

/// What the add form held, and the API's error about it, to show them again.
struct Attempt<'a> {
    form: &'a NewPersonForm,
    error: &'a ApiError,
}

pub async fn list(state: Shared, signed: Signed, Query(q): Query<ListQuery>) -> Response {
    render_list(&state, &signed, &q, None).await
}

async fn render_list(state: &Shared, signed: &Signed, q: &ListQuery, attempt: Option<Attempt<'_>>) -> Response {
    let query = PeopleQuery {
        cursor: q.cursor.clone(),
        limit: None,
        q: q.q.clone(),
    };
    let (people, search_error) = match api::list(state.clone(), Params(query)).await {
        Ok(Json(page)) => (Some(page), None),
        Err(e) if e.status.is_client_error() => (None, Some(e)),
        Err(e) => return page::api_error_page(Some(signed), e),
    };
    let status = attempt
        .as_ref()
        .map(|a| a.error.status)
        .or(search_error.as_ref().map(|e| e.status))
        .unwrap_or(StatusCode::OK);
    let erased = q.erased.as_deref().map(|id| format!("Erased {id}."));
    let body = html! {
        (page::notice(erased.as_deref()))
        form class="search" method="get" action="/console/people" role="search" {
            (field("q", "Search by name or id", "search", "q", q.q.as_deref().unwrap_or(""), search_error.as_ref().map(|e| e.message.as_str()), false))
            button type="submit" { "Search" }
        }
        @if let Some(people) = &people { (people_table(people, q)) }
        @if signed.is_admin() { (add_form(signed, attempt)) }
    };
    respond(status, frame(Some(signed), "People", Some(Section::People), body))
}

fn people_table(people: &PeoplePage, q: &ListQuery) -> Markup {
    html! {
        @if people.items.is_empty() {
            p { "Nobody matches." }
        } @else {
            div class="scroll" {
                table {
                    caption { "People" }
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Id" } th scope="col" { "Photos enrolled" } } }
                    tbody {
                        @for person in &people.items {
                            tr {
                                td { a href={ "/console/people/" (person.id) } { (person.display_name) } }
                                td { code { (person.id) } }
                                td { (person.templates) }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(next) = &people.next_cursor {
            p { a href={ "/console/people?cursor=" (urlencoded(next)) "&q=" (urlencoded(q.q.as_deref().unwrap_or(""))) } { "Next page" } }
        }
    }
}

fn add_form(signed: &Signed, attempt: Option<Attempt<'_>>) -> Markup {
    let error = attempt.as_ref().map(|a| a.error);
    let name_error = error_for(error, &["invalid_display_name", "invalid_body"]);
    let id_error = error_for(error, &["invalid_person_id", "conflict"]);
    let other = error
        .filter(|_| name_error.is_none() && id_error.is_none())
        .map(|e| e.message.as_str());
    let (id, name) = attempt
        .as_ref()
        .map_or(("", ""), |a| (a.form.id.as_str(), a.form.display_name.as_str()));
    html! {
        section aria-labelledby="add-heading" {
            h2 id="add-heading" { "Add a person" }
            form method="post" action="/console/people" {
                (token(signed))
                (field("display_name", "Display name", "text", "display_name", name, name_error, true))
                (field("person_id", "Id (optional: made from the name)", "text", "id", id, id_error, false))
                @if let Some(other) = other { p class="error" role="alert" { (other) } }
                button type="submit" { "Add" }
            }
        }
    }
}

pub async fn create(state: Shared, AdminForm { signed, form }: AdminForm<NewPersonForm>) -> Response {
    let new = NewPerson {
        id: Some(form.id.trim().to_owned()).filter(|id| !id.is_empty()),
        display_name: form.display_name.clone(),
    };
    match api::create(state.clone(), Extension(signed.caller.clone()), Body(new)).await {
        Ok((_, Json(person))) => Redirect::to(&format!("/console/people/{}?notice=created", person.id)).into_response(),
        Err(error) => {
            let attempt = Attempt {
                form: &form,
                error: &error,
            };
            render_list(&state, &signed, &ListQuery::default(), Some(attempt)).await
        }
    }
}
