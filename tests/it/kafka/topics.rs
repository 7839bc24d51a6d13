//! `rollcall topics`: the plan against a cluster's topics, and the check of their messages against
//! the declared contracts.

use rollcall::bus::Bus;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rollcall::bus::kafka::KafkaBus;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_plan_reads_the_cluster_and_the_declarations() {
    let kafka = TestKafka::start().await;
    let work = tempfile::tempdir().unwrap();
    let config = kafka.config(work.path());
    // Frames exist with too few partitions; attendance exists as declared; the rest are missing.
    kafka.create_topic(&config.kafka.topics.frames, 2).await;
    kafka.create_topic(&config.kafka.topics.attendance, 6).await;
    let out = rollcall(work.path())
        .envs(config_env(&config))
        .args(["topics", "plan"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = &config.kafka.topics;
    assert!(
        stdout.contains(&format!("add partitions  {}: 2 -> 12", t.frames)),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("set config      {}: 3 setting(s)", t.attendance)),
        "{stdout}"
    );
    for missing in [&t.unknown, &t.frames_dlq, &t.attendance_dlq, &t.unknown_dlq] {
        assert!(stdout.contains(&format!("create          {missing}:")), "{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_check_finds_messages_that_break_their_declaration() {
    let kafka = TestKafka::start().await;
    let work = tempfile::tempdir().unwrap();
    let config = kafka.config(work.path());
    kafka.create_topics(&config, 3).await;
    let t = &config.kafka.topics;
    let bus = KafkaBus::new(&config.kafka);

    let events = bus.attendance_producer().unwrap();
    for seq in 0..4 {
        let event = attendance_event("ana", "door", seq, chrono::Utc::now());
        events.send("ana", event).await.unwrap();
    }
    let frames = bus.frames_producer().unwrap();
    let photo = std::fs::read(face("face_recognition/obama/test_obama1.jpg")).unwrap();
    for seq in 0..2 {
        let frame = rollcall::domain::Frame {
            camera: rollcall::domain::CameraId::parse("door").unwrap(),
            seq,
            captured_at: chrono::Utc::now(),
            content_type: "image/jpeg".into(),
            data: photo.clone(),
        };
        frames.send("door", frame).await.unwrap();
    }
    // A foreign producer's mistakes: an event out of range with a field missing, a bare frame.
    let raw: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .create()
        .unwrap();
    let bad_event = r#"{"schema_version":1,"event_id":"not-a-uuid","person_id":"ana","camera_id":"door","frame_seq":1,"seen_at":"2026-11-22T08:00:00Z","distance":0.4,"similarity":1.5,"face_box":{"x":1,"y":2,"w":3,"h":4}}"#;
    for (topic, key, payload) in [
        (&t.attendance, "ana", bad_event.as_bytes()),
        (&t.frames, "door", photo.as_slice()),
    ] {
        raw.send(
            FutureRecord::to(topic).key(key).payload(payload),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    }

    let out = rollcall(work.path())
        .envs(config_env(&config))
        .args(["topics", "check", "--sample", "60"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    let report = |topic: &str| {
        let start = stdout
            .find(&format!(" {topic}: "))
            .unwrap_or_else(|| panic!("{topic} missing in {stdout}"));
        let rest = &stdout[start..];
        let end = rest[1..]
            .find("\nok")
            .or_else(|| rest[1..].find("\nINVALID"))
            .map_or(rest.len(), |e| e + 1);
        rest[..end].to_owned()
    };
    let attendance = report(&t.attendance);
    assert!(attendance.contains("1 of 5 message(s)"), "{attendance}");
    for problem in ["similarity", "maximum", "model_id", "not-a-uuid"] {
        assert!(attendance.contains(problem), "{problem} not reported: {attendance}");
    }
    let frames = report(&t.frames);
    assert!(frames.contains("1 of 3 message(s)"), "{frames}");
    assert!(frames.contains("header camera-id is missing"), "{frames}");
    assert!(report(&t.unknown).starts_with(&format!(" {}: 0 message(s) checked", t.unknown)));
    assert!(
        stdout.contains(&format!("ok       {}: 0 message(s) checked", t.frames_dlq)),
        "{stdout}"
    );
}
