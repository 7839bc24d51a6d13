//! The audit trail in the console: who did what to a person or camera, and when. An admin read,
//! as in the API.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::page::{self, Section, field, frame, respond};
use super::session::Signed;
use crate::api::dto::AuditQuery;
use crate::api::extract::Params;
use crate::api::{ApiRole, Shared, audit, auth};

#[derive(Debug, Default, Deserialize)]
pub struct SubjectQuery {
    pub subject: Option<String>,
}

pub async fn page(State(state): Shared, signed: Signed, Query(q): Query<SubjectQuery>) -> Response {
    if let Err(e) = auth::permitted(&signed.caller, ApiRole::Admin) {
        return page::api_error_page(Some(&signed), e);
    }
    let subject = q.subject.unwrap_or_default();
    let (entries, error) = if subject.is_empty() {
        (Vec::new(), None)
    } else {
        match audit::audit(
            State(state),
            Params(AuditQuery {
                subject: subject.clone(),
            }),
        )
        .await
        {
            Ok(axum::Json(entries)) => (entries, None),
            Err(e) if e.status.is_client_error() => (Vec::new(), Some(e)),
            Err(e) => return page::api_error_page(Some(&signed), e),
        }
    };
    let status = error.as_ref().map_or(StatusCode::OK, |e| e.status);
    let body = html! {
        form class="search" method="get" action="/console/audit" {
            (field("subject", "Person or camera id", "search", "subject", &subject, error.as_ref().map(|e| e.message.as_str()), true))
            button type="submit" { "Show" }
        }
        @if !subject.is_empty() && error.is_none() {
            @if entries.is_empty() { p { "Nothing recorded about " code { (subject) } "." } } @else {
                div class="scroll" { table {
                    caption { "Changes to " (subject) ", newest first" }
                    thead { tr { th scope="col" { "When (UTC)" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "Details" } } }
                    tbody { @for entry in entries.iter().rev() { tr {
                        td { (entry.at.format("%Y-%m-%d %H:%M:%S")) }
                        td { (entry.actor) }
                        td { (entry.action) }
                        td { code { (entry.details.to_string()) } }
                    } } }
                } }
            }
        }
    };
    respond(status, frame(Some(&signed), "Audit", Some(Section::Audit), body))
}
