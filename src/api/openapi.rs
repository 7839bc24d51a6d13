//! The OpenAPI document, generated from the handlers' annotations and served at `/openapi.json`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    attendance, audit, cameras, corrections, dto, error, groups, health, notifications, people, review,
    review_decisions, review_matches, schedules,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "rollcall", description = "Face-recognition attendance: people, enrolment, attendance, cameras, groups and their sessions, review of unknown faces, attendance corrections and notifications."),
    paths(
        health::healthz, health::readyz,
        people::list, people::create, people::show, people::update, people::erase, people::enrol, audit::audit,
        attendance::day, attendance::person, attendance::daily_stats,
        cameras::list, cameras::register, cameras::set_role,
        groups::list, groups::create, groups::show, groups::delete, groups::add_member, groups::remove_member,
        groups::absentees, schedules::create_schedule, schedules::show_schedule, schedules::replace_schedule,
        schedules::delete_schedule, schedules::sessions, schedules::session_report, schedules::person_sessions,
        review::clusters, review::cluster, review::crop, review_decisions::assign, review_decisions::dismiss,
        review_decisions::face_not_person, review_decisions::photos_not_person,
        corrections::events, corrections::retract, corrections::add, review_matches::matches,
        review_matches::confirm, notifications::add, notifications::list, notifications::remove,
        notifications::deliveries, notifications::retry,
        document,
    ),
    components(schemas(
        error::ErrorBody, error::ErrorDetail, dto::Person, dto::PeoplePage, dto::NewPerson, dto::PersonChanges,
        dto::PhotoResult, dto::Enrolment, dto::EnrolmentRejected, dto::Erased, dto::AttendanceDay,
        dto::AttendancePage, dto::PersonAttendance, dto::CameraCount, dto::DailyStats, dto::Camera,
        dto::NewCamera, dto::CameraRoleChange, dto::AuditRecord, dto::Health, dto::Readiness,
        groups::NewGroup, groups::GroupSummary, groups::Group, groups::Membership, groups::MembershipPeriod,
        groups::Absentees, groups::RunningSession, schedules::PersonSessions, schedules::SessionDate,
        crate::timetable::spec::ScheduleSpec, crate::sessions::report::SessionReport,
        crate::sessions::report::Counts, crate::sessions::report::PersonSession, crate::timetable::PersonOutcome,
        crate::timetable::Status, crate::timetable::Phase,
        review::Cluster, review::ClusterFaces, review::UnknownFace, crate::review::ClusterStatus,
        review_decisions::AssignmentRequest, review_decisions::Assignment, review_decisions::AssignedFace,
        review_decisions::NotPersonRequest, review_decisions::NotPerson,
        corrections::RetractionRequest, corrections::AdditionRequest, corrections::Correction,
        corrections::StoredEvent, review_matches::LowConfidenceMatch, notifications::WebhookRequest,
        notifications::Webhook, notifications::Delivery,
    )),
    modifiers(&ApiKeyAuth, &CommonErrors),
)]
struct ApiDoc;

struct ApiKeyAuth;

impl Modify for ApiKeyAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key from [api.keys]; readers query, admins also change"))
                    .build(),
            ),
        );
    }
}

/// The answers every route may give besides its own, added to each operation from the one place
/// they are decided (authentication, limits, extractors), so the document says what the server does.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("patch", &mut item.patch),
            ];
            for (method, operation) in operations {
                if let Some(operation) = operation.as_mut() {
                    add_common_errors(path, method, operation);
                }
            }
        }
    }
}

fn add_common_errors(path: &str, method: &str, operation: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let keyed = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    // Readers may use every GET but the audit trail; everything else needs an admin key.
    let admin_only = method != "get" || path == "/v1/audit";
    let has_input = path.contains('{') || operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let body = operation.request_body.is_some();
    let json_body = matches!(
        &operation.request_body,
        Some(utoipa::openapi::RefOr::T(body)) if body.content.contains_key("application/json")
    );
    let mut answers: Vec<(&str, &str)> = Vec::new();
    if keyed {
        answers.push(("401", "No API key, or not a valid one"));
        answers.push((
            "429",
            "Over the key's rate limit, or too many failed authentications from this address; see Retry-After",
        ));
    }
    if keyed && admin_only {
        answers.push(("403", "The key is a reader key; this route needs an admin key"));
    }
    if has_input || body {
        answers.push(("400", "Malformed request (path, query or body): the error says what"));
    }
    if body {
        answers.push(("408", "The body did not arrive within api.body_timeout_secs"));
        answers.push(("413", "The body is over api.max_body_bytes"));
    }
    if json_body {
        answers.push(("415", "The body is not sent as application/json"));
        answers.push(("422", "The JSON body does not have the expected fields and types"));
    }
    if let Some(parameters) = operation.parameters.as_mut() {
        for parameter in parameters {
            if let utoipa::openapi::RefOr::T(parameter) = parameter {
                describe_path_parameter(parameter);
            }
        }
    }
    for (status, description) in answers {
        if operation.responses.responses.contains_key(status) {
            continue;
        }
        let content = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .build();
        let response = ResponseBuilder::new()
            .description(description)
            .content("application/json", content)
            .build();
        operation.responses.responses.insert(status.to_owned(), response.into());
    }
}

/// Ids and dates in paths, with the constraints the server checks (`PersonId`, `domain::dates`).
fn describe_path_parameter(parameter: &mut utoipa::openapi::path::Parameter) {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    if parameter.parameter_in != utoipa::openapi::path::ParameterIn::Path {
        return;
    }
    let schema = match parameter.name.as_str() {
        "id" | "person_id" => ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[a-z0-9][a-z0-9._-]*$"))
            .max_length(Some(64))
            .description(Some(
                "lowercase id: a-z, 0-9, '-', '_', '.'; starts with a letter or digit; at most 64",
            )),
        "day" | "date" => ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .description(Some("YYYY-MM-DD, from 1970-01-01 to 2999-12-31")),
        _ => return,
    };
    parameter.schema = Some(schema.build().into());
}

pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().expect("the document serialises")
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", operation_id = "openapi", tag = "health",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn document() -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], openapi_json())
}
