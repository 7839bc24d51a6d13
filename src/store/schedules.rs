//! Session schedules of groups, and what their reports read: the sightings of a roster and the
//! register of camera roles and locations.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::Store;
use super::entities::{attendance_event, camera, group, session_schedule};
use super::schedule_rows::{schedule_from_row, schedule_to_row};
use crate::cache::keys;
use crate::domain::CameraRole;
use crate::timetable::{Schedule, Sighting};

/// What writing a schedule did.
#[derive(Debug, Clone, PartialEq)]
pub enum ScheduleWrite {
    Written {
        schedule: Box<Schedule>,
        generations: Vec<(String, i64)>,
    },
    NoGroup,
    /// Creating an id that exists.
    Exists,
    /// Replacing an id that does not exist.
    NotFound,
}

impl Store {
    /// Creates (`replace` false) or replaces (`replace` true, version + 1) a schedule.
    pub async fn write_schedule(
        &self,
        schedule: &Schedule,
        replace: bool,
        actor: &str,
    ) -> Result<ScheduleWrite, sea_orm::DbErr> {
        let txn = self.db.begin().await?;
        if group::Entity::find_by_id(&schedule.group_id).one(&txn).await?.is_none() {
            return Ok(ScheduleWrite::NoGroup);
        }
        let current = session_schedule::Entity::find_by_id(&schedule.id).one(&txn).await?;
        let now = super::now();
        let mut written = schedule.clone();
        let mut affected = vec![keys::group(&schedule.group_id)];
        match (&current, replace) {
            (Some(_), false) => return Ok(ScheduleWrite::Exists),
            (None, true) => return Ok(ScheduleWrite::NotFound),
            (None, false) => {
                written.version = 1;
                schedule_to_row(&written, now, now)
                    .into_active_model()
                    .insert(&txn)
                    .await?;
            }
            (Some(old), true) => {
                written.version = old.version + 1;
                // Moving a schedule to another group changes the old group's reports too.
                affected.push(keys::group(&old.group_id));
                // The row is the new schedule whole: replaced, keeping its creation time.
                session_schedule::Entity::delete_by_id(&schedule.id).exec(&txn).await?;
                schedule_to_row(&written, old.created_at, now)
                    .into_active_model()
                    .insert(&txn)
                    .await?;
            }
        }
        // One statement cannot bump a key twice (PostgreSQL refuses it).
        affected.sort();
        affected.dedup();
        let generations = super::changes::bump(&txn, &affected).await?;
        let action = if replace {
            "schedule.replaced"
        } else {
            "schedule.created"
        };
        super::changes::audit(
            &txn,
            actor,
            action,
            &schedule.id,
            serde_json::json!({ "group_id": schedule.group_id, "version": written.version }),
        )
        .await?;
        txn.commit().await?;
        Ok(ScheduleWrite::Written {
            schedule: Box::new(written),
            generations,
        })
    }

    pub async fn schedule(&self, id: &str) -> anyhow::Result<Option<Schedule>> {
        session_schedule::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(|row| schedule_from_row(&row))
            .transpose()
    }

    /// Schedules of one group, or of every group.
    pub async fn schedules(&self, group_id: Option<&str>) -> anyhow::Result<Vec<Schedule>> {
        let mut find = session_schedule::Entity::find().order_by_asc(session_schedule::Column::Id);
        if let Some(group_id) = group_id {
            find = find.filter(session_schedule::Column::GroupId.eq(group_id));
        }
        find.all(&self.db).await?.iter().map(schedule_from_row).collect()
    }

    /// Deletes a schedule; None if there is none.
    pub async fn delete_schedule(&self, id: &str, actor: &str) -> Result<Option<Vec<(String, i64)>>, sea_orm::DbErr> {
        let txn = self.db.begin().await?;
        let Some(row) = session_schedule::Entity::find_by_id(id).one(&txn).await? else {
            return Ok(None);
        };
        session_schedule::Entity::delete_by_id(id).exec(&txn).await?;
        let generations = super::changes::bump(&txn, &[keys::group(&row.group_id)]).await?;
        super::changes::audit(
            &txn,
            actor,
            "schedule.deleted",
            id,
            serde_json::json!({ "group_id": row.group_id }),
        )
        .await?;
        txn.commit().await?;
        Ok(Some(generations))
    }

    /// Attendance events of `people` seen in `[from, to)`, as sightings.
    pub async fn sightings(
        &self,
        people: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Sighting>, sea_orm::DbErr> {
        let mut out = Vec::new();
        // Bounded IN lists: a roster can be a whole school.
        for chunk in people.chunks(500) {
            let rows: Vec<(String, String, DateTime<Utc>)> = attendance_event::Entity::find()
                .select_only()
                .column(attendance_event::Column::PersonId)
                .column(attendance_event::Column::CameraId)
                .column(attendance_event::Column::SeenAt)
                .filter(attendance_event::Column::PersonId.is_in(chunk.iter().map(String::as_str)))
                .filter(attendance_event::Column::SeenAt.gte(from))
                .filter(attendance_event::Column::SeenAt.lt(to))
                .into_tuple()
                .all(&self.db)
                .await?;
            out.extend(rows.into_iter().map(|(person_id, camera_id, at)| Sighting {
                person_id,
                camera_id,
                at,
            }));
        }
        Ok(out)
    }

    /// Every registered camera: id → (role, location).
    pub async fn camera_register(&self) -> Result<HashMap<String, (CameraRole, String)>, sea_orm::DbErr> {
        Ok(camera::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| {
                let role = match c.role.as_str() {
                    "entry" => CameraRole::Entry,
                    "exit" => CameraRole::Exit,
                    _ => CameraRole::Both,
                };
                (c.id, (role, c.location))
            })
            .collect())
    }
}
