//! Schedules and their sessions over HTTP: create, read, replace and delete a group's schedules;
//! the sessions of a schedule, a session's report (JSON or CSV) and a person's history, all
//! read through the cache.

use axum::Extension;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;
use super::extract::{Body, Params, PathParams};
use super::{CachedJson, Caller, Shared};
use crate::cache::keys;
use crate::domain::dates::Day;
use crate::sessions::report::{self, PersonSession, SessionReport};
use crate::store::ScheduleWrite;
use crate::timetable::Schedule;
use crate::timetable::spec::{ScheduleSpec, check_slug};
use crate::usecases::groups;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PersonSessions {
    pub person_id: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub sessions: Vec<PersonSession>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionDate {
    pub date: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DatesQuery {
    /// First local date, `YYYY-MM-DD` (default: 30 days before `to`).
    #[serde(default, deserialize_with = "crate::domain::dates::checked_opt")]
    pub from: Option<NaiveDate>,
    /// Last local date, included (default: today, UTC).
    #[serde(default, deserialize_with = "crate::domain::dates::checked_opt")]
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

pub(super) fn slug(what: &str, raw: &str) -> Result<String, ApiError> {
    check_slug(what, raw).map_err(|m| ApiError::bad_request("invalid_id", m))
}

pub(super) fn internal(e: anyhow::Error) -> ApiError {
    ApiError::internal("reading schedules", format!("{e:#}"))
}

/// Cache entries of sessions that have not ended change with the clock: they are keyed by the minute.
pub(super) fn clock_field(prefix: &str, settled: bool, now: DateTime<Utc>) -> String {
    if settled {
        prefix.to_owned()
    } else {
        format!("{prefix}@{}", now.timestamp() / 60)
    }
}

/// Creates or replaces a schedule and drops the cache entries it outdated.
async fn write(state: &Shared, schedule: &Schedule, replace: bool, caller: &Caller) -> Result<Schedule, ApiError> {
    let (id, group_id) = (&schedule.id, &schedule.group_id);
    match groups::write_schedule(&state.services, &caller.name, schedule, replace).await? {
        ScheduleWrite::Written { schedule, .. } => Ok(*schedule),
        ScheduleWrite::NoGroup => Err(ApiError::not_found(format!("no group {group_id}"))),
        ScheduleWrite::Exists => Err(ApiError::conflict(format!("schedule {id} exists"))),
        ScheduleWrite::NotFound => Err(ApiError::not_found(format!("no schedule {id}"))),
    }
}

fn checked(spec: ScheduleSpec, id: &str, group_id: &str) -> Result<Schedule, ApiError> {
    spec.into_schedule(id, group_id)
        .map_err(|m| ApiError::bad_request("invalid_schedule", m))
}

/// Creates a schedule for the group.
#[utoipa::path(post, path = "/v1/groups/{id}/schedules", operation_id = "create_schedule", tag = "groups", params(("id" = String, Path)),
    request_body = ScheduleSpec,
    responses((status = 201, description = "Created", body = ScheduleSpec), (status = 400, description = "Malformed request: the error says what", body = super::error::ErrorBody),
        (status = 404, description = "No such group", body = super::error::ErrorBody), (status = 409, description = "The id is taken", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn create_schedule(
    state: Shared,
    Extension(caller): Extension<Caller>,
    PathParams(group_id): PathParams<String>,
    Body(spec): Body<ScheduleSpec>,
) -> Result<(StatusCode, axum::Json<ScheduleSpec>), ApiError> {
    let group_id = slug("group", &group_id)?;
    let id = spec
        .id
        .clone()
        .ok_or_else(|| ApiError::bad_request("invalid_schedule", "a new schedule needs an id"))?;
    if spec.group_id.as_ref().is_some_and(|g| *g != group_id) {
        return Err(ApiError::bad_request(
            "invalid_schedule",
            "group_id differs from the group in the path",
        ));
    }
    let written = write(&state, &checked(spec, &id, &group_id)?, false, &caller).await?;
    Ok((StatusCode::CREATED, axum::Json(ScheduleSpec::of(&written))))
}

async fn find_schedule(state: &Shared, id: &str) -> Result<Schedule, ApiError> {
    state
        .services
        .store
        .schedule(id)
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::not_found(format!("no schedule {id}")))
}

/// A schedule.
#[utoipa::path(get, path = "/v1/schedules/{id}", operation_id = "show_schedule", tag = "groups", params(("id" = String, Path)),
    responses((status = 200, description = "Success", body = ScheduleSpec), (status = 404, description = "No such resource", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn show_schedule(
    state: Shared,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<ScheduleSpec>, ApiError> {
    let id = slug("schedule", &id)?;
    Ok(axum::Json(ScheduleSpec::of(&find_schedule(&state, &id).await?)))
}

/// Replaces a schedule; its reports, past ones included, are recomputed with it.
#[utoipa::path(put, path = "/v1/schedules/{id}", operation_id = "replace_schedule", tag = "groups", params(("id" = String, Path)),
    request_body = ScheduleSpec,
    responses((status = 200, description = "Replaced", body = ScheduleSpec), (status = 400, description = "Malformed request: the error says what", body = super::error::ErrorBody),
        (status = 404, description = "No such schedule or group", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn replace_schedule(
    state: Shared,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(spec): Body<ScheduleSpec>,
) -> Result<axum::Json<ScheduleSpec>, ApiError> {
    let id = slug("schedule", &id)?;
    if spec.id.as_ref().is_some_and(|s| *s != id) {
        return Err(ApiError::bad_request(
            "invalid_schedule",
            "id differs from the id in the path",
        ));
    }
    let current = find_schedule(&state, &id).await?;
    let group_id = spec.group_id.clone().unwrap_or(current.group_id);
    let written = write(&state, &checked(spec, &id, &group_id)?, true, &caller).await?;
    Ok(axum::Json(ScheduleSpec::of(&written)))
}

/// Deletes a schedule.
#[utoipa::path(delete, path = "/v1/schedules/{id}", operation_id = "delete_schedule", tag = "groups", params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such resource", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn delete_schedule(
    state: Shared,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<StatusCode, ApiError> {
    let id = slug("schedule", &id)?;
    match groups::delete_schedule(&state.services, &caller.name, &id).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::not_found(format!("no schedule {id}"))),
    }
}

/// The sessions of a schedule starting on local dates in a range.
#[utoipa::path(get, path = "/v1/schedules/{id}/sessions", operation_id = "list_sessions", tag = "groups",
    params(("id" = String, Path), DatesQuery),
    responses((status = 200, description = "Success", body = Vec<SessionDate>), (status = 404, description = "No such resource", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn sessions(
    state: Shared,
    PathParams(id): PathParams<String>,
    Params(q): Params<DatesQuery>,
) -> Result<axum::Json<Vec<SessionDate>>, ApiError> {
    let id = slug("schedule", &id)?;
    let (from, to) = super::attendance::date_range(q.from, q.to)?;
    let schedule = find_schedule(&state, &id).await?;
    Ok(axum::Json(
        schedule
            .timing
            .occurrences(from, to)
            .into_iter()
            .map(|o| SessionDate {
                date: o.date,
                starts_at: o.starts_at,
                ends_at: o.ends_at,
            })
            .collect(),
    ))
}

/// A session's report through the cache: versioned by the group, the camera roles and the days
/// its events can fall on, so any change to them is seen at once.
/// The report of schedule `id`'s session on `date`, as of now: the API's answer, in JSON or CSV,
/// and the console's page.
pub async fn report_of(state: &Shared, id: &str, date: NaiveDate) -> Result<CachedJson<SessionReport>, ApiError> {
    let schedule = state
        .schedules
        .find(&state.services.store, id)
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::not_found(format!("no schedule {id}")))?;
    cached_report(state, &schedule, date, Utc::now()).await
}

pub(super) async fn cached_report(
    state: &Shared,
    schedule: &Schedule,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<CachedJson<SessionReport>, ApiError> {
    let occurrence = schedule
        .timing
        .occurrence_on(date)
        .ok_or_else(|| ApiError::not_found(format!("schedule {} has no session on {date}", schedule.id)))?;
    let deps = report::session_dependencies(schedule, &occurrence);
    let field = clock_field("report", now >= occurrence.ends_at, now);
    state
        .cached_over(&keys::session(&schedule.id, date), &deps, &field, || async {
            report::session_report(&state.services.store, schedule, date, now)
                .await
                .map_err(internal)?
                .ok_or_else(|| ApiError::not_found(format!("schedule {} has no session on {date}", schedule.id)))
        })
        .await
}

/// Who was present, late, left early or absent in the session starting on a local date.
/// `?format=csv` answers with CSV.
#[utoipa::path(get, path = "/v1/schedules/{id}/sessions/{date}", operation_id = "session_report", tag = "groups",
    params(("id" = String, Path), ("date" = String, Path, description = "local date the session starts on, YYYY-MM-DD"), ReportQuery),
    responses((status = 200, description = "Success", body = SessionReport), (status = 400, description = "Malformed request: the error says what", body = super::error::ErrorBody),
        (status = 404, description = "No such schedule, or no session that day", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn session_report(
    state: Shared,
    PathParams((id, Day(date))): PathParams<(String, Day)>,
    Params(q): Params<ReportQuery>,
) -> Result<Response, ApiError> {
    let id = slug("schedule", &id)?;
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("format {other:?} is neither json nor csv"),
            ));
        }
    };
    let report = report_of(&state, &id, date).await?;
    if csv {
        let report = report.decode()?;
        let name = format!("attachment; filename=\"{}-{}.csv\"", report.schedule_id, report.date);
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, name),
            ],
            report::to_csv(&report),
        )
            .into_response());
    }
    Ok(report.into_response())
}

/// A person's sessions over a range of local dates, in every group they were a member of.
#[utoipa::path(get, path = "/v1/people/{id}/sessions", operation_id = "person_sessions", tag = "groups",
    params(("id" = String, Path), DatesQuery),
    responses((status = 200, description = "Success", body = PersonSessions), (status = 400, description = "Malformed request: the error says what", body = super::error::ErrorBody),
        (status = 404, description = "No such resource", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn person_sessions(
    state: Shared,
    PathParams(id): PathParams<String>,
    Params(q): Params<DatesQuery>,
) -> Result<CachedJson<PersonSessions>, ApiError> {
    let id = slug("person", &id)?;
    let (from, to) = super::attendance::date_range(q.from, q.to)?;
    let person = crate::domain::PersonId::parse(&id).map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))?;
    if state.services.store.person(&person).await?.is_none() {
        return Err(ApiError::not_found(format!("no person {id}")));
    }
    let now = Utc::now();
    let mut deps = vec![keys::person(&id), keys::cameras()];
    deps.extend(
        report::person_groups(&state.services.store, &id)
            .await
            .map_err(internal)?
            .iter()
            .map(|g| keys::group(g)),
    );
    // Sessions up to two days after `to` (local dates ahead of UTC) may still be running.
    let settled = now.date_naive() > to + TimeDelta::days(2);
    let field = clock_field(&format!("sessions:{from}:{to}"), settled, now);
    state
        .cached_over(&keys::person_sessions(&id), &deps, &field, || async {
            let sessions = report::person_history(&state.services.store, &id, from, to, now)
                .await
                .map_err(internal)?;
            Ok(PersonSessions {
                person_id: id.clone(),
                from,
                to,
                sessions,
            })
        })
        .await
}
