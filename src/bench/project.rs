//! `rollcall bench project`: projector batch writes into the store against a plain `COPY` of
//! the same rows over an open connection of the same pool, measured in the same run.

use std::io::Write;
use std::time::Instant;

use anyhow::bail;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::ConnectionTrait;

use super::median;
use super::scratch::measured_in_scratch;
use crate::domain::{AttendanceEvent, CameraId, FaceBox, PersonId};
use crate::store::Store;

/// Synthetic events: `count` sightings of 1,000 people at 10 cameras over one day.
pub fn synthetic_events(count: usize) -> Vec<AttendanceEvent> {
    let start = Utc::now() - TimeDelta::days(1);
    (0..count)
        .map(|i| {
            let person = PersonId::parse(format!("person-{:04}", i % 1000)).expect("valid id");
            let camera = CameraId::parse(format!("camera-{}", i % 10)).expect("valid id");
            let seen_at = start + TimeDelta::milliseconds(i as i64 * 50);
            synthetic_event(person, camera, i as u64, seen_at)
        })
        .collect()
}

/// One event of a made-up face (same box and distance for all), as the recognizer would emit it.
pub fn synthetic_event(person: PersonId, camera: CameraId, seq: u64, seen_at: DateTime<Utc>) -> AttendanceEvent {
    AttendanceEvent::new(
        person,
        camera,
        seq,
        seen_at,
        0.4,
        FaceBox {
            x: 10,
            y: 20,
            w: 100,
            h: 120,
        },
        "dlib_resnet_v1",
    )
}

async fn clear(store: &Store) -> anyhow::Result<()> {
    store
        .connection()
        .execute_unprepared("TRUNCATE attendance_events, attendance_days")
        .await?;
    Ok(())
}

/// The same columns as the projector writes, as CSV for `COPY … FROM STDIN`.
fn csv_of(events: &[AttendanceEvent]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(events.len() * 200);
    let recorded = Utc::now().to_rfc3339();
    for e in events {
        let b = e.face_box;
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            e.event_id,
            e.person_id,
            e.camera_id,
            e.frame_seq,
            e.seen_at.to_rfc3339(),
            e.distance,
            e.similarity,
            b.x,
            b.y,
            b.w,
            b.h,
            e.model_id,
            e.schema_version,
            recorded
        )?;
    }
    Ok(out)
}

const ROUNDS: usize = 3;
const LARGEST_BATCH: usize = 5_000;

async fn copy_once(store: &Store, csv: &[u8]) -> anyhow::Result<f64> {
    let columns = "event_id,person_id,camera_id,frame_seq,seen_at,distance,similarity,box_x,box_y,box_w,box_h,model_id,schema_version,recorded_at";
    let mut connection = store.connection().get_postgres_connection_pool().acquire().await?;
    let t = Instant::now();
    let mut copy = connection
        .copy_in_raw(&format!(
            "COPY attendance_events({columns}) FROM STDIN WITH (FORMAT csv)"
        ))
        .await?;
    copy.send(csv).await?;
    copy.finish().await?;
    Ok(t.elapsed().as_secs_f64())
}

/// Seconds to write `events` through the projector's store call in batches of `batch`.
async fn project_once(store: &Store, events: &[AttendanceEvent], batch: usize) -> anyhow::Result<f64> {
    let t = Instant::now();
    for chunk in events.chunks(batch) {
        store.write_attendance(chunk).await?;
    }
    Ok(t.elapsed().as_secs_f64())
}

/// Projector batches against `COPY` of the same rows, in a database of the benchmark's own on the
/// PostgreSQL server of `store_url`.
pub async fn project_benchmark(store_url: &str, events: usize, json: bool) -> anyhow::Result<String> {
    if !store_url.starts_with("postgres") {
        bail!("the projector benchmark compares against PostgreSQL's COPY: give a postgres:// store URL");
    }
    measured_in_scratch(
        store_url,
        "project",
        json,
        |url| async move { measure(&url, events).await },
    )
    .await
}

#[derive(Debug, serde::Serialize)]
struct ProjectReport {
    events: usize,
    copy_events_per_s: f64,
    /// The best batch size's rate, and its ratio to COPY in the same run.
    events_per_s: f64,
    ratio_to_copy: f64,
    best_batch: usize,
    batches: Vec<BatchRate>,
}

#[derive(Debug, serde::Serialize)]
struct BatchRate {
    batch: usize,
    events_per_s: f64,
    ratio_to_copy: f64,
}

async fn measure(url: &str, events: usize) -> anyhow::Result<(Vec<String>, ProjectReport)> {
    let store = Store::open(url, 4).await?;
    let all = synthetic_events(events);
    let mut lines = vec![format!(
        "{events} synthetic events (1,000 people, 10 cameras) into {}",
        crate::store::redact(url)
    )];

    // Baseline: COPY of the same rows into attendance_events (no day folding, no conflict check),
    // the CSV made before the clock starts, over a connection the pool already holds open. COPY
    // and the largest batches take turns, ROUNDS times, and the medians are compared: one short
    // COPY alone varies by a third from run to run.
    let csv = csv_of(&all)?;
    let mut copy_secs = Vec::new();
    let mut largest_secs = Vec::new();
    for _ in 0..ROUNDS {
        clear(&store).await?;
        copy_secs.push(copy_once(&store, &csv).await?);
        clear(&store).await?;
        largest_secs.push(project_once(&store, &all, LARGEST_BATCH).await?);
    }
    let copy_rate = events as f64 / median(copy_secs.clone());
    lines.push(format!(
        "COPY over an open connection:{copy_rate:>9.0} events/s (median of {ROUNDS}: {copy_secs:.2?} s)"
    ));

    let mut batches = Vec::new();
    for batch in [1usize, 100, LARGEST_BATCH] {
        // One event per transaction is slow: a slice keeps the run short; the rate is what counts.
        let slice = if batch == 1 {
            &all[..all.len().min(2_000)]
        } else {
            &all[..]
        };
        let secs = if batch == LARGEST_BATCH {
            median(largest_secs.clone())
        } else {
            clear(&store).await?;
            project_once(&store, slice, batch).await?
        };
        let rate = slice.len() as f64 / secs;
        lines.push(format!(
            "projector, batches of {batch:>5}: {rate:>9.0} events/s ({} events in {secs:.2} s); ratio to COPY {:.3}",
            slice.len(),
            rate / copy_rate
        ));
        batches.push(BatchRate {
            batch,
            events_per_s: rate,
            ratio_to_copy: rate / copy_rate,
        });
    }
    let best = batches
        .iter()
        .max_by(|a, b| a.events_per_s.total_cmp(&b.events_per_s))
        .expect("three batch sizes");
    let report = ProjectReport {
        events,
        copy_events_per_s: copy_rate,
        events_per_s: best.events_per_s,
        ratio_to_copy: best.ratio_to_copy,
        best_batch: best.batch,
        batches,
    };
    Ok((lines, report))
}
