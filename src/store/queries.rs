//! The reads the API serves: attendance by day (paged), by person over a range, daily stats,
//! and the camera register.

use std::collections::HashMap;

use chrono::{NaiveDate, TimeDelta};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entities::{attendance_day, attendance_event, camera, person};
use super::{AttendanceRow, Store};
use crate::domain::CameraRole;
use crate::domain::{CameraId, PersonId};

/// One day's totals.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyStats {
    pub day: NaiveDate,
    pub present: u64,
    /// The earliest arrivals, first first.
    pub first_arrivals: Vec<AttendanceRow>,
    /// (camera, distinct people, events) for each camera that saw someone.
    pub per_camera: Vec<(String, u64, u64)>,
}

impl Store {
    async fn names(&self, ids: &[&str]) -> Result<HashMap<String, String>, sea_orm::DbErr> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(String, String)> = person::Entity::find()
            .select_only()
            .columns([person::Column::Id, person::Column::DisplayName])
            .filter(person::Column::Id.is_in(ids.iter().copied()))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// Day rows with display names (the person id for attendance kept after an erasure).
    pub(super) async fn with_names(
        &self,
        days: Vec<attendance_day::Model>,
    ) -> Result<Vec<AttendanceRow>, sea_orm::DbErr> {
        let ids: Vec<&str> = days.iter().map(|d| d.person_id.as_str()).collect();
        let names = self.names(&ids).await?;
        Ok(days
            .into_iter()
            .map(|d| AttendanceRow {
                display_name: names.get(&d.person_id).cloned().unwrap_or_else(|| d.person_id.clone()),
                day: d.day,
                person_id: d.person_id,
                first_seen: d.first_seen,
                last_seen: d.last_seen,
                first_camera: d.first_camera,
                last_camera: d.last_camera,
                events: d.event_count,
            })
            .collect())
    }

    /// Up to `limit` people present on `day` with ids after `after`, by person id.
    pub async fn attendance_on(
        &self,
        day: NaiveDate,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<AttendanceRow>, sea_orm::DbErr> {
        let mut query = attendance_day::Entity::find()
            .filter(attendance_day::Column::Day.eq(day))
            .order_by_asc(attendance_day::Column::PersonId)
            .limit(limit);
        if let Some(after) = after {
            query = query.filter(attendance_day::Column::PersonId.gt(after));
        }
        let days = query.all(&self.db).await?;
        self.with_names(days).await
    }

    /// One person's days from `from` to `to`, both included, by day.
    pub async fn person_attendance(
        &self,
        id: &PersonId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<AttendanceRow>, sea_orm::DbErr> {
        let days = attendance_day::Entity::find()
            .filter(attendance_day::Column::PersonId.eq(id.as_str()))
            .filter(attendance_day::Column::Day.between(from, to))
            .order_by_asc(attendance_day::Column::Day)
            .all(&self.db)
            .await?;
        self.with_names(days).await
    }

    pub async fn daily_stats(&self, day: NaiveDate, first_arrivals: u64) -> Result<DailyStats, sea_orm::DbErr> {
        let present = attendance_day::Entity::find()
            .filter(attendance_day::Column::Day.eq(day))
            .count(&self.db)
            .await?;
        let earliest = attendance_day::Entity::find()
            .filter(attendance_day::Column::Day.eq(day))
            .order_by_asc(attendance_day::Column::FirstSeen)
            .order_by_asc(attendance_day::Column::PersonId)
            .limit(first_arrivals)
            .all(&self.db)
            .await?;
        let start = day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        let per_camera: Vec<(String, i64, i64)> = attendance_event::Entity::find()
            .select_only()
            .column(attendance_event::Column::CameraId)
            .column_as(Expr::cust("COUNT(DISTINCT person_id)"), "people")
            .column_as(attendance_event::Column::EventId.count(), "events")
            .filter(attendance_event::Column::SeenAt.gte(start))
            .filter(attendance_event::Column::SeenAt.lt(start + TimeDelta::days(1)))
            .group_by(attendance_event::Column::CameraId)
            .order_by_asc(attendance_event::Column::CameraId)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(DailyStats {
            day,
            present,
            first_arrivals: self.with_names(earliest).await?,
            per_camera: per_camera
                .into_iter()
                .map(|(c, p, e)| (c, p as u64, e as u64))
                .collect(),
        })
    }

    pub async fn cameras(&self) -> Result<Vec<camera::Model>, sea_orm::DbErr> {
        camera::Entity::find()
            .order_by_asc(camera::Column::Id)
            .all(&self.db)
            .await
    }

    pub async fn camera(&self, id: &CameraId) -> Result<Option<camera::Model>, sea_orm::DbErr> {
        camera::Entity::find_by_id(id.as_str()).one(&self.db).await
    }

    /// Sets a camera's role; false if there is no such camera.
    pub async fn set_camera_role(&self, id: &CameraId, role: CameraRole) -> Result<bool, sea_orm::DbErr> {
        let updated = camera::Entity::update_many()
            .col_expr(camera::Column::Role, Expr::value(role.as_str()))
            .filter(camera::Column::Id.eq(id.as_str()))
            .exec(&self.db)
            .await?;
        Ok(updated.rows_affected == 1)
    }
}
