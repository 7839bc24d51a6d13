//! Attendance corrections, one rule for the API and the CLI: a stored event retracted, or an
//! event added by hand (a forgotten face, a camera that was down), each with its actor and
//! reason. The correction goes on the attendance topic, so the log stays append-only and the
//! projector folds it (the audit entry with it); on the in-process bus, which keeps no log,
//! it is folded into the store at once by the same fold.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Services;
use crate::bus::{BusError, Producer};
use crate::domain::{
    AttendanceCorrection, AttendanceRecord, CORRECTION_SCHEMA_VERSION, CameraId, CorrectionKind, InvalidEvent,
    MANUAL_CAMERA, PersonId, Validate,
};

/// Where corrections go: the attendance topic (Kafka), or straight into the store.
#[derive(Clone, Default)]
pub struct CorrectionLog(pub Option<Arc<dyn Producer<AttendanceRecord>>>);

/// Why a correction was refused; nothing was changed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Refusal {
    #[error("no attendance event {0}: never stored, retracted, erased or past retention")]
    NoEvent(Uuid),
    #[error("attendance event {0} is already retracted")]
    AlreadyRetracted(Uuid),
    #[error("no person {0}")]
    NoPerson(PersonId),
    #[error("no camera {0}: name a registered camera, or none for a manual mark")]
    NoCamera(CameraId),
    #[error("seen_at {0} is in the future: an addition records attendance that happened")]
    Future(DateTime<Utc>),
    #[error("{0}")]
    Invalid(String),
}

/// What the caller asks to add.
#[derive(Debug, Clone)]
pub struct Addition {
    pub person_id: PersonId,
    pub seen_at: DateTime<Utc>,
    /// The camera that missed them; `manual` when none is named.
    pub camera_id: Option<CameraId>,
}

/// Takes back a stored attendance event.
pub async fn retract(
    svc: &Services,
    log: &CorrectionLog,
    event_id: Uuid,
    actor: &str,
    reason: &str,
) -> anyhow::Result<Result<AttendanceCorrection, Refusal>> {
    let Some(event) = svc.store.attendance_event(event_id).await? else {
        if svc.store.is_retracted(event_id).await? {
            return Ok(Err(Refusal::AlreadyRetracted(event_id)));
        }
        return Ok(Err(Refusal::NoEvent(event_id)));
    };
    let (Ok(person_id), Ok(camera_id)) = (PersonId::parse(&event.person_id), CameraId::parse(&event.camera_id)) else {
        anyhow::bail!("stored event {event_id} has an id the domain refuses");
    };
    let correction = AttendanceCorrection {
        schema_version: CORRECTION_SCHEMA_VERSION,
        correction_id: Uuid::new_v4(),
        correction: CorrectionKind::Retraction,
        event_id,
        person_id,
        camera_id,
        seen_at: event.seen_at,
        actor: actor.to_owned(),
        reason: reason.trim().to_owned(),
        corrected_at: Utc::now(),
    };
    record(svc, log, correction).await
}

/// Adds an attendance event no camera produced.
pub async fn add(
    svc: &Services,
    log: &CorrectionLog,
    addition: Addition,
    actor: &str,
    reason: &str,
) -> anyhow::Result<Result<AttendanceCorrection, Refusal>> {
    let now = Utc::now();
    if addition.seen_at > now {
        return Ok(Err(Refusal::Future(addition.seen_at)));
    }
    if svc.store.person(&addition.person_id).await?.is_none() {
        return Ok(Err(Refusal::NoPerson(addition.person_id)));
    }
    let camera_id = match addition.camera_id {
        Some(camera) if svc.store.camera(&camera).await?.is_none() => return Ok(Err(Refusal::NoCamera(camera))),
        Some(camera) => camera,
        None => CameraId::parse(MANUAL_CAMERA).expect("the manual camera id is valid"),
    };
    let correction_id = Uuid::new_v4();
    let correction = AttendanceCorrection {
        schema_version: CORRECTION_SCHEMA_VERSION,
        correction_id,
        correction: CorrectionKind::Addition,
        event_id: AttendanceCorrection::added_event_id(correction_id),
        person_id: addition.person_id,
        camera_id,
        seen_at: addition.seen_at,
        actor: actor.to_owned(),
        reason: reason.trim().to_owned(),
        corrected_at: now,
    };
    record(svc, log, correction).await
}

/// Checks the correction as the projector will, then appends it to the log (or folds it).
async fn record(
    svc: &Services,
    log: &CorrectionLog,
    correction: AttendanceCorrection,
) -> anyhow::Result<Result<AttendanceCorrection, Refusal>> {
    if let Err(invalid) = correction.validate() {
        return Ok(Err(match invalid {
            InvalidEvent::SeenAt(at) => Refusal::Invalid(format!("{at} is outside the supported dates")),
            other => Refusal::Invalid(other.to_string()),
        }));
    }
    match &log.0 {
        Some(topic) => {
            // Keyed like the person's sightings: the same partition, so in order with them.
            let key = correction.person_id.to_string();
            send(topic.as_ref(), &key, AttendanceRecord::Correction(correction.clone())).await?;
        }
        None => {
            let outcome = svc.store.apply_corrections(&[&correction]).await?;
            svc.invalidate(&outcome.generations).await;
        }
    }
    Ok(Ok(correction))
}

async fn send(topic: &dyn Producer<AttendanceRecord>, key: &str, record: AttendanceRecord) -> anyhow::Result<()> {
    match topic.send(key, record).await {
        Ok(()) => Ok(()),
        Err(BusError::Transient(reason)) => anyhow::bail!("the attendance topic did not take the correction: {reason}"),
        Err(e) => Err(e.into()),
    }
}
