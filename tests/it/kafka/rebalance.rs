//! Rebalances during a run: a second and a third recognizer and projector join the groups while
//! frames flow, then leave again, so partitions move with frames and batches in flight. Whatever
//! moved, the stored attendance equals that of one undisturbed recognizer and projector over the
//! same frames (0 lost, 0 counted twice), and no stage fails.

use std::time::Duration;

use rollcall::bus::Bus;
use rollcall::bus::kafka::KafkaBus;
use rollcall::domain::{AttendanceEvent, CameraId, FaceBox, PersonId};
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recognizers_and_projectors_joining_and_leaving_lose_nothing_and_count_nothing_twice() {
    let kafka = TestKafka::start().await;
    let mut runs = TwoRuns::new(&kafka, 3).await;
    let moving = &mut runs.disturbed;
    moving.recognize.workers = 1;
    // Batches gather for seconds, so partitions are revoked from projectors holding events of
    // them not yet stored, whose offsets can then no longer be stored.
    moving.project.linger_ms = 3_000;
    // Members notice a rebalance at their next heartbeat: every half second, not every three.
    for (option, value) in [("heartbeat.interval.ms", "500"), ("session.timeout.ms", "6000")] {
        moving.kafka.options.insert(option.into(), value.into());
    }
    let (moving, reference) = (runs.disturbed.clone(), runs.reference.clone());

    let first = CancellationToken::new();
    let mut members = vec![(spawn_recognize(&moving, &first), spawn_project(&moving, &first))];
    let stream = tokio::spawn(stream_frames(moving.clone()));
    // Camera frames make events of four people, which may all land on one or two partitions:
    // events of many more people, into both attendance topics, give every partition work.
    let visitors = tokio::spawn(stream_visitors(vec![moving.clone(), reference.clone()]));
    let (second, third) = (CancellationToken::new(), CancellationToken::new());
    // A rebalance takes a few heartbeats, and a cooperative one two rounds: members stay long
    // enough for partitions to reach them and move on.
    tokio::time::sleep(Duration::from_secs(2)).await;
    members.push((spawn_recognize(&moving, &second), spawn_project(&moving, &second)));
    tokio::time::sleep(Duration::from_secs(10)).await;
    members.push((spawn_recognize(&moving, &third), spawn_project(&moving, &third)));
    tokio::time::sleep(Duration::from_secs(12)).await;
    second.cancel();
    tokio::time::sleep(Duration::from_secs(8)).await;
    third.cancel();
    stream.await.unwrap();
    visitors.await.unwrap();

    assert_caught_up(&moving, "the members came and went").await;
    first.cancel();
    let mut work_done = Vec::new();
    for (recognizer, projector) in members {
        let recognized = recognizer
            .await
            .unwrap()
            .expect("a recognizer failed during the rebalances");
        let projected = projector
            .await
            .unwrap()
            .expect("a projector failed during the rebalances");
        work_done.push((recognized.frames, projected.batches));
    }
    // Partitions really moved: members that joined were given some and worked on them.
    println!("frames recognized and batches stored by each member: {work_done:?}");
    let recognizers = work_done.iter().filter(|(frames, _)| *frames > 0).count();
    let projectors = work_done.iter().filter(|(_, batches)| *batches > 0).count();
    assert!(recognizers >= 2 && projectors >= 2, "{work_done:?}");

    runs.run_reference().await;
    runs.assert_same_attendance().await;
}

/// Attendance events of 30 visitors at the front desk, ten every half second for 36 s, into the
/// attendance topic of each configuration.
async fn stream_visitors(configs: Vec<rollcall::config::Config>) {
    let producers: Vec<_> = configs
        .iter()
        .map(|c| KafkaBus::new(&c.kafka).attendance_producer().unwrap())
        .collect();
    let desk = CameraId::parse("front-desk").unwrap();
    for round in 0..72u64 {
        for visitor in 0..10u64 {
            let person = PersonId::parse(format!("visitor-{:02}", (round * 10 + visitor) % 30)).unwrap();
            let seen_at = start_time() + chrono::TimeDelta::seconds((round * 10 + visitor) as i64);
            let event = AttendanceEvent::new(
                person.clone(),
                desk.clone(),
                round * 10 + visitor,
                seen_at,
                0.3,
                FaceBox {
                    x: 10,
                    y: 10,
                    w: 80,
                    h: 80,
                },
                "dlib_resnet_v1",
            );
            for producer in &producers {
                producer.send(person.as_str(), event.clone()).await.unwrap();
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
