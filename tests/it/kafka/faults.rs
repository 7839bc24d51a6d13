//! Broker faults during a run on the mock cluster: a broker down and back, every answer slow,
//! then two brokers down at once. The stages ride them out: the stored attendance equals that of
//! a run without faults over the same frames (0 lost, 0 counted twice).

use std::time::Duration;

use rollcall::store::Store;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_faults_during_a_run_lose_nothing_and_count_nothing_twice() {
    let kafka = TestKafka::mock();
    let (faulty_db, reference_db) = (TestDatabase::create().await, TestDatabase::create().await);
    let work = tempfile::tempdir().unwrap();
    let faulty = kafka_config(&kafka, work.path(), &faulty_db);
    // The reference reads the same frames with groups, topics and a database of its own, after
    // the faults are over.
    let mut reference = kafka_config(&kafka, work.path(), &reference_db);
    reference.kafka.topics.frames = faulty.kafka.topics.frames.clone();
    kafka.create_topics(&faulty, 3).await;
    let t = &reference.kafka.topics;
    for topic in [&t.attendance, &t.unknown, &t.frames_dlq, &t.attendance_dlq] {
        kafka.create_topic(topic, 3).await;
    }
    let (faulty_store, reference_store) = (
        Store::open(&faulty_db.url, 2).await.unwrap(),
        Store::open(&reference_db.url, 2).await.unwrap(),
    );
    for store in [&faulty_store, &reference_store] {
        enrol(store, &faulty, "obama", "face_recognition/obama/obama.jpg").await;
        enrol(store, &faulty, "biden", "face_recognition/biden/biden.jpg").await;
        enrol(store, &faulty, "kit", "face_recognition/kit_harington/john1.jpeg").await;
        enrol(store, &faulty, "rose", "face_recognition/rose_leslie/img1.jpg").await;
    }

    let stop = CancellationToken::new();
    let recognizer = spawn_recognize(&faulty, &stop);
    let projector = spawn_project(&faulty, &stop);
    let stream = tokio::spawn(stream_frames(faulty.clone()));
    // The stream takes 15 s; the faults fall inside it.
    let at = |seconds: u64| tokio::time::sleep(Duration::from_secs(seconds));
    at(3).await;
    kafka.set_broker_up(1, false);
    at(3).await;
    kafka.set_broker_up(1, true);
    kafka.set_round_trip(Duration::from_millis(400));
    at(3).await;
    kafka.set_round_trip(Duration::ZERO);
    kafka.set_broker_up(2, false);
    kafka.set_broker_up(3, false);
    at(2).await;
    kafka.set_broker_up(2, true);
    kafka.set_broker_up(3, true);
    stream.await.unwrap();

    let within = Duration::from_secs(180);
    let k = &faulty.kafka;
    for (group, topic) in [
        (&k.recognize_group, &k.topics.frames),
        (&k.project_group, &k.topics.attendance),
    ] {
        assert!(
            wait_until_caught_up(&k.brokers, group, topic, within).await,
            "group {group} has not committed all of {topic} after the faults"
        );
    }
    stop.cancel();
    recognizer.await.unwrap().unwrap();
    projector.await.unwrap().unwrap();

    let stop_reference = CancellationToken::new();
    let reference_recognizer = spawn_recognize(&reference, &stop_reference);
    let reference_projector = spawn_project(&reference, &stop_reference);
    let k = &reference.kafka;
    for (group, topic) in [
        (&k.recognize_group, &k.topics.frames),
        (&k.project_group, &k.topics.attendance),
    ] {
        assert!(wait_until_caught_up(&k.brokers, group, topic, within).await);
    }
    stop_reference.cancel();
    reference_recognizer.await.unwrap().unwrap();
    reference_projector.await.unwrap().unwrap();

    let (events, days) = tables(&faulty_store).await;
    let (reference_events, reference_days) = tables(&reference_store).await;
    assert!(reference_events.len() > 10, "{}", reference_events.len());
    let missing: Vec<_> = reference_events.iter().filter(|e| !events.contains(e)).collect();
    let extra: Vec<_> = events.iter().filter(|e| !reference_events.contains(e)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "lost {missing:#?}, extra {extra:#?}"
    );
    assert_eq!(days, reference_days);
    drop((faulty_store, reference_store));
    faulty_db.drop_now().await;
    reference_db.drop_now().await;
}
