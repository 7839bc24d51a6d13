//! The console's page frame (navigation, who is signed in, sign-out) and what every page shares:
//! labelled fields with their error next to them, messages, errors, the sign-in form.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::session::Signed;
use crate::api::ApiRole;
use crate::api::error::ApiError;

/// The console's sections, in the order of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Today,
    People,
    Review,
    Groups,
    Audit,
}

impl Section {
    const ALL: [Section; 5] = [
        Section::Today,
        Section::People,
        Section::Review,
        Section::Groups,
        Section::Audit,
    ];

    fn label(self) -> &'static str {
        match self {
            Section::Today => "Today",
            Section::People => "People",
            Section::Review => "Review",
            Section::Groups => "Groups and sessions",
            Section::Audit => "Audit",
        }
    }

    fn href(self) -> &'static str {
        match self {
            Section::Today => "/console/today",
            Section::People => "/console/people",
            Section::Review => "/console/review",
            Section::Groups => "/console/groups",
            Section::Audit => "/console/audit",
        }
    }

    /// The audit trail is an admin read in the API, so it is in the console too.
    fn visible_to(self, signed: &Signed) -> bool {
        self != Section::Audit || signed.is_admin()
    }
}

pub fn role_name(role: ApiRole) -> &'static str {
    match role {
        ApiRole::Reader => "reader",
        ApiRole::Admin => "admin",
    }
}

/// A whole page: the frame around `body`, under the heading `title`.
pub fn frame(signed: Option<&Signed>, title: &str, section: Option<Section>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · rollcall" }
                link rel="stylesheet" href="/console/assets/console.css";
            }
            body {
                a class="skip" href="#main" { "Skip to the content" }
                header class="top" {
                    a class="brand" href="/console/today" { "rollcall" }
                    @if let Some(signed) = signed {
                        nav aria-label="Sections" {
                            ul {
                                @for s in Section::ALL.into_iter().filter(|s| s.visible_to(signed)) {
                                    li {
                                        @if Some(s) == section {
                                            a href=(s.href()) aria-current="page" { (s.label()) }
                                        } @else {
                                            a href=(s.href()) { (s.label()) }
                                        }
                                    }
                                }
                            }
                        }
                        form class="who" method="post" action="/console/sign-out" {
                            (token(signed))
                            span { "Signed in as " strong { (signed.caller.name) } " (" (role_name(signed.caller.role)) ")" }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The hidden field every changing form carries.
pub fn token(signed: &Signed) -> Markup {
    html! { input type="hidden" name="_token" value=(signed.form_token); }
}

/// A labelled input; an error is shown under it, tied to it for screen readers.
pub fn field(
    id: &str,
    label: &str,
    kind: &str,
    name: &str,
    value: &str,
    error: Option<&str>,
    required: bool,
) -> Markup {
    let error_id = format!("{id}-error");
    html! {
        div class="field" {
            label for=(id) { (label) }
            @if let Some(error) = error {
                input id=(id) type=(kind) name=(name) value=(value) required[required]
                    aria-invalid="true" aria-describedby=(error_id);
                p class="error" id=(error_id) role="alert" { (error) }
            } @else {
                input id=(id) type=(kind) name=(name) value=(value) required[required];
            }
        }
    }
}

/// An error of the API's shown under the field it is about: its message, as the API words it.
pub fn error_for<'a>(error: Option<&'a ApiError>, codes: &[&str]) -> Option<&'a str> {
    error.filter(|e| codes.contains(&e.code)).map(|e| e.message.as_str())
}

pub fn respond(status: StatusCode, page: Markup) -> Response {
    (status, Html(page.into_string())).into_response()
}

/// A page that only says something (a refusal, a missing thing).
pub fn message_page(signed: Option<&Signed>, status: StatusCode, title: &str, message: &str) -> Response {
    let body = html! {
        p class="message" role="alert" { (message) }
        p { a href="/console/today" { "Back to Today" } }
    };
    respond(status, frame(signed, title, None, body))
}

/// An API error as a page, with the API's status and message.
pub fn api_error_page(signed: Option<&Signed>, error: ApiError) -> Response {
    let title = match error.status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        s if s.is_client_error() => "Not done",
        _ => "Something failed",
    };
    message_page(signed, error.status, title, &error.message)
}

pub fn sign_in(next: Option<&str>, error: Option<&str>, status: StatusCode) -> Response {
    let body = html! {
        p { "Sign in with an API key of this deployment. A reader key shows attendance; an admin key can also change it." }
        form method="post" action="/console/sign-in" {
            @if let Some(next) = next {
                input type="hidden" name="next" value=(next);
            }
            (field("key", "API key", "password", "key", "", error, true))
            button type="submit" { "Sign in" }
        }
    };
    respond(status, frame(None, "Sign in", None, body))
}

/// A notice after a change, shown once on the page the change sent you to.
pub fn notice(text: Option<&str>) -> Markup {
    html! {
        @if let Some(text) = text {
            p class="notice" role="status" { (text) }
        }
    }
}
