//! `rollcall bench sessions`: requests/s of a session report (computed from the events on every
//! read, or through Redis) against the plain attendance-by-day read of the same people, with no
//! cache, in one run.

use anyhow::bail;
use chrono::{TimeDelta, Utc};
use tokio_util::sync::CancellationToken;

use super::api::{LoadPlan, load, serve, state};
use super::scratch::{measured_in_scratch, scratch_redis};
use crate::cache::Cache;
use crate::config::Config;
use crate::domain::CameraRole;
use crate::domain::{CameraId, PersonId};
use crate::store::{Period, Store};
use crate::timetable::spec::ScheduleSpec;

const GROUP: &str = "bench-class";
const SCHEDULE: &str = "bench-lesson";

/// A class of `people` with their entries and exits on `day`, and its 08:00–16:00 lesson.
async fn class_with_a_lesson(
    store: &Store,
    people: usize,
    day: chrono::NaiveDate,
) -> anyhow::Result<(Vec<PersonId>, Vec<crate::domain::AttendanceEvent>)> {
    let (entry, exit) = (CameraId::parse("bench-in")?, CameraId::parse("bench-out")?);
    store.upsert_camera(&entry, "bench in", "", CameraRole::Entry).await?;
    store.upsert_camera(&exit, "bench out", "", CameraRole::Exit).await?;
    store.create_group(GROUP, "Bench class", "bench").await?;
    let ids: Vec<PersonId> = (0..people)
        .map(|i| PersonId::parse(format!("pupil-{i:04}")))
        .collect::<Result<_, _>>()?;
    let mut events = Vec::with_capacity(people * 2);
    let at = |h: u32, m: i64| day.and_hms_opt(h, 0, 0).expect("a valid time").and_utc() + TimeDelta::minutes(m);
    for (i, id) in ids.iter().enumerate() {
        store.create_person(id, id.as_str()).await?;
        store
            .add_member(
                GROUP,
                id.as_str(),
                Period {
                    from: None,
                    until: None,
                },
                "bench",
            )
            .await?;
        // One in ten late, one in ten early; the rest on time and to the end.
        let arrival = at(7, 50 + (i % 10) as i64 + if i % 10 == 3 { 30 } else { 0 });
        let departure = at(16, 2) - TimeDelta::minutes(if i % 10 == 7 { 90 } else { 0 });
        for (camera, seen_at) in [(&entry, arrival), (&exit, departure)] {
            let seq = seen_at.timestamp_millis() as u64;
            events.push(super::project::synthetic_event(
                id.clone(),
                camera.clone(),
                seq,
                seen_at,
            ));
        }
    }
    store.write_attendance(&events).await?;
    let spec: ScheduleSpec = serde_json::from_value(serde_json::json!({
        "kind": "once", "date": day, "start": "08:00", "end": "16:00", "time_zone": "UTC",
        "cameras": [entry.as_str(), exit.as_str()]
    }))?;
    let schedule = spec.into_schedule(SCHEDULE, GROUP).map_err(anyhow::Error::msg)?;
    store.write_schedule(&schedule, false, "bench").await?;
    Ok((ids, events))
}

/// Yesterday's 08:00–16:00 (UTC) lesson of a class of `people`, everyone entering and leaving
/// once, a few of them late or early, in a database of the benchmark's own and Redis database
/// 15; then its report read three ways.
pub async fn sessions_benchmark(config: &Config, plan: LoadPlan, json: bool) -> anyhow::Result<String> {
    let Some(redis) = &config.redis.url else {
        bail!("the sessions benchmark compares the Redis cache with no cache: set [redis] url");
    };
    let redis = scratch_redis(redis);
    measured_in_scratch(&config.store.url, "sessions", json, |url| async move {
        measure_reports(config, &url, &redis, plan).await
    })
    .await
}

#[derive(Debug, serde::Serialize)]
struct SessionsReport {
    people: usize,
    connections: usize,
    day_list_rps: f64,
    computed_rps: f64,
    computed_p99_ms: f64,
    cached_rps: f64,
    cached_p99_ms: f64,
    /// Cached report over the plain day list, requests/s in the same run.
    cached_ratio_to_day_list: f64,
    /// The cached report measured by `wrk` (with `--wrk`).
    wrk_cached: Option<super::wrk::WrkRun>,
}

async fn measure_reports(
    config: &Config,
    store_url: &str,
    redis: &str,
    plan: LoadPlan,
) -> anyhow::Result<(Vec<String>, SessionsReport)> {
    let LoadPlan {
        people,
        connections,
        seconds,
        wrk,
    } = plan;
    let store = Store::open(store_url, config.store.max_connections.max(8)).await?;
    let day = (Utc::now() - TimeDelta::days(1)).date_naive();
    let (_, events) = class_with_a_lesson(&store, people, day).await?;

    let cache = Cache::connect(redis)?;
    let stop = CancellationToken::new();
    super::follow_generations(&store, &stop).await?;
    let cached = serve(state(config, store.clone(), Some(cache)), stop.clone()).await?;
    let uncached = serve(state(config, store.clone(), None), stop.clone()).await?;
    let day_path = format!("/v1/attendance/days/{day}?limit={}", people.min(500));
    let report_path = format!("/v1/schedules/{SCHEDULE}/sessions/{day}");
    for (address, path) in [(uncached, &day_path), (uncached, &report_path), (cached, &report_path)] {
        load(address, path, 1, 0.5).await?;
    }
    let mut lines = vec![format!(
        "{people} people, {} events; {connections} keep-alive connections for {seconds} s each",
        events.len()
    )];
    let mut baseline = None;
    let mut runs = Vec::new();
    for (name, address, path) in [
        ("day list, PostgreSQL only", uncached, &day_path),
        ("session report, computed", uncached, &report_path),
        ("session report, Redis", cached, &report_path),
    ] {
        let run = load(address, path, connections, seconds).await?;
        lines.push(run.line(name, &mut baseline));
        runs.push(run);
    }
    let wrk_cached = super::wrk::measure_if(
        wrk,
        "session report, Redis, wrk",
        (cached, &report_path),
        (connections, seconds),
        &mut lines,
    )
    .await?;
    stop.cancel();
    let report = SessionsReport {
        people,
        connections,
        day_list_rps: runs[0].per_second(),
        computed_rps: runs[1].per_second(),
        computed_p99_ms: runs[1].p99_ms(),
        cached_rps: runs[2].per_second(),
        cached_p99_ms: runs[2].p99_ms(),
        cached_ratio_to_day_list: runs[2].per_second() / runs[0].per_second(),
        wrk_cached,
    };
    Ok((lines, report))
}
