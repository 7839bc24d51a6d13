//! Reading attendance back: the per-day table that `rollcall run` prints.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};

use super::Store;
use super::entities::{attendance_day, attendance_event};

/// One person's attendance on one day, with their display name.
#[derive(Debug, Clone, PartialEq)]
pub struct AttendanceRow {
    pub day: NaiveDate,
    pub person_id: String,
    pub display_name: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub first_camera: String,
    pub last_camera: String,
    pub events: i64,
}

impl Store {
    /// Every attendance day, by day then person.
    pub async fn attendance_days(&self) -> Result<Vec<AttendanceRow>, sea_orm::DbErr> {
        let days = attendance_day::Entity::find()
            .order_by_asc(attendance_day::Column::Day)
            .order_by_asc(attendance_day::Column::PersonId)
            .all(&self.db)
            .await?;
        self.with_names(days).await
    }

    pub async fn count_attendance_events(&self) -> Result<u64, sea_orm::DbErr> {
        attendance_event::Entity::find().count(&self.db).await
    }

    pub async fn attendance_events(&self) -> Result<Vec<attendance_event::Model>, sea_orm::DbErr> {
        attendance_event::Entity::find()
            .order_by_asc(attendance_event::Column::EventId)
            .all(&self.db)
            .await
    }
}

/// Renders rows as a fixed-width text table.
pub fn render_table(rows: &[AttendanceRow]) -> String {
    let header = [
        "day",
        "person",
        "name",
        "first seen",
        "last seen",
        "first camera",
        "last camera",
        "events",
    ]
    .map(String::from);
    let mut table: Vec<[String; 8]> = vec![header];
    for r in rows {
        table.push([
            r.day.to_string(),
            r.person_id.clone(),
            r.display_name.clone(),
            r.first_seen.format("%H:%M:%S").to_string(),
            r.last_seen.format("%H:%M:%S").to_string(),
            r.first_camera.clone(),
            r.last_camera.clone(),
            r.events.to_string(),
        ]);
    }
    let widths: Vec<usize> = (0..8)
        .map(|c| table.iter().map(|row| row[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (i, row) in table.iter().enumerate() {
        let line: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            out.push_str(&rule.join("  "));
            out.push('\n');
        }
    }
    out
}
