//! Attendance reads, all through the cache: a day's list (paged), a person over a date range,
//! a day's stats.

use chrono::{NaiveDate, TimeDelta, Utc};

use super::dto::{AttendanceDay, AttendancePage, CameraCount, DailyStats, PageQuery, PersonAttendance, RangeQuery};
use super::error::ApiError;
use super::extract::{Params, PathParams};
use super::{CachedJson, Shared, cursor};
use crate::cache::keys;
use crate::domain::PersonId;
use crate::domain::dates::Day;

/// The longest range one request may cover.
const MAX_RANGE_DAYS: i64 = 366;

/// A range of dates from a query: `to` defaults to today (UTC), `from` to 30 days before it; at
/// most `MAX_RANGE_DAYS` long.
pub(super) fn date_range(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let to = to.unwrap_or_else(|| Utc::now().date_naive());
    let from = from.unwrap_or(to - TimeDelta::days(30));
    if from > to {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("from {from} is after to {to}"),
        ));
    }
    if (to - from).num_days() >= MAX_RANGE_DAYS {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("a range may cover at most {MAX_RANGE_DAYS} days"),
        ));
    }
    Ok((from, to))
}
/// How many first arrivals the daily stats list.
const FIRST_ARRIVALS: u64 = 10;

/// Everyone present on a day, by person id.
#[utoipa::path(get, path = "/v1/attendance/days/{day}", operation_id = "attendance_by_day", tag = "attendance",
    params(("day" = String, Path, description = "YYYY-MM-DD (UTC)"), PageQuery),
    responses((status = 200, description = "Success", body = AttendancePage), (status = 400, description = "Malformed request: the error says what", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn day(
    state: Shared,
    PathParams(Day(day)): PathParams<Day>,
    Params(q): Params<PageQuery>,
) -> Result<CachedJson<AttendancePage>, ApiError> {
    let limit = state.page_size(q.limit)?;
    let after = q.cursor.as_deref().map(cursor::decode).transpose()?;
    let field = format!("page:{}:{limit}", after.as_deref().unwrap_or(""));
    state
        .cached(&keys::attendance_day(day), &field, || async {
            let mut rows = state
                .services
                .store
                .attendance_on(day, after.as_deref(), limit + 1)
                .await?;
            let more = rows.len() as u64 > limit;
            rows.truncate(limit as usize);
            let next_cursor = more.then(|| cursor::encode(&rows.last().expect("a full page").person_id));
            Ok(AttendancePage {
                day,
                items: rows.into_iter().map(AttendanceDay::from).collect(),
                next_cursor,
            })
        })
        .await
}

/// One person's days over a range (both ends included).
#[utoipa::path(get, path = "/v1/people/{id}/attendance", operation_id = "person_attendance", tag = "attendance",
    params(("id" = String, Path), RangeQuery),
    responses((status = 200, description = "Success", body = PersonAttendance), (status = 400, description = "Malformed request: the error says what", body = super::error::ErrorBody),
        (status = 404, description = "No such resource", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn person(
    state: Shared,
    PathParams(id): PathParams<String>,
    Params(q): Params<RangeQuery>,
) -> Result<CachedJson<PersonAttendance>, ApiError> {
    let id = PersonId::parse(&id)
        .map_err(|e| ApiError::bad_request("invalid_person_id", format!("person id {id:?}: {e}")))?;
    let (from, to) = date_range(q.from, q.to)?;
    let found = state
        .cached(
            &keys::person(id.as_str()),
            &format!("attendance:{from}:{to}"),
            || async {
                if state.services.store.person(&id).await?.is_none() {
                    return Ok(None);
                }
                let rows = state.services.store.person_attendance(&id, from, to).await?;
                Ok(Some(PersonAttendance {
                    person_id: id.to_string(),
                    from,
                    to,
                    days: rows.into_iter().map(AttendanceDay::from).collect(),
                }))
            },
        )
        .await?;
    found
        .found()
        .ok_or_else(|| ApiError::not_found(format!("no person {id}")))
}

/// A day's totals: people present, first arrivals, per camera.
#[utoipa::path(get, path = "/v1/stats/daily/{day}", operation_id = "daily_stats", tag = "attendance",
    params(("day" = String, Path, description = "YYYY-MM-DD (UTC)")),
    responses((status = 200, description = "Success", body = DailyStats), (status = 400, description = "Malformed request: the error says what", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn daily_stats(
    state: Shared,
    PathParams(Day(day)): PathParams<Day>,
) -> Result<CachedJson<DailyStats>, ApiError> {
    state
        .cached(&keys::stats("daily", day), "v1", || async {
            let s = state.services.store.daily_stats(day, FIRST_ARRIVALS).await?;
            Ok(DailyStats {
                day: s.day,
                present: s.present,
                first_arrivals: s.first_arrivals.into_iter().map(AttendanceDay::from).collect(),
                per_camera: s
                    .per_camera
                    .into_iter()
                    .map(|(camera_id, people, events)| CameraCount {
                        camera_id,
                        people,
                        events,
                    })
                    .collect(),
            })
        })
        .await
}
