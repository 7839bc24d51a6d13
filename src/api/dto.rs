//! The JSON shapes of requests and responses (and their OpenAPI schemas).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::error::ErrorDetail;
use crate::store::{AttendanceRow, PersonEntry};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Person {
    /// Lowercase slug: letters, digits, `.`, `_`, `-`; at most 64 characters.
    pub id: String,
    pub display_name: String,
    /// Face templates enrolled for the recognizer model in use (and any other).
    pub templates: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<PersonEntry> for Person {
    fn from(e: PersonEntry) -> Self {
        Person {
            id: e.person.id,
            display_name: e.person.display_name,
            templates: e.templates,
            created_at: e.person.created_at,
            updated_at: e.person.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PeoplePage {
    pub items: Vec<Person>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    /// Optional: made from the display name when absent.
    #[schema(pattern = "^[a-z0-9][a-z0-9._-]*$", max_length = 64)]
    pub id: Option<String>,
    /// 1 to 200 characters, not all blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*\\S[^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub display_name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonChanges {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*\\S[^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub display_name: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Items per page (default and maximum from the configuration: 50 and 500 unless changed).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeopleQuery {
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Items per page (default and maximum from the configuration: 50 and 500 unless changed).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// Only people whose id or display name contains this text, in any case.
    #[param(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub q: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First day, `YYYY-MM-DD` (default: 30 days before `to`).
    #[serde(default, deserialize_with = "crate::domain::dates::checked_opt")]
    pub from: Option<NaiveDate>,
    /// Last day, included (default: today, UTC).
    #[serde(default, deserialize_with = "crate::domain::dates::checked_opt")]
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EraseQuery {
    /// Also delete the person's attendance (default from `api.erase_attendance`).
    pub erase_attendance: Option<bool>,
}

/// The outcome for one uploaded photo.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PhotoResult {
    /// The part's file name.
    pub file: String,
    /// `enrolled` or `rejected`.
    pub status: String,
    /// Why it was rejected: `not_an_image`, `too_large`, `no_face`, `several_faces`, `face_too_small`.
    pub code: Option<String>,
    pub message: String,
    /// Detection score of the enrolled face.
    pub quality: Option<f32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Enrolment {
    pub person_id: String,
    pub model_id: String,
    /// New templates (a photo enrolled before adds none).
    pub templates_added: u64,
    pub photos: Vec<PhotoResult>,
}

/// 422: no photo was usable; each says why.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentRejected {
    pub error: ErrorDetail,
    pub photos: Vec<PhotoResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Erased {
    pub person_id: String,
    pub templates_removed: u64,
    pub attendance_events_removed: u64,
    pub attendance_days_removed: u64,
    pub attendance_kept: bool,
    /// The audit entry recording the erasure.
    pub audit_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AttendanceDay {
    pub day: NaiveDate,
    pub person_id: String,
    /// The person id when the person was erased and their attendance kept.
    pub display_name: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub first_camera: String,
    pub last_camera: String,
    /// Attendance events folded into this day.
    pub events: i64,
}

impl From<AttendanceRow> for AttendanceDay {
    fn from(r: AttendanceRow) -> Self {
        AttendanceDay {
            day: r.day,
            person_id: r.person_id,
            display_name: r.display_name,
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            first_camera: r.first_camera,
            last_camera: r.last_camera,
            events: r.events,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AttendancePage {
    pub day: NaiveDate,
    /// Ordered by person id.
    pub items: Vec<AttendanceDay>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PersonAttendance {
    pub person_id: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Days present, oldest first.
    pub days: Vec<AttendanceDay>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CameraCount {
    pub camera_id: String,
    /// Distinct people this camera saw that day.
    pub people: u64,
    pub events: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DailyStats {
    pub day: NaiveDate,
    /// People seen at least once.
    pub present: u64,
    /// The first ten arrivals, earliest first.
    pub first_arrivals: Vec<AttendanceDay>,
    pub per_camera: Vec<CameraCount>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Camera {
    pub id: String,
    pub name: String,
    pub location: String,
    /// `entry`, `exit` or `both`.
    pub role: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCamera {
    #[schema(pattern = "^[a-z0-9][a-z0-9._-]*$", max_length = 64)]
    pub id: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*\\S[^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub location: String,
    #[serde(default = "default_role")]
    #[schema(value_type = String)]
    pub role: crate::domain::CameraRole,
}

fn default_role() -> crate::domain::CameraRole {
    crate::domain::CameraRole::Both
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CameraRoleChange {
    /// `entry`, `exit` or `both`.
    #[schema(value_type = String)]
    pub role: crate::domain::CameraRole,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditRecord {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The API key name (or `cli`) that made the change.
    pub actor: String,
    pub action: String,
    pub subject: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// A person or camera id.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*\\S[^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub subject: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` (200) or `not_ready` (503).
    pub status: String,
    /// `up` or `down`.
    pub database: String,
    /// `up`, `degraded` (Redis down: reads are served uncached) or `disabled`.
    pub cache: String,
    /// `loaded` or `missing` (enrolment needs the models).
    pub model: String,
}
