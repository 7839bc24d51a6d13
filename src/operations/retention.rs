//! `rollcall retention`: deletes attendance older than `retention.attendance_days`, unknown faces
//! older than `retention.unknown_days`, and cooldown entries older than a day, in batches, moving
//! the cache generations of every deleted day on.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::store::{Deleted, Store};

/// Applies `config` as of `now`. Attendance is kept forever when `attendance_days` is 0.
pub async fn apply(store: &Store, config: &RetentionConfig, now: DateTime<Utc>) -> anyhow::Result<Deleted> {
    // The ledger only matters within a cooldown; a day is far more than any sensible cooldown.
    let cooldown_cutoff = now - TimeDelta::hours(config.cooldown_hours as i64);
    let cutoff = (config.attendance_days > 0).then(|| now - TimeDelta::days(config.attendance_days as i64));
    let mut deleted = store
        .delete_attendance_before(cutoff, cooldown_cutoff, config.batch.max(1))
        .await?;
    let unknown_cutoff = now - TimeDelta::days(config.unknown_days.max(1) as i64);
    (deleted.unknown_faces, deleted.unknown_clusters) = store
        .delete_unknown_faces_before(unknown_cutoff, config.batch.max(1))
        .await?;
    Ok(deleted)
}

/// What `rollcall retention` deletes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Attendance events and days older than this many days are deleted; 0 keeps them forever.
    pub attendance_days: u32,
    /// Cooldown-ledger entries older than this many hours are deleted.
    pub cooldown_hours: u32,
    /// Unknown faces (crops and embeddings of people who never consented) older than this many
    /// days are deleted, and their clusters with them once empty; at least 1.
    pub unknown_days: u32,
    /// Rows per transaction.
    pub batch: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            attendance_days: 0,
            cooldown_hours: 24,
            unknown_days: 7,
            batch: 1000,
        }
    }
}
