//! Groups and memberships over HTTP, and who of a group is missing from its running sessions;
//! reads through the cache, changes through the use cases (audited). Schedules and session
//! reports are in `schedules`.

use axum::Extension;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ApiError;
use super::extract::{Body, PathParams};
use super::schedules::{cached_report, internal, slug};
use super::{Caller, Shared};
use crate::sessions::report;
use crate::store::{GroupDeletion, MembershipChange, Period};
use crate::timetable::Status;
use crate::timetable::spec::ScheduleSpec;
use crate::usecases::groups;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewGroup {
    /// Lowercase slug: letters, digits, `.`, `_`, `-`; at most 64 characters.
    #[schema(pattern = "^[a-z0-9][a-z0-9._-]*$", max_length = 64)]
    pub id: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*\\S[^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupSummary {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Membership {
    pub person_id: String,
    /// First day of membership (absent: always).
    pub from: Option<NaiveDate>,
    /// Last day of membership (absent: until further notice).
    pub until: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipPeriod {
    #[serde(default, deserialize_with = "crate::domain::dates::checked_opt")]
    pub from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::domain::dates::checked_opt")]
    pub until: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub members: Vec<Membership>,
    pub schedules: Vec<ScheduleSpec>,
}

/// Who is missing from the sessions a group has running now.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Absentees {
    pub group_id: String,
    pub at: DateTime<Utc>,
    pub sessions: Vec<RunningSession>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunningSession {
    pub schedule_id: String,
    pub date: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Members not seen yet, by person id.
    pub absent: Vec<String>,
}

/// Every group.
#[utoipa::path(get, path = "/v1/groups", operation_id = "list_groups", tag = "groups",
    responses((status = 200, description = "Success", body = Vec<GroupSummary>)), security(("api_key" = [])))]
pub async fn list(state: Shared) -> Result<axum::Json<Vec<GroupSummary>>, ApiError> {
    let groups = state.services.store.groups().await?;
    Ok(axum::Json(
        groups
            .into_iter()
            .map(|g| GroupSummary {
                id: g.id,
                name: g.name,
                created_at: g.created_at,
            })
            .collect(),
    ))
}

/// Creates a group.
#[utoipa::path(post, path = "/v1/groups", operation_id = "create_group", tag = "groups", request_body = NewGroup,
    responses((status = 201, description = "Created", body = Group), (status = 400, description = "Malformed request: the error says what", body = super::error::ErrorBody),
        (status = 409, description = "The id is taken", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn create(
    state: Shared,
    Extension(caller): Extension<Caller>,
    Body(new): Body<NewGroup>,
) -> Result<(StatusCode, axum::Json<Group>), ApiError> {
    let id = slug("group", &new.id)?;
    let name = crate::domain::text::checked_name("name", new.name.as_deref().unwrap_or(&id), false)
        .map_err(|why| ApiError::bad_request("invalid_body", why))?;
    if !groups::create(&state.services, &caller.name, &id, &name).await? {
        return Err(ApiError::conflict(format!("group {id} exists")));
    }
    Ok((StatusCode::CREATED, axum::Json(group_of(&state, &id).await?)))
}

async fn group_of(state: &Shared, id: &str) -> Result<Group, ApiError> {
    let g = state
        .services
        .store
        .group(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no group {id}")))?;
    let members = state
        .services
        .store
        .members(id)
        .await?
        .into_iter()
        .map(|(person_id, p)| Membership {
            person_id,
            from: p.from,
            until: p.until,
        })
        .collect();
    let schedules = state.services.store.schedules(Some(id)).await.map_err(internal)?;
    Ok(Group {
        id: g.id,
        name: g.name,
        created_at: g.created_at,
        updated_at: g.updated_at,
        members,
        schedules: schedules.iter().map(ScheduleSpec::of).collect(),
    })
}

/// A group with its members and schedules.
#[utoipa::path(get, path = "/v1/groups/{id}", operation_id = "show_group", tag = "groups", params(("id" = String, Path)),
    responses((status = 200, description = "Success", body = Group), (status = 404, description = "No such resource", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn show(state: Shared, PathParams(id): PathParams<String>) -> Result<axum::Json<Group>, ApiError> {
    let id = slug("group", &id)?;
    Ok(axum::Json(group_of(&state, &id).await?))
}

/// Deletes a group and its memberships; refused while it has schedules.
#[utoipa::path(delete, path = "/v1/groups/{id}", operation_id = "delete_group", tag = "groups", params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such resource", body = super::error::ErrorBody),
        (status = 409, description = "The group has schedules", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn delete(
    state: Shared,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<StatusCode, ApiError> {
    let id = slug("group", &id)?;
    match groups::delete(&state.services, &caller.name, &id).await? {
        GroupDeletion::Deleted { .. } => Ok(StatusCode::NO_CONTENT),
        GroupDeletion::NotFound => Err(ApiError::not_found(format!("no group {id}"))),
        GroupDeletion::HasSchedules(n) => Err(ApiError::conflict(format!(
            "group {id} has {n} schedule(s): delete them first (their reports need the group's roster)"
        ))),
    }
}

/// Adds a membership period (open ends: always, until further notice); no body at all is a
/// membership without ends.
#[utoipa::path(put, path = "/v1/groups/{id}/members/{person_id}", operation_id = "add_member", tag = "groups",
    params(("id" = String, Path), ("person_id" = String, Path)), request_body = Option<MembershipPeriod>,
    responses((status = 201, description = "Added", body = Membership), (status = 400, description = "Malformed request: the error says what", body = super::error::ErrorBody),
        (status = 404, description = "No such group or person", body = super::error::ErrorBody),
        (status = 409, description = "It overlaps a membership the person has in the group", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn add_member(
    state: Shared,
    Extension(caller): Extension<Caller>,
    PathParams((id, person_id)): PathParams<(String, String)>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, axum::Json<Membership>), ApiError> {
    let id = slug("group", &id)?;
    let person_id = slug("person", &person_id)?;
    // No body: a member always.
    let period: MembershipPeriod = if body.iter().all(u8::is_ascii_whitespace) {
        MembershipPeriod::default()
    } else {
        let value = serde_json::from_slice(&body).map_err(|e| ApiError::bad_request("invalid_body", e.to_string()))?;
        super::extract::object_body(value)?
    };
    if let (Some(from), Some(until)) = (period.from, period.until)
        && from > until
    {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!("from {from} is after until {until}"),
        ));
    }
    let period = Period {
        from: period.from,
        until: period.until,
    };
    match groups::add_member(&state.services, &caller.name, &id, &person_id, period).await? {
        MembershipChange::Added { .. } => Ok((
            StatusCode::CREATED,
            axum::Json(Membership {
                person_id,
                from: period.from,
                until: period.until,
            }),
        )),
        MembershipChange::NoGroup => Err(ApiError::not_found(format!("no group {id}"))),
        MembershipChange::NoPerson => Err(ApiError::not_found(format!("no person {person_id}"))),
        MembershipChange::Overlaps(clash) => {
            let end = |d: Option<NaiveDate>, open: &str| d.map_or(open.to_owned(), |d| d.to_string());
            Err(ApiError::conflict(format!(
                "{person_id} is already a member of {id} from {} until {}: the periods overlap",
                end(clash.from, "always"),
                end(clash.until, "further notice")
            )))
        }
    }
}

/// Removes every membership period of a person in a group.
#[utoipa::path(delete, path = "/v1/groups/{id}/members/{person_id}", operation_id = "remove_member", tag = "groups",
    params(("id" = String, Path), ("person_id" = String, Path)),
    responses((status = 204, description = "Removed"), (status = 404, description = "Not a member", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn remove_member(
    state: Shared,
    Extension(caller): Extension<Caller>,
    PathParams((id, person_id)): PathParams<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = slug("group", &id)?;
    let person_id = slug("person", &person_id)?;
    match groups::remove_member(&state.services, &caller.name, &id, &person_id).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::not_found(format!("no membership of {person_id} in {id}"))),
    }
}

/// Who is missing from the group's running sessions.
#[utoipa::path(get, path = "/v1/groups/{id}/absentees", operation_id = "absentees_now", tag = "groups", params(("id" = String, Path)),
    responses((status = 200, description = "Success", body = Absentees), (status = 404, description = "No such resource", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn absentees(state: Shared, PathParams(id): PathParams<String>) -> Result<axum::Json<Absentees>, ApiError> {
    let id = slug("group", &id)?;
    if state.services.store.group(&id).await?.is_none() {
        return Err(ApiError::not_found(format!("no group {id}")));
    }
    let now = Utc::now();
    let mut sessions = Vec::new();
    for (schedule, occurrence) in report::running(&state.services.store, Some(&id), now)
        .await
        .map_err(internal)?
    {
        let report = cached_report(&state, &schedule, occurrence.date, now).await?.decode()?;
        sessions.push(RunningSession {
            schedule_id: schedule.id.clone(),
            date: occurrence.date,
            starts_at: occurrence.starts_at,
            ends_at: occurrence.ends_at,
            absent: report
                .people
                .iter()
                .filter(|p| p.status == Status::Absent)
                .map(|p| p.person_id.clone())
                .collect(),
        });
    }
    Ok(axum::Json(Absentees {
        group_id: id,
        at: now,
        sessions,
    }))
}
