//! The OpenAPI document, generated from the handlers' annotations and served at `/openapi.json`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{attendance, cameras, dto, error, groups, health, people, schedules};

#[derive(OpenApi)]
#[openapi(
    info(title = "rollcall", description = "Face-recognition attendance: people, enrolment, attendance, cameras, groups and their sessions."),
    paths(
        health::healthz, health::readyz, health::prometheus,
        people::list, people::create, people::show, people::update, people::erase, people::enrol, people::audit,
        attendance::day, attendance::person, attendance::daily_stats,
        cameras::list, cameras::register, cameras::set_role,
        groups::list, groups::create, groups::show, groups::delete, groups::add_member, groups::remove_member,
        groups::absentees, schedules::create_schedule, schedules::show_schedule, schedules::replace_schedule,
        schedules::delete_schedule, schedules::sessions, schedules::session_report, schedules::person_sessions,
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
    )),
    modifiers(&ApiKeyAuth),
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

pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().expect("the document serialises")
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", operation_id = "openapi", tag = "health",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn document() -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], openapi_json())
}
